//! Every Limits row of API.md at its boundary, and malformed requests.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{TestApp, TestUser};

fn chars(n: usize) -> String {
    "é".repeat(n)
}

/// `a...@b....c....d....com` of exactly `n` characters (labels stay within 63).
fn email_of_length(n: usize) -> String {
    let email = format!(
        "{}@{}.{}.{}.com",
        "a".repeat(64),
        "b".repeat(63),
        "c".repeat(63),
        "d".repeat(n - 64 - 1 - 63 - 1 - 63 - 1 - 4)
    );
    assert_eq!(email.len(), n);
    email
}

async fn expect_field(
    app: &TestApp,
    method: Method,
    path: &str,
    user: Option<&TestUser>,
    body: Value,
    field: &str,
) {
    let resp = app.call(method, path, user.map(|u| u.token.as_str()), Some(body.clone())).await;
    resp.assert_error(422, "validation");
    assert!(resp.body["fields"][field].is_string(), "{field} named for {body}: {:?}", resp.body);
}

#[tokio::test]
async fn signup_limits() {
    let app = TestApp::spawn().await;
    let signup = |email: String, password: String, nickname: String| json!({"email": email, "password": password, "nickname": nickname});
    let ok = |n: u32| format!("user{n}@example.com");
    let cases = [
        (signup(email_of_length(254), chars(8), "n".into()), None),
        (signup(email_of_length(255), chars(8), "n".into()), Some("email")),
        (signup("not-an-email".into(), chars(8), "n".into()), Some("email")),
        (signup(ok(1), chars(7), "n".into()), Some("password")),
        (signup(ok(2), chars(128), "n".into()), None),
        (signup(ok(3), chars(129), "n".into()), Some("password")),
        (signup(ok(4), chars(8), format!("  {}  ", chars(50))), None),
        (signup(ok(5), chars(8), chars(51)), Some("nickname")),
        (signup(ok(6), chars(8), "   ".into()), Some("nickname")),
    ];
    for (body, field) in cases {
        match field {
            None => {
                let resp =
                    app.call(Method::POST, "/api/auth/signup", None, Some(body.clone())).await;
                assert_eq!(resp.status, StatusCode::CREATED, "{body}: {:?}", resp.body);
            }
            Some(field) => {
                expect_field(&app, Method::POST, "/api/auth/signup", None, body, field).await
            }
        }
    }
    let resp = app.call(Method::POST, "/api/auth/signup", None, Some(json!({}))).await;
    resp.assert_error(422, "validation");
    assert_eq!(resp.body["fields"].as_object().unwrap().len(), 3, "every missing field named");
    app.finish().await;
}

#[tokio::test]
async fn project_and_discussion_limits() {
    let app = TestApp::spawn().await;
    let ann = app.user("ann").await;
    let create = |body: Value| app.post("/api/projects", &ann, body);
    for body in [
        json!({"name": chars(200), "manager": chars(100), "consumer": chars(100), "description": chars(10_000), "color": "#abcdef"}),
        json!({"name": "x", "color": null}),
    ] {
        assert_eq!(create(body).await.status, StatusCode::CREATED);
    }
    for (body, field) in [
        (json!({"name": chars(201)}), "name"),
        (json!({"name": " "}), "name"),
        (json!({}), "name"),
        (json!({"name": "x", "manager": chars(101)}), "manager"),
        (json!({"name": "x", "consumer": chars(101)}), "consumer"),
        (json!({"name": "x", "description": chars(10_001)}), "description"),
        (json!({"name": "x", "color": "#abcdeg"}), "color"),
        (json!({"name": "x", "color": "abcdef"}), "color"),
        (
            json!({"name": "x", "phases": {"filming": {"start_date": "2026-01-02T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"}}}),
            "phases.filming.start_date",
        ),
    ] {
        expect_field(&app, Method::POST, "/api/projects", Some(&ann), body, field).await;
    }
    app.post("/api/projects", &ann, json!({"name": "x", "phases": {"editing": {}}}))
        .await
        .assert_error(400, "bad_request");

    let id = app.project(&ann, "Limits").await;
    let comments = format!("/api/projects/{id}/feedback/comments");
    let messages = format!("/api/projects/{id}/feedback/messages");
    let memos = format!("/api/projects/{id}/memos");
    for (path, body) in [
        (&comments, json!({"text": chars(5_000), "timecode": 0})),
        (&comments, json!({"text": "t", "timecode": 1e9})),
        (&messages, json!({"text": chars(5_000)})),
        (&memos, json!({"date": "2026-01-01T00:00:00+09:00", "text": chars(2_000)})),
    ] {
        assert_eq!(app.post(path, &ann, body).await.status, StatusCode::CREATED);
    }
    for (path, body, field) in [
        (&comments, json!({"text": chars(5_001)}), "text"),
        (&comments, json!({"text": " \t "}), "text"),
        (&comments, json!({"text": "t", "timecode": -0.5}), "timecode"),
        (&messages, json!({"text": chars(5_001)}), "text"),
        (&messages, json!({"text": ""}), "text"),
        (&memos, json!({"date": "2026-01-01T00:00:00Z", "text": chars(2_001)}), "text"),
        (&memos, json!({"date": "2026-01-01T00:00:00Z", "text": ""}), "text"),
        (&memos, json!({"date": "tomorrow", "text": "x"}), "date"),
        (&memos, json!({"text": "x"}), "date"),
    ] {
        expect_field(&app, Method::POST, path, Some(&ann), body, field).await;
    }
    app.finish().await;
}

#[tokio::test]
async fn malformed_requests_are_400_or_413_never_500() {
    let app = TestApp::spawn().await;
    let ann = app.user("ann").await;
    let raw = |content_type: Option<&str>, body: Vec<u8>| {
        let mut req = Request::builder()
            .method(Method::POST)
            .uri("/api/projects")
            .header("authorization", format!("Bearer {}", ann.token));
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        req.body(Body::from(body)).unwrap()
    };
    app.send(raw(Some("application/json"), b"{\"name\": ".to_vec()))
        .await
        .assert_error(400, "bad_request");
    app.send(raw(Some("application/json"), b"[1, 2]".to_vec()))
        .await
        .assert_error(400, "bad_request");
    app.send(raw(Some("text/plain"), b"{\"name\": \"x\"}".to_vec()))
        .await
        .assert_error(400, "bad_request");
    app.send(raw(None, b"{\"name\": \"x\"}".to_vec())).await.assert_error(400, "bad_request");
    app.send(raw(Some("application/json"), b"{\"name\": \"x\", \"owner\": 1}".to_vec()))
        .await
        .assert_error(400, "bad_request");
    app.send(raw(Some("application/json"), b"{\"name\": 5}".to_vec()))
        .await
        .assert_error(400, "bad_request");
    app.send(raw(Some("application/json"), b"\xff\xfe".to_vec()))
        .await
        .assert_error(400, "bad_request");
    let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(1024 * 1024));
    app.send(raw(Some("application/json"), huge.into_bytes()))
        .await
        .assert_error(413, "payload_too_large");
    app.get("/api/projects/abc", &ann).await.assert_error(404, "not_found");
    app.get("/api/projects/99999999999999999999", &ann).await.assert_error(404, "not_found");
    app.get("/api/nowhere", &ann).await.assert_error(404, "not_found");
    assert_eq!(
        app.call(Method::DELETE, "/api/me", Some(&ann.token), None).await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    app.finish().await;
}

#[tokio::test]
async fn every_api_response_carries_the_accounting_headers() {
    let app = TestApp::spawn().await;
    let ann = app.user("ann").await;
    let mut req =
        Request::builder().uri("/api/me").header("authorization", format!("Bearer {}", ann.token));
    req = req.header("x-request-id", "trace-me-42");
    let resp = app.send(req.body(Body::empty()).unwrap()).await;
    assert_eq!(resp.header("x-request-id"), "trace-me-42");
    assert!(resp.header("x-response-time").ends_with('s'));
    let timing = resp.header("server-timing");
    assert!(
        timing.starts_with("db;dur=")
            && timing.contains("queries\"")
            && timing.contains("app;dur="),
        "{timing}"
    );
    let other = app.get("/api/projects/1", &ann).await;
    assert_eq!(other.header("x-request-id").len(), 16, "generated when absent");
    assert_eq!(other.queries(), 1);
    app.finish().await;
}

/// A crafted cursor whose time lies outside years 1-9999 is 400 `bad_request` on every paged
/// list, never a 500 from the database (PostgreSQL's timestamps end at 4713 BC).
#[tokio::test]
async fn cursors_with_times_outside_the_calendar_are_400() {
    use base64::Engine;
    let app = TestApp::spawn().await;
    let ann = app.user("ann").await;
    let id = app.project(&ann, "Paged").await;
    let encode = |micros: i64| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{micros}:1"))
    };
    // 5952 BC (inside chrono, outside PostgreSQL), year 10000, and the extremes chrono takes.
    let times = [-250_000_000_000_000_000, 253_402_300_800_000_000, -8_000_000_000_000_000_000];
    for micros in times {
        let cursor = encode(micros);
        for path in [
            format!("/api/projects?cursor={cursor}"),
            format!("/api/projects/{id}/feedback/comments?cursor={cursor}"),
            format!("/api/projects/{id}/feedback/messages?cursor={cursor}"),
        ] {
            app.get(&path, &ann).await.assert_error(400, "bad_request");
        }
    }
    // A cursor at the edge of the range is still a cursor.
    let edge = encode(-62_135_596_800_000_000);
    assert_eq!(app.get(&format!("/api/projects?cursor={edge}"), &ann).await.status, StatusCode::OK);
    app.finish().await;
}
