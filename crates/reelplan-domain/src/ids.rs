//! Typed ids, so that a user id can never be passed where a project id is expected.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[derive(utoipa::ToSchema)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

id_type! {
    /// A user's id.
    UserId,
    /// A project's id.
    ProjectId,
    /// A membership row's id (not the member's user id).
    MemberId,
    /// A timecoded review comment's id.
    CommentId,
    /// A chat message's id.
    MessageId,
    /// A memo's id.
    MemoId,
    /// A stored file's id.
    FileId,
    /// A review version's id.
    VersionId,
}
