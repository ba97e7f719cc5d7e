//! Live updates: every acknowledged write's event reaches the open streams of the users it
//! concerns, on this instance directly and on the others through Redis pub/sub.
//!
//! The [`Hub`] indexes this instance's streams by project and by user, so an event costs a
//! look-up and one channel send per recipient, whatever the number of streams open. Its SSE
//! frame is written once, and every recipient gets the same bytes. Delivery runs no SQL.
//!
//! Order of a write: commit (the outbox row is in the same statement), cache invalidation, then
//! [`Hub::publish`]: a client that refetches on an event reads the new state on any instance
//! (DESIGN.md invariant 6).

mod membership;
mod redis_link;
mod registry;
mod stream;
mod tickets;

use std::sync::Arc;

use reelplan_store::{Event, Store};

pub use membership::Membership;
pub use redis_link::{RedisLink, LINK_OPERATION};
pub use registry::{Frame, StreamHandle};
pub use stream::{open_stream, StreamStartError};
pub use tickets::{Tickets, TICKETS_OPERATION};

use registry::Registry;

use crate::config::EventsConfig;

/// How often `serve` prunes the log of events older than the retention.
const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// The shortest retention API.md allows: replay promises a day.
const MIN_RETENTION: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Prunes the event log every hour, keeping [`EventsConfig::retention`] (never less than a
/// day). Several instances pruning at once is harmless.
pub fn spawn_pruning(store: Arc<dyn Store>, config: EventsConfig) -> tokio::task::JoinHandle<()> {
    let keep = chrono::Duration::from_std(config.retention.max(MIN_RETENTION))
        .unwrap_or(chrono::Duration::MAX);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(PRUNE_EVERY);
        loop {
            every.tick().await;
            match store.prune_events(chrono::Utc::now() - keep).await {
                Ok(pruned) => tracing::info!(pruned, "pruned the event log"),
                Err(error) => tracing::warn!(%error, "pruning the event log failed"),
            }
        }
    })
}

/// This instance's event fan-out.
pub struct Hub {
    registry: Registry,
    redis: Option<RedisLink>,
    /// Stream tickets for browsers' `EventSource`.
    pub tickets: Tickets,
    /// Stream limits and timings.
    pub config: EventsConfig,
}

impl Hub {
    /// A hub for one instance; with `redis`, events travel to and from the other instances.
    pub fn new(config: EventsConfig, redis: Option<RedisLink>, tickets: Tickets) -> Arc<Self> {
        Arc::new(Hub { registry: Registry::new(config), redis, tickets, config })
    }

    /// Hands an acknowledged write's event to this instance's streams and, through Redis, to
    /// the other instances'. Call after the write's cache invalidation. Never blocks: a Redis
    /// that is down delays the other instances' copy, it never holds the write.
    pub fn publish(&self, event: Event) {
        let event = Arc::new(event);
        self.registry.deliver(&event);
        if let Some(redis) = &self.redis {
            redis.send(event);
        }
    }

    /// Starts the Redis subscription (one per instance), which delivers the other instances'
    /// events here and, after a break, catches up from the log.
    pub fn start(self: &Arc<Self>, store: Arc<dyn Store>) {
        if let Some(redis) = &self.redis {
            redis.start(self.clone(), store);
        }
    }

    /// Delivers an event that came from elsewhere (another instance, or the log).
    pub(crate) fn deliver(&self, event: &Arc<Event>) {
        self.registry.deliver(event);
    }

    /// The highest event id this hub has delivered (0 before the first).
    pub(crate) fn watermark(&self) -> i64 {
        self.registry.watermark()
    }

    /// Whether events of the other instances reach this one now: always without Redis (there
    /// are none), with it while the subscription is up.
    pub fn linked(&self) -> bool {
        self.redis.as_ref().is_none_or(RedisLink::linked)
    }

    /// How many times this instance's Redis subscription has been opened (0 without Redis):
    /// more than one means it broke and was caught up from the log.
    pub fn link_sessions(&self) -> u64 {
        self.redis.as_ref().map_or(0, RedisLink::sessions)
    }

    /// Ends this instance's streams and refuses new ones (at shutdown).
    pub fn close_streams(&self) {
        self.registry.close_all();
    }

    /// Open streams on this instance.
    pub fn open_streams(&self) -> usize {
        self.registry.len()
    }
}
