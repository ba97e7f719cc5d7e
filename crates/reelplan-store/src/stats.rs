//! Statement accounting: the one place every SQL statement passes through.
//!
//! The HTTP middleware opens a [`RequestStats`] scope per request; [`run`] counts and times each
//! statement into it (and into the process-wide metrics), logs slow statements (inside the
//! caller's span, which names the request), and maps the driver's error. Outside a scope (the
//! CLI, tests of the store alone) only the metrics move.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tracing::Instrument;

use crate::{StoreError, StoreResult};

static SLOW_STATEMENT_MICROS: AtomicU64 = AtomicU64::new(500_000);

/// Sets the threshold above which a statement is logged as slow (default 500 ms).
pub fn set_slow_statement_threshold(threshold: Duration) {
    SLOW_STATEMENT_MICROS.store(threshold.as_micros() as u64, Ordering::Relaxed);
}

/// What one request did with the database.
#[derive(Debug, Default, Clone)]
pub struct StatementLog {
    /// Statements run.
    pub count: u32,
    /// Time spent waiting on them.
    pub db_time: Duration,
    /// How often each statement text ran (N+1 detection).
    pub shapes: HashMap<&'static str, u32>,
}

impl StatementLog {
    /// The most repeated statement and how often it ran.
    pub fn most_repeated(&self) -> Option<(&'static str, u32)> {
        self.shapes.iter().map(|(sql, n)| (*sql, *n)).max_by_key(|(_, n)| *n)
    }
}

/// A request's shared statement log.
#[derive(Debug, Default, Clone)]
pub struct RequestStats(Arc<Mutex<StatementLog>>);

tokio::task_local! {
    static CURRENT: RequestStats;
}

impl RequestStats {
    /// Runs `fut` with this log as the current one.
    pub async fn scope<F: Future>(&self, fut: F) -> F::Output {
        CURRENT.scope(self.clone(), fut).await
    }

    /// A copy of what was recorded so far.
    pub fn snapshot(&self) -> StatementLog {
        self.0.lock().map(|log| log.clone()).unwrap_or_default()
    }

    fn with(f: impl FnOnce(&mut StatementLog)) {
        let _ = CURRENT.try_with(|stats| {
            if let Ok(mut log) = stats.0.lock() {
                f(&mut log);
            }
        });
    }
}

/// Runs one statement: counts it for the current request, times it, logs it when slow, and
/// maps the driver's error.
pub async fn run<T, F>(sql: &'static str, statement: F) -> StoreResult<T>
where
    F: Future<Output = Result<T, sqlx::Error>>,
{
    let started = Instant::now();
    // A debug-level span per statement: free unless debug logging is on for this crate.
    let result = statement.instrument(tracing::debug_span!("statement", sql)).await;
    let elapsed = started.elapsed();
    record(sql, elapsed);
    result.map_err(|error| {
        let error = StoreError::from(error);
        if matches!(error, StoreError::Other(_)) {
            tracing::error!(%error, sql, "statement failed");
        }
        error
    })
}

fn record(sql: &'static str, elapsed: Duration) {
    metrics::counter!("reelplan_db_statements_total").increment(1);
    metrics::histogram!("reelplan_db_statement_seconds").record(elapsed.as_secs_f64());
    RequestStats::with(|log| {
        log.count += 1;
        log.db_time += elapsed;
        *log.shapes.entry(sql).or_default() += 1;
    });
    if elapsed.as_micros() as u64 >= SLOW_STATEMENT_MICROS.load(Ordering::Relaxed) {
        metrics::counter!("reelplan_db_slow_statements_total").increment(1);
        tracing::warn!(
            target: "reelplan::slow_statement",
            duration_ms = elapsed.as_millis() as u64,
            sql = %sql.split_whitespace().collect::<Vec<_>>().join(" "),
            "slow statement"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn counts_statements_of_the_current_request_only() {
        let stats = RequestStats::default();
        stats
            .scope(async {
                run("SELECT 1", async { Ok::<_, sqlx::Error>(()) }).await.unwrap();
                run("SELECT 1", async { Ok::<_, sqlx::Error>(()) }).await.unwrap();
                let err = run("SELECT 2", async { Err::<(), _>(sqlx::Error::RowNotFound) }).await;
                assert!(matches!(err, Err(StoreError::NotFound)));
            })
            .await;
        run("SELECT 3", async { Ok::<_, sqlx::Error>(()) }).await.unwrap();
        let log = stats.snapshot();
        assert_eq!(log.count, 3);
        assert_eq!(log.most_repeated(), Some(("SELECT 1", 2)));
    }
}
