//! Conformance: comment threads (API 1.1): versions, ranges, replies, annotations, resolution,
//! edits, filters, and what deletes take with them.

use super::*;
use crate::{Annotation, CommentPatch, NewComment, NewVersion};
use reelplan_domain::{FileName, MediaType, VersionId};

fn video() -> NewFile {
    NewFile {
        name: FileName::parse("cut.mp4").expect("a valid name"),
        content_type: MediaType::parse("video/mp4").expect("a video type"),
        size: 10,
        storage_key: format!("conformance/{}", unique()),
    }
}

async fn post(store: &dyn Store, id: ProjectId, by: &User, c: NewComment) -> Option<Comment> {
    one(store.add_comment(id, by.id, &c)).await.expect("add_comment").map(|r| r.value)
}

async fn filtered(store: &dyn Store, id: ProjectId, filter: CommentFilter) -> Vec<CommentId> {
    let page = one(store.comments_page(id, filter, page(100, None))).await.unwrap().unwrap();
    page.items.iter().map(|c| c.id).collect()
}

fn text_of(text: &str) -> DiscussionText {
    DiscussionText::parse(text).unwrap()
}

/// Versions, ranges, replies and annotations on post; resolution and edits; filters; counts
/// with replies; deletes taking replies and a version's comments.
pub async fn threads(store: &dyn Store) {
    let owner = new_user(store, "t-owner").await;
    let ann = new_user(store, "t-ann").await;
    let id = new_project(store, &owner, "Threads").await;
    let other = new_project(store, &owner, "Other threads").await;
    add_member(store, id, &ann, Role::Viewer).await;

    // Before any version: no version.
    let early = post(store, id, &ann, plain("before any cut", Some(1.0))).await.unwrap();
    assert_eq!(early.version_id, None);
    let v1 = add_version(store, id, &owner, &video(), &NewVersion::default()).await;
    let v2 = add_version(store, id, &owner, &video(), &NewVersion::default()).await;
    let elsewhere = add_version(store, other, &owner, &video(), &NewVersion::default()).await;

    // A top-level comment: on the current version unless it names one of the project's.
    let mut range = plain("this whole shot", Some(2.5));
    range.timecode_end = Some(Timecode::parse(4.0).unwrap());
    let annotation =
        serde_json::json!({"z": 1, "shapes": [{"kind": "arrow", "at": [0.5, 0.25]}], "a": null});
    range.annotation = Some(Annotation::parse(&annotation).unwrap());
    let top = post(store, id, &owner, range).await.expect("posted");
    assert_eq!(top.version_id, Some(v2.id), "the current version");
    assert_eq!((top.timecode, top.timecode_end), (Some(2.5), Some(4.0)));
    let kept = serde_json::to_string(&top.annotation).unwrap();
    assert_eq!(
        kept, r#"{"z":1,"shapes":[{"kind":"arrow","at":[0.5,0.25]}],"a":null}"#,
        "opaque, in order"
    );
    assert_eq!((top.parent_id, top.resolved, top.resolved_by.clone()), (None, false, None));
    assert_eq!((top.resolved_at, top.edited), (None, None));
    let mut on_v1 = plain("on the first cut", None);
    on_v1.version = Some(v1.id);
    let first = post(store, id, &ann, on_v1).await.expect("posted");
    assert_eq!(first.version_id, Some(v1.id));
    let mut foreign = plain("wrong project", None);
    foreign.version = Some(elsewhere.id);
    assert_eq!(post(store, id, &ann, foreign).await, None, "another project's version");
    let mut missing = plain("no such version", None);
    missing.version = Some(VersionId(MISSING));
    assert_eq!(post(store, id, &ann, missing).await, None);

    // Replies: one level deep, on their parent's version.
    let reply_to = |parent: CommentId, text: &str| {
        let mut reply = plain(text, None);
        reply.parent = Some(parent);
        reply
    };
    let reply = post(store, id, &ann, reply_to(first.id, "agreed")).await.expect("a reply");
    assert_eq!((reply.parent_id, reply.version_id), (Some(first.id), Some(v1.id)));
    assert_eq!(post(store, id, &ann, reply_to(reply.id, "deeper")).await, None, "one level");
    assert_eq!(post(store, id, &ann, reply_to(CommentId(MISSING), "x")).await, None);
    let stray = post(store, other, &owner, plain("elsewhere", None)).await.unwrap();
    assert_eq!(post(store, id, &ann, reply_to(stray.id, "x")).await, None, "another project's");
    let mut mismatched = reply_to(first.id, "x");
    mismatched.version = Some(v2.id);
    assert_eq!(post(store, id, &ann, mismatched).await, None, "the parent is on another version");
    let mut matching = reply_to(first.id, "me too");
    matching.version = Some(v1.id);
    let second_reply = post(store, id, &owner, matching).await.expect("same version");

    // Filters, and counts that include replies.
    let all = CommentFilter::default();
    let ids = |cs: &[&Comment]| cs.iter().map(|c| c.id).collect::<Vec<_>>();
    assert_eq!(filtered(store, id, all).await, ids(&[&early, &top, &first, &reply, &second_reply]));
    let v1_only = CommentFilter { version: Some(v1.id), resolved: None };
    assert_eq!(filtered(store, id, v1_only).await, ids(&[&first, &reply, &second_reply]));
    assert_eq!(
        one(store.version(id, v1.id)).await.unwrap().unwrap().version.unwrap().comment_count,
        3
    );
    assert_eq!(detail(store, id).await.feedback.comment_count, 5);

    // Resolution and edits.
    let resolve = CommentPatch { text: None, resolved: Some(true) };
    let done =
        one(store.update_comment(id, first.id, &resolve, ann.id)).await.unwrap().unwrap().value;
    assert!(done.resolved);
    assert_eq!(done.resolved_by, Some(user_ref(&ann)));
    let resolved_at = done.resolved_at.expect("resolved_at");
    assert_recent(resolved_at, "resolved_at");
    assert_eq!((done.edited, done.text.as_str()), (None, "on the first cut"));
    let again =
        one(store.update_comment(id, first.id, &resolve, owner.id)).await.unwrap().unwrap().value;
    assert_eq!(
        (again.resolved_by, again.resolved_at),
        (Some(user_ref(&ann)), Some(resolved_at)),
        "kept"
    );
    let resolved = CommentFilter { version: None, resolved: Some(true) };
    assert_eq!(filtered(store, id, resolved).await, vec![first.id]);
    let open = CommentFilter { version: Some(v1.id), resolved: Some(false) };
    assert_eq!(filtered(store, id, open).await, ids(&[&reply, &second_reply]));
    let reopen = CommentPatch { text: None, resolved: Some(false) };
    let reopened =
        one(store.update_comment(id, first.id, &reopen, ann.id)).await.unwrap().unwrap().value;
    assert_eq!(
        (reopened.resolved, reopened.resolved_by, reopened.resolved_at),
        (false, None, None)
    );
    let same = CommentPatch {
        text: Some(DiscussionText::parse("on the first cut").unwrap()),
        resolved: None,
    };
    let unchanged =
        one(store.update_comment(id, first.id, &same, ann.id)).await.unwrap().unwrap().value;
    assert_eq!(unchanged.edited, None, "the same text is no edit");
    let new_text =
        CommentPatch { text: Some(DiscussionText::parse("on cut one").unwrap()), resolved: None };
    let edited =
        one(store.update_comment(id, first.id, &new_text, ann.id)).await.unwrap().unwrap().value;
    assert_eq!(edited.text, "on cut one");
    assert_recent(edited.edited.expect("edited"), "edited");
    assert_eq!(one(store.update_comment(other, first.id, &new_text, ann.id)).await.unwrap(), None);

    // Who may: the author edits; the author or an editor and above resolves; nobody else,
    // and not an author who no longer takes part.
    let refused = |text: &str| format!("{text} is refused in the update itself");
    let viewer_resolves = one(store.update_comment(id, top.id, &resolve, ann.id)).await.unwrap();
    assert_eq!(viewer_resolves, None, "{}", refused("a viewer resolving another's comment"));
    let not_author = one(store.update_comment(id, top.id, &new_text, ann.id)).await.unwrap();
    assert_eq!(not_author, None, "{}", refused("a viewer editing another's comment"));
    let owner_edits = one(store.update_comment(id, first.id, &new_text, owner.id)).await.unwrap();
    assert_eq!(owner_edits, None, "{}", refused("the owner editing another's text"));
    let ed = new_user(store, "t-ed").await;
    add_member(store, id, &ed, Role::Editor).await;
    let ed_resolves = one(store.update_comment(id, top.id, &resolve, ed.id)).await.unwrap();
    assert!(ed_resolves.is_some(), "an editor resolves another's comment");
    let both = CommentPatch { text: Some(text_of("edited and resolved")), resolved: Some(true) };
    let ed_edits = one(store.update_comment(id, top.id, &both, ed.id)).await.unwrap();
    assert_eq!(ed_edits, None, "{}", refused("an editor changing another's text"));
    let gone = new_user(store, "t-gone").await;
    let membership = add_member(store, id, &gone, Role::Viewer).await;
    let theirs = post(store, id, &gone, plain("soon gone", None)).await.unwrap();
    one(store.remove_member(id, membership.id, owner.id)).await.unwrap().expect("removed");
    let late_edit = one(store.update_comment(id, theirs.id, &new_text, gone.id)).await.unwrap();
    assert_eq!(late_edit, None, "{}", refused("an author who left editing"));
    assert!(one(store.delete_comment(id, theirs.id, owner.id)).await.unwrap().is_some());
    assert_eq!(
        one(store.update_comment(id, CommentId(MISSING), &new_text, ann.id)).await.unwrap(),
        None
    );

    // A top-level comment's delete takes its replies; a version's, its comments.
    assert!(one(store.delete_comment(id, first.id, owner.id)).await.unwrap().is_some());
    assert_eq!(filtered(store, id, v1_only).await, Vec::<CommentId>::new());
    assert_eq!(detail(store, id).await.feedback.comment_count, 2);
    assert!(one(store.delete_version(id, v2.id, owner.id)).await.unwrap().is_some());
    assert_eq!(filtered(store, id, all).await, vec![early.id], "v2's comment went with it");
}
