//! Comment threads (API.md 1.1): versions, ranges, replies, annotations, resolution and edits,
//! filters, what deletes take, and the thread's caches and budget on every instance.

use axum::body::Body;
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{raw, Instance, Resp, TestApp, TestUser};

fn comments(project: i64) -> String {
    format!("/api/projects/{project}/feedback/comments")
}

async fn new_version(app: &Instance, user: &TestUser, project: i64) -> i64 {
    let path = format!("/api/projects/{project}/versions");
    let resp = app.send(raw(Method::POST, &path, user, Some("video/mp4"), Body::from("v"))).await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    resp.result()["id"].as_i64().unwrap()
}

async fn post(app: &Instance, user: &TestUser, project: i64, body: Value) -> Resp {
    app.post(&comments(project), user, body).await
}

fn id_of(resp: &Resp) -> i64 {
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    resp.result()["id"].as_i64().unwrap()
}

#[tokio::test]
async fn comments_carry_versions_ranges_replies_and_annotations() {
    let app = TestApp::spawn().await;
    let (ann, vi) = (app.user("ann").await, app.user("vi").await);
    let id = app.project(&ann, "Threads").await;
    app.add_member(&ann, id, &vi, "viewer").await;
    let early = post(&app, &vi, id, json!({"text": "no cut yet"})).await;
    assert_eq!(early.result()["version_id"], Value::Null, "no version yet");
    let v1 = new_version(&app, &ann, id).await;
    let v2 = new_version(&app, &ann, id).await;

    let drawing = json!({"tool": "pen", "points": [[0.1, 0.2], [0.3, 0.4]], "color": "#f00"});
    let body =
        json!({"text": "this shot", "timecode": 2.5, "timecode_end": 4.0, "annotation": drawing});
    let resp = post(&app, &vi, id, body).await;
    let top = resp.result().clone();
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    assert_eq!(top["version_id"], v2, "the current version");
    assert_eq!((top["timecode"].as_f64(), top["timecode_end"].as_f64()), (Some(2.5), Some(4.0)));
    assert_eq!(top["annotation"], drawing);
    assert!(resp.raw.contains(r#""annotation":{"tool":"pen","points""#), "in order: {}", resp.raw);
    for (field, value) in [
        ("parent_id", Value::Null),
        ("resolved", json!(false)),
        ("resolved_by", Value::Null),
        ("resolved_at", Value::Null),
        ("edited", Value::Null),
    ] {
        assert_eq!(top[field], value, "{field}");
    }
    let on_v1 = id_of(&post(&app, &ann, id, json!({"text": "cut one", "version_id": v1})).await);
    let reply = post(&app, &vi, id, json!({"text": "agreed", "parent_id": on_v1})).await;
    assert_eq!(
        (reply.result()["parent_id"].as_i64(), reply.result()["version_id"].as_i64()),
        (Some(on_v1), Some(v1))
    );
    let reply = reply.result()["id"].as_i64().unwrap();

    // Rules, each a 422 naming its field.
    let other = app.project(&ann, "Other").await;
    let foreign = new_version(&app, &ann, other).await;
    let big = json!({"blob": "x".repeat(16 * 1024)});
    for (body, field) in [
        (json!({"text": "x", "timecode_end": 3.0}), "timecode_end"),
        (json!({"text": "x", "timecode": 3.0, "timecode_end": 2.0}), "timecode_end"),
        (json!({"text": "x", "timecode": 3.0, "timecode_end": -1.0}), "timecode_end"),
        (json!({"text": "x", "annotation": [1, 2]}), "annotation"),
        (json!({"text": "x", "annotation": "drawing"}), "annotation"),
        (json!({"text": "x", "annotation": big}), "annotation"),
        (json!({"text": "x", "parent_id": reply}), "parent_id"),
        (json!({"text": "x", "parent_id": 999_999}), "parent_id"),
        (json!({"text": "x", "parent_id": on_v1, "version_id": v2}), "parent_id"),
        (json!({"text": "x", "version_id": foreign}), "version_id"),
        (json!({"text": "x", "version_id": 999_999}), "version_id"),
    ] {
        let resp = post(&app, &vi, id, body.clone()).await;
        resp.assert_error(422, "validation");
        assert!(resp.body["fields"][field].is_string(), "{body}: {:?}", resp.body);
    }
    // A non-member learns nothing from a bad parent: 404 as for everything else.
    let stranger = app.user("stranger").await;
    post(&app, &stranger, id, json!({"text": "x", "parent_id": reply}))
        .await
        .assert_error(404, "not_found");
    let at_cap = json!({"blob": "x".repeat(16 * 1024 - 11)});
    assert_eq!(
        post(&app, &vi, id, json!({"text": "x", "annotation": at_cap})).await.status,
        StatusCode::CREATED
    );

    // Counts include replies; filters.
    let detail = app.get(&format!("/api/projects/{id}"), &ann).await;
    assert_eq!(detail.result()["feedback"]["comment_count"], 5);
    let version = app.get(&format!("/api/projects/{id}/versions/{v1}"), &ann).await;
    assert_eq!(version.result()["comment_count"], 2);
    let only_v1 = app.get(&format!("{}?version_id={v1}", comments(id)), &ann).await;
    assert_eq!(only_v1.ids(), vec![on_v1, reply]);
    app.get(&format!("{}?resolved=maybe", comments(id)), &ann)
        .await
        .assert_error(400, "bad_request");
    app.get(&format!("{}?version_id=x", comments(id)), &ann).await.assert_error(400, "bad_request");

    // Deleting a top-level comment deletes its replies.
    let resp = app.delete(&format!("{}/{on_v1}", comments(id)), &ann).await;
    assert_eq!(resp.status, StatusCode::NO_CONTENT);
    let left = app.get(&format!("{}?version_id={v1}", comments(id)), &ann).await;
    assert!(left.ids().is_empty(), "{:?}", left.body);
    let detail = app.get(&format!("/api/projects/{id}"), &ann).await;
    assert_eq!(detail.result()["feedback"]["comment_count"], 3);
    app.finish().await;
}

#[tokio::test]
async fn resolving_and_editing_follow_the_roles() {
    let app = TestApp::spawn().await;
    let ann = app.user("ann").await;
    let (vi, ed, boss) = (app.user("vi").await, app.user("ed").await, app.user("boss").await);
    let id = app.project(&ann, "Roles").await;
    app.add_member(&ann, id, &vi, "viewer").await;
    app.add_member(&ann, id, &ed, "editor").await;
    app.add_member(&ann, id, &boss, "manager").await;
    new_version(&app, &ann, id).await;
    let by_vi = id_of(&post(&app, &vi, id, json!({"text": "too dark"})).await);
    let path = format!("{}/{by_vi}", comments(id));

    // Text: the author only, whatever the others' roles.
    for other in [&ed, &boss, &ann] {
        app.patch(&path, other, json!({"text": "rewritten"})).await.assert_error(403, "forbidden");
    }
    let edited = app.patch(&path, &vi, json!({"text": "too dark here"})).await;
    assert_eq!(edited.status, StatusCode::OK, "{:?}", edited.body);
    assert_eq!(edited.result()["text"], "too dark here");
    assert!(edited.result()["edited"].is_string());
    app.patch(&path, &vi, json!({"text": " "})).await.assert_error(422, "validation");

    // Resolution: the author, or editor+; a viewer who is not the author may not.
    let by_ed = id_of(&post(&app, &ed, id, json!({"text": "fixed in v2?"})).await);
    let others = format!("{}/{by_ed}", comments(id));
    app.patch(&others, &vi, json!({"resolved": true})).await.assert_error(403, "forbidden");
    let done = app.patch(&path, &ed, json!({"resolved": true})).await;
    assert_eq!(done.status, StatusCode::OK, "{:?}", done.body);
    assert_eq!(done.result()["resolved"], true);
    assert_eq!(done.result()["resolved_by"]["id"], ed.id);
    assert!(done.result()["resolved_at"].is_string());
    let reopened = app.patch(&path, &vi, json!({"resolved": false})).await;
    assert_eq!(
        (reopened.result()["resolved"].clone(), reopened.result()["resolved_by"].clone()),
        (json!(false), Value::Null)
    );
    let by_author = app.patch(&others, &ed, json!({"resolved": true})).await;
    assert_eq!(by_author.status, StatusCode::OK);

    let resolved = app.get(&format!("{}?resolved=true", comments(id)), &vi).await;
    assert_eq!(resolved.ids(), vec![by_ed]);
    let open = app.get(&format!("{}?resolved=false", comments(id)), &vi).await;
    assert_eq!(open.ids(), vec![by_vi]);
    app.patch(&format!("{}/999999", comments(id)), &vi, json!({"resolved": true}))
        .await
        .assert_error(404, "not_found");
    app.patch(&path, &vi, json!({"pinned": true})).await.assert_error(400, "bad_request");
    let stranger = app.user("stranger").await;
    app.patch(&path, &stranger, json!({"resolved": true})).await.assert_error(404, "not_found");
    app.finish().await;
}

/// Every thread write, read back on a second instance sharing the database and Redis, is
/// visible at once: the filtered pages, the version's `comment_count`, the detail's count.
#[tokio::test]
async fn thread_writes_are_visible_at_once_on_every_instance() {
    let app = TestApp::spawn().await;
    let (ann, vi) = (app.user("ann").await, app.user("vi").await);
    let id = app.project(&ann, "Coherent threads").await;
    app.add_member(&ann, id, &vi, "viewer").await;
    let v1 = new_version(&app, &ann, id).await;
    let b = app.peer().await;
    let instances: Vec<&Instance> = std::iter::once(&app.app).chain(b.as_ref()).collect();
    let seen = |resolved: Vec<i64>, open: Vec<i64>| {
        let (instances, vi) = (instances.clone(), vi.clone());
        async move {
            for instance in instances {
                for _ in 0..2 {
                    let got = instance.get(&format!("{}?resolved=true", comments(id)), &vi).await;
                    assert_eq!(got.ids(), resolved);
                    let got = instance
                        .get(&format!("{}?version_id={v1}&resolved=false", comments(id)), &vi)
                        .await;
                    assert_eq!(got.ids(), open);
                    let version =
                        instance.get(&format!("/api/projects/{id}/versions/{v1}"), &vi).await;
                    assert_eq!(
                        version.result()["comment_count"].as_u64(),
                        Some((resolved.len() + open.len()) as u64)
                    );
                    let detail = instance.get(&format!("/api/projects/{id}"), &vi).await;
                    assert_eq!(
                        detail.result()["feedback"]["current_version"]["comment_count"],
                        version.result()["comment_count"]
                    );
                }
                let again = instance.get(&format!("{}?resolved=true", comments(id)), &vi).await;
                assert_eq!(again.cache(), "HIT");
            }
        }
    };
    seen(vec![], vec![]).await;
    let c1 = id_of(&post(&app, &vi, id, json!({"text": "one"})).await);
    seen(vec![], vec![c1]).await;
    let r1 = id_of(&post(&app, &ann, id, json!({"text": "reply", "parent_id": c1})).await);
    seen(vec![], vec![c1, r1]).await;
    app.patch(&format!("{}/{c1}", comments(id)), &ann, json!({"resolved": true})).await;
    seen(vec![c1], vec![r1]).await;
    app.delete(&format!("{}/{c1}", comments(id)), &ann).await;
    seen(vec![], vec![]).await;
    app.finish().await;
}

/// Statement counts, exact and constant as comments and replies grow: a filtered page one on a
/// miss and none on a hit; a post or a reply two; an edit or a resolution three.
#[tokio::test]
async fn thread_routes_stay_within_the_statement_budget() {
    let app = TestApp::spawn().await;
    let (ann, vi) = (app.user("ann").await, app.user("vi").await);
    let id = app.project(&ann, "Budget threads").await;
    app.add_member(&ann, id, &vi, "viewer").await;
    let v1 = new_version(&app, &ann, id).await;
    for round in 0..3 {
        let mut last = 0;
        for _ in 0..(1 + round * 10) {
            let top =
                post(&app, &vi, id, json!({"text": "note", "timecode": 1.0, "timecode_end": 2.0}))
                    .await;
            assert_eq!(top.queries(), 2, "{:?}", top.body);
            let reply = post(&app, &ann, id, json!({"text": "ok", "parent_id": id_of(&top)})).await;
            assert_eq!(reply.queries(), 2, "{:?}", reply.body);
            last = id_of(&top);
        }
        let resp =
            app.patch(&format!("{}/{last}", comments(id)), &ann, json!({"resolved": true})).await;
        // The update (which checks who may) and the first page read back.
        assert_eq!((resp.status, resp.queries()), (StatusCode::OK, 2));
        let resp =
            app.patch(&format!("{}/{last}", comments(id)), &vi, json!({"text": "note!"})).await;
        assert_eq!((resp.status, resp.queries()), (StatusCode::OK, 2));
        for query in ["", "?resolved=true", &*format!("?version_id={v1}&resolved=false&limit=100")]
        {
            let path = format!("{}{query}", comments(id));
            app.chill(&vi, id).await;
            let miss = app.get(&path, &vi).await;
            assert_eq!((miss.queries(), miss.cache()), (1, "MISS"), "{path}");
            let hit = app.get(&path, &vi).await;
            assert_eq!((hit.queries(), hit.cache()), (0, "HIT"), "{path}");
        }
    }
    app.finish().await;
}
