//! `/dashboard` in a real browser: the server on a TCP port, some traffic over HTTP, then
//! headless Chromium loads the page (under its real Content-Security-Policy, so a blocked
//! inline script would leave every chart empty) and the test counts the points each chart
//! drew. It also saves a screenshot for a human to look at:
//! `cargo test -p reelplan-server --test dashboard -- --nocapture` prints its path.
//!
//! SQLite by default; PostgreSQL when `DATABASE_URL` is set, Redis as L2 when `REDIS_URL` is.
//! Without `/usr/bin/chromium` the test prints "skipped: chromium not installed" and passes.

use std::path::{Path, PathBuf};
use std::time::Duration;

use reelplan_server::config::PasswordCost;
use reelplan_server::config::Secret;
use reelplan_server::Config;
use reelplan_store_postgres::TestDatabase;
use serde_json::{json, Value};
use tokio::net::TcpListener;

const CHROMIUM: &str = "/usr/bin/chromium";
/// The charts of dashboard.html, by SVG id.
const CHARTS: [&str; 5] = ["c-rps", "c-latency", "c-statements", "c-cache", "c-pool"];
/// Virtual milliseconds the page may run: its first poll, and a second one two seconds on.
const VIRTUAL_MS: u32 = 4500;

/// A fresh database: a SQLite file, or an isolated PostgreSQL database when `DATABASE_URL`
/// names one. Returns its URL and what to drop afterwards.
async fn fresh_database() -> (String, Option<TestDatabase>, PathBuf) {
    let sqlite = std::env::temp_dir().join(format!(
        "reelplan-dashboard-{}-{:08x}.db",
        std::process::id(),
        rand::random::<u32>()
    ));
    match std::env::var("DATABASE_URL") {
        Ok(base) if base.starts_with("postgres") => {
            let (_, guard) = reelplan_store_postgres::connect_isolated_for_tests(&base)
                .await
                .expect("PostgreSQL test database");
            let prefix = base.rsplit_once('/').map_or(base.as_str(), |(p, _)| p);
            (format!("{prefix}/{}", guard.name()), Some(guard), sqlite)
        }
        _ => (format!("sqlite://{}", sqlite.display()), None, sqlite),
    }
}

fn config(database_url: String) -> Config {
    let mut config = Config::embedded(std::env::temp_dir());
    config.database.url = database_url;
    config.auth.jwt_secret = Some(Secret("dashboard-test-secret-0123456789abcdef".into()));
    config.auth.password_cost = PasswordCost { memory_kib: 64, iterations: 1, parallelism: 1 };
    config.cache.redis_url = std::env::var("REDIS_URL").ok();
    config.cache.namespace = format!("rpdash{:08x}", rand::random::<u32>());
    config
}

/// One request; asserts the status and returns the body's `result`.
async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: Option<&str>,
    body: Option<Value>,
    status: u16,
) -> Value {
    let mut request = http.request(method.clone(), &url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("the server answers");
    assert_eq!(response.status().as_u16(), status, "{method} {url}");
    let body: Value = response.json().await.unwrap_or(Value::Null);
    body["result"].clone()
}

/// A little of everything the charts show: writes, cache misses then hits of every kind.
async fn traffic(base: &str) {
    use reqwest::Method;
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let signup = json!({"email": "ann@example.com", "password": "password-ann", "nickname": "Ann"});
    let session =
        call(&http, Method::POST, format!("{base}/api/auth/signup"), None, Some(signup), 201).await;
    let token = session["token"].as_str().expect("token").to_owned();
    let token = Some(token.as_str());
    for name in ["Trailer", "Wedding film", "Product launch"] {
        let body = Some(json!({"name": name}));
        let project =
            call(&http, Method::POST, format!("{base}/api/projects"), token, body, 201).await;
        let id = project["id"].as_i64().expect("id");
        let comments = format!("{base}/api/projects/{id}/feedback/comments");
        let body = Some(json!({"text": "Tighter cut at 0:42", "timecode": 42.0}));
        call(&http, Method::POST, comments.clone(), token, body, 201).await;
        for _ in 0..4 {
            call(&http, Method::GET, format!("{base}/api/projects/{id}"), token, None, 200).await;
            call(&http, Method::GET, comments.clone(), token, None, 200).await;
        }
    }
    for _ in 0..3 {
        call(&http, Method::GET, format!("{base}/api/projects"), token, None, 200).await;
        call(&http, Method::GET, format!("{base}/api/me"), token, None, 200).await;
    }
    call(&http, Method::GET, format!("{base}/api/projects/999999"), token, None, 404).await;
}

/// Runs headless Chromium on `url` with `extra` flags in a fresh profile; returns stdout.
async fn chromium(url: &str, extra: &[String]) -> String {
    let profile = std::env::temp_dir().join(format!(
        "reelplan-chromium-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    ));
    let mut command = tokio::process::Command::new(CHROMIUM);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--virtual-time-budget={VIRTUAL_MS}"))
        .args(extra)
        .arg(url)
        .kill_on_drop(true);
    // Virtual time makes the page's two seconds take milliseconds; the bound is for a hang.
    let output = tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("chromium finished within 60 s")
        .expect("chromium runs");
    let _ = std::fs::remove_dir_all(&profile);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "chromium failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The opening tag and the content of the element with `id` (its first closing `</tag>`).
fn element<'a>(dom: &'a str, tag: &str, id: &str) -> (&'a str, &'a str) {
    let at = dom.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no #{id} in the DOM"));
    let start = dom[..at].rfind(&format!("<{tag}")).expect("an opening tag");
    let head_end = at + dom[at..].find('>').expect("end of tag") + 1;
    let end = head_end + dom[head_end..].find(&format!("</{tag}>")).expect("a closing tag");
    (&dom[start..head_end], &dom[head_end..end])
}

fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let from = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    Some(&tag[from..from + tag[from..].find('"')?])
}

/// Where the screenshot goes: `target/dashboard.png`.
fn screenshot_path() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).join("dashboard.png")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_draws_every_chart_in_chromium() {
    if !Path::new(CHROMIUM).exists() {
        println!("skipped: chromium not installed");
        return;
    }
    let (url, pg, sqlite) = fresh_database().await;
    let state = reelplan_server::build_state(&config(url)).await.expect("state");
    // Bound before serving, so the first request cannot race the server's start.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(reelplan_server::serve(listener, state.clone(), async move {
        let _ = stopped.await;
    }));

    traffic(&base).await;
    let page = format!("{base}/dashboard");
    let dom = chromium(&page, &["--dump-dom".to_owned()]).await;
    let shot = screenshot_path();
    let _ = std::fs::remove_file(&shot);
    let flags = [format!("--screenshot={}", shot.display()), "--window-size=1400,1000".to_owned()];
    // The last minute, not the default five: the test's traffic took a second or two.
    chromium(&format!("{page}?window=60"), &flags).await;

    let _ = stop.send(());
    server.await.expect("server task").expect("serve");
    match pg {
        Some(guard) => guard.drop_database().await,
        None => {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", sqlite.display()));
            }
        }
    }

    // The script ran (CSP let it), fetched the stats and drew: every chart has points.
    let (status, _) = element(&dom, "span", "status");
    assert_eq!(attribute(status, "class"), Some("pill live"), "the page reached its stats");
    for chart in CHARTS {
        let (tag, content) = element(&dom, "svg", chart);
        let points: u32 = attribute(tag, "data-points")
            .unwrap_or_else(|| panic!("#{chart} drew nothing: {tag}"))
            .parse()
            .expect("a count");
        let lines = content.matches("class=\"series\"").count();
        println!("#{chart}: {points} points in {lines} series");
        assert!(points > 0 && lines > 0, "#{chart} has no data points: {tag}");
    }
    // Every cache kind was read twice or more, so each has its own line.
    let (_, cache) = element(&dom, "svg", "c-cache");
    assert_eq!(cache.matches("class=\"series\"").count(), 4, "one line per cache kind");
    let (_, routes) = element(&dom, "tbody", "routes");
    assert!(routes.contains("/api/projects/{id}"), "the route table lists the traffic");
    let (_, requests) = element(&dom, "div", "k-rps");
    assert_ne!(requests, "–", "the KPIs are filled in");

    let png = std::fs::read(&shot).expect("the screenshot was written");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "a real PNG");
    println!("dashboard screenshot: {}", shot.display());
}
