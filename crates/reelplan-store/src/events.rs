//! The project event log: the outbox row every write records in the same statement as its
//! change, what a stream replays and catches up from, and a project's activity.

use reelplan_domain::{EventType, ProjectId, Timestamp, UserId};
use serde::{Deserialize, Serialize};

/// One recorded change of a project. It serialises as the contract's `event` (six fields); the
/// subject is read from the database but never written out, so it cannot reach a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = event)]
pub struct Event {
    /// Grows with time (a database sequence); the SSE `id:` field and `Last-Event-ID`.
    pub id: i64,
    /// What happened.
    #[serde(rename = "type")]
    pub kind: EventType,
    /// The project it happened to.
    pub project_id: ProjectId,
    /// The id of what changed: the project (project and phase events), the member row, the
    /// comment, message, memo, file or version (a review's event names its version).
    pub object_id: i64,
    /// Who made the change.
    pub actor_id: UserId,
    /// When the change was committed.
    #[schema(value_type = String, format = DateTime)]
    pub created: Timestamp,
    /// The user whose access the event changes: the member added, changed or removed, and the
    /// owner of a project just created. A stream follows a project from its user's
    /// `member.added` (or the creation) and stops after its `member.removed`.
    #[serde(default, skip_serializing)]
    pub subject_id: Option<UserId>,
}

/// What a write returns together with the event it recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded<T> {
    /// The write's own result.
    pub value: T,
    /// The outbox row written with it.
    pub event: Event,
}

/// What a stream starts from, read in one statement.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StreamStart {
    /// Every project the user takes part in now (owned or member of).
    pub projects: Vec<ProjectId>,
    /// The highest event id pruned from the log (0 when none was): a stream resuming before it
    /// may have missed events the log no longer holds.
    pub horizon: i64,
    /// The user's events after the requested id, oldest first, at most the requested limit:
    /// those of their current projects (see `projects`) since they joined each, their own
    /// `member.removed`, and `project.deleted` of projects they took part in. A project they
    /// have left shows by their removal alone.
    pub events: Vec<Event>,
}
