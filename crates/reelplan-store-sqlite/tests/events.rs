//! What only the SQLite backend can show of the event log: the id a write hands back is
//! predicted from `sqlite_sequence` before its trigger records the event, so it must be the
//! stored one however many writers share the pool; a refused write, a cascade and a bulk load
//! record nothing; a delete leaves no marked row behind.

mod common;

use common::TempDb;
use reelplan_domain::{
    DiscussionText, Email, FileName, MediaType, MemoId, MemoText, Nickname, Phase, PhaseDates,
    ProjectId, ProjectName, ReviewStatus, Role, UserId, VersionId,
};
use reelplan_store::bulk::BulkLoad;
use reelplan_store::prelude::*;
use reelplan_store::{
    CommentPatch, Event, NewComment, NewFile, NewProject, NewReview, NewVersion, ProjectPatch,
    Recorded, StoreError, User, UserRef, Version, VersionPatch,
};
use reelplan_store_sqlite::SqliteStore;

async fn user(store: &SqliteStore, label: &str) -> User {
    let email = Email::parse(&format!("{label}@example.com")).unwrap();
    store.create_user(&email, &Nickname::parse(label).unwrap(), "h").await.unwrap()
}

fn user_ref(user: &User) -> UserRef {
    UserRef { id: user.id, email: user.email.clone(), nickname: user.nickname.clone() }
}

fn project(name: &str) -> NewProject {
    NewProject::named(ProjectName::parse(name).unwrap())
}

fn comment(text: &str, parent: Option<reelplan_domain::CommentId>) -> NewComment {
    NewComment {
        text: DiscussionText::parse(text).unwrap(),
        timecode: None,
        timecode_end: None,
        version: None,
        parent,
        annotation: None,
    }
}

fn file(name: &str, content_type: &str) -> NewFile {
    NewFile {
        name: FileName::parse(name).unwrap(),
        content_type: MediaType::parse(content_type).unwrap(),
        size: 1,
        storage_key: format!("key/{name}"),
    }
}

/// Records a version of `project` by `by` whose video is `name`.
async fn version(
    store: &SqliteStore,
    project: ProjectId,
    by: UserId,
    name: &str,
) -> Recorded<Version> {
    let video = file(name, "video/mp4");
    store.add_version(project, by, &video, &NewVersion::default()).await.unwrap()
}

fn text(text: &str) -> DiscussionText {
    DiscussionText::parse(text).unwrap()
}

fn review() -> NewReview {
    NewReview { status: ReviewStatus::Approved, note: None }
}

/// The whole log, oldest first.
async fn log(store: &SqliteStore) -> Vec<Event> {
    store.events_after(0, 100_000).await.unwrap()
}

/// The id the next event will take.
async fn next_id(store: &SqliteStore) -> i64 {
    let sql = "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0) + 1";
    sqlx::query_scalar(sql).fetch_one(store.pool()).await.unwrap()
}

/// Writers on every connection of one pool at once, each write handing back its event: every
/// event handed back is the one stored under its id, and the log holds nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_predicted_event_id_is_the_stored_one_under_concurrent_writers() {
    let db = TempDb::new("events-concurrent").await;
    let store = &db.store;
    let owner = user(store, "owner").await;
    let editor = user(store, "editor").await;
    let created = store.create_project(owner.id, &project("busy")).await.unwrap();
    let id = created.value;
    let added = store.add_member(id, &user_ref(&editor), Role::Editor, owner.id).await.unwrap();
    let version = version(store, id, owner.id, "cut.mp4").await;
    let mut handed_back = vec![created.event, added.unwrap().event, version.event];

    let writers = (0..8).map(|writer| {
        let store = store.clone();
        let (owner, editor) = (owner.id, editor.id);
        let version = version.value.id;
        tokio::spawn(async move {
            let mut events = Vec::new();
            for round in 0..12 {
                let by = if round % 2 == 0 { owner } else { editor };
                let said = text(&format!("{writer}.{round}"));
                let message = store.add_message(id, by, &said).await.unwrap();
                let message = message.expect("a participant posts");
                assert_eq!(message.event.created, message.value.created);
                events.push(message.event);
                let posted = store.add_comment(id, by, &comment("c", None)).await.unwrap();
                let posted = posted.expect("a participant comments");
                assert_eq!(posted.event.created, posted.value.created);
                let patch = CommentPatch { text: Some(text("edited")), resolved: Some(true) };
                let changed = store.update_comment(id, posted.value.id, &patch, by).await;
                events.push(changed.unwrap().expect("the comment exists").event);
                let dates = PhaseDates::default();
                let phase = store.set_phase(id, Phase::ALL[round % 8], dates, by).await;
                events.push(phase.unwrap().expect("an editor sets phases"));
                events.push(store.put_review(id, version, by, &review()).await.unwrap().unwrap());
                let deleted = store.delete_comment(id, posted.value.id, by).await.unwrap();
                events.extend([posted.event, deleted.expect("the comment exists")]);
                let other = store.create_project(by, &project("another")).await.unwrap();
                let gone = store.delete_project(other.value, by).await.unwrap();
                events.extend([other.event, gone.expect("it exists").event]);
            }
            events
        })
    });
    for writer in writers.collect::<Vec<_>>() {
        handed_back.extend(writer.await.unwrap());
    }
    handed_back.sort_by_key(|event| event.id);
    let stored = log(store).await;
    assert_eq!(stored.len(), 3 + 8 * 12 * 8);
    assert_eq!(stored, handed_back, "each write's event, under the id it was handed back with");
    db.finish().await;
}

/// Every refused write, and every write of a missing row, leaves the log as it was, and the
/// next write's event takes the very next id.
#[tokio::test]
async fn a_refused_write_records_no_event() {
    let db = TempDb::new("events-refused").await;
    let store = &db.store;
    let owner = user(store, "owner").await;
    let viewer = user(store, "viewer").await;
    let manager = user(store, "manager").await;
    let stranger = user(store, "stranger").await;
    let id = store.create_project(owner.id, &project("guarded")).await.unwrap().value;
    let as_viewer = store.add_member(id, &user_ref(&viewer), Role::Viewer, owner.id).await;
    let as_viewer = as_viewer.unwrap().unwrap().value;
    let as_manager = store.add_member(id, &user_ref(&manager), Role::Manager, owner.id).await;
    let as_manager = as_manager.unwrap().unwrap().value;
    let posted = store.add_comment(id, owner.id, &comment("c", None)).await.unwrap().unwrap();
    let before = log(store).await;
    let next = next_id(store).await;
    let missing = ProjectId(i64::MAX - 7);
    let name = ProjectName::parse("taken").unwrap();
    let patch = ProjectPatch { name: Some(name), ..Default::default() };
    let dates = PhaseDates::default();
    let stranger_ref = user_ref(&stranger);
    let video = file("cut.mp4", "video/mp4");
    let no_version = VersionId(i64::MAX - 7);

    // Refused by the permission folded into the statement.
    assert_eq!(store.update_project(id, &patch, viewer.id).await.unwrap(), None);
    assert_eq!(store.set_phase(id, Phase::Filming, dates, viewer.id).await.unwrap(), None);
    assert_eq!(store.add_member(id, &stranger_ref, Role::Viewer, viewer.id).await.unwrap(), None);
    let granted = store.add_member(id, &stranger_ref, Role::Manager, manager.id).await;
    assert_eq!(granted.unwrap(), None, "a manager grants no manager role");
    let demoted = store.set_member_role(id, as_manager.id, Role::Viewer, manager.id).await;
    assert_eq!(demoted.unwrap(), None, "a manager changes no manager");
    let removed = store.remove_member(id, as_manager.id, viewer.id).await;
    assert_eq!(removed.unwrap(), None, "a viewer removes nobody else");
    let removed = store.remove_member(id, as_viewer.id, stranger.id).await;
    assert_eq!(removed.unwrap(), None);
    assert_eq!(store.add_comment(id, stranger.id, &comment("c", None)).await.unwrap(), None);
    assert_eq!(store.add_message(id, stranger.id, &text("m")).await.unwrap(), None);
    // Refused by a cap.
    let memo = MemoText::parse("memo").unwrap();
    assert_eq!(store.add_memo(id, owner.id, chrono::Utc::now(), &memo, 0).await.unwrap(), None);
    assert_eq!(
        store.add_file(id, &file("a.pdf", "application/pdf"), 0, owner.id).await.unwrap(),
        None
    );
    // Refused by a constraint: the statement's trigger goes back with it.
    let again = store.add_member(id, &user_ref(&viewer), Role::Editor, owner.id).await;
    assert!(matches!(again, Err(StoreError::Conflict { .. })), "{again:?}");
    let unknown = store.create_project(UserId(i64::MAX - 7), &project("nobody's")).await;
    assert!(matches!(unknown, Err(StoreError::NotFound)), "{unknown:?}");
    let orphan = store.add_file(missing, &file("b.pdf", "application/pdf"), 10, owner.id).await;
    assert!(matches!(orphan, Err(StoreError::NotFound)), "{orphan:?}");
    let orphan = store.add_memo(missing, owner.id, chrono::Utc::now(), &memo, 10).await;
    assert!(matches!(orphan, Err(StoreError::NotFound)), "{orphan:?}");
    let orphan = store.add_version(missing, owner.id, &video, &Default::default()).await;
    assert!(matches!(orphan, Err(StoreError::NotFound)), "{orphan:?}");
    // Missing rows.
    assert_eq!(store.update_project(missing, &patch, owner.id).await.unwrap(), None);
    assert_eq!(store.set_phase(missing, Phase::Filming, dates, owner.id).await.unwrap(), None);
    let patch = CommentPatch { text: Some(text("x")), resolved: None };
    let other = reelplan_domain::CommentId(posted.value.id.0 + 1_000);
    assert_eq!(store.update_comment(id, other, &patch, owner.id).await.unwrap(), None);
    assert_eq!(
        store.update_comment(missing, posted.value.id, &patch, owner.id).await.unwrap(),
        None
    );
    assert_eq!(store.delete_comment(id, other, owner.id).await.unwrap(), None);
    assert_eq!(store.delete_comment(missing, posted.value.id, owner.id).await.unwrap(), None);
    assert_eq!(store.delete_memo(id, MemoId(i64::MAX - 7), owner.id).await.unwrap(), None);
    let no_file = reelplan_domain::FileId(i64::MAX - 7);
    assert_eq!(store.delete_file(id, no_file, owner.id).await.unwrap(), None);
    let unpatched = store.update_version(id, no_version, &VersionPatch::default(), owner.id).await;
    assert_eq!(unpatched.unwrap(), None);
    assert_eq!(store.delete_version(id, no_version, owner.id).await.unwrap(), None);
    assert_eq!(store.put_review(id, no_version, owner.id, &review()).await.unwrap(), None);
    let no_member = reelplan_domain::MemberId(i64::MAX - 7);
    assert_eq!(store.set_member_role(id, no_member, Role::Editor, owner.id).await.unwrap(), None);
    assert_eq!(store.remove_member(missing, as_viewer.id, owner.id).await.unwrap(), None);
    assert_eq!(store.delete_project(missing, owner.id).await.unwrap(), None);

    assert_eq!(log(store).await, before, "nothing recorded");
    assert_eq!(next_id(store).await, next, "no id taken");
    let message = store.add_message(id, viewer.id, &text("still here")).await.unwrap().unwrap();
    assert_eq!(message.event.id, next);
    assert_eq!(log(store).await.last(), Some(&message.event));
    db.finish().await;
}

/// What a write takes with it by cascade records nothing of its own: one event per write, and
/// no row that a delete marked is left behind.
#[tokio::test]
async fn a_cascade_records_only_the_write_s_own_event() {
    let db = TempDb::new("events-cascade").await;
    let store = &db.store;
    let pool = store.pool();
    let owner = user(store, "owner").await;
    let ann = user(store, "ann").await;
    let bob = user(store, "bob").await;
    let id = store.create_project(owner.id, &project("full")).await.unwrap().value;
    store.add_member(id, &user_ref(&bob), Role::Manager, owner.id).await.unwrap().unwrap();
    let ann_member = store.add_member(id, &user_ref(&ann), Role::Editor, owner.id).await;
    let ann_member = ann_member.unwrap().unwrap();
    let v1 = version(store, id, owner.id, "v1.mp4").await.value;
    let v2 = version(store, id, ann.id, "v2.mp4").await.value;
    let top = store.add_comment(id, ann.id, &comment("top", None)).await.unwrap().unwrap().value;
    for reply in ["one", "two"] {
        store.add_comment(id, bob.id, &comment(reply, Some(top.id))).await.unwrap().unwrap();
    }
    store.put_review(id, v1.id, ann.id, &review()).await.unwrap().unwrap();
    store.put_review(id, v2.id, ann.id, &review()).await.unwrap().unwrap();
    let replaced = store.put_review(id, v2.id, ann.id, &review()).await.unwrap().unwrap();
    assert_eq!(replaced.kind, reelplan_domain::EventType::ReviewUpdated, "the upsert's update");
    let memo = MemoText::parse("memo").unwrap();
    store.add_memo(id, ann.id, chrono::Utc::now(), &memo, 10).await.unwrap().unwrap();
    let pdf = store.add_file(id, &file("a.pdf", "application/pdf"), 10, ann.id).await.unwrap();
    pdf.unwrap();
    store.add_message(id, bob.id, &text("hi")).await.unwrap().unwrap();
    let ann_left = store.remove_member(id, ann_member.value.id, ann.id).await.unwrap().unwrap();
    assert_eq!(ann_left.value, ann.id);
    // create, 2 added, 2 versions, 3 comments, 3 reviews, memo, file, message, removed
    assert_eq!(log(store).await.len(), 15);

    let count = |sql: &'static str| async move {
        sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await.unwrap()
    };
    let deleted = store.delete_comment(id, top.id, bob.id).await.unwrap().unwrap();
    assert_eq!((deleted.object_id, deleted.actor_id), (top.id.0, bob.id));
    assert_eq!(count("SELECT count(*) FROM comments").await, 0, "the replies went with it");
    assert_eq!(log(store).await.len(), 16, "one event, for the comment named");

    // The video of version 1, deleted as a file: the version's event, naming the version.
    let gone = store.delete_file(id, v1.file.id, bob.id).await.unwrap().unwrap();
    assert_eq!(gone.value, "key/v1.mp4");
    assert_eq!(gone.event.kind, reelplan_domain::EventType::VersionDeleted);
    assert_eq!(gone.event.object_id, v1.id.0);
    assert_eq!(log(store).await.last(), Some(&gone.event));
    assert_eq!(count("SELECT count(*) FROM versions").await, 1);
    assert_eq!(count("SELECT count(*) FROM reviews").await, 1);

    let deleted = store.delete_project(id, bob.id).await.unwrap().unwrap();
    let mut keys = deleted.value;
    keys.sort();
    assert_eq!(keys, ["key/a.pdf", "key/v2.mp4"]);
    let stored = log(store).await;
    assert_eq!(stored.len(), 18, "one event for the whole project");
    assert_eq!(stored.last(), Some(&deleted.event));
    let audience: String = sqlx::query_scalar(
        "SELECT audience FROM events WHERE id = ?1 AND type = 'project.deleted'",
    )
    .bind(deleted.event.id)
    .fetch_one(pool)
    .await
    .unwrap();
    let audience: Vec<i64> = serde_json::from_str(&audience).unwrap();
    assert_eq!(audience, [owner.id.0, bob.id.0], "the owner, then the members left");
    assert_eq!(count("SELECT count(*) FROM events WHERE audience IS NOT NULL").await, 1);
    for table in ["projects", "members", "comments", "memos", "files", "versions", "reviews"] {
        let sql = format!("SELECT count(*) FROM {table}");
        let left: i64 = sqlx::query_scalar(&sql).fetch_one(pool).await.unwrap();
        assert_eq!(left, 0, "{table} went with the project");
    }
    db.finish().await;
}

/// The bulk loader's rows record nothing, and clearing the database empties the log with the
/// sequences, so the id a write predicts is still the one it takes.
#[tokio::test]
async fn bulk_rows_record_nothing_and_clearing_keeps_the_prediction() {
    let db = TempDb::new("events-bulk").await;
    let store = &db.store;
    let pool = store.pool();
    let owner = user(store, "owner").await;
    let first = store.create_project(owner.id, &project("first")).await.unwrap();
    assert_eq!(first.event.id, 1);
    for sql in [
        "INSERT INTO users (id, email, nickname, password_hash, created, updated)
         VALUES (100, 'bulk@example.com', 'Bulk', 'h', 1767225600000000, 1767225600000000)",
        "INSERT INTO projects (id, owner_id, name, created, updated)
         VALUES (100, 100, 'bulk', 1767225600000000, 1767225600000000)",
        "INSERT INTO members (project_id, user_id, role, created)
         VALUES (100, 1, 'viewer', 1767225600000000)",
        "INSERT INTO files (id, project_id, kind, name, content_type, size, storage_key, created)
         VALUES (100, 100, 'video', 'v.mp4', 'video/mp4', 1, 'key/bulk', 1767225600000000)",
        "INSERT INTO versions (id, project_id, number, file_id, created_by, created)
         VALUES (100, 100, 1, 100, 100, 1767225600000000)",
        "INSERT INTO reviews (version_id, user_id, status, updated)
         VALUES (100, 100, 'approved', 1767225600000000)",
        "INSERT INTO comments (project_id, user_id, text, version_id, created)
         VALUES (100, 100, 'c', 100, 1767225600000000)",
        "INSERT INTO messages (project_id, user_id, text, created)
         VALUES (100, 100, 'm', 1767225600000000)",
        "INSERT INTO memos (project_id, user_id, date, text, created)
         VALUES (100, 100, 1767225600000000, 'm', 1767225600000000)",
    ] {
        sqlx::query(sql).execute(pool).await.unwrap();
    }
    assert_eq!(log(store).await, [first.event], "the loader's rows record nothing");
    // The rows the loader wrote take events like any other once the store writes them.
    let bulk = ProjectId(100);
    let gone = store.delete_project(bulk, UserId(100)).await.unwrap().unwrap();
    assert_eq!(gone.event.id, 2);

    store.clear().await.unwrap();
    let horizon: i64 = sqlx::query_scalar("SELECT pruned_through FROM event_horizon")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(horizon, 0, "a cleared log has lost nothing");
    let owner = user(store, "owner").await;
    let again = store.create_project(owner.id, &project("again")).await.unwrap();
    assert_eq!(again.event.id, 1);
    assert_eq!(log(store).await, [again.event]);
    db.finish().await;
}

/// Pruning moves the horizon to the highest id it deleted; ids are never handed out again, and
/// the prediction stays right after the log is emptied.
#[tokio::test]
async fn pruning_keeps_ids_growing() {
    let db = TempDb::new("events-prune").await;
    let store = &db.store;
    let owner = user(store, "owner").await;
    let id = store.create_project(owner.id, &project("pruned")).await.unwrap().value;
    let mut last = None;
    for n in 0..3 {
        last = Some(store.add_message(id, owner.id, &text(&format!("{n}"))).await.unwrap());
    }
    let last = last.unwrap().unwrap().event;
    assert_eq!(
        store.prune_events(chrono::Utc::now() + chrono::Duration::seconds(1)).await.unwrap(),
        4
    );
    let start = store.stream_start(owner.id, Some(0), 100).await.unwrap();
    assert_eq!((start.horizon, start.events), (last.id, vec![]));
    assert_eq!(store.prune_events(chrono::Utc::now()).await.unwrap(), 0);
    assert_eq!(store.stream_start(owner.id, None, 100).await.unwrap().horizon, last.id);
    let next = store.add_message(id, owner.id, &text("after")).await.unwrap().unwrap().event;
    assert_eq!(next.id, last.id + 1);
    assert_eq!(log(store).await, [next]);
    db.finish().await;
}
