//! Operations: the backend and its pool, migrations, shutdown, and the storage sweep's lookup.

use std::sync::atomic::Ordering;

use async_trait::async_trait;
use reelplan_store::stats::run;
use reelplan_store::{Admin, PoolStatus, StoreResult};

use crate::PgStore;

/// Answers when the database does.
pub const PING: &str = "SELECT 1";

/// This database's identity, made by its migrations.
pub const DEPLOYMENT: &str = "SELECT id FROM deployment LIMIT 1";

/// The server's `max_connections`.
pub const SERVER_LIMIT: &str = "SHOW max_connections";

/// Those of the storage keys $1 that a file row names (by the index `files_storage_key`).
pub const NAMED_KEYS: &str = "SELECT storage_key FROM files WHERE storage_key = ANY($1::text[])";

impl PgStore {
    /// Reads the server's `max_connections` once (at start-up, with the migrations), so
    /// operators see the pool against the limit it must stay well under.
    async fn learn_server_limit(&self) -> StoreResult<()> {
        let limit: String =
            run(SERVER_LIMIT, sqlx::query_scalar(SERVER_LIMIT).fetch_one(&self.pool)).await?;
        self.server_limit.store(limit.trim().parse().unwrap_or(0), Ordering::Relaxed);
        Ok(())
    }
}

#[async_trait]
impl Admin for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn pool_status(&self) -> PoolStatus {
        self.status()
    }

    async fn ping(&self) -> StoreResult<()> {
        run(PING, sqlx::query(PING).execute(&self.pool)).await.map(|_| ())
    }

    async fn migrate(&self) -> StoreResult<()> {
        sqlx::migrate!("./migrations").run(&self.pool).await?;
        self.learn_server_limit().await
    }

    async fn deployment_id(&self) -> StoreResult<String> {
        run(DEPLOYMENT, sqlx::query_scalar(DEPLOYMENT).fetch_one(&self.pool)).await
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    async fn named_storage_keys(&self, keys: &[String]) -> StoreResult<Vec<String>> {
        let query = sqlx::query_scalar::<_, String>(NAMED_KEYS).bind(keys);
        run(NAMED_KEYS, query.fetch_all(&self.pool)).await
    }
}
