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
    /// Pool size (PostgreSQL default 10: 2 cores rarely benefit from more).
    pub pool_max: u32,
    /// How long a request waits for a connection before answering 503.
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
}

impl Config {
    /// The embedded default rooted at `data_dir`.
    pub fn embedded(data_dir: PathBuf) -> Self {
        let url = format!("sqlite://{}", data_dir.join("reelplan.db").display());
        Config {
            database: DatabaseConfig {
                url,
                pool_max: 10,
                acquire_timeout: Duration::from_secs(2),
                statement_timeout: Duration::from_secs(5),
                slow_statement: Duration::from_millis(500),
            },
            auth: AuthConfig {
                jwt_secret: None,
                token_ttl: Duration::from_secs(24 * 3600),
                password_cost: PasswordCost::default(),
            },
            cache: CacheConfig::default(),
            data_dir,
        }
    }
}
