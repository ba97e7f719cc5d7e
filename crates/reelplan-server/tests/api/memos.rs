use axum::http::StatusCode;
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn memos_by_date_then_id_editors_only() {
    let app = TestApp::spawn().await;
    let (ann, ed, vi) = (app.user("ann").await, app.user("ed").await, app.user("vi").await);
    let id = app.project(&ann, "Notes").await;
    app.add_member(&ann, id, &ed, "editor").await;
    app.add_member(&ann, id, &vi, "viewer").await;
    let path = format!("/api/projects/{id}/memos");
    let add = |date: &str, text: &str| {
        app.post(&path, &ed, json!({"date": format!("2026-02-{date}T00:00:00Z"), "text": text}))
    };
    let late = add("20", "late").await;
    assert_eq!(late.status, StatusCode::CREATED);
    let memo = late.result();
    assert_eq!((memo["user_id"].as_i64(), memo["text"].as_str()), (Some(ed.id), Some("late")));
    assert_eq!(memo["date"], "2026-02-20T00:00:00Z");
    add("01", "early").await;
    add("20", "late too").await;
    app.post(&path, &vi, json!({"date": "2026-02-01T00:00:00Z", "text": "x"}))
        .await
        .assert_error(403, "forbidden");
    let texts: Vec<_> = app.get(&format!("/api/projects/{id}"), &vi).await.result()["memos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(texts, ["early", "late", "late too"]);

    let memo_id = memo["id"].as_i64().unwrap();
    app.delete(&format!("{path}/{memo_id}"), &vi).await.assert_error(403, "forbidden");
    assert_eq!(app.delete(&format!("{path}/{memo_id}"), &ed).await.status, StatusCode::NO_CONTENT);
    app.delete(&format!("{path}/{memo_id}"), &ed).await.assert_error(404, "not_found");
    assert_eq!(
        app.get(&format!("/api/projects/{id}"), &vi).await.result()["memos"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    app.finish().await;
}
