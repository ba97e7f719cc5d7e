//! The Limits of the API contract that are not texts of their own (those are the types of
//! [`crate::text`] and [`crate::file`]): passwords, times, phase dates and page sizes. Each
//! returns the cleaned value or a short sentence saying what is wrong; [`ValidationErrors`]
//! collects them per field so a caller hears about every bad field at once.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, SubsecRound, Utc};

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

    /// The value `build` makes of the fields [`check`](Self::check) passed on, when nothing was
    /// recorded; else every problem. `check` answers None exactly when it records a problem,
    /// so `build` (which takes the checked values with `?`) has them all when there is none.
    pub fn finish_with<T>(self, build: impl FnOnce() -> Option<T>) -> Result<T, ValidationErrors> {
        match build() {
            Some(value) if self.0.is_empty() => Ok(value),
            _ => Err(self),
        }
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

pub(crate) fn char_count_between(
    s: &str,
    min: usize,
    max: usize,
    problem: Problem,
) -> Result<(), Problem> {
    let n = s.chars().count();
    if n < min || n > max {
        Err(problem)
    } else {
        Ok(())
    }
}

/// PostgreSQL `text` cannot hold U+0000 (SQLite can): every stored text refuses it, so both
/// backends give the same answer and neither turns it into a 500.
pub(crate) fn no_nul(s: &str) -> Result<(), Problem> {
    if s.contains('\0') {
        Err("must not contain NUL characters")
    } else {
        Ok(())
    }
}

/// 8-128 characters, kept exactly as typed.
pub fn password(raw: &str) -> Result<&str, Problem> {
    char_count_between(raw, 8, 128, "must be 8-128 characters")?;
    Ok(raw)
}

/// An RFC 3339 time with an offset, kept in UTC at microsecond precision, within the years
/// 0000-9999 once in UTC.
pub fn time(raw: &str) -> Result<Timestamp, Problem> {
    let t = DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc).trunc_subsecs(6))
        .map_err(|_| "must be an RFC 3339 time with an offset, e.g. 2026-03-01T09:00:00Z")?;
    // RFC 3339 years have four digits: `9999-12-31T23:59:59-01:00` is year 10000 in UTC, which
    // could be stored but never answered as RFC 3339 ("+10000-01-01T00:59:59Z").
    if (0..=9999).contains(&t.year()) {
        Ok(t)
    } else {
        Err("must fall within the years 0000-9999 in UTC")
    }
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
    use crate::text::{
        Color, Description, DiscussionText, Email, MemoText, Nickname, Party, ProjectName, Timecode,
    };
    use proptest::prelude::*;

    /// The text rules as functions of the raw text to the clean one, as the tests state them.
    macro_rules! rules {
        ($($rule:ident: $type:ident),*) => {$(
            fn $rule(raw: &str) -> Result<String, Problem> {
                $type::parse(raw).map(|v| v.as_str().to_owned())
            }
        )*};
    }
    rules!(email: Email, nickname: Nickname, project_name: ProjectName, party: Party,
        description: Description, color: Color, discussion_text: DiscussionText,
        memo_text: MemoText);

    fn timecode(raw: f64) -> Result<f64, Problem> {
        Timecode::parse(raw).map(Timecode::value)
    }

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

    /// A rule on a stored text field.
    type TextRule = fn(&str) -> Result<String, Problem>;

    #[test]
    fn stored_texts_refuse_nul() {
        let rules: [TextRule; 6] =
            [nickname, project_name, party, description, discussion_text, memo_text];
        for rule in rules {
            assert!(rule("a\0b").is_err() && rule("a b").is_ok());
        }
        // A password is only ever hashed, never stored: any character goes.
        assert!(password("pass\0word").is_ok());
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
    fn times_stay_within_four_digit_years_in_utc() {
        assert!(time("9999-12-31T23:59:59Z").is_ok() && time("0000-01-01T00:00:00Z").is_ok());
        assert!(time("9999-12-31T23:59:59-01:00").is_err());
        assert!(time("0000-01-01T00:00:00+01:00").is_err());
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

    /// Arbitrary characters (control, combining, astral, whitespace: anything) whose count
    /// lies within 2 of `n`, often with whitespace at either end: the rules' boundaries with
    /// the trimming they do or do not do.
    fn near(n: usize) -> impl Strategy<Value = String> {
        let pad = || "[ \t\n\u{3000}\u{a0}]{0,2}";
        let body = prop::collection::vec(any::<char>(), n.saturating_sub(2)..=n + 2);
        (pad(), body, pad()).prop_map(|(a, body, b)| format!("{a}{}{b}", String::from_iter(body)))
    }

    /// Text for a rule with bounds `min..=max`: near either bound, or short and arbitrary.
    fn text(min: usize, max: usize) -> impl Strategy<Value = String> {
        prop_oneof![
            near(min),
            near(max),
            "\\PC{0,20}",
            "[ \t\n]{0,4}",
            "[a-z ]{0,5}\\x00[a-z ]{0,5}"
        ]
    }

    /// A trimming length rule: accepts exactly the inputs whose trimmed length is in bounds,
    /// and returns the trimmed text.
    fn check_trimmed(
        rule: TextRule,
        s: &str,
        bounds: std::ops::RangeInclusive<usize>,
    ) -> Result<(), TestCaseError> {
        let n = s.trim().chars().count();
        let allowed = bounds.contains(&n) && !s.contains('\0');
        match rule(s) {
            Ok(clean) => {
                prop_assert_eq!(clean.as_str(), s.trim());
                prop_assert!(allowed, "accepted {n} characters");
            }
            Err(problem) => prop_assert!(!allowed, "refused {n} characters: {problem}"),
        }
        Ok(())
    }

    /// A length rule that keeps the text as typed: accepts exactly the inputs whose length
    /// is in bounds, unchanged.
    fn check_kept(
        rule: TextRule,
        s: &str,
        bounds: std::ops::RangeInclusive<usize>,
    ) -> Result<(), TestCaseError> {
        let n = s.chars().count();
        let allowed = bounds.contains(&n) && !s.contains('\0');
        match rule(s) {
            Ok(clean) => {
                prop_assert_eq!(clean.as_str(), s);
                prop_assert!(allowed, "accepted {n} characters");
            }
            Err(_) => prop_assert!(!allowed, "refused {n} characters"),
        }
        Ok(())
    }

    fn timestamp(micros: i64) -> Timestamp {
        Timestamp::from_timestamp_micros(micros).expect("in range")
    }

    proptest! {
        #[test]
        fn nickname_is_1_to_50_after_trimming(s in text(1, 50)) {
            check_trimmed(nickname, &s, 1..=50)?;
        }

        #[test]
        fn project_name_is_1_to_200_after_trimming(s in text(1, 200)) {
            check_trimmed(project_name, &s, 1..=200)?;
        }

        #[test]
        fn discussion_text_is_1_to_5000_after_trimming(s in text(1, 5_000)) {
            check_trimmed(discussion_text, &s, 1..=5_000)?;
        }

        #[test]
        fn party_is_at_most_100_as_typed(s in text(0, 100)) {
            check_kept(party, &s, 0..=100)?;
        }

        #[test]
        fn description_is_at_most_10000_as_typed(s in text(0, 10_000)) {
            check_kept(description, &s, 0..=10_000)?;
        }

        #[test]
        fn password_is_8_to_128_as_typed(s in text(8, 128)) {
            let n = s.chars().count();
            match password(&s) {
                Ok(kept) => prop_assert!(kept == s && (8..=128).contains(&n)),
                Err(_) => prop_assert!(!(8..=128).contains(&n)),
            }
        }

        #[test]
        fn memo_text_is_1_to_2000_and_not_blank(s in text(1, 2_000)) {
            let n = s.chars().count();
            let allowed = (1..=2_000).contains(&n) && !s.trim().is_empty() && !s.contains('\0');
            match memo_text(&s) {
                Ok(kept) => prop_assert!(kept == s && allowed),
                Err(_) => prop_assert!(!allowed),
            }
        }

        #[test]
        fn accepted_emails_keep_the_rule(
            s in prop_oneof![
                "\\PC{0,300}",
                "[ ]?[a-zA-Z0-9._%+@ -]{0,70}@[a-zA-Z0-9.@-]{0,70}[ ]?",
                near(254),
            ],
        ) {
            if let Ok(clean) = email(&s) {
                prop_assert_eq!(&clean, &s.trim().to_lowercase());
                prop_assert!((3..=254).contains(&clean.chars().count()));
                let (local, domain) = clean.split_once('@').expect("an @");
                prop_assert!(!domain.contains('@'), "one @ only: {clean}");
                prop_assert!(!local.is_empty() && local.len() <= 64);
                prop_assert!(domain.contains('.') && !clean.chars().any(char::is_whitespace));
            }
        }

        #[test]
        fn well_formed_emails_are_accepted(
            local in "[a-z0-9][a-z0-9._+-]{0,40}[a-z0-9]",
            labels in prop::collection::vec("[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", 2..5),
            upper: bool,
        ) {
            prop_assume!(!local.contains(".."));
            let address = format!("{local}@{}", labels.join("."));
            let typed = if upper { format!(" {} ", address.to_uppercase()) } else { address.clone() };
            prop_assert_eq!(email(&typed), Ok(address));
        }

        #[test]
        fn timecode_is_finite_and_not_negative(
            t in prop_oneof![
                any::<f64>(),
                Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY),
                Just(-0.0), Just(0.0), Just(-f64::MIN_POSITIVE), Just(f64::MAX),
            ],
        ) {
            match timecode(t) {
                Ok(kept) => {
                    prop_assert!(t.is_finite() && t >= 0.0);
                    prop_assert!(kept == t && kept.is_sign_positive());
                }
                Err(_) => prop_assert!(!t.is_finite() || t < 0.0),
            }
        }

        #[test]
        fn times_with_an_offset_are_accepted_in_utc(
            y in prop_oneof![Just(0i32), Just(9999), 0i32..=9999],
            (mo, d) in prop_oneof![Just((1u32, 1u32)), Just((12, 31)), (1u32..=12, 1u32..=28)],
            (h, mi, sec) in (0u32..24, 0u32..60, 0u32..60),
            frac in "(\\.[0-9]{1,9})?",
            offset in prop_oneof![Just("Z".to_owned()), (any::<bool>(), 0u32..24, 0u32..60)
                .prop_map(|(neg, oh, om)| format!("{}{oh:02}:{om:02}", if neg { '-' } else { '+' }))],
        ) {
            let local = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{sec:02}{frac}");
            prop_assert!(time(&local).is_err(), "no offset: {local}");
            let exact = DateTime::parse_from_rfc3339(&format!("{local}{offset}"))
                .expect("a valid RFC 3339 time")
                .with_timezone(&Utc);
            let Ok(parsed) = time(&format!("{local}{offset}")) else {
                // Refused only when the offset pushes it out of the four-digit years.
                prop_assert!(!(0..=9999).contains(&exact.year()), "{local}{offset} refused");
                return Ok(());
            };
            prop_assert!((0..=9999).contains(&parsed.year()));
            prop_assert_eq!(parsed.timestamp_subsec_nanos() % 1_000, 0, "microseconds");
            let lost = exact - parsed;
            prop_assert!(lost >= chrono::TimeDelta::zero() && lost < chrono::TimeDelta::microseconds(1));
            // What is answered later parses back to the same time.
            prop_assert_eq!(time(&parsed.to_rfc3339()), Ok(parsed));
        }

        #[test]
        fn accepted_times_are_stable(s in prop_oneof!["\\PC{0,40}", "[0-9T:Z+.-]{10,35}"]) {
            if let Ok(t) = time(&s) {
                prop_assert_eq!(t.timestamp_subsec_nanos() % 1_000, 0);
                prop_assert_eq!(time(&t.to_rfc3339()), Ok(t));
            }
        }

        #[test]
        fn phase_dates_are_both_null_or_ordered(
            start in prop::option::of(-10_000_000_000_000i64..10_000_000_000_000),
            end in prop::option::of(-10_000_000_000_000i64..10_000_000_000_000),
        ) {
            let dates = PhaseDates { start_date: start.map(timestamp), end_date: end.map(timestamp) };
            let allowed = match (start, end) {
                (None, None) => true,
                (Some(s), Some(e)) => s <= e,
                _ => false,
            };
            match phase_dates(dates) {
                Ok(kept) => prop_assert!(allowed && kept == dates),
                Err(_) => prop_assert!(!allowed),
            }
        }

        #[test]
        fn page_limit_is_1_to_100_or_the_default(raw: Option<i64>, default in 1u32..=100) {
            match page_limit(raw, default) {
                Ok(n) => prop_assert_eq!(Some(n as i64), Some(raw.unwrap_or(default as i64))
                    .filter(|n| (1..=100).contains(n))),
                Err(_) => prop_assert!(raw.is_some_and(|n| !(1..=100).contains(&n))),
            }
        }

        #[test]
        fn errors_name_exactly_the_bad_fields(
            checks in prop::collection::vec(("[a-d]", any::<bool>()), 0..8),
        ) {
            let mut errors = ValidationErrors::default();
            for (field, ok) in &checks {
                let result = if *ok { Ok(()) } else { Err("is wrong") };
                prop_assert_eq!(errors.check(field, result).is_some(), *ok);
            }
            let bad: std::collections::BTreeSet<_> =
                checks.iter().filter(|(_, ok)| !ok).map(|(f, _)| f.clone()).collect();
            match errors.finish() {
                Ok(()) => prop_assert!(bad.is_empty()),
                Err(e) => prop_assert_eq!(e.0.keys().cloned().collect::<std::collections::BTreeSet<_>>(), bad),
            }
        }
    }
}
