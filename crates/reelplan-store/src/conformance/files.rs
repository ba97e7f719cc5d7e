//! Conformance: project files, and the videos of versions as files.

use super::*;
use crate::NewVersion;
use reelplan_domain::{FileName, MediaType};

/// Files and versions' videos: records, lookups with access, deletion, keys.
pub async fn files(store: &dyn Store) {
    let owner = new_user(store, "file-owner").await;
    let ann = new_user(store, "file-ann").await;
    let id = new_project(store, &owner, "Files").await;
    let other = new_project(store, &owner, "Other files").await;
    let m_ann = add_member(store, id, &ann, Role::Viewer).await;
    let new_file = |name: &str, content_type: &str, size: i64| NewFile {
        name: FileName::parse(name).expect("a valid name"),
        content_type: MediaType::parse(content_type).expect("a valid content type"),
        size,
        storage_key: format!("conformance/{}", unique()),
    };
    let check = |meta: &FileMeta, file: &NewFile| {
        assert_eq!(
            (meta.name.as_str(), meta.content_type.as_str(), meta.size),
            (file.name.as_str(), file.content_type.as_str(), file.size)
        );
        assert_eq!(meta.url, format!("/api/projects/{}/files/{}", id.0, meta.id.0));
        assert_recent(meta.created, "file.created");
    };

    let b = new_file("b \"quoted\" — 日本語.pdf", "application/pdf", 10);
    let a = new_file("a.txt", "text/plain; charset=utf-8", 0);
    let fb = one(store.add_file(id, &b, CAP, owner.id))
        .await
        .expect("add_file")
        .expect("under the cap")
        .value;
    check(&fb, &b);
    let fa = one(store.add_file(id, &a, CAP, ann.id))
        .await
        .expect("add_file")
        .expect("under the cap")
        .value;
    check(&fa, &a);
    assert!(fa.id > fb.id);
    let ghost = one(store.add_file(ProjectId(MISSING), &a, CAP, owner.id)).await;
    assert!(matches!(ghost, Err(StoreError::NotFound)), "unknown project: {ghost:?}");
    let full = one(store.add_file(id, &a, 2, owner.id)).await.unwrap();
    assert_eq!(full, None, "a project holding its cap of files takes no more");
    let d = detail(store, id).await;
    assert_eq!(d.files, vec![fb.clone(), fa.clone()], "files by id");
    assert_eq!(d.feedback.video, None);
    assert!(detail(store, other).await.files.is_empty());

    // A lookup brings the access list along, and finds only this project's files.
    let expected = ProjectAccess {
        owner_id: owner.id,
        members: vec![MemberAccess { member_id: m_ann.id, user_id: ann.id, role: Role::Viewer }],
    };
    let found = one(store.file(id, fb.id)).await.unwrap().expect("the project exists");
    assert_eq!(normalized(found.access), expected);
    let stored = found.file.expect("the file");
    assert_eq!((stored.meta, stored.storage_key), (fb.clone(), b.storage_key.clone()));
    let elsewhere = one(store.file(other, fb.id)).await.unwrap().expect("the project exists");
    assert_eq!(elsewhere.file, None, "another project's file");
    assert_eq!(one(store.file(id, FileId(MISSING))).await.unwrap().unwrap().file, None);
    assert_eq!(one(store.file(ProjectId(MISSING), fb.id)).await.unwrap(), None);

    // A version's video is a file of kind 'video': served by `file`, not among the files.
    let v2 = new_file("cut 2.webm", "video/webm", 5_000_000_000);
    let second = add_version(store, id, &owner, &v2, &NewVersion::default()).await;
    check(&second.file, &v2);
    let d = detail(store, id).await;
    assert_eq!(d.feedback.video.as_ref(), Some(&second.file));
    assert_eq!(d.files, vec![fb.clone(), fa.clone()], "the video is not among the files");
    let video = one(store.file(id, second.file.id)).await.unwrap().unwrap().file.unwrap();
    assert_eq!(video.storage_key, v2.storage_key);
    assert_eq!(detail(store, other).await.feedback.video, None);

    let keys = one(store.project_file_keys(id)).await.unwrap();
    let all = vec![b.storage_key.clone(), a.storage_key.clone(), v2.storage_key.clone()];
    assert_eq!(sorted(keys), sorted(all));
    assert!(one(store.project_file_keys(other)).await.unwrap().is_empty());
    assert!(one(store.project_file_keys(ProjectId(MISSING))).await.unwrap().is_empty());

    // Deletion hands back the key, once, and only on the file's own project.
    assert_eq!(
        one(store.delete_file(other, fb.id, owner.id)).await.unwrap(),
        None,
        "wrong project"
    );
    let removed = one(store.delete_file(id, fb.id, owner.id)).await.unwrap();
    assert_eq!(removed.map(|r| r.value), Some(b.storage_key.clone()));
    assert_eq!(one(store.delete_file(id, fb.id, owner.id)).await.unwrap(), None, "already gone");
    assert_eq!(one(store.delete_file(id, FileId(MISSING), owner.id)).await.unwrap(), None);
    let removed = one(store.delete_file(id, second.file.id, owner.id)).await.unwrap();
    assert_eq!(removed.map(|r| r.value), Some(v2.storage_key.clone()), "the video is a file too");
    let d = detail(store, id).await;
    assert_eq!((d.files, d.feedback.video), (vec![fa.clone()], None));
    assert_eq!(d.feedback.current_version, None, "its version went with its video");

    // The project's rows go with it.
    let v1 = new_file("cut 1.mp4", "video/mp4", 1_000_000);
    add_version(store, id, &owner, &v1, &NewVersion::default()).await;
    let named = [a.storage_key.clone(), v1.storage_key.clone(), "no/such".to_owned()];
    let found = one(store.named_storage_keys(&named)).await.unwrap();
    assert_eq!(sorted(found), sorted(vec![a.storage_key.clone(), v1.storage_key.clone()]));
    assert!(one(store.named_storage_keys(&[])).await.unwrap().is_empty());
    let keys = delete_project(store, id, owner.id).await.expect("it existed").value;
    assert_eq!(sorted(keys), sorted(vec![a.storage_key.clone(), v1.storage_key.clone()]));
    let named = one(store.named_storage_keys(&named)).await.unwrap();
    assert!(named.is_empty(), "the rows went with the project: {named:?}");
    assert!(one(store.project_file_keys(id)).await.unwrap().is_empty());
    assert_eq!(one(store.file(id, fa.id)).await.unwrap(), None);
    assert_eq!(one(store.delete_file(id, fa.id, owner.id)).await.unwrap(), None);
}
