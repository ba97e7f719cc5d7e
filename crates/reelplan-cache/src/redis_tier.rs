//! The Redis tier: shared generations, the epoch, tombstones and L2 values.
//!
//! Generation values are random tokens, not counters: a generation key that expired or was
//! evicted is started again with a new token, which no cached value was ever tagged with, so
//! Redis may run with `maxmemory` and an LRU policy. Every key has a TTL.
//! Any failure opens a one-second breaker (requests bypass the cache rather than wait on a dead
//! Redis). A failed bump or burial is retried until the bump deadline; past it this instance is
//! marked dirty, and it moves the epoch on before it trusts the cache again.
//!
//! **Identity.** The epoch lives under a key named after the Redis process's run id, and the
//! connection carries a name this instance gave it. A lookup checks the name in the same round
//! trip: after any reconnect it is gone, and the run id is read again. A Redis restarted from a
//! snapshot, or a promoted replica, has another run id, so it starts a new epoch, and the
//! generations and values it brought back from before later writes can never match a tag.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use redis::aio::ConnectionManager;
use redis::AsyncCommands;

use crate::{CacheConfig, Scope, Tag, Want};

const EPOCH_TTL_SECS: u64 = 7 * 24 * 3600;
const BREAKER: Duration = Duration::from_secs(1);
/// How often a dirty instance retries moving the epoch on, so that other instances stop
/// serving values it could not invalidate soon after Redis is back, even if this one is idle.
const RECOVERY_INTERVAL: Duration = Duration::from_millis(200);

pub(crate) struct RedisTier {
    conn: ConnectionManager,
    namespace: String,
    /// The connection's name and the epoch key of the Redis process behind it; None until
    /// learnt, and again after a reconnect.
    identity: std::sync::Mutex<Option<Identity>>,
    timeout: Duration,
    bump_deadline: Duration,
    generation_ttl: Duration,
    dirty: Arc<AtomicBool>,
    recovering: Arc<AtomicBool>,
    started: Instant,
    open_until_ms: AtomicU64,
}

/// Every `op` label a failed Redis exchange is counted under (`reelplan_redis_errors_total`),
/// so the server can register each at zero before the first failure.
pub const REDIS_OPERATIONS: [&str; 8] =
    ["view", "epoch", "bump", "bury", "buried", "get", "set", "delete"];

fn error_counted(what: &'static str, error: impl std::fmt::Display) {
    metrics::counter!("reelplan_redis_errors_total", "op" => what).increment(1);
    tracing::warn!(op = what, %error, "redis operation failed; bypassing the cache");
}

/// Who this instance talks to (see the module doc).
#[derive(Debug, Clone)]
struct Identity {
    /// The name given to the connection; a reconnected one has none.
    connection: String,
    /// `<namespace>:epoch:<run id>`.
    epoch_key: String,
}

/// The epoch key of the Redis process `conn` talks to, read from its run id.
async fn epoch_key_of(conn: &mut ConnectionManager, namespace: &str) -> redis::RedisResult<String> {
    let info: String = redis::cmd("INFO").arg("server").query_async(conn).await?;
    let run_id = info.lines().find_map(|line| line.strip_prefix("run_id:")).map(str::trim);
    match run_id {
        Some(run_id) if !run_id.is_empty() => Ok(format!("{namespace}:epoch:{run_id}")),
        _ => Err((redis::ErrorKind::UnexpectedReturnType, "INFO server has no run_id").into()),
    }
}

/// Moves the epoch of the Redis process behind `conn` on: every value cached before dies.
async fn move_epoch_on(conn: &mut ConnectionManager, namespace: &str) -> redis::RedisResult<()> {
    let key = epoch_key_of(conn, namespace).await?;
    conn.set_ex::<_, _, ()>(key, token(), EPOCH_TTL_SECS).await
}

impl RedisTier {
    pub(crate) fn new(url: &str, config: &CacheConfig) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let manager_config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.redis_timeout))
            .set_response_timeout(Some(config.redis_timeout))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(10))
            .set_max_delay(Duration::from_millis(100));
        let conn = ConnectionManager::new_lazy_with_config(client, manager_config)?;
        Ok(RedisTier {
            conn,
            namespace: config.namespace.clone(),
            identity: std::sync::Mutex::default(),
            timeout: config.redis_timeout,
            bump_deadline: config.bump_deadline,
            generation_ttl: config.ttls.longest() + Duration::from_secs(3600),
            dirty: Arc::default(),
            recovering: Arc::default(),
            started: Instant::now(),
            open_until_ms: AtomicU64::new(0),
        })
    }

    fn breaker_open(&self) -> bool {
        (self.started.elapsed().as_millis() as u64) < self.open_until_ms.load(Ordering::Acquire)
    }

    fn trip(&self, what: &'static str, error: impl std::fmt::Display) {
        error_counted(what, error);
        let until = (self.started.elapsed() + BREAKER).as_millis() as u64;
        self.open_until_ms.store(until, Ordering::Release);
    }

    /// Runs one Redis exchange with the timeout; trips the breaker on failure.
    async fn call<T>(
        &self,
        what: &'static str,
        fut: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Option<T> {
        if self.breaker_open() {
            return None;
        }
        metrics::counter!("reelplan_redis_round_trips_total").increment(1);
        match tokio::time::timeout(self.timeout, fut).await {
            Ok(Ok(value)) => Some(value),
            Ok(Err(error)) => {
                self.trip(what, error);
                None
            }
            Err(_) => {
                self.trip(what, "timed out");
                None
            }
        }
    }

    /// Moves the epoch on after missed invalidations; true when done.
    async fn recover(&self) -> bool {
        if !self.dirty.load(Ordering::Acquire) {
            return true;
        }
        let mut conn = self.conn.clone();
        if self.call("epoch", move_epoch_on(&mut conn, &self.namespace)).await.is_some() {
            self.dirty.store(false, Ordering::Release);
            tracing::info!("redis reachable again; epoch moved on, older cached values dropped");
            return true;
        }
        false
    }

    /// The identity, learnt first if unknown: the connection is named, and the run id read.
    async fn identity(&self) -> Option<Identity> {
        if let Some(identity) = self.identity.lock().unwrap_or_else(|e| e.into_inner()).clone() {
            return Some(identity);
        }
        let connection = token();
        let mut conn = self.conn.clone();
        let mut name = redis::cmd("CLIENT");
        name.arg("SETNAME").arg(&connection);
        self.call("epoch", name.query_async::<()>(&mut conn)).await?;
        let epoch_key = self.call("epoch", epoch_key_of(&mut conn, &self.namespace)).await?;
        let identity = Identity { connection, epoch_key };
        *self.identity.lock().unwrap_or_else(|e| e.into_inner()) = Some(identity.clone());
        Some(identity)
    }

    fn generation_key(&self, scope: Scope) -> String {
        let mut key = String::with_capacity(self.namespace.len() + 24);
        key.push_str(&self.namespace);
        key.push_str(":g:");
        scope.write_key(&mut key);
        key
    }

    /// The tag of every want and the values in `slots`, in one round trip (plus one more only
    /// when the epoch or a generation must be started).
    pub(crate) async fn tags_and_values(
        &self,
        wants: &[Want],
        slots: &[String],
    ) -> Option<(Vec<Tag>, Vec<Option<Bytes>>)> {
        if !self.recover().await {
            return None;
        }
        self.view(wants, slots, |_| {}).await
    }

    /// Moves `scopes` on, then takes the tag of every want, in one round trip: the bump's
    /// writes go first in the pipeline, so the tags are read after them, the order a write's
    /// fill needs (DESIGN.md invariant 5). When that exchange fails (or this instance is
    /// dirty), the bump goes the way of [`RedisTier::bump`], retried until its deadline, and
    /// there are no tags.
    pub(crate) async fn bump_then_tags(
        &self,
        scopes: &[Scope],
        wants: &[Want],
    ) -> Option<Vec<Tag>> {
        if self.recover().await {
            let bump = |pipe: &mut redis::Pipeline| self.add_bumps(pipe, scopes);
            if let Some((tags, _)) = self.view(wants, &[], bump).await {
                return Some(tags);
            }
        }
        self.bump(scopes).await;
        None
    }

    /// The tags of `wants` and the values in `slots`, with `first` (commands whose replies
    /// are ignored) sent ahead of the reads in the same round trip.
    async fn view(
        &self,
        wants: &[Want],
        slots: &[String],
        first: impl Fn(&mut redis::Pipeline),
    ) -> Option<(Vec<Tag>, Vec<Option<Bytes>>)> {
        let mut scopes: Vec<Scope> = Vec::with_capacity(wants.len() + 1);
        for scope in wants.iter().flat_map(Want::scopes) {
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        let generation_keys: Vec<String> = scopes.iter().map(|s| self.generation_key(*s)).collect();
        let (identity, mut answers) = self
            .exchange_as_known(|pipe| {
                first(pipe);
                for key in generation_keys.iter().chain(slots) {
                    pipe.get(key);
                }
            })
            .await?;
        let values: Vec<Option<Bytes>> =
            answers.split_off(2 + scopes.len()).into_iter().map(|v| v.map(Bytes::from)).collect();
        let mut words: Vec<Option<u64>> =
            answers[1..].iter().map(|a| parse_token(a.as_deref())).collect();
        if words[0].is_none() {
            words[0] = Some(self.start_epoch(&identity.epoch_key).await?);
        }
        if words.iter().any(Option::is_none) {
            self.start_generations(&scopes, &mut words).await?;
        }
        let epoch = words[0]?;
        let generation = |scope: Scope| -> u64 {
            let at = scopes.iter().position(|s| *s == scope).unwrap_or_default();
            words[1 + at].unwrap_or_default()
        };
        let tags = wants.iter().map(|w| Tag::new(epoch, w.scopes().map(generation))).collect();
        Some((tags, values))
    }

    /// Sends `CLIENT GETNAME`, the epoch's `GET` and what `more` adds, in one round trip, with
    /// the epoch key of the Redis process this instance knows. When the connection's name is
    /// not the one given (a reconnect, maybe to another process), learns the identity again
    /// and sends it once more.
    async fn exchange_as_known(
        &self,
        more: impl Fn(&mut redis::Pipeline),
    ) -> Option<(Identity, Vec<Option<Vec<u8>>>)> {
        for _ in 0..2 {
            let identity = self.identity().await?;
            let mut pipe = redis::pipe();
            pipe.cmd("CLIENT").arg("GETNAME");
            pipe.get(&identity.epoch_key);
            more(&mut pipe);
            let mut conn = self.conn.clone();
            let answers: Vec<Option<Vec<u8>>> =
                self.call("view", pipe.query_async(&mut conn)).await?;
            if answers.first().and_then(Option::as_deref) == Some(identity.connection.as_bytes()) {
                return Some((identity, answers));
            }
            tracing::info!("redis connection is new; reading the server's identity again");
            *self.identity.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
        None
    }

    /// Generations that are missing (never bumped, expired, or evicted under `maxmemory`) get a
    /// fresh random token, agreed with `SET NX` like the epoch. A constant stand-in would let an
    /// eviction bring back the tag of a value cached before the last write.
    async fn start_generations(&self, scopes: &[Scope], words: &mut [Option<u64>]) -> Option<()> {
        let ttl = self.generation_ttl.as_secs();
        let missing: Vec<usize> = (1..words.len()).filter(|i| words[*i].is_none()).collect();
        let mut pipe = redis::pipe();
        for i in &missing {
            let key = self.generation_key(scopes[i - 1]);
            pipe.cmd("SET").arg(&key).arg(token()).arg("NX").arg("EX").arg(ttl).ignore();
            pipe.get(key);
        }
        let mut conn = self.conn.clone();
        let agreed: Vec<Option<Vec<u8>>> = self.call("view", pipe.query_async(&mut conn)).await?;
        for (i, token) in missing.into_iter().zip(agreed) {
            words[i] = Some(parse_token(token.as_deref())?);
        }
        Some(())
    }

    /// Redis came back empty (or the epoch expired): agree on a new epoch.
    async fn start_epoch(&self, epoch_key: &str) -> Option<u64> {
        let candidate = token();
        let mut pipe = redis::pipe();
        pipe.cmd("SET").arg(epoch_key).arg(&candidate).arg("NX").arg("EX").arg(EPOCH_TTL_SECS);
        pipe.ignore().get(epoch_key);
        let mut conn = self.conn.clone();
        let (epoch,): (Option<Vec<u8>>,) = self.call("epoch", pipe.query_async(&mut conn)).await?;
        parse_token(epoch.as_deref())
    }

    pub(crate) async fn bump(&self, scopes: &[Scope]) {
        let mut pipe = redis::pipe();
        self.add_bumps(&mut pipe, scopes);
        self.write_or_dirty("bump", pipe).await;
    }

    /// A fresh random generation for each scope (replies ignored).
    fn add_bumps(&self, pipe: &mut redis::Pipeline, scopes: &[Scope]) {
        let ttl = self.generation_ttl.as_secs();
        for scope in scopes {
            pipe.set_ex(self.generation_key(*scope), token(), ttl).ignore();
        }
    }

    pub(crate) async fn bury(&self, ids: &[i64], keep: Duration) {
        let ttl = keep.as_secs() + 60;
        let mut pipe = redis::pipe();
        for id in ids {
            pipe.set_ex(format!("{}:dead:{id}", self.namespace), 1, ttl).ignore();
        }
        self.write_or_dirty("bury", pipe).await;
    }

    /// Sends an invalidation; a failure is retried (past the breaker) until the bump deadline,
    /// so that a Redis back within it leaves no instance serving what the write changed.
    /// Past the deadline, or at once when an earlier one already missed it, this instance is
    /// dirty: it bypasses the cache and keeps moving the epoch on until Redis takes it.
    async fn write_or_dirty(&self, what: &'static str, pipe: redis::Pipeline) {
        let deadline = Instant::now() + self.bump_deadline;
        let mut pause = Duration::from_millis(20);
        loop {
            let mut conn = self.conn.clone();
            metrics::counter!("reelplan_redis_round_trips_total").increment(1);
            match tokio::time::timeout(self.timeout, pipe.query_async::<()>(&mut conn)).await {
                Ok(Ok(())) => return,
                Ok(Err(error)) => self.trip(what, error),
                Err(_) => self.trip(what, "timed out"),
            }
            let now = Instant::now();
            if self.dirty.load(Ordering::Acquire) || now >= deadline {
                break;
            }
            tokio::time::sleep(pause.min(deadline - now)).await;
            pause = (pause * 2).min(Duration::from_millis(200));
        }
        // The write is committed but other instances may not know: until the epoch has moved
        // on, this instance serves nothing from the cache.
        self.dirty.store(true, Ordering::Release);
        self.spawn_recovery();
    }

    /// Keeps trying to move the epoch on in the background until it succeeds.
    fn spawn_recovery(&self) {
        if self.recovering.swap(true, Ordering::AcqRel) {
            return;
        }
        let (dirty, recovering) = (self.dirty.clone(), self.recovering.clone());
        let (mut conn, namespace, timeout) =
            (self.conn.clone(), self.namespace.clone(), self.timeout);
        tokio::spawn(async move {
            while dirty.load(Ordering::Acquire) {
                tokio::time::sleep(RECOVERY_INTERVAL).await;
                let moved = tokio::time::timeout(timeout, move_epoch_on(&mut conn, &namespace));
                if let Ok(Ok(())) = moved.await {
                    dirty.store(false, Ordering::Release);
                    tracing::info!(
                        "redis reachable again; epoch moved on, older cached values dropped"
                    );
                }
            }
            recovering.store(false, Ordering::Release);
        });
    }

    pub(crate) async fn any_buried(&self, ids: &[i64]) -> Option<bool> {
        let keys: Vec<String> =
            ids.iter().map(|id| format!("{}:dead:{id}", self.namespace)).collect();
        let mut conn = self.conn.clone();
        let found: Vec<Option<u8>> = self.call("buried", conn.mget(keys)).await?;
        Some(found.iter().any(Option::is_some))
    }

    /// The stored (tagged) bytes of several slots, in one round trip.
    pub(crate) async fn get_many(&self, slots: &[String]) -> Option<Vec<Option<Bytes>>> {
        let mut pipe = redis::pipe();
        for slot in slots {
            pipe.get(slot);
        }
        let mut conn = self.conn.clone();
        let stored: Vec<Option<Vec<u8>>> = self.call("get", pipe.query_async(&mut conn)).await?;
        Some(stored.into_iter().map(|v| v.map(Bytes::from)).collect())
    }

    /// Stores tagged values, each with its TTL, in one round trip.
    pub(crate) async fn set_many(&self, items: Vec<(String, Vec<u8>, Duration)>) {
        let mut pipe = redis::pipe();
        for (slot, tagged, ttl) in items {
            pipe.set_ex(slot, tagged, ttl.as_secs().max(1)).ignore();
        }
        let mut conn = self.conn.clone();
        self.call("set", pipe.query_async::<()>(&mut conn)).await;
    }

    /// Deletes one value; a failure counts as a missed invalidation (the epoch moves on).
    pub(crate) async fn delete(&self, key: &str) {
        let mut pipe = redis::pipe();
        pipe.del(key).ignore();
        self.write_or_dirty("delete", pipe).await;
    }

    pub(crate) async fn ping(&self) -> Result<(), String> {
        let mut conn = self.conn.clone();
        let cmd = redis::cmd("PING");
        let ping = cmd.query_async::<String>(&mut conn);
        match tokio::time::timeout(self.timeout, ping).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(error)) => Err(error.to_string()),
            Err(_) => Err("timed out".to_owned()),
        }
    }

    pub(crate) async fn used_memory(&self) -> Option<u64> {
        let mut conn = self.conn.clone();
        let mut cmd = redis::cmd("INFO");
        cmd.arg("memory");
        let info = cmd.query_async::<String>(&mut conn);
        let info = tokio::time::timeout(self.timeout, info).await.ok()?.ok()?;
        info.lines().find_map(|line| line.strip_prefix("used_memory:")?.trim().parse().ok())
    }
}

/// A fresh random generation or epoch token, as Redis holds it (16 hex digits).
fn token() -> String {
    format!("{:016x}", rand::random::<u64>())
}

fn parse_token(raw: Option<&[u8]>) -> Option<u64> {
    u64::from_str_radix(std::str::from_utf8(raw?).ok()?, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::{parse_token, token, REDIS_OPERATIONS};

    /// Every label this file counts errors under is in the list the server registers at zero.
    #[test]
    fn every_counted_operation_is_listed() {
        let source = include_str!("redis_tier.rs");
        let mut seen = 0;
        for marker in ["self.call(\"", "self.write_or_dirty(\""] {
            for (at, _) in source.match_indices(marker) {
                let rest = &source[at + marker.len()..];
                let op = &rest[..rest.find('"').expect("closing quote")];
                assert!(REDIS_OPERATIONS.contains(&op), "{op} is not in REDIS_OPERATIONS");
                seen += 1;
            }
        }
        assert!(seen >= REDIS_OPERATIONS.len(), "found only {seen} counted calls");
    }

    #[test]
    fn tokens_read_back_as_the_number_they_spell() {
        let t = token();
        assert_eq!(t.len(), 16);
        assert_eq!(parse_token(Some(t.as_bytes())).map(|n| format!("{n:016x}")), Some(t));
        assert_eq!(parse_token(Some(b"zz")), None);
        assert_eq!(parse_token(None), None);
    }
}
