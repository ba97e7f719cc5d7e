//! Redis round trips of the cache's write-side operations, counted by the Redis server itself
//! (`INFO stats`, `total_reads_processed`: one per request or pipeline a client sends). Needs
//! `REDIS_URL`; says it was skipped without it. One test in this binary, so no other test's
//! traffic lands in the count while it runs.

use bytes::Bytes;
use reelplan_cache::{Cache, CacheConfig, CacheValue, Key, Kind, Scope, Want};

#[derive(Clone)]
struct Text(Bytes);

impl CacheValue for Text {
    fn weight(&self) -> usize {
        self.0.len()
    }
    fn encode(&self) -> Bytes {
        self.0.clone()
    }
    fn decode(bytes: Bytes) -> Option<Self> {
        Some(Text(bytes))
    }
}

/// Requests the Redis server has read so far, the `INFO` that asks included.
async fn reads(admin: &mut redis::aio::MultiplexedConnection) -> u64 {
    let info: String = redis::cmd("INFO").arg("stats").query_async(admin).await.unwrap();
    let line = info.lines().find_map(|l| l.strip_prefix("total_reads_processed:"));
    line.expect("total_reads_processed in INFO stats").trim().parse().unwrap()
}

/// A write's bump and the tags its read-back fills under go in one round trip, where the two
/// calls take two; the tags it gives are the ones a lookup after the bump sees.
#[tokio::test]
async fn a_bump_and_the_read_backs_tags_take_one_round_trip() {
    let Ok(url) = std::env::var("REDIS_URL") else {
        println!("skipped: REDIS_URL is not set");
        return;
    };
    let namespace = format!("rp-test-round-trips-{}", std::process::id());
    let config = CacheConfig { redis_url: Some(url.clone()), namespace, ..CacheConfig::default() };
    let cache: Cache<Text> = Cache::new(config).unwrap();
    let mut admin =
        redis::Client::open(url).unwrap().get_multiplexed_async_connection().await.unwrap();
    let scope = Scope::Project(7);
    let want = Want::new(Key::new(Kind::ProjectDetail, 7), scope);
    // Learns the server's identity and starts the epoch and the generation.
    let before = cache.tags(std::slice::from_ref(&want)).await.expect("tags");

    let start = reads(&mut admin).await;
    cache.invalidate(&[scope]).await;
    let apart = cache.tags(std::slice::from_ref(&want)).await.expect("tags");
    let two_calls = reads(&mut admin).await - start - 1;

    let start = reads(&mut admin).await;
    let merged = cache.invalidate_then_tags(&[scope], std::slice::from_ref(&want)).await;
    let one_call = reads(&mut admin).await - start - 1;

    assert_eq!(two_calls, 2, "invalidate, then tags");
    assert_eq!(one_call, 1, "invalidate_then_tags");
    let merged = merged.expect("tags");
    assert_ne!(apart, before, "the bump moved the tag on");
    assert_ne!(merged, apart, "the merged bump moved it on again");
    let after = cache.tags(std::slice::from_ref(&want)).await.expect("tags");
    assert_eq!(after, merged, "the tags given are those after the bump");
}
