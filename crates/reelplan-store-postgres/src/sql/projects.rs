//! Projects: the caller's list, the detail document, and the project's own writes, each
//! recording its event.

use async_trait::async_trait;
use reelplan_domain::{Phase, PhaseDates, ProjectId, UserId};
use reelplan_store::{
    Event, FeedbackSummary, MembershipPage, NewProject, PageRequest, ProjectCore, ProjectDetail,
    ProjectFilter, ProjectPatch, ProjectSummary, Projects, Recorded, StoreError, StoreResult,
};

use super::{fetch_doc, fetch_docs, fetch_opt_doc, fetch_recorded, now};
use crate::PgStore;

/// The list of user $1's projects (owned or member of), newest first. Filters: $2 an ILIKE
/// pattern on the name, $3 active_from, $4 active_to; cursor $5/$6 (created, id); $7 limit.
pub const LIST: &str = concat!(
    "WITH mine (project_id, my_role) AS (
    SELECT id, 'owner'::text FROM projects WHERE owner_id = $1::bigint
    UNION ALL
    SELECT project_id, role FROM members WHERE user_id = $1::bigint
)
SELECT json_build_object('my_role', mine.my_role, ",
    project_core_fields!(),
    ")::text
FROM mine
JOIN projects p ON p.id = mine.project_id
JOIN users u ON u.id = p.owner_id
WHERE ($2::text IS NULL OR p.name ILIKE $2::text)
  AND ($3::timestamptz IS NULL OR p.latest_end_date >= $3::timestamptz)
  AND ($4::timestamptz IS NULL OR p.earliest_start_date <= $4::timestamptz)
  AND (p.created, p.id) < (COALESCE($5::timestamptz, 'infinity'::timestamptz),
                           COALESCE($6::bigint, 0))
ORDER BY p.created DESC, p.id DESC
LIMIT $7::bigint"
);

/// The whole detail document of project $1.
pub const DETAIL: &str = concat!(
    "SELECT json_build_object(",
    project_core_fields!(),
    ",
    'members', COALESCE((
        SELECT json_agg(json_build_object(
                   'id', m.id, 'user_id', m.user_id, 'email', mu.email,
                   'nickname', mu.nickname, 'role', m.role, 'created', rp_us(m.created))
               ORDER BY m.id)
        -- One index lookup per member: a plain join lets the planner hash the whole users
        -- table when it is small (1,000 rows on `small`: 40% of this statement's time); the
        -- OFFSET 0 keeps the subquery from being flattened back into that join.
        FROM members m CROSS JOIN LATERAL (
            SELECT mu.email, mu.nickname FROM users mu WHERE mu.id = m.user_id OFFSET 0) mu
        WHERE m.project_id = p.id), '[]'::json),
    'feedback', ",
    feedback_doc!(),
    ",
    'memos', COALESCE((
        SELECT json_agg(",
    memo_doc!("mo"),
    " ORDER BY mo.date, mo.id)
        FROM memos mo WHERE mo.project_id = p.id), '[]'::json),
    'files', COALESCE((
        SELECT json_agg(",
    file_doc!("f"),
    " ORDER BY f.id)
        FROM files f WHERE f.project_id = p.id AND f.kind = 'file'), '[]'::json)
)::text
FROM projects p JOIN users u ON u.id = p.owner_id
WHERE p.id = $1::bigint"
);

/// The feedback block of project $1.
pub const FEEDBACK: &str =
    concat!("SELECT ", feedback_doc!(), "::text FROM projects p WHERE p.id = $1::bigint");

/// `{entries, page}`: every project of user $1's list as `[id, role, created]` in list order,
/// and the page after cursor $2/$3 (created, id) of at most $4 of them as core documents.
/// The page's rows are chosen (`top`) before they are joined to their projects: the planner
/// had hashed the whole projects table to sort a power user's ~300 rows with their documents'
/// columns (`small`, user 1: 1,225 buffers and 4.2 ms, now 350 and 3.1 ms).
pub const MEMBERSHIPS_PAGE: &str = concat!(
    "WITH mine (project_id, my_role, created) AS (
    SELECT id, 'owner'::text, created FROM projects WHERE owner_id = $1::bigint
    UNION ALL
    SELECT m.project_id, m.role, p.created
    FROM members m JOIN projects p ON p.id = m.project_id
    WHERE m.user_id = $1::bigint
),
top (project_id) AS (
    SELECT project_id FROM mine
    WHERE (mine.created, mine.project_id)
          < (COALESCE($2::timestamptz, 'infinity'::timestamptz), COALESCE($3::bigint, 0))
    ORDER BY mine.created DESC, mine.project_id DESC
    LIMIT $4::bigint
)
SELECT json_build_object(
    'entries', COALESCE((
        SELECT json_agg(json_build_array(mine.project_id, mine.my_role, rp_us(mine.created))
                        ORDER BY mine.created DESC, mine.project_id DESC)
        FROM mine), '[]'::json),
    'page', COALESCE((
        SELECT json_agg(json_build_object(",
    project_core_fields!(),
    ") ORDER BY p.created DESC, p.id DESC)
        FROM top
        JOIN projects p ON p.id = top.project_id
        JOIN users u ON u.id = p.owner_id), '[]'::json))::text"
);

/// The core documents of the projects with ids in $1.
pub const SUMMARIES: &str = concat!(
    "SELECT json_build_object(",
    project_core_fields!(),
    ")::text
FROM projects p JOIN users u ON u.id = p.owner_id
WHERE p.id = ANY($1::bigint[])"
);

/// `[id, event]`: inserts a project: $1 owner, $2-$6 fields, $7 now, $8-$23 the phase dates
/// in phase order, recording `project.updated` with the owner as actor and subject.
pub const CREATE: &str = concat!(
    "WITH p AS (
    INSERT INTO projects (owner_id, name, manager, consumer, description, color, created,
        updated, basic_plan_start, basic_plan_end, story_board_start, story_board_end,
        filming_start, filming_end, video_edit_start, video_edit_end,
        post_work_start, post_work_end, video_preview_start, video_preview_end,
        confirmation_start, confirmation_end, video_delivery_start, video_delivery_end)
    VALUES ($1::bigint, $2::text, $3::text, $4::text, $5::text, $6::text,
        $7::timestamptz, $7::timestamptz,
        $8::timestamptz, $9::timestamptz, $10::timestamptz, $11::timestamptz,
        $12::timestamptz, $13::timestamptz, $14::timestamptz, $15::timestamptz,
        $16::timestamptz, $17::timestamptz, $18::timestamptz, $19::timestamptz,
        $20::timestamptz, $21::timestamptz, $22::timestamptz, $23::timestamptz)
    RETURNING id, owner_id, created
), ",
    record_event!("SELECT 'project.updated', p.id, p.id, p.owner_id, p.owner_id, p.created FROM p"),
    "
SELECT json_build_array(p.id, ",
    event_doc!("ev"),
    ")::text FROM p, ev"
);

/// The event of a patch of project $1 at $8 if user $9 is its owner or a manager: a null
/// $2-$5 keeps the field; $6 says whether $7 replaces the color.
pub const UPDATE: &str = concat!(
    "WITH p AS (
    UPDATE projects SET
        name = COALESCE($2::text, name),
        manager = COALESCE($3::text, manager),
        consumer = COALESCE($4::text, consumer),
        description = COALESCE($5::text, description),
        color = CASE WHEN $6::boolean THEN $7::text ELSE color END,
        updated = $8::timestamptz
    WHERE id = $1::bigint AND ",
    changed_by!("$9", "'manager'"),
    "
    RETURNING id, updated
), ",
    record_event!(
        "SELECT 'project.updated', p.id, p.id, $9::bigint, NULL::bigint, p.updated FROM p"
    ),
    "
SELECT ",
    event_doc!("ev"),
    "::text FROM ev"
);

/// The event of setting one phase of project $1 to ($2, $3) at $4, if user $5 is its owner,
/// an editor or a manager.
macro_rules! set_phase {
    ($phase:literal) => {
        concat!(
            "WITH p AS (
    UPDATE projects SET ",
            $phase,
            "_start = $2::timestamptz, ",
            $phase,
            "_end = $3::timestamptz, updated = $4::timestamptz WHERE id = $1::bigint AND ",
            changed_by!("$5", "'editor', 'manager'"),
            "
    RETURNING id, updated
), ",
            record_event!(
                "SELECT 'phase.updated', p.id, p.id, $5::bigint, NULL::bigint, p.updated FROM p"
            ),
            "
SELECT ",
            event_doc!("ev"),
            "::text FROM ev"
        )
    };
}

/// One statement per phase, indexed by `Phase::index`.
pub const SET_PHASE: [&str; 8] = [
    set_phase!("basic_plan"),
    set_phase!("story_board"),
    set_phase!("filming"),
    set_phase!("video_edit"),
    set_phase!("post_work"),
    set_phase!("video_preview"),
    set_phase!("confirmation"),
    set_phase!("video_delivery"),
];

/// `[keys, event]`: deletes project $1 by $2 at $3, returning the storage keys of its files and
/// the `project.deleted` it records, whose audience is the owner and the members. The files'
/// and the members' rows go in the same statement, taken as they go; feedback, memos and
/// versions by cascade. Files and members do not cascade: such a row committed while this ran
/// (so invisible to it) fails it with a foreign-key violation rather than vanish without its
/// key or unnamed; see [`Projects::delete_project`].
pub const DELETE: &str = concat!(
    "WITH gone AS (DELETE FROM projects WHERE id = $1::bigint RETURNING id, owner_id),
objects AS (DELETE FROM files f USING gone WHERE f.project_id = gone.id RETURNING f.storage_key),
members_gone AS (
    DELETE FROM members m USING gone WHERE m.project_id = gone.id RETURNING m.id, m.user_id
),
ev AS (
    INSERT INTO events (type, project_id, object_id, actor_id, audience, created)
    SELECT 'project.deleted', gone.id, gone.id, $2::bigint,
           ARRAY[gone.owner_id] || ARRAY(SELECT user_id FROM members_gone ORDER BY id),
           $3::timestamptz
    FROM gone
    RETURNING *
)
SELECT json_build_array(COALESCE((SELECT json_agg(storage_key) FROM objects), '[]'::json), ",
    event_doc!("ev"),
    ")::text FROM ev"
);

/// `%q%` for ILIKE, with the pattern characters of `q` escaped.
pub fn contains_pattern(q: &str) -> String {
    let mut pattern = String::with_capacity(q.len() + 2);
    pattern.push('%');
    for c in q.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// Rounds of [`DELETE`] while uploads and invitations keep recording rows into the project.
const DELETE_ATTEMPTS: u32 = 8;

#[async_trait]
impl Projects for PgStore {
    async fn list_projects(
        &self,
        viewer: UserId,
        filter: &ProjectFilter,
        page: PageRequest,
    ) -> StoreResult<Vec<ProjectSummary>> {
        fetch_docs(&self.pool, LIST, |q| {
            q.bind(viewer.0)
                .bind(filter.q.as_deref().map(contains_pattern))
                .bind(filter.active_from)
                .bind(filter.active_to)
                .bind(page.after.map(|c| c.created))
                .bind(page.after.map(|c| c.id))
                .bind(i64::from(page.limit))
        })
        .await
    }

    async fn memberships_page(
        &self,
        viewer: UserId,
        page: PageRequest,
    ) -> StoreResult<MembershipPage> {
        fetch_doc(&self.pool, MEMBERSHIPS_PAGE, |q| {
            q.bind(viewer.0)
                .bind(page.after.map(|c| c.created))
                .bind(page.after.map(|c| c.id))
                .bind(i64::from(page.limit))
        })
        .await
    }

    async fn project_summaries(&self, ids: &[ProjectId]) -> StoreResult<Vec<ProjectCore>> {
        let ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
        fetch_docs(&self.pool, SUMMARIES, |q| q.bind(ids)).await
    }

    async fn feedback_summary(&self, id: ProjectId) -> StoreResult<Option<FeedbackSummary>> {
        fetch_opt_doc(&self.pool, FEEDBACK, |q| q.bind(id.0)).await
    }

    async fn project_detail(&self, id: ProjectId) -> StoreResult<Option<ProjectDetail>> {
        fetch_opt_doc(&self.pool, DETAIL, |q| q.bind(id.0)).await
    }

    async fn create_project(
        &self,
        owner: UserId,
        project: &NewProject,
    ) -> StoreResult<Recorded<ProjectId>> {
        let (id, event): (i64, Event) = fetch_doc(&self.pool, CREATE, |q| {
            let mut q = q
                .bind(owner.0)
                .bind(project.name.as_str())
                .bind(project.manager.as_str())
                .bind(project.consumer.as_str())
                .bind(project.description.as_str())
                .bind(project.color.as_deref())
                .bind(now());
            for dates in &project.phases {
                q = q.bind(dates.start_date).bind(dates.end_date);
            }
            q
        })
        .await?;
        Ok(Recorded { value: ProjectId(id), event })
    }

    async fn update_project(
        &self,
        id: ProjectId,
        patch: &ProjectPatch,
        by: UserId,
    ) -> StoreResult<Option<Event>> {
        fetch_opt_doc(&self.pool, UPDATE, |q| {
            q.bind(id.0)
                .bind(patch.name.as_deref())
                .bind(patch.manager.as_deref())
                .bind(patch.consumer.as_deref())
                .bind(patch.description.as_deref())
                .bind(patch.color.is_some())
                .bind(patch.color.as_ref().and_then(|c| c.as_deref()))
                .bind(now())
                .bind(by.0)
        })
        .await
    }

    async fn set_phase(
        &self,
        id: ProjectId,
        phase: Phase,
        dates: PhaseDates,
        by: UserId,
    ) -> StoreResult<Option<Event>> {
        fetch_opt_doc(&self.pool, SET_PHASE[phase.index()], |q| {
            q.bind(id.0).bind(dates.start_date).bind(dates.end_date).bind(now()).bind(by.0)
        })
        .await
    }

    /// Runs [`DELETE`], again when a file or a member was recorded while it ran (the statement
    /// sees it the next time): one statement unless an upload or an invitation races the delete.
    async fn delete_project(
        &self,
        id: ProjectId,
        by: UserId,
    ) -> StoreResult<Option<Recorded<Vec<String>>>> {
        let mut attempt = 1;
        loop {
            let outcome =
                fetch_recorded(&self.pool, DELETE, |q| q.bind(id.0).bind(by.0).bind(now())).await;
            match outcome {
                // NotFound is the foreign key of files or members: a missing project is None.
                Err(StoreError::NotFound) if attempt < DELETE_ATTEMPTS => {
                    attempt += 1;
                    tracing::debug!(attempt, "a row was recorded during a project delete; again");
                }
                Err(StoreError::NotFound) => {
                    return Err(StoreError::Conflict {
                        constraint: "files_project_id_fkey or members_project_id_fkey".into(),
                    })
                }
                outcome => return outcome,
            }
        }
    }
}
