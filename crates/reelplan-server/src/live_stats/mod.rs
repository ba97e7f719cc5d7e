//! The in-process rolling time series behind `/dashboard`.
//!
//! Prometheus keeps totals since start; the dashboard wants "what happened in the last
//! minutes" without a Prometheus server. [`LiveStats`] keeps one bucket per second for the last
//! ten minutes (a ring, so memory is fixed) and, per route, one bucket per minute. Latencies go
//! into a log-linear histogram (four buckets per power of two, so a percentile is within
//! about 10 % of the truth) which adds up across seconds, unlike stored percentiles.
//!
//! Recording takes one mutex for a few array increments; a request never waits on a reader
//! for longer than a snapshot copy of the queried window.

mod histogram;
mod snapshot;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use histogram::Histogram;
pub use snapshot::{RouteRow, Snapshot};

use reelplan_store::PoolStatus;

/// Seconds of history kept.
pub const WINDOW_SECONDS: u64 = 600;
/// Minutes of per-route history kept (one more than the window, for the partial minute).
const ROUTE_MINUTES: u64 = 11;
/// Distinct routes tracked; templates are few, this only guards against a bug.
const MAX_ROUTES: usize = 128;

/// The cache kinds the dashboard shows, in legend order. Matches `reelplan_cache::Kind`.
pub const CACHE_KINDS: [&str; 6] =
    ["user_profile", "project_list", "project_detail", "feedback_thread", "versions", "activity"];

/// One finished request, as the middleware saw it.
#[derive(Debug, Clone, Copy)]
pub struct Observation<'a> {
    /// `GET`, `POST`, ...
    pub method: &'a str,
    /// The matched route template.
    pub route: &'a str,
    /// The response status.
    pub status: u16,
    /// Wall time of the request.
    pub elapsed: Duration,
    /// SQL statements it ran.
    pub statements: u32,
    /// `"hit"`, `"miss"` or `"bypass"` for cacheable reads.
    pub cache: Option<&'a str>,
}

/// Figures of one second.
#[derive(Clone, Default)]
struct Second {
    /// Unix second this bucket holds; a stale value means "empty".
    at: u64,
    requests: u32,
    errors: u32,
    statements: u64,
    latency: Histogram,
    hits: [u32; CACHE_KINDS.len()],
    misses: [u32; CACHE_KINDS.len()],
    /// Highest pool figures seen in this second (0 when not sampled).
    pool_in_use: u32,
    pool_size: u32,
    pool_max: u32,
}

/// One route's figures of one minute.
#[derive(Clone, Default)]
struct RouteMinute {
    at: u64,
    requests: u32,
    errors: u32,
    statements: u64,
    latency: Histogram,
}

#[derive(Default)]
struct Ring {
    seconds: Vec<Second>,
    routes: HashMap<String, Vec<RouteMinute>>,
}

/// Rolling per-second figures for the dashboard. Cheap to share behind an `Arc`.
pub struct LiveStats {
    ring: Mutex<Ring>,
    started: SystemTime,
}

impl Default for LiveStats {
    fn default() -> Self {
        let ring = Ring {
            seconds: vec![Second::default(); WINDOW_SECONDS as usize],
            routes: HashMap::new(),
        };
        LiveStats { ring: Mutex::new(ring), started: SystemTime::now() }
    }
}

/// The cache kind a cacheable read of this route reads; `None` for routes the dashboard's
/// legend does not name.
fn cache_kind(method: &str, route: &str) -> Option<usize> {
    if method != "GET" {
        return None;
    }
    let kind = match route {
        "/api/me" => "user_profile",
        "/api/projects" => "project_list",
        "/api/projects/{id}" => "project_detail",
        "/api/projects/{id}/feedback/comments" | "/api/projects/{id}/feedback/messages" => {
            "feedback_thread"
        }
        "/api/projects/{id}/versions"
        | "/api/projects/{id}/versions/{version_id}"
        | "/api/projects/{id}/versions/{version_id}/comments/export" => "versions",
        "/api/projects/{id}/activity" => "activity",
        _ => return None,
    };
    CACHE_KINDS.iter().position(|k| *k == kind)
}

/// Seconds since the epoch, now.
pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Second {
    fn reset_if_stale(&mut self, now: u64) -> &mut Self {
        if self.at != now {
            *self = Second { at: now, ..Second::default() };
        }
        self
    }
}

impl LiveStats {
    /// Records a finished request at the current second. The dashboard's own requests are not
    /// recorded, so watching the page does not change what it shows.
    pub fn record(&self, obs: Observation<'_>) {
        self.record_at(unix_now(), obs);
    }

    /// [`LiveStats::record`] at a given Unix second (tests).
    pub fn record_at(&self, now: u64, obs: Observation<'_>) {
        if obs.route.starts_with("/dashboard") {
            return;
        }
        let micros = u64::try_from(obs.elapsed.as_micros()).unwrap_or(u64::MAX);
        let error = obs.status >= 500;
        let kind =
            obs.cache.and_then(|outcome| Some((cache_kind(obs.method, obs.route)?, outcome)));
        let key = format!("{} {}", obs.method, obs.route);
        let Ok(mut ring) = self.ring.lock() else { return };
        let second = ring.seconds[(now % WINDOW_SECONDS) as usize].reset_if_stale(now);
        second.requests += 1;
        second.errors += u32::from(error);
        second.statements += u64::from(obs.statements);
        second.latency.record(micros);
        match kind {
            Some((k, "hit")) => second.hits[k] += 1,
            Some((k, "miss")) => second.misses[k] += 1,
            _ => {}
        }
        let minute = now / 60;
        if ring.routes.len() >= MAX_ROUTES && !ring.routes.contains_key(&key) {
            return;
        }
        let slots = ring
            .routes
            .entry(key)
            .or_insert_with(|| vec![RouteMinute::default(); ROUTE_MINUTES as usize]);
        let slot = &mut slots[(minute % ROUTE_MINUTES) as usize];
        if slot.at != minute {
            *slot = RouteMinute { at: minute, ..RouteMinute::default() };
        }
        slot.requests += 1;
        slot.errors += u32::from(error);
        slot.statements += u64::from(obs.statements);
        slot.latency.record(micros);
    }

    /// Records the pool's figures at the current second (the highest of the second is kept).
    pub fn sample_pool(&self, pool: PoolStatus) {
        self.sample_pool_at(unix_now(), pool);
    }

    /// [`LiveStats::sample_pool`] at a given Unix second (tests).
    pub fn sample_pool_at(&self, now: u64, pool: PoolStatus) {
        let Ok(mut ring) = self.ring.lock() else { return };
        let second = ring.seconds[(now % WINDOW_SECONDS) as usize].reset_if_stale(now);
        second.pool_in_use = second.pool_in_use.max(pool.size.saturating_sub(pool.idle));
        second.pool_size = second.pool_size.max(pool.size);
        second.pool_max = second.pool_max.max(pool.max);
    }

    /// When this process started recording.
    pub fn started(&self) -> SystemTime {
        self.started
    }
}
