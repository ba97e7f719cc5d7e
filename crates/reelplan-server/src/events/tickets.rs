//! Single-use stream tickets: a browser's `EventSource` cannot send an `Authorization` header,
//! so it trades its token for a ticket (valid 30 s) and opens `GET /api/events?ticket=`.
//!
//! A ticket is 32 random bytes. It is kept here and, with Redis, in Redis too (so the stream
//! may open on another instance); redeeming takes it from both, so it serves once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use redis::aio::ConnectionManager;
use reelplan_domain::UserId;

/// How long a ticket may wait to be redeemed.
pub const TICKET_TTL: Duration = Duration::from_secs(30);

/// Tickets held on this instance at most: past it, issuing waits for old ones to expire
/// (each costs a few dozen bytes; the cap bounds what a flood of requests can hold).
const MAX_HELD: usize = 100_000;

/// The `op` label of a failed ticket exchange in `reelplan_redis_errors_total`.
pub const TICKETS_OPERATION: &str = "event_ticket";

/// Issued tickets, here and in Redis.
pub struct Tickets {
    held: Mutex<HashMap<String, (UserId, Instant)>>,
    redis: Option<(ConnectionManager, String, Duration)>,
}

impl Tickets {
    /// Tickets of this instance alone.
    pub fn local() -> Self {
        Tickets { held: Mutex::default(), redis: None }
    }

    /// Tickets shared through the Redis at `url`, under `<namespace>:tk:`; each exchange
    /// gives up after `timeout`.
    pub fn shared(url: &str, namespace: &str, timeout: Duration) -> redis::RedisResult<Self> {
        let conn = crate::redis_conn::connect(redis::Client::open(url)?, timeout)?;
        let redis = Some((conn, format!("{namespace}:tk:"), timeout));
        Ok(Tickets { held: Mutex::default(), redis })
    }

    /// A new ticket for `user`; None when this instance holds too many already.
    pub async fn issue(&self, user: UserId) -> Option<String> {
        let ticket = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        {
            let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
            if held.len() >= MAX_HELD {
                let now = Instant::now();
                held.retain(|_, (_, expires)| *expires > now);
                if held.len() >= MAX_HELD {
                    return None;
                }
            }
            held.insert(ticket.clone(), (user, Instant::now() + TICKET_TTL));
        }
        if let Some((conn, prefix, timeout)) = &self.redis {
            let mut conn = conn.clone();
            let key = format!("{prefix}{ticket}");
            let mut set = redis::cmd("SET");
            set.arg(&key).arg(user.0).arg("EX").arg(TICKET_TTL.as_secs());
            exchange(*timeout, set.query_async::<()>(&mut conn)).await;
        }
        Some(ticket)
    }

    /// The user a ticket was issued to, once: None when it is unknown, expired or used.
    pub async fn redeem(&self, ticket: &str) -> Option<UserId> {
        if ticket.len() != 43
            || !ticket.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return None;
        }
        let here = self.held.lock().unwrap_or_else(|p| p.into_inner()).remove(ticket);
        let here = here.filter(|(_, expires)| *expires > Instant::now()).map(|(user, _)| user);
        let Some((conn, prefix, timeout)) = &self.redis else { return here };
        let mut conn = conn.clone();
        let key = format!("{prefix}{ticket}");
        let mut take = redis::cmd("GETDEL");
        take.arg(&key);
        let there = exchange(*timeout, take.query_async::<Option<i64>>(&mut conn)).await;
        let there = there.flatten().map(UserId);
        // Issued here, it is good even when Redis did not answer: the local copy is gone now.
        here.or(there)
    }
}

async fn exchange<T>(
    timeout: Duration,
    call: impl std::future::Future<Output = redis::RedisResult<T>>,
) -> Option<T> {
    let what = "event ticket exchange with Redis failed";
    crate::redis_conn::exchange(TICKETS_OPERATION, timeout, what, call).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_ticket_serves_once_and_only_its_user() {
        let tickets = Tickets::local();
        let ticket = tickets.issue(UserId(7)).await.unwrap();
        assert_eq!(tickets.redeem(&ticket).await, Some(UserId(7)));
        assert_eq!(tickets.redeem(&ticket).await, None);
        assert_eq!(tickets.redeem("not-a-ticket").await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_ticket_expires_after_thirty_seconds() {
        let tickets = Tickets::local();
        let ticket = tickets.issue(UserId(7)).await.unwrap();
        tokio::time::advance(TICKET_TTL + Duration::from_millis(1)).await;
        assert_eq!(tickets.redeem(&ticket).await, None);
    }
}
