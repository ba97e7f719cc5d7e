//! The cache's fault model (DESIGN.md invariant 7), each case reproduced against real servers
//! on TCP sharing one database and a real Redis:
//!
//! - Redis refuses the writing instance's invalidation while the others still reach it: the
//!   write retries within the bump deadline, and past it the others serve the older value only
//!   until the writing instance reaches Redis again (then at most one recovery interval more);
//! - Redis restarted from a snapshot written before later writes: nothing from before them is
//!   served;
//! - two deployments (two databases) sharing one Redis: neither reads the other's values.
//!
//! They need `REDIS_URL` (and `redis-server` on the PATH for the snapshot case); without it
//! each says it was skipped. The database is a SQLite file per test.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use reelplan_server::config::PasswordCost;
use reelplan_server::config::Secret;
use reelplan_server::Config;
use serde_json::{json, Value};
use tokio::net::TcpListener;

mod support;

use support::{host_port, via_proxy, Proxy};

fn redis_url(test: &str) -> Option<String> {
    let url = std::env::var("REDIS_URL").ok();
    if url.is_none() {
        println!("{test}: skipped (REDIS_URL is not set)");
    }
    url
}

/// A fresh SQLite file under the temp dir, and a config of fast hashing around it.
fn config(redis: &str, prefix: &str) -> (Config, PathBuf) {
    let dir =
        std::env::temp_dir().join(format!("reelplan-cache-faults-{:08x}", rand::random::<u32>()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut config = Config::embedded(dir.clone());
    config.database.url = format!("sqlite://{}/db.sqlite", dir.display());
    config.auth.jwt_secret = Some(Secret("cache-fault-tests-secret-0123456789".into()));
    config.auth.password_cost = PasswordCost { memory_kib: 64, iterations: 1, parallelism: 1 };
    config.cache.redis_url = Some(redis.to_owned());
    config.cache.namespace = prefix.to_owned();
    (config, dir)
}

/// A server on a random port; it stops when the test's runtime ends.
async fn start(config: &Config) -> String {
    let state = reelplan_server::build_state(config).await.expect("state");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(reelplan_server::serve(listener, state, std::future::pending()));
    base
}

struct Client {
    http: reqwest::Client,
    token: String,
}

impl Client {
    async fn signup(base: &str, name: &str) -> Client {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
        let body = json!({"email": format!("{name}@example.com"), "password": "password-123", "nickname": name});
        let resp = http.post(format!("{base}/api/auth/signup")).json(&body).send().await.unwrap();
        assert_eq!(resp.status(), 201);
        let value: Value = resp.json().await.unwrap();
        let token = value["result"]["token"].as_str().unwrap().to_owned();
        Client { http, token }
    }

    async fn send(&self, method: reqwest::Method, url: String, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, url).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let resp = request.send().await.expect("the server answers");
        assert!(resp.status().is_success(), "{}", resp.status());
        resp.json().await.unwrap()
    }

    async fn create(&self, base: &str, name: &str) -> i64 {
        let url = format!("{base}/api/projects");
        let value = self.send(reqwest::Method::POST, url, Some(json!({"name": name}))).await;
        value["result"]["id"].as_i64().unwrap()
    }

    async fn name(&self, base: &str, id: i64) -> String {
        let value =
            self.send(reqwest::Method::GET, format!("{base}/api/projects/{id}"), None).await;
        value["result"]["name"].as_str().unwrap().to_owned()
    }

    async fn rename(&self, base: &str, id: i64, name: &str) {
        let url = format!("{base}/api/projects/{id}");
        self.send(reqwest::Method::PATCH, url, Some(json!({"name": name}))).await;
    }
}

/// Instance A reaches Redis through a proxy the test cuts; B reaches it directly. A write on A
/// while the proxy is cut waits for its invalidation (the proxy comes back within the bump
/// deadline), so B never serves the older name after the write answered. Cut for longer than
/// the deadline, the write answers anyway, and B serves the new name within one recovery
/// interval of A reaching Redis again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalidation_refused_to_one_instance_is_retried_then_bounded() {
    let Some(redis) = redis_url("an_invalidation_refused_to_one_instance_is_retried_then_bounded")
    else {
        return;
    };
    let proxy = Proxy::start(host_port(&redis, 6379)).await;
    let prefix = format!("rpbump{:08x}", rand::random::<u32>());
    let (mut config_a, dir) = config(&via_proxy(&redis, proxy.port, None), &prefix);
    config_a.cache.bump_deadline = Duration::from_millis(1500);
    let mut config_b = config_a.clone();
    config_b.cache.redis_url = Some(redis.clone());
    let (a, b) = (start(&config_a).await, start(&config_b).await);
    let ann = Client::signup(&a, "ann").await;
    let id = ann.create(&a, "v1").await;
    for _ in 0..2 {
        assert_eq!(ann.name(&b, id).await, "v1");
    }

    // Within the deadline: the write waits for Redis, then B reads the new name at once.
    proxy.cut().await;
    let started = Instant::now();
    let write = tokio::spawn({
        let (http, token, a) = (ann.http.clone(), ann.token.clone(), a.clone());
        async move { Client { http, token }.rename(&a, id, "v2").await }
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    proxy.restore().await;
    write.await.unwrap();
    let waited = started.elapsed();
    assert_eq!(ann.name(&b, id).await, "v2", "B served the old name after the write answered");
    println!("a write waited {waited:?} for its invalidation, then B read it at once");

    // Past the deadline: the write answers; B may serve the old name until A reaches Redis.
    proxy.cut().await;
    let started = Instant::now();
    ann.rename(&a, id, "v3").await;
    let answered = started.elapsed();
    println!("past the deadline: the write answered after {answered:?}");
    assert!(answered >= config_a.cache.bump_deadline, "answered after {answered:?}");
    let stale_while_cut = ann.name(&b, id).await != "v3";
    proxy.restore().await;
    let restored = Instant::now();
    while ann.name(&b, id).await != "v3" {
        assert!(restored.elapsed() < Duration::from_secs(2), "B still stale 2 s after the restore");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "past the deadline: the write answered after {answered:?}; B stale while cut: \
         {stale_while_cut}; fresh {:?} after the restore",
        restored.elapsed()
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// A port nobody listens on, for a Redis of the test's own.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn redis_server(port: u16, dir: &std::path::Path) -> std::process::Child {
    let child = std::process::Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly"])
        .args(["no", "--dir", &dir.display().to_string(), "--dbfilename", "dump.rdb"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("redis-server starts");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "redis-server did not listen within 10 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

/// Sends one command in RESP and reads its answer.
async fn redis_command(port: u16, args: &[&str]) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut conn = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("redis");
    let mut command = format!("*{}\r\n", args.len());
    for arg in args {
        command.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
    }
    conn.write_all(command.as_bytes()).await.unwrap();
    let mut reply = [0u8; 64];
    let _ = conn.read(&mut reply).await;
}

/// Redis saved a snapshot, the project was renamed, Redis restarted from that snapshot: its
/// generations and values are the ones from before the rename, and the instance must not
/// serve them (the restarted process has another run id, hence another epoch).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restored_from_an_older_snapshot_serves_nothing_from_before() {
    if redis_url("a_redis_restored_from_an_older_snapshot_serves_nothing_from_before").is_none() {
        return;
    }
    if std::process::Command::new("redis-server").arg("--version").output().is_err() {
        println!("a_redis_restored_from_an_older_snapshot_serves_nothing_from_before: skipped (no redis-server)");
        return;
    }
    let port = free_port();
    let snapshots =
        std::env::temp_dir().join(format!("reelplan-rdb-{:08x}", rand::random::<u32>()));
    std::fs::create_dir_all(&snapshots).unwrap();
    let mut redis = redis_server(port, &snapshots);
    let (config, dir) = config(&format!("redis://127.0.0.1:{port}"), "rpsnap");
    let a = start(&config).await;
    let ann = Client::signup(&a, "ann").await;
    let id = ann.create(&a, "before").await;
    assert_eq!(ann.name(&a, id).await, "before");
    redis_command(port, &["SAVE"]).await;
    ann.rename(&a, id, "after").await;
    assert_eq!(ann.name(&a, id).await, "after");
    // Killed, not shut down: nothing is saved, and no other Redis can be hit by mistake.
    let _ = redis.kill();
    let _ = redis.wait();
    redis = redis_server(port, &snapshots);
    for _ in 0..3 {
        assert_eq!(ann.name(&a, id).await, "after", "a value from before the snapshot came back");
    }
    let _ = redis.kill();
    let _ = redis.wait();
    let _ = std::fs::remove_dir_all(snapshots);
    let _ = std::fs::remove_dir_all(dir);
}

/// Two deployments, each with its own database, share one Redis and one key prefix: their
/// projects have the same ids, and neither ever reads the other's cached documents.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_deployments_sharing_a_redis_never_read_each_others_values() {
    let Some(redis) = redis_url("two_deployments_sharing_a_redis_never_read_each_others_values")
    else {
        return;
    };
    let prefix = format!("rpshared{:08x}", rand::random::<u32>());
    let (config_a, dir_a) = config(&redis, &prefix);
    let (config_b, dir_b) = config(&redis, &prefix);
    let (a, b) = (start(&config_a).await, start(&config_b).await);
    let (ann, bob) = (Client::signup(&a, "ann").await, Client::signup(&b, "bob").await);
    let (id_a, id_b) = (ann.create(&a, "ann's").await, bob.create(&b, "bob's").await);
    assert_eq!(id_a, id_b, "the same ids in both databases");
    for _ in 0..2 {
        assert_eq!(ann.name(&a, id_a).await, "ann's");
        assert_eq!(bob.name(&b, id_b).await, "bob's");
    }
    let _ = std::fs::remove_dir_all(dir_a);
    let _ = std::fs::remove_dir_all(dir_b);
}
