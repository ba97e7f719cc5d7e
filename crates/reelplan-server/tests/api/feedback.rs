use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::helpers::TestApp;

#[tokio::test]
async fn comments_are_oldest_first_and_paginated() {
    let app = TestApp::spawn().await;
    let (ann, vi) = (app.user("ann").await, app.user("vi").await);
    let id = app.project(&ann, "Review").await;
    app.add_member(&ann, id, &vi, "viewer").await;
    let path = format!("/api/projects/{id}/feedback/comments");
    let mut made = Vec::new();
    for i in 0..5 {
        let author = if i % 2 == 0 { &ann } else { &vi };
        let resp = app
            .post(&path, author, json!({"text": format!(" c{i} "), "timecode": i as f64 * 1.5}))
            .await;
        assert_eq!(resp.status, StatusCode::CREATED);
        made.push(resp.result()["id"].as_i64().unwrap());
    }
    let first = app.get(&format!("{path}?limit=2"), &vi).await;
    let c = &first.result()[0];
    assert_eq!(c["text"], "c0");
    assert_eq!(c["timecode"], 0.0);
    assert_eq!(c["user"], json!({"id": ann.id, "email": ann.email, "nickname": "ann"}));
    let mut seen = first.ids();
    let mut cursor = first.body["next_cursor"].as_str().map(str::to_owned);
    while let Some(c) = cursor {
        let page = app.get(&format!("{path}?limit=2&cursor={c}"), &vi).await;
        seen.extend(page.ids());
        cursor = page.body["next_cursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, made);
    let untimed = app.post(&path, &vi, json!({"text": "no time"})).await;
    assert_eq!(untimed.result()["timecode"], Value::Null);
    app.post(&path, &vi, json!({"text": "x", "timecode": -1}))
        .await
        .assert_error(422, "validation");
    app.get(&format!("{path}?limit=0"), &vi).await.assert_error(400, "bad_request");
    app.finish().await;
}

#[tokio::test]
async fn deleting_comments_author_or_manager() {
    let app = TestApp::spawn().await;
    let (ann, man, vi, vi2) =
        (app.user("ann").await, app.user("man").await, app.user("vi").await, app.user("vi2").await);
    let id = app.project(&ann, "Review").await;
    app.add_member(&ann, id, &man, "manager").await;
    app.add_member(&ann, id, &vi, "viewer").await;
    app.add_member(&ann, id, &vi2, "viewer").await;
    let path = format!("/api/projects/{id}/feedback/comments");
    let post = |who| app.post(&path, who, json!({"text": "mine"}));
    let c1 = post(&vi).await.result()["id"].as_i64().unwrap();
    let c2 = post(&vi).await.result()["id"].as_i64().unwrap();
    app.delete(&format!("{path}/{c1}"), &vi2).await.assert_error(403, "forbidden");
    assert_eq!(app.delete(&format!("{path}/{c1}"), &vi).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.delete(&format!("{path}/{c2}"), &man).await.status, StatusCode::NO_CONTENT);
    app.delete(&format!("{path}/{c2}"), &man).await.assert_error(404, "not_found");
    assert!(app.get(&path, &vi).await.ids().is_empty());
    app.finish().await;
}

#[tokio::test]
async fn messages_are_newest_first_and_summarised_in_the_detail() {
    let app = TestApp::spawn().await;
    let ann = app.user("ann").await;
    let id = app.project(&ann, "Chat").await;
    let path = format!("/api/projects/{id}/feedback/messages");
    let mut made = Vec::new();
    for i in 0..7 {
        let resp = app.post(&path, &ann, json!({"text": format!("m{i}")})).await;
        assert_eq!(resp.status, StatusCode::CREATED);
        assert_eq!(resp.result().as_object().unwrap().len(), 4, "{{id, user, text, created}}");
        made.push(resp.result()["id"].as_i64().unwrap());
    }
    app.post(&format!("/api/projects/{id}/feedback/comments"), &ann, json!({"text": "c"})).await;
    made.reverse();
    assert_eq!(app.get(&path, &ann).await.ids(), made);
    let detail = app.get(&format!("/api/projects/{id}"), &ann).await;
    let feedback = &detail.result()["feedback"];
    assert_eq!(
        (feedback["message_count"].as_i64(), feedback["comment_count"].as_i64()),
        (Some(7), Some(1))
    );
    let recent: Vec<_> = feedback["recent_messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert_eq!(recent, made[..5]);
    app.post(&path, &ann, json!({"text": "   "})).await.assert_error(422, "validation");
    app.finish().await;
}
