//! What only the SQLite backend can show: connection settings, the file rows no trait method
//! writes yet, and the generated columns and triggers seen from SQL.

mod common;

use common::TempDb;
use reelplan_domain::{Email, FileId, Nickname, Phase, ProjectId, ProjectName};
use reelplan_store::prelude::*;
use reelplan_store::NewProject;
use reelplan_store_sqlite::sql::projects::SET_PHASE;

#[tokio::test]
async fn opens_with_wal_foreign_keys_and_normal_sync() {
    let db = TempDb::new("pragmas").await;
    let pool = db.store.pool();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(pool).await.unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(pool).await.unwrap();
    assert_eq!(fk, 1);
    let sync: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(pool).await.unwrap();
    assert_eq!(sync, 1, "NORMAL");
    let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout").fetch_one(pool).await.unwrap();
    assert!(busy >= 1000, "{busy}");
    let version: String =
        sqlx::query_scalar("SELECT sqlite_version()").fetch_one(pool).await.unwrap();
    let parts: Vec<u32> = version.split('.').map(|p| p.parse().unwrap()).collect();
    assert!(parts[0] > 3 || parts[1] >= 44, "ORDER BY inside aggregates needs 3.44+: {version}");
    let status = db.store.pool_status();
    assert_eq!(status.max, 4);
    assert!(status.size >= 1 && status.idle <= status.size, "{status:?}");
    db.finish().await;
}

async fn insert_file(db: &TempDb, project: ProjectId, kind: &str, name: &str) -> FileId {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO files (project_id, kind, name, content_type, size, storage_key, created)
         VALUES (?1, ?2, ?3, 'video/mp4', 42, 'key', 1767225600000000) RETURNING id",
    )
    .bind(project.0)
    .bind(kind)
    .bind(name)
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    FileId(id)
}

#[tokio::test]
async fn detail_reads_files_and_the_newest_video() {
    let db = TempDb::new("files").await;
    let store = &db.store;
    let owner = store
        .create_user(
            &Email::parse("files@example.com").unwrap(),
            &Nickname::parse("Files").unwrap(),
            "h",
        )
        .await
        .unwrap();
    let project = NewProject::named(ProjectName::parse("Files").unwrap());
    let id = store.create_project(owner.id, &project).await.unwrap();
    let other = store.create_project(owner.id, &project).await.unwrap();

    let b = insert_file(&db, id, "file", "b \"quoted\".pdf").await;
    let old_video = insert_file(&db, id, "video", "cut1.mp4").await;
    let a = insert_file(&db, id, "file", "a.txt").await;
    let video = insert_file(&db, id, "video", "cut2.mp4").await;
    insert_file(&db, other, "video", "elsewhere.mp4").await;
    assert!(old_video < video);

    let d = store.project_detail(id).await.unwrap().unwrap();
    let names: Vec<(FileId, &str)> = d.files.iter().map(|f| (f.id, f.name.as_str())).collect();
    assert_eq!(names, vec![(b, "b \"quoted\".pdf"), (a, "a.txt")], "kind 'file' by id");
    assert_eq!(d.files[0].url, format!("/api/projects/{}/files/{}", id, b));
    assert_eq!((d.files[0].size, d.files[0].content_type.as_str()), (42, "video/mp4"));
    assert_eq!(d.files[0].created.timestamp_micros(), 1_767_225_600_000_000);
    let shown = d.feedback.video.expect("the newest video");
    assert_eq!((shown.id, shown.name.as_str()), (video, "cut2.mp4"));
    assert_eq!(shown.url, format!("/api/projects/{id}/files/{video}"));

    assert!(store.delete_project(id).await.unwrap().is_some());
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM files WHERE project_id = ?1")
        .bind(id.0)
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(left, 0, "files go with their project");
    db.finish().await;
}

#[tokio::test]
async fn hot_reads_use_indexes() {
    let db = TempDb::new("plans").await;
    let pool = db.store.pool();
    for (sql, index) in [
        ("SELECT project_id FROM members WHERE user_id = 1", "members_user_project"),
        (
            "SELECT id FROM projects WHERE owner_id = 1 ORDER BY created DESC, id DESC",
            "projects_owner_created",
        ),
        (
            "SELECT id FROM comments WHERE project_id = 1 ORDER BY created, id",
            "comments_project_created",
        ),
        (
            "SELECT id FROM messages WHERE project_id = 1 ORDER BY created DESC, id DESC",
            "messages_project_created",
        ),
        ("SELECT id FROM memos WHERE project_id = 1 ORDER BY date, id", "memos_project_date"),
        ("SELECT id FROM files WHERE project_id = 1 ORDER BY id", "files_project"),
    ] {
        let plan: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}")).fetch_all(pool).await.unwrap();
        let text: Vec<&str> = plan.iter().map(|row| row.3.as_str()).collect();
        assert!(text.iter().any(|t| t.contains(index)), "{sql}: {text:?}");
        assert!(!text.iter().any(|t| t.contains("TEMP B-TREE")), "{sql} sorts: {text:?}");
    }
    db.finish().await;
}

#[tokio::test]
async fn opening_twice_reuses_the_file_and_migrating_again_is_harmless() {
    let db = TempDb::new("reopen").await;
    let file: String =
        sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
            .fetch_one(db.store.pool())
            .await
            .unwrap();
    db.store
        .create_user(
            &Email::parse("kept@example.com").unwrap(),
            &Nickname::parse("Kept").unwrap(),
            "h",
        )
        .await
        .unwrap();
    let again =
        reelplan_store_sqlite::SqliteStore::open(&format!("sqlite://{file}"), 1).await.unwrap();
    again.migrate().await.unwrap();
    assert!(again.credentials(&Email::parse("kept@example.com").unwrap()).await.unwrap().is_some());
    again.close().await;
    db.finish().await;
}

#[test]
fn every_phase_has_its_own_columns() {
    for phase in Phase::ALL {
        let sql = SET_PHASE[phase.index()];
        assert!(sql.contains(&format!("{}_start = ?2", phase.as_str())), "{sql}");
        assert!(sql.contains(&format!("{}_end = ?3", phase.as_str())), "{sql}");
    }
}
