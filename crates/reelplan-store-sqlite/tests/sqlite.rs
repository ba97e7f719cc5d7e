//! What only the SQLite backend can show: connection settings, the migration of rows written
//! before review versions, and the generated columns and triggers seen from SQL.

mod common;

use common::TempDb;
use reelplan_domain::{Email, FileId, FileName, MediaType, Nickname, Phase, ProjectId, UserId};
use reelplan_store::prelude::*;
use reelplan_store::{NewFile, ReviewSummaryStatus};
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

/// The bundled SQLite is built as `.cargo/config.toml` asks: without STAT4, with whose
/// statistics (an ANALYZE, which the seed runs) a statement is prepared again every time a
/// parameter of its WHERE clause changes, and without the global memory statistics.
/// Readers that always overlap would keep SQLite's own checkpoint from ever starting the WAL
/// over: the store's checkpoint task waits them out, so the log stays short.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wal_starts_over_under_readers_that_always_overlap() {
    let db = TempDb::new("wal").await;
    let pool = db.store.pool().clone();
    sqlx::query("CREATE TABLE scratch (id INTEGER PRIMARY KEY, body BLOB)")
        .execute(&pool)
        .await
        .unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut readers = Vec::new();
    for offset in [0, 15] {
        let (pool, stop) = (pool.clone(), stop.clone());
        readers.push(tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(offset)).await;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let mut read = pool.begin().await.unwrap();
                sqlx::query("SELECT count(*) FROM scratch").execute(&mut *read).await.unwrap();
                tokio::time::sleep(std::time::Duration::from_millis(30)).await;
                read.commit().await.unwrap();
            }
        }));
    }
    // About 3,000 pages of log in all, over some 3 s.
    for _ in 0..1500 {
        sqlx::query("INSERT INTO scratch (body) VALUES (zeroblob(8000))")
            .execute(&pool)
            .await
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for reader in readers {
        reader.await.unwrap();
    }
    let (_, log, _): (i64, i64, i64) =
        sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(&pool).await.unwrap();
    assert!(log < 2000, "the log holds {log} pages: it was never started over");
    db.finish().await;
}

#[tokio::test]
async fn sqlite_is_built_without_stat4_and_memory_statistics() {
    let db = TempDb::new("compile-options").await;
    let options: Vec<String> =
        sqlx::query_scalar("PRAGMA compile_options").fetch_all(db.store.pool()).await.unwrap();
    assert!(!options.iter().any(|o| o == "ENABLE_STAT4"), "{options:?}");
    assert!(options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"), "{options:?}");
    db.finish().await;
}

/// The migration to review versions (API 1.1): a project's newest video becomes its version 1,
/// uploaded by its owner, with the project's comments; an older video row is dropped (the
/// sweep removes its object); files stay files; the next upload is version 2; files and
/// versions go with their project.
#[tokio::test]
async fn an_existing_video_becomes_version_1_with_the_comments() {
    let db = TempDb::unmigrated("versions-migration").await;
    let store = &db.store;
    let mut before = sqlx::migrate!("./migrations");
    let earlier: Vec<_> = before.migrations.iter().filter(|m| m.version < 9).cloned().collect();
    before.migrations = earlier.into();
    before.run(store.pool()).await.unwrap();
    for sql in [
        "INSERT INTO users (id, email, nickname, password_hash, created, updated)
         VALUES (1, 'owner@example.com', 'Owner', 'h', 1767225600000000, 1767225600000000)",
        "INSERT INTO projects (id, owner_id, name, created, updated)
         VALUES (1, 1, 'with video', 1767225600000000, 1767225600000000),
                (2, 1, 'without', 1767225600000000, 1767225600000000)",
        "INSERT INTO files (id, project_id, kind, name, content_type, size, storage_key, created)
         VALUES (1, 1, 'file', 'b.pdf', 'application/pdf', 10, 'key/b', 1767225600000000),
                (2, 1, 'video', 'old.mp4', 'video/mp4', 10, 'key/old', 1767225600000000)",
        // The 0006 trigger keeps one video per project: the old one goes as the new one comes.
        "INSERT INTO files (id, project_id, kind, name, content_type, size, storage_key, created)
         VALUES (3, 1, 'video', 'new.mp4', 'video/mp4', 10, 'key/new', 1767225600000000)",
        "INSERT INTO comments (project_id, user_id, text, timecode, created)
         VALUES (1, 1, 'one', 1.5, 1767225600000000), (1, 1, 'two', NULL, 1767225600000001)",
    ] {
        sqlx::query(sql).execute(store.pool()).await.unwrap();
    }
    store.migrate().await.unwrap();

    let detail = store.project_detail(ProjectId(1)).await.unwrap().unwrap();
    let names: Vec<&str> = detail.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["b.pdf"], "files stay files");
    let version = detail.feedback.current_version.expect("version 1");
    assert_eq!(
        (version.number, version.file.id, version.file.name.as_str()),
        (1, FileId(3), "new.mp4")
    );
    assert_eq!(version.created_by.email, "owner@example.com");
    assert_eq!(version.comment_count, 2, "the comments are on it");
    assert_eq!(detail.feedback.video, Some(version.file.clone()));
    assert_eq!(detail.core.review.version, Some(1));
    assert_eq!(detail.core.review.status, ReviewSummaryStatus::Pending);
    let without = store.project_detail(ProjectId(2)).await.unwrap().unwrap();
    assert_eq!(without.feedback.current_version, None);
    assert_eq!(without.core.review.status, ReviewSummaryStatus::None);

    let next = NewFile {
        name: FileName::parse("v2.mp4").unwrap(),
        content_type: MediaType::parse("video/mp4").unwrap(),
        size: 1,
        storage_key: "key/v2".to_owned(),
    };
    let v2 = store.add_version(ProjectId(1), UserId(1), &next, &Default::default()).await.unwrap();
    assert_eq!(v2.value.number, 2);

    let keys =
        store.delete_project(ProjectId(1), UserId(1)).await.unwrap().expect("it existed").value;
    assert_eq!(keys.len(), 3, "the file and both videos: {keys:?}");
    for table in ["files", "versions", "comments"] {
        let sql = format!("SELECT count(*) FROM {table} WHERE project_id = 1");
        let left: i64 = sqlx::query_scalar(&sql).fetch_one(store.pool()).await.unwrap();
        assert_eq!(left, 0, "{table} go with their project");
    }
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
        ("SELECT id FROM events WHERE project_id = 1 ORDER BY id DESC", "events_project"),
        ("SELECT id FROM events WHERE subject_id = 1 AND id > 0 ORDER BY id", "events_subject"),
        (
            "SELECT id FROM events WHERE audience IS NOT NULL AND id > 0 ORDER BY id",
            "events_audience",
        ),
        ("SELECT id FROM events WHERE created < 1", "events_created"),
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
