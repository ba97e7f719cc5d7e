//! Resource-exhaustion attacks against the real server on TCP port 0: a flood of signups and
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

use reelplan_server::auth::PasswordCost;
use reelplan_server::config::Secret;
use reelplan_server::{AppState, Config};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const MIB: u64 = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// The server.

struct Server {
    base: String,
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
        Server { base: format!("http://{addr}"), state, data: config.data_dir.clone(), stop, task }
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

    /// `GET /api/me` answers: its status.
    async fn me(&self, http: &reqwest::Client, token: &str) -> u16 {
        let resp = http.get(format!("{}/api/me", self.base)).bearer_auth(token).send().await;
        resp.expect("the server answers").status().as_u16()
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap()
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
