//! What a request reports to its accounting besides its SQL statements (which the store counts,
//! [`reelplan_store::stats`]): the route template it matched and the cache outcome of its
//! cacheable read. The accounting middleware opens a record per request; the router names the
//! route, use cases set the outcome through [`set_cache_outcome`].

use std::future::Future;
use std::sync::{Arc, Mutex};

use reelplan_cache::Outcome;

/// What one request recorded.
#[derive(Debug, Default, Clone)]
pub struct Record {
    /// The matched route template; None when no route matched.
    pub route: Option<String>,
    /// The cache outcome of a cacheable read.
    pub cache: Option<Outcome>,
}

/// A request's shared record.
#[derive(Debug, Default, Clone)]
pub struct RequestRecord(Arc<Mutex<Record>>);

tokio::task_local! {
    static CURRENT: RequestRecord;
}

impl RequestRecord {
    /// Runs `fut` with this record as the current one.
    pub async fn scope<F: Future>(&self, fut: F) -> F::Output {
        CURRENT.scope(self.clone(), fut).await
    }

    /// Names the route template (known only once the router matched).
    pub fn set_route(&self, route: &str) {
        self.with(|record| record.route = Some(route.to_owned()));
    }

    /// A copy of what was recorded.
    pub fn snapshot(&self) -> Record {
        self.0.lock().map(|record| record.clone()).unwrap_or_default()
    }

    fn with(&self, f: impl FnOnce(&mut Record)) {
        if let Ok(mut record) = self.0.lock() {
            f(&mut record);
        }
    }
}

fn with_current(f: impl FnOnce(&mut Record)) {
    let _ = CURRENT.try_with(|current| current.with(f));
}

/// Records the cache outcome of the current request.
pub fn set_cache_outcome(outcome: Outcome) {
    with_current(|record| record.cache = Some(outcome));
}

/// Forgets the cache outcome of the current request (its answer says nothing of the cache).
pub fn clear_cache_outcome() {
    with_current(|record| record.cache = None);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn records_the_outcome_of_the_current_request_only() {
        let record = RequestRecord::default();
        record.scope(async { set_cache_outcome(Outcome::Miss) }).await;
        set_cache_outcome(Outcome::HitL1);
        assert_eq!(record.snapshot().cache, Some(Outcome::Miss));
        record.scope(async { clear_cache_outcome() }).await;
        assert_eq!(record.snapshot().cache, None);
    }
}
