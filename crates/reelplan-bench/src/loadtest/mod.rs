//! `reelplan loadtest`: `BENCHMARK.md`'s load mix against one or more running instances,
//! closed loop (each worker sends its next request when the last one answers) or open loop
//! (`--rate`: a fixed schedule, latency measured from each request's intended send time).
//!
//! `--mix read-only` sends only the mix's three reads (`BENCHMARK.md`'s companion mix).
//!
//! Steps: log the drawn users in ([`sessions`]), read the Redis round-trip counter from
//! `/metrics`, sample `/metrics` while the workers run ([`worker`], [`probe`]), read the counter
//! again, remove the memberships the run added, read Redis `INFO memory`, and summarize
//! ([`report`]).

pub mod client;
pub mod mix;
pub mod probe;
pub mod recorder;
pub mod report;
pub mod sessions;
pub mod worker;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub use report::Report;

use crate::dataset::DatasetSize;
use client::Api;
use mix::{Kind, Mix};
use worker::{Shared, Tally};

/// Flags of `reelplan loadtest`.
#[derive(Debug, Clone, clap::Args)]
pub struct LoadtestOptions {
    /// Base URL of an instance (repeat for several; requests and read-backs go round-robin).
    #[arg(long = "url", required = true)]
    pub urls: Vec<String>,
    /// How long to measure: `60s`, `5m`, `500ms`.
    #[arg(long, default_value = "60s", value_parser = crate::duration::parse)]
    pub duration: Duration,
    /// Concurrent workers (connections).
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Open loop at this many requests per second (default: closed loop).
    #[arg(long)]
    pub rate: Option<f64>,
    /// The dataset the server was seeded with (for the user numbers).
    #[arg(long, value_enum, default_value = "small")]
    pub dataset: DatasetSize,
    /// Which mix: `default` (BENCHMARK.md's six kinds) or `read-only` (its three reads only).
    #[arg(long, value_enum, default_value = "default")]
    pub mix: Mix,
    /// Redis of the instances, to read its used memory.
    #[arg(long)]
    pub redis_url: Option<String>,
    /// Write the whole report as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// User draws (with the heavy tail) the requests are spread over; each distinct user logs
    /// in once.
    #[arg(long, default_value_t = 2_000)]
    pub draws: usize,
    /// Seed of the load test's own choices.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Send the front end's conditional refetches: each read holds the last `ETag` its user
    /// saw for that path in `If-None-Match`; the report gives the share of 304s.
    #[arg(long)]
    pub conditional: bool,
}

impl LoadtestOptions {
    /// Options for `urls` with every default but `duration` and `concurrency`.
    pub fn new(urls: Vec<String>, duration: Duration, concurrency: usize) -> Self {
        LoadtestOptions {
            urls,
            duration,
            concurrency,
            rate: None,
            dataset: DatasetSize::Small,
            mix: Mix::Default,
            redis_url: None,
            json: None,
            draws: 2_000,
            seed: 7,
            conditional: false,
        }
    }
}

/// The counter of Redis round trips each instance exposes (newer binaries only).
pub const ROUND_TRIPS: &str = "reelplan_redis_round_trips_total";

/// Runs the load test and returns its report (also written to `--json` when given).
pub async fn run(options: &LoadtestOptions) -> anyhow::Result<Report> {
    let concurrency = options.concurrency.max(1);
    let api = Arc::new(Api::new(options.urls.clone(), concurrency)?);
    let mut rng = StdRng::seed_from_u64(options.seed);
    let pool = sessions::build(&api, options.dataset, options.draws, concurrency, &mut rng).await?;
    let users = pool.sessions.len();
    let shared = Arc::new(Shared {
        api: Arc::clone(&api),
        pool,
        size: options.dataset,
        mix: options.mix,
        claims: Default::default(),
        added: Default::default(),
        etags: options.conditional.then(Default::default),
    });

    let round_trips_before = probe::scrape_counter(&api, ROUND_TRIPS).await;
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let sampler =
        tokio::spawn(probe::sample_pools(Arc::clone(&api), Duration::from_millis(500), stopped));
    // Phase markers on stderr, so that a script can bracket the measured window alone (not the
    // logins before it nor the clean-up after it), e.g. to read the servers' CPU time.
    eprintln!("loadtest: measuring ({} mix, {:?})", options.mix.name(), options.duration);
    let start = Instant::now();
    let deadline = start + options.duration;
    let slots = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let worker_rng = StdRng::seed_from_u64(rng.random());
        let shared = Arc::clone(&shared);
        match options.rate {
            Some(rate) => {
                anyhow::ensure!(rate > 0.0, "--rate must be positive");
                let interval = Duration::from_secs_f64(1.0 / rate);
                let slots = Arc::clone(&slots);
                workers
                    .spawn(worker::open_loop(shared, start, deadline, interval, slots, worker_rng));
            }
            None => {
                workers.spawn(worker::closed_loop(shared, deadline, worker_rng));
            }
        }
    }
    let bar = indicatif::ProgressBar::new(options.duration.as_secs().max(1)).with_message("load");
    let ticker = {
        let bar = bar.clone();
        tokio::spawn(async move {
            while Instant::now() < deadline {
                tokio::time::sleep(Duration::from_secs(1)).await;
                bar.inc(1);
            }
        })
    };
    let mut tally = Tally::default();
    while let Some(joined) = workers.join_next().await {
        tally.merge(&joined?);
    }
    let seconds = start.elapsed().as_secs_f64();
    eprintln!("loadtest: measured ({seconds:.1}s)");
    let round_trips_after = probe::scrape_counter(&api, ROUND_TRIPS).await;
    ticker.abort();
    bar.finish_and_clear();
    let _ = stop.send(());
    let db_pool = sampler.await.ok().flatten();
    let cleanup_failures = worker::clean_up(&shared).await;
    let redis_used_memory = match &options.redis_url {
        Some(url) => Some(probe::redis_used_memory(url).await?),
        None => None,
    };

    let (kinds, overall, read_back) = report::kind_reports(&tally.kinds, seconds);
    let visibility: Vec<report::Visibility> = Kind::MIX
        .iter()
        .filter(|k| k.is_write())
        .map(|k| report::Visibility {
            kind: k.name().into(),
            checked: tally.checked.get(k).copied().unwrap_or(0),
            stale: tally.stale.get(k).copied().unwrap_or(0),
        })
        .collect();
    let server_errors = tally.kinds.values().map(|r| r.server_errors() + r.transport_errors).sum();
    let hits = overall.cache_hits + read_back.cache_hits;
    let redis_round_trips = match (round_trips_before, round_trips_after) {
        (Some(before), Some(after)) => Some(after - before),
        _ => None,
    };
    let redis_round_trips_per_hit =
        redis_round_trips.filter(|_| hits > 0).map(|trips| trips / hits as f64);
    let metrics = report::success_metrics(&overall, db_pool.as_ref(), redis_used_memory);
    // The three reads of the mix, the ones a front end refetches.
    let read_names: Vec<&str> = Mix::ReadOnly.kinds().iter().map(|k| k.name()).collect();
    let reads: Vec<&report::KindReport> =
        kinds.iter().filter(|k| read_names.contains(&k.kind.as_str())).collect();
    let read_count: u64 = reads.iter().map(|k| k.requests).sum();
    let not_modified_share = (options.conditional && read_count > 0)
        .then(|| reads.iter().map(|k| k.not_modified).sum::<u64>() as f64 / read_count as f64);
    let report = Report {
        urls: options.urls.clone(),
        mode: if options.rate.is_some() { "open" } else { "closed" }.into(),
        mix: options.mix.name().into(),
        rate: options.rate,
        concurrency,
        dataset: options.dataset.name().into(),
        seconds,
        users,
        draws: options.draws,
        kinds,
        overall,
        read_back,
        stale_reads: visibility.iter().map(|v| v.stale).sum(),
        visibility,
        server_errors,
        skipped: tally.skipped,
        cleanup_failures,
        db_pool,
        redis_used_memory,
        redis_round_trips,
        redis_round_trips_per_hit,
        conditional: options.conditional,
        not_modified_share,
        metrics,
    };
    if let Some(path) = &options.json {
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)?;
    }
    Ok(report)
}

impl Report {
    /// Whether the run must fail: any stale read, 5xx or transport failure.
    pub fn failed(&self) -> bool {
        self.stale_reads > 0 || self.server_errors > 0
    }
}
