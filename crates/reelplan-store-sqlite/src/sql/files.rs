//! Project files and the videos of versions: rows written only once their object is complete.

use async_trait::async_trait;
use reelplan_domain::{FileId, ProjectId, UserId};
use reelplan_store::{FileAccess, FileMeta, Files, NewFile, Recorded, StoreResult};

use super::{fetch_opt_doc, fetch_recorded, now, time};
use crate::SqliteStore;

/// `[id, event]`: records a file (kind 'file') of project ?1 by ?8: name ?2, content type ?3,
/// size ?4, key ?5, at ?6, unless the project holds ?7 files already, recording `file.created`
/// (trigger `files_created_event`). An unknown project is a foreign-key violation, hence
/// `NotFound`.
pub const ADD: &str = concat!(
    "
    INSERT INTO files (project_id, kind, name, content_type, size, storage_key, created,
                       changed_by)
    SELECT ?1, 'file', ?2, ?3, ?4, ?5, ?6, ?8
    WHERE (SELECT count(*) FROM files WHERE project_id = ?1 AND kind = 'file') < ?7
    RETURNING json_array(id, ",
    recorded_event!("'file.created'", "project_id", "id", "changed_by", "NULL", "created"),
    ")"
);

fn meta(project: ProjectId, id: i64, file: &NewFile, created: i64) -> StoreResult<FileMeta> {
    let (name, content_type) =
        (file.name.as_str().to_owned(), file.content_type.as_str().to_owned());
    Ok(FileMeta::new(project, FileId(id), name, content_type, file.size, time(created)?))
}

/// The access list of project ?1 and its file ?2 (either kind) with the storage key.
pub const FILE: &str = concat!(
    "SELECT json_object('access', ",
    access_doc!(),
    ", 'file', json((SELECT json_object('meta', ",
    file_doc!(),
    ", 'storage_key', f.storage_key)
                     FROM files f WHERE f.id = ?2 AND f.project_id = p.id)))
    FROM projects p WHERE p.id = ?1"
);

/// `[key, event]` of deleting file ?2 (either kind) of project ?1 by ?3 at ?4: trigger
/// `files_deleted_event` records `file.deleted`, or `version.deleted` naming the version of a
/// video (which goes with it by cascade), and deletes the row.
pub const DELETE: &str = concat!(
    "UPDATE files SET deleted_by = ?3, changed_at = ?4 WHERE id = ?2 AND project_id = ?1
    RETURNING json_array(storage_key, ",
    file_deleted_event!(),
    ")"
);

#[async_trait]
impl Files for SqliteStore {
    async fn add_file(
        &self,
        project: ProjectId,
        file: &NewFile,
        cap: u32,
        by: UserId,
    ) -> StoreResult<Option<Recorded<FileMeta>>> {
        let created = now();
        let added: Option<Recorded<i64>> = fetch_recorded(&self.pool, ADD, |q| {
            q.bind(project.0)
                .bind(file.name.as_str())
                .bind(file.content_type.as_str())
                .bind(file.size)
                .bind(&file.storage_key)
                .bind(created)
                .bind(i64::from(cap))
                .bind(by.0)
        })
        .await?;
        added
            .map(|Recorded { value: id, event }| {
                Ok(Recorded { value: meta(project, id, file, created)?, event })
            })
            .transpose()
    }

    async fn file(&self, project: ProjectId, id: FileId) -> StoreResult<Option<FileAccess>> {
        fetch_opt_doc(&self.pool, FILE, |q| q.bind(project.0).bind(id.0)).await
    }

    async fn delete_file(
        &self,
        project: ProjectId,
        id: FileId,
        by: UserId,
    ) -> StoreResult<Option<Recorded<String>>> {
        fetch_recorded(&self.pool, DELETE, |q| q.bind(project.0).bind(id.0).bind(by.0).bind(now()))
            .await
    }
}

reelplan_store::testing_only! {
    use reelplan_store::stats::run;

    /// The storage keys of every file of project ?1.
    pub const PROJECT_KEYS: &str =
        "SELECT storage_key FROM files WHERE project_id = ?1 ORDER BY id";

    #[async_trait]
    impl reelplan_store::Inspect for SqliteStore {
        async fn project_file_keys(&self, project: ProjectId) -> StoreResult<Vec<String>> {
            let query = sqlx::query_scalar::<_, String>(PROJECT_KEYS).bind(project.0);
            run(PROJECT_KEYS, query.fetch_all(&self.pool)).await
        }
    }
}
