//! The event log: where a stream starts, what it catches up from, a project's activity, and
//! pruning. The writes of the other modules record the events, each in its own statement
//! (`record_event!`).

use async_trait::async_trait;
use reelplan_domain::{ProjectId, Timestamp, UserId};
use reelplan_store::stats::run;
use reelplan_store::{
    Event, Events, PageRequest, ProjectAccess, StoreResult, StreamStart, ThreadPage,
};
use serde::Deserialize;

use super::{fetch_doc, fetch_docs, fetch_opt_doc};
use crate::PgStore;

/// The columns of an events row aliased `e` that its document shows.
macro_rules! event_columns {
    () => {
        "e.id, e.type, e.project_id, e.object_id, e.actor_id, e.subject_id, e.created"
    };
}

/// `{projects, horizon, events}` of user $1: the ids of the projects they own or are a member
/// of, the log's horizon, and their events after $2 (none when null), oldest first, at most
/// $3: those of each of their projects since they joined it (the membership's `created`, the
/// project's for its owner), those whose subject they are, and the `project.deleted` of
/// projects they took part in. Each source is read by index: at most $3 rows of each project
/// and of the user's own, and every deletion naming them (a few; unlimited, so that no plan
/// walks the log in id order looking for them).
pub const STREAM_START: &str = concat!(
    "WITH mine (project_id, joined) AS (
    SELECT id, created FROM projects WHERE owner_id = $1::bigint
    UNION ALL
    SELECT project_id, created FROM members WHERE user_id = $1::bigint
), found AS (
    SELECT e.* FROM mine CROSS JOIN LATERAL (
        SELECT ",
    event_columns!(),
    " FROM events e
        WHERE e.project_id = mine.project_id AND e.id > $2::bigint AND e.created >= mine.joined
        ORDER BY e.id LIMIT $3::bigint) e
    UNION
    (SELECT ",
    event_columns!(),
    " FROM events e
     WHERE e.subject_id = $1::bigint AND e.id > $2::bigint
     ORDER BY e.id LIMIT $3::bigint)
    UNION
    (SELECT ",
    event_columns!(),
    " FROM events e
     WHERE e.audience @> ARRAY[$1::bigint] AND e.type = 'project.deleted' AND e.id > $2::bigint)
)
SELECT json_build_object(
    'projects', COALESCE((SELECT json_agg(mine.project_id ORDER BY mine.project_id) FROM mine),
                         '[]'::json),
    'horizon', (SELECT h.pruned_through FROM event_horizon h),
    'events', COALESCE((
        SELECT json_agg(x.doc ORDER BY x.id)
        FROM (SELECT e.id, ",
    event_doc!("e"),
    " AS doc FROM found e ORDER BY e.id LIMIT $3::bigint) x), '[]'::json))::text"
);

/// Every project's events after $1, oldest first, at most $2.
pub const AFTER: &str = concat!(
    "SELECT ",
    event_doc!("e"),
    "::text FROM events e WHERE e.id > $1::bigint ORDER BY e.id LIMIT $2::bigint"
);

/// The newest event id given: the log's, or the horizon's when everything was pruned.
pub const NEWEST: &str = "SELECT GREATEST(COALESCE((SELECT max(id) FROM events), 0),
                       (SELECT pruned_through FROM event_horizon))";

/// `{access, items}` of project $1: its events below id $2 (all when null), newest first, at
/// most $3.
pub const ACTIVITY_PAGE: &str = concat!(
    "SELECT json_build_object('access', ",
    access_doc!(),
    ", 'items', COALESCE((
        SELECT json_agg(x.doc ORDER BY x.id DESC)
        FROM (SELECT e.id, ",
    event_doc!("e"),
    " AS doc
              FROM events e
              WHERE e.project_id = p.id AND e.id < COALESCE($2::bigint, 9223372036854775807)
              ORDER BY e.id DESC
              LIMIT $3::bigint) x), '[]'::json))::text
FROM projects p WHERE p.id = $1::bigint"
);

/// Deletes the events created before $1 and moves the horizon up to the highest id deleted;
/// answers how many went.
pub const PRUNE: &str = "WITH gone AS (
    DELETE FROM events WHERE created < $1::timestamptz RETURNING id
), horizon AS (
    UPDATE event_horizon SET pruned_through = (SELECT max(id) FROM gone)
    WHERE pruned_through < (SELECT max(id) FROM gone)
)
SELECT count(*) FROM gone";

#[derive(Deserialize)]
struct ActivityDoc {
    access: ProjectAccess,
    items: Vec<Event>,
}

#[async_trait]
impl Events for PgStore {
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
        let query = sqlx::query_scalar::<_, i64>(PRUNE).bind(before);
        let pruned = run(PRUNE, query.fetch_one(&self.pool)).await?;
        Ok(u64::try_from(pruned).unwrap_or(0))
    }
}
