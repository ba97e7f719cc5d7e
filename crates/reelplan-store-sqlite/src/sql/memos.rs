//! Memos on a project's timeline.

use reelplan_domain::{MemoId, ProjectId, Timestamp, UserId};
use reelplan_store::stats::run;
use reelplan_store::{Memo, StoreResult};
use sqlx::SqlitePool;

use crate::{micros, now, time};

const ADD: &str = "
    INSERT INTO memos (project_id, user_id, date, text, created)
    SELECT ?1, ?2, ?3, ?4, ?5 WHERE (SELECT count(*) FROM memos WHERE project_id = ?1) < ?6
    RETURNING id, created";

/// Adds a memo unless the project holds `cap` already (None); `NotFound` when the project (or
/// author) does not exist.
pub async fn add(
    pool: &SqlitePool,
    project: ProjectId,
    author: UserId,
    date: Timestamp,
    text: &str,
    cap: u32,
) -> StoreResult<Option<Memo>> {
    let query = sqlx::query_as::<_, (i64, i64)>(ADD)
        .bind(project.0)
        .bind(author.0)
        .bind(micros(date))
        .bind(text)
        .bind(now())
        .bind(i64::from(cap));
    let Some((id, created)) = run(ADD, query.fetch_optional(pool)).await? else {
        return Ok(None);
    };
    Ok(Some(Memo {
        id: MemoId(id),
        user_id: author,
        date: time(micros(date))?,
        text: text.to_owned(),
        created: time(created)?,
    }))
}

const DELETE: &str = "DELETE FROM memos WHERE id = ?2 AND project_id = ?1";

/// Deletes a memo; false when there was none on this project.
pub async fn delete(pool: &SqlitePool, project: ProjectId, id: MemoId) -> StoreResult<bool> {
    let query = sqlx::query(DELETE).bind(project.0).bind(id.0);
    Ok(run(DELETE, query.execute(pool)).await?.rows_affected() > 0)
}
