//! A fresh, migrated database file per test, removed when the test ends.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use reelplan_store::prelude::*;
use reelplan_store_sqlite::SqliteStore;

/// A migrated store on its own temp file (in its own folder, which `open` creates).
pub struct TempDb {
    /// The store.
    pub store: SqliteStore,
    dir: PathBuf,
}

impl TempDb {
    /// Opens and migrates a fresh database.
    pub async fn new(label: &str) -> TempDb {
        let db = TempDb::unmigrated(label).await;
        db.store.migrate().await.expect("migrate");
        db
    }

    /// Opens a fresh database without migrating it, for tests of the migrations.
    #[allow(dead_code, reason = "not every test binary sharing this module uses it")]
    pub async fn unmigrated(label: &str) -> TempDb {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let dir = std::env::temp_dir()
            .join(format!("reelplan-sqlite-test-{}-{label}-{nanos}-{n}", std::process::id()));
        let url = format!("sqlite://{}", dir.join("nested").join("test.db").display());
        let store = SqliteStore::open(&url, 4).await.expect("open");
        TempDb { store, dir }
    }

    /// Closes the pool and removes the files.
    pub async fn finish(self) {
        self.store.close().await;
        // Drop removes the folder.
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
