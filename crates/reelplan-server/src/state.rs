//! What every handler shares.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use reelplan_cache::Cache;
use reelplan_store::Store;

use crate::auth::Auth;
use crate::cached::CachedDoc;

/// Shared state: the store, the cache, token and password handling. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The database, PostgreSQL or SQLite.
    pub store: Arc<dyn Store>,
    /// The two-tier cache.
    pub cache: Cache<CachedDoc>,
    /// Tokens and passwords.
    pub auth: Arc<Auth>,
    /// Requests that ran too many statements or repeated one (N+1 suspects), since start.
    pub n_plus_one_warnings: Arc<AtomicU64>,
}
