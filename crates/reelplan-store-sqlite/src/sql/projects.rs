//! Projects: the caller's list, the detail document, and the project's own writes, each
//! recording its event.

use async_trait::async_trait;
use reelplan_domain::{Phase, PhaseDates, ProjectId, UserId};
use reelplan_store::{
    Event, FeedbackSummary, MembershipPage, NewProject, PageRequest, ProjectCore, ProjectDetail,
    ProjectFilter, ProjectPatch, ProjectSummary, Projects, Recorded, StoreResult,
};

use super::{fetch_doc, fetch_docs, fetch_opt_doc, fetch_recorded, micros, now};
use crate::SqliteStore;

/// The list of user ?1's projects (owned, then member of; a user is never both), newest first,
/// with their role. Filters: ?2 a substring of the name (`instr` keeps `%` and `_` literal), ?3
/// active_from, ?4 active_to; cursor ?5/?6 (created, id); ?7 limit.
pub const LIST: &str = concat!(
    "
    WITH mine (project_id, my_role) AS (
        SELECT id, 'owner' FROM projects WHERE owner_id = ?1
        UNION ALL
        SELECT project_id, role FROM members WHERE user_id = ?1
    )
    SELECT json_object('my_role', mine.my_role, ",
    project_core_fields!(),
    ")
    FROM mine
    JOIN projects p ON p.id = mine.project_id
    JOIN users o ON o.id = p.owner_id
    WHERE (?2 IS NULL OR instr(lower(p.name), lower(?2)) > 0)
      AND (?3 IS NULL OR p.latest_end_date >= ?3)
      AND (?4 IS NULL OR p.earliest_start_date <= ?4)
      AND (?5 IS NULL OR (p.created, p.id) < (?5, ?6))
    ORDER BY p.created DESC, p.id DESC
    LIMIT ?7"
);

/// The whole detail document of project ?1.
pub const DETAIL: &str = concat!(
    "SELECT json_object(",
    project_core_fields!(),
    ",
    'members', json((
        SELECT json_group_array(
                   json_object('id', m.id, 'user_id', m.user_id, 'email', u.email,
                               'nickname', u.nickname, 'role', m.role, 'created', m.created)
                   ORDER BY m.id)
        FROM members m JOIN users u ON u.id = m.user_id
        WHERE m.project_id = p.id)),
    'feedback', ",
    feedback_doc!(),
    ",
    'memos', json((
        SELECT json_group_array(
                   json_object('id', mo.id, 'user_id', mo.user_id, 'date', mo.date,
                               'text', mo.text, 'created', mo.created)
                   ORDER BY mo.date, mo.id)
        FROM memos mo WHERE mo.project_id = p.id)),
    'files', json((
        SELECT json_group_array(",
    file_doc!(),
    " ORDER BY f.id)
        FROM files f WHERE f.project_id = p.id AND f.kind = 'file')))
    FROM projects p JOIN users o ON o.id = p.owner_id
    WHERE p.id = ?1"
);

/// The feedback block of project ?1.
pub const FEEDBACK: &str = concat!("SELECT ", feedback_doc!(), " FROM projects p WHERE p.id = ?1");

/// `{entries, page}`: every project of user ?1's list as `[id, role, created]` in list order,
/// and the page after cursor ?2/?3 (created, id) of at most ?4 of them as core documents.
///
/// The page's rows are chosen (`top`) before any document is built: SQLite computes a sorted
/// subquery's columns for every row it sorts, which for a power user's ~300 projects was three
/// quarters of the statement. The documents are aggregated in the expression that builds them,
/// so none is serialised and parsed again on its way into the array.
pub const MEMBERSHIPS_PAGE: &str = concat!(
    "
    WITH mine (project_id, my_role, created) AS (
        SELECT id, 'owner', created FROM projects WHERE owner_id = ?1
        UNION ALL
        SELECT m.project_id, m.role, p.created
        FROM members m JOIN projects p ON p.id = m.project_id
        WHERE m.user_id = ?1
    ),
    top (project_id) AS (
        SELECT project_id FROM mine
        WHERE (?2 IS NULL OR (created, project_id) < (?2, ?3))
        ORDER BY created DESC, project_id DESC
        LIMIT ?4
    )
    SELECT json_object(
        'entries', json((
            SELECT json_group_array(json_array(project_id, my_role, created)
                                    ORDER BY created DESC, project_id DESC)
            FROM mine)),
        'page', json((
            SELECT json_group_array(json_object(",
    project_core_fields!(),
    ") ORDER BY p.created DESC, p.id DESC)
            FROM top
            JOIN projects p ON p.id = top.project_id
            JOIN users o ON o.id = p.owner_id)))"
);

/// The core documents of the projects whose ids are in the JSON array ?1, as one JSON array
/// (one row: sqlx hands each row of a statement over from its SQLite thread on its own).
pub const SUMMARIES: &str = concat!(
    "SELECT json_group_array(json_object(",
    project_core_fields!(),
    "))
    FROM projects p JOIN users o ON o.id = p.owner_id
    WHERE p.id IN (SELECT value FROM json_each(?1))"
);

/// `[id, event]`: inserts a project: ?1 owner, ?2-?6 fields, ?7 now, ?8-?23 the phase dates
/// in phase order, recording `project.updated` with the owner as actor and subject (trigger
/// `projects_created_event`). An unknown owner is a foreign-key violation, hence `NotFound`.
pub const CREATE: &str = concat!(
    "
    INSERT INTO projects (
        owner_id, name, manager, consumer, description, color, created, updated,
        basic_plan_start, basic_plan_end, story_board_start, story_board_end,
        filming_start, filming_end, video_edit_start, video_edit_end,
        post_work_start, post_work_end, video_preview_start, video_preview_end,
        confirmation_start, confirmation_end, video_delivery_start, video_delivery_end,
        changed_by)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7,
            ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,
            ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23,
            ?1)
    RETURNING json_array(id, ",
    recorded_event!("'project.updated'", "id", "id", "changed_by", "owner_id", "created"),
    ")"
);

/// The event of a patch of project ?1 at ?8 if user ?9 is its owner or a manager: a null
/// ?2-?5 keeps the field; ?6 says whether ?7 replaces the color (a null ?7 clears it). Trigger
/// `projects_changed_event` records it.
pub const UPDATE: &str = concat!(
    "
    UPDATE projects SET
        name = coalesce(?2, name),
        manager = coalesce(?3, manager),
        consumer = coalesce(?4, consumer),
        description = coalesce(?5, description),
        color = CASE WHEN ?6 THEN ?7 ELSE color END,
        updated = ?8,
        change = 'project.updated', changed_by = ?9
    WHERE id = ?1 AND ",
    changed_by!("?9", "'manager'"),
    "
    RETURNING ",
    recorded_event!("change", "id", "id", "changed_by", "NULL", "updated")
);

/// The event of setting one phase of project ?1 to (?2, ?3) at ?4, if user ?5 is its owner,
/// an editor or a manager. Trigger `projects_changed_event` records it.
macro_rules! set_phase {
    ($phase:literal) => {
        concat!(
            "UPDATE projects SET ",
            $phase,
            "_start = ?2, ",
            $phase,
            "_end = ?3, updated = ?4, change = 'phase.updated', changed_by = ?5
    WHERE id = ?1 AND ",
            changed_by!("?5", "'editor', 'manager'"),
            "
    RETURNING ",
            recorded_event!("change", "id", "id", "changed_by", "NULL", "updated")
        )
    };
}

/// One statement per phase, indexed by `Phase::index` (column names cannot be bound).
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

/// `[storage keys, event]`: deletes project ?1 by ?2 at ?3 in one statement. Trigger
/// `projects_deleted_event` records `project.deleted`, naming the owner and the members in its
/// audience, then deletes the project; its files, members, feedback, memos and versions follow
/// by cascade. `RETURNING` runs before that trigger, so it still sees the files whose keys the
/// delete hands back; SQLite's single write lock keeps any file from being recorded in between.
pub const DELETE: &str = concat!(
    "UPDATE projects SET deleted_by = ?2, updated = ?3 WHERE id = ?1
    RETURNING json_array(
        (SELECT json_group_array(f.storage_key) FROM files f WHERE f.project_id = ?1), ",
    recorded_event!("'project.deleted'", "id", "id", "deleted_by", "NULL", "updated"),
    ")"
);

#[async_trait]
impl Projects for SqliteStore {
    async fn list_projects(
        &self,
        viewer: UserId,
        filter: &ProjectFilter,
        page: PageRequest,
    ) -> StoreResult<Vec<ProjectSummary>> {
        fetch_docs(&self.pool, LIST, |q| {
            q.bind(viewer.0)
                .bind(filter.q.as_deref())
                .bind(filter.active_from.map(micros))
                .bind(filter.active_to.map(micros))
                .bind(page.after.map(|c| micros(c.created)))
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
                .bind(page.after.map(|c| micros(c.created)))
                .bind(page.after.map(|c| c.id))
                .bind(i64::from(page.limit))
        })
        .await
    }

    async fn project_summaries(&self, ids: &[ProjectId]) -> StoreResult<Vec<ProjectCore>> {
        let ids = serde_json::to_string(&ids.iter().map(|id| id.0).collect::<Vec<_>>())?;
        fetch_doc(&self.pool, SUMMARIES, |q| q.bind(ids)).await
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
                q = q.bind(dates.start_date.map(micros)).bind(dates.end_date.map(micros));
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
            q.bind(id.0)
                .bind(dates.start_date.map(micros))
                .bind(dates.end_date.map(micros))
                .bind(now())
                .bind(by.0)
        })
        .await
    }

    async fn delete_project(
        &self,
        id: ProjectId,
        by: UserId,
    ) -> StoreResult<Option<Recorded<Vec<String>>>> {
        fetch_recorded(&self.pool, DELETE, |q| q.bind(id.0).bind(by.0).bind(now())).await
    }
}
