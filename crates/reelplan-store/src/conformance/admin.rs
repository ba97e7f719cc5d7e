//! Conformance: Operations: the backend, its pool and migrations.

use super::*;

/// `backend`, `ping`, `migrate` (idempotent) and `pool_status`.
pub async fn basics(store: &dyn Store) {
    assert!(["postgres", "sqlite"].contains(&store.backend()), "{}", store.backend());
    one(store.ping()).await.expect("ping");
    store.migrate().await.expect("migrating twice is harmless");
    let pool = store.pool_status();
    assert!(pool.max >= 1, "{pool:?}");
    assert!(pool.size <= pool.max && pool.idle <= pool.size, "{pool:?}");
}
