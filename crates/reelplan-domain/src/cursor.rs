//! Opaque keyset cursors: the (created, id) position of the last row of a page.
//!
//! A decoded time lies within years 1 to 9999 ([`Cursor::EARLIEST_MICROS`] to
//! [`Cursor::LATEST_MICROS`]): every time a row can hold is in that range, RFC 3339 writes
//! only four-digit years, and a crafted cursor outside PostgreSQL's timestamp range would
//! otherwise reach the database and fail there (500) instead of being refused (400).

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};

use crate::Timestamp;

/// Where the next page starts: strictly after this (created, id) in the list's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// The last row's creation time.
    pub created: Timestamp,
    /// The last row's id, breaking ties between equal times.
    pub id: i64,
}

/// A cursor the server did not hand out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the cursor is not one this server handed out")]
pub struct CursorError;

impl Cursor {
    /// 0001-01-01T00:00:00Z, in microseconds since the Unix epoch.
    pub const EARLIEST_MICROS: i64 = -62_135_596_800_000_000;
    /// 9999-12-31T23:59:59.999999Z, in microseconds since the Unix epoch.
    pub const LATEST_MICROS: i64 = 253_402_300_799_999_999;

    /// The opaque text handed to clients.
    pub fn encode(self) -> String {
        let micros = self.created.timestamp_micros();
        URL_SAFE_NO_PAD.encode(format!("{micros}:{}", self.id))
    }

    /// Reads back what [`Cursor::encode`] produced.
    pub fn decode(text: &str) -> Result<Cursor, CursorError> {
        if text.len() > 64 {
            return Err(CursorError);
        }
        let raw = URL_SAFE_NO_PAD.decode(text).map_err(|_| CursorError)?;
        let raw = std::str::from_utf8(&raw).map_err(|_| CursorError)?;
        let (micros, id) = raw.split_once(':').ok_or(CursorError)?;
        let micros: i64 = micros.parse().map_err(|_| CursorError)?;
        let id: i64 = id.parse().map_err(|_| CursorError)?;
        if !(Self::EARLIEST_MICROS..=Self::LATEST_MICROS).contains(&micros) {
            return Err(CursorError);
        }
        let created = Timestamp::from_timestamp_micros(micros).ok_or(CursorError)?;
        Ok(Cursor { created, id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn round_trips(micros in Cursor::EARLIEST_MICROS..=Cursor::LATEST_MICROS, id: i64) {
            let cursor = Cursor { created: Timestamp::from_timestamp_micros(micros).unwrap(), id };
            prop_assert_eq!(Cursor::decode(&cursor.encode()), Ok(cursor));
        }

        #[test]
        fn decoding_arbitrary_text_never_panics(s in "\\PC{0,80}") {
            let _ = Cursor::decode(&s);
        }
    }

    proptest! {
        #[test]
        fn decoding_any_base64_never_panics_and_is_consistent(
            bytes in prop::collection::vec(any::<u8>(), 0..60),
        ) {
            let text = URL_SAFE_NO_PAD.encode(&bytes);
            if let Ok(cursor) = Cursor::decode(&text) {
                // Whatever was accepted names a position that survives a round trip.
                prop_assert_eq!(Cursor::decode(&cursor.encode()), Ok(cursor));
                prop_assert!(text.len() <= 64);
            }
        }

        #[test]
        fn decoding_the_url_safe_alphabet_never_panics(s in "[A-Za-z0-9_=+/-]{0,90}") {
            let _ = Cursor::decode(&s);
        }

        #[test]
        fn a_pair_of_integers_is_a_cursor_iff_the_time_is_in_range(micros: i64, id: i64) {
            let text = URL_SAFE_NO_PAD.encode(format!("{micros}:{id}"));
            let in_range = (Cursor::EARLIEST_MICROS..=Cursor::LATEST_MICROS).contains(&micros);
            match Timestamp::from_timestamp_micros(micros).filter(|_| in_range) {
                Some(created) => prop_assert_eq!(Cursor::decode(&text), Ok(Cursor { created, id })),
                None => prop_assert_eq!(Cursor::decode(&text), Err(CursorError)),
            }
        }

        #[test]
        fn anything_longer_than_64_is_refused(s in "[A-Za-z0-9_-]{65,200}") {
            prop_assert_eq!(Cursor::decode(&s), Err(CursorError));
        }
    }

    #[test]
    fn the_length_limit_is_64_characters() {
        // Zero-padded numbers still parse, which lets the text grow to the limit exactly:
        // 48 bytes encode to 64 characters, 49 to 66.
        let padded = |n: usize| URL_SAFE_NO_PAD.encode(format!("{:0>w$}:7", 5, w = n - 2));
        assert_eq!(padded(48).len(), 64);
        let at_limit = Cursor::decode(&padded(48)).expect("64 characters are fine");
        assert_eq!((at_limit.created.timestamp_micros(), at_limit.id), (5, 7));
        assert_eq!(Cursor::decode(&padded(49)), Err(CursorError));
        // The longest real cursor fits well inside.
        let extreme = Cursor { created: Timestamp::MIN_UTC, id: i64::MIN }.encode();
        assert!(extreme.len() <= 64, "{extreme}");
    }

    #[test]
    fn times_are_bounded_to_years_1_to_9999() {
        let at = |micros: i64| URL_SAFE_NO_PAD.encode(format!("{micros}:1"));
        let year = |micros| Cursor::decode(&at(micros)).map(|c| c.created.to_rfc3339());
        assert_eq!(year(Cursor::EARLIEST_MICROS).unwrap(), "0001-01-01T00:00:00+00:00");
        assert_eq!(year(Cursor::LATEST_MICROS).unwrap(), "9999-12-31T23:59:59.999999+00:00");
        for outside in [Cursor::EARLIEST_MICROS - 1, Cursor::LATEST_MICROS + 1, i64::MIN, i64::MAX]
        {
            assert_eq!(Cursor::decode(&at(outside)), Err(CursorError), "{outside}");
        }
        // chrono's own range (about 262,000 years either way) is wider than PostgreSQL's.
        let far = Timestamp::MAX_UTC.timestamp_micros();
        assert_eq!(Cursor::decode(&at(far)), Err(CursorError));
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "!!!", "bm90IGEgY3Vyc29y", "OTk5OTk5OTk5OTk5OTk5OTk5OTk6MQ"] {
            assert_eq!(Cursor::decode(bad), Err(CursorError), "{bad}");
        }
    }
}
