//! Building the state from configuration, and serving.

use std::future::{Future, IntoFuture};
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

/// The signing secret: configured, or generated once and kept in the data folder.
fn jwt_secret(config: &Config) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = &config.auth.jwt_secret {
        anyhow::ensure!(secret.0.len() >= 32, "REELPLAN_JWT_SECRET must be at least 32 bytes");
        return Ok(secret.0.as_bytes().to_vec());
    }
    let path = config.data_dir.join("jwt_secret");
    if let Ok(secret) = std::fs::read_to_string(&path) {
        return Ok(secret.trim().as_bytes().to_vec());
    }
    let secret: String = (0..32).map(|_| format!("{:02x}", rand::random::<u8>())).collect();
    write_private(&path, &secret).with_context(|| format!("cannot write {}", path.display()))?;
    tracing::info!(path = %path.display(), "generated a token signing secret (set REELPLAN_JWT_SECRET to use your own)");
    Ok(secret.into_bytes())
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents.as_bytes())
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
    let auth = Auth::new(&secret, config.auth.token_ttl, config.auth.password_cost)?;
    let cache = Cache::new(config.cache.clone()).context("bad REDIS_URL")?;
    let objects = crate::objects::Objects::open(&config.objects, &config.data_dir)?;
    Ok(AppState::new(crate::state::Shared {
        store,
        cache,
        objects,
        auth: Arc::new(auth),
        n_plus_one_warnings: Default::default(),
        live: Default::default(),
        limits: Arc::new(crate::limits::Limits::new(config.limits)),
        login_limiter: Arc::new(crate::ratelimit::LoginLimiter::new(config.security.login)),
        security: Arc::new(config.security.clone()),
    }))
}

/// Serves the app on `listener` until `shutdown` resolves; then stops accepting, lets
/// in-flight requests finish for up to the shutdown grace (`REELPLAN_SHUTDOWN_GRACE_SECS`),
/// and closes the database pool. Client addresses reach the handlers (`ConnectInfo`) for
/// login rate limiting.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let grace = state.limits.config.shutdown_grace;
    let store = state.store.clone();
    let app =
        crate::routes::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let signalled = Arc::new(tokio::sync::Notify::new());
    let notify = signalled.clone();
    let signal = async move {
        shutdown.await;
        notify.notify_one();
    };
    let server = axum::serve(listener, app).with_graceful_shutdown(signal).into_future();
    let result = tokio::select! {
        result = server => result,
        () = async { signalled.notified().await; tokio::time::sleep(grace).await } => {
            tracing::warn!(grace_secs = grace.as_secs_f64(), "shutdown grace over; dropping the requests still in flight");
            Ok(())
        }
    };
    store.close().await;
    result
}
