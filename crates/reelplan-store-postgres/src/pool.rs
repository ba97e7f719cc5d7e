//! The connection pool and the store value built on it.

use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reelplan_store::{PoolStatus, StoreResult};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::Connection;

/// A pooled connection idle for longer than this is pinged before it is handed out, so that
/// one broken while it waited (a restart, a cut) is replaced rather than failing a request.
/// A connection in steady use is not: pinging on every acquire was one more round trip to
/// PostgreSQL per statement (7% of the server's CPU on the default mix).
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

/// Pool and session settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PgOptions {
    /// Connections the pool opens at most.
    pub max_connections: u32,
    /// How long a statement waits for a free connection before failing as unavailable.
    pub acquire_timeout: Duration,
    /// Server-side limit on any one statement (`statement_timeout`), set on every connection.
    pub statement_timeout: Duration,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(10),
        }
    }
}

/// The PostgreSQL implementation of [`reelplan_store::Store`]: its capability traits are
/// implemented in [`crate::sql`], one resource module each.
#[derive(Debug, Clone)]
pub struct PgStore {
    pub(crate) pool: PgPool,
    max_connections: u32,
    /// The server's `max_connections` (0 until the migrations ran).
    pub(crate) server_limit: Arc<AtomicU32>,
}

/// Builds a store on `url` (`postgres://...`). Connections open lazily, so this succeeds while
/// the database is down; the first statement then fails as `Unavailable` until it is back.
pub async fn connect(url: &str, options: PgOptions) -> StoreResult<PgStore> {
    let connect_options = PgConnectOptions::from_str(url)?;
    Ok(PgStore::with_options(connect_options, options))
}

impl PgStore {
    /// Builds a store from parsed connection options (lazy, like [`connect`]).
    pub fn with_options(connect_options: PgConnectOptions, options: PgOptions) -> PgStore {
        let timeout_ms = options.statement_timeout.as_millis().max(1);
        let connect_options = connect_options
            .application_name("reelplan")
            .options([("statement_timeout", format!("{timeout_ms}ms"))]);
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for > PING_IF_IDLE_FOR {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .connect_lazy_with(connect_options);
        PgStore { pool, max_connections: options.max_connections, server_limit: Arc::default() }
    }

    /// The underlying pool, for tooling and tests; the service goes through the `Store` trait.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Open, idle and maximum connections.
    pub(crate) fn status(&self) -> PoolStatus {
        PoolStatus {
            size: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            max: self.max_connections,
            server_limit: Some(self.server_limit.load(Ordering::Relaxed)).filter(|n| *n > 0),
        }
    }
}
