//! The SQL text of every statement the store runs, one module per resource, each with its
//! capability trait's impl, and the small helpers that run them. Each constant is one statement;
//! shared fragments are the macros of `fragments.rs`, so every constant stays a `&'static str`
//! the statement log can key on.
//!
//! Conventions: every time is stored and emitted as integer microseconds, documents are built
//! with SQLite's JSON functions and parsed with serde_json, and every value is a bound
//! parameter. A write records its event by a trigger of migration 0011, on the row it changes,
//! and returns it with its own result as `[value, event]` (`fetch_recorded`), or the event
//! alone, built by its `RETURNING` with the id the trigger's insert takes (`recorded_event!`).

pub mod admin;
pub mod events;
pub mod feedback;
pub mod files;
pub mod members;
pub mod memos;
pub mod projects;
pub mod users;
pub mod versions;

use reelplan_domain::Timestamp;
use reelplan_store::{Event, Recorded, StoreError, StoreResult};
use serde::de::DeserializeOwned;
use sqlx::{Sqlite, SqlitePool};

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

/// A statement whose one column is a JSON document.
pub(crate) type DocQuery<'q> = reelplan_store::documents::DocQuery<'q, Sqlite>;

pub(crate) use reelplan_store::documents::{fetch_doc, fetch_docs, fetch_opt_doc};

/// Runs a write whose document is `[value, event]`: what it wrote and the event it recorded;
/// None when it wrote nothing.
pub(crate) async fn fetch_recorded<'q, T: DeserializeOwned>(
    pool: &SqlitePool,
    sql: &'static str,
    bind: impl FnOnce(DocQuery<'q>) -> DocQuery<'q>,
) -> StoreResult<Option<Recorded<T>>> {
    let doc: Option<(T, Event)> = fetch_opt_doc(pool, sql, bind).await?;
    Ok(doc.map(|(value, event)| Recorded { value, event }))
}
