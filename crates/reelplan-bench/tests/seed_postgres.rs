//! `reelplan seed` into a fresh PostgreSQL database (skipped without a `postgres://`
//! `DATABASE_URL`); the store's own read methods then see the generated rows (see `seeded`);
//! a second seed needs `--force`.

mod seeded;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_into_fresh_postgres_then_store_reads_see_the_counts() {
    let Ok(base) = std::env::var("DATABASE_URL") else {
        println!("skipped: DATABASE_URL is not set");
        return;
    };
    if !base.starts_with("postgres") {
        println!("skipped: DATABASE_URL is not PostgreSQL");
        return;
    }
    let (store, guard) = reelplan_store_postgres::connect_isolated_for_tests(&base).await.unwrap();
    seeded::seed_then_check(&store, &store).await;
    guard.drop_database().await;
}
