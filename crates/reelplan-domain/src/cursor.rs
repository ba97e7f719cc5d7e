//! Opaque keyset cursors: the (created, id) position of the last row of a page.

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
        fn round_trips(micros in -8_000_000_000_000_000i64..8_000_000_000_000_000, id: i64) {
            let cursor = Cursor { created: Timestamp::from_timestamp_micros(micros).unwrap(), id };
            prop_assert_eq!(Cursor::decode(&cursor.encode()), Ok(cursor));
        }

        #[test]
        fn decoding_arbitrary_text_never_panics(s in "\\PC{0,80}") {
            let _ = Cursor::decode(&s);
        }
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "!!!", "bm90IGEgY3Vyc29y", "OTk5OTk5OTk5OTk5OTk5OTk5OTk6MQ"] {
            assert_eq!(Cursor::decode(bad), Err(CursorError), "{bad}");
        }
    }
}
