//! Conformance: the event log (API 1.1, "Live updates and activity"): the one event every write
//! records and none for a refused one, where a stream starts and what it replays, every
//! project's events after an id, a project's activity, and pruning.

use super::*;
use crate::{CommentPatch, NewReview, NewVersion, StreamStart, Version, VersionPatch};
use reelplan_domain::{EventType, FileName, MediaType, ReviewStatus, VersionId, VersionLabel};

/// More rows than any list here holds.
const LOTS: u32 = 500;

/// The events this section's writes recorded, oldest first, and the users and projects it made.
struct Log<'a> {
    store: &'a dyn Store,
    users: Vec<UserId>,
    projects: Vec<ProjectId>,
    events: Vec<Event>,
}

impl<'a> Log<'a> {
    fn new(store: &'a dyn Store) -> Self {
        Log { store, users: Vec::new(), projects: Vec::new(), events: Vec::new() }
    }

    async fn user(&mut self, label: &str) -> User {
        let user = new_user(self.store, label).await;
        self.users.push(user.id);
        user
    }

    /// Creates a project and checks its `project.updated`, whose subject is its owner.
    async fn project(&mut self, owner: &User, name: &str) -> ProjectId {
        let project = NewProject::named(ProjectName::parse(name).unwrap());
        let created = one(self.store.create_project(owner.id, &project)).await.unwrap();
        let id = created.value;
        self.projects.push(id);
        self.recorded(&created.event, EventType::ProjectUpdated, id, id.0, owner, Some(owner))
            .await;
        let core = detail(self.store, id).await.core;
        assert_eq!(created.event.created, core.created, "the creation's time");
        id
    }

    /// Whether this section may have caused `event`: one of its projects or users, or an id no
    /// row has (what a refused write names). The database may hold other rows.
    fn ours(&self, event: &Event) -> bool {
        self.projects.contains(&event.project_id)
            || self.users.contains(&event.actor_id)
            || event.subject_id.is_some_and(|s| self.users.contains(&s))
            || event.project_id.0 == MISSING
            || event.actor_id.0 == MISSING
    }

    /// Our events after `after`, oldest first.
    async fn after(&self, after: i64) -> Vec<Event> {
        let all = one(self.store.events_after(after, LOTS)).await.expect("events_after");
        all.into_iter().filter(|e| self.ours(e)).collect()
    }

    fn first(&self) -> &Event {
        self.events.first().expect("an event")
    }

    fn last(&self) -> &Event {
        self.events.last().expect("an event")
    }

    /// The events of `project`, oldest first.
    fn of(&self, project: ProjectId) -> Vec<Event> {
        self.events.iter().filter(|e| e.project_id == project).cloned().collect()
    }

    /// Checks the event a write returned, and that it is the one event the write recorded.
    async fn recorded(
        &mut self,
        event: &Event,
        kind: EventType,
        project: ProjectId,
        object: i64,
        actor: &User,
        subject: Option<&User>,
    ) {
        let what = kind.as_str();
        assert_eq!(
            (event.kind, event.project_id, event.object_id, event.actor_id, event.subject_id),
            (kind, project, object, actor.id, subject.map(|u| u.id)),
            "(type, project, object, actor, subject) of a write's event, {event:?}"
        );
        assert_recent(event.created, what);
        let since = match self.events.last() {
            Some(last) => {
                assert!(event.id > last.id, "{what}: ids grow, {event:?} after {last:?}");
                assert!(event.created >= last.created, "{what}: ids follow time");
                last.id
            }
            None => event.id - 1,
        };
        assert_eq!(self.after(since).await, vec![event.clone()], "{what}: exactly one event");
        self.events.push(event.clone());
    }

    /// Asserts that nothing was recorded since the last event.
    async fn nothing(&self, what: &str) {
        let new = self.after(self.last().id).await;
        assert!(new.is_empty(), "{what} recorded {new:?}");
    }
}

/// What a stream of `user` replays from the start of `log`: the events of each project they
/// take part in now from the one that let them in (`since`: the project's creation for its
/// owner, their latest `member.added` for a member), those whose subject they are, and the
/// `project.deleted` of the projects they took part in when these went (`deleted`).
fn replay(log: &[Event], user: &User, since: &[&Event], deleted: &[ProjectId]) -> Vec<Event> {
    log.iter()
        .filter(|e| {
            since.iter().any(|s| e.project_id == s.project_id && e.id >= s.id)
                || e.subject_id == Some(user.id)
                || (e.kind == EventType::ProjectDeleted && deleted.contains(&e.project_id))
        })
        .cloned()
        .collect()
}

async fn stream(store: &dyn Store, user: &User, after: Option<i64>, limit: u32) -> StreamStart {
    one(store.stream_start(user.id, after, limit)).await.expect("stream_start")
}

/// Checks where `user`'s stream starts: their projects, the horizon, and `expected` (oldest
/// first) as the replay from the start, from its middle, and page by page.
async fn check_stream(
    store: &dyn Store,
    user: &User,
    projects: Vec<ProjectId>,
    horizon: i64,
    expected: &[Event],
) {
    let who = &user.nickname;
    let fresh = stream(store, user, None, LOTS).await;
    assert_eq!(sorted(fresh.projects.clone()), sorted(projects.clone()), "{who}'s projects");
    assert_eq!(fresh.horizon, horizon, "{who}'s horizon");
    assert!(fresh.events.is_empty(), "no replay without an id: {:?}", fresh.events);

    let all = stream(store, user, Some(0), LOTS).await;
    assert_eq!(sorted(all.projects), sorted(projects.clone()), "{who}'s projects");
    assert_eq!(all.horizon, horizon);
    assert_eq!(all.events, expected, "{who}'s replay");
    if let [_, second, rest @ ..] = expected {
        let resumed = stream(store, user, Some(second.id), LOTS).await.events;
        assert_eq!(resumed, rest, "{who}'s replay after an id");
    }
    for limit in [1, 2, 5] {
        let mut seen: Vec<Event> = Vec::new();
        let mut after = 0;
        loop {
            let start = stream(store, user, Some(after), limit).await;
            assert_eq!(sorted(start.projects), sorted(projects.clone()));
            assert!(start.events.len() <= limit as usize, "at most {limit}");
            assert!(start.events.iter().all(|e| e.id > after), "only after {after}");
            let Some(last) = start.events.last() else { break };
            after = last.id;
            seen.extend(start.events);
        }
        assert_eq!(seen, expected, "{who}'s replay in pages of {limit}");
    }
}

/// Checks a project's activity: `expected` (oldest first) newest first with the access list,
/// whole and page by page.
async fn check_activity(store: &dyn Store, project: ProjectId, expected: &[Event]) {
    let newest_first: Vec<Event> = expected.iter().rev().cloned().collect();
    let access = one(store.access(project)).await.unwrap().expect("a project");
    let all = one(store.activity_page(project, page(LOTS, None))).await.unwrap().expect("a page");
    assert_eq!(normalized(all.access), normalized(access));
    assert_eq!(all.items, newest_first, "activity of {project}, newest first");
    for limit in [1, 3] {
        let mut seen: Vec<Event> = Vec::new();
        let mut after = None;
        loop {
            let p = one(store.activity_page(project, page(limit, after))).await.unwrap().unwrap();
            assert!(p.items.len() <= limit as usize);
            let Some(last) = p.items.last() else { break };
            after = cursor_of(last.created, last.id);
            seen.extend(p.items);
        }
        assert_eq!(seen, newest_first, "activity of {project} in pages of {limit}");
    }
    if let [_, second, rest @ ..] = newest_first.as_slice() {
        let after = cursor_of(second.created, second.id);
        let resumed = one(store.activity_page(project, page(LOTS, after))).await.unwrap().unwrap();
        assert_eq!(resumed.items, rest, "activity of {project} after a cursor");
    }
}

fn upload(name: &str, content_type: &str) -> NewFile {
    NewFile {
        name: FileName::parse(name).expect("a valid name"),
        content_type: MediaType::parse(content_type).expect("a valid content type"),
        size: 100,
        storage_key: format!("conformance/{}", unique()),
    }
}

/// Records a version of `project` by `by`.
async fn cut(store: &dyn Store, project: ProjectId, by: &User, name: &str) -> Recorded<Version> {
    let video = upload(name, "video/mp4");
    let version = NewVersion::default();
    one(store.add_version(project, by.id, &video, &version)).await.expect("add_version")
}

fn text(text: &str) -> DiscussionText {
    DiscussionText::parse(text).unwrap()
}

fn memo_text(text: &str) -> MemoText {
    MemoText::parse(text).unwrap()
}

/// Lets the clock move on, so that what follows is strictly later than what came before.
async fn tick() {
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
}

/// Every write's one event (type, project, object, actor, subject, time), none for a refused
/// write; where each user's stream starts and what it replays; every project's events after an
/// id; a project's activity; pruning and the horizon.
///
/// Pruning is global: it deletes every event older than this section's own last ones, whoever's
/// (no other section reads events), so no other test may read the log of the same database at
/// the same time.
pub async fn events(store: &dyn Store) {
    use EventType::*;
    let mut log = Log::new(store);
    let owner = log.user("e-owner").await;
    let ann = log.user("e-ann").await;
    let bob = log.user("e-bob").await;
    let carl = log.user("e-carl").await;
    let eve = log.user("e-eve").await;
    let stranger = log.user("e-stranger").await;

    // Projects and members.
    let p = log.project(&owner, "Events").await;
    let orphan = NewProject::named(ProjectName::parse("Nobody's").unwrap());
    let ghost = one(store.create_project(UserId(MISSING), &orphan)).await;
    assert!(matches!(ghost, Err(StoreError::NotFound)), "{ghost:?}");
    log.nothing("a project of no user").await;
    let early = one(store.add_memo(p, owner.id, day(1), &memo_text("before anyone"), CAP))
        .await
        .unwrap()
        .expect("under the cap");
    log.recorded(&early.event, MemoCreated, p, early.value.id.0, &owner, None).await;
    assert_eq!(early.event.created, early.value.created, "the memo's time");
    tick().await;

    let added = one(store.add_member(p, &user_ref(&ann), Role::Editor, owner.id)).await;
    let m_ann = added.unwrap().expect("the owner adds");
    log.recorded(&m_ann.event, MemberAdded, p, m_ann.value.id.0, &owner, Some(&ann)).await;
    assert_eq!(m_ann.event.created, m_ann.value.created, "the membership's time");
    let ann_joined = m_ann.event.clone();
    let added = one(store.add_member(p, &user_ref(&bob), Role::Viewer, owner.id)).await;
    let m_bob = added.unwrap().expect("the owner adds");
    log.recorded(&m_bob.event, MemberAdded, p, m_bob.value.id.0, &owner, Some(&bob)).await;

    let refused = one(store.add_member(p, &user_ref(&stranger), Role::Viewer, ann.id)).await;
    assert!(matches!(refused, Ok(None)), "an editor may not add: {refused:?}");
    log.nothing("a refused add_member").await;
    let again = one(store.add_member(p, &user_ref(&bob), Role::Editor, owner.id)).await;
    assert!(matches!(again, Err(StoreError::Conflict { .. })), "a member already: {again:?}");
    log.nothing("a duplicate add_member").await;
    let nowhere = ProjectId(MISSING);
    let ghost = one(store.add_member(nowhere, &user_ref(&carl), Role::Viewer, owner.id)).await;
    assert!(matches!(ghost, Ok(None)), "{ghost:?}");
    log.nothing("add_member to no project").await;

    let rename = ProjectPatch {
        name: Some(ProjectName::parse("Events renamed").unwrap()),
        ..ProjectPatch::default()
    };
    let patched = one(store.update_project(p, &rename, owner.id)).await.unwrap().expect("owner");
    log.recorded(&patched, ProjectUpdated, p, p.0, &owner, None).await;
    assert_eq!(patched.created, detail(store, p).await.core.updated, "the patch's time");
    assert_eq!(one(store.update_project(p, &rename, bob.id)).await.unwrap(), None);
    log.nothing("a viewer's project patch").await;
    assert_eq!(
        one(store.update_project(ProjectId(MISSING), &rename, owner.id)).await.unwrap(),
        None
    );
    log.nothing("a patch of no project").await;

    let phase = one(store.set_phase(p, Phase::Filming, dates(1, 3), ann.id)).await.unwrap();
    let phase = phase.expect("an editor sets a phase");
    log.recorded(&phase, PhaseUpdated, p, p.0, &ann, None).await;
    assert_eq!(phase.created, detail(store, p).await.core.updated, "the phase's time");
    let refused = one(store.set_phase(p, Phase::Filming, dates(2, 4), bob.id)).await.unwrap();
    assert_eq!(refused, None, "a viewer may not set a phase");
    log.nothing("a viewer's phase change").await;
    let refused = one(store.set_phase(p, Phase::Filming, dates(2, 4), stranger.id)).await.unwrap();
    assert_eq!(refused, None);
    log.nothing("a stranger's phase change").await;

    let promoted = one(store.set_member_role(p, m_ann.value.id, Role::Manager, owner.id)).await;
    let promoted = promoted.unwrap().expect("the owner promotes");
    assert_eq!(promoted.value.role, Role::Manager);
    log.recorded(&promoted.event, MemberUpdated, p, m_ann.value.id.0, &owner, Some(&ann)).await;
    let refused = one(store.set_member_role(p, m_bob.value.id, Role::Manager, ann.id)).await;
    assert_eq!(refused.unwrap(), None, "only the owner promotes");
    log.nothing("a refused role change").await;
    let missing = one(store.set_member_role(p, MemberId(MISSING), Role::Viewer, owner.id)).await;
    assert_eq!(missing.unwrap(), None);
    log.nothing("a role change of no member").await;

    let added = one(store.add_member(p, &user_ref(&eve), Role::Viewer, ann.id)).await;
    let m_eve = added.unwrap().expect("a manager adds a viewer");
    log.recorded(&m_eve.event, MemberAdded, p, m_eve.value.id.0, &ann, Some(&eve)).await;

    // Comments and messages.
    let c1 = one(store.add_comment(p, bob.id, &plain("top", Some(1.0)))).await.unwrap();
    let c1 = c1.expect("bob takes part");
    log.recorded(&c1.event, CommentCreated, p, c1.value.id.0, &bob, None).await;
    assert_eq!(c1.event.created, c1.value.created, "the comment's time");
    let mut reply = plain("a reply", None);
    reply.parent = Some(c1.value.id);
    let r1 = one(store.add_comment(p, ann.id, &reply)).await.unwrap().expect("a reply");
    log.recorded(&r1.event, CommentCreated, p, r1.value.id.0, &ann, None).await;
    let refused = one(store.add_comment(p, stranger.id, &plain("x", None))).await.unwrap();
    assert_eq!(refused, None);
    log.nothing("a stranger's comment").await;
    let ghost = one(store.add_comment(ProjectId(MISSING), owner.id, &plain("x", None))).await;
    assert_eq!(ghost.unwrap(), None);
    log.nothing("a comment on no project").await;

    let resolve = CommentPatch { text: None, resolved: Some(true) };
    let resolved = one(store.update_comment(p, c1.value.id, &resolve, ann.id)).await.unwrap();
    let resolved = resolved.expect("a comment");
    log.recorded(&resolved.event, CommentUpdated, p, c1.value.id.0, &ann, None).await;
    assert_eq!(Some(resolved.event.created), resolved.value.resolved_at, "the resolution's time");
    let edit = CommentPatch { text: Some(text("top, edited")), resolved: None };
    let edited = one(store.update_comment(p, c1.value.id, &edit, bob.id)).await.unwrap();
    let edited = edited.expect("a comment");
    log.recorded(&edited.event, CommentUpdated, p, c1.value.id.0, &bob, None).await;
    assert_eq!(Some(edited.event.created), edited.value.edited, "the edit's time");
    let missing = one(store.update_comment(p, CommentId(MISSING), &edit, bob.id)).await.unwrap();
    assert_eq!(missing, None);
    log.nothing("an edit of no comment").await;

    let hello = one(store.add_message(p, ann.id, &text("hello"))).await.unwrap();
    let hello = hello.expect("ann takes part");
    log.recorded(&hello.event, MessageCreated, p, hello.value.id.0, &ann, None).await;
    assert_eq!(hello.event.created, hello.value.created, "the message's time");
    let refused = one(store.add_message(p, stranger.id, &text("x"))).await.unwrap();
    assert_eq!(refused, None);
    log.nothing("a stranger's message").await;

    // One event for the comment named; its reply goes silently.
    let deleted = one(store.delete_comment(p, c1.value.id, ann.id)).await.unwrap();
    log.recorded(&deleted.expect("a comment"), CommentDeleted, p, c1.value.id.0, &ann, None).await;
    assert_eq!(one(store.comment_author(p, r1.value.id)).await.unwrap(), None, "the reply went");
    assert_eq!(one(store.delete_comment(p, c1.value.id, ann.id)).await.unwrap(), None);
    log.nothing("a delete of a deleted comment").await;
    assert_eq!(one(store.delete_comment(p, r1.value.id, ann.id)).await.unwrap(), None);
    log.nothing("a delete of a reply gone with its comment").await;

    // Memos.
    let memo = one(store.add_memo(p, bob.id, day(2), &memo_text("a memo"), CAP)).await.unwrap();
    let memo = memo.expect("under the cap");
    log.recorded(&memo.event, MemoCreated, p, memo.value.id.0, &bob, None).await;
    let full = one(store.add_memo(p, bob.id, day(3), &memo_text("one too many"), 2)).await;
    assert_eq!(full.unwrap(), None, "at the cap");
    log.nothing("a memo over the cap").await;
    let ghost = one(store.add_memo(ProjectId(MISSING), bob.id, day(3), &memo_text("x"), CAP)).await;
    assert!(matches!(ghost, Err(StoreError::NotFound)), "{ghost:?}");
    log.nothing("a memo on no project").await;
    let deleted = one(store.delete_memo(p, memo.value.id, ann.id)).await.unwrap();
    log.recorded(&deleted.expect("a memo"), MemoDeleted, p, memo.value.id.0, &ann, None).await;
    assert_eq!(one(store.delete_memo(p, memo.value.id, ann.id)).await.unwrap(), None);
    log.nothing("a delete of a deleted memo").await;
    assert_eq!(one(store.delete_memo(p, MemoId(MISSING), ann.id)).await.unwrap(), None);
    log.nothing("a delete of no memo").await;

    // Files.
    let doc = upload("brief.pdf", "application/pdf");
    let file = one(store.add_file(p, &doc, CAP, ann.id)).await.unwrap().expect("under the cap");
    log.recorded(&file.event, FileCreated, p, file.value.id.0, &ann, None).await;
    assert_eq!(file.event.created, file.value.created, "the file's time");
    let full = one(store.add_file(p, &upload("more.pdf", "application/pdf"), 1, ann.id)).await;
    assert_eq!(full.unwrap(), None, "at the cap");
    log.nothing("a file over the cap").await;
    let ghost = one(store.add_file(ProjectId(MISSING), &doc, CAP, ann.id)).await;
    assert!(matches!(ghost, Err(StoreError::NotFound)), "{ghost:?}");
    log.nothing("a file on no project").await;
    let gone = one(store.delete_file(p, file.value.id, owner.id)).await.unwrap().expect("a file");
    assert_eq!(gone.value, doc.storage_key);
    log.recorded(&gone.event, FileDeleted, p, file.value.id.0, &owner, None).await;
    assert_eq!(one(store.delete_file(p, file.value.id, owner.id)).await.unwrap(), None);
    log.nothing("a delete of a deleted file").await;

    // Versions and reviews.
    let v1 = cut(store, p, &ann, "cut 1.mp4").await;
    log.recorded(&v1.event, VersionCreated, p, v1.value.id.0, &ann, None).await;
    assert_eq!(v1.event.created, v1.value.created, "the version's time");
    let stray = upload("stray.mp4", "video/mp4");
    let nothing = NewVersion::default();
    let ghost = one(store.add_version(ProjectId(MISSING), ann.id, &stray, &nothing)).await;
    assert!(matches!(ghost, Err(StoreError::NotFound)), "{ghost:?}");
    log.nothing("a version of no project").await;
    let patch = VersionPatch {
        label: Some(VersionLabel::parse("rough").unwrap()),
        ..VersionPatch::default()
    };
    let updated = one(store.update_version(p, v1.value.id, &patch, owner.id)).await.unwrap();
    let updated = updated.expect("a version");
    assert_eq!(updated.value.label.as_deref(), Some("rough"));
    log.recorded(&updated.event, VersionUpdated, p, v1.value.id.0, &owner, None).await;
    let missing = one(store.update_version(p, VersionId(MISSING), &patch, owner.id)).await;
    assert_eq!(missing.unwrap(), None);
    log.nothing("an edit of no version").await;
    let approve = NewReview { status: ReviewStatus::Approved, note: None };
    let reviewed = one(store.put_review(p, v1.value.id, bob.id, &approve)).await.unwrap();
    let reviewed = reviewed.expect("a version");
    log.recorded(&reviewed, ReviewUpdated, p, v1.value.id.0, &bob, None).await;
    let v = one(store.version(p, v1.value.id)).await.unwrap().unwrap().version.unwrap();
    assert_eq!(reviewed.created, v.approval.reviews[0].updated, "the review's time");
    let missing = one(store.put_review(p, VersionId(MISSING), bob.id, &approve)).await;
    assert_eq!(missing.unwrap(), None);
    log.nothing("a review of no version").await;

    let v2 = cut(store, p, &owner, "cut 2.mp4").await;
    log.recorded(&v2.event, VersionCreated, p, v2.value.id.0, &owner, None).await;
    let mut on_v2 = plain("on the second cut", Some(2.0));
    on_v2.version = Some(v2.value.id);
    let c2 = one(store.add_comment(p, ann.id, &on_v2)).await.unwrap().expect("posted");
    log.recorded(&c2.event, CommentCreated, p, c2.value.id.0, &ann, None).await;
    let reviewed = one(store.put_review(p, v2.value.id, bob.id, &approve)).await.unwrap();
    log.recorded(&reviewed.expect("a version"), ReviewUpdated, p, v2.value.id.0, &bob, None).await;
    let v3 = cut(store, p, &owner, "cut 3.mp4").await;
    log.recorded(&v3.event, VersionCreated, p, v3.value.id.0, &owner, None).await;
    // One event for the version; its comment, review and video go silently.
    let gone = one(store.delete_version(p, v2.value.id, ann.id)).await.unwrap().expect("deleted");
    log.recorded(&gone.event, VersionDeleted, p, v2.value.id.0, &ann, None).await;
    assert_eq!(one(store.delete_version(p, v2.value.id, ann.id)).await.unwrap(), None);
    log.nothing("a delete of a deleted version").await;
    // A version's video goes with its version: version.deleted, its object the version.
    let video = v3.value.file.id;
    let gone = one(store.delete_file(p, video, ann.id)).await.unwrap().expect("the video");
    log.recorded(&gone.event, VersionDeleted, p, v3.value.id.0, &ann, None).await;
    assert_eq!(one(store.delete_file(p, video, ann.id)).await.unwrap(), None);
    log.nothing("a delete of a deleted video").await;

    // Leaving, being removed, coming back.
    let left = one(store.remove_member(p, m_bob.value.id, bob.id)).await.unwrap();
    let left = left.expect("a member may leave");
    assert_eq!(left.value, bob.id);
    log.recorded(&left.event, MemberRemoved, p, m_bob.value.id.0, &bob, Some(&bob)).await;
    assert_eq!(one(store.remove_member(p, m_bob.value.id, owner.id)).await.unwrap(), None);
    log.nothing("a removal of a removed member").await;
    assert_eq!(one(store.remove_member(p, m_ann.value.id, stranger.id)).await.unwrap(), None);
    log.nothing("a stranger's removal").await;
    assert_eq!(one(store.remove_member(p, m_ann.value.id, eve.id)).await.unwrap(), None);
    log.nothing("a viewer's removal of a manager").await;
    let after_bob = one(store.add_message(p, owner.id, &text("bob left"))).await.unwrap();
    let after_bob = after_bob.expect("the owner takes part");
    log.recorded(&after_bob.event, MessageCreated, p, after_bob.value.id.0, &owner, None).await;

    let eve_left = one(store.remove_member(p, m_eve.value.id, owner.id)).await.unwrap();
    let eve_left = eve_left.expect("the owner removes");
    assert_eq!(eve_left.value, eve.id);
    log.recorded(&eve_left.event, MemberRemoved, p, m_eve.value.id.0, &owner, Some(&eve)).await;
    let away = one(store.add_memo(p, owner.id, day(4), &memo_text("eve is away"), CAP)).await;
    let away = away.unwrap().expect("under the cap");
    log.recorded(&away.event, MemoCreated, p, away.value.id.0, &owner, None).await;
    tick().await;
    let back = one(store.add_member(p, &user_ref(&eve), Role::Editor, owner.id)).await;
    let m_eve2 = back.unwrap().expect("the owner adds");
    assert!(m_eve2.value.id > m_eve.value.id, "a new membership");
    log.recorded(&m_eve2.event, MemberAdded, p, m_eve2.value.id.0, &owner, Some(&eve)).await;
    let eve_joined = m_eve2.event.clone();
    let welcome = one(store.add_message(p, ann.id, &text("welcome back"))).await.unwrap();
    let welcome = welcome.expect("ann takes part");
    log.recorded(&welcome.event, MessageCreated, p, welcome.value.id.0, &ann, None).await;

    // A project deleted: its last event, kept for who took part in it then.
    let r = log.project(&owner, "Doomed").await;
    let added = one(store.add_member(r, &user_ref(&ann), Role::Viewer, owner.id)).await;
    let r_ann = added.unwrap().expect("the owner adds");
    log.recorded(&r_ann.event, MemberAdded, r, r_ann.value.id.0, &owner, Some(&ann)).await;
    let added = one(store.add_member(r, &user_ref(&carl), Role::Editor, owner.id)).await;
    let r_carl = added.unwrap().expect("the owner adds");
    log.recorded(&r_carl.event, MemberAdded, r, r_carl.value.id.0, &owner, Some(&carl)).await;
    let note = one(store.add_memo(r, carl.id, day(5), &memo_text("doomed"), CAP)).await;
    let note = note.unwrap().expect("under the cap");
    log.recorded(&note.event, MemoCreated, r, note.value.id.0, &carl, None).await;
    let carl_left = one(store.remove_member(r, r_carl.value.id, owner.id)).await.unwrap();
    let carl_left = carl_left.expect("the owner removes");
    log.recorded(&carl_left.event, MemberRemoved, r, r_carl.value.id.0, &owner, Some(&carl)).await;
    let deleted = delete_project(store, r, owner.id).await.expect("it existed");
    assert_eq!(deleted.value, Vec::<String>::new(), "no files");
    log.recorded(&deleted.event, ProjectDeleted, r, r.0, &owner, None).await;
    assert_eq!(delete_project(store, r, owner.id).await, None, "already gone");
    log.nothing("a delete of a deleted project").await;

    let q = log.project(&ann, "Ann's own").await;
    let q_created = log.last().clone();

    // Where each user's stream starts, and what it replays.
    let events = log.events.clone();
    let horizon = stream(store, &owner, None, 1).await.horizon;
    assert!((0..log.first().id).contains(&horizon), "{horizon} is below the log's new events");
    let p_created = &events[0];
    let expected = replay(&events, &owner, &[p_created], &[r]);
    check_stream(store, &owner, vec![p], horizon, &expected).await;

    let expected = replay(&events, &ann, &[&ann_joined, &q_created], &[r]);
    assert!(!expected.contains(p_created) && !expected.contains(&early.event), "before joining");
    assert!(expected.contains(&r_ann.event) && !expected.contains(&note.event), "of R, her own");
    assert_eq!(expected.last(), Some(&q_created));
    check_stream(store, &ann, vec![p, q], horizon, &expected).await;

    // Who left sees their membership's two ends and nothing more of the project.
    let expected = vec![m_bob.event.clone(), left.event.clone()];
    assert_eq!(replay(&events, &bob, &[], &[]), expected);
    check_stream(store, &bob, vec![], horizon, &expected).await;
    // Nor the deletion of a project left before it went.
    let expected = vec![r_carl.event.clone(), carl_left.event.clone()];
    assert_eq!(replay(&events, &carl, &[], &[]), expected);
    check_stream(store, &carl, vec![], horizon, &expected).await;
    // Back in: from the new membership on, nothing from the time away.
    let expected = replay(&events, &eve, &[&eve_joined], &[]);
    let ends = [m_eve.event.clone(), eve_left.event.clone()];
    assert_eq!(expected[..2], ends, "the first membership's two ends");
    assert!(!expected.contains(&away.event) && !expected.contains(&after_bob.event));
    assert_eq!(expected[2..], [m_eve2.event.clone(), welcome.event.clone()]);
    check_stream(store, &eve, vec![p], horizon, &expected).await;
    check_stream(store, &stranger, vec![], horizon, &[]).await;

    // Every project's events after an id, oldest first, a deleted project's too.
    let mut seen: Vec<Event> = Vec::new();
    let mut after = log.first().id - 1;
    while after < log.last().id {
        let batch = one(store.events_after(after, 4)).await.expect("events_after");
        assert!(!batch.is_empty() && batch.len() <= 4, "{} events after {after}", batch.len());
        assert!(batch.iter().all(|e| e.id > after), "only after {after}");
        assert!(batch.windows(2).all(|w| w[0].id < w[1].id), "oldest first");
        after = batch.last().unwrap().id;
        seen.extend(batch.into_iter().filter(|e| log.ours(e)));
    }
    assert_eq!(seen, log.events, "every event, once, in order");
    assert!(log.after(log.last().id).await.is_empty());

    // A project's activity, newest first.
    check_activity(store, p, &log.of(p)).await;
    check_activity(store, q, &log.of(q)).await;
    assert_eq!(one(store.activity_page(r, page(10, None))).await.unwrap(), None, "deleted");
    assert_eq!(one(store.activity_page(ProjectId(MISSING), page(10, None))).await.unwrap(), None);

    // Pruning removes what is older than the cut and moves the horizon to it.
    let before = log.events.clone();
    let cut = log.last().created + Duration::microseconds(1);
    tick().await;
    let kept = one(store.add_message(p, owner.id, &text("after the cut"))).await.unwrap();
    let kept = kept.expect("the owner takes part");
    log.recorded(&kept.event, MessageCreated, p, kept.value.id.0, &owner, None).await;
    let also = one(store.add_memo(q, ann.id, day(6), &memo_text("after the cut"), CAP)).await;
    let also = also.unwrap().expect("under the cap");
    log.recorded(&also.event, MemoCreated, q, also.value.id.0, &ann, None).await;
    assert!(kept.event.created >= cut, "the clock moved on");

    let pruned = one(store.prune_events(cut)).await.expect("prune_events");
    assert!(pruned >= before.len() as u64, "{pruned} pruned, {} of them ours", before.len());
    let moved = stream(store, &owner, None, 1).await.horizon;
    let last_pruned = before.last().unwrap().id;
    assert!(moved >= last_pruned && moved < kept.event.id, "horizon {moved}");
    assert_eq!(log.after(log.first().id - 1).await, [kept.event.clone(), also.event.clone()]);
    let ann_now = stream(store, &ann, Some(0), LOTS).await;
    assert_eq!(ann_now.horizon, moved);
    assert_eq!(ann_now.events, [kept.event.clone(), also.event.clone()]);
    assert_eq!(stream(store, &owner, Some(0), LOTS).await.events, vec![kept.event.clone()]);
    let activity = one(store.activity_page(p, page(LOTS, None))).await.unwrap().unwrap();
    assert_eq!(activity.items, vec![kept.event.clone()]);

    // Nothing older left: nothing pruned, the horizon stays; it never moves back.
    assert_eq!(one(store.prune_events(cut)).await.unwrap(), 0);
    assert_eq!(stream(store, &ann, None, 1).await.horizon, moved);
    let long_ago = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap();
    assert_eq!(one(store.prune_events(long_ago)).await.unwrap(), 0);
    assert_eq!(stream(store, &ann, None, 1).await.horizon, moved);
    check_activity(store, q, std::slice::from_ref(&also.event)).await;

    // The newest id given: at least the last this section saw (other sections may write on),
    // and never below the horizon, whatever was pruned.
    let newest = one(store.newest_event_id()).await.unwrap();
    assert!(newest >= also.event.id && newest >= moved, "newest {newest}");
    let after_all = log.last().created + Duration::seconds(1);
    one(store.prune_events(after_all)).await.unwrap();
    let horizon = stream(store, &ann, None, 1).await.horizon;
    assert!(horizon >= also.event.id, "everything up to the last event is pruned");
    assert!(
        one(store.newest_event_id()).await.unwrap() >= horizon,
        "the horizon's, when none left"
    );
}
