//! Memos on a project's timeline.

use async_trait::async_trait;
use reelplan_domain::{MemoId, MemoText, ProjectId, Timestamp, UserId};
use reelplan_store::{Event, Memo, Memos, Recorded, StoreResult};

use super::{fetch_opt_doc, fetch_recorded, micros, now, time};
use crate::SqliteStore;

/// `[id, event]`: adds a memo to project ?1 by ?2: date ?3, text ?4, at ?5, unless it holds ?6
/// already, recording `memo.created` (trigger `memos_created_event`). An unknown project is a
/// foreign-key violation, hence `NotFound`.
pub const ADD: &str = concat!(
    "
    INSERT INTO memos (project_id, user_id, date, text, created, changed_by)
    SELECT ?1, ?2, ?3, ?4, ?5, ?2 WHERE (SELECT count(*) FROM memos WHERE project_id = ?1) < ?6
    RETURNING json_array(id, ",
    recorded_event!("'memo.created'", "project_id", "id", "changed_by", "NULL", "created"),
    ")"
);

/// The event of deleting memo ?2 of project ?1 by ?3 at ?4: trigger `memos_deleted_event`
/// records `memo.deleted` and deletes the row.
pub const DELETE: &str = concat!(
    "UPDATE memos SET deleted_by = ?3, changed_at = ?4 WHERE id = ?2 AND project_id = ?1
    RETURNING ",
    recorded_event!("'memo.deleted'", "project_id", "id", "deleted_by", "NULL", "changed_at")
);

#[async_trait]
impl Memos for SqliteStore {
    async fn add_memo(
        &self,
        project: ProjectId,
        author: UserId,
        date: Timestamp,
        text: &MemoText,
        cap: u32,
    ) -> StoreResult<Option<Recorded<Memo>>> {
        let created = now();
        let added: Option<Recorded<i64>> = fetch_recorded(&self.pool, ADD, |q| {
            q.bind(project.0)
                .bind(author.0)
                .bind(micros(date))
                .bind(text.as_str())
                .bind(created)
                .bind(i64::from(cap))
        })
        .await?;
        added
            .map(|Recorded { value: id, event }| {
                Ok(Recorded {
                    value: Memo {
                        id: MemoId(id),
                        user_id: author,
                        date: time(micros(date))?,
                        text: text.as_str().to_owned(),
                        created: time(created)?,
                    },
                    event,
                })
            })
            .transpose()
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
