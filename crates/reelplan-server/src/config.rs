//! Typed configuration, one struct per concern, each default written here once. The binary
//! fills it from flags and environment variables (all listed in the README), taking its
//! defaults from [`Config::embedded`]. A leaf: the modules that act on a setting import it
//! from here, never the other way round.

use std::path::PathBuf;
use std::time::Duration;

use reelplan_cache::CacheConfig;

/// Request bodies over this are refused with 413 (uploads, which stream, have their own
/// limit: [`ObjectsConfig::max_upload_bytes`]).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A secret that never shows in `Debug` output or logs.
#[derive(Clone, Default)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The database.
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// `sqlite://path` or `postgres://...`.
    pub url: String,
    /// Pool size (`REELPLAN_DB_POOL_MAX`, default 10). Sized for 2 cores: the classic
    /// `cores * 2 + spindles` gives about 5 busy connections for a 2-core database; with most
    /// reads served from the cache and writes of at most 3 short statements, 10 leaves room
    /// for connections waiting on the network without queueing inside PostgreSQL. With several
    /// instances keep `pool_max * instances` under 80% of the server's `max_connections`.
    pub pool_max: u32,
    /// How long a request waits for a connection before answering 503 (default 1.5 s, so an
    /// unreachable database answers 503 within the contract's 2 s).
    pub acquire_timeout: Duration,
    /// PostgreSQL statement timeout.
    pub statement_timeout: Duration,
    /// Statements slower than this are logged.
    pub slow_statement: Duration,
}

/// Tokens and passwords.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// HS256 signing secret; None: generated once and kept in the data folder.
    pub jwt_secret: Option<Secret>,
    /// Token lifetime.
    pub token_ttl: Duration,
    /// argon2id cost.
    pub password_cost: PasswordCost,
    /// Password hashes running at once (`REELPLAN_MAX_CONCURRENT_HASHES`, default 2 x cores);
    /// a signup or login finding them all busy answers 503.
    pub max_concurrent_hashes: usize,
}

/// Uploaded files and the feedback video.
#[derive(Debug, Clone)]
pub struct ObjectsConfig {
    /// Where objects live: `s3://bucket/prefix` for an S3-compatible bucket (credentials,
    /// region and endpoint from the usual `AWS_*` variables, e.g. `AWS_ENDPOINT_URL` and
    /// `AWS_ALLOW_HTTP`), `file:///path` for a folder; None: `<data_dir>/objects`.
    pub url: Option<String>,
    /// Uploads larger than this are cut off with 413 (default 2 GiB).
    pub max_upload_bytes: u64,
    /// The sweep of objects no row names.
    pub sweep: SweepConfig,
}

impl Default for ObjectsConfig {
    fn default() -> Self {
        ObjectsConfig {
            url: None,
            max_upload_bytes: 2 * 1024 * 1024 * 1024,
            sweep: SweepConfig::default(),
        }
    }
}

/// How much one project may hold, so no detail document (every member's read) grows without
/// bound: past a cap the write is 422 `validation`.
#[derive(Debug, Clone, Copy)]
pub struct ContentConfig {
    /// Memos per project (default 1,000).
    pub memos_per_project: u32,
    /// Files per project, the video aside (default 1,000).
    pub files_per_project: u32,
}

impl Default for ContentConfig {
    fn default() -> Self {
        ContentConfig { memos_per_project: 1000, files_per_project: 1000 }
    }
}

/// Everything the server needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the embedded database, the generated secret and (later) files live.
    pub data_dir: PathBuf,
    /// The database.
    pub database: DatabaseConfig,
    /// Tokens and passwords.
    pub auth: AuthConfig,
    /// The cache.
    pub cache: CacheConfig,
    /// Uploaded files and the feedback video.
    pub objects: ObjectsConfig,
    /// How many memos and files a project may hold.
    pub content: ContentConfig,
    /// Concurrency limit, request timeout, shutdown grace.
    pub limits: LimitsConfig,
    /// Upload concurrency (global and per user), idle timeout and minimum rate.
    pub uploads: UploadLimitsConfig,
    /// Production mode, ops token, CORS, login limits.
    pub security: SecurityConfig,
    /// Live update streams.
    pub events: EventsConfig,
}

impl Config {
    /// The embedded default rooted at `data_dir`.
    pub fn embedded(data_dir: PathBuf) -> Self {
        let url = format!("sqlite://{}", data_dir.join("reelplan.db").display());
        Config {
            database: DatabaseConfig {
                url,
                pool_max: 10,
                acquire_timeout: Duration::from_millis(1500),
                statement_timeout: Duration::from_secs(5),
                slow_statement: Duration::from_millis(500),
            },
            auth: AuthConfig {
                jwt_secret: None,
                token_ttl: Duration::from_secs(24 * 3600),
                password_cost: PasswordCost::default(),
                max_concurrent_hashes: default_max_concurrent_hashes(),
            },
            cache: CacheConfig::default(),
            objects: ObjectsConfig::default(),
            content: ContentConfig::default(),
            limits: LimitsConfig::default(),
            uploads: UploadLimitsConfig::default(),
            security: SecurityConfig::default(),
            events: EventsConfig::default(),
            data_dir,
        }
    }
}

/// Live update streams (`GET /api/events`): how many, how far behind, how much replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventsConfig {
    /// Open streams per instance at most (503 past it).
    pub max_streams: usize,
    /// Open streams per user at most (429 past it): one user's tabs cannot take them all.
    pub max_streams_per_user: usize,
    /// Events a stream may have waiting to be written: a client that reads slower than this
    /// is closed, and its reconnect with `Last-Event-ID` replays from the log.
    pub backlog: usize,
    /// Events a stream replays at most on reconnect; more means `event: reset`.
    pub replay_limit: u32,
    /// Between keep-alive comments.
    pub keep_alive: std::time::Duration,
    /// How long the event log keeps an event (at least a day, API.md's promise; default a
    /// week): replay reaches that far back, activity too.
    pub retention: std::time::Duration,
}

impl Default for EventsConfig {
    fn default() -> Self {
        EventsConfig {
            max_streams: 20_000,
            max_streams_per_user: 16,
            backlog: 256,
            replay_limit: 1000,
            keep_alive: std::time::Duration::from_secs(15),
            retention: std::time::Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// Load limits, from `REELPLAN_MAX_CONCURRENT_REQUESTS`, `REELPLAN_REQUEST_TIMEOUT_SECS` and
/// `REELPLAN_SHUTDOWN_GRACE_SECS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitsConfig {
    /// Requests handled at once; more are answered 503 at once (default 256: with a pool of 10
    /// connections and a 1.5 s acquire timeout, more in flight would only wait to fail).
    pub max_concurrent_requests: usize,
    /// How long one request may take to produce its response before a 503 (default 10 s;
    /// uploads, which stream up to their own size limit, are exempt).
    pub request_timeout: Duration,
    /// After SIGTERM, how long in-flight requests may take to finish before the server exits
    /// anyway (default 20 s, inside the usual 30 s an orchestrator waits before SIGKILL).
    pub shutdown_grace: Duration,
    /// Header-read timeout, keep-alive idle timeout and maximum open connections.
    pub connections: ConnectionLimits,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_concurrent_requests: 256,
            request_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(20),
            connections: ConnectionLimits::default(),
        }
    }
}

/// Connection limits of the listener: how long a request head may take to arrive, how long an
/// idle keep-alive connection stays open, and how many connections are open at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Time to send a complete request head (default 10 s).
    pub header_read_timeout: Duration,
    /// Time a connection may sit with no request running and no byte moving (default 60 s).
    pub keep_alive_timeout: Duration,
    /// Open connections at most (default 1000, under the usual limit of 1024 descriptors).
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_read_timeout: Duration::from_secs(10),
            keep_alive_timeout: Duration::from_secs(60),
            max_connections: 1000,
        }
    }
}

/// Upload limits: uploads hold their own slots (outside the request limit), globally and per
/// user, and are cut off when idle too long or slower than a minimum rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadLimitsConfig {
    /// Uploads streaming at once, all users together (default 16: each holds up to about
    /// 15 MiB of parts in flight, see `objects.rs`).
    pub max_concurrent: usize,
    /// Uploads streaming at once for one user (default 4).
    pub max_per_user: usize,
    /// Longest wait for the next body chunk (default 30 s).
    pub idle_timeout: Duration,
    /// Slowest accepted transfer rate, bytes per second of waiting (default 4096; 0: off).
    pub min_bytes_per_sec: u64,
}

impl Default for UploadLimitsConfig {
    fn default() -> Self {
        UploadLimitsConfig {
            max_concurrent: 16,
            max_per_user: 4,
            idle_timeout: Duration::from_secs(30),
            min_bytes_per_sec: 4096,
        }
    }
}

/// When the sweep runs and what it removes.
#[derive(Debug, Clone, Copy)]
pub struct SweepConfig {
    /// Time between two sweeps of `serve` (`REELPLAN_SWEEP_INTERVAL_SECS`, default an hour;
    /// zero: never).
    pub interval: Duration,
    /// Objects younger than this are kept, row or not (`REELPLAN_SWEEP_MIN_AGE_SECS`, default
    /// an hour).
    pub min_age: Duration,
}

impl Default for SweepConfig {
    fn default() -> Self {
        SweepConfig { interval: Duration::from_secs(3600), min_age: Duration::from_secs(3600) }
    }
}

/// Security settings, from `REELPLAN_ENV`, `REELPLAN_OPS_TOKEN`, `REELPLAN_CORS_ORIGINS`,
/// `REELPLAN_TRUST_FORWARDED_FOR` and the login limits.
#[derive(Debug, Clone, Default)]
pub struct SecurityConfig {
    /// `REELPLAN_ENV=production`: refuse to start with a missing, short or well-known secret.
    pub production: bool,
    /// When set, `/metrics` and `/dashboard` need `Authorization: Bearer <token>` (or
    /// `?token=<token>`, for a browser opening the dashboard).
    pub ops_token: Option<Secret>,
    /// Origins allowed to call the API from a browser (exact `scheme://host[:port]`); empty:
    /// CORS is off and browsers keep other origins out.
    pub cors_origins: Vec<String>,
    /// Take the client address of rate limiting from the last `X-Forwarded-For` entry (set
    /// only behind a proxy that appends it; otherwise clients could pick their own address).
    pub trust_forwarded_for: bool,
    /// Failed logins allowed per email and per client address.
    pub login: LoginLimitConfig,
}

/// Login and signup budgets (`REELPLAN_LOGIN_FAILURES_PER_EMAIL`, `..._PER_ADDRESS`,
/// `REELPLAN_SIGNUPS_PER_ADDRESS`); 0 turns that limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimitConfig {
    /// Failed logins per period for one email (default 5).
    pub per_email: u32,
    /// Failed logins per period from one client address (default 20).
    pub per_address: u32,
    /// Signups per period from one client address (default 10).
    pub signups_per_address: u32,
    /// The period (default one minute).
    pub period: Duration,
}

impl Default for LoginLimitConfig {
    fn default() -> Self {
        LoginLimitConfig {
            per_email: 5,
            per_address: 20,
            signups_per_address: 10,
            period: Duration::from_secs(60),
        }
    }
}

/// argon2id cost parameters.
#[derive(Debug, Clone, Copy)]
pub struct PasswordCost {
    /// Memory in KiB (default 19,456: OWASP's recommendation).
    pub memory_kib: u32,
    /// Passes (default 2).
    pub iterations: u32,
    /// Lanes (default 1).
    pub parallelism: u32,
}

impl Default for PasswordCost {
    fn default() -> Self {
        PasswordCost { memory_kib: 19_456, iterations: 2, parallelism: 1 }
    }
}

/// Password hashes running at once by default: two per core.
pub fn default_max_concurrent_hashes() -> usize {
    2 * std::thread::available_parallelism().map_or(1, usize::from)
}
