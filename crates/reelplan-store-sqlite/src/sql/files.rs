//! Project files and the videos of versions: rows written only once their object is complete.

use async_trait::async_trait;
use reelplan_domain::{FileId, ProjectId};
use reelplan_store::stats::run;
use reelplan_store::{FileAccess, FileMeta, Files, NewFile, StoreResult};

use super::{fetch_opt_doc, now, time};
use crate::SqliteStore;

/// Records a file (kind 'file') of project ?1: name ?2, content type ?3, size ?4, key ?5, at
/// ?6, unless the project holds ?7 files already.
pub const ADD: &str = "
    INSERT INTO files (project_id, kind, name, content_type, size, storage_key, created)
    SELECT ?1, 'file', ?2, ?3, ?4, ?5, ?6
    WHERE (SELECT count(*) FROM files WHERE project_id = ?1 AND kind = 'file') < ?7
    RETURNING id, created";

fn meta(project: ProjectId, id: i64, file: &NewFile, created: i64) -> StoreResult<FileMeta> {
    let (name, content_type) =
        (file.name.as_str().to_owned(), file.content_type.as_str().to_owned());
    Ok(FileMeta::new(project, FileId(id), name, content_type, file.size, time(created)?))
}

/// `sql` ([`ADD`]) with a new file's row as its parameters ?1-?6.
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
        .bind(file.name.as_str())
        .bind(file.content_type.as_str())
        .bind(file.size)
        .bind(&file.storage_key)
        .bind(now())
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

/// Deletes file ?2 (either kind) of project ?1, returning its storage key.
pub const DELETE: &str =
    "DELETE FROM files WHERE id = ?2 AND project_id = ?1 RETURNING storage_key";

#[async_trait]
impl Files for SqliteStore {
    async fn add_file(
        &self,
        project: ProjectId,
        file: &NewFile,
        cap: u32,
    ) -> StoreResult<Option<FileMeta>> {
        let query = new_file_row::<(i64, i64)>(ADD, project, file).bind(i64::from(cap));
        let Some((id, created)) = run(ADD, query.fetch_optional(&self.pool)).await? else {
            return Ok(None);
        };
        meta(project, id, file, created).map(Some)
    }

    async fn file(&self, project: ProjectId, id: FileId) -> StoreResult<Option<FileAccess>> {
        fetch_opt_doc(&self.pool, FILE, |q| q.bind(project.0).bind(id.0)).await
    }

    async fn delete_file(&self, project: ProjectId, id: FileId) -> StoreResult<Option<String>> {
        let query = sqlx::query_scalar::<_, String>(DELETE).bind(project.0).bind(id.0);
        run(DELETE, query.fetch_optional(&self.pool)).await
    }
}

reelplan_store::testing_only! {
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
