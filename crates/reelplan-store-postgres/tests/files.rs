//! What only PostgreSQL shows of files: rows written before review versions existed, and a
//! file recorded while its project is deleted.

use reelplan_domain::{Email, Nickname, ProjectName};
use reelplan_store::prelude::*;
use reelplan_store::{NewProject, ReviewSummaryStatus};
use reelplan_store_postgres::{connect_isolated_for_tests, create_isolated_for_tests};

/// The migration to review versions (API 1.1): a project's newest video becomes its version 1,
/// uploaded by its owner, with the project's comments; an older video row is dropped (the
/// sweep removes its object); files stay files; the next upload is version 2.
#[tokio::test]
async fn an_existing_video_becomes_version_1_with_the_comments() {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        println!("skipped: DATABASE_URL not set");
        return;
    };
    let (store, db) = create_isolated_for_tests(&url).await.unwrap();
    let mut before = sqlx::migrate!("./migrations");
    let earlier: Vec<_> =
        before.migrations.iter().filter(|m| m.version < 20261203000000).cloned().collect();
    before.migrations = earlier.into();
    before.run(store.pool()).await.unwrap();
    let ids: Vec<i64> = sqlx::query_scalar(
        "WITH u AS (
            INSERT INTO users (email, nickname, password_hash, created, updated)
            VALUES ('owner@example.com', 'Owner', 'h', now(), now()) RETURNING id
         ), p AS (
            INSERT INTO projects (owner_id, name, created, updated)
            SELECT u.id, n, now(), now() FROM u, (VALUES ('with video'), ('without')) v(n)
            RETURNING id, name
         ), f AS (
            INSERT INTO files (project_id, kind, name, content_type, size, storage_key, created)
            SELECT p.id, k, fname, 'video/mp4', 10, 'key/' || fname, now()
            FROM p, (VALUES ('file', 'b.pdf'), ('video', 'old.mp4'), ('video', 'new.mp4')) x(k, fname)
            WHERE p.name = 'with video'
            RETURNING id
         ), c AS (
            INSERT INTO comments (project_id, user_id, text, timecode, created)
            SELECT p.id, u.id, t, 1.5, now() FROM p, u, (VALUES ('one'), ('two')) y(t)
            WHERE p.name = 'with video'
         )
         SELECT id FROM p ORDER BY name",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    store.migrate().await.unwrap();

    let detail = store.project_detail(reelplan_domain::ProjectId(ids[0])).await.unwrap().unwrap();
    let names: Vec<&str> = detail.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["b.pdf"], "files stay files");
    let version = detail.feedback.current_version.expect("version 1");
    assert_eq!((version.number, version.file.name.as_str()), (1, "new.mp4"));
    assert_eq!(version.created_by.email, "owner@example.com");
    assert_eq!(version.comment_count, 2, "the comments are on it");
    assert_eq!(detail.feedback.video, Some(version.file.clone()));
    assert_eq!(detail.core.review.version, Some(1));
    assert_eq!(detail.core.review.status, ReviewSummaryStatus::Pending);
    let named = store.named_storage_keys(&["key/old.mp4".to_owned()]).await.unwrap();
    assert!(named.is_empty(), "the older video's row is gone");
    let without = store.project_detail(reelplan_domain::ProjectId(ids[1])).await.unwrap().unwrap();
    assert_eq!(without.feedback.current_version, None);
    assert_eq!(without.core.review.status, ReviewSummaryStatus::None);

    let owner = store.credentials(&Email::parse("owner@example.com").unwrap()).await.unwrap();
    let next = reelplan_store::NewFile {
        name: reelplan_domain::FileName::parse("v2.mp4").unwrap(),
        content_type: reelplan_domain::MediaType::parse("video/mp4").unwrap(),
        size: 1,
        storage_key: "key/v2".to_owned(),
    };
    let by = owner.expect("the owner").user.id;
    let v2 = store
        .add_version(reelplan_domain::ProjectId(ids[0]), by, &next, &Default::default())
        .await
        .unwrap();
    assert_eq!(v2.value.number, 2);
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
    let project = store.create_project(owner.id, &new).await.unwrap().value;
    let insert = "INSERT INTO files (project_id, kind, name, content_type, size, storage_key,
                  created) VALUES ($1, 'file', $2, 'text/plain', 1, $2, now())";
    sqlx::query(insert).bind(project.0).bind("before").execute(store.pool()).await.unwrap();

    let mut upload = store.pool().begin().await.unwrap();
    sqlx::query(insert).bind(project.0).bind("racing").execute(&mut *upload).await.unwrap();
    let deleting = tokio::spawn({
        let store = store.clone();
        async move { store.delete_project(project, owner.id).await }
    });
    // The delete is now waiting on the upload's lock of the project row.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!deleting.is_finished(), "the delete waits for the upload");
    upload.commit().await.unwrap();

    let mut keys = deleting.await.unwrap().unwrap().expect("the project existed").value;
    keys.sort();
    assert_eq!(keys, ["before", "racing"], "every file's key, the racing one included");
    let count = sqlx::query_scalar::<_, i64>("SELECT count(*) FROM files");
    let left = count.fetch_one(store.pool()).await.unwrap();
    assert_eq!(left, 0);
    db.drop_database().await;
}
