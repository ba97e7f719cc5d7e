//! Building the state from configuration, and serving.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use reelplan_cache::Cache;
use reelplan_store::bulk::BulkLoad;
use reelplan_store::Store;
use reelplan_store_postgres::PgOptions;
use reelplan_store_sqlite::SqliteStore;
use tokio::net::TcpListener;

use crate::auth::Auth;
use crate::config::{Config, DatabaseConfig};
use crate::state::AppState;

/// Opens the configured database: the one place the backend is chosen, by URL scheme.
pub async fn open_store(config: &DatabaseConfig) -> anyhow::Result<Arc<dyn Store>> {
    Ok(open_backend(config).await?.0)
}

/// Opens the configured database for `reelplan seed`: the store of [`open_store`] and the same
/// value seen as [`BulkLoad`]. A sibling rather than a `Store::bulk()` capability method, so the
/// per-request trait stays about requests while the backend is still chosen by one match.
pub async fn open_bulk_loader(
    config: &DatabaseConfig,
) -> anyhow::Result<(Arc<dyn Store>, Arc<dyn BulkLoad>)> {
    open_backend(config).await
}

async fn open_backend(
    config: &DatabaseConfig,
) -> anyhow::Result<(Arc<dyn Store>, Arc<dyn BulkLoad>)> {
    let scheme = config.url.split_once("://").map(|(scheme, _)| scheme);
    match scheme {
        Some("postgres" | "postgresql") => {
            let options = PgOptions {
                max_connections: config.pool_max,
                acquire_timeout: config.acquire_timeout,
                statement_timeout: config.statement_timeout,
            };
            let store = Arc::new(reelplan_store_postgres::connect(&config.url, options).await?);
            Ok((store.clone(), store))
        }
        Some("sqlite") => {
            let store = Arc::new(SqliteStore::open(&config.url, config.pool_max).await?);
            Ok((store.clone(), store))
        }
        _ => anyhow::bail!("DATABASE_URL must start with postgres:// or sqlite://"),
    }
}

/// The shortest signing secret accepted, from the variable or the generated file (HS256 wants
/// a key at least as long as its 256-bit hash).
pub const MIN_SECRET_BYTES: usize = 32;

/// The signing secret: configured, or generated once and kept in the data folder.
fn jwt_secret(config: &Config) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = &config.auth.jwt_secret {
        anyhow::ensure!(
            secret.0.len() >= MIN_SECRET_BYTES,
            "REELPLAN_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes"
        );
        return Ok(secret.0.as_bytes().to_vec());
    }
    secret_file(&config.data_dir.join("jwt_secret"))
}

/// Reads the secret kept at `path`, generating it first when there is none. The file is
/// written whole under a temporary name (0600, synced) and then linked into place, which
/// fails if another instance got there first: concurrent first starts then all use the one
/// secret that won, and no start ever reads a half-written file. A file holding fewer than
/// [`MIN_SECRET_BYTES`] (an empty one included) refuses the start rather than signing tokens
/// with a guessable key.
pub fn secret_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    let read = |path: &Path| -> anyhow::Result<Option<Vec<u8>>> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => {
                return Err(error).with_context(|| format!("cannot read {}", path.display()))
            }
        };
        let secret = bytes.trim_ascii().to_vec();
        anyhow::ensure!(
            secret.len() >= MIN_SECRET_BYTES,
            "the token signing secret in {} is {} bytes, under the {MIN_SECRET_BYTES} required; \
             delete the file to have a new one generated (every token signed so far becomes \
             invalid), or set REELPLAN_JWT_SECRET",
            path.display(),
            secret.len()
        );
        Ok(Some(secret))
    };
    if let Some(secret) = read(path)? {
        return Ok(secret);
    }
    let secret: String = (0..32).map(|_| format!("{:02x}", rand::random::<u8>())).collect();
    let written = write_private_once(path, &secret)
        .with_context(|| format!("cannot write {}", path.display()))?;
    if written {
        tracing::info!(path = %path.display(), "generated a token signing secret (set REELPLAN_JWT_SECRET to use your own)");
        return Ok(secret.into_bytes());
    }
    read(path)?.with_context(|| format!("{} vanished while starting", path.display()))
}

/// Writes `contents` to `path` atomically unless `path` already exists; false when it did.
fn write_private_once(path: &Path, contents: &str) -> std::io::Result<bool> {
    use std::io::Write;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temp =
        dir.join(format!(".{name}.{}.{:016x}.tmp", std::process::id(), rand::random::<u64>()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let outcome = (|| {
        let mut file = options.open(&temp)?;
        file.write_all(contents.as_bytes())?;
        file.sync_all()?;
        // A link, not a rename: a rename would replace a secret another start already uses.
        match std::fs::hard_link(&temp, path) {
            Ok(()) => Ok(true),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(error) => Err(error),
        }
    })();
    let _ = std::fs::remove_file(&temp);
    if outcome.as_ref().is_ok_and(|written| *written) {
        // The new name must survive a crash too.
        std::fs::File::open(dir).and_then(|d| d.sync_all())?;
    }
    outcome
}

/// Opens the store, runs migrations, and builds the cache (namespaced by the database's
/// deployment id, see [`deployment_namespace`]) and auth.
pub async fn build_state(config: &Config) -> anyhow::Result<AppState> {
    let store = open_store(&config.database).await?;
    store.migrate().await.context("migrations failed")?;
    let mut config = config.clone();
    config.cache.namespace = deployment_namespace(&config.cache.namespace, &*store).await?;
    state_with_store(store, &config)
}

/// `<prefix>:<deployment id>`: the Redis namespace of the deployment whose database this is.
/// Two deployments sharing one Redis, or a database created anew under a warm Redis, then never
/// read each other's values (a database restored from a backup keeps its id: give it a new
/// prefix, or flush the cache).
pub async fn deployment_namespace(prefix: &str, store: &dyn Store) -> anyhow::Result<String> {
    let id = store.deployment_id().await.context("cannot read the deployment id")?;
    Ok(format!("{prefix}:{id}"))
}

/// Builds the state around an open, migrated store (tests bring their own).
pub fn state_with_store(store: Arc<dyn Store>, config: &Config) -> anyhow::Result<AppState> {
    reelplan_store::stats::set_slow_statement_threshold(config.database.slow_statement);
    crate::telemetry::prometheus();
    crate::security::check_secret_policy(config)?;
    let secret = jwt_secret(config)?;
    let auth = Auth::new(
        &secret,
        config.auth.token_ttl,
        config.auth.password_cost,
        config.auth.max_concurrent_hashes,
    )?;
    let cache = Cache::new(config.cache.clone()).context("bad REDIS_URL")?;
    let objects = crate::objects::Objects::open(&config.objects, &config.data_dir)?;
    let shared_budgets = match &config.cache.redis_url {
        Some(url) => Some(
            crate::ratelimit::SharedBudgets::new(
                url,
                &config.cache.namespace,
                config.cache.redis_timeout,
            )
            .context("bad REDIS_URL")?,
        ),
        None => None,
    };
    let login_limiter = crate::ratelimit::LoginLimiter::new(config.security.login, shared_budgets);
    let events = events_hub(config).context("bad REDIS_URL")?;
    events.start(store.clone());
    Ok(AppState::new(crate::state::Shared {
        store,
        cache,
        objects,
        content: config.content,
        sweep: config.objects.sweep,
        auth: Arc::new(auth),
        n_plus_one_warnings: Default::default(),
        live: Default::default(),
        limits: Arc::new(crate::limits::Limits::new(config.limits)),
        uploads: Arc::new(crate::uploads::UploadSlots::new(config.uploads)),
        login_limiter: Arc::new(login_limiter),
        security: Arc::new(config.security.clone()),
        events,
    }))
}

/// The live-update hub: linked to the other instances through Redis when it is configured.
fn events_hub(config: &Config) -> redis::RedisResult<Arc<crate::events::Hub>> {
    let (link, tickets) = match &config.cache.redis_url {
        Some(url) => {
            let (namespace, timeout) = (&config.cache.namespace, config.cache.redis_timeout);
            (
                Some(crate::events::RedisLink::new(url, namespace, timeout)?),
                crate::events::Tickets::shared(url, namespace, timeout)?,
            )
        }
        None => (None, crate::events::Tickets::local()),
    };
    Ok(crate::events::Hub::new(config.events, link, tickets))
}

/// Serves the app on `listener` until `shutdown` resolves; then stops accepting, ends the
/// live-update streams (their clients reconnect elsewhere with `Last-Event-ID`), lets
/// in-flight requests finish for up to the shutdown grace (`REELPLAN_SHUTDOWN_GRACE_SECS`),
/// and closes the database pool. Connections have a header-read timeout, a keep-alive idle
/// timeout and a maximum count ([`crate::listener`]); client addresses reach the handlers
/// (`ConnectInfo`) for rate limiting. Objects no row names are swept periodically
/// ([`crate::sweep`]).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let grace = state.limits.config.shutdown_grace;
    let connections = state.limits.config.connections;
    let store = state.store.clone();
    let sweeper = crate::sweep::spawn_periodic(store.clone(), state.objects.clone(), state.sweep);
    let pruner = crate::events::spawn_pruning(store.clone(), state.events.config);
    let events = state.events.clone();
    let app = crate::routes::router(state);
    let signalled = Arc::new(tokio::sync::Notify::new());
    let notify = signalled.clone();
    let signal = async move {
        shutdown.await;
        // Streams never finish by themselves: end them, so the grace waits for requests only.
        events.close_streams();
        notify.notify_one();
    };
    let server = crate::listener::run(listener, app, connections, signal);
    tokio::select! {
        () = server => {}
        () = async { signalled.notified().await; tokio::time::sleep(grace).await } => {
            tracing::warn!(grace_secs = grace.as_secs_f64(), "shutdown grace over; dropping the requests still in flight");
        }
    }
    if let Some(sweeper) = sweeper {
        sweeper.abort();
    }
    pruner.abort();
    store.close().await;
    Ok(())
}
