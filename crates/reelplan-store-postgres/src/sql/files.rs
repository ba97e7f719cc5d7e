//! Project files and the videos of versions: rows written only once their object is complete.

use async_trait::async_trait;
use reelplan_domain::{FileId, ProjectId, UserId};
use reelplan_store::{FileAccess, FileMeta, Files, NewFile, Recorded, StoreResult};

use super::{fetch_opt_doc, fetch_recorded, now, DocQuery};
use crate::PgStore;

/// `[file, event]`: records a file (kind 'file') of project $1: name $2, content type $3, size
/// $4, key $5, at $6, unless the project holds $7 files already, recording `file.created` by
/// $8.
pub const ADD: &str = concat!(
    "WITH f AS (
    INSERT INTO files (project_id, kind, name, content_type, size, storage_key, created)
    SELECT $1::bigint, 'file', $2::text, $3::text, $4::bigint, $5::text, $6::timestamptz
    WHERE (SELECT count(*) FROM files WHERE project_id = $1::bigint AND kind = 'file')
          < $7::bigint
    RETURNING *
), ",
    record_event!(
        "SELECT 'file.created', f.project_id, f.id, $8::bigint, NULL::bigint, f.created FROM f"
    ),
    "
SELECT json_build_array(",
    file_doc!("f"),
    ", ",
    event_doc!("ev"),
    ")::text FROM f, ev"
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

/// `[key, event]`: deletes file $2 (either kind) of project $1, returning its storage key and
/// the event recorded by $3 at $4: `file.deleted`, or for a version's video (whose version goes
/// with it by cascade) `version.deleted`, its object the version.
pub const DELETE: &str = concat!(
    "WITH f AS (
    DELETE FROM files f WHERE f.id = $2::bigint AND f.project_id = $1::bigint
    RETURNING f.id, f.project_id, f.storage_key,
              (SELECT v.id FROM versions v WHERE v.file_id = f.id) AS version_id
), ",
    record_event!(
        "SELECT CASE WHEN f.version_id IS NULL THEN 'file.deleted' ELSE 'version.deleted' END,
           f.project_id, COALESCE(f.version_id, f.id), $3::bigint, NULL::bigint,
           $4::timestamptz
    FROM f"
    ),
    "
SELECT json_build_array(f.storage_key, ",
    event_doc!("ev"),
    ")::text FROM f, ev"
);

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
        by: UserId,
    ) -> StoreResult<Option<Recorded<FileMeta>>> {
        fetch_recorded(&self.pool, ADD, |q| {
            bind_new_file(q, project, file).bind(i64::from(cap)).bind(by.0)
        })
        .await
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
    /// The storage keys of every file of project $1.
    pub const PROJECT_KEYS: &str =
        "SELECT storage_key FROM files WHERE project_id = $1::bigint ORDER BY id";

    #[async_trait]
    impl reelplan_store::Inspect for PgStore {
        async fn project_file_keys(&self, project: ProjectId) -> StoreResult<Vec<String>> {
            let query = sqlx::query_scalar::<_, String>(PROJECT_KEYS).bind(project.0);
            reelplan_store::stats::run(PROJECT_KEYS, query.fetch_all(&self.pool)).await
        }
    }
}
