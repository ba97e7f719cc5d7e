//! Conformance: review versions, their reviews, and what the project's documents show of them.

use super::*;
use crate::{NewReview, NewVersion, ReviewSummary, ReviewSummaryStatus, Version, VersionPatch};
use reelplan_domain::export::FrameRate;
use reelplan_domain::{
    ApprovalStatus, Duration as Seconds, FileName, MediaType, ReviewNote, ReviewStatus, VersionId,
    VersionLabel,
};

fn video(name: &str) -> NewFile {
    NewFile {
        name: FileName::parse(name).expect("a valid name"),
        content_type: MediaType::parse("video/mp4").expect("a video type"),
        size: 1_000,
        storage_key: format!("conformance/{}", unique()),
    }
}

fn review(status: ReviewStatus, note: Option<&str>) -> NewReview {
    NewReview { status, note: note.map(|n| ReviewNote::parse(n).unwrap().unwrap()) }
}

async fn version(store: &dyn Store, project: ProjectId, id: VersionId) -> Option<Version> {
    one(store.version(project, id)).await.expect("version").expect("the project exists").version
}

async fn summary_review(store: &dyn Store, viewer: &User, project: ProjectId) -> ReviewSummary {
    let list = list_all(store, viewer, &ProjectFilter::default()).await;
    list.into_iter().find(|p| p.core.id == project).expect("listed").core.review
}

/// Numbering, pages, lookups with access, edits, reviews and the approval they give, deletes,
/// and the summary's `review` and the detail's `current_version` after each.
pub async fn versions(store: &dyn Store) {
    let owner = new_user(store, "version-owner").await;
    let ann = new_user(store, "version-ann").await;
    let bob = new_user(store, "version-bob").await;
    let id = new_project(store, &owner, "Versions").await;
    let other = new_project(store, &owner, "Other versions").await;
    add_member(store, id, &ann, Role::Editor).await;
    add_member(store, id, &bob, Role::Viewer).await;

    let none = ReviewSummary { version: None, status: ReviewSummaryStatus::None };
    assert_eq!(summary_review(store, &owner, id).await, none);
    assert_eq!(detail(store, id).await.feedback.current_version, None);

    let first = NewVersion {
        label: VersionLabel::parse("rough cut").unwrap(),
        fps: Some(FrameRate::parse(29.97).unwrap()),
        duration: Some(Seconds::parse(61.5).unwrap()),
    };
    let v1 = add_version(store, id, &ann, &video("cut 1.mp4"), &first).await;
    assert_eq!(v1.number, 1);
    assert_eq!(v1.label.as_deref(), Some("rough cut"));
    assert_eq!((v1.fps, v1.duration), (Some(29.97), Some(61.5)), "fps as the Limits table has it");
    assert_eq!(v1.created_by, user_ref(&ann));
    assert_recent(v1.created, "version.created");
    assert_eq!(v1.comment_count, 0);
    assert_eq!((v1.approval.status, v1.approval.reviews.len()), (ApprovalStatus::Pending, 0));
    assert_eq!(v1.file.url, format!("/api/projects/{}/files/{}", id.0, v1.file.id.0));
    assert_eq!(version(store, id, v1.id).await, Some(v1.clone()), "read as written");

    let v2 = add_version(store, id, &owner, &video("cut 2.mp4"), &NewVersion::default()).await;
    assert_eq!((v2.number, v2.label.clone(), v2.fps, v2.duration), (2, None, None, None));
    let d = detail(store, id).await;
    assert_eq!(d.feedback.current_version.as_ref(), Some(&v2), "the highest number is current");
    assert_eq!(d.feedback.video.as_ref(), Some(&v2.file));
    let pending = ReviewSummary { version: Some(2), status: ReviewSummaryStatus::Pending };
    assert_eq!(summary_review(store, &bob, id).await, pending);
    assert_eq!(summary_review(store, &owner, other).await, none, "per project");
    let nothing = NewVersion::default();
    let stray = video("x.mp4");
    let ghost = one(store.add_version(ProjectId(MISSING), owner.id, &stray, &nothing)).await;
    assert!(matches!(ghost, Err(StoreError::NotFound)), "unknown project: {ghost:?}");

    // Pages: highest number first, after a number.
    let all = one(store.versions_page(id, page(10, None))).await.unwrap().expect("a project");
    assert_eq!(normalized(all.access.clone()).owner_id, owner.id);
    assert_eq!(all.items, vec![v2.clone(), v1.clone()]);
    let head = one(store.versions_page(id, page(1, None))).await.unwrap().unwrap();
    assert_eq!(head.items, vec![v2.clone()]);
    let after = cursor_of(v2.created, v2.number);
    let rest = one(store.versions_page(id, page(1, after))).await.unwrap().unwrap();
    assert_eq!(rest.items, vec![v1.clone()]);
    let empty = one(store.versions_page(other, page(10, None))).await.unwrap().unwrap();
    assert!(empty.items.is_empty());
    assert_eq!(one(store.versions_page(ProjectId(MISSING), page(10, None))).await.unwrap(), None);
    assert_eq!(version(store, other, v1.id).await, None, "another project's version");
    assert_eq!(version(store, id, VersionId(MISSING)).await, None);
    assert_eq!(one(store.version(ProjectId(MISSING), v1.id)).await.unwrap(), None);

    // Edits: absent fields stay, null clears.
    let patch = VersionPatch {
        label: Some(None),
        fps: Some(Some(FrameRate::parse(24.0).unwrap())),
        duration: None,
    };
    let edited = one(store.update_version(id, v1.id, &patch, ann.id))
        .await
        .unwrap()
        .expect("a version")
        .value;
    assert_eq!((edited.label, edited.fps, edited.duration), (None, Some(24.0), Some(61.5)));
    assert_eq!(edited.number, 1);
    assert_eq!(one(store.update_version(other, v1.id, &patch, ann.id)).await.unwrap(), None);

    // Reviews: one per member per version, replaced on each put; the approval follows them.
    let put = |version: VersionId, user: &User, r: NewReview| {
        let user = user.id;
        async move {
            let recorded = one(store.put_review(id, version, user, &r)).await.expect("put_review");
            recorded.is_some()
        }
    };
    assert!(put(v2.id, &ann, review(ReviewStatus::Approved, Some("lovely"))).await);
    let v = version(store, id, v2.id).await.unwrap();
    assert_eq!(v.approval.status, ApprovalStatus::Approved);
    assert_eq!(v.approval.reviews[0].user, user_ref(&ann));
    assert_eq!(v.approval.reviews[0].note.as_deref(), Some("lovely"));
    assert_recent(v.approval.reviews[0].updated, "review.updated");
    let approved = ReviewSummary { version: Some(2), status: ReviewSummaryStatus::Approved };
    assert_eq!(summary_review(store, &owner, id).await, approved);
    assert!(put(v2.id, &bob, review(ReviewStatus::ChangesRequested, None)).await);
    let v = version(store, id, v2.id).await.unwrap();
    assert_eq!(v.approval.status, ApprovalStatus::ChangesRequested);
    let users: Vec<_> = v.approval.reviews.iter().map(|r| r.user.id).collect();
    assert_eq!(users, vec![bob.id, ann.id], "newest first");
    let d = detail(store, id).await;
    assert_eq!(d.feedback.current_version.unwrap().approval, v.approval);
    let changes = ReviewSummary { version: Some(2), status: ReviewSummaryStatus::ChangesRequested };
    assert_eq!(summary_review(store, &ann, id).await, changes);
    assert!(put(v2.id, &bob, review(ReviewStatus::Pending, None)).await, "replaced, not added");
    let v = version(store, id, v2.id).await.unwrap();
    assert_eq!(v.approval.reviews.len(), 2);
    assert_eq!(v.approval.status, ApprovalStatus::Approved);
    assert_eq!(v.approval.reviews[0].status, ReviewStatus::Pending);
    assert!(put(v1.id, &ann, review(ReviewStatus::ChangesRequested, None)).await);
    assert_eq!(summary_review(store, &owner, id).await, approved, "only the current one shows");
    assert!(!put(VersionId(MISSING), &ann, review(ReviewStatus::Approved, None)).await);
    let approve = review(ReviewStatus::Approved, None);
    let elsewhere = one(store.put_review(other, v1.id, ann.id, &approve)).await.unwrap();
    assert!(elsewhere.is_none(), "another project's version");

    // Deletes: the key comes back once; the highest remaining version is current; numbers are
    // never handed out again.
    assert_eq!(one(store.delete_version(other, v2.id, owner.id)).await.unwrap(), None);
    let key = one(store.delete_version(id, v2.id, owner.id)).await.unwrap().expect("deleted").value;
    let named = one(store.named_storage_keys(std::slice::from_ref(&key))).await.unwrap();
    assert!(named.is_empty(), "the video's row went with the version");
    assert_eq!(one(store.delete_version(id, v2.id, owner.id)).await.unwrap(), None, "already gone");
    assert_eq!(version(store, id, v2.id).await, None);
    let d = detail(store, id).await;
    assert_eq!(d.feedback.current_version.as_ref().map(|v| v.number), Some(1));
    let on_v1 = ReviewSummary { version: Some(1), status: ReviewSummaryStatus::ChangesRequested };
    assert_eq!(summary_review(store, &owner, id).await, on_v1);
    let v3 = add_version(store, id, &owner, &video("cut 3.mp4"), &NewVersion::default()).await;
    assert_eq!(v3.number, 3, "number 2 is never reused");
    let keys = delete_project(store, id, owner.id).await.expect("it existed").value;
    assert_eq!(keys.len(), 2, "both videos' keys: {keys:?}");
}
