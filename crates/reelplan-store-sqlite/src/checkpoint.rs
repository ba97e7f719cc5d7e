//! Keeps the write-ahead log short under a steady mix of reads and writes.
//!
//! SQLite's automatic checkpoint copies the log into the database after a commit that takes it
//! past 1,000 pages, but it can start the log over only at a moment when no reader is using
//! it. Under the benchmark mix that moment never comes (ten connections read all the time):
//! the log grew by 16 MB a second, and every page a statement read searched a longer log
//! index first. So, every [`EVERY`], a passive checkpoint copies what it can without blocking
//! anyone and reports the log's length; when the log holds more than [`RESTART_AFTER`] pages,
//! a restart checkpoint waits for the readers of the old log to finish (holding writers back
//! meanwhile, under the busy timeout) so that the next write starts the log over.

use std::time::Duration;

use sqlx::SqlitePool;

/// How often the log is looked at.
const EVERY: Duration = Duration::from_millis(500);
/// The log's length, in pages, past which it is started over: SQLite's own checkpoint size.
const RESTART_AFTER: i64 = 1000;

/// Starts the checkpoint task of a file database's pool; it ends when the pool is closed.
pub(crate) fn spawn(pool: SqlitePool) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if pool.is_closed() {
                return;
            }
            if let Err(error) = checkpoint(&pool).await {
                if pool.is_closed() {
                    return;
                }
                tracing::warn!(%error, "WAL checkpoint failed");
            }
        }
    });
}

/// One passive checkpoint, and a restart one when the log is still long after it.
async fn checkpoint(pool: &SqlitePool) -> sqlx::Result<()> {
    let (_busy, log, _copied): (i64, i64, i64) =
        sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(pool).await?;
    if log > RESTART_AFTER {
        let (busy, log, copied): (i64, i64, i64) =
            sqlx::query_as("PRAGMA wal_checkpoint(RESTART)").fetch_one(pool).await?;
        tracing::debug!(busy, log, copied, "WAL restart checkpoint");
    }
    Ok(())
}
