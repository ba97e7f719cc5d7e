//! The SQL text of every statement the store runs, one module per resource, each with its
//! capability trait's impl, and the small helpers that run them. Each constant is one statement;
//! shared fragments are the macros of `fragments.rs`, so every constant stays a `&'static str`
//! the statement log can key on.
//!
//! Conventions: every time is emitted as integer microseconds (`rp_us`), documents are
//! fetched as `::text` and parsed with serde_json, and every value is a bound parameter.

pub mod admin;
pub mod feedback;
pub mod files;
pub mod members;
pub mod memos;
pub mod projects;
pub mod users;

use reelplan_domain::Timestamp;
use reelplan_store::stats::run;
use reelplan_store::StoreResult;
use serde::de::DeserializeOwned;
use sqlx::postgres::PgArguments;
use sqlx::query::QueryScalar;
use sqlx::{PgPool, Postgres};

/// "Now" as the store writes it: UTC, truncated to microseconds like the column.
pub(crate) fn now() -> Timestamp {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}

/// A statement whose one column is a JSON document.
pub(crate) type DocQuery<'q> = QueryScalar<'q, Postgres, String, PgArguments>;

/// Runs `sql` with the parameters `bind` adds and parses the document of its one row.
pub(crate) async fn fetch_doc<'q, T: DeserializeOwned>(
    pool: &PgPool,
    sql: &'static str,
    bind: impl FnOnce(DocQuery<'q>) -> DocQuery<'q> + Send,
) -> StoreResult<T> {
    let query = bind(sqlx::query_scalar(sql));
    Ok(serde_json::from_str(&run(sql, query.fetch_one(pool)).await?)?)
}

/// Runs `sql` with the parameters `bind` adds and parses the document of its row, if any.
pub(crate) async fn fetch_opt_doc<'q, T: DeserializeOwned>(
    pool: &PgPool,
    sql: &'static str,
    bind: impl FnOnce(DocQuery<'q>) -> DocQuery<'q> + Send,
) -> StoreResult<Option<T>> {
    let query = bind(sqlx::query_scalar(sql));
    let document = run(sql, query.fetch_optional(pool)).await?;
    Ok(document.as_deref().map(serde_json::from_str).transpose()?)
}

/// Runs `sql` with the parameters `bind` adds and parses the document of each row.
pub(crate) async fn fetch_docs<'q, T: DeserializeOwned>(
    pool: &PgPool,
    sql: &'static str,
    bind: impl FnOnce(DocQuery<'q>) -> DocQuery<'q> + Send,
) -> StoreResult<Vec<T>> {
    let query = bind(sqlx::query_scalar(sql));
    let documents = run(sql, query.fetch_all(pool)).await?;
    documents.iter().map(|document| Ok(serde_json::from_str(document)?)).collect()
}
