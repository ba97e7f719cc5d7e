//! Bulk loading of reference data (`reelplan seed`): plain rows and the [`BulkLoad`]
//! capability both backends implement.
//!
//! Bulk loading is not part of the per-request [`crate::Store`] trait: it runs once, outside
//! any request, wants one long transaction and backend-specific fast paths (PostgreSQL `COPY`,
//! SQLite multi-row prepared inserts), and must not count against the statement budget. The
//! backend is still chosen in one place: `reelplan_server::open_bulk_loader`, a sibling of
//! `open_store` sharing its URL-scheme match, returns the same concrete store seen through both
//! traits. A capability method on `Store` (`fn bulk(&self) -> Option<&dyn BulkLoad>`) would have
//! put tooling into the request path's trait; a sibling keeps `Store` about requests.
//!
//! Rows carry explicit ids (1, 2, ... in generation order) so that the generator, the loaders
//! and the load test agree on them; times are integer microseconds since the epoch, UTC.

use async_trait::async_trait;
use reelplan_domain::{ReviewStatus, Role};

use crate::StoreResult;

/// A user to insert, its password already hashed.
#[derive(Debug, Clone, PartialEq)]
pub struct UserRow {
    /// Id.
    pub id: i64,
    /// Lower-cased email.
    pub email: String,
    /// Nickname.
    pub nickname: String,
    /// PHC-format argon2id hash.
    pub password_hash: String,
    /// Signup time, microseconds.
    pub created: i64,
}

/// The `projects` table and the columns a [`ProjectRow`] fills, in its order (the eight
/// phases' start and end in phase order): the target of both backends' bulk loaders.
pub const PROJECT_COLUMNS: &str = "projects (id, owner_id, name, manager, consumer, \
    description, color, created, updated, version_seq, basic_plan_start, basic_plan_end, \
    story_board_start, story_board_end, filming_start, filming_end, video_edit_start, \
    video_edit_end, post_work_start, post_work_end, video_preview_start, video_preview_end, \
    confirmation_start, confirmation_end, video_delivery_start, video_delivery_end)";

/// A project to insert (`member_count` is left to the schema's triggers).
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectRow {
    /// Id.
    pub id: i64,
    /// Owner's user id.
    pub owner_id: i64,
    /// Name.
    pub name: String,
    /// Manager (free text).
    pub manager: String,
    /// Consumer (free text).
    pub consumer: String,
    /// Description.
    pub description: String,
    /// `#RRGGBB` or none.
    pub color: Option<String>,
    /// Creation time, microseconds.
    pub created: i64,
    /// Last update, microseconds.
    pub updated: i64,
    /// The highest version number given, the number of the project's last [`VersionRow`]
    /// (0 without one). Written with the row because PostgreSQL has no trigger to move it on
    /// (its request path does that in the insert of a version); SQLite's `versions_number`
    /// trigger sets the same value again as the versions go in.
    pub version_seq: i64,
    /// `(start, end)` of the eight phases in phase order, microseconds.
    pub phases: [(Option<i64>, Option<i64>); 8],
}

/// A membership to insert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberRow {
    /// Id.
    pub id: i64,
    /// Project.
    pub project_id: i64,
    /// Member's user id.
    pub user_id: i64,
    /// Viewer, editor or manager.
    pub role: Role,
    /// Join time, microseconds.
    pub created: i64,
}

/// A timecoded comment to insert.
#[derive(Debug, Clone, PartialEq)]
pub struct CommentRow {
    /// Id.
    pub id: i64,
    /// Project.
    pub project_id: i64,
    /// Author.
    pub user_id: i64,
    /// Text.
    pub text: String,
    /// Seconds into the video.
    pub timecode: Option<f64>,
    /// The version commented on (none when the project has no version): the project's
    /// current one, as a comment posted through the API would get.
    pub version_id: Option<i64>,
    /// Post time, microseconds.
    pub created: i64,
}

/// The content type of every seeded video.
pub const VIDEO_CONTENT_TYPE: &str = "video/mp4";

/// A version's video: a `files` row of kind `'video'` (its content type
/// [`VIDEO_CONTENT_TYPE`], its created time the version's). A type of its own rather than
/// fields of [`VersionRow`] because it is a row of another table, with its own id.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoRow {
    /// Id in `files`.
    pub id: i64,
    /// Project.
    pub project_id: i64,
    /// File name.
    pub name: String,
    /// Bytes.
    pub size: i64,
    /// Object key. No object is written under it: the seed makes rows, not media.
    pub storage_key: String,
    /// Upload time, microseconds.
    pub created: i64,
}

/// A review version to insert. Within a project, versions come in ascending `number`, so
/// SQLite's `versions_number` trigger leaves `version_seq` at the highest.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionRow {
    /// Id.
    pub id: i64,
    /// Project.
    pub project_id: i64,
    /// 1, 2, 3... within the project.
    pub number: i64,
    /// "rough cut", or none.
    pub label: Option<String>,
    /// Frames per second (a rate of the Limits table), or none.
    pub fps: Option<f64>,
    /// Seconds, or none.
    pub duration: Option<f64>,
    /// Its video's [`VideoRow::id`].
    pub file_id: i64,
    /// The uploader: the owner or an editor or manager.
    pub created_by: i64,
    /// Upload time, microseconds.
    pub created: i64,
}

/// A member's review of a version to insert.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewRow {
    /// Id.
    pub id: i64,
    /// Version.
    pub version_id: i64,
    /// Reviewer: a member of the version's project, at most one review per version.
    pub user_id: i64,
    /// Pending, approved or changes requested.
    pub status: ReviewStatus,
    /// Note, or none.
    pub note: Option<String>,
    /// Review time, microseconds.
    pub updated: i64,
}

/// A chat message to insert.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageRow {
    /// Id.
    pub id: i64,
    /// Project.
    pub project_id: i64,
    /// Author.
    pub user_id: i64,
    /// Text.
    pub text: String,
    /// Post time, microseconds.
    pub created: i64,
}

/// A memo to insert.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoRow {
    /// Id.
    pub id: i64,
    /// Project.
    pub project_id: i64,
    /// Author.
    pub user_id: i64,
    /// The day the memo is about, microseconds.
    pub date: i64,
    /// Text.
    pub text: String,
    /// Write time, microseconds.
    pub created: i64,
}

/// A run of consecutive projects with everything hanging off them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProjectBatch {
    /// Projects, ids ascending.
    pub projects: Vec<ProjectRow>,
    /// Their members.
    pub members: Vec<MemberRow>,
    /// Their versions' videos.
    pub videos: Vec<VideoRow>,
    /// Their versions, each project's in ascending number.
    pub versions: Vec<VersionRow>,
    /// Their versions' reviews.
    pub reviews: Vec<ReviewRow>,
    /// Their comments.
    pub comments: Vec<CommentRow>,
    /// Their messages.
    pub messages: Vec<MessageRow>,
    /// Their memos.
    pub memos: Vec<MemoRow>,
}

impl ProjectBatch {
    /// Rows of every table in this batch.
    pub fn rows(&self) -> usize {
        self.projects.len()
            + self.members.len()
            + self.videos.len()
            + self.versions.len()
            + self.reviews.len()
            + self.comments.len()
            + self.messages.len()
            + self.memos.len()
    }
}

/// The generator's batches, as the loader receives them (a bounded channel: generation runs
/// ahead of loading by a batch or two).
pub type Batches = tokio::sync::mpsc::Receiver<ProjectBatch>;

/// Called after each batch is written, with the number of projects it held.
pub type OnBatch<'a> = &'a (dyn Fn(usize) + Send + Sync);

/// Fast loading of generated rows, implemented by both backends.
#[async_trait]
pub trait BulkLoad: Send + Sync {
    /// `"postgres"` or `"sqlite"`.
    fn backend(&self) -> &'static str;
    /// Users in the database (the seed refuses to load on top of existing data).
    async fn user_count(&self) -> StoreResult<i64>;
    /// Deletes every row of every table and resets the id sequences (`--force`).
    async fn clear(&self) -> StoreResult<()>;
    /// Inserts `users`, then every batch received until the channel closes, in one
    /// transaction; leaves derived columns (`member_count`) and id sequences consistent.
    async fn load(
        &self,
        users: &[UserRow],
        batches: &mut Batches,
        on_batch: OnBatch<'_>,
    ) -> StoreResult<()>;
}
