//! Review versions and their reviews. A version's video is a `files` row of kind 'video';
//! deleting that row takes the version, its reviews and its comments (`ON DELETE CASCADE`).

use async_trait::async_trait;
use reelplan_domain::export::FrameRate;
use reelplan_domain::{ProjectId, UserId, VersionId};
use reelplan_store::{
    Event, ExportRows, NewFile, NewReview, NewVersion, PageRequest, ProjectAccess, Recorded,
    StoreError, StoreResult, ThreadPage, Version, VersionAccess, VersionPatch, Versions,
};
use serde::Deserialize;

use super::{fetch_opt_doc, fetch_recorded, now};
use crate::SqliteStore;

/// `{access, items}` of project ?1: versions numbered below ?2 (all when null), highest first,
/// at most ?3.
pub const PAGE: &str = concat!(
    "SELECT json_object('access', ",
    access_doc!(),
    ", 'items', json((
        SELECT json_group_array(json(doc) ORDER BY number DESC) FROM (
            SELECT ",
    version_doc!("v"),
    " AS doc, v.number
            FROM versions v
            WHERE v.project_id = ?1 AND (?2 IS NULL OR v.number < ?2)
            ORDER BY v.number DESC
            LIMIT ?3))))
    FROM projects p WHERE p.id = ?1"
);

/// `{access, version}` of project ?1 and its version ?2 (or null).
pub const VERSION: &str = concat!(
    "SELECT json_object('access', ",
    access_doc!(),
    ", 'version', json((SELECT ",
    version_doc!("v"),
    " FROM versions v WHERE v.id = ?2 AND v.project_id = p.id)))
    FROM projects p WHERE p.id = ?1"
);

/// `{access, project_name, version, comments}` of project ?1 and its version ?2: the version's
/// comments oldest first, resolved or not as ?3 says (either when null).
pub const EXPORT: &str = concat!(
    "SELECT json_object('access', ",
    access_doc!(),
    ", 'project_name', p.name,
    'version', json((SELECT json_object('number', v.number, 'fps', v.fps, 'duration', v.duration)
                     FROM versions v WHERE v.id = ?2 AND v.project_id = p.id)),
    'comments', json((
        SELECT json_group_array(json(doc) ORDER BY created, id) FROM (
            SELECT ",
    comment_doc!("c"),
    " AS doc, c.created, c.id
            FROM comments c
            WHERE c.version_id = ?2 AND c.project_id = p.id AND (?3 IS NULL OR c.resolved = ?3)))))
    FROM projects p WHERE p.id = ?1"
);

/// `[version, event]`: records version `version_seq + 1` of project ?1 by ?2 at ?3 (label ?4,
/// fps ?5, duration ?6) and its video's row (name ?7, content type ?8, size ?9, key ?10) in one
/// statement, recording `version.created` (trigger `versions_created_event`): the
/// `versions_video` trigger (migration 0010) writes the row under the id named here, the next
/// of the files sequence, and `versions_number` moves `version_seq` on. `RETURNING` sees the
/// row as inserted, so the video's document is built from the carried columns. Nothing is
/// written when there is no such project.
pub const ADD: &str = concat!(
    "
    INSERT INTO versions (project_id, number, file_id, created_by, created, label, fps, duration,
                          video_name, video_type, video_size, video_key, changed_by)
    SELECT p.id, p.version_seq + 1,
           coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'files'), 0) + 1,
           ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?2
    FROM projects p WHERE p.id = ?1
    RETURNING json_array(json_object('id', id, 'number', number, 'label', label, 'fps', fps,
        'duration', duration,
        'file', json_object('id', file_id, 'name', video_name, 'content_type', video_type,
                            'size', video_size, 'project_id', project_id, 'created', created),
        'created_by', json((SELECT ",
    user_ref!(),
    " FROM users u WHERE u.id = versions.created_by)),
        'created', created, 'comment_count', 0, 'reviews', json('[]')), ",
    recorded_event!("'version.created'", "project_id", "id", "changed_by", "NULL", "created"),
    ")"
);

/// `[version, event]`: changes version ?2 of project ?1 by ?9 at ?10: label ?4 when ?3, fps ?6
/// when ?5, duration ?8 when ?7, recording `version.updated` (trigger
/// `versions_updated_event`).
pub const UPDATE: &str = concat!(
    "
    UPDATE versions SET
        label = CASE WHEN ?3 THEN ?4 ELSE label END,
        fps = CASE WHEN ?5 THEN ?6 ELSE fps END,
        duration = CASE WHEN ?7 THEN ?8 ELSE duration END,
        changed_by = ?9, changed_at = ?10
    WHERE id = ?2 AND project_id = ?1
    RETURNING json_array(",
    version_doc!("versions"),
    ", ",
    recorded_event!("'version.updated'", "project_id", "id", "changed_by", "NULL", "changed_at"),
    ")"
);

/// `[key, event]`: deletes version ?2 of project ?1 by ?3 at ?4 by deleting its video's row,
/// returning the video's key: trigger `files_deleted_event` records `version.deleted` and
/// deletes the row, the version, its reviews and comments following by cascade.
pub const DELETE: &str = concat!(
    "
    UPDATE files SET deleted_by = ?3, changed_at = ?4
    WHERE id = (SELECT file_id FROM versions WHERE id = ?2 AND project_id = ?1)
    RETURNING json_array(storage_key, ",
    file_deleted_event!(),
    ")"
);

/// The event of recording user ?3's review of version ?2 of project ?1: status ?4, note ?5, at
/// ?6; the insert or the update records `review.updated` (triggers `reviews_created_event`,
/// `reviews_updated_event`).
pub const PUT_REVIEW: &str = concat!(
    "
    INSERT INTO reviews (version_id, user_id, status, note, updated, changed_by)
    SELECT v.id, ?3, ?4, ?5, ?6, ?3 FROM versions v WHERE v.id = ?2 AND v.project_id = ?1
    ON CONFLICT (version_id, user_id)
    DO UPDATE SET status = excluded.status, note = excluded.note, updated = excluded.updated,
                  changed_by = excluded.changed_by
    RETURNING ",
    recorded_event!(
        "'review.updated'",
        "(SELECT v.project_id FROM versions v WHERE v.id = reviews.version_id)",
        "version_id",
        "changed_by",
        "NULL",
        "updated"
    )
);

#[derive(Deserialize)]
struct PageDoc {
    access: ProjectAccess,
    items: Vec<Version>,
}

#[async_trait]
impl Versions for SqliteStore {
    async fn versions_page(
        &self,
        project: ProjectId,
        page: PageRequest,
    ) -> StoreResult<Option<ThreadPage<Version>>> {
        let doc: Option<PageDoc> = fetch_opt_doc(&self.pool, PAGE, |q| {
            q.bind(project.0).bind(page.after.map(|c| c.id)).bind(i64::from(page.limit))
        })
        .await?;
        Ok(doc.map(|doc| ThreadPage { access: doc.access, items: doc.items }))
    }

    async fn version(
        &self,
        project: ProjectId,
        id: VersionId,
    ) -> StoreResult<Option<VersionAccess>> {
        fetch_opt_doc(&self.pool, VERSION, |q| q.bind(project.0).bind(id.0)).await
    }

    async fn add_version(
        &self,
        project: ProjectId,
        by: UserId,
        video: &NewFile,
        version: &NewVersion,
    ) -> StoreResult<Recorded<Version>> {
        let added: Option<Recorded<Version>> = fetch_recorded(&self.pool, ADD, |q| {
            q.bind(project.0)
                .bind(by.0)
                .bind(now())
                .bind(version.label.as_ref().map(|label| label.as_str()))
                .bind(version.fps.map(FrameRate::listed))
                .bind(version.duration.map(|duration| duration.seconds()))
                .bind(video.name.as_str())
                .bind(video.content_type.as_str())
                .bind(video.size)
                .bind(&video.storage_key)
        })
        .await?;
        added.ok_or(StoreError::NotFound)
    }

    async fn update_version(
        &self,
        project: ProjectId,
        id: VersionId,
        patch: &VersionPatch,
        by: UserId,
    ) -> StoreResult<Option<Recorded<Version>>> {
        fetch_recorded(&self.pool, UPDATE, |q| {
            q.bind(project.0)
                .bind(id.0)
                .bind(patch.label.is_some())
                .bind(patch.label.clone().flatten().map(|label| label.as_str().to_owned()))
                .bind(patch.fps.is_some())
                .bind(patch.fps.flatten().map(FrameRate::listed))
                .bind(patch.duration.is_some())
                .bind(patch.duration.flatten().map(|duration| duration.seconds()))
                .bind(by.0)
                .bind(now())
        })
        .await
    }

    async fn delete_version(
        &self,
        project: ProjectId,
        id: VersionId,
        by: UserId,
    ) -> StoreResult<Option<Recorded<String>>> {
        fetch_recorded(&self.pool, DELETE, |q| q.bind(project.0).bind(id.0).bind(by.0).bind(now()))
            .await
    }

    async fn export_rows(
        &self,
        project: ProjectId,
        id: VersionId,
        resolved: Option<bool>,
    ) -> StoreResult<Option<ExportRows>> {
        fetch_opt_doc(&self.pool, EXPORT, |q| q.bind(project.0).bind(id.0).bind(resolved)).await
    }

    async fn put_review(
        &self,
        project: ProjectId,
        id: VersionId,
        by: UserId,
        review: &NewReview,
    ) -> StoreResult<Option<Event>> {
        fetch_opt_doc(&self.pool, PUT_REVIEW, |q| {
            q.bind(project.0)
                .bind(id.0)
                .bind(by.0)
                .bind(review.status.as_str())
                .bind(review.note.as_ref().map(|note| note.as_str()))
                .bind(now())
        })
        .await
    }
}
