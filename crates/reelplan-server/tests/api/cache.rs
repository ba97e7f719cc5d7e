//! The cache invariants of DESIGN.md: no stale read after an acknowledged write (on any
//! instance), the cache is optional, one miss makes one query.
//!
//! With `REDIS_URL` set, "B" is a second app instance sharing the database and Redis (its own
//! L1, pool and process state); without it, B is the same instance as A.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{Instance, Resp, TestApp, TestUser};

/// The two instances of a coherence test, and whether B is really another instance.
struct Pair {
    app: TestApp,
    b: Option<Instance>,
}

impl Pair {
    async fn new() -> Pair {
        let app = TestApp::spawn().await;
        let b = app.peer().await;
        Pair { app, b }
    }

    fn b(&self) -> &Instance {
        self.b.as_ref().unwrap_or(&self.app.app)
    }

    /// Reads `path` through A twice and B twice; every read must pass `check`, and each
    /// instance's second read must be a cache hit.
    async fn assert_everywhere(&self, path: &str, user: &TestUser, check: impl Fn(&Resp) -> bool) {
        for (name, instance) in [("A", &self.app.app), ("B", self.b())] {
            for attempt in 0..2 {
                let resp = instance.get(path, user).await;
                assert!(
                    check(&resp),
                    "{name} read {attempt} of {path} is stale: {} {:?}",
                    resp.status,
                    resp.body
                );
                if attempt == 1 && resp.status == StatusCode::OK {
                    assert_eq!(resp.cache(), "HIT", "{name}: second read of {path}");
                }
            }
        }
    }

    async fn finish(self) {
        if let Some(b) = &self.b {
            b.assert_no_n_plus_one();
        }
        self.app.finish().await;
    }
}

fn names(resp: &Resp) -> Vec<String> {
    resp.result()
        .as_array()
        .map_or(vec![], |a| a.iter().map(|p| p["name"].as_str().unwrap_or("").to_owned()).collect())
}

/// Every write path of API.md, written through A, is visible at once through A and B.
#[tokio::test]
async fn every_write_is_visible_at_once_on_every_instance() {
    let pair = Pair::new().await;
    let a = &pair.app;
    let (ann, bob, cy) = (a.user("ann").await, a.user("bob").await, a.user("cy").await);
    let id = a.project(&ann, "v1").await;
    let p = format!("/api/projects/{id}");
    let comments = format!("{p}/feedback/comments");
    let messages = format!("{p}/feedback/messages");
    // Warm every cache first, on both instances.
    for path in ["/api/projects", p.as_str(), comments.as_str(), messages.as_str(), "/api/me"] {
        pair.assert_everywhere(path, &ann, |r| r.status == StatusCode::OK).await;
    }
    pair.assert_everywhere("/api/projects", &bob, |r| r.ids().is_empty()).await;

    // Project create: the owner's list.
    let id2 = a.project(&ann, "second").await;
    pair.assert_everywhere("/api/projects", &ann, |r| r.ids() == vec![id2, id]).await;
    // Patch: detail and list.
    a.patch(&p, &ann, json!({"name": "v2"})).await;
    pair.assert_everywhere(&p, &ann, |r| r.result()["name"] == "v2").await;
    pair.assert_everywhere("/api/projects", &ann, |r| names(r) == ["second", "v2"]).await;
    // Phase: detail and list.
    a.put(
        &format!("{p}/phases/filming"),
        &ann,
        json!({"start_date": "2026-06-01T00:00:00Z", "end_date": "2026-06-02T00:00:00Z"}),
    )
    .await;
    pair.assert_everywhere(&p, &ann, |r| {
        r.result()["earliest_start_date"] == "2026-06-01T00:00:00Z"
    })
    .await;
    pair.assert_everywhere("/api/projects", &ann, |r| {
        r.result()[1]["phases"]["filming"]["end_date"] == "2026-06-02T00:00:00Z"
    })
    .await;
    // Member add: the new member's list and access, everyone's member_count.
    let m_bob = a.add_member(&ann, id, &bob, "viewer").await;
    pair.assert_everywhere("/api/projects", &bob, |r| {
        r.ids() == vec![id] && r.result()[0]["my_role"] == "viewer"
    })
    .await;
    pair.assert_everywhere(&p, &bob, |r| r.result()["my_role"] == "viewer").await;
    pair.assert_everywhere(&comments, &bob, |r| r.status == StatusCode::OK).await;
    pair.assert_everywhere("/api/projects", &ann, |r| r.result()[1]["member_count"] == 1).await;
    let m_cy = a.add_member(&ann, id, &cy, "editor").await;
    pair.assert_everywhere("/api/projects", &bob, |r| r.result()[0]["member_count"] == 2).await;
    // Member role change: that member's my_role everywhere.
    a.patch(&format!("{p}/members/{m_bob}"), &ann, json!({"role": "editor"})).await;
    pair.assert_everywhere("/api/projects", &bob, |r| r.result()[0]["my_role"] == "editor").await;
    pair.assert_everywhere(&p, &bob, |r| r.result()["my_role"] == "editor").await;
    // Comments and messages: the thread and the detail's counts.
    let c = a.post(&comments, &bob, json!({"text": "nice", "timecode": 3})).await.result()["id"]
        .as_i64()
        .unwrap();
    pair.assert_everywhere(&comments, &ann, |r| r.ids() == vec![c]).await;
    pair.assert_everywhere(&p, &ann, |r| r.result()["feedback"]["comment_count"] == 1).await;
    a.delete(&format!("{comments}/{c}"), &ann).await;
    pair.assert_everywhere(&comments, &bob, |r| r.ids().is_empty()).await;
    pair.assert_everywhere(&p, &bob, |r| r.result()["feedback"]["comment_count"] == 0).await;
    let m = a.post(&messages, &cy, json!({"text": "hello"})).await.result()["id"].as_i64().unwrap();
    pair.assert_everywhere(&messages, &ann, |r| r.ids() == vec![m]).await;
    pair.assert_everywhere(&p, &bob, |r| r.result()["feedback"]["recent_messages"][0]["id"] == m)
        .await;
    // Memos.
    let memo = a
        .post(&format!("{p}/memos"), &cy, json!({"date": "2026-01-01T00:00:00Z", "text": "call"}))
        .await
        .result()["id"]
        .as_i64()
        .unwrap();
    pair.assert_everywhere(&p, &bob, |r| r.result()["memos"][0]["id"] == memo).await;
    a.delete(&format!("{p}/memos/{memo}"), &cy).await;
    pair.assert_everywhere(&p, &bob, |r| r.result()["memos"] == json!([])).await;
    // Profile: own profile, and the owner's nickname in others' lists, details and threads.
    a.post(&comments, &ann, json!({"text": "owner speaks"})).await;
    pair.assert_everywhere(&comments, &bob, |r| r.result()[0]["user"]["nickname"] == "ann").await;
    a.patch("/api/me", &ann, json!({"nickname": "Annie"})).await;
    pair.assert_everywhere("/api/me", &ann, |r| r.result()["nickname"] == "Annie").await;
    pair.assert_everywhere("/api/projects", &bob, |r| {
        r.result()[0]["owner"]["nickname"] == "Annie"
    })
    .await;
    pair.assert_everywhere(&p, &cy, |r| r.result()["owner"]["nickname"] == "Annie").await;
    pair.assert_everywhere(&comments, &bob, |r| r.result()[0]["user"]["nickname"] == "Annie").await;
    // Member leaves: their access and list; the others' member_count.
    a.delete(&format!("{p}/members/{m_cy}"), &cy).await;
    pair.assert_everywhere(&p, &cy, |r| r.status == StatusCode::NOT_FOUND).await;
    pair.assert_everywhere(&comments, &cy, |r| r.status == StatusCode::NOT_FOUND).await;
    pair.assert_everywhere("/api/projects", &cy, |r| r.ids().is_empty()).await;
    pair.assert_everywhere("/api/projects", &bob, |r| r.result()[0]["member_count"] == 1).await;
    // Member removed by a manager+.
    a.delete(&format!("{p}/members/{m_bob}"), &ann).await;
    pair.assert_everywhere(&p, &bob, |r| r.status == StatusCode::NOT_FOUND).await;
    pair.assert_everywhere("/api/projects", &bob, |r| r.ids().is_empty()).await;
    // Project delete: gone from every list and detail.
    a.add_member(&ann, id, &bob, "viewer").await;
    pair.assert_everywhere("/api/projects", &bob, |r| r.ids() == vec![id]).await;
    a.delete(&p, &ann).await;
    pair.assert_everywhere(&p, &ann, |r| r.status == StatusCode::NOT_FOUND).await;
    pair.assert_everywhere("/api/projects", &bob, |r| r.ids().is_empty()).await;
    pair.assert_everywhere("/api/projects", &ann, |r| r.ids() == vec![id2]).await;
    pair.finish().await;
}

/// A project deleted while a member's list is cached is refused, even when the member was
/// added too late for the delete to know of them.
#[tokio::test]
async fn a_deleted_project_never_shows_in_a_cached_list() {
    let pair = Pair::new().await;
    let a = &pair.app;
    let (ann, bob) = (a.user("ann").await, a.user("bob").await);
    let id = a.project(&ann, "doomed").await;
    a.add_member(&ann, id, &bob, "viewer").await;
    pair.assert_everywhere("/api/projects", &bob, |r| r.ids() == vec![id]).await;
    // Delete through the store, moving on only the project's own scope and burying it (what a
    // delete that missed Bob among its participants would do): Bob's memberships and lists
    // are untouched.
    let by = reelplan_domain::UserId(ann.id);
    assert!(a.store().delete_project(reelplan_domain::ProjectId(id), by).await.unwrap().is_some());
    a.state.cache.invalidate(&[reelplan_cache::Scope::Project(id)]).await;
    a.state.cache.bury(&[id]).await;
    pair.assert_everywhere("/api/projects", &bob, |r| r.ids().is_empty()).await;
    pair.finish().await;
}

/// Readers and writers on the same project for a few seconds: every read reflects every
/// write acknowledged before the read began.
///
/// Each writer owns one field (Ann the name, Bob the description) and writes an increasing
/// number into it, so each field's newest committed value is also its highest: a read that
/// began after value `n` was acknowledged and shows less than `n` is stale. Both writers
/// invalidate the same detail and lists, through both instances.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_stale_read_under_concurrent_writes() {
    let pair = Arc::new(Pair::new().await);
    let ann = pair.app.user("ann").await;
    let bob = pair.app.user("bob").await;
    let id = pair.app.project(&ann, "0").await;
    pair.app.add_member(&ann, id, &bob, "manager").await;
    pair.app.patch(&format!("/api/projects/{id}"), &ann, json!({"description": "0"})).await;
    const FIELDS: [&str; 2] = ["name", "description"];
    let acked: Arc<[AtomicI64; 2]> = Arc::new([AtomicI64::new(0), AtomicI64::new(0)]);
    let stop = Arc::new(AtomicBool::new(false));
    let (reads, stale) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)));
    let mut tasks = Vec::new();
    for (field, user) in [ann.clone(), bob.clone()].into_iter().enumerate() {
        let (pair, acked, stop) = (pair.clone(), acked.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                // `oneshot` on a cache hit never returns Pending: yield, or these loops starve
                // the runtime (and its timer) of both worker threads.
                tokio::task::yield_now().await;
                n += 1;
                let instance = if n % 2 == 0 { &pair.app.app } else { pair.b() };
                let body = json!({ FIELDS[field]: n.to_string() });
                let resp = instance.patch(&format!("/api/projects/{id}"), &user, body).await;
                assert_eq!(resp.status, StatusCode::OK);
                acked[field].store(n, Ordering::SeqCst);
            }
        }));
    }
    for reader in 0..4 {
        let (pair, acked, stop, reads, stale) =
            (pair.clone(), acked.clone(), stop.clone(), reads.clone(), stale.clone());
        let user = if reader % 2 == 0 { ann.clone() } else { bob.clone() };
        tasks.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                tokio::task::yield_now().await;
                i += 1;
                let floors = [acked[0].load(Ordering::SeqCst), acked[1].load(Ordering::SeqCst)];
                let instance = if i % 2 == 0 { &pair.app.app } else { pair.b() };
                let path = if i % 3 == 0 {
                    "/api/projects".to_owned()
                } else {
                    format!("/api/projects/{id}")
                };
                let resp = instance.get(&path, &user).await;
                let project = match resp.result() {
                    Value::Array(list) => {
                        list.iter().find(|p| p["id"] == id).cloned().expect("listed")
                    }
                    detail => detail.clone(),
                };
                reads.fetch_add(1, Ordering::Relaxed);
                for (field, floor) in FIELDS.iter().zip(floors) {
                    let seen: i64 =
                        project[field].as_str().and_then(|s| s.parse().ok()).expect("a number");
                    if seen < floor {
                        stale.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.unwrap();
    }
    let (reads, stale) = (reads.load(Ordering::Relaxed), stale.load(Ordering::Relaxed));
    let writes = acked[0].load(Ordering::Relaxed) + acked[1].load(Ordering::Relaxed);
    println!("concurrent coherence: {reads} reads, {writes} writes, {stale} stale");
    assert!(
        reads > 100 && writes > 20,
        "the test exercised too little: {reads} reads, {writes} writes"
    );
    assert_eq!(stale, 0);
    if let Ok(pair) = Arc::try_unwrap(pair) {
        pair.finish().await;
    }
}

/// Fifty concurrent misses of one key: one statement in all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_misses_run_one_query() {
    let app = Arc::new(TestApp::spawn().await);
    let ann = app.user("ann").await;
    let id = app.project(&ann, "popular").await;
    app.chill(&ann, id).await;
    let path = format!("/api/projects/{id}");
    let calls = (0..50).map(|_| {
        let (app, ann, path) = (app.clone(), ann.clone(), path.clone());
        tokio::spawn(async move { app.get(&path, &ann).await })
    });
    let responses = futures::future::join_all(calls).await;
    let total: u32 = responses.iter().map(|r| r.as_ref().unwrap().queries()).sum();
    let misses = responses.iter().filter(|r| r.as_ref().unwrap().cache() == "MISS").count();
    assert!(responses.iter().all(|r| r.as_ref().unwrap().status == StatusCode::OK));
    assert_eq!((total, misses), (1, 1), "one load for fifty concurrent misses");
    if let Ok(app) = Arc::try_unwrap(app) {
        app.finish().await;
    }
}

/// Redis unreachable: every endpoint answers from the database, correctly, never 5xx.
#[tokio::test]
async fn redis_down_means_bypass_not_failure() {
    let app = TestApp::spawn_with(|c| {
        c.cache.redis_url = Some("redis://127.0.0.1:1".into());
        c.cache.redis_timeout = Duration::from_millis(100);
    })
    .await;
    let started = Instant::now();
    let ann = app.user("ann").await;
    let id = app.project(&ann, "offline").await;
    let p = format!("/api/projects/{id}");
    for path in [
        "/api/me",
        "/api/projects",
        p.as_str(),
        &format!("{p}/feedback/comments"),
        &format!("{p}/feedback/messages"),
    ] {
        for _ in 0..2 {
            let resp = app.get(path, &ann).await;
            assert_eq!(resp.status, StatusCode::OK, "{path}");
            assert_eq!(resp.cache(), "BYPASS", "{path}");
            assert_eq!(resp.queries(), 1, "{path}");
        }
    }
    app.patch(&p, &ann, json!({"name": "renamed"})).await;
    assert_eq!(app.get(&p, &ann).await.result()["name"], "renamed");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "a dead Redis must not make requests wait"
    );
    app.finish().await;
}

/// `REELPLAN_CACHE=off`: always the database, always correct.
#[tokio::test]
async fn cache_off_bypasses() {
    let app = TestApp::spawn_with(|c| c.cache.enabled = false).await;
    let ann = app.user("ann").await;
    let id = app.project(&ann, "plain").await;
    for _ in 0..2 {
        let resp = app.get(&format!("/api/projects/{id}"), &ann).await;
        assert_eq!((resp.cache(), resp.queries()), ("BYPASS", 1));
    }
    app.finish().await;
}

/// Redis may evict (or expire) a generation key: the next read must not take the view of a
/// value cached before the last write. Runs with `REDIS_URL` only.
#[tokio::test]
async fn an_evicted_generation_never_revives_an_older_value() {
    let app = TestApp::spawn().await;
    let Some(url) = app.config.cache.redis_url.clone() else {
        println!("skipped: REDIS_URL not set");
        return app.finish().await;
    };
    let ann = app.user("ann").await;
    let id = app.project(&ann, "before").await;
    let p = format!("/api/projects/{id}");
    let generation = format!("{}:g:p:{id}", app.config.cache.namespace);
    // A quiet project's generation expires; the detail is then cached under whatever view a
    // missing generation gives.
    redis_del(&url, &generation).await;
    assert_eq!(app.get(&p, &ann).await.cache(), "MISS");
    assert_eq!(app.get(&p, &ann).await.cache(), "HIT");
    // The write moves the generation on; nothing reads the detail before the generation key
    // is evicted, so the slot still holds "before", tagged with the pre-write view.
    assert_eq!(app.patch(&p, &ann, json!({"name": "after"})).await.status, StatusCode::OK);
    redis_del(&url, &generation).await;
    let resp = app.get(&p, &ann).await;
    assert_eq!((resp.result()["name"].as_str(), resp.cache()), (Some("after"), "MISS"));
    app.finish().await;
}

/// `DEL key` in Redis's own protocol (the server crate has no Redis client of its own).
async fn redis_del(url: &str, key: &str) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = url.trim_start_matches("redis://").trim_end_matches('/');
    let mut conn = tokio::net::TcpStream::connect(addr).await.expect("redis");
    let command = format!("*2\r\n$3\r\nDEL\r\n${}\r\n{key}\r\n", key.len());
    conn.write_all(command.as_bytes()).await.unwrap();
    let mut reply = [0u8; 16];
    let n = conn.read(&mut reply).await.unwrap();
    assert_eq!(&reply[..n], b":1\r\n", "the generation key existed and was deleted");
}

/// Renames a project in the database alone, behind every cache: a later read that still shows
/// the old name proves that document came from the cache, not from a reload.
async fn rename_behind_the_cache(a: &TestApp, owner: &TestUser, id: i64, name: &str) {
    let name = reelplan_domain::ProjectName::parse(name).unwrap();
    let patch = reelplan_store::ProjectPatch { name: Some(name), ..Default::default() };
    let (id, owner) = (reelplan_domain::ProjectId(id), reelplan_domain::UserId(owner.id));
    assert!(a.store().update_project(id, &patch, owner).await.unwrap().is_some());
}

/// A phase change of one project leaves every member's list a hit on every instance: the list
/// is memberships plus one summary per project, and the write filled the summary it changed.
/// The other projects' summaries are not reloaded (the rename behind the cache stays unseen).
#[tokio::test]
async fn a_phase_change_leaves_every_members_list_a_hit() {
    let pair = Pair::new().await;
    let a = &pair.app;
    let (ann, bob, cy) = (a.user("ann").await, a.user("bob").await, a.user("cy").await);
    let ids = [a.project(&ann, "one").await, a.project(&ann, "two").await];
    for id in ids {
        a.add_member(&ann, id, &bob, "editor").await;
        a.add_member(&ann, id, &cy, "viewer").await;
    }
    for user in [&ann, &bob, &cy] {
        pair.assert_everywhere("/api/projects", user, |r| r.ids() == vec![ids[1], ids[0]]).await;
    }
    rename_behind_the_cache(a, &ann, ids[0], "renamed").await;
    let dates = json!({"start_date": "2026-06-01T00:00:00Z", "end_date": "2026-06-02T00:00:00Z"});
    let put = a.put(&format!("/api/projects/{}/phases/filming", ids[1]), &bob, dates).await;
    assert_eq!(put.status, StatusCode::OK);
    for user in [&ann, &bob, &cy] {
        for instance in [&pair.app.app, pair.b()] {
            let resp = instance.get("/api/projects", user).await;
            assert_eq!((resp.cache(), resp.queries()), ("HIT", 0), "{:?}", resp.body);
            let list = resp.result();
            assert_eq!(list[0]["earliest_start_date"], "2026-06-01T00:00:00Z");
            assert_eq!(list[1]["name"], "one", "the untouched summary was not reloaded");
        }
    }
    pair.finish().await;
}

/// A summary lost from the cache (its project's scope moved on with no fill) costs the next
/// list read one statement, and the read after it none.
#[tokio::test]
async fn a_lost_summary_costs_the_next_list_one_statement() {
    let pair = Pair::new().await;
    let a = &pair.app;
    let ann = a.user("ann").await;
    let ids = [a.project(&ann, "one").await, a.project(&ann, "two").await];
    pair.assert_everywhere("/api/projects", &ann, |r| r.ids() == vec![ids[1], ids[0]]).await;
    rename_behind_the_cache(a, &ann, ids[0], "renamed").await;
    rename_behind_the_cache(a, &ann, ids[1], "also renamed").await;
    a.state.cache.invalidate(&[reelplan_cache::Scope::Project(ids[1])]).await;
    let resp = a.get("/api/projects", &ann).await;
    assert_eq!((resp.cache(), resp.queries()), ("MISS", 1));
    assert_eq!(names(&resp), ["also renamed", "one"], "only the lost summary was read");
    let resp = a.get("/api/projects", &ann).await;
    assert_eq!((resp.cache(), resp.queries()), ("HIT", 0));
    pair.finish().await;
}

/// A comment reloads the detail's feedback block alone: the rest of the detail stays cached
/// (the rename behind the cache stays unseen) while the counts move on, on every instance.
#[tokio::test]
async fn a_comment_leaves_the_rest_of_the_detail_cached() {
    let pair = Pair::new().await;
    let a = &pair.app;
    let ann = a.user("ann").await;
    let id = a.project(&ann, "cut").await;
    let p = format!("/api/projects/{id}");
    pair.assert_everywhere(&p, &ann, |r| r.result()["feedback"]["comment_count"] == 0).await;
    rename_behind_the_cache(a, &ann, id, "renamed").await;
    let post = a.post(&format!("{p}/feedback/comments"), &ann, json!({"text": "tighter"})).await;
    assert_eq!(post.status, StatusCode::CREATED);
    for instance in [&pair.app.app, pair.b()] {
        let resp = instance.get(&p, &ann).await;
        assert_eq!(resp.result()["feedback"]["comment_count"], 1);
        assert_eq!(resp.result()["name"], "cut", "the detail document was not reloaded");
    }
    pair.finish().await;
}

/// What a write reads back for its response fills the cache: the next read of the detail,
/// on the other instance too, runs no statement.
#[tokio::test]
async fn a_writes_read_back_serves_the_next_read_everywhere() {
    let pair = Pair::new().await;
    let a = &pair.app;
    let ann = a.user("ann").await;
    let id = a.project(&ann, "v1").await;
    let p = format!("/api/projects/{id}");
    pair.assert_everywhere(&p, &ann, |r| r.status == StatusCode::OK).await;
    let patch = a.patch(&p, &ann, json!({"name": "v2"})).await;
    assert_eq!(patch.status, StatusCode::OK);
    for instance in [pair.b(), &pair.app.app] {
        let resp = instance.get(&p, &ann).await;
        assert_eq!((resp.cache(), resp.queries()), ("HIT", 0));
        assert_eq!(resp.result()["name"], "v2");
        assert_eq!(resp.body, patch.body, "the write answered what the read serves");
    }
    pair.finish().await;
}

/// A comment's read-back fills its thread's first page and the detail's feedback block: the
/// readers who refetch after it, on either instance, run no statement and see it.
#[tokio::test]
async fn a_comment_fills_its_thread_and_the_feedback_block() {
    let pair = Pair::new().await;
    let a = &pair.app;
    let ann = a.user("ann").await;
    let id = a.project(&ann, "cut").await;
    let (p, comments) =
        (format!("/api/projects/{id}"), format!("/api/projects/{id}/feedback/comments"));
    pair.assert_everywhere(&comments, &ann, |r| r.ids().is_empty()).await;
    let post = a.post(&comments, &ann, json!({"text": "tighter", "timecode": 4})).await;
    assert_eq!((post.status, post.queries()), (StatusCode::CREATED, 2));
    let c = post.result()["id"].as_i64().unwrap();
    for instance in [pair.b(), &pair.app.app] {
        let thread = instance.get(&comments, &ann).await;
        assert_eq!((thread.cache(), thread.queries(), thread.ids()), ("HIT", 0, vec![c]));
        let detail = instance.get(&p, &ann).await;
        assert_eq!((detail.cache(), detail.queries()), ("HIT", 0));
        assert_eq!(detail.result()["feedback"]["comment_count"], 1);
    }
    pair.finish().await;
}

/// A detail heavier than `max_value_bytes` is served whole on every read but never cached, so a
/// project grown to its caps cannot take the cache's memory; a light one is cached as usual.
#[tokio::test]
async fn a_document_over_the_maximum_weight_is_served_but_not_cached() {
    let app = TestApp::spawn_with(|config| config.cache.max_value_bytes = 4096).await;
    let ann = app.user("ann").await;
    let heavy = app.project(&ann, "Heavy").await;
    let light = app.project(&ann, "Light").await;
    let memo = json!({"date": "2026-02-01T00:00:00Z", "text": "x".repeat(2000)});
    for _ in 0..3 {
        let resp = app.post(&format!("/api/projects/{heavy}/memos"), &ann, memo.clone()).await;
        assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    }
    for (id, cached) in [(heavy, false), (light, true)] {
        app.chill(&ann, id).await;
        let path = format!("/api/projects/{id}");
        let first = app.get(&path, &ann).await;
        assert_eq!(first.cache(), "MISS");
        let second = app.get(&path, &ann).await;
        assert_eq!(second.body, first.body, "the same document either way");
        let expected = if cached { ("HIT", 0) } else { ("MISS", 1) };
        assert_eq!((second.cache(), second.queries()), expected, "project {id}");
    }
    let heavy_memos = app.get(&format!("/api/projects/{heavy}"), &ann).await;
    assert_eq!(heavy_memos.result()["memos"].as_array().map(Vec::len), Some(3));
    app.finish().await;
}
