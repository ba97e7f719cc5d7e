//! A project's activity (API.md 1.1, "Live updates and activity"): every acknowledged write's
//! event, newest first, cursor paged, one statement on a miss and none on a hit, fresh on every
//! instance after a write.

use axum::body::Body;
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{bytes_of, raw, Resp, TestApp};

fn activity(project: i64) -> String {
    format!("/api/projects/{project}/activity")
}

fn kinds(resp: &Resp) -> Vec<String> {
    let items = resp.result().as_array().expect("a list");
    items.iter().map(|e| e["type"].as_str().unwrap().to_owned()).collect()
}

fn result_id(resp: &Resp) -> i64 {
    assert!(resp.status.is_success(), "{:?}", resp.body);
    resp.result()["id"].as_i64().expect("id")
}

/// Every kind of write through the API, and the activity it leaves: each type of API.md once
/// (the delete's own `project.deleted` is checked on the stream, as the activity goes with
/// the project), with the ids and actor of each.
#[tokio::test]
async fn every_write_leaves_its_event_newest_first() {
    let app = TestApp::spawn().await;
    let (ann, bob) = (app.user("ann").await, app.user("bob").await);
    let id = app.project(&ann, "Everything").await;
    let p = format!("/api/projects/{id}");
    app.patch(&p, &ann, json!({"name": "Renamed"})).await;
    let dates = json!({"start_date": "2026-03-01T00:00:00Z", "end_date": "2026-03-02T00:00:00Z"});
    app.put(&format!("{p}/phases/filming"), &ann, dates).await;
    let member = app.add_member(&ann, id, &bob, "viewer").await;
    app.patch(&format!("{p}/members/{member}"), &ann, json!({"role": "editor"})).await;
    let upload = raw(
        Method::POST,
        &format!("{p}/versions"),
        &ann,
        Some("video/mp4"),
        Body::from(bytes_of(64, 1)),
    );
    let version = result_id(&app.send(upload).await);
    app.patch(&format!("{p}/versions/{version}"), &ann, json!({"label": "Cut 1"})).await;
    app.put(&format!("{p}/versions/{version}/review"), &bob, json!({"status": "approved"})).await;
    let comment =
        result_id(&app.post(&format!("{p}/feedback/comments"), &bob, json!({"text": "hi"})).await);
    app.patch(&format!("{p}/feedback/comments/{comment}"), &bob, json!({"text": "hello"})).await;
    assert_eq!(
        app.delete(&format!("{p}/feedback/comments/{comment}"), &bob).await.status,
        StatusCode::NO_CONTENT
    );
    let message = result_id(
        &app.post(&format!("{p}/feedback/messages"), &bob, json!({"text": "chat"})).await,
    );
    let memo_body = json!({"date": "2026-03-01T00:00:00Z", "text": "memo"});
    let memo = result_id(&app.post(&format!("{p}/memos"), &ann, memo_body).await);
    assert_eq!(app.delete(&format!("{p}/memos/{memo}"), &ann).await.status, StatusCode::NO_CONTENT);
    let file_upload = raw(
        Method::POST,
        &format!("{p}/files?name=a.pdf"),
        &ann,
        Some("application/pdf"),
        Body::from("pdf"),
    );
    let file = result_id(&app.send(file_upload).await);
    assert_eq!(app.delete(&format!("{p}/files/{file}"), &ann).await.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.delete(&format!("{p}/versions/{version}"), &ann).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.delete(&format!("{p}/members/{member}"), &ann).await.status,
        StatusCode::NO_CONTENT
    );

    let resp = app.get(&format!("{}?limit=100", activity(id)), &ann).await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    let mut expected = vec![
        "project.updated",
        "project.updated",
        "phase.updated",
        "member.added",
        "member.updated",
        "version.created",
        "version.updated",
        "review.updated",
        "comment.created",
        "comment.updated",
        "comment.deleted",
        "message.created",
        "memo.created",
        "memo.deleted",
        "file.created",
        "file.deleted",
        "version.deleted",
        "member.removed",
    ];
    expected.reverse();
    assert_eq!(kinds(&resp), expected);
    let events = resp.result().as_array().unwrap();
    let ids: Vec<i64> = events.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
    let by_type = |kind: &str| events.iter().find(|e| e["type"] == kind).unwrap().clone();
    let object = |kind: &str| by_type(kind)["object_id"].as_i64().unwrap();
    let actor = |kind: &str| by_type(kind)["actor_id"].as_i64().unwrap();
    assert_eq!((object("member.added"), actor("member.added")), (member, ann.id));
    assert_eq!((object("review.updated"), actor("review.updated")), (version, bob.id));
    assert_eq!((object("comment.deleted"), actor("comment.deleted")), (comment, bob.id));
    assert_eq!(object("message.created"), message);
    assert_eq!((object("memo.deleted"), object("file.deleted")), (memo, file));
    assert_eq!((object("phase.updated"), object("version.deleted")), (id, version));
    for event in events {
        assert_eq!(event["project_id"], id);
        let mut keys: Vec<&str> = event.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["actor_id", "created", "id", "object_id", "project_id", "type"]);
    }
    app.finish().await;
}

/// Pages of the activity follow each other without gaps or duplicates; non-members hear 404,
/// a bad cursor 400.
#[tokio::test]
async fn activity_pages_without_gaps_and_only_for_members() {
    let app = TestApp::spawn().await;
    let (ann, eve) = (app.user("ann").await, app.user("eve").await);
    let id = app.project(&ann, "Paged").await;
    for n in 0..11 {
        app.post(
            &format!("/api/projects/{id}/feedback/messages"),
            &ann,
            json!({"text": format!("m{n}")}),
        )
        .await;
    }
    let all = app.get(&format!("{}?limit=100", activity(id)), &ann).await;
    let all_ids: Vec<i64> = all.ids();
    assert_eq!(all_ids.len(), 12, "eleven messages and the creation");
    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("{}?limit=5&cursor={c}", activity(id)),
            None => format!("{}?limit=5", activity(id)),
        };
        let page = app.get(&path, &ann).await;
        assert_eq!(page.status, StatusCode::OK);
        paged.extend(page.ids());
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(paged, all_ids);
    app.get(&activity(id), &eve).await.assert_error(404, "not_found");
    app.get(&activity(999_999), &ann).await.assert_error(404, "not_found");
    app.get(&format!("{}?cursor=nonsense", activity(id)), &ann)
        .await
        .assert_error(400, "bad_request");
    app.get(&format!("{}?limit=0", activity(id)), &ann).await.assert_error(400, "bad_request");
    app.finish().await;
}

/// One statement on a miss whatever the log's length, none on a hit; a write moves it on, on
/// every instance.
#[tokio::test]
async fn activity_costs_one_statement_cold_none_warm_and_is_fresh_everywhere() {
    let app = TestApp::spawn().await;
    let ann = app.user("ann").await;
    let id = app.project(&ann, "Budget").await;
    let b = app.peer().await;
    for rounds in [1, 30] {
        for n in 0..rounds {
            app.post(
                &format!("/api/projects/{id}/feedback/messages"),
                &ann,
                json!({"text": format!("{n}")}),
            )
            .await;
        }
        app.chill(&ann, id).await;
        let cold = app.get(&activity(id), &ann).await;
        assert_eq!((cold.queries(), cold.cache()), (1, "MISS"), "{rounds} writes");
        let warm = app.get(&activity(id), &ann).await;
        assert_eq!((warm.queries(), warm.cache()), (0, "HIT"));
    }
    let readers: Vec<&crate::helpers::Instance> =
        std::iter::once(&app.app).chain(b.as_ref()).collect();
    for reader in &readers {
        reader.get(&activity(id), &ann).await;
    }
    let posted = app
        .post(&format!("/api/projects/{id}/feedback/messages"), &ann, json!({"text": "new"}))
        .await;
    let message = posted.result()["id"].as_i64().unwrap();
    for reader in &readers {
        let first: Value = reader.get(&activity(id), &ann).await.result()[0].clone();
        assert_eq!(
            (first["type"].as_str(), first["object_id"].as_i64()),
            (Some("message.created"), Some(message))
        );
    }
    app.finish().await;
}
