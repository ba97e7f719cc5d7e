//! `reelplan seed` into a fresh SQLite file; the store's own read methods then see the
//! generated rows (see `seeded`); a second seed needs `--force`.

use std::path::PathBuf;

mod seeded;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("reelplan-bench-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_into_fresh_sqlite_then_store_reads_see_the_counts() {
    let dir = temp_dir("seed");
    let config = reelplan_server::Config::embedded(dir.clone());
    let (store, bulk) = reelplan_server::open_bulk_loader(&config.database).await.unwrap();
    seeded::seed_then_check(store.as_ref(), bulk.as_ref()).await;
    let _ = std::fs::remove_dir_all(dir);
}
