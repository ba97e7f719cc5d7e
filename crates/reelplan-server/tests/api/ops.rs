//! The operations endpoints: `/metrics` moves by exactly the traffic sent, `/openapi.json`
//! documents every route of API.md (and the router serves every documented one), `/healthz`,
//! `/readyz`, and `/dashboard/stats.json` counts what this instance served.

use std::collections::{BTreeMap, BTreeSet};

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{Resp, TestApp};

// ---------------------------------------------------------------------------------------------
// `/metrics`

/// Set in the child process that runs a metrics test alone (see [`alone`]).
const ALONE: &str = "REELPLAN_OPS_TEST_ALONE";

/// The Prometheus recorder is process-global and the other tests of this binary send the same
/// routes in parallel, so a counter's delta is only exact in a process running nothing else.
/// Returns true in such a process; otherwise runs `test` alone in a child process of this
/// test binary, asserts that it ran and passed, and returns false.
async fn alone(test: &'static str) -> bool {
    if std::env::var_os(ALONE).is_some() {
        return true;
    }
    // /proc/self/exe still runs this binary after a concurrent build has replaced the file
    // on disk (the path `current_exe` gives then names nothing).
    let proc_exe = std::path::Path::new("/proc/self/exe");
    let exe = if proc_exe.exists() {
        proc_exe.to_path_buf()
    } else {
        std::env::current_exe().expect("the test binary")
    };
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(exe)
            .args([test, "--exact", "--nocapture", "--test-threads=1"])
            .env(ALONE, "1")
            .output()
    })
    .await
    .expect("join")
    .unwrap_or_else(|error| panic!("cannot run the test binary: {error}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // "1 passed" as well as success: a misspelt name would run nothing and succeed.
    assert!(
        output.status.success() && stdout.contains(" 1 passed"),
        "{test}, run alone, failed:\n{stdout}\n{stderr}"
    );
    false
}

/// One sample line of the Prometheus text format.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// A parsed `/metrics` page.
#[derive(Debug)]
struct Scrape(Vec<Sample>);

impl Scrape {
    fn parse(text: &str) -> Scrape {
        let samples = text
            .lines()
            .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
            .map(|line| {
                let (series, value) = line.rsplit_once(' ').expect("`series value`");
                let value = value.parse().unwrap_or_else(|_| panic!("a number: {line}"));
                let (name, labels) = match series.split_once('{') {
                    None => (series, BTreeMap::new()),
                    Some((name, rest)) => (name, labels(rest.trim_end_matches('}'))),
                };
                Sample { name: name.to_owned(), labels, value }
            })
            .collect();
        Scrape(samples)
    }

    /// The sum of the samples of `name` whose labels include all of `having`.
    fn sum(&self, name: &str, having: &[(&str, &str)]) -> f64 {
        self.0
            .iter()
            .filter(|s| s.name == name)
            .filter(|s| having.iter().all(|(k, v)| s.labels.get(*k).is_some_and(|l| l == v)))
            .map(|s| s.value)
            .sum()
    }

    /// Like [`Scrape::sum`], over the samples whose `route` label starts with `/api`.
    fn sum_api(&self, name: &str) -> f64 {
        self.0
            .iter()
            .filter(|s| {
                s.name == name && s.labels.get("route").is_some_and(|r| r.starts_with("/api"))
            })
            .map(|s| s.value)
            .sum()
    }

    fn has(&self, name: &str) -> bool {
        self.0.iter().any(|s| s.name == name)
    }

    fn value(&self, name: &str) -> f64 {
        assert!(self.has(name), "{name} is missing from /metrics");
        self.sum(name, &[])
    }
}

/// `a="1",b="x"` (route templates hold no quotes or commas, so a plain split will do).
fn labels(text: &str) -> BTreeMap<String, String> {
    text.split("\",")
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').expect("label=value");
            (k.to_owned(), v.trim_matches('"').to_owned())
        })
        .collect()
}

async fn scrape(app: &TestApp) -> Scrape {
    let resp = app.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(resp.status, StatusCode::OK);
    assert!(resp.header("content-type").starts_with("text/plain"), "{:?}", resp.headers);
    Scrape::parse(&resp.raw)
}

/// What the test sent under `/api`, from the responses' own headers.
#[derive(Default)]
struct Sent {
    requests: u32,
    statements: u32,
    /// (kind, "hit" | "miss") -> responses with that `X-Cache`.
    cache: BTreeMap<(&'static str, &'static str), u32>,
}

impl Sent {
    fn add(&mut self, resp: &Resp, status: StatusCode, kind: Option<&'static str>) -> String {
        assert_eq!(resp.status, status, "{:?}", resp.body);
        self.requests += 1;
        self.statements += resp.queries();
        if let Some(kind) = kind {
            let result = match resp.cache() {
                "HIT" => "hit",
                "MISS" => "miss",
                other => panic!("a cacheable read answered X-Cache: {other:?}"),
            };
            *self.cache.entry((kind, result)).or_default() += 1;
        }
        resp.cache().to_owned()
    }
}

/// Requests are counted and timed per route template and method, statements per request and
/// cache outcomes per kind move by exactly what was sent, and the gauges are there.
#[tokio::test]
async fn metrics_move_by_exactly_the_traffic() {
    if !alone("ops::metrics_move_by_exactly_the_traffic").await {
        return;
    }
    const GETS: u32 = 7;
    const POSTS: u32 = 3;
    let app = TestApp::spawn().await;
    let ann = app.user("ann").await;
    let project = app.project(&ann, "Metrics").await;
    let detail = format!("/api/projects/{project}");
    let comments = format!("{detail}/feedback/comments");
    let versions = format!("{detail}/versions");
    let before = scrape(&app).await;

    let mut sent = Sent::default();
    let mut outcomes = Vec::new();
    // Creating the project filled its documents; a memo makes its detail cold again (and
    // leaves its summary and feedback block cached).
    let memo = json!({"date": "2026-01-01T00:00:00Z", "text": "call"});
    let resp = app.post(&format!("{detail}/memos"), &ann, memo).await;
    sent.add(&resp, StatusCode::CREATED, None);
    for _ in 0..GETS {
        let resp = app.get(&detail, &ann).await;
        outcomes.push(sent.add(&resp, StatusCode::OK, Some("project_detail")));
    }
    for i in 0..POSTS {
        let resp = app.post(&comments, &ann, json!({"text": format!("cut {i}")})).await;
        sent.add(&resp, StatusCode::CREATED, None);
    }
    // Two reads of each other kind: the first fills the cache, the second is served from it
    // (the comments page was filled by the last comment's read-back: both hit).
    for (path, kind) in [
        (comments.as_str(), "feedback_thread"),
        ("/api/me", "user_profile"),
        ("/api/projects", "project_list"),
        (versions.as_str(), "versions"),
    ] {
        for _ in 0..2 {
            let resp = app.get(path, &ann).await;
            outcomes.push(sent.add(&resp, StatusCode::OK, Some(kind)));
        }
    }
    let after = scrape(&app).await;
    let delta =
        |name: &str, having: &[(&str, &str)]| after.sum(name, having) - before.sum(name, having);

    // The first read of each kind misses, the rest hit: the pattern the counters must show.
    let misses = outcomes.iter().filter(|o| *o == "MISS").count();
    assert_eq!(misses, 4, "one miss per kind, then hits: {outcomes:?}");
    assert_eq!(outcomes[0], "MISS");

    let route = |route: &'static str, method: &'static str| {
        [("route", route), ("method", method), ("status", "2xx")]
    };
    let gets = route("/api/projects/{id}", "GET");
    let posts = route("/api/projects/{id}/feedback/comments", "POST");
    for (labels, n) in [(&gets, GETS), (&posts, POSTS)] {
        let n = f64::from(n);
        assert_eq!(delta("reelplan_http_requests_total", labels), n, "{labels:?}");
        let count = "reelplan_http_request_duration_seconds_count";
        assert_eq!(delta(count, labels), n, "latency count {labels:?}");
        let mut inf = labels.to_vec();
        inf.push(("le", "+Inf"));
        assert_eq!(delta("reelplan_http_request_duration_seconds_bucket", &inf), n);
        assert!(delta("reelplan_http_request_duration_seconds_sum", labels) > 0.0);
    }

    // Statements per request: one observation per /api request, summing to the headers.
    let statements =
        |s: &Scrape, part: &str| s.sum_api(&format!("reelplan_http_request_statements_{part}"));
    let observed = statements(&after, "count") - statements(&before, "count");
    assert_eq!(observed, f64::from(sent.requests));
    let total = statements(&after, "sum") - statements(&before, "sum");
    assert_eq!(total, f64::from(sent.statements), "X-Query-Count summed over the requests");
    let detail_count = [("route", "/api/projects/{id}")];
    assert_eq!(delta("reelplan_http_request_statements_count", &detail_count), f64::from(GETS));

    // Cache outcomes per cached document, hits from L1 (one instance). A detail reads its
    // document and feedback block, a list its memberships and the summaries of its page (the
    // first list read loads both in one statement and counts the memberships' miss only).
    for (kind, hits, misses) in [
        ("project_detail", GETS - 1, 1),
        ("detail_feedback", GETS, 0),
        ("feedback_thread", 2, 0),
        ("user_profile", 1, 1),
        ("memberships", 1, 1),
        ("project_summary", 1, 0),
        ("versions", 1, 1),
    ] {
        let l1 = delta("reelplan_cache_requests_total", &[("kind", kind), ("tier", "l1")]);
        let db = delta("reelplan_cache_requests_total", &[("kind", kind), ("tier", "db")]);
        assert_eq!((l1, db), (f64::from(hits), f64::from(misses)), "{kind}: tiers");
    }
    assert_eq!(sent.cache[&("project_detail", "hit")], GETS - 1);

    // Gauges, read at scrape time, and the counters that exist before anything fails.
    let size = after.value("reelplan_db_pool_connections");
    let idle = after.value("reelplan_db_pool_idle");
    let in_use = after.value("reelplan_db_pool_in_use");
    let max = after.value("reelplan_db_pool_max");
    assert!(size >= 1.0 && size <= max && in_use + idle == size, "{size} {idle} {in_use} {max}");
    assert!(after.value("reelplan_process_resident_memory_bytes") > 1024.0 * 1024.0);
    // moka counts its entries lazily, so only the gauges' presence is certain here.
    assert!(after.has("reelplan_cache_l1_entries") && after.has("reelplan_cache_l1_bytes"));
    assert_eq!(after.value("reelplan_redis_errors_total"), 0.0, "Redis never failed here");
    assert!(after.has("reelplan_db_statements_total"));
    assert!(after.has("reelplan_db_statement_seconds_count"));
    assert!(!after.has("reelplan_n_plus_one_warnings_total"), "no N+1 warning was earned");
    app.finish().await;
}

// ---------------------------------------------------------------------------------------------
// `/openapi.json`

/// Every method and path of API.md, in the document's `{param}` template syntax.
const CONTRACT: &[(&str, &str)] = &[
    ("post", "/api/auth/signup"),
    ("post", "/api/auth/login"),
    ("get", "/api/me"),
    ("patch", "/api/me"),
    ("get", "/api/projects"),
    ("post", "/api/projects"),
    ("get", "/api/projects/{id}"),
    ("patch", "/api/projects/{id}"),
    ("delete", "/api/projects/{id}"),
    ("put", "/api/projects/{id}/phases/{phase}"),
    ("post", "/api/projects/{id}/members"),
    ("patch", "/api/projects/{id}/members/{member_id}"),
    ("delete", "/api/projects/{id}/members/{member_id}"),
    ("get", "/api/projects/{id}/feedback/comments"),
    ("post", "/api/projects/{id}/feedback/comments"),
    ("delete", "/api/projects/{id}/feedback/comments/{comment_id}"),
    ("get", "/api/projects/{id}/feedback/messages"),
    ("post", "/api/projects/{id}/feedback/messages"),
    ("put", "/api/projects/{id}/feedback/video"),
    ("post", "/api/projects/{id}/memos"),
    ("delete", "/api/projects/{id}/memos/{memo_id}"),
    ("post", "/api/projects/{id}/files"),
    ("get", "/api/projects/{id}/files/{file_id}"),
    ("delete", "/api/projects/{id}/files/{file_id}"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
    ("get", "/openapi.json"),
    ("get", "/dashboard"),
];

/// The shapes API.md names, as component schema names.
const SCHEMAS: &[&str] = &[
    "user",
    "project_summary",
    "project_detail",
    "member",
    "comment",
    "message",
    "memo",
    "file",
    "error",
];

/// Every `$ref` anywhere under `value`.
fn refs<'a>(value: &'a Value, out: &mut BTreeSet<&'a str>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                out.insert(target);
            }
            map.values().for_each(|v| refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

/// OpenAPI 3.1, every operation of the contract with its path parameters declared, every
/// named shape as a schema, and no dangling reference.
#[tokio::test]
async fn openapi_documents_the_whole_contract() {
    let app = TestApp::spawn().await;
    let resp = app.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(resp.status, StatusCode::OK);
    assert!(resp.header("content-type").starts_with("application/json"));
    let doc: Value = serde_json::from_str(&resp.raw).expect("the document is JSON");
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")), "{}", doc["openapi"]);

    let paths = doc["paths"].as_object().expect("paths");
    for (method, path) in CONTRACT {
        let operation =
            &paths.get(*path).unwrap_or_else(|| panic!("{path} is not documented"))[method];
        assert!(operation.is_object(), "{method} {path} is not documented");
        assert!(
            operation["responses"].as_object().is_some_and(|r| !r.is_empty()),
            "{method} {path} has no responses"
        );
        let declared: BTreeSet<&str> = operation["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "path")
            .filter_map(|p| p["name"].as_str())
            .collect();
        let templated: BTreeSet<&str> =
            path.split('/').filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}')).collect();
        assert_eq!(declared, templated, "{method} {path}: path parameters");
        if path.starts_with("/api/") && !path.starts_with("/api/auth/") {
            assert!(operation["security"].is_array(), "{method} {path} needs the bearer token");
        }
    }

    // What generators and linters want: unique operation ids (handler names repeat across
    // resources), `security` declared on every operation (`[]` when public), a server.
    let mut ids = BTreeSet::new();
    for (path, item) in paths {
        for (method, operation) in item.as_object().expect("path item") {
            let id = operation["operationId"].as_str().expect("an operationId");
            assert!(ids.insert(id), "operationId {id} repeats ({method} {path})");
            assert!(operation["security"].is_array(), "{method} {path} declares no security");
        }
    }
    let public = &paths["/api/auth/login"]["post"]["security"];
    assert_eq!(public, &serde_json::json!([]), "login is public");
    assert!(doc["servers"].as_array().is_some_and(|s| !s.is_empty()), "no servers entry");

    let schemas = doc["components"]["schemas"].as_object().expect("component schemas");
    for name in SCHEMAS {
        assert!(schemas.contains_key(*name), "no `{name}` schema; have {:?}", schemas.keys());
    }
    let mut targets = BTreeSet::new();
    refs(&doc, &mut targets);
    for target in targets {
        let name = target.strip_prefix("#/components/schemas/").unwrap_or(target);
        assert!(schemas.contains_key(name), "dangling $ref {target}");
    }

    // The router serves every documented operation: without a token, /api answers 401 (or
    // 400 for the signup and login bodies), never the fallback's 404 or a 405.
    for (method, path) in CONTRACT {
        let uri = path
            .split('/')
            .map(|seg| match seg {
                "{phase}" => "filming",
                s if s.starts_with('{') => "1",
                s => s,
            })
            .collect::<Vec<_>>()
            .join("/");
        let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap();
        let resp = app.call(method.clone(), &uri, None, None).await;
        let status = resp.status;
        let want = if uri.starts_with("/api/auth/") {
            StatusCode::BAD_REQUEST
        } else if uri.starts_with("/api/") {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::OK
        };
        assert_eq!(status, want, "{method} {uri}: {:?}", resp.body);
    }
    app.finish().await;
}

// ---------------------------------------------------------------------------------------------
// Health, readiness, the dashboard's data

/// `/healthz` answers; `/readyz` checks the database, and Redis exactly when configured.
#[tokio::test]
async fn healthz_and_readyz_report_ok() {
    let app = TestApp::spawn().await;
    let health = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.body["status"], "ok");

    let ready = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(ready.status, StatusCode::OK, "{:?}", ready.body);
    assert_eq!(ready.body["ready"], true);
    assert_eq!(ready.body["checks"]["database"]["ok"], true, "{:?}", ready.body);
    let redis = &ready.body["checks"]["redis"];
    if app.config.cache.redis_url.is_some() {
        assert_eq!(redis["ok"], true, "{:?}", ready.body);
    } else {
        assert!(redis.is_null(), "no Redis configured, none checked: {:?}", ready.body);
    }
    app.finish().await;
}

/// `/dashboard/stats.json` (per instance, so exact even beside other tests) counts this
/// instance's requests per route, and the page is HTML under a CSP without `unsafe-inline`.
#[tokio::test]
async fn dashboard_stats_count_this_instance() {
    let app = TestApp::spawn().await;
    let ann = app.user("ann").await;
    let project = app.project(&ann, "Live").await;
    for _ in 0..5 {
        assert_eq!(app.get(&format!("/api/projects/{project}"), &ann).await.status, StatusCode::OK);
    }
    let stats = app.call(Method::GET, "/dashboard/stats.json?window=60", None, None).await;
    assert_eq!(stats.status, StatusCode::OK, "{:?}", stats.body);
    let live = &stats.body["live"];
    assert_eq!(live["window"], 60);
    assert_eq!(live["totals"]["requests"], 7, "signup, create and five reads: {live}");
    let rows = live["routes"].as_array().expect("routes");
    let row = |route: &str| rows.iter().find(|r| r["route"] == route).cloned();
    assert_eq!(row("GET /api/projects/{id}").expect("the reads")["requests"], 5);
    assert!(
        row("GET /dashboard/stats.json").is_none(),
        "the dashboard's own polls are not counted"
    );
    assert_eq!(live["cache_hit_ratio"]["project_detail"].as_array().map(Vec::len), Some(60));
    assert!(stats.body["pool"]["max"].as_u64().is_some_and(|m| m > 0));
    assert!(stats.body["process"]["resident_bytes"].as_u64().is_some_and(|b| b > 0));

    let page = app.call(Method::GET, "/dashboard", None, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.header("content-type").starts_with("text/html"));
    let csp = page.header("content-security-policy");
    assert!(csp.contains("script-src 'self' 'sha256-") && !csp.contains("unsafe-inline"), "{csp}");
    app.finish().await;
}

/// Any token is a valid HTTP method: made-up ones are all counted as `other`, so a client
/// cannot add label values (series) to `/metrics` or rows to the dashboard by inventing them.
#[tokio::test]
async fn made_up_methods_add_no_label_values() {
    let app = TestApp::spawn().await;
    let junk: Vec<String> =
        (0..20).map(|i| format!("JUNK{i:02}X{}", rand::random::<u32>())).collect();
    for (i, name) in junk.iter().enumerate() {
        let method = Method::from_bytes(name.as_bytes()).expect("a token is a method");
        let path = if i % 2 == 0 { "/api/projects" } else { "/no/such/route" };
        let resp = app.call(method, path, None, None).await;
        assert!(resp.status.is_client_error(), "{name}: {:?}", resp.status);
    }
    let known = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "other"];
    let metrics = scrape(&app).await;
    for sample in &metrics.0 {
        if let Some(method) = sample.labels.get("method") {
            assert!(known.contains(&method.as_str()), "label method={method} in {}", sample.name);
        }
    }
    assert!(metrics.sum("reelplan_http_requests_total", &[("method", "other")]) >= 20.0);
    let stats = app.call(Method::GET, "/dashboard/stats.json", None, None).await;
    assert_eq!(stats.status, StatusCode::OK);
    assert!(!junk.iter().any(|name| stats.raw.contains(name.as_str())), "{}", stats.raw);
    app.finish().await;
}

/// Every log line of a request is inside its `request` span, which names the request id, the
/// route and the authenticated user, so a slow-statement or error line can be traced back.
#[tokio::test]
async fn log_lines_name_their_request_route_and_user() {
    // Callsite interest is process-wide: other tests' threads logging at the same callsites
    // while this one installs its subscriber could make it miss a line.
    if !alone("ops::log_lines_name_their_request_route_and_user").await {
        return;
    }
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    let app = TestApp::spawn().await;
    let ann = app.user("ann").await;
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    // This thread's subscriber only (the test runtime runs the request on this thread).
    let resp = {
        let _guard = tracing::subscriber::set_default(subscriber);
        app.get("/api/me", &ann).await
    };
    assert_eq!(resp.status, StatusCode::OK);
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let line = logs.lines().find(|l| l.contains("reelplan::request")).expect("a request line");
    let id = resp.header("x-request-id");
    for field in [format!("id={id}"), "route=/api/me".to_owned(), format!("user={}", ann.id)] {
        assert!(line.contains(&field), "{field} missing from {line}");
    }
    app.finish().await;
}

/// At debug level each use case and each statement opens a span inside the request's, so a
/// trace shows where a request spent its time.
#[tokio::test]
async fn use_cases_and_statements_open_debug_spans_inside_the_request() {
    if !alone("ops::use_cases_and_statements_open_debug_spans_inside_the_request").await {
        return;
    }
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::layer::{Context, SubscriberExt};
    use tracing_subscriber::Layer;

    /// A span's name and its parent's.
    type Opened = (String, Option<String>);
    /// Every span opened.
    #[derive(Clone, Default)]
    struct Spans(Arc<Mutex<Vec<Opened>>>);
    impl<S> Layer<S> for Spans
    where
        S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        fn on_new_span(
            &self,
            attrs: &tracing::span::Attributes<'_>,
            id: &tracing::span::Id,
            ctx: Context<'_, S>,
        ) {
            let parent = ctx.span(id).and_then(|s| s.parent()).map(|p| p.name().to_owned());
            self.0.lock().unwrap().push((attrs.metadata().name().to_owned(), parent));
        }
    }

    let app = TestApp::spawn().await;
    let ann = app.user("ann").await;
    let spans = Spans::default();
    let subscriber = tracing_subscriber::registry()
        .with(spans.clone().with_filter(tracing_subscriber::filter::LevelFilter::DEBUG));
    let resp = {
        let _guard = tracing::subscriber::set_default(subscriber);
        app.get("/api/me", &ann).await
    };
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(resp.header("x-query-count"), "1", "a cold profile runs its statement");
    let spans = spans.0.lock().unwrap().clone();
    let has = |name: &str, parent: &str| {
        spans.iter().any(|(n, p)| n == name && p.as_deref() == Some(parent))
    };
    assert!(has("me", "request"), "the use case's span is inside the request's: {spans:?}");
    assert!(has("statement", "me"), "the statement's span is inside the use case's: {spans:?}");
    app.finish().await;
}
