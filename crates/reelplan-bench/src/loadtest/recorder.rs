//! Per-kind measurements: an HDR histogram of latencies plus status, statement and cache
//! counts. Each worker keeps its own and they are merged at the end (no shared locks).

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;

/// What one response told.
#[derive(Debug, Clone, Copy, Default)]
pub struct Outcome {
    /// HTTP status, or None when the request failed in transport.
    pub status: Option<u16>,
    /// From `X-Query-Count`.
    pub queries: Option<u32>,
    /// From `X-Cache`: `Some("HIT" | "MISS" | "BYPASS")`.
    pub cache: Option<Cache>,
}

/// An `X-Cache` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cache {
    /// Served from cache.
    Hit,
    /// Computed and cached.
    Miss,
    /// Cache off or unavailable.
    Bypass,
}

/// Measurements of one request kind.
#[derive(Debug, Clone)]
pub struct Recorder {
    /// Latencies in microseconds.
    pub latency: Histogram<u64>,
    /// Responses by status.
    pub statuses: BTreeMap<u16, u64>,
    /// Requests that got no response.
    pub transport_errors: u64,
    /// Sum of `X-Query-Count` over responses that had it.
    pub statements: u64,
    /// Responses that had `X-Query-Count`.
    pub counted: u64,
    /// `X-Cache: HIT`.
    pub hits: u64,
    /// `X-Cache: MISS`.
    pub misses: u64,
    /// `X-Cache: BYPASS`.
    pub bypasses: u64,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder {
            latency: Histogram::new_with_bounds(1, 120_000_000, 3).expect("valid bounds"),
            statuses: BTreeMap::new(),
            transport_errors: 0,
            statements: 0,
            counted: 0,
            hits: 0,
            misses: 0,
            bypasses: 0,
        }
    }
}

impl Recorder {
    /// Records one request.
    pub fn record(&mut self, latency: Duration, outcome: Outcome) {
        self.latency.saturating_record(latency.as_micros().max(1) as u64);
        match outcome.status {
            Some(status) => *self.statuses.entry(status).or_default() += 1,
            None => self.transport_errors += 1,
        }
        if let Some(n) = outcome.queries {
            self.statements += u64::from(n);
            self.counted += 1;
        }
        match outcome.cache {
            Some(Cache::Hit) => self.hits += 1,
            Some(Cache::Miss) => self.misses += 1,
            Some(Cache::Bypass) => self.bypasses += 1,
            None => {}
        }
    }

    /// Adds `other` into this one.
    pub fn merge(&mut self, other: &Recorder) {
        let _ = self.latency.add(&other.latency);
        for (status, n) in &other.statuses {
            *self.statuses.entry(*status).or_default() += n;
        }
        self.transport_errors += other.transport_errors;
        self.statements += other.statements;
        self.counted += other.counted;
        self.hits += other.hits;
        self.misses += other.misses;
        self.bypasses += other.bypasses;
    }

    /// Requests recorded.
    pub fn requests(&self) -> u64 {
        self.latency.len()
    }

    /// Responses with a 5xx status.
    pub fn server_errors(&self) -> u64 {
        self.statuses.range(500..600).map(|(_, n)| n).sum()
    }
}
