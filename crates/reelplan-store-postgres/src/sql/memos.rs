//! Memos on a project's timeline.

use async_trait::async_trait;
use reelplan_domain::{MemoId, MemoText, ProjectId, Timestamp, UserId};
use reelplan_store::{Event, Memo, Memos, Recorded, StoreResult};

use super::{fetch_opt_doc, fetch_recorded, now};
use crate::PgStore;

/// `[memo, event]`: adds a memo to project $1 by $2: date $3, text $4, at $5, unless it holds
/// $6 already, recording `memo.created`.
pub const ADD: &str = concat!(
    "WITH mo AS (
    INSERT INTO memos (project_id, user_id, date, text, created)
    SELECT $1::bigint, $2::bigint, $3::timestamptz, $4::text, $5::timestamptz
    WHERE (SELECT count(*) FROM memos WHERE project_id = $1::bigint) < $6::bigint
    RETURNING *
), ",
    record_event!(
        "SELECT 'memo.created', mo.project_id, mo.id, mo.user_id, NULL::bigint, mo.created FROM mo"
    ),
    "
SELECT json_build_array(",
    memo_doc!("mo"),
    ", ",
    event_doc!("ev"),
    ")::text FROM mo, ev"
);

/// The event of deleting memo $2 of project $1 by $3 at $4.
pub const DELETE: &str = concat!(
    "WITH mo AS (
    DELETE FROM memos WHERE id = $2::bigint AND project_id = $1::bigint
    RETURNING id, project_id
), ",
    record_event!(
        "SELECT 'memo.deleted', mo.project_id, mo.id, $3::bigint, NULL::bigint, $4::timestamptz
    FROM mo"
    ),
    "
SELECT ",
    event_doc!("ev"),
    "::text FROM ev"
);

#[async_trait]
impl Memos for PgStore {
    async fn add_memo(
        &self,
        project: ProjectId,
        author: UserId,
        date: Timestamp,
        text: &MemoText,
        cap: u32,
    ) -> StoreResult<Option<Recorded<Memo>>> {
        fetch_recorded(&self.pool, ADD, |q| {
            q.bind(project.0)
                .bind(author.0)
                .bind(date)
                .bind(text.as_str())
                .bind(now())
                .bind(i64::from(cap))
        })
        .await
    }

    async fn delete_memo(
        &self,
        project: ProjectId,
        id: MemoId,
        by: UserId,
    ) -> StoreResult<Option<Event>> {
        fetch_opt_doc(&self.pool, DELETE, |q| q.bind(project.0).bind(id.0).bind(by.0).bind(now()))
            .await
    }
}
