//! Typed configuration, one struct per concern. The binary fills it from flags and
//! environment variables (all listed in the README); every field has a safe default.

use std::path::PathBuf;
use std::time::Duration;

use reelplan_cache::CacheConfig;

use crate::auth::PasswordCost;

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
    pub sweep: crate::sweep::SweepConfig,
}

impl Default for ObjectsConfig {
    fn default() -> Self {
        ObjectsConfig {
            url: None,
            max_upload_bytes: 2 * 1024 * 1024 * 1024,
            sweep: crate::sweep::SweepConfig::default(),
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
    pub limits: crate::limits::LimitsConfig,
    /// Upload concurrency (global and per user), idle timeout and minimum rate.
    pub uploads: crate::uploads::UploadLimitsConfig,
    /// Production mode, ops token, CORS, login limits.
    pub security: crate::security::SecurityConfig,
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
                max_concurrent_hashes: crate::auth::default_max_concurrent_hashes(),
            },
            cache: CacheConfig::default(),
            objects: ObjectsConfig::default(),
            content: ContentConfig::default(),
            limits: crate::limits::LimitsConfig::default(),
            uploads: crate::uploads::UploadLimitsConfig::default(),
            security: crate::security::SecurityConfig::default(),
            data_dir,
        }
    }
}
