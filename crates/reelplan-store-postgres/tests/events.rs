//! What only PostgreSQL shows of the event log: a membership committed while its project is
//! deleted is named by the `project.deleted`, so its user's stream still learns of the delete.

use reelplan_domain::{Email, EventType, Nickname, ProjectName};
use reelplan_store::prelude::*;
use reelplan_store::NewProject;
use reelplan_store_postgres::connect_isolated_for_tests;

/// A member row committed while the project's delete runs (its insert won the race for the
/// project's row lock) is in the audience of the `project.deleted`: the delete may not cascade
/// it away unnamed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_added_during_the_project_delete_is_in_its_audience() {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        println!("skipped: DATABASE_URL not set");
        return;
    };
    let (store, db) = connect_isolated_for_tests(&url).await.unwrap();
    let mut users = Vec::new();
    for name in ["owner", "early", "racing"] {
        let email = Email::parse(&format!("{name}@example.com")).unwrap();
        let nickname = Nickname::parse(name).unwrap();
        users.push(store.create_user(&email, &nickname, "h").await.unwrap());
    }
    let (owner, early, racing) = (&users[0], &users[1], &users[2]);
    let new = NewProject::named(ProjectName::parse("Racing").unwrap());
    let project = store.create_project(owner.id, &new).await.unwrap().value;
    let insert = "INSERT INTO members (project_id, user_id, role, created)
                  VALUES ($1, $2, 'viewer', now())";
    sqlx::query(insert).bind(project.0).bind(early.id.0).execute(store.pool()).await.unwrap();

    let mut invite = store.pool().begin().await.unwrap();
    sqlx::query(insert).bind(project.0).bind(racing.id.0).execute(&mut *invite).await.unwrap();
    let deleting = tokio::spawn({
        let store = store.clone();
        let by = owner.id;
        async move { store.delete_project(project, by).await }
    });
    // The delete is now waiting on the invitation's lock of the project row.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!deleting.is_finished(), "the delete waits for the invitation");
    invite.commit().await.unwrap();

    let deleted = deleting.await.unwrap().unwrap().expect("the project existed");
    assert_eq!(deleted.event.kind, EventType::ProjectDeleted);
    let audience: Vec<i64> =
        sqlx::query_scalar("SELECT unnest(audience) FROM events WHERE id = $1")
            .bind(deleted.event.id)
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(audience, [owner.id.0, early.id.0, racing.id.0], "the owner, then the members");
    let start = store.stream_start(racing.id, Some(0), 10).await.unwrap();
    assert_eq!(start.projects, []);
    assert_eq!(start.events, [deleted.event], "the racing member learns of the delete");
    let left = sqlx::query_scalar::<_, i64>("SELECT count(*) FROM members");
    assert_eq!(left.fetch_one(store.pool()).await.unwrap(), 0);
    db.drop_database().await;
}
