//! The load test's results: per-kind and overall figures, the read-your-writes check, and the
//! original design's success metrics with PASS/FAIL; printed as tables or written as JSON.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::mix::Kind;
use super::probe::PoolPeak;
use super::recorder::Recorder;

/// Figures of one request kind (or of the whole mix).
#[derive(Debug, Clone, Serialize)]
pub struct KindReport {
    /// `list`, `detail`, ..., `overall`, `read_back`.
    pub kind: String,
    /// Requests.
    pub requests: u64,
    /// Requests per second.
    pub throughput: f64,
    /// Latency percentiles and maximum, milliseconds.
    pub p50_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
    /// Maximum.
    pub max_ms: f64,
    /// Mean.
    pub mean_ms: f64,
    /// Responses by status.
    pub statuses: BTreeMap<u16, u64>,
    /// Responses other than 2xx and 304 (plus transport failures).
    pub errors: u64,
    /// `304 Not Modified`: a conditional refetch whose `ETag` still held.
    pub not_modified: u64,
    /// Requests without a response.
    pub transport_errors: u64,
    /// Mean `X-Query-Count`.
    pub mean_statements: Option<f64>,
    /// `X-Cache` hits / (hits + misses + bypasses), over responses carrying the header.
    pub cache_hit_ratio: Option<f64>,
    /// `X-Cache: HIT`.
    pub cache_hits: u64,
    /// `X-Cache: MISS`.
    pub cache_misses: u64,
    /// `X-Cache: BYPASS`.
    pub cache_bypasses: u64,
}

impl KindReport {
    /// Summarizes `recorder` over `seconds`.
    pub fn new(kind: &str, recorder: &Recorder, seconds: f64) -> Self {
        let h = &recorder.latency;
        let ms = |micros: u64| micros as f64 / 1000.0;
        let empty = h.is_empty();
        let q = |p: f64| if empty { 0.0 } else { ms(h.value_at_quantile(p)) };
        let cached = recorder.hits + recorder.misses + recorder.bypasses;
        let not_modified = recorder.statuses.get(&304).copied().unwrap_or(0);
        let ok: u64 = recorder.statuses.range(200..300).map(|(_, n)| n).sum::<u64>() + not_modified;
        KindReport {
            kind: kind.to_string(),
            requests: recorder.requests(),
            throughput: recorder.requests() as f64 / seconds.max(1e-9),
            p50_ms: q(0.50),
            p95_ms: q(0.95),
            p99_ms: q(0.99),
            p999_ms: q(0.999),
            max_ms: if empty { 0.0 } else { ms(h.max()) },
            mean_ms: if empty { 0.0 } else { h.mean() / 1000.0 },
            statuses: recorder.statuses.clone(),
            errors: recorder.requests() - ok,
            not_modified,
            transport_errors: recorder.transport_errors,
            mean_statements: (recorder.counted > 0)
                .then(|| recorder.statements as f64 / recorder.counted as f64),
            cache_hit_ratio: (cached > 0).then(|| recorder.hits as f64 / cached as f64),
            cache_hits: recorder.hits,
            cache_misses: recorder.misses,
            cache_bypasses: recorder.bypasses,
        }
    }
}

/// One success metric of the original design.
#[derive(Debug, Clone, Serialize)]
pub struct Metric {
    /// What is measured.
    pub name: String,
    /// The target, as text.
    pub target: String,
    /// The measured value, as text (`n/a` when not measurable).
    pub measured: String,
    /// Whether the target is met; None when not measured.
    pub pass: Option<bool>,
}

/// The read-your-writes check of one write kind.
#[derive(Debug, Clone, Serialize)]
pub struct Visibility {
    /// The write kind.
    pub kind: String,
    /// Writes checked.
    pub checked: u64,
    /// Read-backs that did not show the write.
    pub stale: u64,
}

/// Everything the load test measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The instances.
    pub urls: Vec<String>,
    /// `closed` or `open`.
    pub mode: String,
    /// `default` or `read-only`.
    pub mix: String,
    /// Target rate of an open loop, requests per second.
    pub rate: Option<f64>,
    /// Workers.
    pub concurrency: usize,
    /// Dataset name.
    pub dataset: String,
    /// Measured seconds.
    pub seconds: f64,
    /// Distinct users logged in, and the draws they stand for.
    pub users: usize,
    /// Draws.
    pub draws: usize,
    /// Per kind of the mix.
    pub kinds: Vec<KindReport>,
    /// The whole mix (read-backs excluded).
    pub overall: KindReport,
    /// The read-backs after writes.
    pub read_back: KindReport,
    /// Read-your-writes, per write kind.
    pub visibility: Vec<Visibility>,
    /// Stale reads in total.
    pub stale_reads: u64,
    /// 5xx responses and transport failures in total (read-backs included).
    pub server_errors: u64,
    /// Drawn requests that could not be sent (no eligible user or project).
    pub skipped: u64,
    /// Memberships the run added and could not remove afterwards.
    pub cleanup_failures: usize,
    /// Database pool peak from `/metrics`.
    pub db_pool: Option<PoolPeak>,
    /// Redis `used_memory`, bytes.
    pub redis_used_memory: Option<u64>,
    /// Growth of `reelplan_redis_round_trips_total` over the measured run, summed over the
    /// instances; None when an instance does not expose it.
    pub redis_round_trips: Option<f64>,
    /// `redis_round_trips` over the cache hits counted (mix and read-backs); None when either
    /// is missing.
    pub redis_round_trips_per_hit: Option<f64>,
    /// Whether the reads were conditional refetches (`--conditional`).
    pub conditional: bool,
    /// With `--conditional`: the share of the mix's reads answered 304.
    pub not_modified_share: Option<f64>,
    /// The success metrics.
    pub metrics: Vec<Metric>,
}

fn pass_fail(pass: Option<bool>) -> &'static str {
    match pass {
        Some(true) => "PASS",
        Some(false) => "FAIL",
        None => "n/a",
    }
}

/// The original design's success metrics, measured on the mix.
pub fn success_metrics(
    overall: &KindReport,
    db_pool: Option<&PoolPeak>,
    redis: Option<u64>,
) -> Vec<Metric> {
    let metric = |name: &str, target: &str, measured: Option<(String, bool)>| Metric {
        name: name.into(),
        target: target.into(),
        measured: measured.as_ref().map_or_else(|| "n/a".into(), |m| m.0.clone()),
        pass: measured.map(|m| m.1),
    };
    vec![
        metric(
            "API p95 latency",
            "< 200 ms",
            (overall.requests > 0)
                .then(|| (format!("{:.1} ms", overall.p95_ms), overall.p95_ms < 200.0)),
        ),
        metric(
            "SQL statements per call",
            "< 3",
            overall.mean_statements.map(|m| (format!("{m:.2}"), m < 3.0)),
        ),
        metric(
            "cache hit ratio",
            "> 85%",
            overall.cache_hit_ratio.map(|r| (format!("{:.1}%", r * 100.0), r > 0.85)),
        ),
        metric(
            "Redis used memory",
            "< 100 MB",
            redis.map(|b| (format!("{:.1} MB", b as f64 / 1e6), b < 100_000_000)),
        ),
        // The original metric guards the database server's connection limit. A closed loop
        // saturates the pool by design, so pool occupancy is reported beside it, not judged.
        metric(
            "DB connections (open / server max)",
            "< 80%",
            db_pool.and_then(|p| {
                let ratio = p.server_ratio()?;
                let limit = p.server_limit.unwrap_or_default();
                let text = format!("{:.0}% ({}/{limit})", ratio * 100.0, p.peak_open_total);
                Some((text, ratio < 0.8))
            }),
        ),
    ]
}

fn row(out: &mut String, k: &KindReport) {
    let statuses: Vec<String> = k
        .statuses
        .iter()
        // A 304 is a conditional refetch's success, counted in its own line.
        .filter(|(s, _)| !(200..300).contains(*s) && **s != 304)
        .map(|(s, n)| format!("{s}:{n}"))
        .chain((k.transport_errors > 0).then(|| format!("io:{}", k.transport_errors)))
        .collect();
    let opt = |v: Option<f64>, pct: bool| match v {
        Some(v) if pct => format!("{:.1}%", v * 100.0),
        Some(v) => format!("{v:.2}"),
        None => "-".into(),
    };
    let _ = writeln!(
        out,
        "{:<13} {:>8} {:>9.1} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>6} {:>6}  {}",
        k.kind,
        k.requests,
        k.throughput,
        k.p50_ms,
        k.p95_ms,
        k.p99_ms,
        k.p999_ms,
        k.max_ms,
        opt(k.mean_statements, false),
        opt(k.cache_hit_ratio, true),
        if statuses.is_empty() { "-".to_string() } else { statuses.join(" ") },
    );
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = String::new();
        let rate = self.rate.map(|r| format!(" at {r}/s")).unwrap_or_default();
        let _ = writeln!(
            out,
            "{} loop{rate}, mix {}, {} workers, {:.1}s, dataset {}, {} users ({} draws), urls {}",
            self.mode,
            self.mix,
            self.concurrency,
            self.seconds,
            self.dataset,
            self.users,
            self.draws,
            self.urls.join(" ")
        );
        let _ = writeln!(
            out,
            "\n{:<13} {:>8} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>6} {:>6}  errors",
            "kind",
            "requests",
            "req/s",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "p99.9",
            "max ms",
            "stmts",
            "hit"
        );
        for kind in &self.kinds {
            row(&mut out, kind);
        }
        row(&mut out, &self.overall);
        row(&mut out, &self.read_back);
        let _ = writeln!(out, "\nread-your-writes:");
        for v in &self.visibility {
            let _ = writeln!(out, "  {:<13} {:>7} checked, {} stale", v.kind, v.checked, v.stale);
        }
        let _ = writeln!(
            out,
            "  stale reads {}, 5xx/transport errors {}, skipped {}",
            self.stale_reads, self.server_errors, self.skipped
        );
        if let Some(share) = self.not_modified_share {
            let _ = writeln!(
                out,
                "  conditional refetches: {:.1}% of the reads answered 304 Not Modified",
                share * 100.0
            );
        }
        let _ =
            writeln!(out, "\n{:<42} {:>9} {:>16}  result", "success metric", "target", "measured");
        for m in &self.metrics {
            let _ = writeln!(
                out,
                "{:<42} {:>9} {:>16}  {}",
                m.name,
                m.target,
                m.measured,
                pass_fail(m.pass)
            );
        }
        if let Some(pool) = &self.db_pool {
            let _ = writeln!(
                out,
                "db pool (information): peak {}/{} in use on one instance, mean {:.0}% busy",
                pool.peak_in_use,
                pool.max,
                pool.mean_ratio * 100.0
            );
        }
        let round_trips = match (self.redis_round_trips, self.redis_round_trips_per_hit) {
            (Some(trips), Some(per_hit)) => format!("{per_hit:.2} ({trips} over the run)"),
            (Some(trips), None) => format!("n/a (no cache hits, {trips} over the run)"),
            _ => "n/a".into(),
        };
        let _ = writeln!(out, "redis round trips per cache hit (information): {round_trips}");
        f.write_str(&out)
    }
}

/// The kinds of the mix in order, then `overall` and `read_back`.
pub fn kind_reports(
    kinds: &std::collections::HashMap<Kind, Recorder>,
    seconds: f64,
) -> (Vec<KindReport>, KindReport, KindReport) {
    let mut overall = Recorder::default();
    let reports = Kind::MIX
        .iter()
        .map(|kind| {
            let recorder = kinds.get(kind).cloned().unwrap_or_default();
            overall.merge(&recorder);
            KindReport::new(kind.name(), &recorder, seconds)
        })
        .collect();
    let read_back = kinds.get(&Kind::ReadBack).cloned().unwrap_or_default();
    (
        reports,
        KindReport::new("overall", &overall, seconds),
        KindReport::new("read_back", &read_back, seconds),
    )
}
