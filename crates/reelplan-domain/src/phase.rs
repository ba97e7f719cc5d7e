//! The eight production phases, always in this order.

use crate::Timestamp;

/// A production phase. The derived order is the production order. Deserialised from its wire
/// name, so a path or body naming another phase is refused where it is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Deserialize)]
#[serde(try_from = "String")]
pub enum Phase {
    /// Planning.
    BasicPlan,
    /// Story board.
    StoryBoard,
    /// Filming.
    Filming,
    /// Editing.
    VideoEdit,
    /// Post-production.
    PostWork,
    /// Preview with the client.
    VideoPreview,
    /// Client confirmation.
    Confirmation,
    /// Delivery.
    VideoDelivery,
}

/// A phase name outside the eight.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no phase is named {0:?}")]
pub struct UnknownPhase(pub String);

impl TryFrom<String> for Phase {
    type Error = UnknownPhase;

    fn try_from(name: String) -> Result<Self, UnknownPhase> {
        Phase::parse(&name)
    }
}

impl Phase {
    /// All eight, in production order.
    pub const ALL: [Phase; 8] = [
        Phase::BasicPlan,
        Phase::StoryBoard,
        Phase::Filming,
        Phase::VideoEdit,
        Phase::PostWork,
        Phase::VideoPreview,
        Phase::Confirmation,
        Phase::VideoDelivery,
    ];

    /// The wire name, which is also the stem of its two storage columns.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::BasicPlan => "basic_plan",
            Phase::StoryBoard => "story_board",
            Phase::Filming => "filming",
            Phase::VideoEdit => "video_edit",
            Phase::PostWork => "post_work",
            Phase::VideoPreview => "video_preview",
            Phase::Confirmation => "confirmation",
            Phase::VideoDelivery => "video_delivery",
        }
    }

    /// Position in production order, 0-7.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Parses a wire name.
    pub fn parse(name: &str) -> Result<Phase, UnknownPhase> {
        Phase::ALL
            .into_iter()
            .find(|p| p.as_str() == name)
            .ok_or_else(|| UnknownPhase(name.to_owned()))
    }
}

/// The dates of one phase: both unset, or a start no later than its end (checked by
/// [`crate::validate::phase_dates`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PhaseDates {
    /// When the phase starts.
    pub start_date: Option<Timestamp>,
    /// When the phase ends.
    pub end_date: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_deserialise_from_their_wire_names_only() {
        use serde::de::{value::Error, Deserialize, IntoDeserializer};
        let parse = |name: &str| Phase::deserialize(name.to_owned().into_deserializer());
        for phase in Phase::ALL {
            assert_eq!(parse(phase.as_str()), Ok::<_, Error>(phase));
        }
        assert!(parse("Filming").is_err());
        assert!(parse("shooting").is_err());
    }

    #[test]
    fn names_round_trip_in_order() {
        for (i, phase) in Phase::ALL.into_iter().enumerate() {
            assert_eq!(Phase::parse(phase.as_str()), Ok(phase));
            assert_eq!(phase.index(), i);
        }
        assert!(Phase::parse("colour_grading").is_err());
    }

    proptest::proptest! {
        #[test]
        fn only_the_eight_names_parse(s in "\\PC{0,20}|[a-z_]{4,14}") {
            let known = Phase::ALL.iter().any(|p| p.as_str() == s);
            proptest::prop_assert_eq!(Phase::parse(&s).is_ok(), known);
        }
    }
}
