//! The server's own Redis calls, beside the cache's (login budgets, stream tickets, event
//! publishing): how their connections are made and how a failed call is counted and logged.

use std::future::Future;
use std::time::Duration;

use redis::aio::ConnectionManager;

/// Every `op` label the server's own failed Redis calls are counted under in
/// `reelplan_redis_errors_total` (the cache's are `reelplan_cache::REDIS_OPERATIONS`).
pub const OPERATIONS: [&str; 3] = [
    crate::ratelimit::REDIS_OPERATION,
    crate::events::TICKETS_OPERATION,
    crate::events::LINK_OPERATION,
];

/// A lazily connected, multiplexed connection to `client`'s Redis whose every call gives up
/// after `timeout`, retried once.
pub fn connect(client: redis::Client, timeout: Duration) -> redis::RedisResult<ConnectionManager> {
    let config = redis::aio::ConnectionManagerConfig::new()
        .set_connection_timeout(Some(timeout))
        .set_response_timeout(Some(timeout))
        .set_number_of_retries(1);
    ConnectionManager::new_lazy_with_config(client, config)
}

/// Counts a failed call under `op` and logs `what` with the error.
pub fn failed(op: &'static str, what: &str, error: &dyn std::fmt::Display) {
    metrics::counter!("reelplan_redis_errors_total", "op" => op).increment(1);
    tracing::warn!(op, error = %error, "{what}");
}

/// `call`'s value, or None when it fails or takes longer than `timeout` (counted under `op`,
/// logged as `what`).
pub async fn exchange<T>(
    op: &'static str,
    timeout: Duration,
    what: &str,
    call: impl Future<Output = redis::RedisResult<T>>,
) -> Option<T> {
    match tokio::time::timeout(timeout, call).await {
        Ok(Ok(value)) => Some(value),
        Ok(Err(error)) => {
            failed(op, what, &error);
            None
        }
        Err(_) => {
            failed(op, what, &"timed out");
            None
        }
    }
}
