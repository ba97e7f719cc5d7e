//! The process-wide metrics recorder and the gauges read at scrape time.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::state::AppState;

/// The Prometheus recorder, installed once per process.
pub fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let latency = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];
        let statements = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 10.0, 20.0, 50.0];
        PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("seconds".into()), &latency)
            .and_then(|b| {
                b.set_buckets_for_metric(
                    Matcher::Full("reelplan_http_request_statements".into()),
                    &statements,
                )
            })
            .and_then(|b| b.install_recorder())
            .inspect(|_| describe())
            .unwrap_or_else(|error| {
                tracing::warn!(%error, "metrics recorder not installed; using a detached one");
                PrometheusBuilder::new().build_recorder().handle()
            })
    })
}

/// HELP lines for the main series, and the error counters registered at zero: a counter
/// that first appears on its first failure hides that failure from `rate()` and from
/// alerts written against its name.
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        "reelplan_http_requests_total",
        "HTTP requests by route template, method and status class."
    );
    describe_histogram!(
        "reelplan_http_request_duration_seconds",
        Unit::Seconds,
        "HTTP request wall time by route template, method and status class."
    );
    describe_histogram!(
        "reelplan_http_request_statements",
        Unit::Count,
        "SQL statements run per HTTP request, by route template."
    );
    describe_counter!(
        "reelplan_cache_requests_total",
        "Cache reads by data kind, tier that answered (l1, l2, db) and result."
    );
    describe_counter!(
        "reelplan_redis_errors_total",
        "Failed Redis exchanges, by operation; each bypasses the cache."
    );
    describe_counter!(
        "reelplan_n_plus_one_warnings_total",
        "Requests that ran over 10 statements or repeated one over 3 times."
    );
    describe_gauge!("reelplan_db_pool_connections", "Database pool connections open.");
    describe_gauge!("reelplan_db_pool_idle", "Database pool connections open and idle.");
    describe_gauge!("reelplan_db_pool_in_use", "Database pool connections in use.");
    describe_gauge!("reelplan_db_pool_max", "Database pool size limit.");
    describe_gauge!(
        "reelplan_db_server_max_connections",
        "The database server's connection limit (PostgreSQL max_connections)."
    );
    describe_gauge!(
        "reelplan_process_resident_memory_bytes",
        Unit::Bytes,
        "Resident memory of the process."
    );
    let server = crate::redis_conn::OPERATIONS;
    for op in reelplan_cache::REDIS_OPERATIONS.into_iter().chain(server) {
        metrics::counter!("reelplan_redis_errors_total", "op" => op).increment(0);
    }
}

/// Gauges that are read rather than counted: pool, cache size, process memory.
pub fn record_gauges(state: &AppState) {
    let pool = state.store.pool_status();
    metrics::gauge!("reelplan_db_pool_connections").set(f64::from(pool.size));
    metrics::gauge!("reelplan_db_pool_idle").set(f64::from(pool.idle));
    metrics::gauge!("reelplan_db_pool_in_use").set(f64::from(pool.size.saturating_sub(pool.idle)));
    metrics::gauge!("reelplan_db_pool_max").set(f64::from(pool.max));
    if let Some(limit) = pool.server_limit {
        metrics::gauge!("reelplan_db_server_max_connections").set(f64::from(limit));
    }
    let (bytes, entries) = state.cache.l1_usage();
    metrics::gauge!("reelplan_cache_l1_bytes").set(bytes as f64);
    metrics::gauge!("reelplan_cache_l1_entries").set(entries as f64);
    if let Some(rss) = resident_bytes() {
        metrics::gauge!("reelplan_process_resident_memory_bytes").set(rss as f64);
    }
}

/// Resident memory from /proc (Linux); None elsewhere.
pub fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
