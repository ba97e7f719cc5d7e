//! Fault tests: the real server on TCP, with a TCP proxy between it and PostgreSQL or Redis
//! that the test cuts (listener closed, live connections dropped: what a restart looks like
//! from the client) and restores. The machine's PostgreSQL and Redis keep running for
//! everyone else. Also graceful shutdown and load shedding, which need a real listener.
//!
//! PostgreSQL: `DATABASE_URL` when it is a postgres URL, else `postgres://postgres@127.0.0.1:5432/postgres`.
//! Redis: `REDIS_URL`, else `redis://127.0.0.1:6379`.
//!
//! The bounds asserted (503 within 2 s, recovery within 5 s) are the contract's; each test
//! prints the figures it measured (`cargo test --test faults -- --nocapture`).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reelplan_server::config::PasswordCost;
use reelplan_server::config::Secret;
use reelplan_server::{AppState, Config};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

mod support;

use support::{host_port, via_proxy, Proxy};

fn postgres_base() -> String {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn redis_base() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

// ---------------------------------------------------------------------------------------------
// The server.

fn base_config(database_url: String) -> Config {
    let mut config = Config::embedded(std::env::temp_dir());
    config.database.url = database_url;
    config.auth.jwt_secret = Some(Secret("fault-tests-secret-0123456789abcdef".into()));
    config.auth.password_cost = PasswordCost { memory_kib: 64, iterations: 1, parallelism: 1 };
    config.cache.namespace = format!("rpfault{:08x}", rand::random::<u32>());
    config
}

fn sqlite_url() -> (String, std::path::PathBuf) {
    let path = std::env::temp_dir().join(format!(
        "reelplan-faults-{}-{:08x}.db",
        std::process::id(),
        rand::random::<u32>()
    ));
    (format!("sqlite://{}", path.display()), path)
}

fn remove_sqlite(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

/// One server on a random port, stopped by `stop`.
struct Server {
    base: String,
    state: AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    async fn start(config: &Config) -> Server {
        let state = reelplan_server::build_state(config).await.expect("state");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let task = tokio::spawn(reelplan_server::serve(listener, state.clone(), shutdown));
        Server { base, state, stop: Some(stop), task }
    }

    fn addr(&self) -> String {
        self.base.trim_start_matches("http://").to_owned()
    }

    /// Signals shutdown; returns how long `serve` took to return.
    async fn shutdown(mut self) -> Duration {
        let started = Instant::now();
        let _ = self.stop.take().expect("running").send(());
        self.task.await.expect("serve task").expect("serve result");
        started.elapsed()
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap()
}

#[derive(Debug)]
struct Answer {
    status: u16,
    body: Value,
    took: Duration,
}

async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: Option<&str>,
    body: Option<Value>,
) -> Answer {
    let started = Instant::now();
    let mut request = client.request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("the server answers (never hangs)");
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap_or_default();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Answer { status, body, took: started.elapsed() }
}

async fn signup(client: &reqwest::Client, base: &str, name: &str) -> (i64, String) {
    let body = json!({"email": format!("{name}@example.com"), "password": "password-123", "nickname": name});
    let answer =
        call(client, reqwest::Method::POST, format!("{base}/api/auth/signup"), None, Some(body))
            .await;
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    let result = &answer.body["result"];
    (result["user"]["id"].as_i64().unwrap(), result["token"].as_str().unwrap().to_owned())
}

async fn create_project(client: &reqwest::Client, base: &str, token: &str, name: &str) -> i64 {
    let answer = call(
        client,
        reqwest::Method::POST,
        format!("{base}/api/projects"),
        Some(token),
        Some(json!({"name": name})),
    )
    .await;
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    answer.body["result"]["id"].as_i64().unwrap()
}

/// Opens a raw HTTP/1.1 request whose JSON body is only half sent: the handler is then
/// in flight, waiting for the rest. Returns the stream and the rest of the body.
async fn half_sent_request(addr: &str, path: &str, token: &str, body: &str) -> (TcpStream, String) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let half = body.len() / 2;
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body.as_bytes()[..half]).await.unwrap();
    stream.flush().await.unwrap();
    (stream, body[half..].to_owned())
}

/// Sends the rest of the body and reads the status code of the response.
async fn finish_request(mut stream: TcpStream, rest: &str) -> u16 {
    stream.write_all(rest.as_bytes()).await.unwrap();
    read_status(stream).await
}

/// Reads the status code of the response on `stream`.
async fn read_status(mut stream: TcpStream) -> u16 {
    let mut buffer = vec![0u8; 4096];
    let mut read = 0;
    while read < 12 {
        let n = stream.read(&mut buffer[read..]).await.expect("response");
        assert!(n > 0, "connection closed before a response");
        read += n;
    }
    let head = String::from_utf8_lossy(&buffer[..read]);
    head[9..12].parse().expect("status code")
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL outage.

/// PostgreSQL cut under load: every request answers (200, or 503 `unavailable` within 2 s),
/// none is a 5xx other than 503, none hangs, and service is back within 5 s of the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_outage_answers_503_within_2s_and_recovers_within_5s() {
    let base = postgres_base();
    let (store, guard) =
        reelplan_store_postgres::connect_isolated_for_tests(&base).await.expect("PostgreSQL");
    drop(store);
    let proxy = Proxy::start(host_port(&base, 5432)).await;
    let mut config = base_config(via_proxy(&base, proxy.port, Some(guard.name())));
    // Every read must reach the database: the cache would (legitimately) hide the outage.
    config.cache.enabled = false;
    let server = Server::start(&config).await;
    let http = client();
    let (_, token) = signup(&http, &server.base, "ann").await;
    let project = create_project(&http, &server.base, &token, "Outage").await;

    // (started, answer) of every request; workers run until told to stop.
    let log: Arc<Mutex<Vec<(Instant, Answer)>>> = Arc::default();
    let running = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let mut workers = Vec::new();
    for worker in 0..6 {
        let (http, log, running, token) =
            (http.clone(), log.clone(), running.clone(), token.clone());
        let url = if worker % 2 == 0 {
            format!("{}/api/projects/{project}", server.base)
        } else {
            format!("{}/api/me", server.base)
        };
        workers.push(tokio::spawn(async move {
            while running.load(std::sync::atomic::Ordering::Relaxed) {
                let started = Instant::now();
                let answer =
                    call(&http, reqwest::Method::GET, url.clone(), Some(&token), None).await;
                log.lock().unwrap().push((started, answer));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    let cut_at = Instant::now();
    proxy.cut().await;
    // A write during the outage answers 503 too.
    let write = call(
        &http,
        reqwest::Method::POST,
        format!("{}/api/projects", server.base),
        Some(&token),
        Some(json!({"name": "during"})),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(3000)).await;
    proxy.restore().await;
    let restored_at = Instant::now();
    tokio::time::sleep(Duration::from_millis(6000)).await;
    running.store(false, std::sync::atomic::Ordering::Relaxed);
    for worker in workers {
        worker.await.unwrap();
    }

    assert_eq!(write.status, 503, "{:?}", write.body);
    assert_eq!(write.body["code"], "unavailable");
    let log = std::mem::take(&mut *log.lock().unwrap());
    let mut outage_503 = Vec::new();
    for (started, answer) in log.iter() {
        assert!(
            answer.status == 200 || answer.status == 503,
            "only 200 or 503 under a database outage, got {} {:?}",
            answer.status,
            answer.body
        );
        if answer.status == 503 {
            assert_eq!(answer.body["code"], "unavailable", "{:?}", answer.body);
            assert!(*started >= cut_at - Duration::from_millis(50), "503 before the cut");
            outage_503.push(answer.took);
        }
    }
    assert!(!outage_503.is_empty(), "the outage was seen");
    let slowest = outage_503.iter().max().copied().unwrap_or_default();
    let mean = outage_503.iter().sum::<Duration>() / outage_503.len() as u32;
    assert!(slowest < Duration::from_secs(2), "a 503 took {slowest:?}");
    // Recovered: the last 503 started (and every later request succeeded) within 5 s.
    let last_failure_start =
        log.iter().filter(|(_, a)| a.status != 200).map(|(s, _)| *s).max().expect("failures");
    let first_ok_after = log
        .iter()
        .filter(|(s, a)| a.status == 200 && *s >= restored_at)
        .map(|(s, a)| *s + a.took)
        .min()
        .expect("service came back");
    let recovery = first_ok_after.saturating_duration_since(restored_at);
    assert!(
        last_failure_start.saturating_duration_since(restored_at) < Duration::from_secs(5),
        "failures went on past 5 s after the database returned"
    );
    assert!(recovery < Duration::from_secs(5), "recovery took {recovery:?}");
    let after: Vec<_> = log.iter().filter(|(s, _)| *s > last_failure_start).collect();
    assert!(after.len() > 10 && after.iter().all(|(_, a)| a.status == 200));
    println!(
        "postgres outage: {} requests, {} answered 503 (mean {:?}, slowest {:?}); \
         first success {:?} after the database returned",
        log.len(),
        outage_503.len(),
        mean,
        slowest,
        recovery
    );
    server.shutdown().await;
    guard.drop_database().await;
}

// ---------------------------------------------------------------------------------------------
// Redis outage.

/// Redis cut and restored under load, two instances sharing it: no 5xx at any time, writes
/// made during the outage are seen by both instances during it and after Redis returns
/// (nothing cached before the outage is served as current).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_outage_no_5xx_and_no_stale_read() {
    let redis = redis_base();
    let proxy = Proxy::start(host_port(&redis, 6379)).await;
    let (url, path) = sqlite_url();
    let mut config = base_config(url);
    config.cache.redis_url = Some(via_proxy(&redis, proxy.port, None));
    let a = Server::start(&config).await;
    let b = Server::start(&config).await;
    let http = client();
    let (_, owner) = signup(&http, &a.base, "owner").await;
    let (_, viewer) = signup(&http, &a.base, "viewer").await;
    let project = create_project(&http, &a.base, &owner, "Cached").await;
    let add = call(
        &http,
        reqwest::Method::POST,
        format!("{}/api/projects/{project}/members", a.base),
        Some(&owner),
        Some(json!({"email": "viewer@example.com", "role": "viewer"})),
    )
    .await;
    assert_eq!(add.status, 201);
    let paths = [
        format!("/api/projects/{project}"),
        "/api/projects".to_owned(),
        format!("/api/projects/{project}/feedback/comments"),
        "/api/me".to_owned(),
    ];
    // Warm both instances' caches (L1 and L2).
    for server in [&a, &b] {
        for _ in 0..2 {
            for path in &paths {
                let answer = call(
                    &http,
                    reqwest::Method::GET,
                    format!("{}{path}", server.base),
                    Some(&viewer),
                    None,
                )
                .await;
                assert_eq!(answer.status, 200);
            }
        }
    }

    // Background load on both instances: any 5xx fails the test.
    let fivexx = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let total = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let running = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let mut workers = Vec::new();
    for (i, server) in [&a, &b, &a, &b].into_iter().enumerate() {
        let (http, fivexx, total, running, token) =
            (http.clone(), fivexx.clone(), total.clone(), running.clone(), viewer.clone());
        let urls: Vec<String> = paths.iter().map(|p| format!("{}{p}", server.base)).collect();
        workers.push(tokio::spawn(async move {
            let mut n = i;
            while running.load(std::sync::atomic::Ordering::Relaxed) {
                let answer = call(
                    &http,
                    reqwest::Method::GET,
                    urls[n % urls.len()].clone(),
                    Some(&token),
                    None,
                )
                .await;
                total.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if answer.status >= 500 {
                    eprintln!("5xx during the redis test: {} {:?}", answer.status, answer.body);
                    fivexx.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                n += 1;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    proxy.cut().await;

    // Writes through instance A while Redis is unreachable.
    let patch = call(
        &http,
        reqwest::Method::PATCH,
        format!("{}/api/projects/{project}", a.base),
        Some(&owner),
        Some(json!({"description": "written during the outage"})),
    )
    .await;
    assert_eq!(patch.status, 200, "{:?}", patch.body);
    let comment = call(
        &http,
        reqwest::Method::POST,
        format!("{}/api/projects/{project}/feedback/comments", a.base),
        Some(&owner),
        Some(json!({"text": "outage comment"})),
    )
    .await;
    assert_eq!(comment.status, 201, "{:?}", comment.body);
    let nickname = call(
        &http,
        reqwest::Method::PATCH,
        format!("{}/api/me", a.base),
        Some(&viewer),
        Some(json!({"nickname": "renamed"})),
    )
    .await;
    assert_eq!(nickname.status, 200, "{:?}", nickname.body);

    let check_fresh = |when: &'static str| {
        let (http, viewer, paths) = (http.clone(), viewer.clone(), paths.clone());
        let bases = [a.base.clone(), b.base.clone()];
        async move {
            for base in &bases {
                let get = |path: &String| {
                    call(&http, reqwest::Method::GET, format!("{base}{path}"), Some(&viewer), None)
                };
                let detail = get(&paths[0]).await;
                assert_eq!(detail.status, 200, "{when}: {:?}", detail.body);
                assert_eq!(
                    detail.body["result"]["description"], "written during the outage",
                    "{when}: stale detail from {base}"
                );
                let list = get(&paths[1]).await;
                assert_eq!(
                    list.body["result"][0]["description"], "written during the outage",
                    "{when}: stale list from {base}"
                );
                let comments = get(&paths[2]).await;
                assert_eq!(
                    comments.body["result"].as_array().map(Vec::len),
                    Some(1),
                    "{when}: stale thread from {base}"
                );
                let me = get(&paths[3]).await;
                assert_eq!(
                    me.body["result"]["nickname"], "renamed",
                    "{when}: stale profile from {base}"
                );
            }
        }
    };
    check_fresh("during the outage").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    proxy.restore().await;
    let restored = Instant::now();
    // Straight after Redis returns, and for a while after, both instances read fresh.
    while restored.elapsed() < Duration::from_secs(3) {
        check_fresh("after redis returned").await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    running.store(false, std::sync::atomic::Ordering::Relaxed);
    for worker in workers {
        worker.await.unwrap();
    }
    // The cache is back in use.
    let mut hit = false;
    for _ in 0..20 {
        let response =
            http.get(format!("{}{}", b.base, paths[0])).bearer_auth(&viewer).send().await.unwrap();
        if response.headers().get("x-cache").is_some_and(|v| v == "HIT") {
            hit = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let total = total.load(std::sync::atomic::Ordering::Relaxed);
    let fivexx = fivexx.load(std::sync::atomic::Ordering::Relaxed);
    println!("redis outage: {total} background requests on two instances, {fivexx} answered 5xx; cache hits resumed: {hit}");
    assert_eq!(fivexx, 0);
    assert!(hit, "the cache is used again after Redis returned");
    a.shutdown().await;
    b.shutdown().await;
    remove_sqlite(&path);
}

// ---------------------------------------------------------------------------------------------
// Graceful shutdown.

/// Shutdown stops accepting at once, lets an in-flight request finish, then closes the pool.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_finishes_an_in_flight_request() {
    let (url, path) = sqlite_url();
    let mut config = base_config(url);
    config.limits.shutdown_grace = Duration::from_secs(5);
    let server = Server::start(&config).await;
    let http = client();
    let (_, token) = signup(&http, &server.base, "ann").await;
    let addr = server.addr();
    let (stream, rest) = half_sent_request(
        &addr,
        "/api/projects",
        &token,
        r#"{"name": "in flight during shutdown"}"#,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    let store = server.state.store.clone();
    let stop = Instant::now();
    let shutdown = tokio::spawn(server.shutdown());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(TcpStream::connect(&addr).await.is_err(), "no new connections after the signal");
    assert!(!shutdown.is_finished(), "serve waits for the request in flight");
    assert_eq!(finish_request(stream, &rest).await, 201, "the in-flight request completes");
    let took = shutdown.await.unwrap();
    println!(
        "graceful shutdown: in-flight request finished; serve returned {:?} after the signal",
        stop.elapsed()
    );
    assert!(took < Duration::from_secs(5), "returned before the grace ran out: {took:?}");
    assert!(store.ping().await.is_err(), "the pool is closed");
    remove_sqlite(&path);
}

/// A request that never finishes does not hold the process past the grace period.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_gives_up_after_the_grace_period() {
    let (url, path) = sqlite_url();
    let mut config = base_config(url);
    config.limits.shutdown_grace = Duration::from_millis(800);
    config.limits.request_timeout = Duration::from_secs(60);
    let server = Server::start(&config).await;
    let http = client();
    let (_, token) = signup(&http, &server.base, "ann").await;
    let (_stream, _rest) =
        half_sent_request(&server.addr(), "/api/projects", &token, r#"{"name": "never finished"}"#)
            .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let took = server.shutdown().await;
    println!("shutdown with a stuck request: serve returned after {took:?} (grace 800 ms)");
    assert!(took >= Duration::from_millis(750) && took < Duration::from_millis(2000), "{took:?}");
    remove_sqlite(&path);
}

// ---------------------------------------------------------------------------------------------
// Load shedding and the request timeout.

/// With the limit full, further requests get 503 `unavailable` at once (not queued), probes
/// still answer, and the server serves normally once the slow requests finish.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn excess_requests_are_shed_with_503_and_the_server_stays_healthy() {
    let (url, path) = sqlite_url();
    let mut config = base_config(url);
    config.limits.max_concurrent_requests = 2;
    let server = Server::start(&config).await;
    let http = client();
    let (_, token) = signup(&http, &server.base, "ann").await;
    let addr = server.addr();
    let mut slow = Vec::new();
    for i in 0..2 {
        slow.push(
            half_sent_request(
                &addr,
                "/api/projects",
                &token,
                &format!(r#"{{"name": "slow {i}"}}"#),
            )
            .await,
        );
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(server.state.limits.in_flight(), 2);

    let burst = 40;
    let started = Instant::now();
    let answers = futures::future::join_all((0..burst).map(|_| {
        call(&http, reqwest::Method::GET, format!("{}/api/me", server.base), Some(&token), None)
    }))
    .await;
    let burst_took = started.elapsed();
    let shed = answers.iter().filter(|a| a.status == 503).count();
    let slowest = answers.iter().map(|a| a.took).max().unwrap();
    for answer in &answers {
        assert_eq!(answer.status, 503, "{:?}", answer.body);
        assert_eq!(answer.body["code"], "unavailable");
        assert!(answer.body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    assert!(slowest < Duration::from_millis(500), "shed at once, not queued: {slowest:?}");
    let health =
        call(&http, reqwest::Method::GET, format!("{}/healthz", server.base), None, None).await;
    assert_eq!(health.status, 200, "probes answer while saturated");

    for (stream, rest) in slow {
        assert_eq!(finish_request(stream, &rest).await, 201);
    }
    let me =
        call(&http, reqwest::Method::GET, format!("{}/api/me", server.base), Some(&token), None)
            .await;
    assert_eq!(me.status, 200, "healthy once the load is gone");
    println!(
        "load shedding: limit 2, {burst} extra concurrent requests: {shed} shed with 503 in {burst_took:?} (slowest {slowest:?})"
    );
    server.shutdown().await;
    remove_sqlite(&path);
}

/// A request that takes longer than the per-request timeout gets the contract's 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_over_the_timeout_answers_503() {
    let (url, path) = sqlite_url();
    let mut config = base_config(url);
    config.limits.request_timeout = Duration::from_millis(500);
    let server = Server::start(&config).await;
    let http = client();
    let (_, token) = signup(&http, &server.base, "ann").await;
    let started = Instant::now();
    let (stream, _rest) =
        half_sent_request(&server.addr(), "/api/projects", &token, r#"{"name": "too slow"}"#).await;
    // The rest of the body never comes: the deadline answers.
    assert_eq!(read_status(stream).await, 503);
    println!("request timeout: 503 after {:?} (timeout 500 ms)", started.elapsed());
    assert_eq!(server.state.limits.in_flight(), 0, "the timed-out request gave its permit back");
    server.shutdown().await;
    remove_sqlite(&path);
}
