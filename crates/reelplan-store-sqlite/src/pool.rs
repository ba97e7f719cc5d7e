//! The connection pool and the store value built on it.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use reelplan_store::{PoolStatus, StoreError, StoreResult};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

/// How long a statement waits on another connection's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a request waits for a free connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The SQLite implementation of [`reelplan_store::Store`]: its capability traits are
/// implemented in [`crate::sql`], one resource module each.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pub(crate) pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating the folder and file when missing) the database at `url`, e.g.
    /// `sqlite://data/reelplan.db`, with WAL journaling, foreign keys on, a busy timeout and
    /// `synchronous=NORMAL`, and (for a file) the WAL's checkpoint task ([`crate::checkpoint`]).
    /// Does not migrate: call [`reelplan_store::Admin::migrate`].
    pub async fn open(url: &str, max_connections: u32) -> StoreResult<SqliteStore> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            .synchronous(SqliteSynchronous::Normal);
        let file = options.get_filename();
        create_parent_dir(file)?;
        let on_file = !is_in_memory(file);
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // A file's connection does not go stale as a network one does: a ping before
            // each acquire would be one more round trip to its thread.
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        if on_file {
            crate::checkpoint::spawn(pool.clone());
        }
        Ok(SqliteStore { pool })
    }

    /// The underlying pool, for tooling and tests; the service goes through the `Store` trait.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Open, idle and maximum connections.
    pub(crate) fn status(&self) -> PoolStatus {
        PoolStatus {
            size: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            max: self.pool.options().get_max_connections(),
            server_limit: None,
        }
    }
}

/// An in-memory database: no file, so no folder and no WAL.
fn is_in_memory(file: &Path) -> bool {
    file.as_os_str().is_empty() || file.to_string_lossy().starts_with(":memory:")
}

fn create_parent_dir(file: &Path) -> StoreResult<()> {
    match file.parent() {
        Some(dir) if !is_in_memory(file) && !dir.as_os_str().is_empty() => {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))
            })
        }
        _ => Ok(()),
    }
}
