//! reelplan's domain: the types, roles, validation rules and permission policy of a
//! video-production project tracker. Nothing here does I/O; every layer above builds on it.

pub mod cursor;
pub mod event;
pub mod export;
pub mod file;
pub mod ids;
pub mod phase;
pub mod review;
pub mod role;
pub mod text;
pub mod validate;

pub use cursor::{Cursor, CursorError};
pub use event::EventType;
pub use file::{FileName, MediaType};
pub use ids::{CommentId, FileId, MemberId, MemoId, MessageId, ProjectId, UserId, VersionId};
pub use phase::{Phase, PhaseDates, UnknownPhase};
pub use review::{ApprovalStatus, Duration, ReviewNote, ReviewStatus, VersionLabel};
pub use role::{Action, Role};
pub use text::{
    Color, Description, DiscussionText, Email, MemoText, Nickname, Party, ProjectName, Timecode,
};
pub use validate::ValidationErrors;

/// Timestamps everywhere in reelplan: UTC, microsecond precision.
pub type Timestamp = chrono::DateTime<chrono::Utc>;
