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

use reelplan_domain::Timestamp;
use reelplan_store::stats::run;
use reelplan_store::{StoreError, StoreResult};
use serde::de::DeserializeOwned;
use sqlx::query::QueryScalar;
use sqlx::sqlite::SqliteArguments;
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
pub(crate) type DocQuery<'q> = QueryScalar<'q, Sqlite, String, SqliteArguments<'q>>;

/// Runs `sql` with the parameters `bind` adds and parses the document of its one row.
pub(crate) async fn fetch_doc<'q, T: DeserializeOwned>(
    pool: &SqlitePool,
    sql: &'static str,
    bind: impl FnOnce(DocQuery<'q>) -> DocQuery<'q> + Send,
) -> StoreResult<T> {
    let query = bind(sqlx::query_scalar(sql));
    Ok(serde_json::from_str(&run(sql, query.fetch_one(pool)).await?)?)
}

/// Runs `sql` with the parameters `bind` adds and parses the document of its row, if any.
pub(crate) async fn fetch_opt_doc<'q, T: DeserializeOwned>(
    pool: &SqlitePool,
    sql: &'static str,
    bind: impl FnOnce(DocQuery<'q>) -> DocQuery<'q> + Send,
) -> StoreResult<Option<T>> {
    let query = bind(sqlx::query_scalar(sql));
    let document = run(sql, query.fetch_optional(pool)).await?;
    Ok(document.as_deref().map(serde_json::from_str).transpose()?)
}

/// Runs `sql` with the parameters `bind` adds and parses the document of each row.
pub(crate) async fn fetch_docs<'q, T: DeserializeOwned>(
    pool: &SqlitePool,
    sql: &'static str,
    bind: impl FnOnce(DocQuery<'q>) -> DocQuery<'q> + Send,
) -> StoreResult<Vec<T>> {
    let query = bind(sqlx::query_scalar(sql));
    let documents = run(sql, query.fetch_all(pool)).await?;
    documents.iter().map(|document| Ok(serde_json::from_str(document)?)).collect()
}
