//! `reelplan streams`: how many live-update streams one instance holds, and how long an event
//! takes to reach them from a write acknowledged by another instance.
//!
//! Steps: log the seeded users in on the stream instance (once each; their tokens serve on
//! every instance sharing the signing secret), open `--streams` streams (`GET /api/events`)
//! spread evenly over them (at most `--max-streams-per-user` each) and keep reading them all;
//! then, optionally after `--go-file` appears, post comments at `--rate` for `--duration` on the
//! write instance (`--write-url`), on projects of the writers, who hold streams. For every
//! write, the time its 2xx arrived and the time its event (`comment.created` with the
//! comment's id as `object_id`) was read on each stream of the stream instance give a delay
//! ([`matcher`]); the report gives its percentiles over every delivery and over each write's
//! first, and counts the deliveries due to the writers' own streams that never came.
//!
//! One process holding 10,000 connections needs as many descriptors: the run refuses to start
//! when `ulimit -n` is too low for `--streams` (`scripts/stream-bench.sh` raises it).

pub mod matcher;
pub mod sse;

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use reelplan_domain::EventType;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::dataset::DatasetSize;
use crate::loadtest::client::Api;
use crate::loadtest::sessions::{self, Session};
use matcher::{Acked, Arrival, Deliveries, Key, Matcher, Percentiles};

/// The event the timed writes cause.
const WRITTEN: EventType = EventType::CommentCreated;

/// Descriptors a run needs beyond one per stream (logins, writes, the runtime's own).
const SPARE_DESCRIPTORS: u64 = 256;

/// How long an event no write claimed is kept (it may be read before its write's 2xx).
const UNCLAIMED_FOR: Duration = Duration::from_secs(30);

/// Flags of `reelplan streams`.
#[derive(Debug, Clone, clap::Args)]
pub struct StreamsOptions {
    /// Base URL of the instance that holds the streams.
    #[arg(long)]
    pub url: String,
    /// Base URL of another instance (same database and Redis) that takes the timed writes.
    #[arg(long)]
    pub write_url: String,
    /// Streams to open.
    #[arg(long, default_value_t = 10_000)]
    pub streams: usize,
    /// Streams one user may hold (the server's `REELPLAN_MAX_STREAMS_PER_USER`, default 16).
    #[arg(long, default_value_t = 16)]
    pub max_streams_per_user: usize,
    /// The dataset the servers were seeded with (its users hold the streams).
    #[arg(long, value_enum, default_value = "small")]
    pub dataset: DatasetSize,
    /// Open the streams over HTTP/2 (cleartext, prior knowledge), `--streams-per-connection`
    /// on each connection, as a proxy speaking HTTP/2 upstream does; HTTP/1.1 (one connection
    /// per stream, as browsers without such a proxy) otherwise.
    #[arg(long)]
    pub http2: bool,
    /// Streams sharing one HTTP/2 connection (the server allows 200).
    #[arg(long, default_value_t = 100)]
    pub streams_per_connection: usize,
    /// Streams being opened at once.
    #[arg(long, default_value_t = 64)]
    pub open_concurrency: usize,
    /// How long to make timed writes: `30s`, `2m`.
    #[arg(long, default_value = "30s", value_parser = crate::duration::parse)]
    pub duration: Duration,
    /// Timed writes (comments) per second, on a fixed schedule.
    #[arg(long, default_value_t = 20.0)]
    pub rate: f64,
    /// Distinct (writer, project) pairs the writes are drawn from.
    #[arg(long, default_value_t = 200)]
    pub targets: usize,
    /// How long after the last write its events may take to arrive.
    #[arg(long, default_value = "5s", value_parser = crate::duration::parse)]
    pub grace: Duration,
    /// Once the streams are open, wait until this file exists before writing (so that a
    /// script can start other load first); at most 5 minutes.
    #[arg(long)]
    pub go_file: Option<PathBuf>,
    /// Write the report as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Seed of the run's choices (writers, projects).
    #[arg(long, default_value_t = 11)]
    pub seed: u64,
}

/// The timed writes.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Writes {
    /// Sent.
    pub sent: u64,
    /// Answered 2xx.
    pub acked: u64,
    /// The others, by status (`transport` when there was no answer).
    pub failed: BTreeMap<String, u64>,
    /// From each write's scheduled time to its 2xx.
    pub latency: Percentiles,
}

/// What `reelplan streams` measured.
#[derive(Debug, Clone, Serialize)]
pub struct StreamsReport {
    /// The stream instance.
    pub url: String,
    /// The write instance.
    pub write_url: String,
    /// Streams asked for.
    pub requested: usize,
    /// Users holding them.
    pub users: usize,
    /// Streams opened (200, `text/event-stream`).
    pub opened: usize,
    /// `HTTP/1.1`, or `HTTP/2` with the streams each connection carries.
    pub protocol: String,
    /// Connections the streams were opened on (about one per stream on HTTP/1.1).
    pub connections: usize,
    /// Streams that did not open, by status (`transport` when there was no answer).
    pub open_failures: BTreeMap<String, u64>,
    /// Seconds from the first open to the last.
    pub open_seconds: f64,
    /// Streams the server ended before the run did.
    pub dropped: u64,
    /// Messages read on all streams (the load mix's events too).
    pub messages: u64,
    /// Seconds of timed writes.
    pub write_seconds: f64,
    /// Timed writes per second asked for.
    pub rate: f64,
    /// The timed writes.
    pub writes: Writes,
    /// Their events on the streams.
    pub deliveries: Deliveries,
}

impl StreamsReport {
    /// Whether the run must fail: a stream that did not open or was dropped, an event due to a
    /// writer's stream that never came or came twice, a write refused.
    pub fn failed(&self) -> bool {
        self.opened < self.requested
            || self.dropped > 0
            || self.deliveries.own_missed > 0
            || self.deliveries.duplicates > 0
            || !self.writes.failed.is_empty()
    }
}

fn tally(counts: &BTreeMap<String, u64>) -> String {
    if counts.is_empty() {
        return "none".into();
    }
    counts.iter().map(|(k, n)| format!("{n} x {k}")).collect::<Vec<_>>().join(", ")
}

fn percentiles(p: &Percentiles) -> String {
    format!(
        "p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, p99.9 {:.1} ms, max {:.1} ms ({} delays)",
        p.p50_ms, p.p90_ms, p.p99_ms, p.p999_ms, p.max_ms, p.count
    )
}

impl fmt::Display for StreamsReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rate = self.opened as f64 / self.open_seconds.max(1e-9);
        writeln!(
            f,
            "streams     {} open of {} on {}, over {} users and {} {} connections (opened in \
             {:.1} s, {rate:.0}/s); failures: {}; dropped by the server: {}",
            self.opened,
            self.requested,
            self.url,
            self.users,
            self.connections,
            self.protocol,
            self.open_seconds,
            tally(&self.open_failures),
            self.dropped
        )?;
        let w = &self.writes;
        writeln!(
            f,
            "writes      {} comments on {} ({}/s for {:.1} s): {} acknowledged, failures: {}; \
             scheduled -> 2xx {}",
            w.sent,
            self.write_url,
            self.rate,
            self.write_seconds,
            w.acked,
            tally(&w.failed),
            percentiles(&w.latency)
        )?;
        let d = &self.deliveries;
        writeln!(
            f,
            "deliveries  {} events of those writes read (one per stream showing one); the \
             writers' own streams: {} due, {} missed; {} writes unseen; {} read before the \
             2xx; {} duplicates",
            d.deliveries, d.own_expected, d.own_missed, d.unseen_writes, d.before_ack, d.duplicates
        )?;
        writeln!(
            f,
            "delay       2xx on A -> event on B, every delivery: {}",
            percentiles(&d.every)
        )?;
        writeln!(
            f,
            "delay       2xx on A -> event on B, first stream:   {}",
            percentiles(&d.first)
        )?;
        writeln!(
            f,
            "delay       send to A -> event on B, first stream:  {}",
            percentiles(&d.first_from_send)
        )?;
        for slow in d.slowest.iter().take(3) {
            writeln!(
                f,
                "slowest     comment {}: 2xx {:.1} ms, first delivery {:.1} ms, last {:.1} ms \
                 after its send ({} streams)",
                slow.object_id, slow.acked_ms, slow.first_ms, slow.last_ms, slow.deliveries
            )?;
        }
        write!(
            f,
            "messages    {} read on all streams (the load mix's events included)",
            self.messages
        )
    }
}

/// The soft `Max open files` of `/proc/<pid>/limits` (None: not found, or unlimited).
pub fn soft_open_files(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..].split_whitespace().next()?.parse().ok()
}

fn check_descriptors(streams: usize) -> anyhow::Result<()> {
    let Ok(limits) = std::fs::read_to_string("/proc/self/limits") else { return Ok(()) };
    let need = streams as u64 + SPARE_DESCRIPTORS;
    match soft_open_files(&limits) {
        Some(have) if have < need => anyhow::bail!(
            "{streams} streams need about {need} file descriptors and `ulimit -n` is {have}: \
             raise it first (ulimit -n {need})"
        ),
        _ => Ok(()),
    }
}

/// Which user holds each stream: users 1..=`users` in turn, so that every user holds
/// `streams / users` or one more. Fails when that exceeds `per_user`.
pub fn holders(streams: usize, users: u32, per_user: usize) -> anyhow::Result<Vec<u32>> {
    anyhow::ensure!(users > 0, "no users to hold the streams");
    let need = streams.div_ceil(users as usize);
    anyhow::ensure!(
        need <= per_user.max(1),
        "{streams} streams over {users} users is {need} per user, over the limit of {per_user}: \
         raise --max-streams-per-user (and the servers' REELPLAN_MAX_STREAMS_PER_USER) or use \
         a bigger dataset"
    );
    Ok((0..streams).map(|i| (i % users as usize) as u32 + 1).collect())
}

/// What the stream readers share.
struct Readers {
    matcher: Mutex<Matcher>,
    /// The projects the timed writes go to: only their events are matched.
    targets: HashSet<i64>,
    /// Open streams per user number.
    open: Vec<AtomicUsize>,
    dropped: AtomicU64,
    messages: AtomicU64,
}

/// The fields of an event's `data` the matching needs.
#[derive(Deserialize)]
struct EventData {
    #[serde(rename = "type")]
    kind: EventType,
    object_id: i64,
    project_id: i64,
}

impl Readers {
    fn matcher(&self) -> MutexGuard<'_, Matcher> {
        self.matcher.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn message(&self, stream: usize, user: u32, at: Instant, message: sse::Message) {
        self.messages.fetch_add(1, Ordering::Relaxed);
        if message.event != WRITTEN.as_str() {
            return;
        }
        let Ok(data) = serde_json::from_str::<EventData>(&message.data) else { return };
        if !self.targets.contains(&data.project_id) {
            return;
        }
        let key = Key { kind: data.kind, object_id: data.object_id };
        self.matcher().arrived(key, Arrival { stream, user, at });
    }
}

/// The clients the streams are opened with: over HTTP/1.1 one, opening a connection per
/// stream; over HTTP/2 one per `--streams-per-connection` streams (a client holds one
/// connection to a host).
fn stream_clients(options: &StreamsOptions) -> anyhow::Result<Vec<reqwest::Client>> {
    let builder =
        || reqwest::Client::builder().tcp_nodelay(true).connect_timeout(Duration::from_secs(10));
    if !options.http2 {
        return Ok(vec![builder().pool_max_idle_per_host(0).build()?]);
    }
    let connections = options.streams.div_ceil(options.streams_per_connection.max(1)).max(1);
    (0..connections).map(|_| Ok(builder().http2_prior_knowledge().build()?)).collect()
}

/// A failure's label in the report: the status, or `transport` when there was no answer.
fn failure_of(status: Option<reqwest::StatusCode>) -> String {
    status.map_or_else(|| "transport".into(), |s| s.as_u16().to_string())
}

/// Opens one stream; a 503 (the instance shedding load) is tried again a few times.
async fn open(
    client: &reqwest::Client,
    url: &str,
    token: &str,
) -> Result<reqwest::Response, String> {
    let mut pause = Duration::from_millis(100);
    for attempt in 0.. {
        let request = client.get(url).bearer_auth(token).send();
        let response = match tokio::time::timeout(Duration::from_secs(30), request).await {
            Ok(Ok(response)) => response,
            _ => return Err(failure_of(None)),
        };
        let status = response.status();
        let is_stream = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
        if status.is_success() && is_stream {
            return Ok(response);
        }
        if status != reqwest::StatusCode::SERVICE_UNAVAILABLE || attempt >= 5 {
            return Err(failure_of(Some(status)));
        }
        tokio::time::sleep(pause).await;
        pause *= 2;
    }
    unreachable!("the loop returns")
}

/// Reads one stream until the server ends it (or the run aborts the task).
async fn read(mut response: reqwest::Response, stream: usize, user: u32, readers: Arc<Readers>) {
    let mut parser = sse::Parser::default();
    while let Ok(Some(chunk)) = response.chunk().await {
        let at = Instant::now();
        parser.push(&chunk, |message| readers.message(stream, user, at, message));
    }
    readers.dropped.fetch_add(1, Ordering::Relaxed);
    readers.open[user as usize].fetch_sub(1, Ordering::Relaxed);
}

async fn login_all(api: &Arc<Api>, users: u32) -> anyhow::Result<Vec<Session>> {
    let semaphore = Arc::new(tokio::sync::Semaphore::new(16));
    let mut tasks = tokio::task::JoinSet::new();
    for user in 1..=users {
        let (api, semaphore) = (Arc::clone(api), Arc::clone(&semaphore));
        tasks.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            sessions::login(&api, user).await
        });
    }
    let mut sessions = Vec::with_capacity(users as usize);
    while let Some(joined) = tasks.join_next().await {
        sessions.push(joined??);
    }
    sessions.sort_by_key(|s| s.user);
    Ok(sessions)
}

async fn wait_for(path: &std::path::Path) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(300);
    while !path.exists() {
        anyhow::ensure!(
            Instant::now() < deadline,
            "{} did not appear in 5 minutes",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// One timed write: a comment by `writer` on `project`, keyed by its event once acknowledged.
async fn write(
    api: &Api,
    readers: &Readers,
    session: &Session,
    project: i64,
    n: u64,
) -> Result<(), String> {
    let path = format!("/api/projects/{project}/feedback/comments");
    let body = json!({"text": format!("stream bench comment {n}"), "timecode": 1.0});
    let request = api.request(reqwest::Method::POST, &path, Some(&session.token)).json(&body);
    let sent = Instant::now();
    let response = request.send().await.map_err(|_| failure_of(None))?;
    let acked = Instant::now();
    let status = response.status();
    if !status.is_success() {
        return Err(failure_of(Some(status)));
    }
    let body: serde_json::Value = response.json().await.map_err(|_| failure_of(None))?;
    let id = body["result"]["id"].as_i64().ok_or_else(|| "no comment id".to_owned())?;
    let expected = readers.open[session.user as usize].load(Ordering::Relaxed);
    let acked = Acked { writer: session.user, expected, sent, acked };
    readers.matcher().acked(Key { kind: WRITTEN, object_id: id }, acked);
    Ok(())
}

/// Runs the benchmark and returns its report (also written to `--json` when given).
pub async fn run(options: &StreamsOptions) -> anyhow::Result<StreamsReport> {
    anyhow::ensure!(options.rate > 0.0, "--rate must be positive");
    check_descriptors(options.streams)?;
    let users = options.dataset.users();
    let holders = holders(options.streams, users, options.max_streams_per_user)?;
    let users = users.min(options.streams as u32);

    eprintln!("streams: logging {users} users in on {}", options.url);
    let api = Arc::new(Api::new(vec![options.url.clone()], 16)?);
    let sessions = Arc::new(login_all(&api, users).await?);
    let mut rng = StdRng::seed_from_u64(options.seed);
    let pairs: Vec<(usize, i64)> = sessions
        .iter()
        .enumerate()
        .flat_map(|(i, s)| s.projects.iter().map(move |p| (i, *p)))
        .collect();
    anyhow::ensure!(!pairs.is_empty(), "no seeded user takes part in a project");
    let targets: Vec<(usize, i64)> =
        pairs.choose_multiple(&mut rng, options.targets.max(1)).copied().collect();
    let readers = Arc::new(Readers {
        matcher: Mutex::default(),
        targets: targets.iter().map(|(_, p)| *p).collect(),
        open: (0..=users).map(|_| AtomicUsize::new(0)).collect(),
        dropped: AtomicU64::new(0),
        messages: AtomicU64::new(0),
    });

    eprintln!("streams: opening {} streams on {}", options.streams, options.url);
    let clients = stream_clients(options)?;
    let events_url = format!("{}/api/events", options.url.trim_end_matches('/'));
    let semaphore = Arc::new(tokio::sync::Semaphore::new(options.open_concurrency.max(1)));
    let (opened_tx, mut opened_rx) = tokio::sync::mpsc::unbounded_channel();
    let mut streams = tokio::task::JoinSet::new();
    let open_start = Instant::now();
    for (stream, user) in holders.iter().copied().enumerate() {
        let client =
            clients[(stream / options.streams_per_connection.max(1)) % clients.len()].clone();
        let url = events_url.clone();
        let (readers, semaphore, opened) =
            (Arc::clone(&readers), Arc::clone(&semaphore), opened_tx.clone());
        let sessions = Arc::clone(&sessions);
        streams.spawn(async move {
            let permit = semaphore.acquire_owned().await;
            let token = &sessions[user as usize - 1].token;
            let response = open(&client, &url, token).await;
            drop(permit);
            match response {
                Ok(response) => {
                    readers.open[user as usize].fetch_add(1, Ordering::Relaxed);
                    let _ = opened.send(None);
                    read(response, stream, user, readers).await;
                }
                Err(failure) => {
                    let _ = opened.send(Some(failure));
                }
            }
        });
    }
    drop(opened_tx);
    let bar = indicatif::ProgressBar::new(options.streams as u64).with_message("streams");
    let mut opened = 0;
    let mut open_failures = BTreeMap::new();
    for _ in 0..options.streams {
        match opened_rx.recv().await {
            Some(None) => opened += 1,
            Some(Some(failure)) => *open_failures.entry(failure).or_insert(0) += 1,
            None => break,
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let open_seconds = open_start.elapsed().as_secs_f64();
    eprintln!("streams: open {opened} of {} in {open_seconds:.1}s", options.streams);

    let pruner = {
        let readers = Arc::clone(&readers);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                if let Some(before) = Instant::now().checked_sub(UNCLAIMED_FOR) {
                    readers.matcher().prune(before);
                }
            }
        })
    };
    if let Some(path) = &options.go_file {
        eprintln!("streams: waiting for {}", path.display());
        wait_for(path).await?;
    }

    eprintln!(
        "streams: writing ({}/s for {:?} on {})",
        options.rate, options.duration, options.write_url
    );
    let write_api = Arc::new(Api::new(vec![options.write_url.clone()], 64)?);
    let interval = Duration::from_secs_f64(1.0 / options.rate);
    let write_start = Instant::now();
    let deadline = write_start + options.duration;
    let mut writes = tokio::task::JoinSet::new();
    for n in 0_u64.. {
        let intended = write_start + interval.mul_f64(n as f64);
        if intended >= deadline {
            break;
        }
        tokio::time::sleep_until(intended.into()).await;
        let (session, project) = targets[rng.random_range(0..targets.len())];
        let (api, readers, sessions) =
            (Arc::clone(&write_api), Arc::clone(&readers), Arc::clone(&sessions));
        writes.spawn(async move {
            let outcome = write(&api, &readers, &sessions[session], project, n).await;
            (outcome, intended.elapsed())
        });
    }
    let mut figures = Writes::default();
    let mut latency = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).expect("valid bounds");
    while let Some(joined) = writes.join_next().await {
        let (outcome, took) = joined?;
        figures.sent += 1;
        match outcome {
            Ok(()) => {
                figures.acked += 1;
                latency.saturating_record(u64::try_from(took.as_micros()).unwrap_or(u64::MAX));
            }
            Err(failure) => *figures.failed.entry(failure).or_insert(0) += 1,
        }
    }
    figures.latency = Percentiles::of(&latency);
    let write_seconds = write_start.elapsed().as_secs_f64();
    let grace = Instant::now() + options.grace;
    while readers.matcher().outstanding() > 0 && Instant::now() < grace {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!("streams: written");

    let deliveries = readers.matcher().summary();
    pruner.abort();
    streams.abort_all();
    let report = StreamsReport {
        url: options.url.clone(),
        write_url: options.write_url.clone(),
        requested: options.streams,
        users: users as usize,
        opened,
        protocol: if options.http2 {
            format!("HTTP/2 ({} streams each)", options.streams_per_connection)
        } else {
            "HTTP/1.1".into()
        },
        connections: if options.http2 { clients.len() } else { opened },
        open_failures,
        open_seconds,
        dropped: readers.dropped.load(Ordering::Relaxed),
        messages: readers.messages.load(Ordering::Relaxed),
        write_seconds,
        rate: options.rate,
        writes: figures,
        deliveries,
    };
    while streams.join_next().await.is_some() {}
    if let Some(path) = &options.json {
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_spread_evenly_over_the_users_within_the_limit() {
        assert_eq!(holders(10, 4, 3).unwrap(), [1, 2, 3, 4, 1, 2, 3, 4, 1, 2]);
        let spread = holders(10_000, 1_000, 16).unwrap();
        assert!((1..=1000).all(|user| spread.iter().filter(|u| **u == user).count() == 10));
        assert!(holders(10, 4, 2).is_err(), "3 per user is over 2");
        assert!(holders(1, 0, 16).is_err());
    }

    #[test]
    fn the_soft_descriptor_limit_is_read_from_proc_limits() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max cpu time              unlimited            unlimited            seconds\n\
                      Max open files            1024                 524288               files\n";
        assert_eq!(soft_open_files(limits), Some(1024));
        assert_eq!(soft_open_files("Max open files  unlimited unlimited files"), None);
        assert_eq!(soft_open_files(""), None);
    }
}
