//! The [`Store`] trait: everything the service asks of a database, in domain terms, as the sum
//! of one capability trait per resource.

use async_trait::async_trait;
use reelplan_domain::{
    CommentId, Cursor, DiscussionText, Email, FileId, MemberId, MemoId, MemoText, Nickname, Phase,
    PhaseDates, ProjectId, Role, Timestamp, UserId, VersionId,
};

use crate::events::{Event, Recorded, StreamStart};
use crate::files::{FileAccess, NewFile};
use crate::model::*;
use crate::review::{ExportRows, NewReview, NewVersion, Version, VersionAccess, VersionPatch};
use crate::StoreError;

/// Results of the storage layer.
pub type StoreResult<T> = Result<T, StoreError>;

/// One page of a keyset-paginated list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Rows to return at most (the service asks one more than it shows, to know if more follow).
    pub limit: u32,
    /// Start strictly after this position in the list's order.
    pub after: Option<Cursor>,
}

/// Filters of the project list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectFilter {
    /// Name contains this, case-insensitively.
    pub q: Option<String>,
    /// Keep projects whose latest end date is at or after this.
    pub active_from: Option<Timestamp>,
    /// Keep projects whose earliest start date is at or before this.
    pub active_to: Option<Timestamp>,
}

/// What the service needs of a database: the sum of its capability traits, one per resource
/// (the backends implement each in their `sql/<resource>.rs`). Each method is exactly one SQL
/// statement, so the service can count its budget by counting calls.
///
/// The server holds it as `Arc<dyn Store>`: the backend is chosen at run time from
/// `DATABASE_URL`, and a virtual call costs nanoseconds next to a database round trip, while
/// generics would thread a type parameter through every layer above. A `dyn Store` answers every
/// method of its capability traits as is; a concrete store needs them in scope:
/// `use reelplan_store::prelude::*;`.
#[cfg(not(feature = "testing"))]
pub trait Store:
    Users + Projects + Members + Feedback + Versions + Memos + Files + Events + Admin + 'static
{
}

#[cfg(not(feature = "testing"))]
impl<
        T: Users + Projects + Members + Feedback + Versions + Memos + Files + Events + Admin + 'static,
    > Store for T
{
}

/// What the service needs of a database: the sum of its capability traits, one per resource
/// (the backends implement each in their `sql/<resource>.rs`). Each method is exactly one SQL
/// statement, so the service can count its budget by counting calls.
///
/// The server holds it as `Arc<dyn Store>`: the backend is chosen at run time from
/// `DATABASE_URL`, and a virtual call costs nanoseconds next to a database round trip, while
/// generics would thread a type parameter through every layer above. A `dyn Store` answers every
/// method of its capability traits as is; a concrete store needs them in scope:
/// `use reelplan_store::prelude::*;`.
///
/// With the `testing` feature, [`Inspect`] is one of them too.
#[cfg(feature = "testing")]
pub trait Store:
    Users
    + Projects
    + Members
    + Feedback
    + Versions
    + Memos
    + Files
    + Events
    + Admin
    + Inspect
    + 'static
{
}

#[cfg(feature = "testing")]
impl<T> Store for T where
    T: Users
        + Projects
        + Members
        + Feedback
        + Versions
        + Memos
        + Files
        + Events
        + Admin
        + Inspect
        + 'static
{
}

/// Accounts: sign-up, login, profile, and what a profile change touches.
#[async_trait]
pub trait Users: Send + Sync {
    /// Inserts a user; `Conflict` when the email is taken.
    async fn create_user(
        &self,
        email: &Email,
        nickname: &Nickname,
        hash: &str,
    ) -> StoreResult<User>;
    /// The user with this email and their password hash.
    async fn credentials(&self, email: &Email) -> StoreResult<Option<Credentials>>;
    /// A user by id.
    async fn user(&self, id: UserId) -> StoreResult<Option<User>>;
    /// Changes a nickname; None when the user does not exist.
    async fn set_nickname(&self, id: UserId, nickname: &Nickname) -> StoreResult<Option<User>>;
    /// What shows this user (see [`Footprint`]).
    async fn footprint(&self, id: UserId) -> StoreResult<Footprint>;
}

/// Projects: the caller's list, documents, and the project's own writes.
#[async_trait]
pub trait Projects: Send + Sync {
    /// The caller's projects (owned or member of), newest `created` first, then id descending.
    async fn list_projects(
        &self,
        viewer: UserId,
        filter: &ProjectFilter,
        page: PageRequest,
    ) -> StoreResult<Vec<ProjectSummary>>;
    /// Every project of the viewer's list (owned or member of) with their role, in list order,
    /// and one page of them as documents.
    async fn memberships_page(
        &self,
        viewer: UserId,
        page: PageRequest,
    ) -> StoreResult<MembershipPage>;
    /// The documents of these projects, in no particular order; deleted ones are absent.
    async fn project_summaries(&self, ids: &[ProjectId]) -> StoreResult<Vec<ProjectCore>>;
    /// A project's feedback block alone; None when there is no such project.
    async fn feedback_summary(&self, id: ProjectId) -> StoreResult<Option<FeedbackSummary>>;
    /// A project's whole detail (members, feedback summary, memos, files).
    async fn project_detail(&self, id: ProjectId) -> StoreResult<Option<ProjectDetail>>;
    /// Inserts a project owned by `owner`, recording `project.updated` with the owner as its
    /// subject.
    async fn create_project(
        &self,
        owner: UserId,
        project: &NewProject,
    ) -> StoreResult<Recorded<ProjectId>>;
    /// Applies a patch if `by` is the project's owner or one of its managers (checked in the
    /// same statement, so a demotion cannot slip in between); None otherwise, or when the
    /// project does not exist. Records `project.updated`.
    async fn update_project(
        &self,
        id: ProjectId,
        patch: &ProjectPatch,
        by: UserId,
    ) -> StoreResult<Option<Event>>;
    /// Sets one phase's dates if `by` is the owner or an editor or manager (checked in the same
    /// statement); None otherwise, or when the project does not exist. Records `phase.updated`
    /// (its object is the project).
    async fn set_phase(
        &self,
        id: ProjectId,
        phase: Phase,
        dates: PhaseDates,
        by: UserId,
    ) -> StoreResult<Option<Event>>;
    /// Deletes a project and everything hanging off it, returning the storage keys of the
    /// files whose rows went with it (taken in the delete itself, so none is missed); None
    /// when it did not exist. Records `project.deleted` by `by`, kept for everyone who took
    /// part in the project (see [`StreamStart::events`]).
    async fn delete_project(
        &self,
        id: ProjectId,
        by: UserId,
    ) -> StoreResult<Option<Recorded<Vec<String>>>>;
}

/// Who takes part in a project, and the changes to its members.
#[async_trait]
pub trait Members: Send + Sync {
    /// Who takes part in a project.
    async fn access(&self, id: ProjectId) -> StoreResult<Option<ProjectAccess>>;
    /// The access list and the user with this email, if any, in one statement.
    async fn invite_context(
        &self,
        id: ProjectId,
        email: &str,
    ) -> StoreResult<Option<(ProjectAccess, Option<UserRef>)>>;
    /// Adds a member if `by` may grant `role` (the owner any role, a manager any but manager;
    /// checked in the same statement); None otherwise, or when the project does not exist;
    /// `Conflict` when they already are one. Records `member.added`, its subject the user.
    async fn add_member(
        &self,
        project: ProjectId,
        user: &UserRef,
        role: Role,
        by: UserId,
    ) -> StoreResult<Option<Recorded<Member>>>;
    /// Changes a member's role if `by` may: the owner, or a manager when neither the member's
    /// current role nor `role` is manager. None when refused or when there is no such member.
    /// Records `member.updated`, its subject the member's user.
    async fn set_member_role(
        &self,
        project: ProjectId,
        member: MemberId,
        role: Role,
        by: UserId,
    ) -> StoreResult<Option<Recorded<Member>>>;
    /// Removes a member if `by` may: the member themself (leaving), the owner, or a manager
    /// removing someone who is not a manager (checked in the same statement). Returns the
    /// removed member's user; None when refused, or when there is no such member of this
    /// project. Records `member.removed`, its subject the removed user.
    async fn remove_member(
        &self,
        project: ProjectId,
        member: MemberId,
        by: UserId,
    ) -> StoreResult<Option<Recorded<UserId>>>;
}

/// The feedback thread: timecoded comments and chat messages.
#[async_trait]
pub trait Feedback: Send + Sync {
    /// A page of comments (replies are items like any other), oldest first, with the access
    /// list; None when no such project.
    async fn comments_page(
        &self,
        project: ProjectId,
        filter: CommentFilter,
        page: PageRequest,
    ) -> StoreResult<Option<ThreadPage<Comment>>>;
    /// A page of messages, newest first, with the access list; None when no such project.
    async fn messages_page(
        &self,
        project: ProjectId,
        page: PageRequest,
    ) -> StoreResult<Option<ThreadPage<Message>>>;
    /// The first `limit` comments with the access list, and the feedback block, in one
    /// statement (what a comment post reads back); None when no such project.
    async fn comments_head(
        &self,
        project: ProjectId,
        limit: u32,
    ) -> StoreResult<Option<(ThreadPage<Comment>, FeedbackSummary)>>;
    /// Posts a comment if the author takes part in the project, its version (when given) is
    /// one of the project's, and its parent (when given) is a top-level comment of the project
    /// (of that version, when one is given too), all checked in the same statement. Its version
    /// defaults to the project's current one, a reply's to its parent's. None when refused, or
    /// when the project does not exist. Records `comment.created`.
    async fn add_comment(
        &self,
        project: ProjectId,
        author: UserId,
        comment: &NewComment,
    ) -> StoreResult<Option<Recorded<Comment>>>;
    /// Changes a comment's text or resolution if `by` may (checked in the same statement): its
    /// author while they take part in the project, or, for a resolution alone, the owner, an
    /// editor or a manager. None when refused, or when there is no such comment on this
    /// project. Records `comment.updated` by `by`.
    async fn update_comment(
        &self,
        project: ProjectId,
        id: CommentId,
        patch: &CommentPatch,
        by: UserId,
    ) -> StoreResult<Option<Recorded<Comment>>>;
    /// A comment's author; None when there is no such comment on this project.
    async fn comment_author(
        &self,
        project: ProjectId,
        id: CommentId,
    ) -> StoreResult<Option<UserId>>;
    /// Deletes a comment, and a top-level comment's replies with it; None when there was none.
    /// Records one `comment.deleted` by `by`, for the comment named.
    async fn delete_comment(
        &self,
        project: ProjectId,
        id: CommentId,
        by: UserId,
    ) -> StoreResult<Option<Event>>;
    /// Posts a message if the author takes part in the project (checked in the same
    /// statement); None otherwise, or when the project does not exist. Records
    /// `message.created`.
    async fn add_message(
        &self,
        project: ProjectId,
        author: UserId,
        text: &DiscussionText,
    ) -> StoreResult<Option<Recorded<Message>>>;
}

/// Review versions of a project's video and their members' reviews.
#[async_trait]
pub trait Versions: Send + Sync {
    /// A page of versions, highest number first, after `page.after` (whose id is a version
    /// number), with the access list; None when no such project.
    async fn versions_page(
        &self,
        project: ProjectId,
        page: PageRequest,
    ) -> StoreResult<Option<ThreadPage<Version>>>;
    /// The access list and one version; None when no such project.
    async fn version(
        &self,
        project: ProjectId,
        id: VersionId,
    ) -> StoreResult<Option<VersionAccess>>;
    /// Records a new version by `by` whose video object is complete, numbered one past the
    /// highest number the project ever gave; `NotFound` when the project does not exist.
    /// Records `version.created`.
    async fn add_version(
        &self,
        project: ProjectId,
        by: UserId,
        video: &NewFile,
        version: &NewVersion,
    ) -> StoreResult<Recorded<Version>>;
    /// Changes a version's label, fps or duration; None when there is no such version. Records
    /// `version.updated` by `by`.
    async fn update_version(
        &self,
        project: ProjectId,
        id: VersionId,
        patch: &VersionPatch,
        by: UserId,
    ) -> StoreResult<Option<Recorded<Version>>>;
    /// Deletes a version with its video's row, reviews and comments, returning the video's
    /// storage key; None when there was no such version. Records `version.deleted` by `by`.
    async fn delete_version(
        &self,
        project: ProjectId,
        id: VersionId,
        by: UserId,
    ) -> StoreResult<Option<Recorded<String>>>;
    /// The access list, the project's name, a version and its comments (only resolved or only
    /// open ones when `resolved` says so), oldest first: a comment export; None when no such
    /// project.
    async fn export_rows(
        &self,
        project: ProjectId,
        id: VersionId,
        resolved: Option<bool>,
    ) -> StoreResult<Option<ExportRows>>;
    /// Records (or replaces) `by`'s review of a version; None when there is no such version.
    /// Records `review.updated` (its object is the version).
    async fn put_review(
        &self,
        project: ProjectId,
        id: VersionId,
        by: UserId,
        review: &NewReview,
    ) -> StoreResult<Option<Event>>;
}

/// Memos on a project's timeline.
#[async_trait]
pub trait Memos: Send + Sync {
    /// Adds a memo unless the project holds `cap` already (None then); `NotFound` when the
    /// project does not exist. Records `memo.created`.
    async fn add_memo(
        &self,
        project: ProjectId,
        author: UserId,
        date: Timestamp,
        text: &MemoText,
        cap: u32,
    ) -> StoreResult<Option<Recorded<Memo>>>;
    /// Deletes a memo; None when there was none on this project. Records `memo.deleted` by
    /// `by`.
    async fn delete_memo(
        &self,
        project: ProjectId,
        id: MemoId,
        by: UserId,
    ) -> StoreResult<Option<Event>>;
}

/// Project files (and the videos of versions), recorded once their object is complete.
#[async_trait]
pub trait Files: Send + Sync {
    /// Records a project file (kind 'file') whose object is complete, unless the project holds
    /// `cap` files already (None then); `NotFound` when the project does not exist. Records
    /// `file.created` by `by`.
    async fn add_file(
        &self,
        project: ProjectId,
        file: &NewFile,
        cap: u32,
        by: UserId,
    ) -> StoreResult<Option<Recorded<FileMeta>>>;
    /// The access list and one file (either kind) with its storage key; None when no such
    /// project.
    async fn file(&self, project: ProjectId, id: FileId) -> StoreResult<Option<FileAccess>>;
    /// Deletes a file's row (either kind), returning its storage key; None when there was none
    /// on this project. Records `file.deleted` by `by` for a project file, `version.deleted`
    /// (its object the version) for a version's video, which takes its version with it.
    async fn delete_file(
        &self,
        project: ProjectId,
        id: FileId,
        by: UserId,
    ) -> StoreResult<Option<Recorded<String>>>;
}

/// The event log: what streams start and catch up from, a project's activity, and pruning.
#[async_trait]
pub trait Events: Send + Sync {
    /// Where a stream of `user` starts: their projects, the log's horizon, and (when `after`
    /// is given) their events after it, oldest first, at most `limit`.
    async fn stream_start(
        &self,
        user: UserId,
        after: Option<i64>,
        limit: u32,
    ) -> StoreResult<StreamStart>;
    /// Every project's events after `after`, oldest first, at most `limit`: what an instance
    /// delivers after its link to the other instances was broken.
    async fn events_after(&self, after: i64, limit: u32) -> StoreResult<Vec<Event>>;
    /// The newest event id the log has given (the horizon's when every event was pruned; 0
    /// before the first): where an instance that starts would catch up from.
    async fn newest_event_id(&self) -> StoreResult<i64>;
    /// A page of a project's events, newest first (ids below `page.after`'s id), with the
    /// access list; None when no such project.
    async fn activity_page(
        &self,
        project: ProjectId,
        page: PageRequest,
    ) -> StoreResult<Option<ThreadPage<Event>>>;
    /// Deletes the events created before `before`, moving the horizon to the highest id
    /// deleted; returns how many went.
    async fn prune_events(&self, before: Timestamp) -> StoreResult<u64>;
}

/// Operations: the backend's identity and pool, migrations, shutdown, and the storage sweep.
#[async_trait]
pub trait Admin: Send + Sync {
    /// `"postgres"` or `"sqlite"`.
    fn backend(&self) -> &'static str;
    /// Pool figures.
    fn pool_status(&self) -> PoolStatus;
    /// Answers when the database does.
    async fn ping(&self) -> StoreResult<()>;
    /// Brings the schema up to date (idempotent; run at start-up and by `reelplan migrate`).
    async fn migrate(&self) -> StoreResult<()>;
    /// This database's identity, made by its migrations (the cache namespaces Redis with it).
    async fn deployment_id(&self) -> StoreResult<String>;
    /// Closes the pool at shutdown: waits for connections in use, closes the idle ones.
    async fn close(&self) {}
    /// Those of `keys` that some file row names: the sweep removes the others' objects.
    async fn named_storage_keys(&self, keys: &[String]) -> StoreResult<Vec<String>>;
}

/// What tests check behind the service's back (cargo feature `testing`, which makes it part of
/// [`Store`]). A backend implements it inside [`testing_only!`](crate::testing_only), so its impl
/// exists exactly when `Store` asks for it, whichever crate turned the feature on.
#[cfg(feature = "testing")]
#[async_trait]
pub trait Inspect: Send + Sync {
    /// The storage keys of every file of a project (for tests and tools).
    async fn project_file_keys(&self, project: ProjectId) -> StoreResult<Vec<String>>;
}
