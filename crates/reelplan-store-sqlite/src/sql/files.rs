//! Project files and the feedback video: rows written only once their object is complete.

use reelplan_domain::{FileId, ProjectId};
use reelplan_store::stats::run;
use reelplan_store::{FileAccess, FileMeta, NewFile, StoreResult, VideoReplaced};
use sqlx::SqlitePool;

use super::{parse, parse_opt};
use crate::{now, time};

pub(crate) const ADD: &str = "
    INSERT INTO files (project_id, kind, name, content_type, size, storage_key, created)
    SELECT ?1, 'file', ?2, ?3, ?4, ?5, ?6
    WHERE (SELECT count(*) FROM files WHERE project_id = ?1 AND kind = 'file') < ?7
    RETURNING id, created";

fn meta(project: ProjectId, id: i64, file: &NewFile, created: i64) -> StoreResult<FileMeta> {
    Ok(FileMeta {
        id: FileId(id),
        name: file.name.clone(),
        content_type: file.content_type.clone(),
        size: file.size,
        url: format!("/api/projects/{}/files/{id}", project.0),
        created: time(created)?,
    })
}

/// `sql` ([`ADD`] or [`SET_VIDEO`]) with a new file's row as its parameters ?1-?6.
fn new_file_row<'q, O>(
    sql: &'static str,
    project: ProjectId,
    file: &'q NewFile,
) -> sqlx::query::QueryAs<'q, sqlx::Sqlite, O, sqlx::sqlite::SqliteArguments<'q>>
where
    O: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>,
{
    sqlx::query_as::<_, O>(sql)
        .bind(project.0)
        .bind(&file.name)
        .bind(&file.content_type)
        .bind(file.size)
        .bind(&file.storage_key)
        .bind(now())
}

/// Records a file (kind 'file') unless the project holds `cap` already (None); `NotFound`
/// when the project does not exist.
pub async fn add(
    pool: &SqlitePool,
    project: ProjectId,
    file: &NewFile,
    cap: u32,
) -> StoreResult<Option<FileMeta>> {
    let query = new_file_row::<(i64, i64)>(ADD, project, file).bind(i64::from(cap));
    let Some((id, created)) = run(ADD, query.fetch_optional(pool)).await? else {
        return Ok(None);
    };
    meta(project, id, file, created).map(Some)
}

/// The new video row carries the keys of the videos it replaces; the `files_one_video` trigger
/// (migration 0006) deletes their rows within this same statement.
pub(crate) const SET_VIDEO: &str = "
    INSERT INTO files (project_id, kind, name, content_type, size, storage_key, created, replaced)
    SELECT ?1, 'video', ?2, ?3, ?4, ?5, ?6,
           (SELECT json_group_array(storage_key) FROM files WHERE project_id = ?1 AND kind = 'video')
    RETURNING id, created, replaced";

/// Records the project's new feedback video and deletes the rows of the ones it replaces,
/// returning their keys; `NotFound` when the project does not exist.
pub async fn set_video(
    pool: &SqlitePool,
    project: ProjectId,
    file: &NewFile,
) -> StoreResult<VideoReplaced> {
    let query = new_file_row::<(i64, i64, Option<String>)>(SET_VIDEO, project, file);
    let (id, created, replaced) = run(SET_VIDEO, query.fetch_one(pool)).await?;
    let replaced = match replaced {
        Some(keys) => parse(&keys)?,
        None => Vec::new(),
    };
    Ok(VideoReplaced { video: meta(project, id, file, created)?, replaced })
}

pub(crate) const FILE: &str = concat!(
    "SELECT json_object('access', ",
    access_json!(),
    ", 'file', json((SELECT json_object('meta', ",
    file_json!(),
    ", 'storage_key', f.storage_key)
                     FROM files f WHERE f.id = ?2 AND f.project_id = p.id)))
    FROM projects p WHERE p.id = ?1"
);

/// The access list and one file (either kind) of a project; None when no such project.
pub async fn file(
    pool: &SqlitePool,
    project: ProjectId,
    id: FileId,
) -> StoreResult<Option<FileAccess>> {
    let query = sqlx::query_scalar::<_, String>(FILE).bind(project.0).bind(id.0);
    parse_opt(run(FILE, query.fetch_optional(pool)).await?)
}

const DELETE: &str = "DELETE FROM files WHERE id = ?2 AND project_id = ?1 RETURNING storage_key";

/// Deletes a file (either kind), returning its storage key; None when none on this project.
pub async fn delete(
    pool: &SqlitePool,
    project: ProjectId,
    id: FileId,
) -> StoreResult<Option<String>> {
    let query = sqlx::query_scalar::<_, String>(DELETE).bind(project.0).bind(id.0);
    run(DELETE, query.fetch_optional(pool)).await
}

/// Those of the storage keys in the JSON array ?1 that a file row names (by the index
/// `files_storage_key`).
pub const NAMED_KEYS: &str =
    "SELECT storage_key FROM files WHERE storage_key IN (SELECT value FROM json_each(?1))";

const PROJECT_KEYS: &str = "SELECT storage_key FROM files WHERE project_id = ?1 ORDER BY id";

/// The storage keys of every file of a project.
pub async fn project_keys(pool: &SqlitePool, project: ProjectId) -> StoreResult<Vec<String>> {
    let query = sqlx::query_scalar::<_, String>(PROJECT_KEYS).bind(project.0);
    run(PROJECT_KEYS, query.fetch_all(pool)).await
}

pub async fn named_keys(pool: &SqlitePool, keys: &[String]) -> StoreResult<Vec<String>> {
    let keys = serde_json::to_string(keys)?;
    let query = sqlx::query_scalar::<_, String>(NAMED_KEYS).bind(keys);
    run(NAMED_KEYS, query.fetch_all(pool)).await
}
