//! What every handler shares.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use reelplan_cache::Cache;
use reelplan_store::Store;

use crate::auth::Auth;
use crate::cached::Cached;
use crate::live_stats::LiveStats;

/// Shared state: the store, the cache, token and password handling. One `Arc`, so the clone
/// every request takes of it is one reference count, not one per field.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    /// Wraps the shared parts.
    pub fn new(shared: Shared) -> Self {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] shares.
pub struct Shared {
    /// The database, PostgreSQL or SQLite.
    pub store: Arc<dyn Store>,
    /// The two-tier cache.
    pub cache: Cache<Cached>,
    /// How many memos and files a project may hold.
    pub content: crate::config::ContentConfig,
    /// Where uploaded files and videos live, and the upload limit.
    pub objects: crate::objects::Objects,
    /// When `serve` sweeps objects no row names.
    pub sweep: crate::config::SweepConfig,
    /// Tokens and passwords.
    pub auth: Arc<Auth>,
    /// Requests that ran too many statements or repeated one (N+1 suspects), since start.
    pub n_plus_one_warnings: Arc<AtomicU64>,
    /// The last minutes of traffic, per second, for `/dashboard`.
    pub live: Arc<LiveStats>,
    /// Concurrency limit, request timeout and shutdown grace.
    pub limits: Arc<crate::limits::Limits>,
    /// Upload slots, global and per user, and the upload idle timeout and minimum rate.
    pub uploads: Arc<crate::uploads::UploadSlots>,
    /// Failed-login counters (429 `rate_limited`).
    pub login_limiter: Arc<crate::ratelimit::LoginLimiter>,
    /// Ops token, CORS origins, forwarded-for trust.
    pub security: Arc<crate::config::SecurityConfig>,
    /// Live updates: this instance's streams, and the link to the other instances'.
    pub events: Arc<crate::events::Hub>,
}
