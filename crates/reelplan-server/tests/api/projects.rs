use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::helpers::TestApp;

const PHASES: [&str; 8] = [
    "basic_plan",
    "story_board",
    "filming",
    "video_edit",
    "post_work",
    "video_preview",
    "confirmation",
    "video_delivery",
];

#[tokio::test]
async fn create_returns_the_full_detail() {
    let app = TestApp::spawn().await;
    let ann = app.user("ann").await;
    let body = json!({
        "name": "  Spring campaign ", "manager": "Kim", "consumer": "Acme", "description": "30s spot",
        "color": "#a1b2c3",
        "phases": {"filming": {"start_date": "2026-03-05T09:00:00+09:00", "end_date": "2026-03-06T00:00:00Z"}}
    });
    let resp = app.post("/api/projects", &ann, body).await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    let p = resp.result();
    assert_eq!(p["name"], "Spring campaign");
    assert_eq!((p["manager"].as_str(), p["consumer"].as_str()), (Some("Kim"), Some("Acme")));
    assert_eq!(p["color"], "#A1B2C3");
    assert_eq!(p["my_role"], "owner");
    assert_eq!(p["owner"], json!({"id": ann.id, "email": ann.email, "nickname": "ann"}));
    assert_eq!(p["member_count"], 0);
    assert_eq!(p["phases"].as_object().unwrap().len(), 8);
    let positions: Vec<usize> =
        PHASES.iter().map(|ph| resp.raw.find(&format!("\"{ph}\":")).unwrap()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "all eight, in phase order");
    assert_eq!(p["phases"]["filming"]["start_date"], "2026-03-05T00:00:00Z");
    assert_eq!(p["phases"]["basic_plan"], json!({"start_date": null, "end_date": null}));
    assert_eq!(p["earliest_start_date"], "2026-03-05T00:00:00Z");
    assert_eq!(p["latest_end_date"], "2026-03-06T00:00:00Z");
    assert_eq!(p["members"], json!([]));
    assert_eq!(
        p["feedback"],
        json!({"video": null, "current_version": null, "comment_count": 0, "message_count": 0,
               "recent_messages": []})
    );
    assert_eq!(p["review"], json!({"version": null, "status": "none"}));
    assert_eq!((p["memos"].clone(), p["files"].clone()), (json!([]), json!([])));
    assert!(p["created"].is_string() && p["updated"].is_string());
    app.finish().await;
}

#[tokio::test]
async fn date_fallbacks_follow_phase_order() {
    let app = TestApp::spawn().await;
    let ann = app.user("ann").await;
    let id = app.project(&ann, "Dates").await;
    let path = |phase: &str| format!("/api/projects/{id}/phases/{phase}");
    let day = |d: u32| format!("2026-04-{d:02}T00:00:00Z");
    let detail = app.get(&format!("/api/projects/{id}"), &ann).await;
    assert_eq!(
        (
            detail.result()["earliest_start_date"].clone(),
            detail.result()["latest_end_date"].clone()
        ),
        (Value::Null, Value::Null)
    );

    app.put(&path("post_work"), &ann, json!({"start_date": day(10), "end_date": day(12)})).await;
    app.put(&path("filming"), &ann, json!({"start_date": day(3), "end_date": day(20)})).await;
    let resp = app
        .put(&path("confirmation"), &ann, json!({"start_date": day(14), "end_date": day(15)}))
        .await;
    assert_eq!(resp.status, StatusCode::OK);
    // Earliest: the first phase in order that has a start (filming), not the smallest date.
    assert_eq!(resp.result()["earliest_start_date"], day(3));
    // Latest: the last phase in order that has an end (confirmation), not the largest date.
    assert_eq!(resp.result()["latest_end_date"], day(15));
    let resp =
        app.put(&path("confirmation"), &ann, json!({"start_date": null, "end_date": null})).await;
    assert_eq!(resp.result()["latest_end_date"], day(12));
    app.finish().await;
}

#[tokio::test]
async fn list_shows_my_projects_once_newest_first_with_my_role() {
    let app = TestApp::spawn().await;
    let (ann, bob, cy) = (app.user("ann").await, app.user("bob").await, app.user("cy").await);
    let a1 = app.project(&ann, "Ann one").await;
    let b1 = app.project(&bob, "Bob one").await;
    let a2 = app.project(&ann, "Ann two").await;
    app.project(&cy, "Cy only").await;
    app.add_member(&bob, b1, &ann, "editor").await;
    app.add_member(&ann, a2, &bob, "viewer").await;

    let resp = app.get("/api/projects", &ann).await;
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(resp.ids(), vec![a2, b1, a1]);
    let roles: Vec<_> =
        resp.result().as_array().unwrap().iter().map(|p| p["my_role"].clone()).collect();
    assert_eq!(roles, vec![json!("owner"), json!("editor"), json!("owner")]);
    assert_eq!(resp.body["next_cursor"], Value::Null);
    assert!(resp.result()[0].get("members").is_none(), "a summary, not a detail");
    assert_eq!(resp.result()[0]["member_count"], 1);
    app.finish().await;
}

#[tokio::test]
async fn pagination_has_no_gaps_or_duplicates() {
    let app = TestApp::spawn().await;
    let ann = app.user("ann").await;
    let mut made = Vec::new();
    for i in 0..7 {
        made.push(app.project(&ann, &format!("P{i}")).await);
    }
    made.reverse();
    let mut seen = Vec::new();
    let mut path = "/api/projects?limit=3".to_owned();
    loop {
        let resp = app.get(&path, &ann).await;
        assert_eq!(resp.status, StatusCode::OK);
        seen.extend(resp.ids());
        match resp.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/projects?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, made);
    for bad in
        ["limit=0", "limit=101", "limit=abc", "cursor=nope", "unknown=1", "active_from=yesterday"]
    {
        app.get(&format!("/api/projects?{bad}"), &ann).await.assert_error(400, "bad_request");
    }
    assert_eq!(app.get("/api/projects?limit=100", &ann).await.ids().len(), 7);
    app.finish().await;
}

#[tokio::test]
async fn search_and_date_filters() {
    let app = TestApp::spawn().await;
    let ann = app.user("ann").await;
    let spring = app.project(&ann, "Spring CAMPAIGN").await;
    let autumn = app.project(&ann, "Autumn campaign").await;
    let other = app.project(&ann, "100%_real").await;
    let put = |id: i64, start: &str, end: &str| {
        let body = json!({"start_date": format!("2026-{start}T00:00:00Z"), "end_date": format!("2026-{end}T00:00:00Z")});
        (format!("/api/projects/{id}/phases/filming"), body)
    };
    let (p, b) = put(spring, "03-01", "03-31");
    app.put(&p, &ann, b).await;
    let (p, b) = put(autumn, "09-01", "09-30");
    app.put(&p, &ann, b).await;

    assert_eq!(app.get("/api/projects?q=campaign", &ann).await.ids(), vec![autumn, spring]);
    assert_eq!(app.get("/api/projects?q=SPRING%20c", &ann).await.ids(), vec![spring]);
    assert_eq!(
        app.get("/api/projects?q=%25_", &ann).await.ids(),
        vec![other],
        "% and _ are literal"
    );
    assert_eq!(app.get("/api/projects?q=0%25", &ann).await.ids(), vec![other]);
    assert!(app.get("/api/projects?q=zzz", &ann).await.ids().is_empty());
    let window = |from: &str, to: &str| {
        format!("/api/projects?active_from=2026-{from}T00:00:00Z&active_to=2026-{to}T00:00:00Z")
    };
    assert_eq!(app.get(&window("03-15", "04-15"), &ann).await.ids(), vec![spring]);
    assert_eq!(
        app.get(&window("03-31", "09-01"), &ann).await.ids(),
        vec![autumn, spring],
        "edges overlap"
    );
    assert!(app.get(&window("04-01", "08-31"), &ann).await.ids().is_empty());
    assert_eq!(
        app.get("/api/projects?active_from=2026-06-01T00:00:00Z", &ann).await.ids(),
        vec![autumn]
    );
    assert_eq!(
        app.get("/api/projects?active_to=2026-06-01T00:00:00Z", &ann).await.ids(),
        vec![spring]
    );
    app.finish().await;
}

#[tokio::test]
async fn patch_needs_manager_and_keeps_absent_fields() {
    let app = TestApp::spawn().await;
    let (ann, man, ed) = (app.user("ann").await, app.user("man").await, app.user("ed").await);
    let id = app.project(&ann, "Original").await;
    app.add_member(&ann, id, &man, "manager").await;
    app.add_member(&ann, id, &ed, "editor").await;
    let path = format!("/api/projects/{id}");
    let resp = app.patch(&path, &man, json!({"description": "new", "color": "#000000"})).await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    assert_eq!(resp.result()["name"], "Original");
    assert_eq!(resp.result()["my_role"], "manager");
    assert_eq!(resp.result()["description"], "new");
    let resp = app.patch(&path, &ann, json!({"color": null})).await;
    assert_eq!(resp.result()["color"], Value::Null);
    assert_eq!(resp.result()["description"], "new");
    app.patch(&path, &ann, json!({"name": null})).await.assert_error(422, "validation");
    app.patch(&path, &ed, json!({"name": "x"})).await.assert_error(403, "forbidden");
    app.finish().await;
}

#[tokio::test]
async fn delete_takes_everything_with_it() {
    let app = TestApp::spawn().await;
    let (ann, man) = (app.user("ann").await, app.user("man").await);
    let id = app.project(&ann, "Doomed").await;
    app.add_member(&ann, id, &man, "manager").await;
    app.post(&format!("/api/projects/{id}/feedback/comments"), &man, json!({"text": "hi"})).await;
    app.post(
        &format!("/api/projects/{id}/memos"),
        &man,
        json!({"date": "2026-01-01T00:00:00Z", "text": "m"}),
    )
    .await;
    let path = format!("/api/projects/{id}");
    app.delete(&path, &man).await.assert_error(403, "forbidden");
    let resp = app.delete(&path, &ann).await;
    assert_eq!(resp.status, StatusCode::NO_CONTENT);
    assert_eq!(resp.body, Value::Null, "204 has no body");
    app.get(&path, &ann).await.assert_error(404, "not_found");
    app.get(&path, &man).await.assert_error(404, "not_found");
    app.delete(&path, &ann).await.assert_error(404, "not_found");
    assert!(app.get("/api/projects", &man).await.ids().is_empty());
    assert!(app.store().access(reelplan_domain::ProjectId(id)).await.unwrap().is_none());
    app.finish().await;
}

#[tokio::test]
async fn phase_rules() {
    let app = TestApp::spawn().await;
    let (ann, ed, viewer) = (app.user("ann").await, app.user("ed").await, app.user("vi").await);
    let id = app.project(&ann, "Phases").await;
    app.add_member(&ann, id, &ed, "editor").await;
    app.add_member(&ann, id, &viewer, "viewer").await;
    let path = format!("/api/projects/{id}/phases/video_edit");
    let dates = json!({"start_date": "2026-05-01T00:00:00Z", "end_date": "2026-05-01T00:00:00Z"});
    assert_eq!(
        app.put(&path, &ed, dates.clone()).await.status,
        StatusCode::OK,
        "start == end is fine"
    );
    app.put(&path, &viewer, dates.clone()).await.assert_error(403, "forbidden");
    app.put(&format!("/api/projects/{id}/phases/colour"), &ed, dates.clone())
        .await
        .assert_error(404, "not_found");
    let backwards =
        json!({"start_date": "2026-05-02T00:00:00Z", "end_date": "2026-05-01T00:00:00Z"});
    app.put(&path, &ed, backwards).await.assert_error(422, "validation");
    let half = json!({"start_date": "2026-05-02T00:00:00Z", "end_date": null});
    app.put(&path, &ed, half).await.assert_error(422, "validation");
    let no_offset =
        json!({"start_date": "2026-05-02T00:00:00", "end_date": "2026-05-03T00:00:00Z"});
    let resp = app.put(&path, &ed, no_offset).await;
    resp.assert_error(422, "validation");
    assert!(resp.body["fields"]["start_date"].is_string());
    app.finish().await;
}

/// A phase outside the eight names nothing: 404, refused where the path is parsed, before any
/// statement runs.
#[tokio::test]
async fn a_phase_outside_the_eight_is_404_without_a_statement() {
    let app = TestApp::spawn().await;
    let ann = app.user("ann").await;
    let id = app.project(&ann, "P").await;
    let dates = json!({"start_date": null, "end_date": null});
    for phase in ["shooting", "FILMING", "filming%20", ""] {
        let resp =
            app.put(&format!("/api/projects/{id}/phases/{phase}"), &ann, dates.clone()).await;
        assert_eq!(resp.status, StatusCode::NOT_FOUND, "{phase:?}: {:?}", resp.body);
        assert_eq!(resp.body["code"], "not_found");
        assert_eq!(resp.header("x-query-count"), "0", "{phase:?}");
    }
    let ok = app.put(&format!("/api/projects/{id}/phases/filming"), &ann, dates).await;
    assert_eq!(ok.status, StatusCode::OK);
}
