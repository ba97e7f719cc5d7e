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
use crate::PgStore;

/// `{access, items}` of project $1: versions numbered below $2 (all when null), highest first,
/// at most $3.
pub const PAGE: &str = concat!(
    "SELECT json_build_object('access', ",
    access_doc!(),
    ", 'items', COALESCE((
        SELECT json_agg(x.doc ORDER BY x.number DESC)
        FROM (SELECT v.number, ",
    version_doc!("v"),
    " AS doc
              FROM versions v
              WHERE v.project_id = p.id AND v.number < COALESCE($2::bigint, 9223372036854775807)
              ORDER BY v.number DESC
              LIMIT $3::bigint) x), '[]'::json))::text
FROM projects p WHERE p.id = $1::bigint"
);

/// `{access, version}` of project $1 and its version $2 (or null).
pub const VERSION: &str = concat!(
    "SELECT json_build_object('access', ",
    access_doc!(),
    ", 'version', (SELECT ",
    version_doc!("v"),
    " FROM versions v WHERE v.id = $2::bigint AND v.project_id = p.id))::text
FROM projects p WHERE p.id = $1::bigint"
);

/// `{access, project_name, version, comments}` of project $1 and its version $2: the version's
/// comments oldest first, resolved or not as $3 says (either when null).
pub const EXPORT: &str = concat!(
    "SELECT json_build_object('access', ",
    access_doc!(),
    ", 'project_name', p.name,
    'version', (SELECT json_build_object('number', v.number, 'fps', v.fps, 'duration', v.duration)
                FROM versions v WHERE v.id = $2::bigint AND v.project_id = p.id),
    'comments', COALESCE((
        SELECT json_agg(x.doc ORDER BY x.created, x.id)
        FROM (SELECT c.created, c.id, ",
    comment_doc!("c"),
    " AS doc
              FROM comments c
              WHERE c.version_id = $2::bigint AND c.project_id = p.id
                AND ($3::boolean IS NULL OR c.resolved = $3::boolean)) x), '[]'::json))::text
FROM projects p WHERE p.id = $1::bigint"
);

/// `[version, event]`: records a new version of project $1 with its video (name $2, content
/// type $3, size $4, key $5, at $6) by $7: label $8, fps $9, duration $10, numbered one past
/// `version_seq`, and its `version.created`. Moving
/// `version_seq` on takes the project row's lock, so concurrent uploads are numbered one at a
/// time; nothing is written when there is no such project.
pub const ADD: &str = concat!(
    "WITH seq AS (
    UPDATE projects SET version_seq = version_seq + 1 WHERE id = $1::bigint
    RETURNING id, version_seq
), vf AS (
    INSERT INTO files AS f (project_id, kind, name, content_type, size, storage_key, created)
    SELECT seq.id, 'video', $2::text, $3::text, $4::bigint, $5::text, $6::timestamptz FROM seq
    RETURNING f.*
), v AS (
    INSERT INTO versions (project_id, number, file_id, created_by, created, label, fps, duration)
    SELECT seq.id, seq.version_seq, vf.id, $7::bigint, $6::timestamptz, $8::text,
           $9::double precision, $10::double precision
    FROM seq, vf
    RETURNING *
), ",
    record_event!(
        "SELECT 'version.created', v.project_id, v.id, v.created_by, NULL::bigint, v.created
    FROM v"
    ),
    "
SELECT json_build_array(json_build_object('id', v.id, 'number', v.number, 'label', v.label,
    'fps', v.fps, 'duration', v.duration, 'file', ",
    file_doc!("vf"),
    ", 'created_by', ",
    user_ref!("vu"),
    ", 'created', rp_us(v.created), 'comment_count', 0, 'reviews', '[]'::json), ",
    event_doc!("ev"),
    ")::text
FROM v, vf, users vu, ev WHERE vu.id = v.created_by"
);

/// `[version, event]`: changes version $2 of project $1: label $4 when $3, fps $6 when $5,
/// duration $8 when $7, recording `version.updated` by $9 at $10.
pub const UPDATE: &str = concat!(
    "WITH v AS (
    UPDATE versions v SET
        label = CASE WHEN $3::boolean THEN $4::text ELSE v.label END,
        fps = CASE WHEN $5::boolean THEN $6::double precision ELSE v.fps END,
        duration = CASE WHEN $7::boolean THEN $8::double precision ELSE v.duration END
    WHERE v.id = $2::bigint AND v.project_id = $1::bigint
    RETURNING v.*
), ",
    record_event!(
        "SELECT 'version.updated', v.project_id, v.id, $9::bigint, NULL::bigint, $10::timestamptz
    FROM v"
    ),
    "
SELECT json_build_array(",
    version_doc!("v"),
    ", ",
    event_doc!("ev"),
    ")::text FROM v, ev"
);

/// `[key, event]`: deletes version $2 of project $1 by deleting its video's row (the version,
/// its reviews and comments go by cascade), returning the video's key and the
/// `version.deleted` recorded by $3 at $4.
pub const DELETE: &str = concat!(
    "WITH f AS (
    DELETE FROM files f USING versions v
    WHERE v.id = $2::bigint AND v.project_id = $1::bigint AND f.id = v.file_id
    RETURNING f.storage_key, v.id AS version_id, v.project_id
), ",
    record_event!(
        "SELECT 'version.deleted', f.project_id, f.version_id, $3::bigint, NULL::bigint,
           $4::timestamptz
    FROM f"
    ),
    "
SELECT json_build_array(f.storage_key, ",
    event_doc!("ev"),
    ")::text FROM f, ev"
);

/// The event of recording user $3's review of version $2 of project $1: status $4, note $5,
/// at $6 (`review.updated`, its object the version).
pub const PUT_REVIEW: &str = concat!(
    "WITH r AS (
    INSERT INTO reviews (version_id, user_id, status, note, updated)
    SELECT v.id, $3::bigint, $4::text, $5::text, $6::timestamptz
    FROM versions v WHERE v.id = $2::bigint AND v.project_id = $1::bigint
    ON CONFLICT (version_id, user_id)
    DO UPDATE SET status = EXCLUDED.status, note = EXCLUDED.note, updated = EXCLUDED.updated
    RETURNING version_id, user_id, updated
), ",
    record_event!(
        "SELECT 'review.updated', $1::bigint, r.version_id, r.user_id, NULL::bigint, r.updated
    FROM r"
    ),
    "
SELECT ",
    event_doc!("ev"),
    "::text FROM ev"
);

#[derive(Deserialize)]
struct PageDoc {
    access: ProjectAccess,
    items: Vec<Version>,
}

#[async_trait]
impl Versions for PgStore {
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
                .bind(video.name.as_str())
                .bind(video.content_type.as_str())
                .bind(video.size)
                .bind(&video.storage_key)
                .bind(now())
                .bind(by.0)
                .bind(version.label.as_ref().map(|label| label.as_str()))
                .bind(version.fps.map(FrameRate::listed))
                .bind(version.duration.map(|duration| duration.seconds()))
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
