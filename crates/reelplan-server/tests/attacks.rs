//! Resource-exhaustion attacks against the real server on TCP port 0: stalled and trickling
//! uploads, slowloris request heads, idle and surplus connections, a flood of signups and
//! logins (password hashing), and parallel wrong logins against the login limit. Each test
//! shows the service staying up (other requests answered while the attack runs) and the
//! attacker's requests refused or cut off; small limits and timeouts are configured so the
//! tests run in seconds. The figures are printed:
//! `cargo test -p reelplan-server --test attacks -- --nocapture`.
//!
//! The tests take turns (one measures this process's memory, and the others would blur it).
//! SQLite, in a folder of the test's own.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reelplan_server::config::PasswordCost;
use reelplan_server::config::Secret;
use reelplan_server::{AppState, Config};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const MIB: u64 = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// The server.

struct Server {
    base: String,
    addr: String,
    state: AppState,
    data: std::path::PathBuf,
    stop: tokio::sync::oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

fn config() -> Config {
    let data = std::env::temp_dir().join(format!(
        "reelplan-attacks-{}-{:016x}",
        std::process::id(),
        rand::random::<u64>()
    ));
    let mut config = Config::embedded(data);
    config.auth.jwt_secret = Some(Secret("attack-tests-secret-0123456789abcdef".into()));
    config.auth.password_cost = PasswordCost { memory_kib: 64, iterations: 1, parallelism: 1 };
    config.cache.namespace = format!("rpattack{:08x}", rand::random::<u32>());
    config
}

impl Server {
    async fn start(config: &Config) -> Server {
        std::fs::create_dir_all(&config.data_dir).unwrap();
        let state = reelplan_server::build_state(config).await.expect("state");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let task = tokio::spawn(reelplan_server::serve(listener, state.clone(), shutdown));
        Server {
            base: format!("http://{addr}"),
            addr,
            state,
            data: config.data_dir.clone(),
            stop,
            task,
        }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.expect("serve task").expect("serve result");
        let _ = std::fs::remove_dir_all(&self.data);
    }

    /// Signs `name` up; returns the token.
    async fn signup(&self, http: &reqwest::Client, name: &str) -> String {
        let body = json!({"email": format!("{name}@example.com"), "password": format!("password-{name}"), "nickname": name});
        let resp = http.post(format!("{}/api/auth/signup", self.base)).json(&body).send().await;
        let resp = resp.expect("signup answers");
        assert_eq!(resp.status(), 201);
        let body: Value = resp.json().await.unwrap();
        body["result"]["token"].as_str().unwrap().to_owned()
    }

    /// A project of the token's user; returns its id.
    async fn project(&self, http: &reqwest::Client, token: &str) -> i64 {
        let resp = http
            .post(format!("{}/api/projects", self.base))
            .bearer_auth(token)
            .json(&json!({"name": "Target"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
        let body: Value = resp.json().await.unwrap();
        body["result"]["id"].as_i64().unwrap()
    }

    /// `GET /api/me` answers: its status.
    async fn me(&self, http: &reqwest::Client, token: &str) -> u16 {
        let resp = http.get(format!("{}/api/me", self.base)).bearer_auth(token).send().await;
        resp.expect("the server answers").status().as_u16()
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap()
}

/// Waits until `condition` holds (checked every 10 ms), failing after 10 s.
async fn until(what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// An upload's head and its first bytes over raw TCP, then nothing: it stalls.
async fn stalled_upload(addr: &str, path: &str, token: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "{path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: video/mp4\r\nContent-Length: 1000000\r\n\r\n0123456789abcdef"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.flush().await.unwrap();
    stream
}

/// How a connection ended: the status of a response if one came (None: closed without one),
/// and after how long. Fails if nothing happens within 15 s.
async fn outcome(mut stream: TcpStream) -> (Option<u16>, Duration) {
    let started = Instant::now();
    let mut buffer = vec![0u8; 4096];
    let mut read = 0;
    let status = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            match stream.read(&mut buffer[read..]).await {
                Ok(0) | Err(_) => break,
                Ok(n) => read += n,
            }
            if read >= 12 {
                break;
            }
        }
    })
    .await;
    assert!(status.is_ok(), "the connection was neither answered nor closed within 15 s");
    let head = String::from_utf8_lossy(&buffer[..read]);
    (head.get(9..12).and_then(|s| s.parse().ok()), started.elapsed())
}

// ---------------------------------------------------------------------------------------------
// Uploads.

/// More stalled uploads than the upload limit, each as many as the general request limit
/// (which, on the old code, they all held): ordinary requests keep answering 200, extra
/// uploads get a fast 503 (per user, then globally), the stalled ones are cut off after the
/// idle timeout, and uploads work again afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stalled_uploads_do_not_starve_other_requests() {
    let _serial = SERIAL.lock().await;
    let mut config = config();
    config.limits.max_concurrent_requests = 4;
    config.uploads.max_concurrent = 4;
    config.uploads.max_per_user = 2;
    config.uploads.idle_timeout = Duration::from_millis(800);
    let server = Server::start(&config).await;
    let http = http();
    let mut users = Vec::new();
    for name in ["ann", "bob", "cat"] {
        let token = server.signup(&http, name).await;
        let project = server.project(&http, &token).await;
        users.push((token, project));
    }
    let upload = |(token, project): &(String, i64), n: usize| {
        // Every kind of upload in turn: a version, a file, the feedback video.
        let path = match n % 3 {
            0 => format!("POST /api/projects/{project}/versions"),
            1 => format!("POST /api/projects/{project}/files?name=f{n}"),
            _ => format!("PUT /api/projects/{project}/feedback/video"),
        };
        let (addr, token) = (server.addr.clone(), token.clone());
        async move { stalled_upload(&addr, &path, &token).await }
    };

    let mut stalled = vec![upload(&users[0], 0).await, upload(&users[0], 1).await];
    until("ann's two uploads stream", || server.state.uploads.in_flight() == 2).await;
    let (third, took) = outcome(upload(&users[0], 2).await).await;
    assert_eq!(third, Some(503), "a user's third upload is shed");
    println!("upload limit per user: a third upload answered 503 in {took:?}");
    stalled.push(upload(&users[1], 3).await);
    stalled.push(upload(&users[1], 4).await);
    until("four uploads stream", || server.state.uploads.in_flight() == 4).await;
    let started = Instant::now();
    let (fifth, took) = outcome(upload(&users[2], 5).await).await;
    assert_eq!(fifth, Some(503), "a fifth upload is shed");
    println!("global upload limit: a fifth upload answered 503 in {took:?}");

    // The general limit (4) is all free: the stalled uploads hold none of it.
    assert_eq!(server.state.limits.in_flight(), 0);
    let token = &users[2].0;
    let answers = futures::future::join_all((0..40).map(|_| server.me(&http, token))).await;
    assert!(answers.iter().all(|s| *s == 200), "{answers:?}");
    let served_while_stalled = answers.len();

    let mut cut = Vec::new();
    for stream in stalled {
        let (status, _) = outcome(stream).await;
        cut.push(status);
    }
    let cut_after = started.elapsed();
    assert!(cut.iter().all(|s| matches!(s, Some(400) | None)), "cut off: {cut:?}");
    until("the cut-off uploads give their slots back", || server.state.uploads.in_flight() == 0)
        .await;
    let resp = http
        .post(format!("{}/api/projects/{}/files?name=after", server.base, users[2].1))
        .bearer_auth(token)
        .body(vec![7u8; 1000])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201, "uploads work again");
    println!(
        "stalled uploads: 4 held the upload slots; {served_while_stalled} GETs answered 200 meanwhile; \
         all 4 cut off ({cut:?}) within {cut_after:?} (idle timeout 800 ms)"
    );
    server.stop().await;
}

/// An upload that trickles a few bytes now and then (never idle for the idle timeout) is
/// cut off by the minimum rate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickling_uploads_are_cut_off_by_the_minimum_rate() {
    let _serial = SERIAL.lock().await;
    let mut config = config();
    config.uploads.idle_timeout = Duration::from_millis(500);
    config.uploads.min_bytes_per_sec = 1000;
    let server = Server::start(&config).await;
    let http = http();
    let token = server.signup(&http, "ann").await;
    let project = server.project(&http, &token).await;
    let path = format!("POST /api/projects/{project}/files?name=slow");
    let mut stream = stalled_upload(&server.addr, &path, &token).await;
    let started = Instant::now();
    let trickle = async {
        // 10 bytes every 100 ms: 100 bytes per second, a tenth of the minimum.
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if stream.write_all(b"0123456789").await.is_err() {
                break;
            }
            if server.state.uploads.in_flight() == 0 {
                break;
            }
        }
        stream
    };
    let stream = trickle.await;
    let (status, _) = outcome(stream).await;
    assert!(matches!(status, Some(400) | None), "{status:?}");
    assert_eq!(server.state.uploads.in_flight(), 0);
    assert!(started.elapsed() < Duration::from_secs(9), "cut off before the trickle ended");
    println!("trickling upload (100 B/s, minimum 1000 B/s): cut off after {:?}", started.elapsed());
    assert_eq!(server.me(&http, &token).await, 200);
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Connections.

/// Slowloris: connections that send half a request line and wait are closed after the header
/// timeout, while other clients are served; an idle keep-alive connection is closed after
/// the idle timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn half_sent_request_heads_are_closed_after_the_header_timeout() {
    let _serial = SERIAL.lock().await;
    let mut config = config();
    config.limits.connections.header_read_timeout = Duration::from_millis(600);
    config.limits.connections.keep_alive_timeout = Duration::from_millis(1500);
    let server = Server::start(&config).await;
    let http = http();
    let token = server.signup(&http, "ann").await;

    let mut slow = Vec::new();
    for _ in 0..50 {
        let mut stream = TcpStream::connect(&server.addr).await.unwrap();
        stream.write_all(b"GET /api/me HT").await.unwrap();
        slow.push(stream);
    }
    // One that connects and sends nothing at all.
    slow.push(TcpStream::connect(&server.addr).await.unwrap());
    let served = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let others = {
        let (served, stop, base, token) =
            (served.clone(), stop.clone(), server.base.clone(), token.clone());
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            while !stop.load(Ordering::Relaxed) {
                let resp = http.get(format!("{base}/api/me")).bearer_auth(&token).send().await;
                assert_eq!(resp.expect("served").status(), 200);
                served.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let started = Instant::now();
    let mut closed = 0;
    for stream in slow {
        let (status, _) = outcome(stream).await;
        assert_eq!(status, None, "closed without an answer");
        closed += 1;
    }
    let took = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    others.await.unwrap();
    let served = served.load(Ordering::Relaxed);
    assert!(served > 0, "other clients were served meanwhile");
    println!(
        "slowloris: {closed} half-sent heads closed within {took:?} (header timeout 600 ms); \
         {served} requests of another client answered 200 meanwhile"
    );

    // Keep-alive: one request answered, then silence; closed after the idle timeout.
    let mut stream = TcpStream::connect(&server.addr).await.unwrap();
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {}\r\n\r\n", server.addr);
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buffer = vec![0u8; 4096];
    let n = stream.read(&mut buffer).await.unwrap();
    assert!(String::from_utf8_lossy(&buffer[..n]).starts_with("HTTP/1.1 200"));
    let (after, idle) = outcome(stream).await;
    assert_eq!(after, None);
    println!("keep-alive: an idle connection was closed {idle:?} after its response (idle timeout 1.5 s)");
    server.stop().await;
}

/// Past the connection limit a new connection is closed at once; once the held ones go,
/// clients are served again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_limit_are_closed_at_once() {
    let _serial = SERIAL.lock().await;
    let mut config = config();
    config.limits.connections.max_connections = 8;
    let server = Server::start(&config).await;
    let mut held = Vec::new();
    for _ in 0..8 {
        held.push(TcpStream::connect(&server.addr).await.unwrap());
    }
    // The server accepts in order: once a probe on a ninth connection is refused, all 8 hold.
    let (status, took) = outcome(TcpStream::connect(&server.addr).await.unwrap()).await;
    assert_eq!(status, None, "the ninth connection is closed unanswered");
    println!("connection limit 8: a ninth connection was closed after {took:?}");
    drop(held);
    let http = http();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match http.get(format!("{}/healthz", server.base)).send().await {
            Ok(resp) if resp.status() == 200 => break,
            _ => assert!(Instant::now() < deadline, "served again once the connections closed"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// HTTP/2.

/// An HTTP/2 client connection to the server; its driver runs in a task whose end (the
/// server closing the connection) the returned handle reports.
async fn h2_connect(addr: &str) -> (h2::client::SendRequest<bytes::Bytes>, JoinHandle<()>) {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (client, connection) = h2::client::handshake(tcp).await.expect("HTTP/2 handshake");
    (client, tokio::spawn(async move { drop(connection.await) }))
}

fn h2_get(server: &Server, path: &str) -> axum::http::Request<()> {
    let uri = format!("{}{path}", server.base);
    axum::http::Request::get(uri).body(()).unwrap()
}

/// HTTP/2's preface and nothing more is closed after the header timeout; a connection idle
/// after its requests, after the idle timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_connections_keep_the_header_and_idle_timeouts() {
    let _serial = SERIAL.lock().await;
    let mut config = config();
    config.limits.connections.header_read_timeout = Duration::from_millis(500);
    config.limits.connections.keep_alive_timeout = Duration::from_millis(1500);
    let server = Server::start(&config).await;

    let started = Instant::now();
    let (client, closed) = h2_connect(&server.addr).await;
    tokio::time::timeout(Duration::from_secs(10), closed).await.expect("closed").unwrap();
    let silent = started.elapsed();
    assert!(silent >= Duration::from_millis(500), "closed only after the header timeout");
    drop(client);

    let (client, mut closed) = h2_connect(&server.addr).await;
    let mut client = client.ready().await.unwrap();
    let mut last_response = Instant::now();
    for _ in 0..3 {
        // Requests 400 ms apart: each gap is within the idle timeout, so the connection stays.
        let (response, _) = client.send_request(h2_get(&server, "/healthz"), true).unwrap();
        assert_eq!(response.await.unwrap().status(), 200);
        last_response = Instant::now();
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(!closed.is_finished(), "open while requests come");
    }
    tokio::time::timeout(Duration::from_secs(10), &mut closed).await.expect("closed").unwrap();
    // Measured from the client's receipt of the last response, a little after the server's
    // idle clock started: hence the margin under the 1,500 ms timeout (the gaps were 400 ms).
    let idle = last_response.elapsed();
    assert!(idle >= Duration::from_millis(1400), "closed after the idle timeout, not before");
    println!("HTTP/2: preface only closed after {silent:?}; idle connection closed {idle:?} after its last response");
    server.stop().await;
}

/// The "rapid reset" flood (open a stream, cancel it, again, as fast as the socket takes)
/// gets the connection closed, while other clients are served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http2_rapid_reset_flood_closes_its_connection() {
    let _serial = SERIAL.lock().await;
    let server = Server::start(&config()).await;
    let http = http();
    let token = server.signup(&http, "ann").await;
    let (mut client, closed) = h2_connect(&server.addr).await;
    let mut sent = 0;
    for _ in 0..100_000 {
        let Ok(ready) = client.clone().ready().await else { break };
        client = ready;
        let mut request = h2_get(&server, "/api/me");
        let bearer = format!("Bearer {token}").parse().unwrap();
        request.headers_mut().insert("authorization", bearer);
        let Ok((_, mut stream)) = client.send_request(request, false) else { break };
        stream.send_reset(h2::Reason::CANCEL);
        sent += 1;
        if closed.is_finished() {
            break;
        }
    }
    tokio::time::timeout(Duration::from_secs(10), closed).await.expect("closed").unwrap();
    assert!(sent < 100_000, "the connection was closed during the flood");
    assert_eq!(server.me(&http, &token).await, 200, "others are served");
    println!("HTTP/2 rapid reset: connection closed after {sent} cancelled streams");
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Password hashing and login limits.

/// This process's `VmHWM` or `VmRSS`, in bytes.
fn status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

/// A flood of signups and logins (of unknown emails: a full hash each, then 401) with the real
/// argon2 cost (19 MiB each), every one from its own address: hashes never run more than the configured slots, the rest answer 503
/// `unavailable` with `Retry-After` at once, memory grows by about the slots' worth (not the
/// flood's), and other requests are served all along.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hashing_flood_is_bounded_and_others_are_served() {
    let _serial = SERIAL.lock().await;
    let slots = 4;
    let mut config = config();
    config.security.trust_forwarded_for = true;
    config.auth.max_concurrent_hashes = slots;
    config.auth.password_cost = PasswordCost::default();
    // Load shedding stays out of the way: this is about the hashing slots.
    config.limits.max_concurrent_requests = 1000;
    let server = Server::start(&config).await;
    let http = http();
    let token = server.signup(&http, "ann").await;

    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let baseline = status_bytes("VmRSS");
    let peak_hashes = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let meter = {
        let (peak, stop, state) = (peak_hashes.clone(), stop.clone(), server.state.clone());
        std::thread::spawn(move || {
            let mut rss = 0;
            while !stop.load(Ordering::Relaxed) {
                peak.fetch_max(state.auth.hashes_in_flight(), Ordering::Relaxed);
                rss = status_bytes("VmRSS").max(rss);
                std::thread::sleep(Duration::from_millis(2));
            }
            rss
        })
    };
    let flood: usize = 300;
    let started = Instant::now();
    let requests = (0..flood).map(|n| {
        let (http, base) = (http.clone(), server.base.clone());
        async move {
            let (path, body) = if n.is_multiple_of(2) {
                let email = format!("flood{n}@example.com");
                ("signup", json!({"email": email, "password": "password-x", "nickname": "x"}))
            } else {
                // Unknown emails: still a full hash (against the dummy), then 401.
                let email = format!("nobody{n}@example.com");
                ("login", json!({"email": email, "password": "password-x"}))
            };
            let resp = http
                .post(format!("{base}/api/auth/{path}"))
                .header("x-forwarded-for", format!("10.{}.{}.1", n / 256, n % 256))
                .json(&body)
                .send()
                .await
                .expect("answered");
            let status = resp.status().as_u16();
            let retry = resp.headers().get("retry-after").is_some();
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            (status, retry, body)
        }
    });
    let others = async {
        let mut statuses = Vec::new();
        for _ in 0..30 {
            statuses.push(server.me(&http, &token).await);
        }
        statuses
    };
    let (answers, others) = tokio::join!(futures::future::join_all(requests), others);
    let took = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let sampled = meter.join().unwrap();
    let hwm = status_bytes("VmHWM").max(sampled);

    assert!(others.iter().all(|s| *s == 200), "others served during the flood: {others:?}");
    let ok = answers.iter().filter(|(s, _, _)| matches!(s, 201 | 401)).count();
    let busy: Vec<_> = answers.iter().filter(|(s, _, _)| *s == 503).collect();
    for (status, retry, body) in &answers {
        assert!(matches!(status, 201 | 401 | 503), "{status}: {body}");
        if *status == 503 {
            assert!(*retry && body["code"] == "unavailable", "{body}");
        }
    }
    let peak = peak_hashes.load(Ordering::Relaxed);
    assert!(peak <= slots, "{peak} hashes at once, over the {slots} slots");
    assert!(!busy.is_empty(), "a flood of {flood} found the slots full at times");
    let growth = hwm.saturating_sub(baseline);
    // Each hash holds 19 MiB: the slots' worth plus room for the runtime and the client.
    assert!(growth < (slots as u64 + 4) * 19 * MIB, "grew by {} MiB", growth / MIB);
    println!(
        "hashing flood: {flood} signups/logins in {took:?}: {ok} answered 201/401 after a hash, {} answered 503 at once; \
         at most {peak} hashes at once ({slots} slots); memory grew {:.0} MiB (peak); \
         {} GETs answered 200 meanwhile",
        busy.len(),
        growth as f64 / MIB as f64,
        others.len()
    );
    server.stop().await;
}

/// Signups are limited per client address: a burst from one address gets 429 past the budget.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signups_are_limited_per_address() {
    let _serial = SERIAL.lock().await;
    let mut config = config();
    config.security.login.signups_per_address = 5;
    // Only the signup budget may refuse here: enough hashing slots for every admitted signup
    // (on a loaded machine five hashes do overlap, and a sixth slot-less one would be a 503).
    config.auth.max_concurrent_hashes = 20;
    let server = Server::start(&config).await;
    let http = http();
    let signups = (0..20).map(|n| {
        let (http, base) = (http.clone(), server.base.clone());
        async move {
            let body = json!({"email": format!("s{n}@example.com"), "password": "password-x", "nickname": "x"});
            let resp = http.post(format!("{base}/api/auth/signup")).json(&body).send().await;
            let resp = resp.unwrap();
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            (status, body)
        }
    });
    let answers = futures::future::join_all(signups).await;
    let created = answers.iter().filter(|(s, _)| *s == 201).count();
    let limited = answers.iter().filter(|(s, b)| *s == 429 && b["code"] == "rate_limited").count();
    assert_eq!((created, limited), (5, 15), "{answers:?}");
    println!(
        "signup limit 5 per address: 20 parallel signups: {created} created, {limited} got 429"
    );
    server.stop().await;
}

/// 200 wrong logins for one email at once: at most the limit (5) reach the password check
/// and get 401, every other one 429; the account's owner elsewhere is unaffected afterwards
/// only by the wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_logins_cannot_overrun_the_limit() {
    let _serial = SERIAL.lock().await;
    let mut config = config();
    config.auth.max_concurrent_hashes = 256;
    // A check that takes a while (little memory, many passes), so the guesses are truly in
    // flight together rather than answered one after the other.
    config.auth.password_cost = PasswordCost { memory_kib: 64, iterations: 3000, parallelism: 1 };
    let server = Server::start(&config).await;
    let http = http();
    server.signup(&http, "ann").await;
    let bob = server.signup(&http, "bob").await;
    let guesses = (0..200).map(|n| {
        let (http, base) = (http.clone(), server.base.clone());
        async move {
            let body = json!({"email": "ann@example.com", "password": format!("guess-{n}")});
            let resp = http.post(format!("{base}/api/auth/login")).json(&body).send().await;
            resp.expect("answered").status().as_u16()
        }
    });
    let statuses = futures::future::join_all(guesses).await;
    let wrong = statuses.iter().filter(|s| **s == 401).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert!(wrong <= 5, "{wrong} guesses reached the password check");
    assert_eq!(wrong + limited, 200, "{statuses:?}");
    assert_eq!(server.me(&http, &bob).await, 200, "the service stays up");
    println!("200 parallel wrong logins (limit 5 per email): {wrong} got 401, {limited} got 429");
    server.stop().await;
}
