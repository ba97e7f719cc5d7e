//! Command-line flags and environment variables, mapped onto the server's typed config.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use reelplan_server::config::ConnectionLimits;
use reelplan_server::config::PasswordCost;
use reelplan_server::config::Secret;
use reelplan_server::config::SweepConfig;
use reelplan_server::config::UploadLimitsConfig;
use reelplan_server::Config;

/// Every flag's default is the typed config's own, so each default is written once.
static DEFAULTS: std::sync::LazyLock<Config> =
    std::sync::LazyLock::new(|| Config::embedded(PathBuf::from(DATA_DIR)));

/// The data folder, relative to where the server starts.
const DATA_DIR: &str = "data";

const MIB: u64 = 1024 * 1024;

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// reelplan: the backend of a video-production project tracker.
#[derive(Parser)]
#[command(version, about)]
pub struct Cli {
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Log format: text or json.
    #[arg(long, env = "REELPLAN_LOG_FORMAT", default_value = "text", global = true)]
    pub log_format: String,
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// Subcommands.
#[derive(Subcommand)]
#[expect(clippy::large_enum_variant, reason = "parsed once at start-up; boxing buys nothing")]
pub enum Command {
    /// Serve the API (the default).
    Serve(ServeArgs),
    /// Bring the database schema up to date, then exit.
    Migrate(StoreArgs),
    /// Fill the database with a reference dataset of BENCHMARK.md (migrates first).
    Seed(SeedArgs),
    /// Run BENCHMARK.md's load mix against running instances and print the success metrics.
    Loadtest(reelplan_bench::LoadtestOptions),
    /// Hold many live-update streams open on one instance and time writes on another until
    /// their events arrive (a benchmark; `scripts/stream-bench.sh` runs it under load).
    Streams(reelplan_bench::StreamsOptions),
    /// Remove stored objects that no file row names and that are older than the minimum age.
    Sweep(SweepArgs),
    /// Print the OpenAPI document that `/openapi.json` serves (for client generators), then exit.
    Openapi,
}

/// Flags of `sweep`.
#[derive(Args, Clone)]
pub struct SweepArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Where uploaded files live (as `serve`'s flag of the same name).
    #[arg(long, env = "REELPLAN_OBJECT_STORE")]
    pub object_store: Option<String>,
    /// Objects younger than this many seconds are kept, named or not.
    #[arg(long, env = "REELPLAN_SWEEP_MIN_AGE_SECS",
          default_value_t = DEFAULTS.objects.sweep.min_age.as_secs())]
    pub min_age_secs: u64,
}

/// `on` or `off`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Switch {
    /// Enabled.
    On,
    /// Disabled.
    Off,
}

impl From<bool> for Switch {
    fn from(on: bool) -> Self {
        if on {
            Switch::On
        } else {
            Switch::Off
        }
    }
}

/// `REELPLAN_ENV`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Environment {
    /// Generates a secret when none is given.
    Development,
    /// Refuses a missing, short or default secret.
    Production,
}

impl From<bool> for Environment {
    fn from(production: bool) -> Self {
        if production {
            Environment::Production
        } else {
            Environment::Development
        }
    }
}

/// Where the data lives.
#[derive(Args, Clone)]
pub struct StoreArgs {
    /// Folder of the embedded database and generated secret.
    #[arg(long, env = "REELPLAN_DATA_DIR", default_value = DATA_DIR)]
    pub data_dir: PathBuf,
    /// `sqlite://...` or `postgres://...` (default: sqlite in the data folder).
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// Database pool size. 10 suits a 2-core server: about 2 x cores busy connections plus
    /// room for ones waiting on the network; with several instances keep pool size x instances
    /// under 80% of PostgreSQL's max_connections.
    #[arg(long, env = "REELPLAN_DB_POOL_MAX", default_value_t = DEFAULTS.database.pool_max)]
    pub db_pool_max: u32,
    /// Milliseconds a request waits for a pooled connection (or for the database to accept
    /// one) before a 503; under 2000 so an unreachable database answers within 2 s.
    #[arg(long, env = "REELPLAN_DB_ACQUIRE_TIMEOUT_MS",
          default_value_t = millis(DEFAULTS.database.acquire_timeout))]
    pub db_acquire_timeout_ms: u64,
    /// PostgreSQL statement timeout in milliseconds.
    #[arg(long, env = "REELPLAN_DB_STATEMENT_TIMEOUT_MS",
          default_value_t = millis(DEFAULTS.database.statement_timeout))]
    pub db_statement_timeout_ms: u64,
    /// Statements slower than this many milliseconds are logged.
    #[arg(long, env = "REELPLAN_SLOW_QUERY_MS",
          default_value_t = millis(DEFAULTS.database.slow_statement))]
    pub slow_query_ms: u64,
}

/// Flags of `serve`.
#[derive(Args, Clone)]
pub struct ServeArgs {
    /// Port to listen on.
    #[arg(long, env = "PORT", default_value_t = 8080)]
    pub port: u16,
    /// Address to bind.
    #[arg(long, env = "REELPLAN_BIND", default_value = "0.0.0.0")]
    pub bind: std::net::IpAddr,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Token signing secret, at least 32 bytes (default: generated into the data folder).
    #[arg(long, env = "REELPLAN_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Token lifetime in seconds.
    #[arg(long, env = "REELPLAN_TOKEN_TTL_SECS",
          default_value_t = DEFAULTS.auth.token_ttl.as_secs())]
    pub token_ttl_secs: u64,
    /// argon2id memory cost in KiB.
    #[arg(long, env = "REELPLAN_ARGON2_MEMORY_KIB",
          default_value_t = DEFAULTS.auth.password_cost.memory_kib)]
    pub argon2_memory_kib: u32,
    /// argon2id passes.
    #[arg(long, env = "REELPLAN_ARGON2_ITERATIONS",
          default_value_t = DEFAULTS.auth.password_cost.iterations)]
    pub argon2_iterations: u32,
    /// `off` sends every read to the database.
    #[arg(long, env = "REELPLAN_CACHE", value_enum,
          default_value_t = Switch::from(DEFAULTS.cache.enabled))]
    pub cache: Switch,
    /// L1 (in-process) cache budget in MiB.
    #[arg(long, env = "REELPLAN_CACHE_L1_MIB",
          default_value_t = DEFAULTS.cache.l1_bytes / MIB)]
    pub cache_l1_mib: u64,
    /// KiB one cached value may weigh at most; heavier ones are served but not cached.
    #[arg(long, env = "REELPLAN_CACHE_MAX_VALUE_KIB",
          default_value_t = DEFAULTS.cache.max_value_bytes / 1024)]
    pub cache_max_value_kib: usize,
    /// `redis://host:port` for the shared L2 tier.
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: Option<String>,
    /// Milliseconds one Redis operation may take before the cache is bypassed.
    #[arg(long, env = "REELPLAN_REDIS_TIMEOUT_MS",
          default_value_t = millis(DEFAULTS.cache.redis_timeout))]
    pub redis_timeout_ms: u64,
    /// Prefix of this deployment's Redis keys, before the database's deployment id
    /// (default `rp`).
    #[arg(long, env = "REELPLAN_REDIS_NAMESPACE")]
    pub redis_namespace: Option<String>,
    /// Milliseconds a write keeps retrying an invalidation Redis refused before it answers.
    #[arg(long, env = "REELPLAN_REDIS_BUMP_DEADLINE_MS",
          default_value_t = millis(DEFAULTS.cache.bump_deadline))]
    pub redis_bump_deadline_ms: u64,
    /// TTL of cached user profiles, seconds.
    #[arg(long, env = "REELPLAN_TTL_USER_PROFILE",
          default_value_t = DEFAULTS.cache.ttls.user_profile.as_secs())]
    pub ttl_user_profile: u64,
    /// TTL of cached project lists, seconds.
    #[arg(long, env = "REELPLAN_TTL_PROJECT_LIST",
          default_value_t = DEFAULTS.cache.ttls.project_list.as_secs())]
    pub ttl_project_list: u64,
    /// TTL of cached project details, seconds.
    #[arg(long, env = "REELPLAN_TTL_PROJECT_DETAIL",
          default_value_t = DEFAULTS.cache.ttls.project_detail.as_secs())]
    pub ttl_project_detail: u64,
    /// TTL of cached feedback thread pages, seconds.
    #[arg(long, env = "REELPLAN_TTL_FEEDBACK_THREAD",
          default_value_t = DEFAULTS.cache.ttls.feedback_thread.as_secs())]
    pub ttl_feedback_thread: u64,
    /// Where uploaded files live: `s3://bucket/prefix` (credentials, region and endpoint from
    /// the usual `AWS_*` variables) or `file:///path` (default: `<data dir>/objects`).
    #[arg(long, env = "REELPLAN_OBJECT_STORE")]
    pub object_store: Option<String>,
    /// Uploads larger than this many bytes are cut off with 413 (default 2 GiB).
    #[arg(long, env = "REELPLAN_MAX_UPLOAD_BYTES",
          default_value_t = DEFAULTS.objects.max_upload_bytes)]
    pub max_upload_bytes: u64,
    /// Memos one project may hold; more are 422.
    #[arg(long, env = "REELPLAN_MAX_MEMOS_PER_PROJECT",
          default_value_t = DEFAULTS.content.memos_per_project)]
    pub max_memos_per_project: u32,
    /// Files one project may hold, the video aside; more are 422.
    #[arg(long, env = "REELPLAN_MAX_FILES_PER_PROJECT",
          default_value_t = DEFAULTS.content.files_per_project)]
    pub max_files_per_project: u32,
    /// Seconds between two sweeps of objects no row names (0: never).
    #[arg(long, env = "REELPLAN_SWEEP_INTERVAL_SECS",
          default_value_t = DEFAULTS.objects.sweep.interval.as_secs())]
    pub sweep_interval_secs: u64,
    /// Objects younger than this many seconds are kept by the sweep, named or not.
    #[arg(long, env = "REELPLAN_SWEEP_MIN_AGE_SECS",
          default_value_t = DEFAULTS.objects.sweep.min_age.as_secs())]
    pub sweep_min_age_secs: u64,
    #[command(flatten)]
    pub hardening: HardeningArgs,
}

/// Load limits and security flags of `serve`.
#[derive(Args, Clone)]
pub struct HardeningArgs {
    /// Production refuses a missing, short or default secret.
    #[arg(long = "env", env = "REELPLAN_ENV", value_enum,
          default_value_t = Environment::from(DEFAULTS.security.production))]
    pub environment: Environment,
    /// Requests handled at once; more are shed with 503 `unavailable`.
    #[arg(long, env = "REELPLAN_MAX_CONCURRENT_REQUESTS",
          default_value_t = DEFAULTS.limits.max_concurrent_requests)]
    pub max_concurrent_requests: usize,
    /// Seconds one request may take before a 503 (uploads exempt).
    #[arg(long, env = "REELPLAN_REQUEST_TIMEOUT_SECS",
          default_value_t = DEFAULTS.limits.request_timeout.as_secs())]
    pub request_timeout_secs: u64,
    /// Seconds in-flight requests may take to finish after SIGTERM.
    #[arg(long, env = "REELPLAN_SHUTDOWN_GRACE_SECS",
          default_value_t = DEFAULTS.limits.shutdown_grace.as_secs())]
    pub shutdown_grace_secs: u64,
    /// Bearer token required by /metrics and /dashboard (unset: open).
    #[arg(long, env = "REELPLAN_OPS_TOKEN", hide_env_values = true)]
    pub ops_token: Option<String>,
    /// Comma-separated origins allowed by CORS (unset: CORS off).
    #[arg(long, env = "REELPLAN_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// Key login rate limits on the last X-Forwarded-For entry (only behind a trusted proxy).
    #[arg(long, env = "REELPLAN_TRUST_FORWARDED_FOR",
          default_value_t = DEFAULTS.security.trust_forwarded_for)]
    pub trust_forwarded_for: bool,
    /// Failed logins per minute for one email before 429 (0: no limit).
    #[arg(long, env = "REELPLAN_LOGIN_FAILURES_PER_EMAIL",
          default_value_t = DEFAULTS.security.login.per_email)]
    pub login_failures_per_email: u32,
    /// Failed logins per minute from one client address before 429 (0: no limit).
    #[arg(long, env = "REELPLAN_LOGIN_FAILURES_PER_ADDRESS",
          default_value_t = DEFAULTS.security.login.per_address)]
    pub login_failures_per_address: u32,
    /// Signups per minute from one client address before 429 (0: no limit).
    #[arg(long, env = "REELPLAN_SIGNUPS_PER_ADDRESS",
          default_value_t = DEFAULTS.security.login.signups_per_address)]
    pub signups_per_address: u32,
    /// Password hashes (signup, login) running at once; more answer 503 (default 2 x cores).
    #[arg(long, env = "REELPLAN_MAX_CONCURRENT_HASHES",
          default_value_t = DEFAULTS.auth.max_concurrent_hashes)]
    pub max_concurrent_hashes: usize,
    /// Uploads streaming at once, all users together; more answer 503.
    #[arg(long, env = "REELPLAN_MAX_CONCURRENT_UPLOADS",
          default_value_t = DEFAULTS.uploads.max_concurrent)]
    pub max_concurrent_uploads: usize,
    /// Uploads streaming at once for one user; more answer 503.
    #[arg(long, env = "REELPLAN_MAX_UPLOADS_PER_USER",
          default_value_t = DEFAULTS.uploads.max_per_user)]
    pub max_uploads_per_user: usize,
    /// Seconds an upload may send nothing before it is cut off.
    #[arg(long, env = "REELPLAN_UPLOAD_IDLE_TIMEOUT_SECS",
          default_value_t = DEFAULTS.uploads.idle_timeout.as_secs())]
    pub upload_idle_timeout_secs: u64,
    /// Slowest upload accepted, in bytes per second (0: no minimum).
    #[arg(long, env = "REELPLAN_UPLOAD_MIN_BYTES_PER_SEC",
          default_value_t = DEFAULTS.uploads.min_bytes_per_sec)]
    pub upload_min_bytes_per_sec: u64,
    /// Seconds a client has to send a complete request head.
    #[arg(long, env = "REELPLAN_HEADER_READ_TIMEOUT_SECS",
          default_value_t = DEFAULTS.limits.connections.header_read_timeout.as_secs())]
    pub header_read_timeout_secs: u64,
    /// Seconds a connection may stay open with no request and no byte moving.
    #[arg(long, env = "REELPLAN_KEEP_ALIVE_TIMEOUT_SECS",
          default_value_t = DEFAULTS.limits.connections.keep_alive_timeout.as_secs())]
    pub keep_alive_timeout_secs: u64,
    /// Open connections at most; one more is closed at once.
    #[arg(long, env = "REELPLAN_MAX_CONNECTIONS",
          default_value_t = DEFAULTS.limits.connections.max_connections)]
    pub max_connections: usize,
    /// Live-update streams open at once on this instance; more answer 503 (each holds a
    /// connection: raise --max-connections with it).
    #[arg(long, env = "REELPLAN_MAX_STREAMS", default_value_t = DEFAULTS.events.max_streams)]
    pub max_streams: usize,
    /// Live-update streams one user may hold open on this instance; more answer 429.
    #[arg(long, env = "REELPLAN_MAX_STREAMS_PER_USER",
          default_value_t = DEFAULTS.events.max_streams_per_user)]
    pub max_streams_per_user: usize,
    /// Hours the event log keeps an event, for replay and activity (at least 24).
    #[arg(long, env = "REELPLAN_EVENT_RETENTION_HOURS",
          default_value_t = DEFAULTS.events.retention.as_secs() / 3600)]
    pub event_retention_hours: u64,
}

impl HardeningArgs {
    fn apply(&self, config: &mut Config) -> anyhow::Result<()> {
        config.security.production = self.environment == Environment::Production;
        config.security.ops_token = self.ops_token.clone().filter(|t| !t.is_empty()).map(Secret);
        config.security.cors_origins = self
            .cors_origins
            .iter()
            .map(|o| o.trim().to_owned())
            .filter(|o| !o.is_empty())
            .collect();
        config.security.trust_forwarded_for = self.trust_forwarded_for;
        config.security.login.per_email = self.login_failures_per_email;
        config.security.login.per_address = self.login_failures_per_address;
        config.security.login.signups_per_address = self.signups_per_address;
        config.auth.max_concurrent_hashes = self.max_concurrent_hashes;
        config.uploads = UploadLimitsConfig {
            max_concurrent: self.max_concurrent_uploads,
            max_per_user: self.max_uploads_per_user,
            idle_timeout: Duration::from_secs(self.upload_idle_timeout_secs),
            min_bytes_per_sec: self.upload_min_bytes_per_sec,
        };
        config.limits.connections = ConnectionLimits {
            header_read_timeout: Duration::from_secs(self.header_read_timeout_secs),
            keep_alive_timeout: Duration::from_secs(self.keep_alive_timeout_secs),
            max_connections: self.max_connections,
        };
        config.limits.max_concurrent_requests = self.max_concurrent_requests;
        config.limits.request_timeout = Duration::from_secs(self.request_timeout_secs);
        config.limits.shutdown_grace = Duration::from_secs(self.shutdown_grace_secs);
        config.events.max_streams = self.max_streams;
        config.events.max_streams_per_user = self.max_streams_per_user;
        config.events.retention = Duration::from_secs(self.event_retention_hours.max(24) * 3600);
        Ok(())
    }
}

impl StoreArgs {
    fn apply(&self, config: &mut Config) {
        if let Some(url) = &self.database_url {
            config.database.url.clone_from(url);
        }
        config.database.pool_max = self.db_pool_max;
        config.database.acquire_timeout = Duration::from_millis(self.db_acquire_timeout_ms);
        config.database.statement_timeout = Duration::from_millis(self.db_statement_timeout_ms);
        config.database.slow_statement = Duration::from_millis(self.slow_query_ms);
    }
}

impl ServeArgs {
    fn config(&self) -> anyhow::Result<Config> {
        let mut config = Config::embedded(self.store.data_dir.clone());
        self.store.apply(&mut config);
        config.auth.jwt_secret = self.jwt_secret.clone().map(Secret);
        config.auth.token_ttl = Duration::from_secs(self.token_ttl_secs);
        config.auth.password_cost = PasswordCost {
            memory_kib: self.argon2_memory_kib,
            iterations: self.argon2_iterations,
            ..PasswordCost::default()
        };
        config.cache.enabled = self.cache == Switch::On;
        config.cache.l1_bytes = self.cache_l1_mib * MIB;
        config.cache.max_value_bytes = self.cache_max_value_kib * 1024;
        config.cache.redis_url.clone_from(&self.redis_url);
        config.cache.redis_timeout = Duration::from_millis(self.redis_timeout_ms);
        if let Some(prefix) = self.redis_namespace.clone().filter(|p| !p.is_empty()) {
            config.cache.namespace = prefix;
        }
        config.cache.bump_deadline = Duration::from_millis(self.redis_bump_deadline_ms);
        let ttls = &mut config.cache.ttls;
        ttls.user_profile = Duration::from_secs(self.ttl_user_profile);
        ttls.project_list = Duration::from_secs(self.ttl_project_list);
        ttls.project_detail = Duration::from_secs(self.ttl_project_detail);
        ttls.feedback_thread = Duration::from_secs(self.ttl_feedback_thread);
        config.objects.url = self.object_store.clone().filter(|url| !url.is_empty());
        config.objects.max_upload_bytes = self.max_upload_bytes;
        config.objects.sweep = SweepConfig {
            interval: Duration::from_secs(self.sweep_interval_secs),
            min_age: Duration::from_secs(self.sweep_min_age_secs),
        };
        config.content.memos_per_project = self.max_memos_per_project;
        config.content.files_per_project = self.max_files_per_project;
        self.hardening.apply(&mut config)?;
        Ok(config)
    }
}

/// Logs to stderr, text or JSON, filtered by `RUST_LOG` (default info).
pub fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// `reelplan serve`.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = args.config()?;
    let state = reelplan_server::build_state(&config).await?;
    let addr = SocketAddr::new(args.bind, args.port);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, backend = state.store.backend(), redis = state.cache.has_redis(), "reelplan listening");
    reelplan_server::serve(listener, state, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// `reelplan migrate`.
pub async fn migrate(args: StoreArgs) -> anyhow::Result<()> {
    let mut config = Config::embedded(args.data_dir.clone());
    args.apply(&mut config);
    let store = reelplan_server::open_store(&config.database).await?;
    store.migrate().await?;
    tracing::info!(backend = store.backend(), "migrations applied");
    Ok(())
}

/// `reelplan sweep`.
pub async fn sweep(args: SweepArgs) -> anyhow::Result<()> {
    let mut config = Config::embedded(args.store.data_dir.clone());
    args.store.apply(&mut config);
    config.objects.url = args.object_store.clone().filter(|url| !url.is_empty());
    let store = reelplan_server::open_store(&config.database).await?;
    store.migrate().await?;
    let objects = reelplan_server::objects::Objects::open(&config.objects, &config.data_dir)?;
    let min_age = Duration::from_secs(args.min_age_secs);
    let report = reelplan_server::sweep::sweep(&*store, &objects, min_age).await?;
    tracing::info!(
        objects = objects.description(),
        examined = report.examined,
        removed = report.removed,
        failed = report.failed,
        "sweep done"
    );
    anyhow::ensure!(report.failed == 0, "{} objects could not be removed", report.failed);
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

/// Flags of `seed`: where the data goes, and which dataset.
#[derive(Args, Clone)]
pub struct SeedArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub seed: reelplan_bench::SeedOptions,
}

/// `reelplan seed`.
pub async fn seed(args: SeedArgs) -> anyhow::Result<()> {
    let mut config = Config::embedded(args.store.data_dir.clone());
    args.store.apply(&mut config);
    let (store, bulk) = reelplan_server::open_bulk_loader(&config.database).await?;
    let report = reelplan_bench::seed::seed(store.as_ref(), bulk.as_ref(), &args.seed).await?;
    println!("{report}");
    Ok(())
}

/// `reelplan loadtest`: fails on any stale read, 5xx or transport error.
pub async fn loadtest(options: reelplan_bench::LoadtestOptions) -> anyhow::Result<()> {
    let report = reelplan_bench::loadtest::run(&options).await?;
    println!("{report}");
    anyhow::ensure!(
        !report.failed(),
        "{} stale reads, {} 5xx or transport errors",
        report.stale_reads,
        report.server_errors
    );
    Ok(())
}

/// `reelplan streams`: prints its report, then fails on a stream that did not open or was
/// dropped, a missed or doubled event, or a refused write.
pub async fn streams(options: reelplan_bench::StreamsOptions) -> anyhow::Result<()> {
    let report = reelplan_bench::streams::run(&options).await?;
    println!("{report}");
    anyhow::ensure!(
        !report.failed(),
        "{} of {} streams open, {} dropped, {} deliveries missed, {} duplicates, {} writes refused",
        report.opened,
        report.requested,
        report.dropped,
        report.deliveries.own_missed,
        report.deliveries.duplicates,
        report.writes.failed.values().sum::<u64>()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serve_config(args: &[&str]) -> Config {
        let cli = Cli::try_parse_from(std::iter::once("reelplan").chain(args.iter().copied()))
            .expect("flags parse");
        cli.serve.config().expect("config")
    }

    /// With no flag and no variable, the flags give exactly the typed config's defaults: each
    /// default is written once, in the config, and the flags cannot drift from it.
    #[test]
    fn the_flags_default_to_the_configs_defaults() {
        use clap::{CommandFactory, FromArgMatches};
        // The environment is ignored (CI sets DATABASE_URL and REDIS_URL).
        let command = Cli::command().mut_args(|arg| arg.env(None));
        let matches = command.try_get_matches_from(["reelplan"]).expect("no flags parse");
        let cli = Cli::from_arg_matches(&matches).expect("matches");
        let parsed = cli.serve.config().expect("the defaults are valid");
        assert_eq!(format!("{parsed:?}"), format!("{:?}", *DEFAULTS));
    }

    #[test]
    fn flags_reach_the_typed_config() {
        let config = serve_config(&[
            "--object-store",
            "file:///srv/objects",
            "--max-upload-bytes",
            "1000",
            "--cache",
            "off",
            "--ttl-feedback-thread",
            "7",
        ]);
        assert_eq!(config.objects.url.as_deref(), Some("file:///srv/objects"));
        assert_eq!(config.objects.max_upload_bytes, 1000);
        assert!(!config.cache.enabled);
        assert_eq!(config.cache.ttls.feedback_thread, Duration::from_secs(7));
    }

    #[test]
    fn defaults_are_safe() {
        // DATABASE_URL and REDIS_URL are left out: CI sets them for the whole run.
        let config = serve_config(&[]);
        assert_eq!(config.objects.url, None);
        assert_eq!(config.objects.max_upload_bytes, 2 * 1024 * 1024 * 1024);
        assert_eq!(config.database.pool_max, 10);
        assert!(config.cache.enabled && !config.security.production);
        let built_in = Config::embedded(config.data_dir.clone());
        assert_eq!(config.uploads, built_in.uploads, "one default, in the server crate");
        assert_eq!(config.limits.connections, built_in.limits.connections);
        assert_eq!(config.security.login, built_in.security.login);
        assert_eq!(config.auth.max_concurrent_hashes, built_in.auth.max_concurrent_hashes);
    }

    #[test]
    fn hardening_flags_reach_the_typed_config() {
        let config = serve_config(&[
            "--max-concurrent-uploads=3",
            "--max-uploads-per-user=1",
            "--upload-idle-timeout-secs=5",
            "--upload-min-bytes-per-sec=100",
            "--header-read-timeout-secs=2",
            "--keep-alive-timeout-secs=7",
            "--max-connections=50",
            "--max-concurrent-hashes=9",
            "--signups-per-address=4",
        ]);
        let uploads = config.uploads;
        assert_eq!((uploads.max_concurrent, uploads.max_per_user), (3, 1));
        assert_eq!(uploads.idle_timeout, Duration::from_secs(5));
        assert_eq!(uploads.min_bytes_per_sec, 100);
        let connections = config.limits.connections;
        assert_eq!(connections.header_read_timeout, Duration::from_secs(2));
        assert_eq!(connections.keep_alive_timeout, Duration::from_secs(7));
        assert_eq!(connections.max_connections, 50);
        assert_eq!(config.auth.max_concurrent_hashes, 9);
        assert_eq!(config.security.login.signups_per_address, 4);
    }

    #[test]
    fn a_bad_cache_switch_or_environment_is_refused_by_the_parser() {
        for args in [["reelplan", "--cache", "maybe"], ["reelplan", "--env", "prod"]] {
            let error = Cli::try_parse_from(args).err().expect("refused");
            assert_eq!(error.kind(), clap::error::ErrorKind::InvalidValue, "{args:?}");
        }
        let production = Cli::try_parse_from(["reelplan", "--env", "production", "--cache", "off"]);
        let config = production.expect("flags parse").serve.config().expect("config");
        assert!(config.security.production && !config.cache.enabled);
    }
}
