//! The live load limits: the permits of the concurrency limit, which sheds excess requests
//! with 503 instead of queueing them without bound ([`crate::middleware`] applies it).

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::LimitsConfig;

/// The live limits: the configuration and the permits of the concurrency limit.
#[derive(Debug)]
pub struct Limits {
    /// What was configured.
    pub config: LimitsConfig,
    permits: Arc<Semaphore>,
}

impl Limits {
    /// Limits from their configuration (a limit of 0 is taken as 1: a server must serve).
    pub fn new(config: LimitsConfig) -> Self {
        let permits = Arc::new(Semaphore::new(config.max_concurrent_requests.max(1)));
        Limits { config, permits }
    }

    /// A permit for one request, or None when every one is taken: never waits, since a queue
    /// in front of a saturated server only turns overload into latency and then timeouts.
    pub fn try_admit(&self) -> Option<OwnedSemaphorePermit> {
        self.permits.clone().try_acquire_owned().ok()
    }

    /// Requests in flight right now (for the dashboard and tests).
    pub fn in_flight(&self) -> usize {
        self.config.max_concurrent_requests.max(1) - self.permits.available_permits()
    }
}
