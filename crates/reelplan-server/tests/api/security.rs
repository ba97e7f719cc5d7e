//! Security policy: headers on every response, the production secret check, login
//! rate limiting per email and per client address, the ops token, CORS off by default.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode};
use reelplan_server::config::Secret;
use serde_json::{json, Value};

use crate::helpers::{Resp, TestApp};

fn login_request(email: &str, password: &str, from: Option<[u8; 4]>) -> Request<Body> {
    let body = json!({"email": email, "password": password}).to_string();
    let mut request = Request::post("/api/auth/login")
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    if let Some(ip) = from {
        // What `serve` attaches to every request from the TCP peer.
        request.extensions_mut().insert(ConnectInfo(SocketAddr::from((ip, 40000))));
    }
    request
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    let ann = app.user("ann").await;
    let responses = [
        app.get("/api/projects", &ann).await,
        app.call(Method::GET, "/api/me", None, None).await,
        app.get("/api/nowhere", &ann).await,
        app.call(Method::GET, "/healthz", None, None).await,
        app.call(Method::GET, "/metrics", None, None).await,
    ];
    for resp in &responses {
        assert_eq!(resp.header("x-content-type-options"), "nosniff", "{}", resp.status);
        assert_eq!(resp.header("referrer-policy"), "no-referrer");
        assert_eq!(resp.header("x-frame-options"), "DENY");
        assert!(resp.header("content-security-policy").starts_with("default-src 'none'"));
    }
    let page = app.call(Method::GET, "/dashboard", None, None).await;
    let csp = page.header("content-security-policy");
    assert!(csp.contains("'sha256-") && !csp.contains("unsafe-inline"), "{csp}");
    app.finish().await;
}

#[tokio::test]
async fn production_refuses_a_missing_short_or_default_secret() {
    let app = TestApp::spawn().await;
    let mut config = app.config.clone();
    config.security.production = true;
    let starts = |secret: Option<&str>| {
        let mut config = config.clone();
        config.auth.jwt_secret = secret.map(|s| Secret(s.to_owned()));
        reelplan_server::state_with_store(app.store(), &config).is_ok()
    };
    assert!(!starts(None), "no secret");
    assert!(!starts(Some("too-short-for-hs256")), "short");
    assert!(!starts(Some("test-secret-test-secret-test-secret!")), "well known");
    assert!(!starts(Some(&"ab".repeat(20))), "low entropy");
    assert!(starts(Some("4f9c2a7e1b3d8c6f0a5e9d2b7c4f1a8e")), "a generated secret");
    app.finish().await;
}

#[tokio::test]
async fn failed_logins_are_limited_per_email() {
    let app = TestApp::spawn_with(|c| c.security.login.per_email = 3).await;
    app.user("ann").await;
    app.user("bob").await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses
            .push(app.send(login_request("ann@example.com", "wrong-password", None)).await.status);
    }
    assert_eq!(statuses[..3], [StatusCode::UNAUTHORIZED; 3], "{statuses:?}");
    assert_eq!(statuses[4], StatusCode::TOO_MANY_REQUESTS, "{statuses:?}");
    // Even the right password waits, or guessing would go on; another email does not.
    let right = app.send(login_request("ann@example.com", "password-ann", None)).await;
    right.assert_error(429, "rate_limited");
    assert!(right.header("retry-after").parse::<u64>().is_ok_and(|s| s >= 1));
    let other = app.send(login_request("bob@example.com", "password-bob", None)).await;
    assert_eq!(other.status, StatusCode::OK);
    app.finish().await;
}

/// With Redis, instances share the login budgets: guesses spread over two instances spend
/// one budget, so the fourth answers 429 on either. Per-instance counters would allow six.
#[tokio::test]
async fn instances_sharing_redis_share_the_login_budgets() {
    if std::env::var("REDIS_URL").is_err() {
        println!("skipped: REDIS_URL not set");
        return;
    }
    let app = TestApp::spawn_with(|c| c.security.login.per_email = 3).await;
    let other = app.second_instance().await;
    app.user("ann").await;
    let mut statuses = Vec::new();
    for n in 0..4 {
        let instance = if n % 2 == 0 { &*app } else { &other };
        let guess = login_request("ann@example.com", "wrong-password", None);
        statuses.push(instance.send(guess).await.status);
    }
    assert_eq!(statuses[..3], [StatusCode::UNAUTHORIZED; 3], "{statuses:?}");
    assert_eq!(statuses[3], StatusCode::TOO_MANY_REQUESTS, "{statuses:?}");
    let right = app.send(login_request("ann@example.com", "password-ann", None)).await;
    right.assert_error(429, "rate_limited");
    app.finish().await;
}

#[tokio::test]
async fn failed_logins_are_limited_per_client_address() {
    let app = TestApp::spawn_with(|c| {
        c.security.login.per_email = 0;
        c.security.login.per_address = 4;
    })
    .await;
    app.user("ann").await;
    let guesser = Some([10, 0, 0, 7]);
    let mut last = None;
    for n in 0..6 {
        let email = format!("guess{n}@example.com");
        last = Some(app.send(login_request(&email, "wrong-password", guesser)).await);
    }
    last.unwrap().assert_error(429, "rate_limited");
    let from_guesser = app.send(login_request("ann@example.com", "password-ann", guesser)).await;
    assert_eq!(from_guesser.status, StatusCode::TOO_MANY_REQUESTS);
    let elsewhere = app.send(login_request("ann@example.com", "password-ann", Some([10, 0, 0, 8])));
    assert_eq!(elsewhere.await.status, StatusCode::OK);
    app.finish().await;
}

#[tokio::test]
async fn the_ops_token_guards_metrics_and_dashboard_only() {
    let token = "ops-token-for-tests-only";
    let app = TestApp::spawn_with(|c| c.security.ops_token = Some(Secret(token.to_owned()))).await;
    let get = |path: &str, auth: Option<&str>| {
        let mut request = Request::get(path);
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        app.send(request.body(Body::empty()).unwrap())
    };
    for path in ["/metrics", "/dashboard", "/dashboard/stats.json"] {
        get(path, None).await.assert_error(401, "unauthenticated");
        get(path, Some("Bearer not-the-token")).await.assert_error(401, "unauthenticated");
        assert_eq!(get(path, Some(&format!("Bearer {token}"))).await.status, StatusCode::OK);
    }
    assert_eq!(get(&format!("/dashboard?token={token}"), None).await.status, StatusCode::OK);
    assert_eq!(get("/healthz", None).await.status, StatusCode::OK, "probes stay open");
    app.finish().await;
}

async fn preflight(app: &TestApp, origin: &str) -> Resp {
    let request = Request::builder()
        .method(Method::OPTIONS)
        .uri("/api/projects")
        .header("origin", origin)
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .body(Body::empty())
        .unwrap();
    app.send(request).await
}

#[tokio::test]
async fn cors_is_off_unless_origins_are_listed() {
    let closed = TestApp::spawn().await;
    let resp = preflight(&closed, "https://app.example.com").await;
    assert_eq!(resp.header("access-control-allow-origin"), "");
    closed.finish().await;

    let open = TestApp::spawn_with(|c| {
        c.security.cors_origins = vec!["https://app.example.com".to_owned()];
    })
    .await;
    let allowed = preflight(&open, "https://app.example.com").await;
    assert_eq!(allowed.header("access-control-allow-origin"), "https://app.example.com");
    assert!(allowed.header("access-control-allow-headers").contains("authorization"));
    let refused = preflight(&open, "https://evil.example.com").await;
    assert_eq!(refused.header("access-control-allow-origin"), "");
    assert_eq!(refused.body, Value::Null, "a preflight has no body");
    open.finish().await;
}

/// A data folder of its own under the temp dir.
fn fresh_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "reelplan-secret-{tag}-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A generated secret file that is empty, or shorter than 32 bytes, refuses the start with an
/// error naming the file, as a short `REELPLAN_JWT_SECRET` does.
#[tokio::test]
async fn a_short_or_empty_secret_file_refuses_to_start() {
    let app = TestApp::spawn().await;
    for (tag, contents) in
        [("empty", ""), ("blank", " \n"), ("short", "0123456789abcdef0123456789abcde\n")]
    {
        let dir = fresh_dir(tag);
        std::fs::write(dir.join("jwt_secret"), contents).unwrap();
        let mut config = app.config.clone();
        config.auth.jwt_secret = None;
        config.data_dir = dir.clone();
        let error = match reelplan_server::state_with_store(app.store(), &config) {
            Ok(_) => panic!("{tag}: started with a {}-byte secret file", contents.len()),
            Err(error) => format!("{error:#}"),
        };
        assert!(error.contains("jwt_secret") && error.contains("32"), "{tag}: {error}");
        assert_eq!(std::fs::read_to_string(dir.join("jwt_secret")).unwrap(), contents, "untouched");
        std::fs::remove_dir_all(dir).unwrap();
    }
    app.finish().await;
}

/// Instances starting at the same moment on one empty data folder end with one secret file
/// (0600, 64 hex characters, no temporary left), and a token one signs the others accept.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_starts_share_one_generated_secret() {
    let app = TestApp::spawn().await;
    for round in 0..5 {
        let dir = fresh_dir(&format!("race{round}"));
        let mut config = app.config.clone();
        config.auth.jwt_secret = None;
        config.data_dir = dir.clone();
        // Plain threads, racing for real: no runtime there for a Redis client to start in.
        config.cache.redis_url = None;
        let starters = 8;
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(starters));
        let handles: Vec<_> = (0..starters)
            .map(|_| {
                let (config, store, barrier) = (config.clone(), app.store(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    reelplan_server::state_with_store(store, &config).expect("starts")
                })
            })
            .collect();
        let states: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n != "objects")
            .collect();
        assert_eq!(names, ["jwt_secret"], "one file, no temporary left behind");
        let secret = std::fs::read_to_string(dir.join("jwt_secret")).unwrap();
        assert_eq!(secret.len(), 64, "{secret:?}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("jwt_secret")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        for signer in &states {
            let token = signer.auth.issue(reelplan_domain::UserId(7)).unwrap();
            for verifier in &states {
                assert_eq!(verifier.auth.verify(&token).unwrap(), reelplan_domain::UserId(7));
            }
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
    app.finish().await;
}

fn login_from(email: &str, ip: std::net::IpAddr) -> Request<Body> {
    let body = json!({"email": email, "password": "wrong-password"}).to_string();
    let mut request = Request::post("/api/auth/login")
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    request.extensions_mut().insert(ConnectInfo(SocketAddr::new(ip, 40000)));
    request
}

/// IPv6 clients are counted by /64: rotating through the addresses of one allocation does
/// not reset the budget; another /64 has its own.
#[tokio::test]
async fn ipv6_addresses_are_limited_by_their_64() {
    let app = TestApp::spawn_with(|c| {
        c.security.login.per_email = 0;
        c.security.login.per_address = 3;
    })
    .await;
    let statuses: Vec<u16> = futures::future::join_all((1..=5).map(|n| {
        let ip = format!("2001:db8:7:7::{n:x}").parse().unwrap();
        app.send(login_from(&format!("g{n}@example.com"), ip))
    }))
    .await
    .iter()
    .map(|r| r.status.as_u16())
    .collect();
    let mut sorted = statuses.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, [401, 401, 401, 429, 429], "{statuses:?}");
    let elsewhere = app.send(login_from("g@example.com", "2001:db8:7:8::1".parse().unwrap()));
    assert_eq!(elsewhere.await.status, StatusCode::UNAUTHORIZED);
    app.finish().await;
}

/// A login email of any length or shape answers like a wrong login (401, not 422), and only
/// valid addresses (at most 254 characters) become limiter keys: a spray of huge junk emails
/// adds none, a valid one adds exactly one.
#[tokio::test]
async fn malformed_login_emails_are_401_and_never_limiter_keys() {
    // The process's own counters, which can be counted (Redis ones are keyed the same way).
    let app = TestApp::spawn_with(|c| c.cache.redis_url = None).await;
    app.user("ann").await;
    let limiter = &app.state.login_limiter;
    let before = limiter.keys();
    for n in 0..20 {
        let junk = format!("{n}{}@example.com", "x".repeat(100_000));
        let resp = app.send(login_request(&junk, "wrong-password", None)).await;
        resp.assert_error(401, "unauthenticated");
        let resp = app.send(login_request(&format!("not an email {n}"), "x", None)).await;
        resp.assert_error(401, "unauthenticated");
    }
    let over = format!("{}@example.com", "a".repeat(243));
    assert_eq!(over.len(), 255);
    app.send(login_request(&over, "wrong-password", None))
        .await
        .assert_error(401, "unauthenticated");
    assert_eq!(limiter.keys(), before, "no key for an email that cannot be an account");
    let resp = app.send(login_request(" ANN@example.com ", "wrong-password", None)).await;
    resp.assert_error(401, "unauthenticated");
    assert_eq!(limiter.keys(), before + 1, "a valid email is one key, normalised");
    app.finish().await;
}

/// A non-member's 404 tells nothing a missing project's does not: the same status, body and
/// headers (no `X-Cache`, the same statement count, the same `Server-Timing` cache word),
/// whether the project's documents are cached or cold.
#[tokio::test]
async fn a_non_members_404_is_a_missing_projects_404() {
    let app = TestApp::spawn().await;
    let (ann, eve) = (app.user("ann").await, app.user("eve").await);
    let id = app.project(&ann, "secret").await;
    let cache_word = |r: &Resp| {
        let timing = r.header("server-timing").to_owned();
        timing.split(", ").find(|part| part.starts_with("cache")).map(str::to_owned)
    };
    for suffix in ["", "/feedback/comments", "/feedback/messages"] {
        let (real, fake) =
            (format!("/api/projects/{id}{suffix}"), format!("/api/projects/{}{suffix}", id + 999));
        for warm in [true, false] {
            if warm {
                app.get(&real, &ann).await;
                assert_eq!(app.get(&real, &ann).await.cache(), "HIT", "{real} is cached");
            } else {
                app.chill(&ann, id).await;
            }
            let (a, b) = (app.get(&real, &eve).await, app.get(&fake, &eve).await);
            assert_eq!((a.status, &a.body), (b.status, &b.body), "{real}");
            assert_eq!(a.status, StatusCode::NOT_FOUND);
            for header in ["x-cache", "x-query-count"] {
                assert_eq!(a.header(header), b.header(header), "{header} of {real}, warm {warm}");
            }
            assert_eq!(cache_word(&a), cache_word(&b), "{real}, warm {warm}");
        }
    }
    app.finish().await;
}

/// `?q=` goes into the filtered list's cache key: past 200 characters it is 400, so no caller
/// can make keys (or ILIKE patterns) of any size; 200 characters (a full name) still works.
#[tokio::test]
async fn a_search_longer_than_200_characters_is_400() {
    let app = TestApp::spawn().await;
    let ann = app.user("ann").await;
    let name = "é".repeat(200);
    let resp = app.post("/api/projects", &ann, serde_json::json!({"name": name})).await;
    assert_eq!(resp.status.as_u16(), 201, "{:?}", resp.body);
    let found = app.get(&format!("/api/projects?q={}", "%C3%A9".repeat(200)), &ann).await;
    assert_eq!(found.status.as_u16(), 200, "{:?}", found.body);
    assert_eq!(found.ids().len(), 1, "a full name is found");
    let long = app.get(&format!("/api/projects?q={}", "x".repeat(201)), &ann).await;
    long.assert_error(400, "bad_request");
    let huge = app.get(&format!("/api/projects?q={}", "x".repeat(5_000)), &ann).await;
    huge.assert_error(400, "bad_request");
    app.finish().await;
}
