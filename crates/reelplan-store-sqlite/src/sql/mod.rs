//! The SQL text of every statement the store runs, one module per resource, each with its
//! capability trait's impl, and the small helpers that run them. Each constant is one statement;
//! shared fragments are the macros of `fragments.rs`, so every constant stays a `&'static str`
//! the statement log can key on.
//!
//! Conventions: every time is stored and emitted as integer microseconds, documents are built
//! with SQLite's JSON functions and parsed with serde_json, and every value is a bound
//! parameter.

pub mod admin;
pub mod feedback;
pub mod files;
pub mod members;
pub mod memos;
pub mod projects;
pub mod users;
pub mod versions;

use reelplan_domain::Timestamp;
use reelplan_store::{StoreError, StoreResult};

/// "Now" as the store writes it: microseconds since the epoch.
pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// A time as the store writes it.
pub(crate) fn micros(time: Timestamp) -> i64 {
    time.timestamp_micros()
}

/// A time as the store wrote it.
pub(crate) fn time(micros: i64) -> StoreResult<Timestamp> {
    Timestamp::from_timestamp_micros(micros)
        .ok_or_else(|| StoreError::Other(format!("stored time out of range: {micros}")))
}

pub(crate) use reelplan_store::documents::{fetch_doc, fetch_docs, fetch_opt_doc};
