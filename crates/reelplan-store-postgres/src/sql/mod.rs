//! The SQL text of every statement the store runs, one module per resource, each with its
//! capability trait's impl, and the small helpers that run them. Each constant is one statement;
//! shared fragments are the macros of `fragments.rs`, so every constant stays a `&'static str`
//! the statement log can key on.
//!
//! Conventions: every time is emitted as integer microseconds (`rp_us`), documents are
//! fetched as `::text` and parsed with serde_json, and every value is a bound parameter. A
//! write records its event in a data-modifying CTE `ev` (`record_event!`) and returns it with
//! its own result as `[value, event]` (`fetch_recorded`), or the event alone.

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
use reelplan_store::{Event, Recorded, StoreResult};
use serde::de::DeserializeOwned;
use sqlx::{PgPool, Postgres};

/// "Now" as the store writes it: UTC, truncated to microseconds like the column.
pub(crate) fn now() -> Timestamp {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}

/// A statement whose one column is a JSON document.
pub(crate) type DocQuery<'q> = reelplan_store::documents::DocQuery<'q, Postgres>;

pub(crate) use reelplan_store::documents::{fetch_doc, fetch_docs, fetch_opt_doc};

/// Runs a write whose document is `[value, event]`: what it wrote and the event it recorded;
/// None when it wrote nothing.
pub(crate) async fn fetch_recorded<'q, T: DeserializeOwned>(
    pool: &PgPool,
    sql: &'static str,
    bind: impl FnOnce(DocQuery<'q>) -> DocQuery<'q>,
) -> StoreResult<Option<Recorded<T>>> {
    let doc: Option<(T, Event)> = fetch_opt_doc(pool, sql, bind).await?;
    Ok(doc.map(|(value, event)| Recorded { value, event }))
}
