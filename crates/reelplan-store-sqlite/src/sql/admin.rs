//! Operations: the backend and its pool, migrations, shutdown, and the storage sweep's lookup.

use async_trait::async_trait;
use reelplan_store::stats::run;
use reelplan_store::{Admin, PoolStatus, StoreResult};

use crate::SqliteStore;

/// Answers when the database does.
pub const PING: &str = "SELECT 1";

/// This database's identity, made by its migrations.
pub const DEPLOYMENT: &str = "SELECT id FROM deployment LIMIT 1";

/// Those of the storage keys in the JSON array ?1 that a file row names (by the index
/// `files_storage_key`).
pub const NAMED_KEYS: &str =
    "SELECT storage_key FROM files WHERE storage_key IN (SELECT value FROM json_each(?1))";

#[async_trait]
impl Admin for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn pool_status(&self) -> PoolStatus {
        self.status()
    }

    async fn ping(&self) -> StoreResult<()> {
        run(PING, sqlx::query(PING).execute(&self.pool)).await.map(|_| ())
    }

    async fn migrate(&self) -> StoreResult<()> {
        sqlx::migrate!("./migrations").run(&self.pool).await?;
        Ok(())
    }

    async fn deployment_id(&self) -> StoreResult<String> {
        run(DEPLOYMENT, sqlx::query_scalar(DEPLOYMENT).fetch_one(&self.pool)).await
    }

    /// Closes every connection (checkpointing the WAL).
    async fn close(&self) {
        self.pool.close().await;
    }

    async fn named_storage_keys(&self, keys: &[String]) -> StoreResult<Vec<String>> {
        let keys = serde_json::to_string(keys)?;
        let query = sqlx::query_scalar::<_, String>(NAMED_KEYS).bind(keys);
        run(NAMED_KEYS, query.fetch_all(&self.pool)).await
    }
}
