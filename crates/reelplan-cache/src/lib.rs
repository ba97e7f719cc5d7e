//! reelplan's two-tier cache with exact invalidation.
//!
//! **Generations.** Every cacheable value belongs to one or more *scopes* (a user's profile
//! and project list, a project's detail, a project's feedback thread). Each scope has a
//! generation. A read first takes a view, its [`Tag`]: the epoch and the current generations of the
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
mod key;
mod local;
mod redis_tier;

use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use moka::future::Cache as MokaCache;

pub use config::{CacheConfig, Kind, Ttls, DEFAULT_MAX_VALUE_BYTES};
pub use key::{Key, Scope, Tag, Want};
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

/// Where a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// From the in-process tier.
    HitL1,
    /// From Redis.
    HitL2,
    /// Loaded from the database by this call.
    Miss,
    /// The cache could not be used (off, or Redis unreachable): loaded from the database.
    Bypass,
}

impl Outcome {
    /// `true` unless the database was read.
    pub fn is_hit(self) -> bool {
        matches!(self, Outcome::HitL1 | Outcome::HitL2)
    }

    /// The `X-Cache` / `Server-Timing` word: "hit", "miss" or "bypass".
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::HitL1 | Outcome::HitL2 => "hit",
            Outcome::Miss => "miss",
            Outcome::Bypass => "bypass",
        }
    }
}

/// What a lookup found for one [`Want`].
#[derive(Debug, Clone)]
pub enum Found<V> {
    /// A value current under the read's tag, and the tier it came from.
    Hit(V, Outcome),
    /// Nothing current: load it, then [`Cache::fill`] it under this tag.
    Miss(Tag),
}

#[derive(Clone)]
struct Entry<V> {
    value: V,
    kind: Kind,
    /// The tag the value was computed under; served only to reads holding the same tag.
    tag: Tag,
}

/// Stripes of the single-flight locks: misses of keys sharing a stripe wait on each other,
/// which is rare at this count and costs one extra wait, never a wrong value.
const FLIGHT_STRIPES: usize = 1024;

/// The cache. Cheap to clone.
#[derive(Clone)]
pub struct Cache<V: CacheValue> {
    inner: Arc<Inner<V>>,
}

struct Inner<V: CacheValue> {
    config: CacheConfig,
    l1: MokaCache<Key, Entry<V>>,
    local: LocalGenerations,
    tombstones: Tombstones,
    redis: Option<RedisTier>,
    flights: Box<[tokio::sync::Mutex<()>]>,
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
            .weigher(|key: &Key, entry: &Entry<V>| {
                let rest = key.rest.as_ref().map_or(0, |r| r.len());
                let bytes = rest + entry.value.weight() + 96;
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
        let flights = (0..FLIGHT_STRIPES).map(|_| tokio::sync::Mutex::new(())).collect();
        let inner =
            Inner { l1, local: LocalGenerations::new(), tombstones, redis, config, flights };
        Ok(Cache { inner: Arc::new(inner) })
    }

    /// Whether caching is on at all.
    pub fn enabled(&self) -> bool {
        self.inner.config.enabled
    }

    /// Whether a Redis tier is configured.
    pub fn has_redis(&self) -> bool {
        self.inner.redis.is_some()
    }

    /// Looks up several values at once: their tags (in-process atomics, or one Redis round
    /// trip that also fetches every value L1 does not hold), then each value from L1, else L2.
    /// None means "bypass the cache for this request" (caching off, or Redis unreachable and
    /// this instance cannot prove what is current).
    pub async fn lookup(&self, wants: &[Want]) -> Option<Vec<Found<V>>> {
        if !self.enabled() {
            return None;
        }
        let mut held = Vec::with_capacity(wants.len());
        for want in wants {
            held.push(self.inner.l1.get(&want.key).await);
        }
        let Some(redis) = &self.inner.redis else {
            let found = wants.iter().zip(held).map(|(want, entry)| {
                let tag = self.inner.local.tag(want);
                match entry {
                    Some(entry) if entry.tag == tag => Found::Hit(entry.value, Outcome::HitL1),
                    _ => Found::Miss(tag),
                }
            });
            return Some(found.collect());
        };
        let namespace = &self.inner.config.namespace;
        let fetch: Vec<usize> = (0..wants.len()).filter(|i| held[*i].is_none()).collect();
        let slots: Vec<String> = fetch.iter().map(|i| wants[*i].key.slot(namespace)).collect();
        let (tags, fetched) = redis.tags_and_values(wants, &slots).await?;
        let mut stored: Vec<Option<Bytes>> = vec![None; wants.len()];
        for (i, value) in fetch.into_iter().zip(fetched) {
            stored[i] = value;
        }
        // L1 held an entry under an older tag: its L2 slot may hold a newer one (filled by
        // another instance), which a second exchange fetches.
        let stale: Vec<usize> = (0..wants.len())
            .filter(|i| held[*i].as_ref().is_some_and(|e| e.tag != tags[*i]))
            .collect();
        if !stale.is_empty() {
            let slots: Vec<String> = stale.iter().map(|i| wants[*i].key.slot(namespace)).collect();
            if let Some(values) = redis.get_many(&slots).await {
                for (i, value) in stale.into_iter().zip(values) {
                    stored[i] = value;
                }
            }
        }
        let mut found = Vec::with_capacity(wants.len());
        for (i, want) in wants.iter().enumerate() {
            let tag = tags[i];
            if let Some(entry) = held[i].take().filter(|e| e.tag == tag) {
                found.push(Found::Hit(entry.value, Outcome::HitL1));
                continue;
            }
            let value = stored[i].take().and_then(|s| tag.strip(&s)).and_then(V::decode);
            match value {
                Some(value) => {
                    let entry = Entry { value: value.clone(), kind: want.key.kind, tag };
                    self.inner.l1.insert(want.key.clone(), entry).await;
                    found.push(Found::Hit(value, Outcome::HitL2));
                }
                None => found.push(Found::Miss(tag)),
            }
        }
        Some(found)
    }

    /// The current tags of `wants`, for a write to fill what it reads back: take them after
    /// the write's [`Cache::invalidate`] and before its read, as a read-through does.
    pub async fn tags(&self, wants: &[Want]) -> Option<Vec<Tag>> {
        if !self.enabled() {
            return None;
        }
        match &self.inner.redis {
            None => Some(wants.iter().map(|w| self.inner.local.tag(w)).collect()),
            Some(redis) => Some(redis.tags_and_values(wants, &[]).await?.0),
        }
    }

    /// [`Cache::invalidate`] then [`Cache::tags`], in one Redis round trip where the two took
    /// two: what a write does before it reads back what it wrote.
    pub async fn invalidate_then_tags(&self, scopes: &[Scope], wants: &[Want]) -> Option<Vec<Tag>> {
        match &self.inner.redis {
            Some(redis) if self.enabled() && !scopes.is_empty() => {
                redis.bump_then_tags(scopes, wants).await
            }
            _ => {
                self.invalidate(scopes).await;
                self.tags(wants).await
            }
        }
    }

    /// Stores values loaded under the tags a lookup (or [`Cache::tags`]) gave, in both tiers
    /// (one Redis round trip for all). Values heavier than the configured maximum are left
    /// out (and counted): their readers load them each time.
    pub async fn fill(&self, mut values: Vec<(Key, Tag, V)>) {
        let max = self.inner.config.max_value_bytes;
        values.retain(|(_, _, value)| {
            let fits = value.weight() <= max;
            if !fits {
                metrics::counter!("reelplan_cache_oversized_total").increment(1);
            }
            fits
        });
        if values.is_empty() {
            return;
        }
        if let Some(redis) = &self.inner.redis {
            let namespace = &self.inner.config.namespace;
            let items = values.iter().map(|(key, tag, value)| {
                let ttl = self.inner.config.ttls.of(key.kind);
                (key.slot(namespace), tag.prefix(&value.encode()), ttl)
            });
            redis.set_many(items.collect()).await;
        }
        for (key, tag, value) in values {
            let kind = key.kind;
            self.inner.l1.insert(key, Entry { value, kind, tag }).await;
        }
    }

    /// Serialises the misses of one key on this instance, so N concurrent misses run one load:
    /// hold the guard, look again with [`Cache::held`], and load only if that finds nothing.
    pub async fn flight(&self, key: &Key) -> tokio::sync::MutexGuard<'_, ()> {
        self.inner.flights[flight_stripe(key)].lock().await
    }

    /// [`Cache::flight`] for several keys at once, taken in stripe order so that two calls
    /// sharing stripes can never wait on each other in a circle.
    pub async fn flights(&self, keys: &[&Key]) -> Vec<tokio::sync::MutexGuard<'_, ()>> {
        let mut stripes: Vec<usize> = keys.iter().map(|k| flight_stripe(k)).collect();
        stripes.sort_unstable();
        stripes.dedup();
        let mut guards = Vec::with_capacity(stripes.len());
        for stripe in stripes {
            guards.push(self.inner.flights[stripe].lock().await);
        }
        guards
    }

    /// The L1 value of `key` whatever its tag: a guess of what a read will need, never an
    /// answer (only [`Cache::lookup`] says whether it is current).
    pub async fn peek(&self, key: &Key) -> Option<V> {
        self.inner.l1.get(key).await.map(|e| e.value)
    }

    /// The L1 value of `key` if it was stored under `tag` (what a flight ahead of this one
    /// filled).
    pub async fn held(&self, key: &Key, tag: Tag) -> Option<V> {
        self.inner.l1.get(key).await.filter(|e| e.tag == tag).map(|e| e.value)
    }

    /// Reads one value through the cache: the value under `want` at its current tag, loaded
    /// with `load` on a miss (one load per instance for concurrent misses), straight from
    /// `load` when the cache is bypassed.
    pub async fn read<E, Fut>(
        &self,
        want: Want,
        load: impl FnOnce() -> Fut,
    ) -> Result<(V, Outcome), E>
    where
        Fut: Future<Output = Result<V, E>>,
    {
        let Some(mut found) = self.lookup(std::slice::from_ref(&want)).await else {
            return Ok((load().await?, Outcome::Bypass));
        };
        let tag = match found.pop() {
            Some(Found::Hit(value, outcome)) => {
                record(want.key.kind, outcome);
                return Ok((value, outcome));
            }
            Some(Found::Miss(tag)) => tag,
            None => unreachable!("one want, one answer"),
        };
        let _flight = self.flight(&want.key).await;
        if let Some(value) = self.held(&want.key, tag).await {
            record(want.key.kind, Outcome::HitL1);
            return Ok((value, Outcome::HitL1));
        }
        let value = load().await?;
        record(want.key.kind, Outcome::Miss);
        self.fill(vec![(want.key, tag, value.clone())]).await;
        Ok((value, Outcome::Miss))
    }

    /// Moves the generations of `scopes` on. Call after the write committed and before it is
    /// acknowledged. Never fails: if Redis cannot take it, this instance bypasses the cache
    /// until it has moved the epoch on.
    pub async fn invalidate(&self, scopes: &[Scope]) {
        if !self.enabled() || scopes.is_empty() {
            return;
        }
        match &self.inner.redis {
            Some(redis) => redis.bump(scopes).await,
            None => self.inner.local.bump(scopes),
        }
    }

    /// Records that these projects are deleted, so filtered lists holding them are refused.
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

    /// Drops one value from both tiers (after it was refused), so the next load reads the
    /// database rather than finding the refused value again in Redis.
    pub async fn forget(&self, key: &Key) {
        if let Some(redis) = &self.inner.redis {
            redis.delete(&key.slot(&self.inner.config.namespace)).await;
        }
        self.inner.l1.invalidate(key).await;
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

fn flight_stripe(key: &Key) -> usize {
    use std::hash::{BuildHasher, BuildHasherDefault};
    let hash =
        BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default().hash_one(key);
    hash as usize % FLIGHT_STRIPES
}

/// Counts one cache answer under its kind, tier and result. The counters are registered once:
/// a list hit counts one answer per summary, and a registry lookup with its label clones per
/// answer cost more than the rest of the hit path's bookkeeping.
pub fn record(kind: Kind, outcome: Outcome) {
    use std::sync::OnceLock;
    static COUNTERS: OnceLock<Vec<[metrics::Counter; 3]>> = OnceLock::new();
    let tier = match outcome {
        Outcome::HitL1 => 0,
        Outcome::HitL2 => 1,
        Outcome::Miss => 2,
        Outcome::Bypass => return,
    };
    let counters = COUNTERS.get_or_init(|| {
        Kind::ALL
            .iter()
            .map(|kind| {
                let counter = |tier: &'static str, result: &'static str| {
                    metrics::counter!("reelplan_cache_requests_total", "kind" => kind.as_str(), "tier" => tier, "result" => result)
                };
                [counter("l1", "hit"), counter("l2", "hit"), counter("db", "miss")]
            })
            .collect()
    });
    counters[kind as usize][tier].increment(1);
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

    fn want(id: i64) -> Want {
        Want::new(Key::new(Kind::ProjectDetail, id), Scope::Project(id))
    }

    async fn read(cache: &Cache<u64>, version: u64) -> (u64, Outcome) {
        let load = || async { Ok::<_, ()>(version) };
        cache.read(want(1), load).await.expect("loads")
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

    #[test]
    fn every_kind_indexes_its_own_counters() {
        for (i, kind) in Kind::ALL.iter().enumerate() {
            assert_eq!(*kind as usize, i, "{kind:?}");
        }
    }

    /// A batch answers each value on its own: one invalidated scope misses only its values.
    #[tokio::test]
    async fn a_lookup_misses_only_what_was_invalidated() {
        let cache = Cache::<u64>::new(CacheConfig::default()).unwrap();
        let wants: Vec<Want> = (1..=3).map(want).collect();
        let tags = cache.tags(&wants).await.unwrap();
        let values = wants.iter().zip(tags).map(|(w, t)| (w.key.clone(), t, w.key.id as u64));
        cache.fill(values.collect()).await;
        cache.invalidate(&[Scope::Project(2)]).await;
        let found = cache.lookup(&wants).await.unwrap();
        assert!(matches!(found[0], Found::Hit(1, Outcome::HitL1)));
        assert!(matches!(found[1], Found::Miss(_)));
        assert!(matches!(found[2], Found::Hit(3, Outcome::HitL1)));
    }

    impl CacheValue for Vec<u8> {
        fn weight(&self) -> usize {
            self.len()
        }
        fn encode(&self) -> Bytes {
            Bytes::copy_from_slice(self)
        }
        fn decode(bytes: Bytes) -> Option<Self> {
            Some(bytes.to_vec())
        }
    }

    /// A value over the maximum weight is served to its reader but stored in no tier, so the
    /// next read loads it again; lighter ones are cached as usual.
    #[tokio::test]
    async fn a_value_over_the_maximum_weight_is_never_stored() {
        let config = CacheConfig { max_value_bytes: 1000, ..CacheConfig::default() };
        let cache = Cache::<Vec<u8>>::new(config).unwrap();
        let load = |len: usize| move || async move { Ok::<_, ()>(vec![7; len]) };
        for (id, len) in [(1, 1001), (2, 1000)] {
            let key = Want::new(Key::new(Kind::ProjectDetail, id), Scope::Project(id));
            let (first, outcome) = cache.read(key.clone(), load(len)).await.unwrap();
            assert_eq!((first.len(), outcome), (len, Outcome::Miss));
            let (_, again) = cache.read(key, load(len)).await.unwrap();
            let expected = if len > 1000 { Outcome::Miss } else { Outcome::HitL1 };
            assert_eq!(again, expected, "{len} bytes");
        }
        cache.inner.l1.run_pending_tasks().await;
        assert_eq!(cache.l1_usage().1, 1, "only the value within the maximum is held");
    }

    /// A fill under a tag taken before a later invalidation is never served.
    #[tokio::test]
    async fn a_fill_under_an_old_tag_is_never_served() {
        let cache = Cache::<u64>::new(CacheConfig::default()).unwrap();
        let tag = cache.tags(&[want(5)]).await.unwrap()[0];
        cache.invalidate(&[Scope::Project(5)]).await;
        cache.fill(vec![(want(5).key, tag, 1)]).await;
        assert!(matches!(cache.lookup(&[want(5)]).await.unwrap()[0], Found::Miss(_)));
    }
}
