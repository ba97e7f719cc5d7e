//! The backend conformance suite (cargo feature `conformance`): what every [`Store`]
//! implementation must do, checked through the trait alone so that each backend's tests run the
//! very same assertions.
//!
//! One file per resource, each section a public async fn taking the store; the backends' tests
//! run each section as a test of its own. Every call goes through [`one`], which asserts that it
//! ran exactly one SQL statement. The suite only looks at data it created itself (fresh users
//! with unique emails), so it may run on a database that already holds other rows, and its
//! sections may run in any order.
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
    Color, CommentId, Cursor, Description, DiscussionText, Email, FileId, MemberId, MemoId,
    MemoText, Nickname, Party, Phase, PhaseDates, ProjectId, ProjectName, Role, Timecode,
    Timestamp, UserId,
};

use crate::stats::RequestStats;
use crate::{
    Comment, Member, MemberAccess, Memo, Message, NewProject, PageRequest, ProjectAccess,
    ProjectDetail, ProjectFilter, ProjectPatch, ProjectSummary, Store, StoreError, User, UserRef,
};
use crate::{CommentFilter, Event, FileMeta, NewFile, Recorded};

mod admin;
mod events;
mod feedback;
mod files;
mod members;
mod memos;
mod projects;
mod threads;
mod users;
mod versions;

pub use admin::basics;
pub use events::events;
pub use feedback::feedback;
pub use files::files;
pub use members::members;
pub use memos::memos;
pub use projects::{cascade, list_filters, phases, project_list, projects};
pub use threads::threads;
pub use users::{footprint, users};
pub use versions::versions;

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
    versions(store).await;
    threads(store).await;
    cascade(store).await;
    footprint(store).await;
    events(store).await;
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

/// Deletes a project, asserting that it is one statement (PostgreSQL: a CTE; SQLite: an update
/// whose `RETURNING` reads the file keys before its trigger deletes the project).
async fn delete_project(
    store: &dyn Store,
    id: ProjectId,
    by: UserId,
) -> Option<Recorded<Vec<String>>> {
    one(store.delete_project(id, by)).await.unwrap()
}

/// Records a version, asserting that it is one statement (PostgreSQL: a CTE; SQLite: an insert
/// whose trigger writes the video's row).
async fn add_version(
    store: &dyn Store,
    project: ProjectId,
    by: &User,
    video: &NewFile,
    version: &crate::NewVersion,
) -> crate::Version {
    one(store.add_version(project, by.id, video, version)).await.expect("add_version").value
}

/// A top-level comment with this text and timecode (seconds), on the current version.
fn plain(text: &str, timecode: Option<f64>) -> crate::NewComment {
    crate::NewComment {
        text: DiscussionText::parse(text).expect("a valid text"),
        timecode: timecode.map(|t| Timecode::parse(t).expect("a valid timecode")),
        timecode_end: None,
        version: None,
        parent: None,
        annotation: None,
    }
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
    one(store.create_user(
        &Email::parse(&email).unwrap(),
        &Nickname::parse(label).unwrap(),
        "$argon2id$fake",
    ))
    .await
    .expect("create_user")
}

async fn new_project(store: &dyn Store, owner: &User, name: &str) -> ProjectId {
    let project = NewProject::named(ProjectName::parse(name).unwrap());
    one(store.create_project(owner.id, &project)).await.expect("create_project").value
}

async fn detail(store: &dyn Store, id: ProjectId) -> ProjectDetail {
    one(store.project_detail(id)).await.expect("project_detail").expect("the project exists")
}

/// Adds `user` to `project` on behalf of its owner.
async fn add_member(store: &dyn Store, project: ProjectId, user: &User, role: Role) -> Member {
    let owner = one(store.access(project)).await.expect("access").expect("a project").owner_id;
    let added = one(store.add_member(project, &user_ref(user), role, owner)).await;
    added.expect("add_member").expect("the owner may add anyone").value
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
