//! Memos on a project's timeline.

use async_trait::async_trait;
use reelplan_domain::{MemoId, MemoText, ProjectId, Timestamp, UserId};
use reelplan_store::stats::run;
use reelplan_store::{Memo, Memos, StoreResult};

use super::{fetch_opt_doc, now};
use crate::PgStore;

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

#[async_trait]
impl Memos for PgStore {
    async fn add_memo(
        &self,
        project: ProjectId,
        author: UserId,
        date: Timestamp,
        text: &MemoText,
        cap: u32,
    ) -> StoreResult<Option<Memo>> {
        fetch_opt_doc(&self.pool, ADD, |q| {
            q.bind(project.0)
                .bind(author.0)
                .bind(date)
                .bind(text.as_str())
                .bind(now())
                .bind(i64::from(cap))
        })
        .await
    }

    async fn delete_memo(&self, project: ProjectId, id: MemoId) -> StoreResult<bool> {
        let query = sqlx::query(DELETE).bind(project.0).bind(id.0);
        Ok(run(DELETE, query.execute(&self.pool)).await?.rows_affected() > 0)
    }
}
