//! A short load test against a server started in-process on 127.0.0.1:0, on a seeded `tiny`
//! dataset: SQLite always, PostgreSQL when `DATABASE_URL` is set (skipped otherwise).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use reelplan_bench::dataset::DatasetSize;
use reelplan_bench::loadtest::{self, LoadtestOptions};
use reelplan_bench::seed::{seed, SeedOptions};
use reelplan_bench::Report;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("reelplan-bench-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Serves `state` on 127.0.0.1:0; returns the base URL and the shutdown trigger.
async fn start(state: reelplan_server::AppState) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(reelplan_server::serve(listener, state, async move {
        let _ = stopped.await;
    }));
    (url, stop)
}

async fn run_short(url: String, conditional: bool) -> Report {
    let mut options = LoadtestOptions::new(vec![url.clone(), url], Duration::from_secs(4), 8);
    options.dataset = DatasetSize::Tiny;
    options.draws = 200;
    options.conditional = conditional;
    let report = loadtest::run(&options).await.unwrap();
    println!("{report}");
    report
}

fn assert_clean(report: &Report) {
    assert_eq!(report.stale_reads, 0, "stale reads");
    assert_eq!(report.server_errors, 0, "5xx or transport errors");
    for kind in &report.kinds {
        assert!(kind.requests > 0, "{} was never exercised", kind.kind);
        assert!(kind.statuses.keys().all(|s| *s < 500), "{}: {:?}", kind.kind, kind.statuses);
    }
    for visibility in &report.visibility {
        assert!(visibility.checked > 0, "{} writes were never read back", visibility.kind);
    }
    assert!(report.overall.mean_statements.is_some(), "X-Query-Count was read");
    assert!(report.overall.cache_hit_ratio.is_some(), "X-Cache was read");
    assert!(report.db_pool.is_some(), "/metrics was sampled");
    assert_eq!(report.cleanup_failures, 0);
    assert!(!report.failed());
}

/// A short load test (`conditional` or not) against the embedded default on a seeded `tiny`
/// data dir of its own under `name`.
async fn short_loadtest_on_sqlite(name: &str, conditional: bool) -> Report {
    let dir = temp_dir(name);
    let config = reelplan_server::Config::embedded(dir.clone());
    let (store, bulk) = reelplan_server::open_bulk_loader(&config.database).await.unwrap();
    seed(store.as_ref(), bulk.as_ref(), &SeedOptions::new(DatasetSize::Tiny)).await.unwrap();
    let state = reelplan_server::state_with_store(store, &config).unwrap();
    let (url, stop) = start(state).await;
    let report = run_short(url, conditional).await;
    let _ = stop.send(());
    let _ = std::fs::remove_dir_all(dir);
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_loadtest_on_sqlite_has_no_stale_reads_and_no_5xx() {
    assert_clean(&short_loadtest_on_sqlite("loadtest", false).await);
}

/// `--conditional`: the reads hold their last ETag, most of the tiny dataset's reads answer
/// 304, which counts as success, and the read-backs still find every write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conditional_loadtest_answers_304s_and_stays_clean() {
    let report = short_loadtest_on_sqlite("loadtest-conditional", true).await;
    assert_clean(&report);
    let share = report.not_modified_share.expect("measured with --conditional");
    assert!(share > 0.2, "conditional refetches mostly find their ETag: {share}");
    assert!(
        report.overall.not_modified > 0 && report.overall.errors < report.overall.requests / 10
    );
    assert!(report.to_string().contains("answered 304 Not Modified"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_loadtest_on_postgres_has_no_stale_reads_and_no_5xx() {
    let Ok(base) = std::env::var("DATABASE_URL") else {
        println!("skipped: DATABASE_URL is not set");
        return;
    };
    if !base.starts_with("postgres") {
        println!("skipped: DATABASE_URL is not PostgreSQL");
        return;
    }
    let (store, guard) = reelplan_store_postgres::connect_isolated_for_tests(&base).await.unwrap();
    seed(&store, &store, &SeedOptions::new(DatasetSize::Tiny)).await.unwrap();
    let dir = temp_dir("loadtest-pg");
    let config = reelplan_server::Config::embedded(dir.clone());
    let state = reelplan_server::state_with_store(Arc::new(store), &config).unwrap();
    let (url, stop) = start(state).await;
    let report = run_short(url, false).await;
    let _ = stop.send(());
    tokio::time::sleep(Duration::from_millis(200)).await;
    guard.drop_database().await;
    let _ = std::fs::remove_dir_all(dir);
    assert_clean(&report);
}
