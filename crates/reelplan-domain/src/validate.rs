//! The Limits of the API contract, one function per rule. Each returns the cleaned value
//! (trimmed, lower-cased, truncated to microseconds) or a short sentence saying what is wrong;
//! [`ValidationErrors`] collects them per field so a caller hears about every bad field at once.

use std::collections::BTreeMap;

use chrono::{DateTime, SubsecRound, Utc};

use crate::{PhaseDates, Timestamp};

/// What is wrong with a field, for the contract's `fields` object.
pub type Problem = &'static str;

/// Every field that broke a rule, by field name.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
#[error("invalid input: {0:?}")]
pub struct ValidationErrors(pub BTreeMap<String, String>);

impl ValidationErrors {
    /// Records the problem of `field`, if any, and passes the clean value on.
    pub fn check<T>(&mut self, field: &str, result: Result<T, Problem>) -> Option<T> {
        result.map_err(|problem| self.add(field, problem)).ok()
    }

    /// Records a problem with `field`.
    pub fn add(&mut self, field: &str, problem: &str) {
        self.0.insert(field.to_owned(), problem.to_owned());
    }

    /// Ok when nothing was recorded.
    pub fn finish(self) -> Result<(), ValidationErrors> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }

    /// A single-field error.
    pub fn single(field: &str, problem: &str) -> Self {
        let mut errors = Self::default();
        errors.add(field, problem);
        errors
    }
}

/// A required field: `None` is "is required".
pub fn required<T>(value: Option<T>) -> Result<T, Problem> {
    value.ok_or("is required")
}

fn char_count_between(s: &str, min: usize, max: usize, problem: Problem) -> Result<(), Problem> {
    let n = s.chars().count();
    if n < min || n > max {
        Err(problem)
    } else {
        Ok(())
    }
}

/// A valid address of at most 254 characters, returned lower-cased.
pub fn email(raw: &str) -> Result<String, Problem> {
    const BAD: Problem = "must be a valid email address of at most 254 characters";
    let email = raw.trim().to_lowercase();
    char_count_between(&email, 3, 254, BAD)?;
    let (local, domain) = email.rsplit_once('@').ok_or(BAD)?;
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
    let domain_ok = domain.contains('.')
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    if local_ok && domain_ok {
        Ok(email)
    } else {
        Err(BAD)
    }
}

/// 8-128 characters, kept exactly as typed.
pub fn password(raw: &str) -> Result<&str, Problem> {
    char_count_between(raw, 8, 128, "must be 8-128 characters")?;
    Ok(raw)
}

/// 1-50 characters after trimming.
pub fn nickname(raw: &str) -> Result<String, Problem> {
    let s = raw.trim();
    char_count_between(s, 1, 50, "must be 1-50 characters after trimming")?;
    Ok(s.to_owned())
}

/// 1-200 characters after trimming.
pub fn project_name(raw: &str) -> Result<String, Problem> {
    let s = raw.trim();
    char_count_between(s, 1, 200, "must be 1-200 characters after trimming")?;
    Ok(s.to_owned())
}

/// A project's manager or consumer: at most 100 characters.
pub fn party(raw: &str) -> Result<String, Problem> {
    char_count_between(raw, 0, 100, "must be at most 100 characters")?;
    Ok(raw.to_owned())
}

/// At most 10,000 characters.
pub fn description(raw: &str) -> Result<String, Problem> {
    char_count_between(raw, 0, 10_000, "must be at most 10,000 characters")?;
    Ok(raw.to_owned())
}

/// `#RRGGBB`, returned upper-cased.
pub fn color(raw: &str) -> Result<String, Problem> {
    let ok =
        raw.len() == 7 && raw.starts_with('#') && raw[1..].chars().all(|c| c.is_ascii_hexdigit());
    if ok {
        Ok(raw.to_ascii_uppercase())
    } else {
        Err("must be #RRGGBB")
    }
}

/// Comment or message text: 1-5,000 characters after trimming.
pub fn discussion_text(raw: &str) -> Result<String, Problem> {
    let s = raw.trim();
    char_count_between(s, 1, 5_000, "must be 1-5,000 characters after trimming")?;
    Ok(s.to_owned())
}

/// Memo text: 1-2,000 characters, not blank.
pub fn memo_text(raw: &str) -> Result<String, Problem> {
    const BAD: Problem = "must be 1-2,000 characters and not blank";
    char_count_between(raw, 1, 2_000, BAD)?;
    if raw.trim().is_empty() {
        return Err(BAD);
    }
    Ok(raw.to_owned())
}

/// A video position in seconds: finite and not negative.
pub fn timecode(raw: f64) -> Result<f64, Problem> {
    if raw.is_finite() && raw >= 0.0 {
        Ok(raw)
    } else {
        Err("must be a finite number of seconds >= 0")
    }
}

/// An RFC 3339 time with an offset, kept in UTC at microsecond precision.
pub fn time(raw: &str) -> Result<Timestamp, Problem> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc).trunc_subsecs(6))
        .map_err(|_| "must be an RFC 3339 time with an offset, e.g. 2026-03-01T09:00:00Z")
}

/// A phase's dates: both unset, or both set with the start no later than the end.
pub fn phase_dates(dates: PhaseDates) -> Result<PhaseDates, Problem> {
    match (dates.start_date, dates.end_date) {
        (None, None) => Ok(dates),
        (Some(start), Some(end)) if start <= end => Ok(dates),
        (Some(_), Some(_)) => Err("start_date must not be after end_date"),
        _ => Err("start_date and end_date must be both set or both null"),
    }
}

/// A page size: 1-100. Out of range is a bad query parameter (400), not a validation error.
pub fn page_limit(raw: Option<i64>, default: u32) -> Result<u32, Problem> {
    match raw {
        None => Ok(default),
        Some(n @ 1..=100) => Ok(n as u32),
        Some(_) => Err("limit must be 1-100"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn chars(n: usize) -> String {
        "é".repeat(n)
    }

    #[test]
    fn email_boundaries() {
        assert_eq!(email(" Ann@Example.COM ").unwrap(), "ann@example.com");
        let local = "a".repeat(64);
        let domain = format!("{}.{}.{}.com", "b".repeat(63), "c".repeat(63), "d".repeat(57));
        let at_254 = format!("{local}@{domain}");
        assert_eq!(at_254.len(), 254);
        assert!(email(&at_254).is_ok());
        assert!(email(&format!("{local}@e{domain}")).is_err());
        for bad in ["", "plain", "@x.com", "a@", "a@b", "a b@c.com", "a@b..com", "a@-b.com"] {
            assert!(email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn length_rules_at_their_boundaries() {
        assert!(password(&chars(8)).is_ok() && password(&chars(7)).is_err());
        assert!(password(&chars(128)).is_ok() && password(&chars(129)).is_err());
        assert!(nickname(&format!("  {}  ", chars(50))).is_ok());
        assert!(nickname(&chars(51)).is_err() && nickname("   ").is_err());
        assert!(project_name(&chars(200)).is_ok() && project_name(&chars(201)).is_err());
        assert!(project_name(" ").is_err());
        assert!(party(&chars(100)).is_ok() && party(&chars(101)).is_err());
        assert!(description(&chars(10_000)).is_ok() && description(&chars(10_001)).is_err());
        assert!(discussion_text(&chars(5_000)).is_ok());
        assert!(discussion_text(&chars(5_001)).is_err() && discussion_text(" \n").is_err());
        assert!(memo_text(&chars(2_000)).is_ok() && memo_text(&chars(2_001)).is_err());
        assert!(memo_text("").is_err() && memo_text("  ").is_err());
    }

    #[test]
    fn color_and_timecode() {
        assert_eq!(color("#a0b1c2").unwrap(), "#A0B1C2");
        for bad in ["a0b1c2", "#a0b1c", "#a0b1c2d", "#g0b1c2", "#ééé"] {
            assert!(color(bad).is_err(), "{bad}");
        }
        assert!(timecode(0.0).is_ok() && timecode(600.5).is_ok());
        assert!(timecode(-0.001).is_err() && timecode(f64::NAN).is_err());
        assert!(timecode(f64::INFINITY).is_err());
    }

    #[test]
    fn times_need_an_offset_and_keep_microseconds() {
        let t = time("2026-03-01T10:00:00.1234567+01:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-03-01T09:00:00.123456+00:00");
        assert!(time("2026-03-01T09:00:00").is_err() && time("yesterday").is_err());
    }

    #[test]
    fn phase_dates_rule() {
        let t = |s| Some(time(s).unwrap());
        let both = |a, b| PhaseDates { start_date: a, end_date: b };
        assert!(phase_dates(both(None, None)).is_ok());
        let (day1, day2) = (t("2026-03-01T00:00:00Z"), t("2026-03-02T00:00:00Z"));
        assert!(phase_dates(both(day1, day1)).is_ok());
        assert!(phase_dates(both(day1, day2)).is_ok());
        assert!(phase_dates(both(day2, day1)).is_err());
        assert!(phase_dates(both(day1, None)).is_err());
        assert!(phase_dates(both(None, day2)).is_err());
    }

    #[test]
    fn limits() {
        assert_eq!(page_limit(None, 20), Ok(20));
        assert_eq!(page_limit(Some(1), 20), Ok(1));
        assert_eq!(page_limit(Some(100), 20), Ok(100));
        assert!(page_limit(Some(0), 20).is_err() && page_limit(Some(101), 20).is_err());
    }

    proptest! {
        #[test]
        fn email_never_panics_and_accepts_only_what_it_returns(s in "\\PC{0,300}") {
            if let Ok(clean) = email(&s) {
                prop_assert!(clean.chars().count() <= 254);
                prop_assert_eq!(email(&clean), Ok(clean.clone()));
            }
        }

        #[test]
        fn trimmed_fields_are_idempotent(s in "\\PC{0,260}") {
            if let Ok(name) = project_name(&s) {
                prop_assert_eq!(project_name(&name), Ok(name.clone()));
            }
            if let Ok(nick) = nickname(&s) {
                prop_assert_eq!(nickname(&nick), Ok(nick.clone()));
            }
        }

        #[test]
        fn time_never_panics(s in "\\PC{0,40}") {
            let _ = time(&s);
        }

        #[test]
        fn color_accepts_exactly_hex_triplets(s in "#?[0-9a-zA-Z]{0,8}") {
            let expected = s.len() == 7 && s.starts_with('#')
                && s[1..].chars().all(|c| c.is_ascii_hexdigit());
            prop_assert_eq!(color(&s).is_ok(), expected);
        }
    }
}
