//! The event log: where a stream starts, what it catches up from, a project's activity, and
//! pruning. The writes of the other modules record the events, by the triggers of migration
//! 0011.

use async_trait::async_trait;
use reelplan_domain::{ProjectId, Timestamp, UserId};
use reelplan_store::stats::run;
use reelplan_store::{
    Event, Events, PageRequest, ProjectAccess, StoreResult, StreamStart, ThreadPage,
};
use serde::Deserialize;

use super::{fetch_doc, fetch_docs, fetch_opt_doc, micros};
use crate::SqliteStore;

/// `{projects, horizon, events}` of user ?1: the projects they own or are a member of, the
/// pruning horizon, and (when ?2 is not null) their events after ?2, oldest first, at most ?3:
/// those of their projects since they joined each (the membership's time, the project's for its
/// owner), those whose subject they are, and the deletions of the projects they took part in.
/// Each source is read by index: at most ?3 of each project and of the user's own, and the
/// project deletions after ?2 (a few), whose audiences are searched for the user.
pub const STREAM_START: &str = concat!(
    "
    WITH mine (project_id, joined) AS (
        SELECT id, created FROM projects WHERE owner_id = ?1
        UNION ALL
        SELECT project_id, created FROM members WHERE user_id = ?1
    )
    SELECT json_object(
        'projects', json((SELECT json_group_array(project_id ORDER BY project_id) FROM mine)),
        'horizon', (SELECT pruned_through FROM event_horizon),
        'events', json((
            SELECT json_group_array(json(doc) ORDER BY id) FROM (
                SELECT e.id, ",
    event_doc!("e"),
    " AS doc
                FROM events e
                WHERE e.id IN (
                    SELECT pe.id FROM mine JOIN events pe ON pe.id IN (
                        SELECT x.id FROM events x
                        WHERE x.project_id = mine.project_id AND x.id > ?2
                          AND x.created >= mine.joined
                        ORDER BY x.id
                        LIMIT ?3)
                    UNION
                    SELECT id FROM (
                        SELECT se.id FROM events se
                        WHERE se.subject_id = ?1 AND se.id > ?2
                        ORDER BY se.id
                        LIMIT ?3)
                    UNION
                    SELECT de.id FROM events de
                    WHERE de.audience IS NOT NULL AND de.id > ?2 AND de.type = 'project.deleted'
                      AND EXISTS (SELECT 1 FROM json_each(de.audience) WHERE value = ?1))
                ORDER BY e.id
                LIMIT ?3))))"
);

/// Every project's events after ?1, oldest first, at most ?2.
pub const AFTER: &str =
    concat!("SELECT ", event_doc!("e"), " FROM events e WHERE e.id > ?1 ORDER BY e.id LIMIT ?2");

/// The newest event id given: the log's, or the horizon's when everything was pruned.
pub const NEWEST: &str = "SELECT max(coalesce((SELECT max(id) FROM events), 0),
                  (SELECT pruned_through FROM event_horizon))";

/// `{access, items}` of project ?1: its events below id ?2 (all when null, the largest id being
/// a bound the index can seek to), newest first, at most ?3.
pub const ACTIVITY_PAGE: &str = concat!(
    "SELECT json_object('access', ",
    access_doc!(),
    ", 'items', json((
        SELECT json_group_array(json(doc) ORDER BY id DESC) FROM (
            SELECT e.id, ",
    event_doc!("e"),
    " AS doc
            FROM events e
            WHERE e.project_id = ?1 AND e.id < coalesce(?2, 9223372036854775807)
            ORDER BY e.id DESC
            LIMIT ?3))))
    FROM projects p WHERE p.id = ?1"
);

/// Deletes the events created before ?1; trigger `events_pruned` moves the horizon past them.
pub const PRUNE: &str = "DELETE FROM events WHERE created < ?1";

#[derive(Deserialize)]
struct ActivityDoc {
    access: ProjectAccess,
    items: Vec<Event>,
}

#[async_trait]
impl Events for SqliteStore {
    async fn stream_start(
        &self,
        user: UserId,
        after: Option<i64>,
        limit: u32,
    ) -> StoreResult<StreamStart> {
        fetch_doc(&self.pool, STREAM_START, |q| q.bind(user.0).bind(after).bind(i64::from(limit)))
            .await
    }

    async fn events_after(&self, after: i64, limit: u32) -> StoreResult<Vec<Event>> {
        fetch_docs(&self.pool, AFTER, |q| q.bind(after).bind(i64::from(limit))).await
    }

    async fn newest_event_id(&self) -> StoreResult<i64> {
        run(NEWEST, sqlx::query_scalar::<_, i64>(NEWEST).fetch_one(&self.pool)).await
    }

    async fn activity_page(
        &self,
        project: ProjectId,
        page: PageRequest,
    ) -> StoreResult<Option<ThreadPage<Event>>> {
        let doc: Option<ActivityDoc> = fetch_opt_doc(&self.pool, ACTIVITY_PAGE, |q| {
            q.bind(project.0).bind(page.after.map(|c| c.id)).bind(i64::from(page.limit))
        })
        .await?;
        Ok(doc.map(|doc| ThreadPage { access: doc.access, items: doc.items }))
    }

    async fn prune_events(&self, before: Timestamp) -> StoreResult<u64> {
        let query = sqlx::query(PRUNE).bind(micros(before));
        Ok(run(PRUNE, query.execute(&self.pool)).await?.rows_affected())
    }
}
