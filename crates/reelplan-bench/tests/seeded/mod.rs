//! What both backends' seed tests check: `reelplan seed --dataset tiny` into an empty database,
//! then the store's own read methods see the generated rows (counts, member_count, versions
//! with their videos and reviews, comments on the current version, `version_seq`); a second
//! seed needs `--force` and gives the same rows again.

use std::collections::HashMap;

use reelplan_bench::dataset::{DatasetSize, Generator};
use reelplan_bench::seed::{seed, SeedOptions};
use reelplan_domain::{Email, FileName, MediaType, ProjectId, ReviewStatus, UserId, VersionId};
use reelplan_store::bulk::{BulkLoad, ProjectBatch, ReviewRow, VersionRow};
use reelplan_store::{NewFile, NewVersion, PageRequest, ProjectFilter, Store};

/// The options of every seed test: `tiny`, a fixed anchor, batches small enough that the
/// 100 projects take several.
pub fn options() -> SeedOptions {
    SeedOptions {
        anchor: Some("2026-03-01T00:00:00Z".parse().unwrap()),
        batch_projects: 30,
        ..SeedOptions::new(DatasetSize::Tiny)
    }
}

/// Seeds `store` (seen through `bulk` too) and checks what it reads back.
pub async fn seed_then_check(store: &dyn Store, bulk: &dyn BulkLoad) {
    let options = options();
    let report = seed(store, bulk, &options).await.unwrap();

    let generator = Generator::new(DatasetSize::Tiny, 42, options.anchor_micros());
    let all = generator.all_projects();
    assert_eq!(report.users, 50);
    assert_eq!(report.projects, 100);
    assert_eq!(report.members, all.members.len() as u64);
    assert_eq!(report.versions, all.versions.len() as u64);
    assert_eq!(report.reviews, all.reviews.len() as u64);
    assert_eq!(report.comments, all.comments.len() as u64);
    assert_eq!(bulk.user_count().await.unwrap(), 50);

    for project in &all.projects {
        let detail = store.project_detail(ProjectId(project.id)).await.unwrap().unwrap();
        let count = |v: &[i64]| v.iter().filter(|&&p| p == project.id).count();
        let members: Vec<i64> = all.members.iter().map(|m| m.project_id).collect();
        let comments: Vec<i64> = all.comments.iter().map(|c| c.project_id).collect();
        let messages: Vec<i64> = all.messages.iter().map(|m| m.project_id).collect();
        let memos: Vec<i64> = all.memos.iter().map(|m| m.project_id).collect();
        assert_eq!(detail.members.len(), count(&members));
        assert_eq!(detail.core.member_count, count(&members) as i64, "member_count is consistent");
        assert_eq!(detail.feedback.comment_count, count(&comments) as i64);
        assert_eq!(detail.feedback.message_count, count(&messages) as i64);
        assert_eq!(detail.memos.len(), count(&memos));
        assert_eq!(detail.core.owner.id, UserId(project.owner_id));
        let current = detail.feedback.current_version.expect("every project has a version");
        assert_eq!(current.number, project.version_seq, "the current version is the highest");
        assert_eq!(detail.feedback.video.as_ref(), Some(&current.file));
        check_versions(store, &all, project.id, count(&comments) as i64).await;
    }
    let statuses: Vec<ReviewStatus> = all.reviews.iter().map(|r| r.status).collect();
    for status in [ReviewStatus::Pending, ReviewStatus::Approved, ReviewStatus::ChangesRequested] {
        assert!(statuses.contains(&status), "no review is {status:?}");
    }

    // User 1 (the power user of `tiny`) sees every project they own or belong to.
    let expected = all
        .projects
        .iter()
        .filter(|p| {
            p.owner_id == 1 || all.members.iter().any(|m| m.project_id == p.id && m.user_id == 1)
        })
        .count();
    let page = PageRequest { limit: 101, after: None };
    let listed = store.list_projects(UserId(1), &ProjectFilter::default(), page).await.unwrap();
    assert_eq!(listed.len(), expected);

    let credentials =
        store.credentials(&Email::parse("user7@example.com").unwrap()).await.unwrap().unwrap();
    assert!(credentials.password_hash.starts_with("$argon2id$v=19$m=256,t=1,p=1$"));

    // `version_seq` is the highest number: the next upload through the store is one past it,
    // and the id sequences moved past the seeded ids (no key clash on the new rows).
    let project = &all.projects[0];
    let video = NewFile {
        name: FileName::parse("next.mp4").unwrap(),
        content_type: MediaType::parse("video/mp4").unwrap(),
        size: 1,
        storage_key: "test/next".into(),
    };
    let by = UserId(project.owner_id);
    let next =
        store.add_version(ProjectId(project.id), by, &video, &NewVersion::default()).await.unwrap();
    assert_eq!(next.value.number, project.version_seq + 1);
    assert_eq!(next.value.id, VersionId(all.versions.len() as i64 + 1));

    // A second seed refuses, unless forced; forced, it gives the same rows again.
    let refused = seed(store, bulk, &options).await;
    assert!(refused.unwrap_err().to_string().contains("--force"));
    let forced = SeedOptions { force: true, ..options.clone() };
    let again = seed(store, bulk, &forced).await.unwrap();
    assert_eq!(again.comments, report.comments);
    assert_eq!(again.versions, report.versions);
    assert_eq!(again.reviews, report.reviews);
    assert_eq!(bulk.user_count().await.unwrap(), 50);
    let project = &all.projects[0];
    check_versions(store, &all, project.id, comments_of(&all, project.id)).await;
}

fn comments_of(all: &ProjectBatch, project: i64) -> i64 {
    all.comments.iter().filter(|c| c.project_id == project).count() as i64
}

/// Project `project`'s versions as the store reads them are the generated ones, 1-3 of them,
/// with their videos and reviews; all `comments` comments are on the highest.
async fn check_versions(store: &dyn Store, all: &ProjectBatch, project: i64, comments: i64) {
    let generated: Vec<&VersionRow> =
        all.versions.iter().filter(|v| v.project_id == project).collect();
    assert!((1..=3).contains(&generated.len()), "project {project}: {} versions", generated.len());
    let page = PageRequest { limit: 10, after: None };
    let read = store.versions_page(ProjectId(project), page).await.unwrap().unwrap().items;
    let numbers: Vec<i64> = read.iter().map(|v| v.number).collect();
    let expected: Vec<i64> = (1..=generated.len() as i64).rev().collect();
    assert_eq!(numbers, expected, "project {project}: highest number first, 1..=n");
    let reviews: HashMap<i64, Vec<&ReviewRow>> =
        all.reviews.iter().fold(HashMap::new(), |mut by_version, r| {
            by_version.entry(r.version_id).or_default().push(r);
            by_version
        });
    for version in &read {
        let row = generated.iter().find(|v| v.number == version.number).unwrap();
        assert_eq!(version.id, VersionId(row.id));
        assert_eq!(version.label, row.label);
        assert_eq!(version.fps, row.fps);
        assert_eq!(version.duration, row.duration);
        assert_eq!(version.created_by.id, UserId(row.created_by));
        assert_eq!(version.created.timestamp_micros(), row.created);
        assert_eq!(version.file.content_type, "video/mp4");
        assert_eq!(version.file.name, format!("cut-v{}.mp4", row.number));
        let is_current = version.number == generated.len() as i64;
        assert_eq!(version.comment_count, if is_current { comments } else { 0 });
        let mut got: Vec<(i64, ReviewStatus)> =
            version.approval.reviews.iter().map(|r| (r.user.id.0, r.status)).collect();
        let mut want: Vec<(i64, ReviewStatus)> = reviews
            .get(&row.id)
            .map(|rs| rs.iter().map(|r| (r.user_id, r.status)).collect())
            .unwrap_or_default();
        got.sort_by_key(|r| r.0);
        want.sort_by_key(|r| r.0);
        assert_eq!(got, want, "project {project} version {}", version.number);
    }
    let mut keys = store.project_file_keys(ProjectId(project)).await.unwrap();
    keys.retain(|k| k.starts_with("seed/"));
    keys.sort();
    let mut expected: Vec<String> =
        generated.iter().map(|v| format!("seed/{project}/{}", v.number)).collect();
    expected.sort();
    assert_eq!(keys, expected, "one video row per version");
}
