//! The shared backend conformance suite of `reelplan-store`, on a fresh PostgreSQL database.

use reelplan_store_postgres::connect_isolated_for_tests;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_conforms() {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        println!("skipped: DATABASE_URL not set");
        return;
    };
    let (store, db) = connect_isolated_for_tests(&url).await.unwrap();
    reelplan_store::conformance::run_all(&store).await;
    db.drop_database().await;
}
