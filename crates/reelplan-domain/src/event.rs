//! The kinds of change a project's event log records (API.md, "Live updates and activity").

use serde::{Deserialize, Serialize};

/// What an event says happened. Serialised as its dotted name (`"phase.updated"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum EventType {
    /// A project was created (its owner's first event of it) or its fields changed.
    #[serde(rename = "project.updated")]
    ProjectUpdated,
    /// A project was deleted; its last event.
    #[serde(rename = "project.deleted")]
    ProjectDeleted,
    /// One phase's dates changed.
    #[serde(rename = "phase.updated")]
    PhaseUpdated,
    /// A member was added.
    #[serde(rename = "member.added")]
    MemberAdded,
    /// A member's role changed.
    #[serde(rename = "member.updated")]
    MemberUpdated,
    /// A member was removed, or left.
    #[serde(rename = "member.removed")]
    MemberRemoved,
    /// A timecoded comment (or reply) was posted.
    #[serde(rename = "comment.created")]
    CommentCreated,
    /// A comment's text or resolution changed.
    #[serde(rename = "comment.updated")]
    CommentUpdated,
    /// A comment (with its replies) was deleted.
    #[serde(rename = "comment.deleted")]
    CommentDeleted,
    /// A chat message was posted.
    #[serde(rename = "message.created")]
    MessageCreated,
    /// A memo was added.
    #[serde(rename = "memo.created")]
    MemoCreated,
    /// A memo was deleted.
    #[serde(rename = "memo.deleted")]
    MemoDeleted,
    /// A project file was uploaded.
    #[serde(rename = "file.created")]
    FileCreated,
    /// A project file was deleted.
    #[serde(rename = "file.deleted")]
    FileDeleted,
    /// A review version was uploaded.
    #[serde(rename = "version.created")]
    VersionCreated,
    /// A version's label, fps or duration changed.
    #[serde(rename = "version.updated")]
    VersionUpdated,
    /// A version was deleted, with its comments and reviews.
    #[serde(rename = "version.deleted")]
    VersionDeleted,
    /// A member's review of a version was recorded or replaced.
    #[serde(rename = "review.updated")]
    ReviewUpdated,
}

impl EventType {
    /// Every type, in API.md's order.
    pub const ALL: [EventType; 18] = [
        EventType::ProjectUpdated,
        EventType::ProjectDeleted,
        EventType::PhaseUpdated,
        EventType::MemberAdded,
        EventType::MemberUpdated,
        EventType::MemberRemoved,
        EventType::CommentCreated,
        EventType::CommentUpdated,
        EventType::CommentDeleted,
        EventType::MessageCreated,
        EventType::MemoCreated,
        EventType::MemoDeleted,
        EventType::FileCreated,
        EventType::FileDeleted,
        EventType::VersionCreated,
        EventType::VersionUpdated,
        EventType::VersionDeleted,
        EventType::ReviewUpdated,
    ];

    /// The dotted name: the SSE `event:` field and the stored `type` column.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::ProjectUpdated => "project.updated",
            EventType::ProjectDeleted => "project.deleted",
            EventType::PhaseUpdated => "phase.updated",
            EventType::MemberAdded => "member.added",
            EventType::MemberUpdated => "member.updated",
            EventType::MemberRemoved => "member.removed",
            EventType::CommentCreated => "comment.created",
            EventType::CommentUpdated => "comment.updated",
            EventType::CommentDeleted => "comment.deleted",
            EventType::MessageCreated => "message.created",
            EventType::MemoCreated => "memo.created",
            EventType::MemoDeleted => "memo.deleted",
            EventType::FileCreated => "file.created",
            EventType::FileDeleted => "file.deleted",
            EventType::VersionCreated => "version.created",
            EventType::VersionUpdated => "version.updated",
            EventType::VersionDeleted => "version.deleted",
            EventType::ReviewUpdated => "review.updated",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::EventType;

    #[test]
    fn the_serde_name_is_the_dotted_name() {
        for kind in EventType::ALL {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(serde_json::from_str::<EventType>(&json).unwrap(), kind);
        }
    }
}
