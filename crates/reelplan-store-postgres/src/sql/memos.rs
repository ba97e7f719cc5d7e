//! Memos on a project's calendar.

use reelplan_domain::{MemoId, ProjectId, Timestamp, UserId};
use reelplan_store::stats::run;
use reelplan_store::{Memo, StoreResult};
use sqlx::PgPool;

use super::now;

/// Adds a memo to project $1 by $2: date $3, text $4, at $5, unless it holds $6 already.
pub const ADD: &str = concat!(
    "INSERT INTO memos AS mo (project_id, user_id, date, text, created)
SELECT $1::bigint, $2::bigint, $3::timestamptz, $4::text, $5::timestamptz
WHERE (SELECT count(*) FROM memos WHERE project_id = $1::bigint) < $6::bigint
RETURNING ",
    memo_doc!("mo"),
    "::text"
);

/// Deletes memo $2 of project $1.
pub const DELETE: &str = "DELETE FROM memos WHERE id = $2::bigint AND project_id = $1::bigint";

pub(crate) async fn add(
    pool: &PgPool,
    project: ProjectId,
    author: UserId,
    date: Timestamp,
    text: &str,
    cap: u32,
) -> StoreResult<Option<Memo>> {
    let query = sqlx::query_scalar::<_, String>(ADD)
        .bind(project.0)
        .bind(author.0)
        .bind(date)
        .bind(text)
        .bind(now())
        .bind(i64::from(cap));
    let doc = run(ADD, query.fetch_optional(pool)).await?;
    Ok(doc.map(|d| serde_json::from_str(&d)).transpose()?)
}

pub(crate) async fn delete(pool: &PgPool, project: ProjectId, id: MemoId) -> StoreResult<bool> {
    let query = sqlx::query(DELETE).bind(project.0).bind(id.0);
    Ok(run(DELETE, query.execute(pool)).await?.rows_affected() > 0)
}
