//! Review versions: the rules of their texts and numbers, and how a version's approval
//! follows from its reviews.

use serde::{Deserialize, Serialize};

use crate::validate::{char_count_between, no_nul, Problem};

/// What one member said of one version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = review_status)]
pub enum ReviewStatus {
    /// Not decided (yet, or again).
    Pending,
    /// Good to go.
    Approved,
    /// Needs another cut.
    ChangesRequested,
}

impl ReviewStatus {
    /// The wire and storage spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewStatus::Pending => "pending",
            ReviewStatus::Approved => "approved",
            ReviewStatus::ChangesRequested => "changes_requested",
        }
    }
}

/// A version's approval, derived from its reviews.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = approval_status)]
pub enum ApprovalStatus {
    /// No review approves and none asks for changes.
    Pending,
    /// At least one review approves and none asks for changes.
    Approved,
    /// Some review asks for changes.
    ChangesRequested,
}

impl ApprovalStatus {
    /// `changes_requested` when any review says so, else `approved` when at least one review
    /// approves, else `pending` (API.md, "Review versions and approvals").
    pub fn of(reviews: impl IntoIterator<Item = ReviewStatus>) -> ApprovalStatus {
        let mut status = ApprovalStatus::Pending;
        for review in reviews {
            match review {
                ReviewStatus::ChangesRequested => return ApprovalStatus::ChangesRequested,
                ReviewStatus::Approved => status = ApprovalStatus::Approved,
                ReviewStatus::Pending => {}
            }
        }
        status
    }
}

/// A version's label: at most 100 characters after trimming, no NUL; blank means none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct VersionLabel(String);

impl VersionLabel {
    /// None for a blank label.
    pub fn parse(raw: &str) -> Result<Option<Self>, Problem> {
        let s = raw.trim();
        char_count_between(s, 0, 100, "must be at most 100 characters")?;
        no_nul(s)?;
        Ok((!s.is_empty()).then(|| VersionLabel(s.to_owned())))
    }

    /// The clean text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A review's note: at most 2,000 characters, as typed, no NUL; blank means none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ReviewNote(String);

impl ReviewNote {
    /// None for a blank note.
    pub fn parse(raw: &str) -> Result<Option<Self>, Problem> {
        char_count_between(raw, 0, 2_000, "must be at most 2,000 characters")?;
        no_nul(raw)?;
        Ok((!raw.trim().is_empty()).then(|| ReviewNote(raw.to_owned())))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A video's length in seconds: finite and > 0.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct Duration(f64);

impl Duration {
    /// Finite and > 0.
    pub fn parse(raw: f64) -> Result<Self, Problem> {
        if raw.is_finite() && raw > 0.0 {
            Ok(Duration(raw))
        } else {
            Err("must be a finite number of seconds > 0")
        }
    }

    /// The seconds.
    pub fn seconds(self) -> f64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReviewStatus::*;

    #[test]
    fn approval_follows_every_combination_of_reviews() {
        let statuses = [Pending, Approved, ChangesRequested];
        assert_eq!(ApprovalStatus::of([]), ApprovalStatus::Pending);
        // Every multiset of up to three reviews, in every order.
        for a in statuses {
            for b in statuses {
                for c in statuses {
                    for reviews in [vec![a], vec![a, b], vec![a, b, c]] {
                        let expected = if reviews.contains(&ChangesRequested) {
                            ApprovalStatus::ChangesRequested
                        } else if reviews.contains(&Approved) {
                            ApprovalStatus::Approved
                        } else {
                            ApprovalStatus::Pending
                        };
                        assert_eq!(ApprovalStatus::of(reviews.clone()), expected, "{reviews:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn labels_notes_and_durations_keep_their_rules() {
        assert_eq!(VersionLabel::parse("  ").unwrap(), None);
        assert_eq!(VersionLabel::parse(" rough cut ").unwrap().unwrap().as_str(), "rough cut");
        assert!(VersionLabel::parse(&"x".repeat(100)).is_ok());
        assert!(VersionLabel::parse(&"x".repeat(101)).is_err());
        assert!(VersionLabel::parse("a\0b").is_err());
        assert!(ReviewNote::parse(&"é".repeat(2_000)).is_ok());
        assert!(ReviewNote::parse(&"é".repeat(2_001)).is_err());
        assert_eq!(ReviewNote::parse("").unwrap(), None);
        assert!(Duration::parse(0.0).is_err());
        assert!(Duration::parse(f64::INFINITY).is_err());
        assert!(Duration::parse(f64::NAN).is_err());
        assert_eq!(Duration::parse(12.5).unwrap().seconds(), 12.5);
    }
}
