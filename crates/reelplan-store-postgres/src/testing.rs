//! Throw-away databases for tests (cargo feature `testing`): each test gets its own, so tests run
//! in parallel.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reelplan_store::prelude::*;
use reelplan_store::{StoreError, StoreResult};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, Executor, PgPool};

use crate::{PgOptions, PgStore};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A database made by [`connect_isolated_for_tests`]. Call [`TestDatabase::drop_database`]
/// at the end of the test; a failed test leaves its database behind for inspection.
#[derive(Debug)]
pub struct TestDatabase {
    admin: PgConnectOptions,
    name: String,
    pool: PgPool,
}

/// **For tests only.** Creates a fresh, uniquely named database on the server of `base_url`
/// (`reelplan_test_<pid>_<counter>_<random>`), migrates it, and returns a store on it with the
/// guard that drops it.
pub async fn connect_isolated_for_tests(base_url: &str) -> StoreResult<(PgStore, TestDatabase)> {
    let (store, guard) = create_isolated_for_tests(base_url).await?;
    if let Err(error) = store.migrate().await {
        guard.drop_database().await;
        return Err(error);
    }
    Ok((store, guard))
}

/// **For tests only.** As [`connect_isolated_for_tests`], without migrating: for tests of the
/// migrations themselves.
pub async fn create_isolated_for_tests(base_url: &str) -> StoreResult<(PgStore, TestDatabase)> {
    let admin = PgConnectOptions::from_str(base_url)?;
    let name = unique_name();
    let mut conn = admin.connect().await?;
    // The name is ours (digits and underscores), never input; identifiers cannot be bound.
    conn.execute(format!("CREATE DATABASE \"{name}\"").as_str()).await?;
    conn.close().await?;
    let options = PgOptions {
        max_connections: 8,
        acquire_timeout: Duration::from_secs(30),
        statement_timeout: Duration::from_secs(120),
    };
    let store = PgStore::with_options(admin.clone().database(&name), options);
    let guard = TestDatabase { admin, name, pool: store.pool.clone() };
    Ok((store, guard))
}

impl TestDatabase {
    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Closes the store's connections and drops the database (forcing out any stragglers).
    /// Failures are logged, not raised: cleanup must not mask the test's own result.
    pub async fn drop_database(self) {
        self.pool.close().await;
        let result: Result<(), StoreError> = async {
            let mut conn = self.admin.connect().await?;
            let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
            conn.execute(sql.as_str()).await?;
            conn.close().await?;
            Ok(())
        }
        .await;
        if let Err(error) = result {
            eprintln!("could not drop test database {}: {error}", self.name);
        }
    }
}

fn unique_name() -> String {
    let counter = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut hasher = RandomState::new().build_hasher();
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    hasher.write_u128(nanos);
    hasher.write_u32(counter);
    let random = hasher.finish() & 0xffff_ffff;
    format!("reelplan_test_{}_{counter}_{random:08x}", std::process::id())
}
