//! `reelplan seed`: migrate, refuse to load on top of existing users (unless `--force`, which
//! first deletes every row), hash the passwords, then stream the generated batches into the
//! backend's [`BulkLoad`] while the generator runs on a blocking thread.

use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use reelplan_store::bulk::{BulkLoad, UserRow};
use reelplan_store::Store;
use serde::Serialize;

use crate::dataset::{DatasetSize, Generator};
use crate::passwords;

/// Flags of `reelplan seed`.
#[derive(Debug, Clone, clap::Args)]
pub struct SeedOptions {
    /// Which dataset of BENCHMARK.md (`tiny` is a 50-user set for tests).
    #[arg(long, value_enum, default_value = "small")]
    pub dataset: DatasetSize,
    /// Generator seed: the same seed (and anchor) gives the same rows.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Delete every existing row first; without it the seed refuses a database with users.
    #[arg(long)]
    pub force: bool,
    /// "Now" for the generated times, RFC 3339 (default: the start of the current UTC day, so
    /// runs on the same day give identical rows).
    #[arg(long)]
    pub anchor: Option<chrono::DateTime<chrono::Utc>>,
    /// Projects per generated batch (one COPY / insert run per table per batch).
    #[arg(long, default_value_t = 5_000)]
    pub batch_projects: usize,
}

impl SeedOptions {
    /// The options of `dataset` with every default.
    pub fn new(dataset: DatasetSize) -> Self {
        SeedOptions { dataset, seed: 42, force: false, anchor: None, batch_projects: 5_000 }
    }

    /// The anchor in microseconds.
    pub fn anchor_micros(&self) -> i64 {
        match self.anchor {
            Some(anchor) => anchor.timestamp_micros(),
            None => {
                let now = chrono::Utc::now().timestamp_micros();
                now - now.rem_euclid(86_400 * 1_000_000)
            }
        }
    }
}

/// What a seed loaded, and how long it took.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SeedReport {
    /// Backend name.
    pub backend: &'static str,
    /// Users.
    pub users: u64,
    /// Projects.
    pub projects: u64,
    /// Memberships.
    pub members: u64,
    /// Review versions (each with its video's `files` row).
    pub versions: u64,
    /// Reviews of those versions.
    pub reviews: u64,
    /// Comments.
    pub comments: u64,
    /// Messages.
    pub messages: u64,
    /// Memos.
    pub memos: u64,
    /// Seconds spent hashing passwords.
    pub hash_secs: f64,
    /// Seconds spent loading (generation overlaps it).
    pub load_secs: f64,
    /// Seconds end to end, migrations included.
    pub total_secs: f64,
}

fn bar(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    let style = ProgressStyle::with_template(
        "{msg:>10} [{elapsed_precise}] {bar:40} {pos}/{len} ({per_sec}, eta {eta})",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(what.to_string());
    bar
}

/// Seeds `store` through `bulk` (the same database seen through both traits).
pub async fn seed(
    store: &dyn Store,
    bulk: &dyn BulkLoad,
    options: &SeedOptions,
) -> anyhow::Result<SeedReport> {
    let started = Instant::now();
    store.migrate().await.context("migrations failed")?;
    let existing = bulk.user_count().await?;
    if existing > 0 {
        anyhow::ensure!(
            options.force,
            "the database already has {existing} users; refusing to seed (use --force to delete \
             every row first)"
        );
        bulk.clear().await.context("cannot clear the database")?;
    }
    let generator = Generator::new(options.dataset, options.seed, options.anchor_micros());

    let hashing = Instant::now();
    let users = generator.users();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let hash_bar = bar(users.len() as u64, "hashing");
    let seed = options.seed;
    let (users, hash_bar) = tokio::task::spawn_blocking(move || {
        let inputs: Vec<(i64, &str)> = users.iter().map(|u| (u.id, u.password.as_str())).collect();
        let hashes = passwords::hash_all(&inputs, seed, threads, &|| hash_bar.inc(1));
        let rows: Vec<UserRow> = users
            .into_iter()
            .zip(hashes)
            .map(|(u, password_hash)| UserRow {
                id: u.id,
                email: u.email,
                nickname: u.nickname,
                password_hash,
                created: u.created,
            })
            .collect();
        (rows, hash_bar)
    })
    .await?;
    hash_bar.finish();
    let hash_secs = hashing.elapsed().as_secs_f64();

    let loading = Instant::now();
    let load_bar = bar(u64::from(options.dataset.projects()), "projects");
    let (tx, mut rx) = tokio::sync::mpsc::channel(2);
    let batch_projects = options.batch_projects;
    let producer = tokio::task::spawn_blocking(move || {
        let mut report = SeedReport::default();
        for batch in generator.batches(batch_projects) {
            report.projects += batch.projects.len() as u64;
            report.members += batch.members.len() as u64;
            report.versions += batch.versions.len() as u64;
            report.reviews += batch.reviews.len() as u64;
            report.comments += batch.comments.len() as u64;
            report.messages += batch.messages.len() as u64;
            report.memos += batch.memos.len() as u64;
            if tx.blocking_send(batch).is_err() {
                break;
            }
        }
        report
    });
    let on_batch = |n: usize| load_bar.inc(n as u64);
    let loaded = bulk.load(&users, &mut rx, &on_batch).await;
    drop(rx);
    let mut report = producer.await?;
    loaded.context("bulk load failed")?;
    load_bar.finish();

    report.backend = bulk.backend();
    report.users = users.len() as u64;
    report.hash_secs = hash_secs;
    report.load_secs = loading.elapsed().as_secs_f64();
    report.total_secs = started.elapsed().as_secs_f64();
    Ok(report)
}

impl std::fmt::Display for SeedReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = |s: f64| format!("{:.1}s", Duration::from_secs_f64(s).as_secs_f64());
        write!(
            f,
            "seeded {} users, {} projects, {} members, {} versions, {} reviews, {} comments, {} \
             messages, {} memos into {} in {} (hashing {}, loading {})",
            self.users,
            self.projects,
            self.members,
            self.versions,
            self.reviews,
            self.comments,
            self.messages,
            self.memos,
            self.backend,
            secs(self.total_secs),
            secs(self.hash_secs),
            secs(self.load_secs)
        )
    }
}
