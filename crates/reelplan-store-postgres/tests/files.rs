//! The detail document reads `files`, which no `Store` method writes yet (uploads come later):
//! rows inserted directly must show as `files` (kind 'file', by id) and `feedback.video` (the
//! newest kind 'video').

use reelplan_domain::{Email, Nickname, ProjectName};
use reelplan_store::prelude::*;
use reelplan_store::NewProject;
use reelplan_store_postgres::connect_isolated_for_tests;

#[tokio::test]
async fn detail_reads_files_and_the_newest_video() {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        println!("skipped: DATABASE_URL not set");
        return;
    };
    let (store, db) = connect_isolated_for_tests(&url).await.unwrap();
    let owner = store
        .create_user(
            &Email::parse("owner@example.com").unwrap(),
            &Nickname::parse("Owner").unwrap(),
            "h",
        )
        .await
        .unwrap();
    let new = NewProject::named(ProjectName::parse("With files").unwrap());
    let project = store.create_project(owner.id, &new).await.unwrap();
    let ids: Vec<i64> = sqlx::query_scalar(
        "INSERT INTO files (project_id, kind, name, content_type, size, storage_key, created)
         SELECT $1, k, n, 'video/mp4', s, 'key/' || n, timestamptz '2026-03-01 09:00:00.5+00'
         FROM (VALUES ('file', 'b.pdf', 10), ('video', 'v1.mp4', 20),
                      ('file', 'a.txt', 30), ('video', 'v2.mp4', 40)) v(k, n, s)
         RETURNING id",
    )
    .bind(project.0)
    .fetch_all(store.pool())
    .await
    .unwrap();

    let detail = store.project_detail(project).await.unwrap().unwrap();
    let names: Vec<&str> = detail.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["b.pdf", "a.txt"]);
    assert_eq!(detail.files[0].url, format!("/api/projects/{}/files/{}", project.0, ids[0]));
    assert_eq!(detail.files[1].size, 30);
    assert_eq!(detail.files[0].created.timestamp_subsec_micros(), 500_000);
    let video = detail.feedback.video.expect("a video");
    assert_eq!((video.id.0, video.name.as_str()), (ids[3], "v2.mp4"));
    assert_eq!(video.url, format!("/api/projects/{}/files/{}", project.0, ids[3]));
    db.drop_database().await;
}

/// A file row committed while the project's delete runs (its upload won the race for the
/// project's row lock) is deleted with its key returned, so its object can go too: the delete
/// may not cascade it away unseen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_recorded_during_the_project_delete_is_returned_by_it() {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        println!("skipped: DATABASE_URL not set");
        return;
    };
    let (store, db) = connect_isolated_for_tests(&url).await.unwrap();
    let owner = store
        .create_user(
            &Email::parse("owner@example.com").unwrap(),
            &Nickname::parse("Owner").unwrap(),
            "h",
        )
        .await
        .unwrap();
    let new = NewProject::named(ProjectName::parse("Racing").unwrap());
    let project = store.create_project(owner.id, &new).await.unwrap();
    let insert = "INSERT INTO files (project_id, kind, name, content_type, size, storage_key,
                  created) VALUES ($1, 'file', $2, 'text/plain', 1, $2, now())";
    sqlx::query(insert).bind(project.0).bind("before").execute(store.pool()).await.unwrap();

    let mut upload = store.pool().begin().await.unwrap();
    sqlx::query(insert).bind(project.0).bind("racing").execute(&mut *upload).await.unwrap();
    let deleting = tokio::spawn({
        let store = store.clone();
        async move { store.delete_project(project).await }
    });
    // The delete is now waiting on the upload's lock of the project row.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!deleting.is_finished(), "the delete waits for the upload");
    upload.commit().await.unwrap();

    let mut keys = deleting.await.unwrap().unwrap().expect("the project existed");
    keys.sort();
    assert_eq!(keys, ["before", "racing"], "every file's key, the racing one included");
    let count = sqlx::query_scalar::<_, i64>("SELECT count(*) FROM files");
    let left = count.fetch_one(store.pool()).await.unwrap();
    assert_eq!(left, 0);
    db.drop_database().await;
}
