//! reelplan's two-tier cache with exact invalidation.
//!
//! **Generational keys.** Every cacheable value belongs to one or more *scopes* (a user's
//! profile and project list, a project's detail, a project's feedback thread). Each scope has a
//! generation. A read first takes a [`View`]: the epoch and the current generations of the
//! scopes it depends on (in-process atomics, or one Redis round trip). The value's key embeds
//! that view, so a value computed from the database is stored under the generations read
//! *before* the query. A write commits, then [`Cache::invalidate`] moves every affected
//! generation on before it responds: a slow reader can then only have stored its older value
//! under a key nobody asks for again. Deleted projects are also *buried* (tombstones), so a
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
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use moka::future::Cache as MokaCache;

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
                (key.len() + entry.value.weight() + 64).try_into().unwrap_or(u32::MAX)
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

    fn full_key(&self, view: &View, kind: Kind, key: &str) -> String {
        format!("{}:{}:{}:{}", self.inner.config.namespace, view.0, kind.as_str(), key)
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
    /// the same key and view share one load.
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
        let full_key = self.full_key(view, kind, key);
        let loaded = AtomicBool::new(false);
        let from_l2 = AtomicBool::new(false);
        let init = async {
            if let Some(redis) = &self.inner.redis {
                if let Some(value) = redis.get(&full_key).await.and_then(V::decode) {
                    from_l2.store(true, Ordering::Relaxed);
                    return Ok(Entry { value, kind });
                }
            }
            loaded.store(true, Ordering::Relaxed);
            let value = load().await?;
            if let Some(redis) = &self.inner.redis {
                redis.set(&full_key, value.encode(), self.inner.config.ttls.of(kind)).await;
            }
            Ok(Entry { value, kind })
        };
        let entry = self.inner.l1.try_get_with(full_key.clone(), init).await?;
        let outcome = if loaded.load(Ordering::Relaxed) {
            Outcome::Miss
        } else if from_l2.load(Ordering::Relaxed) {
            Outcome::HitL2
        } else {
            Outcome::HitL1
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
    pub async fn forget(&self, view: &View, kind: Kind, key: &str) {
        let full_key = self.full_key(view, kind, key);
        if let Some(redis) = &self.inner.redis {
            redis.delete(&full_key).await;
        }
        self.inner.l1.invalidate(&full_key).await;
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
