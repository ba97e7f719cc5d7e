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
        format!("/api/projects/{id}/activity"),
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
    let activity = format!("{detail}/activity");
    let watched =
        ["/api/projects".to_owned(), detail.clone(), comments.clone(), versions.clone(), activity];
    // What the later writes act on.
    let ed = app.user("ed").await;
    let posted = app.post(&comments, &vi, json!({"text": "to resolve"})).await;
    let comment = format!("{comments}/{}", posted.result()["id"]);
    let upload = raw(Method::POST, &versions, &ann, Some("video/mp4"), Body::from("v0"));
    let version = format!("{versions}/{}", app.send(upload).await.result()["id"]);
    let review = format!("{version}/review");
    let memo_body = json!({"date": "2026-03-01T00:00:00Z", "text": "to delete"});
    let memo = app.post(&format!("{detail}/memos"), &ann, memo_body).await;
    let memo = format!("{detail}/memos/{}", memo.result()["id"]);
    let pdf = raw(
        Method::POST,
        &format!("{detail}/files?name=b.pdf"),
        &ann,
        Some("application/pdf"),
        Body::from("b"),
    );
    let file = format!("{detail}/files/{}", app.send(pdf).await.result()["id"]);
    let mut held: Vec<String> = Vec::new();
    for path in &watched {
        held.push(app.get(path, &vi).await.header("etag").to_owned());
    }
    // Each write, and the watched paths whose body it changes.
    let writes: Vec<(&str, MakeRequest, Vec<usize>)> = vec![
        ("rename", Box::new(|| patch(&detail, &ann, json!({"name": "Renamed"}))), vec![0, 1, 4]),
        (
            "phase",
            Box::new(|| {
                put(
                    &format!("{detail}/phases/filming"),
                    &ann,
                    json!({"start_date": "2026-03-01T00:00:00Z", "end_date": "2026-03-02T00:00:00Z"}),
                )
            }),
            vec![0, 1, 4],
        ),
        ("comment", Box::new(|| post(&comments, &vi, json!({"text": "note"}))), vec![1, 2, 3, 4]),
        (
            "message",
            Box::new(|| post(&format!("{detail}/feedback/messages"), &vi, json!({"text": "chat"}))),
            vec![1, 4],
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
            vec![1, 4],
        ),
        (
            "version",
            Box::new(|| raw(Method::POST, &versions, &ann, Some("video/mp4"), Body::from("v"))),
            vec![0, 1, 3, 4],
        ),
        (
            "nickname",
            Box::new(|| patch("/api/me", &ann, json!({"nickname": "Annie"}))),
            vec![0, 1, 3],
        ),
        // Version 0 is no longer the current one: neither the list nor the detail show it (its
        // review, label or delete).
        ("review", Box::new(|| put(&review, &vi, json!({"status": "approved"}))), vec![3, 4]),
        ("resolve", Box::new(|| patch(&comment, &ann, json!({"resolved": true}))), vec![2, 4]),
        ("label", Box::new(|| patch(&version, &ann, json!({"label": "Cut"}))), vec![3, 4]),
        ("memo delete", Box::new(|| delete(&memo, &ann)), vec![1, 4]),
        (
            "file",
            Box::new(|| {
                let path = format!("{detail}/files?name=a.pdf");
                raw(Method::POST, &path, &ann, Some("application/pdf"), Body::from("pdf"))
            }),
            vec![1, 4],
        ),
        ("file delete", Box::new(|| delete(&file, &ann)), vec![1, 4]),
        (
            "member",
            Box::new(|| {
                post(
                    &format!("{detail}/members"),
                    &ann,
                    json!({"email": ed.email, "role": "viewer"}),
                )
            }),
            vec![0, 1, 4],
        ),
        // On no version: it was posted before the first.
        ("comment delete", Box::new(|| delete(&comment, &ann)), vec![1, 2, 4]),
        // It takes the comment posted on it ("comment", above) with it.
        ("version delete", Box::new(|| delete(&version, &ann)), vec![1, 2, 3, 4]),
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

fn delete(path: &str, user: &TestUser) -> Request<Body> {
    Request::builder()
        .method(Method::DELETE)
        .uri(path)
        .header("authorization", format!("Bearer {}", user.token))
        .body(Body::empty())
        .unwrap()
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

    // A comment: the ETag of the comment page that showed it, whichever page that was; the
    // change answers with that page's new ETag.
    let comments = format!("{detail}/feedback/comments");
    let mut ids = Vec::new();
    for n in 0..3 {
        let posted = app.post(&comments, &ed, json!({"text": format!("c{n}")})).await;
        ids.push(posted.result()["id"].as_i64().unwrap());
    }
    let second_page = app.get(&format!("{comments}?limit=2"), &ed).await;
    let cursor = second_page.body["next_cursor"].as_str().unwrap().to_owned();
    let page_path = format!("{comments}?limit=2&cursor={cursor}");
    let page = app.get(&page_path, &ed).await;
    assert_eq!(page.ids(), [ids[2]]);
    let tag = page.header("etag").to_owned();
    let comment = format!("{comments}/{}", ids[2]);
    let edited =
        app.send(with_if_match(Method::PATCH, &comment, &ed, &tag, json!({"text": "c2!"}))).await;
    assert_eq!(edited.status, StatusCode::OK, "{:?}", edited.body);
    assert_eq!(edited.result()["text"], "c2!");
    let now = app.get(&page_path, &ed).await;
    assert_eq!(edited.header("etag"), now.header("etag"), "the page's new ETag");
    let stale =
        app.send(with_if_match(Method::PATCH, &comment, &ed, &tag, json!({"text": "lost"}))).await;
    stale.assert_error(412, "precondition_failed");
    assert_eq!(app.get(&page_path, &ed).await.result()[0]["text"], "c2!", "nothing written");
    // Someone else's change to a comment the page shows moves its ETag on too.
    let resolve = json!({"resolved": true});
    let first_tag = app.get(&comments, &ed).await.header("etag").to_owned();
    let first = format!("{comments}/{}", ids[0]);
    app.patch(&format!("{comments}/{}", ids[1]), &ann, resolve.clone()).await;
    let stale = app.send(with_if_match(Method::PATCH, &first, &ed, &first_tag, resolve)).await;
    stale.assert_error(412, "precondition_failed");
    let kept = app.get(&comments, &ed).await;
    assert_eq!(kept.result()[0]["resolved"], false, "nothing written");
    let foreign = with_if_match(Method::PATCH, &first, &ed, "W/\"feedc0de\"", json!({"text": "x"}));
    app.send(foreign).await.assert_error(412, "precondition_failed");
    let any = with_if_match(Method::PATCH, &first, &ed, "*", json!({"text": "any"}));
    assert_eq!(app.send(any).await.status, StatusCode::OK);
    app.finish().await;
}

/// A comment change costs its update and the page read back, and one more for `If-Match` on a
/// cold page; the role rules hold in the update itself.
#[tokio::test]
async fn a_comment_change_runs_at_most_three_statements_and_keeps_its_rules() {
    let app = TestApp::spawn().await;
    let (ann, vi, ed) = (app.user("ann").await, app.user("vi").await, app.user("ed").await);
    let id = app.project(&ann, "Rules").await;
    app.add_member(&ann, id, &vi, "viewer").await;
    app.add_member(&ann, id, &ed, "editor").await;
    let comments = format!("/api/projects/{id}/feedback/comments");
    let posted = app.post(&comments, &vi, json!({"text": "mine"})).await;
    let comment = format!("{comments}/{}", posted.result()["id"]);
    let plain = app.patch(&comment, &vi, json!({"text": "mine, edited"})).await;
    assert_eq!((plain.status, plain.queries()), (StatusCode::OK, 2), "{:?}", plain.body);
    let tag = app.get(&comments, &vi).await.header("etag").to_owned();
    app.chill(&vi, id).await;
    let mut request = json_request(Method::PATCH, &comment, &vi, json!({"text": "again"}));
    request.headers_mut().insert("if-match", tag.parse().unwrap());
    let guarded = app.send(request).await;
    assert_eq!((guarded.status, guarded.queries()), (StatusCode::OK, 3), "{:?}", guarded.body);
    app.patch(&comment, &ed, json!({"text": "not yours"})).await.assert_error(403, "forbidden");
    assert_eq!(app.patch(&comment, &ed, json!({"resolved": true})).await.status, StatusCode::OK);
    let stranger = app.user("stranger").await;
    app.patch(&comment, &stranger, json!({"resolved": false})).await.assert_error(404, "not_found");
    let missing = format!("{comments}/999999");
    app.patch(&missing, &vi, json!({"text": "x"})).await.assert_error(404, "not_found");
    app.finish().await;
}
