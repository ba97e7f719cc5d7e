//! Conditional requests (API.md 1.1): weak ETags on every cacheable GET, 304 on a held ETag
//! with no SQL on a warm cache, and an ETag that moves whenever the body does, per caller and
//! on every instance.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;

use crate::helpers::{raw, Instance, Resp, TestApp, TestUser};

/// GET `path` as `user` holding `etag` in `If-None-Match`.
async fn get_if_none_match(app: &Instance, path: &str, user: &TestUser, etag: &str) -> Resp {
    let request = Request::builder()
        .method(Method::GET)
        .uri(path)
        .header("authorization", format!("Bearer {}", user.token))
        .header("if-none-match", etag)
        .body(Body::empty())
        .unwrap();
    app.send(request).await
}

#[tokio::test]
async fn every_cacheable_get_answers_304_to_its_etag_without_sql() {
    let app = TestApp::spawn().await;
    let (ann, vi) = (app.user("ann").await, app.user("vi").await);
    let id = app.project(&ann, "Conditional").await;
    app.add_member(&ann, id, &vi, "viewer").await;
    let versions = format!("/api/projects/{id}/versions");
    let v = app.send(raw(Method::POST, &versions, &ann, Some("video/mp4"), Body::from("v"))).await;
    let version = v.result()["id"].as_i64().unwrap();
    app.post(&format!("/api/projects/{id}/feedback/comments"), &vi, json!({"text": "hi"})).await;
    let paths = [
        "/api/me".to_owned(),
        "/api/projects".to_owned(),
        format!("/api/projects/{id}"),
        format!("/api/projects/{id}/feedback/comments"),
        format!("/api/projects/{id}/feedback/comments?resolved=false"),
        format!("/api/projects/{id}/feedback/messages"),
        versions.clone(),
        format!("{versions}/{version}"),
    ];
    for path in &paths {
        // Warm: a cold list fills its memberships first and its summaries on the next read.
        app.get(path, &vi).await;
        let first = app.get(path, &vi).await;
        assert_eq!(first.status, StatusCode::OK, "{path}");
        let etag = first.header("etag").to_owned();
        assert!(etag.starts_with("W/\"") && etag.ends_with('"'), "{path}: {etag:?}");
        assert_eq!(first.header("cache-control"), "private, no-cache", "{path}");
        assert!(first.header("vary").to_lowercase().contains("authorization"), "{path}");
        let again = get_if_none_match(&app, path, &vi, &etag).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{path}");
        assert!(again.raw.is_empty(), "{path}: a 304 has no body");
        assert_eq!((again.header("etag"), again.queries()), (etag.as_str(), 0), "{path}");
        let listed = get_if_none_match(&app, path, &vi, &format!("\"other\", {etag}")).await;
        assert_eq!(listed.status, StatusCode::NOT_MODIFIED, "{path}: one of a list");
        let other = get_if_none_match(&app, path, &vi, "W/\"0000000000000000\"").await;
        assert_eq!(other.status, StatusCode::OK, "{path}: another tag");
        assert_eq!(other.header("etag"), etag);
    }
    // Writes, downloads and exports carry no ETag.
    let export = format!("{versions}/{version}/comments/export?format=csv");
    assert_eq!(app.get(&export, &vi).await.header("etag"), "");
    // Per caller: the detail says `my_role`, so Ann's tag is not Vi's.
    let detail = format!("/api/projects/{id}");
    let ann_tag = app.get(&detail, &ann).await.header("etag").to_owned();
    let vi_tag = app.get(&detail, &vi).await.header("etag").to_owned();
    assert_ne!(ann_tag, vi_tag);
    assert_eq!(get_if_none_match(&app, &detail, &vi, &ann_tag).await.status, StatusCode::OK);
    app.finish().await;
}

/// After every kind of write, the ETag held before it no longer matches, on any instance.
#[tokio::test]
async fn every_write_moves_the_etags_it_changes_on_every_instance() {
    let app = TestApp::spawn().await;
    let (ann, vi) = (app.user("ann").await, app.user("vi").await);
    let id = app.project(&ann, "Moving").await;
    app.add_member(&ann, id, &vi, "viewer").await;
    let b = app.peer().await;
    let instances: Vec<&Instance> = std::iter::once(&app.app).chain(b.as_ref()).collect();
    let detail = format!("/api/projects/{id}");
    let comments = format!("{detail}/feedback/comments");
    let versions = format!("{detail}/versions");
    let watched = ["/api/projects".to_owned(), detail.clone(), comments.clone(), versions.clone()];
    let mut held: Vec<String> = Vec::new();
    for path in &watched {
        held.push(app.get(path, &vi).await.header("etag").to_owned());
    }
    // Each write, and the watched paths whose body it changes.
    let writes: Vec<(&str, MakeRequest, Vec<usize>)> = vec![
        ("rename", Box::new(|| patch(&detail, &ann, json!({"name": "Renamed"}))), vec![0, 1]),
        (
            "phase",
            Box::new(|| {
                put(
                    &format!("{detail}/phases/filming"),
                    &ann,
                    json!({"start_date": "2026-03-01T00:00:00Z", "end_date": "2026-03-02T00:00:00Z"}),
                )
            }),
            vec![0, 1],
        ),
        ("comment", Box::new(|| post(&comments, &vi, json!({"text": "note"}))), vec![1, 2]),
        (
            "message",
            Box::new(|| post(&format!("{detail}/feedback/messages"), &vi, json!({"text": "chat"}))),
            vec![1],
        ),
        (
            "memo",
            Box::new(|| {
                post(
                    &format!("{detail}/memos"),
                    &ann,
                    json!({"date": "2026-03-01T00:00:00Z", "text": "memo"}),
                )
            }),
            vec![1],
        ),
        (
            "version",
            Box::new(|| raw(Method::POST, &versions, &ann, Some("video/mp4"), Body::from("v"))),
            vec![0, 1, 3],
        ),
        (
            "nickname",
            Box::new(|| patch("/api/me", &ann, json!({"nickname": "Annie"}))),
            vec![0, 1, 3],
        ),
    ];
    for (name, request, changed) in writes {
        let resp = app.send(request()).await;
        assert!(resp.status.is_success(), "{name}: {:?}", resp.body);
        for (i, path) in watched.iter().enumerate() {
            for instance in &instances {
                let resp = get_if_none_match(instance, path, &vi, &held[i]).await;
                let moved = resp.status == StatusCode::OK;
                if changed.contains(&i) {
                    assert!(moved, "{name}: {path} still answered 304");
                } else {
                    assert!(!moved, "{name}: {path} changed but should not have");
                }
            }
            held[i] = app.get(path, &vi).await.header("etag").to_owned();
        }
    }
    app.finish().await;
}

/// Builds one write's request.
type MakeRequest<'a> = Box<dyn Fn() -> Request<Body> + 'a>;

fn json_request(
    method: Method,
    path: &str,
    user: &TestUser,
    body: serde_json::Value,
) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {}", user.token))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn patch(path: &str, user: &TestUser, body: serde_json::Value) -> Request<Body> {
    json_request(Method::PATCH, path, user, body)
}

fn put(path: &str, user: &TestUser, body: serde_json::Value) -> Request<Body> {
    json_request(Method::PUT, path, user, body)
}

fn post(path: &str, user: &TestUser, body: serde_json::Value) -> Request<Body> {
    json_request(Method::POST, path, user, body)
}

/// `If-Match` on the updates API.md names: 412 `precondition_failed` with nothing written when
/// the resource changed since the ETag was issued; the write answers with the new ETag, which
/// the next write may send in turn.
#[tokio::test]
async fn a_stale_if_match_is_412_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let (ann, ed) = (app.user("ann").await, app.user("ed").await);
    let id = app.project(&ann, "Guarded").await;
    app.add_member(&ann, id, &ed, "manager").await;
    let detail = format!("/api/projects/{id}");
    let with_if_match =
        |method: Method, path: &str, user: &TestUser, tag: &str, body: serde_json::Value| {
            let mut request = json_request(method, path, user, body);
            request.headers_mut().insert("if-match", tag.parse().unwrap());
            request
        };

    // The project: its detail's ETag, for the caller.
    let tag = app.get(&detail, &ann).await.header("etag").to_owned();
    let renamed =
        app.send(with_if_match(Method::PATCH, &detail, &ann, &tag, json!({"name": "One"}))).await;
    assert_eq!(renamed.status, StatusCode::OK, "{:?}", renamed.body);
    let new_tag = renamed.header("etag").to_owned();
    assert_eq!(app.get(&detail, &ann).await.header("etag"), new_tag, "the detail's new ETag");
    let stale =
        app.send(with_if_match(Method::PATCH, &detail, &ann, &tag, json!({"name": "Two"}))).await;
    stale.assert_error(412, "precondition_failed");
    assert_eq!(app.get(&detail, &ann).await.result()["name"], "One", "nothing written");
    // Another member's write moves it on: a memo changes the detail.
    let memo = json!({"date": "2026-03-01T00:00:00Z", "text": "memo"});
    app.post(&format!("{detail}/memos"), &ed, memo).await;
    let phase = format!("{detail}/phases/filming");
    let dates = json!({"start_date": "2026-03-01T00:00:00Z", "end_date": "2026-03-02T00:00:00Z"});
    let stale = app.send(with_if_match(Method::PUT, &phase, &ann, &new_tag, dates.clone())).await;
    stale.assert_error(412, "precondition_failed");
    let unchanged = app.get(&detail, &ann).await;
    assert!(unchanged.result()["phases"]["filming"]["start_date"].is_null(), "nothing written");
    let current = unchanged.header("etag").to_owned();
    let put = app.send(with_if_match(Method::PUT, &phase, &ann, &current, dates)).await;
    assert_eq!(put.status, StatusCode::OK, "{:?}", put.body);
    let again = app
        .send(with_if_match(
            Method::PATCH,
            &detail,
            &ann,
            put.header("etag"),
            json!({"name": "Three"}),
        ))
        .await;
    assert_eq!(again.status, StatusCode::OK, "the answered ETag is accepted: {:?}", again.body);
    // Without `If-Match`, writes go through as before.
    assert_eq!(app.patch(&detail, &ann, json!({"name": "Four"})).await.status, StatusCode::OK);

    // A member: the project detail's ETag, and the change answers with the detail's new one.
    let vi = app.user("vi").await;
    let member = app.add_member(&ann, id, &vi, "viewer").await;
    let path = format!("{detail}/members/{member}");
    let tag = app.get(&detail, &ann).await.header("etag").to_owned();
    let promoted =
        app.send(with_if_match(Method::PATCH, &path, &ann, &tag, json!({"role": "editor"}))).await;
    assert_eq!(promoted.status, StatusCode::OK, "{:?}", promoted.body);
    assert_eq!(promoted.result()["role"], "editor");
    assert_eq!(app.get(&detail, &ann).await.header("etag"), promoted.header("etag"));
    let stale =
        app.send(with_if_match(Method::PATCH, &path, &ann, &tag, json!({"role": "viewer"}))).await;
    stale.assert_error(412, "precondition_failed");
    let members = app.get(&detail, &ann).await.result()["members"].clone();
    assert!(members.as_array().unwrap().iter().any(|m| m["id"] == member && m["role"] == "editor"));

    // A version: its GET's ETag.
    let versions = format!("{detail}/versions");
    let v = app.send(raw(Method::POST, &versions, &ann, Some("video/mp4"), Body::from("v"))).await;
    let one = format!("{versions}/{}", v.result()["id"]);
    let tag = app.get(&one, &ed).await.header("etag").to_owned();
    let labelled =
        app.send(with_if_match(Method::PATCH, &one, &ed, &tag, json!({"label": "a"}))).await;
    assert_eq!(labelled.status, StatusCode::OK, "{:?}", labelled.body);
    assert_eq!(app.get(&one, &ed).await.header("etag"), labelled.header("etag"));
    let stale =
        app.send(with_if_match(Method::PATCH, &one, &ed, &tag, json!({"label": "b"}))).await;
    stale.assert_error(412, "precondition_failed");
    assert_eq!(app.get(&one, &ed).await.result()["label"], "a", "nothing written");
    app.finish().await;
}
