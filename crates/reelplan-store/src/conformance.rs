//! The backend conformance suite (cargo feature `conformance`): what every [`Store`]
//! implementation must do, checked through the trait alone so that each backend's tests run the
//! very same assertions.
//!
//! Every call goes through [`one`], which asserts that it ran exactly one SQL statement. The
//! suite only looks at data it created itself (fresh users with unique emails), so it may run on
//! a database that already holds other rows, and its sections may run in any order.
//!
//! ```text
//! let store = open_a_fresh_database().await;
//! store.migrate().await.unwrap();
//! reelplan_store::conformance::run_all(&store).await;
//! ```

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{Duration, TimeZone, Utc};
use reelplan_domain::{
    CommentId, Cursor, FileId, MemberId, MemoId, Phase, PhaseDates, ProjectId, Role, Timestamp,
    UserId,
};

use crate::stats::RequestStats;
use crate::{
    Comment, Member, MemberAccess, Memo, Message, NewProject, PageRequest, ProjectAccess,
    ProjectDetail, ProjectFilter, ProjectPatch, ProjectSummary, Store, StoreError, User, UserRef,
};
use crate::{FileMeta, NewFile};

/// Runs every section of the suite on `store`, which must already be migrated.
pub async fn run_all(store: &dyn Store) {
    basics(store).await;
    users(store).await;
    projects(store).await;
    phases(store).await;
    project_list(store).await;
    list_filters(store).await;
    members(store).await;
    feedback(store).await;
    memos(store).await;
    files(store).await;
    cascade(store).await;
    footprint(store).await;
}

// ---------------------------------------------------------------------------------------------
// Helpers

/// Awaits `statement` and asserts that it ran exactly one SQL statement.
pub async fn one<F: Future>(statement: F) -> F::Output {
    statements(1, statement).await
}

/// Awaits `call` and asserts that it ran exactly `count` SQL statements.
async fn statements<F: Future>(count: u32, call: F) -> F::Output {
    let stats = RequestStats::default();
    let output = stats.scope(call).await;
    let log = stats.snapshot();
    assert_eq!(log.count, count, "a Store method's statements: {:?}", log.shapes);
    output
}

/// Deletes a project, asserting its statement count: one on PostgreSQL (a CTE), two in one
/// transaction on SQLite, whose `RETURNING` cannot see the file rows a cascade removes.
async fn delete_project(store: &dyn Store, id: ProjectId) -> Option<Vec<String>> {
    let count = if store.backend() == "sqlite" { 2 } else { 1 };
    statements(count, store.delete_project(id)).await.unwrap()
}

/// A suffix no other run of the suite uses.
fn unique() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{}.{nanos}.{n}", std::process::id())
}

/// Day `n` of a fixed month, with a sub-second part to prove microseconds survive.
fn day(n: i64) -> Timestamp {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap()
        + Duration::days(n)
        + Duration::microseconds(123_456)
}

fn dates(start: i64, end: i64) -> PhaseDates {
    PhaseDates { start_date: Some(day(start)), end_date: Some(day(end)) }
}

fn page(limit: u32, after: Option<Cursor>) -> PageRequest {
    PageRequest { limit, after }
}

/// A per-project cap of memos or files no test here reaches.
const CAP: u32 = 1000;

/// An id no row has.
const MISSING: i64 = i64::MAX - 7;

fn assert_recent(time: Timestamp, what: &str) {
    let off = (Utc::now() - time).num_seconds().abs();
    assert!(off < 300, "{what} = {time} is not close to now");
    assert_eq!(time.timestamp_subsec_nanos() % 1_000, 0, "{what} has sub-microsecond digits");
}

fn user_ref(user: &User) -> UserRef {
    UserRef { id: user.id, email: user.email.clone(), nickname: user.nickname.clone() }
}

fn sorted<T: Ord>(mut items: Vec<T>) -> Vec<T> {
    items.sort();
    items
}

/// The access list with members in id order, for comparisons that ignore the order.
fn normalized(mut access: ProjectAccess) -> ProjectAccess {
    access.members.sort_by_key(|m| m.member_id);
    access
}

async fn new_user(store: &dyn Store, label: &str) -> User {
    let email = format!("{label}.{}@example.com", unique());
    one(store.create_user(&email, label, "$argon2id$fake")).await.expect("create_user")
}

async fn new_project(store: &dyn Store, owner: &User, name: &str) -> ProjectId {
    let project = NewProject { name: name.to_owned(), ..NewProject::default() };
    one(store.create_project(owner.id, &project)).await.expect("create_project")
}

async fn detail(store: &dyn Store, id: ProjectId) -> ProjectDetail {
    one(store.project_detail(id)).await.expect("project_detail").expect("the project exists")
}

/// Adds `user` to `project` on behalf of its owner.
async fn add_member(store: &dyn Store, project: ProjectId, user: &User, role: Role) -> Member {
    let owner = one(store.access(project)).await.expect("access").expect("a project").owner_id;
    let added = one(store.add_member(project, &user_ref(user), role, owner)).await;
    added.expect("add_member").expect("the owner may add anyone")
}

async fn list_all(store: &dyn Store, viewer: &User, filter: &ProjectFilter) -> Vec<ProjectSummary> {
    one(store.list_projects(viewer.id, filter, page(100, None))).await.expect("list_projects")
}

fn ids(list: &[ProjectSummary]) -> Vec<ProjectId> {
    list.iter().map(|p| p.core.id).collect()
}

fn cursor_of(created: Timestamp, id: i64) -> Option<Cursor> {
    Some(Cursor { created, id })
}

// ---------------------------------------------------------------------------------------------
// Sections

/// `backend`, `ping`, `migrate` (idempotent) and `pool_status`.
pub async fn basics(store: &dyn Store) {
    assert!(["postgres", "sqlite"].contains(&store.backend()), "{}", store.backend());
    one(store.ping()).await.expect("ping");
    store.migrate().await.expect("migrating twice is harmless");
    let pool = store.pool_status();
    assert!(pool.max >= 1, "{pool:?}");
    assert!(pool.size <= pool.max && pool.idle <= pool.size, "{pool:?}");
}

/// Signup, duplicate email, credentials, profile, nickname.
pub async fn users(store: &dyn Store) {
    let email = format!("ann.{}@example.com", unique());
    let ann = one(store.create_user(&email, "Ann", "hash-1")).await.expect("create_user");
    assert_eq!((ann.email.as_str(), ann.nickname.as_str()), (email.as_str(), "Ann"));
    assert_recent(ann.created, "user.created");

    let again = one(store.create_user(&email, "Other Ann", "hash-2")).await;
    assert!(matches!(again, Err(StoreError::Conflict { .. })), "duplicate email: {again:?}");

    let credentials = one(store.credentials(&email)).await.unwrap().expect("credentials");
    assert_eq!(credentials.user, ann);
    assert_eq!(credentials.password_hash, "hash-1");
    let nobody = format!("nobody.{}@example.com", unique());
    assert!(one(store.credentials(&nobody)).await.unwrap().is_none());

    assert_eq!(one(store.user(ann.id)).await.unwrap(), Some(ann.clone()));
    assert_eq!(one(store.user(UserId(MISSING))).await.unwrap(), None);

    let renamed = one(store.set_nickname(ann.id, "Annie")).await.unwrap().expect("renamed");
    assert_eq!(renamed, User { nickname: "Annie".into(), ..ann.clone() });
    assert_eq!(one(store.user(ann.id)).await.unwrap(), Some(renamed));
    assert_eq!(one(store.set_nickname(UserId(MISSING), "Ghost")).await.unwrap(), None);
}

/// Create, read back, patch and the empty parts of a fresh detail.
pub async fn projects(store: &dyn Store) {
    let owner = new_user(store, "owner").await;
    let name = "\"Quoted\" 'single' \\ back\\slash — 日本語 🎬";
    let new = NewProject {
        name: name.into(),
        manager: "Mia Manager".into(),
        consumer: "ACME\nCorp".into(),
        description: "{\"not\": \"json\"} <b>".into(),
        color: None,
        phases: [PhaseDates::default(); 8],
    };
    let id = one(store.create_project(owner.id, &new)).await.expect("create_project");
    let d = detail(store, id).await;
    assert_eq!(d.core.id, id);
    assert_eq!(d.core.name, name);
    assert_eq!(d.core.manager, "Mia Manager");
    assert_eq!(d.core.consumer, "ACME\nCorp");
    assert_eq!(d.core.description, "{\"not\": \"json\"} <b>");
    assert_eq!(d.core.color, None);
    assert_eq!(d.core.owner, user_ref(&owner));
    assert_eq!(d.core.member_count, 0);
    assert_eq!(d.core.phases.0, [PhaseDates::default(); 8]);
    assert_eq!((d.core.earliest_start_date, d.core.latest_end_date), (None, None));
    assert_recent(d.core.created, "project.created");
    assert_eq!(d.core.updated, d.core.created);
    assert!(d.members.is_empty() && d.memos.is_empty() && d.files.is_empty());
    assert_eq!(d.feedback.video, None);
    assert_eq!((d.feedback.comment_count, d.feedback.message_count), (0, 0));
    assert!(d.feedback.recent_messages.is_empty());
    assert_eq!(d.access(), ProjectAccess { owner_id: owner.id, members: vec![] });

    let ghost = one(store.create_project(UserId(MISSING), &new)).await;
    assert!(matches!(ghost, Err(StoreError::NotFound)), "unknown owner: {ghost:?}");
    assert_eq!(one(store.project_detail(ProjectId(MISSING))).await.unwrap(), None);

    // A patch changes only what it names.
    let patch = ProjectPatch { name: Some("Renamed".into()), ..ProjectPatch::default() };
    assert!(one(store.update_project(id, &patch, owner.id)).await.unwrap());
    let after = detail(store, id).await;
    assert_eq!(after.core.name, "Renamed");
    assert_eq!(after.core.manager, "Mia Manager");
    assert_eq!(after.core.consumer, "ACME\nCorp");
    assert_eq!(after.core.description, d.core.description);
    assert_eq!(after.core.created, d.core.created);
    assert!(after.core.updated >= d.core.updated);

    let patch = ProjectPatch {
        manager: Some(String::new()),
        consumer: Some("Client".into()),
        description: Some(String::new()),
        color: Some(Some("#A0B1C2".into())),
        ..ProjectPatch::default()
    };
    assert!(one(store.update_project(id, &patch, owner.id)).await.unwrap());
    let after = detail(store, id).await;
    assert_eq!(after.core.name, "Renamed");
    assert_eq!((after.core.manager.as_str(), after.core.consumer.as_str()), ("", "Client"));
    assert_eq!(after.core.description, "");
    assert_eq!(after.core.color.as_deref(), Some("#A0B1C2"));

    let keep = ProjectPatch { name: Some("Kept color".into()), ..ProjectPatch::default() };
    assert!(one(store.update_project(id, &keep, owner.id)).await.unwrap());
    assert_eq!(detail(store, id).await.core.color.as_deref(), Some("#A0B1C2"));
    let clear = ProjectPatch { color: Some(None), ..ProjectPatch::default() };
    assert!(one(store.update_project(id, &clear, owner.id)).await.unwrap());
    let after = detail(store, id).await;
    assert_eq!((after.core.color, after.core.name.as_str()), (None, "Kept color"));

    assert!(!one(store.update_project(ProjectId(MISSING), &keep, owner.id)).await.unwrap());
    let stranger = new_user(store, "stranger").await;
    let refused = one(store.update_project(id, &keep, stranger.id)).await.unwrap();
    assert!(!refused, "only the owner or a manager may patch");
    let refused = one(store.set_phase(id, Phase::Filming, dates(1, 2), stranger.id)).await;
    assert!(!refused.unwrap(), "only the owner, an editor or a manager may set a phase");

    // A project created with a color and phases reads them back.
    let mut phases = [PhaseDates::default(); 8];
    phases[2] = dates(1, 4);
    let colored = NewProject {
        name: "Colored".into(),
        color: Some("#00FF7F".into()),
        phases,
        ..NewProject::default()
    };
    let id = one(store.create_project(owner.id, &colored)).await.unwrap();
    let d = detail(store, id).await;
    assert_eq!(d.core.color.as_deref(), Some("#00FF7F"));
    assert_eq!(d.core.phases.0, phases);
    assert_eq!(d.core.earliest_start_date, Some(day(1)));
    assert_eq!(d.core.latest_end_date, Some(day(4)));
}

/// Each phase's own columns, and the earliest-start / latest-end fallbacks.
pub async fn phases(store: &dyn Store) {
    let owner = new_user(store, "phases").await;

    // Every phase writes its own two columns and nothing else.
    let id = new_project(store, &owner, "One phase at a time").await;
    for phase in Phase::ALL {
        let i = phase.index() as i64;
        let set = dates(10 * i, 10 * i + 3);
        assert!(one(store.set_phase(id, phase, set, owner.id)).await.unwrap(), "{phase:?}");
        let d = detail(store, id).await;
        let mut expected = [PhaseDates::default(); 8];
        expected[phase.index()] = set;
        assert_eq!(d.core.phases.0, expected, "{phase:?}");
        assert_eq!(d.core.earliest_start_date, set.start_date, "{phase:?}");
        assert_eq!(d.core.latest_end_date, set.end_date, "{phase:?}");
        let cleared =
            one(store.set_phase(id, phase, PhaseDates::default(), owner.id)).await.unwrap();
        assert!(cleared, "{phase:?}");
    }
    let d = detail(store, id).await;
    assert_eq!(d.core.phases.0, [PhaseDates::default(); 8]);
    assert_eq!((d.core.earliest_start_date, d.core.latest_end_date), (None, None));

    // The fallbacks follow phase order, not the smallest or largest date.
    let mut phases = [PhaseDates::default(); 8];
    phases[Phase::StoryBoard.index()] = dates(10, 12);
    phases[Phase::Filming.index()] = dates(1, 3);
    phases[Phase::VideoEdit.index()] = dates(15, 20);
    phases[Phase::PostWork.index()] = dates(5, 15);
    let project = NewProject { name: "Fallbacks".into(), phases, ..NewProject::default() };
    let id = one(store.create_project(owner.id, &project)).await.unwrap();
    let d = detail(store, id).await;
    assert_eq!(d.core.phases.0, phases);
    assert_eq!(d.core.earliest_start_date, Some(day(10)), "first start in phase order");
    assert_eq!(d.core.latest_end_date, Some(day(15)), "first end in reverse phase order");

    let before = d.core.updated;
    assert!(one(store.set_phase(id, Phase::BasicPlan, dates(30, 31), owner.id)).await.unwrap());
    let d = detail(store, id).await;
    assert_eq!(d.core.earliest_start_date, Some(day(30)));
    assert_eq!(d.core.latest_end_date, Some(day(15)));
    assert!(d.core.updated >= before);

    assert!(one(store.set_phase(id, Phase::VideoDelivery, dates(0, 2), owner.id)).await.unwrap());
    assert_eq!(detail(store, id).await.core.latest_end_date, Some(day(2)));
    let cleared = PhaseDates::default();
    assert!(one(store.set_phase(id, Phase::VideoDelivery, cleared, owner.id)).await.unwrap());
    assert!(one(store.set_phase(id, Phase::BasicPlan, cleared, owner.id)).await.unwrap());
    let d = detail(store, id).await;
    assert_eq!(d.core.phases.0, phases);
    assert_eq!(d.core.earliest_start_date, Some(day(10)));
    assert_eq!(d.core.latest_end_date, Some(day(15)));

    let missing =
        one(store.set_phase(ProjectId(MISSING), Phase::Filming, dates(1, 2), owner.id)).await;
    assert!(!missing.unwrap());
}

/// Which projects a viewer sees, with which role, in which order, page by page.
pub async fn project_list(store: &dyn Store) {
    let viewer = new_user(store, "viewer").await;
    let other = new_user(store, "other").await;
    let stranger = new_user(store, "stranger").await;

    let mut expected = Vec::new();
    for n in 0..3 {
        expected.push((new_project(store, &viewer, &format!("Own {n}")).await, Role::Owner));
    }
    let shared = new_project(store, &other, "Shared as editor").await;
    add_member(store, shared, &viewer, Role::Editor).await;
    expected.push((shared, Role::Editor));
    let hidden = new_project(store, &other, "Not shared").await;
    add_member(store, hidden, &stranger, Role::Viewer).await;
    for n in 0..3 {
        expected.push((new_project(store, &viewer, &format!("Own later {n}")).await, Role::Owner));
    }
    let viewed = new_project(store, &other, "Shared as viewer").await;
    add_member(store, viewed, &viewer, Role::Viewer).await;
    add_member(store, viewed, &stranger, Role::Manager).await;
    expected.push((viewed, Role::Viewer));

    let all = list_all(store, &viewer, &ProjectFilter::default()).await;
    assert_eq!(sorted(ids(&all)), sorted(expected.iter().map(|(id, _)| *id).collect()));
    assert!(!ids(&all).contains(&hidden));
    for summary in &all {
        let role = expected.iter().find(|(id, _)| *id == summary.core.id).map(|(_, r)| *r);
        assert_eq!(Some(summary.my_role), role, "my_role of {}", summary.core.id);
        // The summary carries the same fields as the detail.
        assert_eq!(summary.core, detail(store, summary.core.id).await.core);
    }
    for pair in all.windows(2) {
        let (a, b) = (&pair[0].core, &pair[1].core);
        assert!((a.created, a.id) > (b.created, b.id), "newest first, then id descending");
    }

    // Keyset pages: no gaps, no duplicates, an empty page after the last.
    for limit in [1, 2, 3] {
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let rows =
                one(store.list_projects(viewer.id, &ProjectFilter::default(), page(limit, after)))
                    .await
                    .unwrap();
            assert!(rows.len() <= limit as usize);
            let Some(last) = rows.last() else { break };
            after = cursor_of(last.core.created, last.core.id.0);
            seen.extend(rows);
        }
        assert_eq!(ids(&seen), ids(&all), "pages of {limit}");
    }

    // A cursor taken from any row resumes right after it.
    let third = &all[2].core;
    let rest = one(store.list_projects(
        viewer.id,
        &ProjectFilter::default(),
        page(100, cursor_of(third.created, third.id.0)),
    ))
    .await
    .unwrap();
    assert_eq!(ids(&rest), ids(&all[3..]));

    let stranger_sees = list_all(store, &stranger, &ProjectFilter::default()).await;
    assert_eq!(sorted(ids(&stranger_sees)), sorted(vec![hidden, viewed]));
    let manager_row = stranger_sees.iter().find(|p| p.core.id == viewed).unwrap();
    assert_eq!(manager_row.my_role, Role::Manager);
    assert_eq!(manager_row.core.member_count, 2);

    let nobody = new_user(store, "nobody").await;
    assert!(list_all(store, &nobody, &ProjectFilter::default()).await.is_empty());
}

/// `q` (literal, case-insensitive substring) and the active window filters.
pub async fn list_filters(store: &dyn Store) {
    let viewer = new_user(store, "filters").await;
    let percent = new_project(store, &viewer, "Alpha 100% Cut").await;
    let underscore = new_project(store, &viewer, "alpha_beta").await;
    let upper = new_project(store, &viewer, "ALPHAbet soup").await;
    let gamma = new_project(store, &viewer, "Gamma").await;

    let q = |text: &str| ProjectFilter { q: Some(text.into()), ..ProjectFilter::default() };
    let found = |list: Vec<ProjectSummary>| sorted(ids(&list));
    assert_eq!(
        found(list_all(store, &viewer, &q("alpha")).await),
        sorted(vec![percent, underscore, upper])
    );
    assert_eq!(found(list_all(store, &viewer, &q("ALPHA_")).await), vec![underscore]);
    assert_eq!(found(list_all(store, &viewer, &q("%")).await), vec![percent]);
    assert_eq!(found(list_all(store, &viewer, &q("_")).await), vec![underscore]);
    assert!(found(list_all(store, &viewer, &q("100_")).await).is_empty(), "_ is literal");
    assert!(found(list_all(store, &viewer, &q("a%c")).await).is_empty(), "% is literal");
    assert_eq!(found(list_all(store, &viewer, &q("amm")).await), vec![gamma]);
    assert!(found(list_all(store, &viewer, &q("zeta")).await).is_empty());

    // Windows: A spans days 1-10, C spans 5-6, B has no dates at all.
    let mut a_phases = [PhaseDates::default(); 8];
    a_phases[0] = dates(1, 2);
    a_phases[7] = dates(9, 10);
    let mut c_phases = [PhaseDates::default(); 8];
    c_phases[2] = dates(5, 6);
    let a = NewProject { name: "Window A".into(), phases: a_phases, ..NewProject::default() };
    let c = NewProject { name: "Window C".into(), phases: c_phases, ..NewProject::default() };
    let a = one(store.create_project(viewer.id, &a)).await.unwrap();
    let b = new_project(store, &viewer, "Window B").await;
    let c = one(store.create_project(viewer.id, &c)).await.unwrap();

    let window = |from: Option<i64>, to: Option<i64>| ProjectFilter {
        q: Some("window".into()),
        active_from: from.map(day),
        active_to: to.map(day),
    };
    let all = sorted(vec![a, b, c]);
    assert_eq!(found(list_all(store, &viewer, &window(None, None)).await), all);
    assert_eq!(found(list_all(store, &viewer, &window(Some(7), None)).await), vec![a]);
    assert_eq!(found(list_all(store, &viewer, &window(Some(6), None)).await), sorted(vec![a, c]));
    assert_eq!(found(list_all(store, &viewer, &window(None, Some(4))).await), vec![a]);
    assert_eq!(found(list_all(store, &viewer, &window(None, Some(5))).await), sorted(vec![a, c]));
    assert_eq!(
        found(list_all(store, &viewer, &window(Some(6), Some(6))).await),
        sorted(vec![a, c])
    );
    assert!(found(list_all(store, &viewer, &window(Some(11), None)).await).is_empty());
    assert!(found(list_all(store, &viewer, &window(None, Some(0))).await).is_empty());

    // The filters combine with paging.
    let filter = window(Some(0), None);
    let first = one(store.list_projects(viewer.id, &filter, page(1, None))).await.unwrap();
    assert_eq!(ids(&first), vec![c]);
    let after = cursor_of(first[0].core.created, c.0);
    let second = one(store.list_projects(viewer.id, &filter, page(5, after))).await.unwrap();
    assert_eq!(ids(&second), vec![a]);
}

/// Adding, changing and removing members; access, invite context and participants.
pub async fn members(store: &dyn Store) {
    let owner = new_user(store, "m-owner").await;
    let ann = new_user(store, "m-ann").await;
    let bob = new_user(store, "m-bob").await;
    let id = new_project(store, &owner, "Team").await;
    let other = new_project(store, &owner, "Other team").await;

    let m_ann = add_member(store, id, &ann, Role::Editor).await;
    assert_eq!(
        (m_ann.user_id, m_ann.email.as_str(), m_ann.nickname.as_str(), m_ann.role),
        (ann.id, ann.email.as_str(), ann.nickname.as_str(), Role::Editor)
    );
    assert_recent(m_ann.created, "member.created");
    assert_eq!(detail(store, id).await.core.member_count, 1);
    let m_bob = add_member(store, id, &bob, Role::Viewer).await;
    assert!(m_bob.id > m_ann.id);
    assert_eq!(detail(store, id).await.core.member_count, 2);

    let again = one(store.add_member(id, &user_ref(&ann), Role::Manager, owner.id)).await;
    assert!(matches!(again, Err(StoreError::Conflict { .. })), "duplicate member: {again:?}");
    let ghost =
        one(store.add_member(ProjectId(MISSING), &user_ref(&ann), Role::Viewer, owner.id)).await;
    assert!(matches!(ghost, Ok(None)), "unknown project: {ghost:?}");
    let eve = new_user(store, "m-eve").await;
    let by_editor = one(store.add_member(id, &user_ref(&eve), Role::Viewer, ann.id)).await;
    assert!(matches!(by_editor, Ok(None)), "an editor may not add: {by_editor:?}");

    let d = detail(store, id).await;
    assert_eq!(d.core.member_count, 2);
    assert_eq!(d.members, vec![m_ann.clone(), m_bob.clone()], "members ordered by id");
    assert_eq!(detail(store, other).await.core.member_count, 0);

    let expected = ProjectAccess {
        owner_id: owner.id,
        members: vec![
            MemberAccess { member_id: m_ann.id, user_id: ann.id, role: Role::Editor },
            MemberAccess { member_id: m_bob.id, user_id: bob.id, role: Role::Viewer },
        ],
    };
    let access = one(store.access(id)).await.unwrap().expect("access");
    assert_eq!(normalized(access), expected);
    assert_eq!(normalized(d.access()), expected);
    assert_eq!(one(store.access(ProjectId(MISSING))).await.unwrap(), None);

    let (access, user) = one(store.invite_context(id, &bob.email)).await.unwrap().expect("ctx");
    assert_eq!((normalized(access), user), (expected.clone(), Some(user_ref(&bob))));
    let nobody = format!("nobody.{}@example.com", unique());
    let (access, user) = one(store.invite_context(id, &nobody)).await.unwrap().expect("ctx");
    assert_eq!((normalized(access), user), (expected.clone(), None));
    assert_eq!(one(store.invite_context(ProjectId(MISSING), &bob.email)).await.unwrap(), None);

    let people = one(store.access(id)).await.unwrap().expect("access").participants();
    assert_eq!(sorted(people), sorted(vec![owner.id, ann.id, bob.id]));

    // Role changes, each checking in its own statement who may make it.
    let stranger = new_user(store, "m-stranger").await;
    let set_role = |member: MemberId, role: Role, by: UserId| async move {
        one(store.set_member_role(id, member, role, by)).await.unwrap().map(|m| m.role)
    };
    assert_eq!(set_role(m_bob.id, Role::Editor, stranger.id).await, None, "not a member");
    assert_eq!(set_role(m_bob.id, Role::Editor, ann.id).await, None, "an editor");
    let changed = one(store.set_member_role(id, m_ann.id, Role::Manager, owner.id)).await.unwrap();
    assert_eq!(changed, Some(Member { role: Role::Manager, ..m_ann.clone() }));
    assert_eq!(set_role(m_bob.id, Role::Editor, ann.id).await, Some(Role::Editor), "a manager");
    assert_eq!(set_role(m_bob.id, Role::Manager, ann.id).await, None, "only the owner promotes");
    assert_eq!(set_role(m_ann.id, Role::Viewer, ann.id).await, None, "nor demotes a manager");
    assert_eq!(set_role(m_bob.id, Role::Viewer, ann.id).await, Some(Role::Viewer));
    let elsewhere = one(store.set_member_role(other, m_ann.id, Role::Viewer, owner.id)).await;
    assert_eq!(elsewhere.unwrap(), None, "another project's member");
    let missing = one(store.set_member_role(id, MemberId(MISSING), Role::Viewer, owner.id)).await;
    assert_eq!(missing.unwrap(), None);
    let ann_list = list_all(store, &ann, &ProjectFilter::default()).await;
    let row = ann_list.iter().find(|p| p.core.id == id).expect("listed");
    assert_eq!(row.my_role, Role::Manager);
    let d = detail(store, id).await;
    assert_eq!(d.members[0].role, Role::Manager);
    assert_eq!(d.core.member_count, 2);

    // Removal.
    let wrong = one(store.remove_member(other, m_bob.id, owner.id)).await.unwrap();
    assert_eq!(wrong, None, "wrong project");
    let refused = one(store.remove_member(id, m_bob.id, stranger.id)).await.unwrap();
    assert_eq!(refused, None, "neither the owner, a manager nor the member themself");
    assert_eq!(one(store.remove_member(id, m_bob.id, owner.id)).await.unwrap(), Some(bob.id));
    let again = one(store.remove_member(id, m_bob.id, owner.id)).await.unwrap();
    assert_eq!(again, None, "already gone");
    let d = detail(store, id).await;
    assert_eq!(d.core.member_count, 1);
    assert_eq!(d.members, vec![Member { role: Role::Manager, ..m_ann.clone() }]);
    let access = one(store.access(id)).await.unwrap().unwrap();
    assert_eq!(access.role_of(bob.id), None);
    assert_eq!(access.role_of(ann.id), Some(Role::Manager));
    let people = one(store.access(id)).await.unwrap().expect("access").participants();
    assert_eq!(sorted(people), sorted(vec![owner.id, ann.id]));
    assert!(!ids(&list_all(store, &bob, &ProjectFilter::default()).await).contains(&id));

    // Back in after leaving: a new membership.
    let m_bob2 = add_member(store, id, &bob, Role::Editor).await;
    assert!(m_bob2.id > m_bob.id);
    assert_eq!(detail(store, id).await.core.member_count, 2);
}

/// Comments and messages: order, pages, counts, recent messages, authors, deletion.
pub async fn feedback(store: &dyn Store) {
    let owner = new_user(store, "f-owner").await;
    let ann = new_user(store, "f-ann").await;
    let id = new_project(store, &owner, "Review").await;
    let other = new_project(store, &owner, "Other review").await;
    add_member(store, id, &ann, Role::Viewer).await;
    let access = one(store.access(id)).await.unwrap().unwrap();

    let empty = one(store.comments_page(id, page(10, None))).await.unwrap().expect("page");
    assert!(empty.items.is_empty());
    assert_eq!(normalized(empty.access), normalized(access.clone()));
    let empty = one(store.messages_page(id, page(10, None))).await.unwrap().expect("page");
    assert!(empty.items.is_empty());
    assert_eq!(one(store.comments_page(ProjectId(MISSING), page(10, None))).await.unwrap(), None);
    assert_eq!(one(store.messages_page(ProjectId(MISSING), page(10, None))).await.unwrap(), None);

    let text = "\"quoted\" \\ back\\slash\nnew line — 日本語 🎬";
    let timecodes = [None, Some(0.0), Some(12.5), Some(3.0), None, Some(7.25), Some(600.0)];
    let mut comments: Vec<Comment> = Vec::new();
    for (n, timecode) in timecodes.into_iter().enumerate() {
        let author = if n % 2 == 0 { &owner } else { &ann };
        let body = format!("{text} #{n}");
        let c = one(store.add_comment(id, author.id, &body, timecode))
            .await
            .expect("comment")
            .expect("the author takes part");
        assert_eq!(
            (&c.user, c.text.as_str(), c.timecode),
            (&user_ref(author), body.as_str(), timecode)
        );
        assert_recent(c.created, "comment.created");
        comments.push(c);
    }
    let stranger = new_user(store, "f-stranger").await;
    let outsider = one(store.add_comment(id, stranger.id, "x", None)).await.unwrap();
    assert_eq!(outsider, None, "only who takes part may comment");
    assert_eq!(one(store.add_message(id, stranger.id, "x")).await.unwrap(), None);
    let ghost = one(store.add_comment(ProjectId(MISSING), owner.id, "x", None)).await;
    assert!(matches!(ghost, Ok(None)), "unknown project: {ghost:?}");
    comments.sort_by_key(|c| (c.created, c.id));

    let all = one(store.comments_page(id, page(100, None))).await.unwrap().unwrap();
    assert_eq!(all.items, comments, "comments oldest first");
    assert_eq!(normalized(all.access), normalized(access.clone()));
    for limit in [1, 3] {
        let mut seen: Vec<Comment> = Vec::new();
        let mut after = None;
        loop {
            let p = one(store.comments_page(id, page(limit, after))).await.unwrap().unwrap();
            let Some(last) = p.items.last() else { break };
            after = cursor_of(last.created, last.id.0);
            seen.extend(p.items);
        }
        assert_eq!(seen, comments, "comment pages of {limit}");
    }

    let mut messages: Vec<Message> = Vec::new();
    for n in 0..7 {
        let author = if n % 3 == 0 { &ann } else { &owner };
        let body = format!("{text} message {n}");
        let m = one(store.add_message(id, author.id, &body))
            .await
            .expect("message")
            .expect("the author takes part");
        assert_eq!((&m.user, m.text.as_str()), (&user_ref(author), body.as_str()));
        assert_recent(m.created, "message.created");
        messages.push(m);
    }
    let ghost = one(store.add_message(ProjectId(MISSING), owner.id, "x")).await;
    assert!(matches!(ghost, Ok(None)), "unknown project: {ghost:?}");
    messages.sort_by_key(|m| std::cmp::Reverse((m.created, m.id)));

    let all = one(store.messages_page(id, page(100, None))).await.unwrap().unwrap();
    assert_eq!(all.items, messages, "messages newest first");
    assert_eq!(normalized(all.access), normalized(access.clone()));
    for limit in [1, 3] {
        let mut seen: Vec<Message> = Vec::new();
        let mut after = None;
        loop {
            let p = one(store.messages_page(id, page(limit, after))).await.unwrap().unwrap();
            let Some(last) = p.items.last() else { break };
            after = cursor_of(last.created, last.id.0);
            seen.extend(p.items);
        }
        assert_eq!(seen, messages, "message pages of {limit}");
    }

    let d = detail(store, id).await;
    assert_eq!((d.feedback.comment_count, d.feedback.message_count), (7, 7));
    assert_eq!(d.feedback.recent_messages, messages[..5].to_vec(), "newest 5, newest first");
    let o = detail(store, other).await;
    assert_eq!((o.feedback.comment_count, o.feedback.message_count), (0, 0));

    // Authors and deletion.
    let target = &comments[1];
    assert_eq!(one(store.comment_author(id, target.id)).await.unwrap(), Some(ann.id));
    assert_eq!(one(store.comment_author(other, target.id)).await.unwrap(), None);
    assert_eq!(one(store.comment_author(id, CommentId(MISSING))).await.unwrap(), None);
    assert!(!one(store.delete_comment(other, target.id)).await.unwrap(), "wrong project");
    assert!(one(store.delete_comment(id, target.id)).await.unwrap());
    assert!(!one(store.delete_comment(id, target.id)).await.unwrap(), "already gone");
    assert_eq!(one(store.comment_author(id, target.id)).await.unwrap(), None);
    let left = one(store.comments_page(id, page(100, None))).await.unwrap().unwrap();
    let expected: Vec<Comment> = comments.iter().filter(|c| c.id != target.id).cloned().collect();
    assert_eq!(left.items, expected);
    assert_eq!(detail(store, id).await.feedback.comment_count, 6);
}

/// Memos: order by date then id, deletion.
pub async fn memos(store: &dyn Store) {
    let owner = new_user(store, "memo-owner").await;
    let ann = new_user(store, "memo-ann").await;
    let id = new_project(store, &owner, "Memos").await;
    let other = new_project(store, &owner, "Other memos").await;

    let mut added = Vec::new();
    for (n, (d, author)) in [(5, &owner), (1, &ann), (5, &ann), (3, &owner)].into_iter().enumerate()
    {
        let text = format!("memo {n}: \"quoted\"\n{}", "é".repeat(n));
        let memo = one(store.add_memo(id, author.id, day(d), &text, CAP)).await.expect("add_memo");
        let memo = memo.expect("under the cap");
        assert_eq!(
            (memo.user_id, memo.date, memo.text.as_str()),
            (author.id, day(d), text.as_str())
        );
        assert_recent(memo.created, "memo.created");
        added.push(memo);
    }
    let ghost = one(store.add_memo(ProjectId(MISSING), owner.id, day(1), "x", CAP)).await;
    assert!(matches!(ghost, Err(StoreError::NotFound)), "unknown project: {ghost:?}");
    let full = one(store.add_memo(id, owner.id, day(1), "one too many", 4)).await.unwrap();
    assert_eq!(full, None, "a project holding its cap of memos takes no more");

    let order = |memos: &[Memo]| memos.iter().map(|m| m.id).collect::<Vec<_>>();
    let expected = vec![added[1].id, added[3].id, added[0].id, added[2].id];
    let d = detail(store, id).await;
    assert_eq!(order(&d.memos), expected, "memos by date, then id");
    for memo in &d.memos {
        assert_eq!(Some(memo), added.iter().find(|m| m.id == memo.id));
    }

    assert!(!one(store.delete_memo(other, added[0].id)).await.unwrap(), "wrong project");
    assert!(!one(store.delete_memo(id, MemoId(MISSING))).await.unwrap());
    assert!(one(store.delete_memo(id, added[0].id)).await.unwrap());
    assert!(!one(store.delete_memo(id, added[0].id)).await.unwrap(), "already gone");
    let d = detail(store, id).await;
    assert_eq!(order(&d.memos), vec![added[1].id, added[3].id, added[2].id]);
    assert!(detail(store, other).await.memos.is_empty());
}

/// Files and the feedback video: records, lookups with access, replacement, deletion, keys.
pub async fn files(store: &dyn Store) {
    let owner = new_user(store, "file-owner").await;
    let ann = new_user(store, "file-ann").await;
    let id = new_project(store, &owner, "Files").await;
    let other = new_project(store, &owner, "Other files").await;
    let m_ann = add_member(store, id, &ann, Role::Viewer).await;
    let new_file = |name: &str, content_type: &str, size: i64| NewFile {
        name: name.to_owned(),
        content_type: content_type.to_owned(),
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
    let fb = one(store.add_file(id, &b, CAP)).await.expect("add_file").expect("under the cap");
    check(&fb, &b);
    let fa = one(store.add_file(id, &a, CAP)).await.expect("add_file").expect("under the cap");
    check(&fa, &a);
    assert!(fa.id > fb.id);
    let ghost = one(store.add_file(ProjectId(MISSING), &a, CAP)).await;
    assert!(matches!(ghost, Err(StoreError::NotFound)), "unknown project: {ghost:?}");
    let full = one(store.add_file(id, &a, 2)).await.unwrap();
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

    // The video: a first one replaces nothing, a second replaces the first, row and all.
    let v1 = new_file("cut 1.mp4", "video/mp4", 1_000_000);
    let first = one(store.set_video(id, &v1)).await.expect("set_video");
    check(&first.video, &v1);
    assert!(first.replaced.is_empty(), "{:?}", first.replaced);
    let d = detail(store, id).await;
    assert_eq!(d.feedback.video.as_ref(), Some(&first.video));
    assert_eq!(d.files, vec![fb.clone(), fa.clone()], "the video is not among the files");
    let v2 = new_file("cut 2.webm", "video/webm", 5_000_000_000);
    let second = one(store.set_video(id, &v2)).await.expect("set_video");
    check(&second.video, &v2);
    assert!(second.video.id > first.video.id);
    assert_eq!(second.replaced, vec![v1.storage_key.clone()]);
    assert_eq!(detail(store, id).await.feedback.video, Some(second.video.clone()));
    let gone = one(store.file(id, first.video.id)).await.unwrap().unwrap();
    assert_eq!(gone.file, None, "the replaced video's row is gone");
    let video = one(store.file(id, second.video.id)).await.unwrap().unwrap().file.unwrap();
    assert_eq!(video.storage_key, v2.storage_key);
    let ghost = one(store.set_video(ProjectId(MISSING), &v1)).await;
    assert!(matches!(ghost, Err(StoreError::NotFound)), "unknown project: {ghost:?}");
    assert_eq!(detail(store, other).await.feedback.video, None);

    let keys = one(store.project_file_keys(id)).await.unwrap();
    let all = vec![b.storage_key.clone(), a.storage_key.clone(), v2.storage_key.clone()];
    assert_eq!(sorted(keys), sorted(all));
    assert!(one(store.project_file_keys(other)).await.unwrap().is_empty());
    assert!(one(store.project_file_keys(ProjectId(MISSING))).await.unwrap().is_empty());

    // Deletion hands back the key, once, and only on the file's own project.
    assert_eq!(one(store.delete_file(other, fb.id)).await.unwrap(), None, "wrong project");
    assert_eq!(one(store.delete_file(id, fb.id)).await.unwrap(), Some(b.storage_key.clone()));
    assert_eq!(one(store.delete_file(id, fb.id)).await.unwrap(), None, "already gone");
    assert_eq!(one(store.delete_file(id, FileId(MISSING))).await.unwrap(), None);
    let removed = one(store.delete_file(id, second.video.id)).await.unwrap();
    assert_eq!(removed, Some(v2.storage_key.clone()), "the video is a file too");
    let d = detail(store, id).await;
    assert_eq!((d.files, d.feedback.video), (vec![fa.clone()], None));

    // The project's rows go with it.
    let third = one(store.set_video(id, &v1)).await.expect("set_video");
    assert!(third.replaced.is_empty());
    let named = [a.storage_key.clone(), v1.storage_key.clone(), "no/such".to_owned()];
    let found = one(store.named_storage_keys(&named)).await.unwrap();
    assert_eq!(sorted(found), sorted(vec![a.storage_key.clone(), v1.storage_key.clone()]));
    assert!(one(store.named_storage_keys(&[])).await.unwrap().is_empty());
    let keys = delete_project(store, id).await.expect("it existed");
    assert_eq!(sorted(keys), sorted(vec![a.storage_key.clone(), v1.storage_key.clone()]));
    let named = one(store.named_storage_keys(&named)).await.unwrap();
    assert!(named.is_empty(), "the rows went with the project: {named:?}");
    assert!(one(store.project_file_keys(id)).await.unwrap().is_empty());
    assert_eq!(one(store.file(id, fa.id)).await.unwrap(), None);
    assert_eq!(one(store.delete_file(id, fa.id)).await.unwrap(), None);
}

/// Deleting a project takes its members, feedback and memos along, and nothing else.
pub async fn cascade(store: &dyn Store) {
    let owner = new_user(store, "c-owner").await;
    let ann = new_user(store, "c-ann").await;
    let id = new_project(store, &owner, "Doomed").await;
    let kept = new_project(store, &owner, "Kept").await;
    let member = add_member(store, id, &ann, Role::Editor).await;
    let kept_member = add_member(store, kept, &ann, Role::Viewer).await;
    let comment = one(store.add_comment(id, ann.id, "bye", Some(1.0))).await.unwrap().unwrap();
    one(store.add_message(id, ann.id, "bye")).await.unwrap().unwrap();
    let memo = one(store.add_memo(id, owner.id, day(1), "bye", CAP)).await.unwrap().unwrap();
    one(store.add_comment(kept, ann.id, "stay", None)).await.unwrap().unwrap();
    one(store.add_message(kept, ann.id, "stay")).await.unwrap().unwrap();
    one(store.add_memo(kept, owner.id, day(2), "stay", CAP)).await.unwrap().unwrap();

    assert_eq!(delete_project(store, id).await, Some(vec![]), "no files");
    assert_eq!(delete_project(store, id).await, None, "already gone");
    assert_eq!(one(store.project_detail(id)).await.unwrap(), None);
    assert_eq!(one(store.access(id)).await.unwrap(), None);
    assert_eq!(one(store.invite_context(id, &ann.email)).await.unwrap(), None);
    assert_eq!(one(store.comments_page(id, page(10, None))).await.unwrap(), None);
    assert_eq!(one(store.messages_page(id, page(10, None))).await.unwrap(), None);
    assert_eq!(one(store.comment_author(id, comment.id)).await.unwrap(), None);
    assert!(!one(store.delete_comment(id, comment.id)).await.unwrap());
    assert!(!one(store.delete_memo(id, memo.id)).await.unwrap());
    assert_eq!(
        one(store.set_member_role(id, member.id, Role::Viewer, owner.id)).await.unwrap(),
        None
    );
    assert_eq!(one(store.remove_member(id, member.id, owner.id)).await.unwrap(), None);
    assert!(!one(store.update_project(id, &ProjectPatch::default(), owner.id)).await.unwrap());
    assert!(!one(store.set_phase(id, Phase::Filming, dates(1, 2), owner.id)).await.unwrap());
    let late = one(store.add_comment(id, ann.id, "too late", None)).await;
    assert!(matches!(late, Ok(None)), "{late:?}");

    assert_eq!(ids(&list_all(store, &ann, &ProjectFilter::default()).await), vec![kept]);
    assert_eq!(ids(&list_all(store, &owner, &ProjectFilter::default()).await), vec![kept]);
    let fp = one(store.footprint(ann.id)).await.unwrap();
    assert_eq!(fp.projects, vec![kept]);

    let k = detail(store, kept).await;
    assert_eq!(k.members, vec![kept_member]);
    assert_eq!(k.core.member_count, 1);
    assert_eq!((k.feedback.comment_count, k.feedback.message_count, k.memos.len()), (1, 1, 1));
    assert_eq!(one(store.user(ann.id)).await.unwrap(), Some(ann));
}

/// What shows a user: projects owned, joined or written in; viewers of their owned projects.
pub async fn footprint(store: &dyn Store) {
    let user = new_user(store, "fp-user").await;
    let m1 = new_user(store, "fp-m1").await;
    let m2 = new_user(store, "fp-m2").await;
    let boss = new_user(store, "fp-boss").await;

    let owned = new_project(store, &user, "Owned").await;
    add_member(store, owned, &m1, Role::Viewer).await;
    add_member(store, owned, &m2, Role::Manager).await;
    let joined = new_project(store, &boss, "Joined").await;
    add_member(store, joined, &user, Role::Editor).await;
    let commented = new_project(store, &boss, "Commented then left").await;
    let left = add_member(store, commented, &user, Role::Viewer).await;
    one(store.add_comment(commented, user.id, "hello", None)).await.unwrap().unwrap();
    assert!(one(store.remove_member(commented, left.id, user.id)).await.unwrap().is_some());
    let chatted = new_project(store, &boss, "Chatted then left").await;
    let left = add_member(store, chatted, &user, Role::Viewer).await;
    one(store.add_message(chatted, user.id, "hello")).await.unwrap().unwrap();
    assert!(one(store.remove_member(chatted, left.id, user.id)).await.unwrap().is_some());
    let unrelated = new_project(store, &boss, "Unrelated").await;
    add_member(store, unrelated, &m1, Role::Viewer).await;

    let fp = one(store.footprint(user.id)).await.unwrap();
    assert_eq!(sorted(fp.projects), sorted(vec![owned, joined, commented, chatted]));
    assert_eq!(sorted(fp.list_viewers), sorted(vec![user.id, m1.id, m2.id]));

    let fp = one(store.footprint(boss.id)).await.unwrap();
    assert_eq!(sorted(fp.projects), sorted(vec![joined, commented, chatted, unrelated]));
    assert_eq!(sorted(fp.list_viewers), sorted(vec![boss.id, user.id, m1.id]));

    let fp = one(store.footprint(m1.id)).await.unwrap();
    assert_eq!(sorted(fp.projects), sorted(vec![owned, unrelated]));
    assert!(fp.list_viewers.is_empty());

    let fresh = new_user(store, "fp-fresh").await;
    assert_eq!(one(store.footprint(fresh.id)).await.unwrap(), crate::Footprint::default());
    assert_eq!(one(store.footprint(UserId(MISSING))).await.unwrap(), crate::Footprint::default());
}
