//! The shared backend conformance suite of `reelplan-store`, run on PostgreSQL: each section on
//! its own fresh database, and all of them together on one more. Each test is skipped when
//! `DATABASE_URL` is not set.

use reelplan_store::conformance;
use reelplan_store_postgres::connect_isolated_for_tests;

macro_rules! sections {
    ($($section:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $section() {
            let Ok(url) = std::env::var("DATABASE_URL") else {
                println!("skipped: DATABASE_URL not set");
                return;
            };
            let (store, db) = connect_isolated_for_tests(&url).await.unwrap();
            conformance::$section(&store).await;
            db.drop_database().await;
        }
    )*};
}

sections!(
    basics,
    users,
    projects,
    phases,
    project_list,
    list_filters,
    members,
    feedback,
    memos,
    files,
    versions,
    threads,
    cascade,
    footprint,
    events,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_conforms() {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        println!("skipped: DATABASE_URL not set");
        return;
    };
    let (store, db) = connect_isolated_for_tests(&url).await.unwrap();
    conformance::run_all(&store).await;
    db.drop_database().await;
}
