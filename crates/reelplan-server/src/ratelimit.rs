//! Login rate limiting against password guessing: failed logins are counted per email and per
//! client address (GCRA via `governor`: `n` failures per period, replenished evenly); once
//! either is spent, logins for that email or from that address answer 429 `rate_limited` until
//! the next failure would be allowed again, whether or not the password is right. Successful
//! logins cost nothing, so a busy office behind one address is only slowed by its typos.
//!
//! The client address is the TCP peer (`ConnectInfo`, present when the server runs with
//! `into_make_service_with_connect_info`), or, with `REELPLAN_TRUST_FORWARDED_FOR=true`, the
//! last `X-Forwarded-For` entry: the one the trusted proxy in front appended.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::ApiError;
use crate::state::AppState;

/// Failed-login budgets (`REELPLAN_LOGIN_FAILURES_PER_EMAIL`, `..._PER_ADDRESS`); 0 turns
/// that limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimitConfig {
    /// Failures per period for one email (default 5).
    pub per_email: u32,
    /// Failures per period from one client address (default 20).
    pub per_address: u32,
    /// The period (default one minute).
    pub period: Duration,
}

impl Default for LoginLimitConfig {
    fn default() -> Self {
        LoginLimitConfig { per_email: 5, per_address: 20, period: Duration::from_secs(60) }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Email(String),
    Address(IpAddr),
}

/// Counts failed logins and says who must wait.
pub struct LoginLimiter {
    per_email: Option<DefaultKeyedRateLimiter<String>>,
    per_address: Option<DefaultKeyedRateLimiter<IpAddr>>,
    /// Keys whose budget is spent, and until when. governor cannot be asked "would this be
    /// allowed" without spending, and only failures may spend.
    blocked: Mutex<HashMap<Key, Instant>>,
    clock: DefaultClock,
    failures: AtomicU64,
}

/// Keys seen this many failures ago are pruned (bounded memory under a spray of emails).
const PRUNE_EVERY: u64 = 1024;

fn quota(n: u32, period: Duration) -> Option<Quota> {
    let n = NonZeroU32::new(n)?;
    Quota::with_period(period / n.get()).map(|q| q.allow_burst(n))
}

impl LoginLimiter {
    /// A limiter with these budgets.
    pub fn new(config: LoginLimitConfig) -> Self {
        LoginLimiter {
            per_email: quota(config.per_email, config.period).map(RateLimiter::keyed),
            per_address: quota(config.per_address, config.period).map(RateLimiter::keyed),
            blocked: Mutex::default(),
            clock: DefaultClock::default(),
            failures: AtomicU64::new(0),
        }
    }

    fn keys(email: Option<&str>, address: Option<IpAddr>) -> impl Iterator<Item = Key> {
        email.map(|e| Key::Email(e.to_owned())).into_iter().chain(address.map(Key::Address))
    }

    /// How long the caller must wait, if either key is blocked now.
    pub fn blocked(&self, email: Option<&str>, address: Option<IpAddr>) -> Option<Duration> {
        let now = Instant::now();
        let blocked = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
        Self::keys(email, address)
            .filter_map(|key| blocked.get(&key).filter(|until| **until > now).map(|u| *u - now))
            .max()
    }

    /// Records a failed login; returns the wait if this failure spent a budget.
    pub fn failed(&self, email: Option<&str>, address: Option<IpAddr>) -> Option<Duration> {
        let now = self.clock.now();
        let mut waits = Vec::new();
        if let (Some(limiter), Some(email)) = (&self.per_email, email) {
            if let Err(not_until) = limiter.check_key(&email.to_owned()) {
                waits.push((Key::Email(email.to_owned()), not_until.wait_time_from(now)));
            }
        }
        if let (Some(limiter), Some(address)) = (&self.per_address, address) {
            if let Err(not_until) = limiter.check_key(&address) {
                waits.push((Key::Address(address), not_until.wait_time_from(now)));
            }
        }
        let mut blocked = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
        if self.failures.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            let instant = Instant::now();
            blocked.retain(|_, until| *until > instant);
            self.per_email.iter().for_each(|l| l.retain_recent());
            self.per_address.iter().for_each(|l| l.retain_recent());
        }
        let longest = waits.iter().map(|(_, wait)| *wait).max();
        for (key, wait) in waits {
            metrics::counter!("reelplan_login_rate_limited_total", "by" => match key {
                Key::Email(_) => "email",
                Key::Address(_) => "address",
            })
            .increment(1);
            blocked.insert(key, Instant::now() + wait);
        }
        longest
    }
}

/// The client address rate limiting keys on.
pub fn client_address(req: &Request, trust_forwarded_for: bool) -> Option<IpAddr> {
    if trust_forwarded_for {
        let forwarded = req
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .last()
            .and_then(|last| last.trim().parse().ok());
        if forwarded.is_some() {
            return forwarded;
        }
    }
    req.extensions().get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip())
}

fn rate_limited(wait: Duration) -> Response {
    let mut response = ApiError::RateLimited.into_response();
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    if let Ok(value) = HeaderValue::from_str(&secs.max(1).to_string()) {
        response.headers_mut().insert("retry-after", value);
    }
    response
}

/// Route layer of `POST /api/auth/login`: refuses blocked callers before the password is
/// checked, and counts a 401 as a failure of both its email and its address.
pub async fn login_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let address = client_address(&req, state.security.trust_forwarded_for);
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, crate::routes::MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(error) => {
            let too_large =
                std::iter::successors(Some(&error as &(dyn std::error::Error + 'static)), |e| {
                    e.source()
                })
                .any(|e| e.is::<http_body_util::LengthLimitError>());
            return if too_large {
                ApiError::PayloadTooLarge.into_response()
            } else {
                ApiError::BadRequest("the request body could not be read".to_owned())
                    .into_response()
            };
        }
    };
    // Keyed as the service compares emails: trimmed and lower-cased.
    let email = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v.get("email")?.as_str().map(|e| e.trim().to_lowercase()));
    let limiter = &state.login_limiter;
    if let Some(wait) = limiter.blocked(email.as_deref(), address) {
        return rate_limited(wait);
    }
    let response = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    if response.status() == StatusCode::UNAUTHORIZED {
        if let Some(wait) = limiter.failed(email.as_deref(), address) {
            return rate_limited(wait);
        }
    }
    response
}
