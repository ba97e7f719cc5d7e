//! Reading a window of [`LiveStats`] as the series the dashboard draws.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Histogram, LiveStats, Second, CACHE_KINDS, WINDOW_SECONDS};

/// The last `window` seconds in points of `step` seconds, plus per-route figures.
#[derive(Debug, Serialize)]
pub struct Snapshot {
    /// The Unix second the snapshot was taken at.
    pub now: u64,
    /// Seconds covered.
    pub window: u64,
    /// Seconds per point.
    pub step: u64,
    /// Each point's first Unix second.
    pub t: Vec<u64>,
    /// Requests per second.
    pub rps: Vec<f64>,
    /// Responses with a 5xx status per second.
    pub errors_per_second: Vec<f64>,
    /// Latency percentiles in milliseconds (null where no request finished).
    pub p50_ms: Vec<Option<f64>>,
    /// 95th percentile.
    pub p95_ms: Vec<Option<f64>>,
    /// 99th percentile.
    pub p99_ms: Vec<Option<f64>>,
    /// Mean SQL statements per request.
    pub statements_per_request: Vec<Option<f64>>,
    /// Cache hits / (hits + misses) per data kind.
    pub cache_hit_ratio: BTreeMap<&'static str, Vec<Option<f64>>>,
    /// Pool connections in use (highest sampled), and open.
    pub pool_in_use: Vec<Option<u32>>,
    /// Pool connections open.
    pub pool_size: Vec<Option<u32>>,
    /// The pool's configured maximum.
    pub pool_max: u32,
    /// Figures over the whole window.
    pub totals: Totals,
    /// Per route (method and template), slowest p95 first.
    pub routes: Vec<RouteRow>,
}

/// Figures over the whole window.
#[derive(Debug, Default, Serialize)]
pub struct Totals {
    /// Requests.
    pub requests: u64,
    /// Responses with a 5xx status.
    pub errors: u64,
    /// Requests per second.
    pub rps: f64,
    /// Median latency, ms.
    pub p50_ms: Option<f64>,
    /// 95th percentile, ms.
    pub p95_ms: Option<f64>,
    /// 99th percentile, ms.
    pub p99_ms: Option<f64>,
    /// Mean statements per request.
    pub statements_per_request: Option<f64>,
    /// Cache hit ratio over every kind.
    pub cache_hit_ratio: Option<f64>,
}

/// One route's figures over the window.
#[derive(Debug, Serialize)]
pub struct RouteRow {
    /// `GET /api/projects/{id}`.
    pub route: String,
    /// Requests.
    pub requests: u64,
    /// 5xx responses.
    pub errors: u64,
    /// Median latency, ms.
    pub p50_ms: Option<f64>,
    /// 95th percentile, ms.
    pub p95_ms: Option<f64>,
    /// 99th percentile, ms.
    pub p99_ms: Option<f64>,
    /// Mean statements per request.
    pub statements_per_request: Option<f64>,
}

fn ms(h: &Histogram, q: f64) -> Option<f64> {
    h.quantile(q).map(|micros| micros / 1000.0)
}

fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// Adds up the seconds of one point.
#[derive(Default)]
struct Sum {
    requests: u64,
    errors: u64,
    statements: u64,
    latency: Histogram,
    hits: [u64; CACHE_KINDS.len()],
    misses: [u64; CACHE_KINDS.len()],
    pool: Option<(u32, u32)>,
}

impl Sum {
    fn add(&mut self, s: &Second) {
        self.requests += u64::from(s.requests);
        self.errors += u64::from(s.errors);
        self.statements += s.statements;
        self.latency.merge(&s.latency);
        for k in 0..CACHE_KINDS.len() {
            self.hits[k] += u64::from(s.hits[k]);
            self.misses[k] += u64::from(s.misses[k]);
        }
        if s.pool_size > 0 {
            let (in_use, size) = self.pool.unwrap_or_default();
            self.pool = Some((in_use.max(s.pool_in_use), size.max(s.pool_size)));
        }
    }
}

impl LiveStats {
    /// The last `window` seconds (at most ten minutes) in points of `step` seconds, at the
    /// current second.
    pub fn snapshot(&self, window: u64, step: u64) -> Snapshot {
        self.snapshot_at(super::unix_now(), window, step)
    }

    /// [`LiveStats::snapshot`] at a given Unix second (tests). Points are aligned to multiples
    /// of `step`, so successive polls bucket the same seconds the same way; the last point
    /// may be partial and its rate counts only the seconds elapsed.
    pub fn snapshot_at(&self, now: u64, window: u64, step: u64) -> Snapshot {
        let step = step.clamp(1, 60);
        let points = (window.clamp(step, WINDOW_SECONDS) / step).max(1);
        let end = (now / step + 1) * step;
        let first = end - points * step;
        let mut sums: Vec<Sum> = (0..points).map(|_| Sum::default()).collect();
        let mut total = Sum::default();
        let mut pool_max = 0;
        let routes;
        {
            let Ok(ring) = self.ring.lock() else { return self.empty(now) };
            for s in ring.seconds.iter().filter(|s| s.at >= first && s.at <= now) {
                sums[((s.at - first) / step) as usize].add(s);
                total.add(s);
                pool_max = pool_max.max(s.pool_max);
            }
            let since_minute = first / 60;
            routes = ring
                .routes
                .iter()
                .filter_map(|(route, minutes)| {
                    let mut sum = Sum::default();
                    for m in minutes.iter().filter(|m| m.at >= since_minute && m.requests > 0) {
                        sum.requests += u64::from(m.requests);
                        sum.errors += u64::from(m.errors);
                        sum.statements += m.statements;
                        sum.latency.merge(&m.latency);
                    }
                    (sum.requests > 0).then(|| RouteRow {
                        route: route.clone(),
                        requests: sum.requests,
                        errors: sum.errors,
                        p50_ms: ms(&sum.latency, 0.5),
                        p95_ms: ms(&sum.latency, 0.95),
                        p99_ms: ms(&sum.latency, 0.99),
                        statements_per_request: ratio(sum.statements, sum.requests),
                    })
                })
                .collect::<Vec<_>>();
        }
        let mut snapshot = self.empty(now);
        snapshot.window = points * step;
        snapshot.step = step;
        snapshot.pool_max = pool_max;
        for (i, sum) in sums.iter().enumerate() {
            let start = first + i as u64 * step;
            let elapsed = (now + 1).saturating_sub(start).clamp(1, step);
            snapshot.t.push(start);
            snapshot.rps.push(sum.requests as f64 / elapsed as f64);
            snapshot.errors_per_second.push(sum.errors as f64 / elapsed as f64);
            snapshot.p50_ms.push(ms(&sum.latency, 0.5));
            snapshot.p95_ms.push(ms(&sum.latency, 0.95));
            snapshot.p99_ms.push(ms(&sum.latency, 0.99));
            snapshot.statements_per_request.push(ratio(sum.statements, sum.requests));
            for (k, kind) in CACHE_KINDS.iter().enumerate() {
                let ratio = ratio(sum.hits[k], sum.hits[k] + sum.misses[k]);
                snapshot.cache_hit_ratio.entry(kind).or_default().push(ratio);
            }
            snapshot.pool_in_use.push(sum.pool.map(|(in_use, _)| in_use));
            snapshot.pool_size.push(sum.pool.map(|(_, size)| size));
        }
        let hits: u64 = total.hits.iter().sum();
        let lookups = hits + total.misses.iter().sum::<u64>();
        snapshot.totals = Totals {
            requests: total.requests,
            errors: total.errors,
            rps: total.requests as f64 / (now + 1 - first) as f64,
            p50_ms: ms(&total.latency, 0.5),
            p95_ms: ms(&total.latency, 0.95),
            p99_ms: ms(&total.latency, 0.99),
            statements_per_request: ratio(total.statements, total.requests),
            cache_hit_ratio: ratio(hits, lookups),
        };
        snapshot.routes = routes;
        snapshot
            .routes
            .sort_by(|a, b| b.p95_ms.partial_cmp(&a.p95_ms).unwrap_or(std::cmp::Ordering::Equal));
        snapshot
    }

    fn empty(&self, now: u64) -> Snapshot {
        Snapshot {
            now,
            window: 0,
            step: 1,
            t: Vec::new(),
            rps: Vec::new(),
            errors_per_second: Vec::new(),
            p50_ms: Vec::new(),
            p95_ms: Vec::new(),
            p99_ms: Vec::new(),
            statements_per_request: Vec::new(),
            cache_hit_ratio: BTreeMap::new(),
            pool_in_use: Vec::new(),
            pool_size: Vec::new(),
            pool_max: 0,
            totals: Totals::default(),
            routes: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use reelplan_store::PoolStatus;

    use super::super::Observation;
    use super::*;

    fn obs(route: &'static str, ms: u64, cache: Option<&'static str>) -> Observation<'static> {
        Observation {
            method: "GET",
            route,
            status: 200,
            elapsed: Duration::from_millis(ms),
            statements: 2,
            cache,
        }
    }

    #[test]
    fn points_add_up_seconds_and_routes() {
        let live = LiveStats::default();
        let now = 1_000_000;
        live.record_at(now - 3, obs("/api/projects/{id}", 10, Some("miss")));
        live.record_at(now - 2, obs("/api/projects/{id}", 10, Some("hit")));
        live.record_at(now - 2, obs("/api/projects", 40, Some("hit")));
        live.record_at(now, obs("/dashboard/stats.json", 1, None));
        live.sample_pool_at(now - 2, PoolStatus { size: 3, idle: 1, max: 8, server_limit: None });
        let s = live.snapshot_at(now, 60, 2);
        assert_eq!(s.t.len(), 30);
        assert_eq!(*s.t.last().unwrap(), now);
        assert_eq!(s.totals.requests, 3, "the dashboard's own polls are not counted");
        let point = s.t.iter().position(|&t| t == now - 2).unwrap();
        assert_eq!(s.rps[point], 1.0);
        assert_eq!(s.rps[point - 1], 0.5);
        assert_eq!(s.errors_per_second[point], 0.0);
        assert_eq!(s.statements_per_request[point], Some(2.0));
        assert_eq!(s.cache_hit_ratio["project_detail"][point], Some(1.0));
        assert_eq!(s.cache_hit_ratio["project_detail"][point - 1], Some(0.0));
        assert_eq!(s.pool_in_use[point], Some(2));
        assert_eq!(s.pool_max, 8);
        assert_eq!(s.routes[0].route, "GET /api/projects");
        assert_eq!(s.routes[1].requests, 2);
        assert!(s.p50_ms[point].is_some() && s.p50_ms[point - 2].is_none());
    }

    #[test]
    fn old_seconds_fall_out_of_the_ring() {
        let live = LiveStats::default();
        live.record_at(10, obs("/api/me", 1, None));
        live.record_at(10 + WINDOW_SECONDS, obs("/api/me", 1, None));
        let s = live.snapshot_at(10 + WINDOW_SECONDS, WINDOW_SECONDS, 1);
        assert_eq!(s.totals.requests, 1);
    }
}
