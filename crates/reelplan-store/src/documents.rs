//! Statements whose one column is a JSON document, for either backend: run through
//! [`stats::run`](crate::stats::run) and parsed with serde_json. The backends build their
//! documents in SQL (PostgreSQL's `json_build_object`, SQLite's `json_object`) and bind their
//! parameters in `bind`; everything after the SQL text is the same for both.

use serde::de::DeserializeOwned;
use sqlx::query::QueryScalar;
use sqlx::{ColumnIndex, Database, Decode, Executor, IntoArguments, Pool, Type};

use crate::stats::run;
use crate::StoreResult;

/// A statement of `DB` whose one column is a JSON document as text.
pub type DocQuery<'q, DB> = QueryScalar<'q, DB, String, <DB as Database>::Arguments<'q>>;

/// Runs `sql` with the parameters `bind` adds and parses the document of its one row.
pub async fn fetch_doc<'q, DB, T>(
    pool: &Pool<DB>,
    sql: &'static str,
    bind: impl FnOnce(DocQuery<'q, DB>) -> DocQuery<'q, DB>,
) -> StoreResult<T>
where
    DB: Database,
    T: DeserializeOwned,
    String: for<'r> Decode<'r, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    <DB as Database>::Arguments<'q>: IntoArguments<'q, DB>,
{
    let query = bind(sqlx::query_scalar(sql));
    Ok(serde_json::from_str(&run(sql, query.fetch_one(pool)).await?)?)
}

/// Runs `sql` with the parameters `bind` adds and parses the document of its row, if any.
pub async fn fetch_opt_doc<'q, DB, T>(
    pool: &Pool<DB>,
    sql: &'static str,
    bind: impl FnOnce(DocQuery<'q, DB>) -> DocQuery<'q, DB>,
) -> StoreResult<Option<T>>
where
    DB: Database,
    T: DeserializeOwned,
    String: for<'r> Decode<'r, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    <DB as Database>::Arguments<'q>: IntoArguments<'q, DB>,
{
    let query = bind(sqlx::query_scalar(sql));
    let document = run(sql, query.fetch_optional(pool)).await?;
    Ok(document.as_deref().map(serde_json::from_str).transpose()?)
}

/// Runs `sql` with the parameters `bind` adds and parses the document of each row.
pub async fn fetch_docs<'q, DB, T>(
    pool: &Pool<DB>,
    sql: &'static str,
    bind: impl FnOnce(DocQuery<'q, DB>) -> DocQuery<'q, DB>,
) -> StoreResult<Vec<T>>
where
    DB: Database,
    T: DeserializeOwned,
    String: for<'r> Decode<'r, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    <DB as Database>::Arguments<'q>: IntoArguments<'q, DB>,
{
    let query = bind(sqlx::query_scalar(sql));
    let documents = run(sql, query.fetch_all(pool)).await?;
    documents.iter().map(|document| Ok(serde_json::from_str(document)?)).collect()
}
