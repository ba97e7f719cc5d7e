//! reelplan's two-tier cache with exact invalidation.
//!
//! **Generations.** Every cacheable value belongs to one or more *scopes* (a user's profile
//! and project list, a project's detail, a project's feedback thread). Each scope has a
//! generation. A read first takes a [`View`]: the epoch and the current generations of the
//! scopes it depends on (in-process atomics, or one Redis round trip). A value computed from
//! the database is stored tagged with the view read *before* the query, and a read serves a
//! value only when its tag equals the read's own view. A write commits, then
//! [`Cache::invalidate`] moves every affected generation on before it responds: a slow reader
//! can then only have tagged its older value with a view no later read holds.
//!
//! **One slot per key.** The view is a tag, not part of the key: each logical key has one slot
//! per tier, and a read whose view differs reloads and overwrites it. Memory then follows the
//! number of live keys, not the number of writes (with the view in the key, every bump left
//! the old values behind until their TTL). Deleted projects are also *buried* (tombstones), so a
//! cached list that still holds one is refused whoever else shared the project.
//!
//! **Epoch.** Every key also embeds an epoch. Redis restarting empty, or this instance failing
//! to move a generation on while Redis was unreachable, moves the epoch on, and everything
//! cached before dies at once. While Redis cannot be reached, reads bypass the cache.
//!
//! **Tiers.** L1 is moka, bounded by a byte budget, with a TTL per data kind; L2 is Redis with
//! the same TTLs. Concurrent misses of one key run one load per instance (moka's
//! `try_get_with`), and that load looks in L2 before asking the database.

mod config;
mod local;
mod redis_tier;

use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use moka::future::Cache as MokaCache;
use moka::ops::compute::{CompResult, Op};

pub use config::{CacheConfig, Kind, Ttls};
use local::{LocalGenerations, Tombstones};
use redis_tier::RedisTier;
pub use redis_tier::REDIS_OPERATIONS;

/// A value the cache can hold: weighed for the L1 budget and encoded for L2.
pub trait CacheValue: Clone + Send + Sync + 'static {
    /// Approximate bytes held in memory.
    fn weight(&self) -> usize;
    /// Bytes for Redis.
    fn encode(&self) -> Bytes;
    /// Back from Redis; None when the bytes are not a value of this type.
    fn decode(bytes: Bytes) -> Option<Self>;
}

/// Something whose changes invalidate cached values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// A user's profile and project list.
    User(i64),
    /// A project's detail and access list.
    Project(i64),
    /// A project's feedback thread pages.
    Thread(i64),
    /// Who may read a project's thread (moves on with membership changes only).
    Access(i64),
}

impl Scope {
    fn key(self) -> String {
        match self {
            Scope::User(id) => format!("u:{id}"),
            Scope::Project(id) => format!("p:{id}"),
            Scope::Thread(id) => format!("t:{id}"),
            Scope::Access(id) => format!("a:{id}"),
        }
    }
}

/// The epoch and generations a read depends on, taken before it looks anything up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View(String);

/// Where a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// From the in-process tier.
    HitL1,
    /// From Redis.
    HitL2,
    /// Loaded from the database by this call.
    Miss,
}

impl Outcome {
    /// `true` unless the database was read.
    pub fn is_hit(self) -> bool {
        self != Outcome::Miss
    }
}

#[derive(Clone)]
struct Entry<V> {
    value: V,
    kind: Kind,
    /// The view the value was computed under; served only to reads holding the same view.
    view: Arc<str>,
}

/// The cache. Cheap to clone.
#[derive(Clone)]
pub struct Cache<V: CacheValue> {
    inner: Arc<Inner<V>>,
}

struct Inner<V: CacheValue> {
    config: CacheConfig,
    l1: MokaCache<String, Entry<V>>,
    local: LocalGenerations,
    tombstones: Tombstones,
    redis: Option<RedisTier>,
}

impl<V: CacheValue> Cache<V> {
    /// Builds the cache; with a Redis URL it connects lazily, so start-up never waits on Redis.
    pub fn new(config: CacheConfig) -> Result<Self, redis::RedisError> {
        let redis = match &config.redis_url {
            Some(url) => Some(RedisTier::new(url, &config)?),
            None => None,
        };
        let l1 = MokaCache::builder()
            .max_capacity(config.l1_bytes)
            .weigher(|key: &String, entry: &Entry<V>| {
                let bytes = key.len() + entry.view.len() + entry.value.weight() + 64;
                bytes.try_into().unwrap_or(u32::MAX)
            })
            .expire_after(config::KindExpiry(config.ttls))
            .eviction_listener(|_, _, cause| {
                if cause.was_evicted() {
                    metrics::counter!("reelplan_cache_evictions_total").increment(1);
                }
            })
            .build();
        let tombstones = Tombstones::new(config.ttls.project_list);
        let inner = Inner { l1, local: LocalGenerations::new(), tombstones, redis, config };
        Ok(Cache { inner: Arc::new(inner) })
    }

    /// The slot of a logical key, the same in both tiers (the view is a tag, not a part).
    fn slot(&self, kind: Kind, key: &str) -> String {
        format!("{}:v:{}:{}", self.inner.config.namespace, kind.as_str(), key)
    }

    /// Whether caching is on at all.
    pub fn enabled(&self) -> bool {
        self.inner.config.enabled
    }

    /// Whether a Redis tier is configured.
    pub fn has_redis(&self) -> bool {
        self.inner.redis.is_some()
    }

    /// Takes the view a read depends on; None means "bypass the cache for this request"
    /// (caching off, or Redis unreachable and this instance cannot prove what is current).
    pub async fn view(&self, scopes: &[Scope]) -> Option<View> {
        if !self.enabled() {
            return None;
        }
        let keys: Vec<String> = scopes.iter().map(|s| s.key()).collect();
        match &self.inner.redis {
            Some(redis) => redis.view(&keys).await.map(View),
            None => Some(View(self.inner.local.view(&keys))),
        }
    }

    /// The value under `key` in `view`, loading it with `load` on a miss. Concurrent calls for
    /// the same key share one load: a miss runs under the slot's lock, and the calls queued
    /// behind it find the value it stored.
    pub async fn get_or_load<E, Fut>(
        &self,
        view: &View,
        kind: Kind,
        key: &str,
        load: impl FnOnce() -> Fut,
    ) -> Result<(V, Outcome), Arc<E>>
    where
        E: Send + Sync + 'static,
        Fut: Future<Output = Result<V, E>>,
    {
        let slot = self.slot(kind, key);
        if let Some(entry) = self.inner.l1.get(&slot).await {
            if *entry.view == *view.0 {
                record(kind, Outcome::HitL1);
                return Ok((entry.value, Outcome::HitL1));
            }
        }
        let mut outcome = Outcome::HitL1;
        let computed = self
            .inner
            .l1
            .entry(slot.clone())
            .and_try_compute_with(|current| {
                let outcome = &mut outcome;
                let slot = &slot;
                async move {
                    // Filled by the call this one queued behind.
                    if current.is_some_and(|e| *e.value().view == *view.0) {
                        return Ok(Op::Nop);
                    }
                    let tag: Arc<str> = Arc::from(view.0.as_str());
                    if let Some(redis) = &self.inner.redis {
                        if let Some(value) =
                            redis.get_tagged(slot, &view.0).await.and_then(V::decode)
                        {
                            *outcome = Outcome::HitL2;
                            return Ok(Op::Put(Entry { value, kind, view: tag }));
                        }
                    }
                    *outcome = Outcome::Miss;
                    let value = load().await?;
                    if let Some(redis) = &self.inner.redis {
                        let ttl = self.inner.config.ttls.of(kind);
                        redis.set_tagged(slot, &view.0, value.encode(), ttl).await;
                    }
                    Ok(Op::Put(Entry { value, kind, view: tag }))
                }
            })
            .await
            .map_err(Arc::new)?;
        let entry = match computed {
            CompResult::Inserted(e)
            | CompResult::ReplacedWith(e)
            | CompResult::Unchanged(e)
            | CompResult::Removed(e) => e.into_value(),
            CompResult::StillNone(_) => {
                unreachable!("the closure never answers Nop on an empty slot")
            }
        };
        record(kind, outcome);
        Ok((entry.value, outcome))
    }

    /// Moves the generations of `scopes` on. Call after the write committed and before it is
    /// acknowledged. Never fails: if Redis cannot take it, this instance bypasses the cache
    /// until it has moved the epoch on.
    pub async fn invalidate(&self, scopes: &[Scope]) {
        if !self.enabled() || scopes.is_empty() {
            return;
        }
        let keys: Vec<String> = scopes.iter().map(|s| s.key()).collect();
        match &self.inner.redis {
            Some(redis) => redis.bump(&keys).await,
            None => self.inner.local.bump(&keys),
        }
    }

    /// Records that these projects are deleted, so lists holding them are refused.
    pub async fn bury(&self, projects: &[i64]) {
        if !self.enabled() {
            return;
        }
        match &self.inner.redis {
            Some(redis) => redis.bury(projects, self.inner.config.ttls.project_list).await,
            None => self.inner.tombstones.bury(projects),
        }
    }

    /// Whether any of these projects was deleted recently; None when that cannot be known.
    pub async fn any_buried(&self, projects: &[i64]) -> Option<bool> {
        if projects.is_empty() {
            return Some(false);
        }
        match &self.inner.redis {
            Some(redis) => redis.any_buried(projects).await,
            None => Some(self.inner.tombstones.any_buried(projects)),
        }
    }

    /// Drops one value from both tiers (after [`Cache::any_buried`] refused it), so the next
    /// load reads the database rather than finding the refused value again in Redis.
    pub async fn forget(&self, kind: Kind, key: &str) {
        let slot = self.slot(kind, key);
        if let Some(redis) = &self.inner.redis {
            redis.delete(&slot).await;
        }
        self.inner.l1.invalidate(&slot).await;
    }

    /// Bytes currently held by L1 (approximate) and its entry count.
    pub fn l1_usage(&self) -> (u64, u64) {
        (self.inner.l1.weighted_size(), self.inner.l1.entry_count())
    }

    /// Answers when Redis does (always Ok without Redis).
    pub async fn ping(&self) -> Result<(), String> {
        match &self.inner.redis {
            Some(redis) => redis.ping().await,
            None => Ok(()),
        }
    }

    /// Redis memory in use, for the load test's success metrics.
    pub async fn redis_used_memory(&self) -> Option<u64> {
        self.inner.redis.as_ref()?.used_memory().await
    }
}

fn record(kind: Kind, outcome: Outcome) {
    let (tier, result) = match outcome {
        Outcome::HitL1 => ("l1", "hit"),
        Outcome::HitL2 => ("l2", "hit"),
        Outcome::Miss => ("db", "miss"),
    };
    metrics::counter!("reelplan_cache_requests_total", "kind" => kind.as_str(), "tier" => tier, "result" => result)
        .increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    impl CacheValue for u64 {
        fn weight(&self) -> usize {
            8
        }
        fn encode(&self) -> Bytes {
            Bytes::copy_from_slice(&self.to_be_bytes())
        }
        fn decode(bytes: Bytes) -> Option<Self> {
            Some(u64::from_be_bytes(bytes.as_ref().try_into().ok()?))
        }
    }

    async fn read(cache: &Cache<u64>, version: u64) -> (u64, Outcome) {
        let view = cache.view(&[Scope::Project(1)]).await.expect("cache on");
        let load = || async { Ok::<_, ()>(version) };
        cache.get_or_load(&view, Kind::ProjectDetail, "1", load).await.expect("loads")
    }

    /// A key read, invalidated and read again many times holds one slot: invalidated values
    /// are replaced, not left beside the live one until their TTL.
    #[tokio::test]
    async fn invalidations_replace_a_value_rather_than_pile_up() {
        let cache = Cache::<u64>::new(CacheConfig::default()).unwrap();
        for version in 0..100 {
            assert_eq!(read(&cache, version).await, (version, Outcome::Miss));
            assert_eq!(read(&cache, version + 1000).await, (version, Outcome::HitL1));
            cache.invalidate(&[Scope::Project(1)]).await;
        }
        cache.inner.l1.run_pending_tasks().await;
        assert_eq!(cache.l1_usage().1, 1);
    }
}
