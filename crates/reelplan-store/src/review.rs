//! Read and write models of review versions and their reviews.
//!
//! A version's approval status and a summary's review status are derived here, from the
//! review statuses the SQL returns, so the rule of API.md is written once for both backends.

use reelplan_domain::export::FrameRate;
use reelplan_domain::{
    ApprovalStatus, Duration, ReviewNote, ReviewStatus, Timestamp, VersionId, VersionLabel,
};
use serde::{Deserialize, Serialize};

use crate::model::{micros, FileMeta, ProjectAccess, UserRef};

/// `version`: one numbered cut of a project's review video.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(from = "StoredVersion")]
#[schema(as = version)]
pub struct Version {
    /// Id.
    pub id: VersionId,
    /// 1, 2, 3... per project, never reused.
    pub number: i64,
    /// "rough cut", or null.
    pub label: Option<String>,
    /// The video; `file.url` serves it.
    pub file: FileMeta,
    /// Frames per second, or null.
    pub fps: Option<f64>,
    /// Seconds, or null.
    pub duration: Option<f64>,
    /// Who uploaded it.
    pub created_by: UserRef,
    /// Upload time.
    #[schema(value_type = String, format = DateTime)]
    pub created: Timestamp,
    /// Comments on this version, replies included.
    pub comment_count: i64,
    /// Its approval, from its reviews.
    pub approval: Approval,
}

/// A version's approval: the status its reviews give, and the reviews.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = approval)]
pub struct Approval {
    /// `changes_requested` when any review says so, else `approved` when one approves, else
    /// `pending`.
    pub status: ApprovalStatus,
    /// Newest `updated` first.
    pub reviews: Vec<Review>,
}

/// `review`: one member's verdict on one version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = review)]
pub struct Review {
    /// The reviewer.
    pub user: UserRef,
    /// What they said.
    pub status: ReviewStatus,
    /// Their note, or null.
    pub note: Option<String>,
    /// When they said it.
    #[serde(deserialize_with = "micros::de")]
    #[schema(value_type = String, format = DateTime)]
    pub updated: Timestamp,
}

/// A version as the SQL writes it: the reviews without the status they give.
#[derive(Deserialize)]
struct StoredVersion {
    id: VersionId,
    number: i64,
    label: Option<String>,
    file: FileMeta,
    fps: Option<f64>,
    duration: Option<f64>,
    created_by: UserRef,
    #[serde(deserialize_with = "micros::de")]
    created: Timestamp,
    comment_count: i64,
    reviews: Vec<Review>,
}

impl From<StoredVersion> for Version {
    fn from(v: StoredVersion) -> Self {
        let status = ApprovalStatus::of(v.reviews.iter().map(|review| review.status));
        Version {
            id: v.id,
            number: v.number,
            label: v.label,
            file: v.file,
            fps: v.fps,
            duration: v.duration,
            created_by: v.created_by,
            created: v.created,
            comment_count: v.comment_count,
            approval: Approval { status, reviews: v.reviews },
        }
    }
}

/// `project_summary.review`: the current version's number and approval status.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(from = "StoredReviewSummary")]
#[schema(as = review_summary)]
pub struct ReviewSummary {
    /// The current version's number; null without a version.
    pub version: Option<i64>,
    /// `none` without a version, else its approval status.
    pub status: ReviewSummaryStatus,
}

/// The review status a project list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = review_summary_status)]
pub enum ReviewSummaryStatus {
    /// The project has no version.
    None,
    /// See [`ApprovalStatus::Pending`].
    Pending,
    /// See [`ApprovalStatus::Approved`].
    Approved,
    /// See [`ApprovalStatus::ChangesRequested`].
    ChangesRequested,
}

/// `{version, statuses}`: the current version's number and its reviews' statuses.
#[derive(Deserialize)]
struct StoredReviewSummary {
    version: Option<i64>,
    #[serde(default)]
    statuses: Option<Vec<ReviewStatus>>,
}

impl From<StoredReviewSummary> for ReviewSummary {
    fn from(stored: StoredReviewSummary) -> Self {
        let status = match stored.version {
            None => ReviewSummaryStatus::None,
            Some(_) => match ApprovalStatus::of(stored.statuses.unwrap_or_default()) {
                ApprovalStatus::Pending => ReviewSummaryStatus::Pending,
                ApprovalStatus::Approved => ReviewSummaryStatus::Approved,
                ApprovalStatus::ChangesRequested => ReviewSummaryStatus::ChangesRequested,
            },
        };
        ReviewSummary { version: stored.version, status }
    }
}

/// What a new version carries besides its video.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewVersion {
    /// Its label, if any.
    pub label: Option<VersionLabel>,
    /// Frames per second, if known.
    pub fps: Option<FrameRate>,
    /// Its length, if known.
    pub duration: Option<Duration>,
}

/// A change to a version: `None` leaves a field, `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VersionPatch {
    /// New label.
    pub label: Option<Option<VersionLabel>>,
    /// New frames per second.
    pub fps: Option<Option<FrameRate>>,
    /// New duration.
    pub duration: Option<Option<Duration>>,
}

/// A review to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReview {
    /// The verdict.
    pub status: ReviewStatus,
    /// The note, if any.
    pub note: Option<ReviewNote>,
}

/// The access list of a project and one of its versions, read in one statement.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct VersionAccess {
    /// Who may read the version.
    pub access: ProjectAccess,
    /// The version, or None when the project has no such version.
    pub version: Option<Version>,
}

/// What a version's comment export needs, read in one statement: who may read it, the
/// project's name (for the file name), the version, and its comments oldest first.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ExportRows {
    /// Who may read it.
    pub access: ProjectAccess,
    /// The project's name.
    pub project_name: String,
    /// The version, or None when the project has no such version.
    pub version: Option<ExportedVersion>,
    /// The version's comments and replies, oldest first (filtered by resolution).
    pub comments: Vec<crate::Comment>,
}

/// The fields of a version an export uses.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct ExportedVersion {
    /// Its number.
    pub number: i64,
    /// Frames per second, if known.
    pub fps: Option<f64>,
    /// Seconds, if known.
    pub duration: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_without_a_version_shows_none() {
        let none: ReviewSummary =
            serde_json::from_str(r#"{"version":null,"statuses":null}"#).unwrap();
        assert_eq!(none, ReviewSummary { version: None, status: ReviewSummaryStatus::None });
        let pending: ReviewSummary =
            serde_json::from_str(r#"{"version":2,"statuses":[]}"#).unwrap();
        assert_eq!(pending.status, ReviewSummaryStatus::Pending);
        let mixed: ReviewSummary =
            serde_json::from_str(r#"{"version":3,"statuses":["approved","changes_requested"]}"#)
                .unwrap();
        assert_eq!(mixed.status, ReviewSummaryStatus::ChangesRequested);
        assert_eq!(
            serde_json::to_string(&mixed).unwrap(),
            r#"{"version":3,"status":"changes_requested"}"#
        );
    }
}
