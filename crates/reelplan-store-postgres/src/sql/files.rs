//! Project files and the videos of versions: rows written only once their object is complete.

use async_trait::async_trait;
use reelplan_domain::{FileId, ProjectId};
use reelplan_store::stats::run;
use reelplan_store::{FileAccess, FileMeta, Files, NewFile, StoreResult};

use super::{fetch_opt_doc, now, DocQuery};
use crate::PgStore;

/// Records a file (kind 'file') of project $1: name $2, content type $3, size $4, key $5, at
/// $6, unless the project holds $7 files already.
pub const ADD: &str = concat!(
    "INSERT INTO files AS f (project_id, kind, name, content_type, size, storage_key, created)
SELECT $1::bigint, 'file', $2::text, $3::text, $4::bigint, $5::text, $6::timestamptz
WHERE (SELECT count(*) FROM files WHERE project_id = $1::bigint AND kind = 'file') < $7::bigint
RETURNING ",
    file_doc!("f"),
    "::text"
);

/// The access list of project $1 and its file $2 (either kind) with the storage key.
pub const FILE: &str = concat!(
    "SELECT json_build_object('access', ",
    access_doc!(),
    ", 'file', (SELECT json_build_object('meta', ",
    file_doc!("f"),
    ", 'storage_key', f.storage_key)
              FROM files f WHERE f.id = $2::bigint AND f.project_id = p.id))::text
FROM projects p WHERE p.id = $1::bigint"
);

/// Deletes file $2 (either kind) of project $1, returning its storage key.
pub const DELETE: &str =
    "DELETE FROM files WHERE id = $2::bigint AND project_id = $1::bigint RETURNING storage_key";

/// `query` ([`ADD`]) with a new file's row as its parameters $1-$6.
fn bind_new_file<'q>(query: DocQuery<'q>, project: ProjectId, file: &'q NewFile) -> DocQuery<'q> {
    query
        .bind(project.0)
        .bind(file.name.as_str())
        .bind(file.content_type.as_str())
        .bind(file.size)
        .bind(&file.storage_key)
        .bind(now())
}

#[async_trait]
impl Files for PgStore {
    async fn add_file(
        &self,
        project: ProjectId,
        file: &NewFile,
        cap: u32,
    ) -> StoreResult<Option<FileMeta>> {
        fetch_opt_doc(&self.pool, ADD, |q| bind_new_file(q, project, file).bind(i64::from(cap)))
            .await
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
    /// The storage keys of every file of project $1.
    pub const PROJECT_KEYS: &str =
        "SELECT storage_key FROM files WHERE project_id = $1::bigint ORDER BY id";

    #[async_trait]
    impl reelplan_store::Inspect for PgStore {
        async fn project_file_keys(&self, project: ProjectId) -> StoreResult<Vec<String>> {
            let query = sqlx::query_scalar::<_, String>(PROJECT_KEYS).bind(project.0);
            run(PROJECT_KEYS, query.fetch_all(&self.pool)).await
        }
    }
}
