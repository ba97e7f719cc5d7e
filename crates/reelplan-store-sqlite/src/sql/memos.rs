//! Memos on a project's timeline.

use async_trait::async_trait;
use reelplan_domain::{MemoId, MemoText, ProjectId, Timestamp, UserId};
use reelplan_store::stats::run;
use reelplan_store::{Memo, Memos, StoreResult};

use super::{micros, now, time};
use crate::SqliteStore;

/// Adds a memo to project ?1 by ?2: date ?3, text ?4, at ?5, unless it holds ?6 already.
pub const ADD: &str = "
    INSERT INTO memos (project_id, user_id, date, text, created)
    SELECT ?1, ?2, ?3, ?4, ?5 WHERE (SELECT count(*) FROM memos WHERE project_id = ?1) < ?6
    RETURNING id, created";

/// Deletes memo ?2 of project ?1.
pub const DELETE: &str = "DELETE FROM memos WHERE id = ?2 AND project_id = ?1";

#[async_trait]
impl Memos for SqliteStore {
    async fn add_memo(
        &self,
        project: ProjectId,
        author: UserId,
        date: Timestamp,
        text: &MemoText,
        cap: u32,
    ) -> StoreResult<Option<Memo>> {
        let query = sqlx::query_as::<_, (i64, i64)>(ADD)
            .bind(project.0)
            .bind(author.0)
            .bind(micros(date))
            .bind(text.as_str())
            .bind(now())
            .bind(i64::from(cap));
        let Some((id, created)) = run(ADD, query.fetch_optional(&self.pool)).await? else {
            return Ok(None);
        };
        Ok(Some(Memo {
            id: MemoId(id),
            user_id: author,
            date: time(micros(date))?,
            text: text.as_str().to_owned(),
            created: time(created)?,
        }))
    }

    async fn delete_memo(&self, project: ProjectId, id: MemoId) -> StoreResult<bool> {
        let query = sqlx::query(DELETE).bind(project.0).bind(id.0);
        Ok(run(DELETE, query.execute(&self.pool)).await?.rows_affected() > 0)
    }
}
