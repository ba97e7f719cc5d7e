//! Review versions and approvals (API.md 1.1): uploads, pages, edits, deletes and reviews
//! through the real router; what the detail and the list show of them on every instance; their
//! statement budget.

use axum::body::Body;
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{bytes_of, raw, Instance, Resp, TestApp, TestUser};

/// `POST /api/projects/{project}/versions?{query}` with a small video body.
async fn upload(app: &Instance, user: &TestUser, project: i64, query: &str) -> Resp {
    let path = format!("/api/projects/{project}/versions?{query}");
    let body = Body::from(bytes_of(64, 3));
    app.send(raw(Method::POST, &path, user, Some("video/mp4"), body)).await
}

fn versions_path(project: i64) -> String {
    format!("/api/projects/{project}/versions")
}

async fn review(app: &Instance, user: &TestUser, project: i64, version: i64, status: &str) -> Resp {
    let path = format!("/api/projects/{project}/versions/{version}/review");
    app.put(&path, user, json!({"status": status})).await
}

/// The caller's list entry for `project`.
async fn listed(app: &Instance, user: &TestUser, project: i64) -> Value {
    let list = app.get("/api/projects", user).await;
    assert_eq!(list.status, StatusCode::OK, "{:?}", list.body);
    let items = list.result().as_array().expect("a list").clone();
    items.into_iter().find(|p| p["id"] == project).expect("listed")
}

#[tokio::test]
async fn a_version_upload_shows_everything_the_contract_names() {
    let app = TestApp::spawn().await;
    let (ann, ed) = (app.user("ann").await, app.user("ed").await);
    let id = app.project(&ann, "Cuts").await;
    app.add_member(&ann, id, &ed, "editor").await;
    let resp = upload(&app, &ed, id, "label=%20rough%20cut%20&fps=29.97&duration=61.5").await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    let v = resp.result();
    assert_eq!(v["number"], 1);
    assert_eq!((v["label"].as_str(), v["fps"].as_f64()), (Some("rough cut"), Some(29.97)));
    assert_eq!(v["duration"], 61.5);
    assert_eq!(v["created_by"], json!({"id": ed.id, "email": ed.email, "nickname": "ed"}));
    assert_eq!(v["comment_count"], 0);
    assert_eq!(v["approval"], json!({"status": "pending", "reviews": []}));
    assert_eq!((v["file"]["name"].as_str(), v["file"]["size"].as_u64()), (Some("video"), Some(64)));
    assert!(v["created"].is_string());
    let url = v["file"]["url"].as_str().unwrap();
    let video = app.get(url, &ann).await;
    assert_eq!((video.status, video.header("content-type")), (StatusCode::OK, "video/mp4"));
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    let mut expected = vec![
        "id",
        "number",
        "label",
        "file",
        "fps",
        "duration",
        "created_by",
        "created",
        "comment_count",
        "approval",
    ];
    expected.sort_unstable();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(keys, expected);

    let got = app.get(&format!("{}/{}", versions_path(id), v["id"]), &ann).await;
    assert_eq!(got.result(), v, "read back as written");
    let detail = app.get(&format!("/api/projects/{id}"), &ann).await;
    assert_eq!(&detail.result()["feedback"]["current_version"], v);
    assert_eq!(detail.result()["feedback"]["video"], v["file"]);
    let entry = listed(&app, &ann, id).await;
    assert_eq!(entry["review"], json!({"version": 1, "status": "pending"}));
    app.finish().await;
}

#[tokio::test]
async fn version_fields_and_uploads_keep_their_rules() {
    let app = TestApp::spawn().await;
    let ann = app.user("ann").await;
    let id = app.project(&ann, "Rules").await;
    for (query, field) in [
        ("fps=26", "fps"),
        ("fps=0", "fps"),
        ("duration=0", "duration"),
        ("duration=-1", "duration"),
        (&*format!("label={}", "x".repeat(101)), "label"),
    ] {
        let resp = upload(&app, &ann, id, query).await;
        resp.assert_error(422, "validation");
        assert!(resp.body["fields"][field].is_string(), "{query}: {:?}", resp.body);
    }
    upload(&app, &ann, id, "fps=fast").await.assert_error(400, "bad_request");
    upload(&app, &ann, id, "colour=red").await.assert_error(400, "bad_request");
    let path = versions_path(id);
    let png = app.send(raw(Method::POST, &path, &ann, Some("image/png"), Body::from("x"))).await;
    png.assert_error(400, "bad_request");
    for fps in [23.976, 24.0, 25.0, 29.97, 30.0, 48.0, 50.0, 59.94, 60.0] {
        let resp = upload(&app, &ann, id, &format!("fps={fps}")).await;
        assert_eq!(resp.status, StatusCode::CREATED, "{fps}: {:?}", resp.body);
        assert_eq!(resp.result()["fps"].as_f64(), Some(fps));
    }
    let versions = app.get(&format!("{path}?limit=100"), &ann).await;
    assert_eq!(versions.ids().len(), 9, "the refused uploads recorded nothing");

    let v = versions.ids()[0];
    let one = format!("{path}/{v}");
    let patched = app.patch(&one, &ann, json!({"label": "fine cut", "duration": 12})).await;
    assert_eq!(patched.status, StatusCode::OK, "{:?}", patched.body);
    assert_eq!(
        (patched.result()["label"].as_str(), patched.result()["duration"].as_f64()),
        (Some("fine cut"), Some(12.0))
    );
    assert_eq!(patched.result()["fps"], 60.0, "absent fields stay");
    let cleared = app.patch(&one, &ann, json!({"label": null, "fps": null})).await;
    assert_eq!(
        (cleared.result()["label"].clone(), cleared.result()["fps"].clone()),
        (Value::Null, Value::Null)
    );
    app.patch(&one, &ann, json!({"fps": 31})).await.assert_error(422, "validation");
    app.patch(&one, &ann, json!({"number": 3})).await.assert_error(400, "bad_request");
    let resp = app.put(&format!("{one}/review"), &ann, json!({"status": "maybe"})).await;
    resp.assert_error(422, "validation");
    let long = json!({"status": "approved", "note": "n".repeat(2001)});
    app.put(&format!("{one}/review"), &ann, long).await.assert_error(422, "validation");
    for missing in [format!("{path}/999999"), format!("{path}/999999/review")] {
        let resp = match missing.ends_with("review") {
            true => app.put(&missing, &ann, json!({"status": "approved"})).await,
            false => app.get(&missing, &ann).await,
        };
        resp.assert_error(404, "not_found");
    }
    // Another project's version is not this project's.
    let other = app.project(&ann, "Other").await;
    let elsewhere = app.get(&format!("{}/{v}", versions_path(other)), &ann).await;
    elsewhere.assert_error(404, "not_found");
    app.patch(&format!("{}/{v}", versions_path(other)), &ann, json!({"label": "x"}))
        .await
        .assert_error(404, "not_found");
    app.delete(&format!("{}/{v}", versions_path(other)), &ann).await.assert_error(404, "not_found");
    app.finish().await;
}

/// Pages: highest number first, no gaps nor repeats across pages, `limit` 1-100.
#[tokio::test]
async fn version_pages_have_no_gaps_or_duplicates() {
    let app = TestApp::spawn().await;
    let ann = app.user("ann").await;
    let id = app.project(&ann, "Pages").await;
    for _ in 0..7 {
        assert_eq!(upload(&app, &ann, id, "").await.status, StatusCode::CREATED);
    }
    // A deleted version leaves a hole in the numbers, never in the pages.
    let all = app.get(&format!("{}?limit=100", versions_path(id)), &ann).await;
    let third = all.result().as_array().unwrap().iter().find(|v| v["number"] == 3).unwrap().clone();
    let resp = app.delete(&format!("{}/{}", versions_path(id), third["id"]), &ann).await;
    assert_eq!(resp.status, StatusCode::NO_CONTENT);
    let mut numbers = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("{}?limit=2&cursor={c}", versions_path(id)),
            None => format!("{}?limit=2", versions_path(id)),
        };
        let page = app.get(&path, &ann).await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        numbers.extend(
            page.result().as_array().unwrap().iter().map(|v| v["number"].as_i64().unwrap()),
        );
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(numbers, vec![7, 6, 5, 4, 2, 1]);
    for limit in ["0", "101", "x"] {
        let resp = app.get(&format!("{}?limit={limit}", versions_path(id)), &ann).await;
        resp.assert_error(400, "bad_request");
    }
    app.get(&format!("{}?cursor=nope", versions_path(id)), &ann)
        .await
        .assert_error(400, "bad_request");
    let next = upload(&app, &ann, id, "").await;
    assert_eq!(next.result()["number"], 8, "numbers are never reused");
    app.finish().await;
}

/// The approval status of API.md through the wire: every review replaces the member's last,
/// and the list's `review`, the detail's `current_version` and the version agree at once.
#[tokio::test]
async fn reviews_give_the_approval_status_everywhere() {
    let app = TestApp::spawn().await;
    let (ann, client, ed) = (app.user("ann").await, app.user("client").await, app.user("ed").await);
    let id = app.project(&ann, "Approvals").await;
    app.add_member(&ann, id, &client, "viewer").await;
    app.add_member(&ann, id, &ed, "editor").await;
    let v1 = upload(&app, &ed, id, "").await.result()["id"].as_i64().unwrap();
    let v2 = upload(&app, &ed, id, "").await.result()["id"].as_i64().unwrap();
    let state = |status: &str| json!({"version": 2, "status": status});
    // Read everything once so the checks below see caches, not first reads.
    for user in [&ann, &client, &ed] {
        assert_eq!(listed(&app, user, id).await["review"], state("pending"));
    }
    let steps = [
        (&client, v2, "approved", "approved"),
        (&ed, v2, "changes_requested", "changes_requested"),
        (&client, v2, "pending", "changes_requested"),
        (&ed, v2, "approved", "approved"),
        (&ed, v2, "pending", "pending"),
        (&client, v1, "changes_requested", "pending"),
    ];
    for (who, version, said, shown) in steps {
        let resp = review(&app, who, id, version, said).await;
        assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
        assert_eq!(resp.result()["id"], version);
        for user in [&ann, &client, &ed] {
            assert_eq!(listed(&app, user, id).await["review"], state(shown), "{said} on {version}");
            let detail = app.get(&format!("/api/projects/{id}"), user).await;
            let current = &detail.result()["feedback"]["current_version"];
            assert_eq!(current["approval"]["status"], shown);
            let got = app.get(&format!("{}/{v2}", versions_path(id)), user).await;
            assert_eq!(got.result()["approval"], current["approval"]);
        }
    }
    let v = app.get(&format!("{}/{v2}", versions_path(id)), &ann).await;
    let reviewers: Vec<i64> = v.result()["approval"]["reviews"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["user"]["id"].as_i64().unwrap())
        .collect();
    assert_eq!(reviewers, vec![ed.id, client.id], "one per member, newest first");
    // Deleting the current version makes the one before current, with its own approval.
    assert_eq!(
        app.delete(&format!("{}/{v2}", versions_path(id)), &ann).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        listed(&app, &client, id).await["review"],
        json!({"version": 1, "status": "changes_requested"})
    );
    assert_eq!(
        app.delete(&format!("{}/{v1}", versions_path(id)), &ann).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        listed(&app, &client, id).await["review"],
        json!({"version": null, "status": "none"})
    );
    let detail = app.get(&format!("/api/projects/{id}"), &client).await;
    assert!(detail.result()["feedback"]["current_version"].is_null());
    app.finish().await;
}

/// Every version write, read back on a second instance sharing the database and Redis, is
/// visible at once; the reads after it are hits. (Without `REDIS_URL` one instance.)
#[tokio::test]
async fn version_writes_are_visible_at_once_on_every_instance() {
    let app = TestApp::spawn().await;
    let (ann, client) = (app.user("ann").await, app.user("client").await);
    let id = app.project(&ann, "Coherent").await;
    app.add_member(&ann, id, &client, "viewer").await;
    let b = app.peer().await;
    let instances: Vec<&Instance> = std::iter::once(&app.app).chain(b.as_ref()).collect();
    let seen = |expected_number: Option<i64>, status: &'static str| {
        let instances = instances.clone();
        let client = client.clone();
        async move {
            for instance in instances {
                for _ in 0..2 {
                    let entry = listed(instance, &client, id).await;
                    assert_eq!(
                        entry["review"],
                        json!({"version": expected_number, "status": status})
                    );
                    let detail = instance.get(&format!("/api/projects/{id}"), &client).await;
                    let current = &detail.result()["feedback"]["current_version"];
                    assert_eq!(current["number"].as_i64(), expected_number);
                    let page = instance.get(&versions_path(id), &client).await;
                    assert_eq!(page.result()[0]["number"].as_i64(), expected_number);
                }
                let again = instance.get(&versions_path(id), &client).await;
                assert_eq!(again.cache(), "HIT");
            }
        }
    };
    seen(None, "none").await;
    let v1 = upload(&app, &ann, id, "").await.result()["id"].as_i64().unwrap();
    seen(Some(1), "pending").await;
    review(&app, &client, id, v1, "approved").await;
    seen(Some(1), "approved").await;
    let one = format!("{}/{v1}", versions_path(id));
    for instance in &instances {
        assert_eq!(instance.get(&one, &client).await.result()["approval"]["status"], "approved");
    }
    app.patch(&one, &ann, json!({"label": "final"})).await;
    for instance in &instances {
        assert_eq!(instance.get(&one, &client).await.result()["label"], "final");
        let detail = instance.get(&format!("/api/projects/{id}"), &client).await;
        assert_eq!(detail.result()["feedback"]["current_version"]["label"], "final");
    }
    let v2 = upload(&app, &ann, id, "").await.result()["id"].as_i64().unwrap();
    seen(Some(2), "pending").await;
    review(&app, &client, id, v2, "changes_requested").await;
    seen(Some(2), "changes_requested").await;
    app.delete(&format!("{}/{v2}", versions_path(id)), &ann).await;
    seen(Some(1), "approved").await;
    if let Some(b) = &b {
        b.assert_no_n_plus_one();
    }
    app.finish().await;
}

/// Statement counts, exact and constant as versions and reviews grow: every GET one statement
/// on a miss and none on a hit; an upload, an edit and a delete two, a review three.
#[tokio::test]
async fn version_routes_stay_within_the_statement_budget() {
    let app = TestApp::spawn().await;
    let (ann, client) = (app.user("ann").await, app.user("client").await);
    let id = app.project(&ann, "Budget").await;
    app.add_member(&ann, id, &client, "viewer").await;
    for round in 0..3 {
        let mut last = 0;
        for _ in 0..(1 + round * 4) {
            let resp = upload(&app, &ann, id, "fps=25").await;
            assert_eq!(resp.queries(), 2, "{:?}", resp.body);
            last = resp.result()["id"].as_i64().unwrap();
        }
        let one = format!("{}/{last}", versions_path(id));
        for user in [&ann, &client] {
            let resp = review(&app, user, id, last, "approved").await;
            assert_eq!(resp.queries(), 3, "review: {:?}", resp.body);
        }
        let resp = app.patch(&one, &ann, json!({"label": format!("round {round}")})).await;
        assert_eq!(resp.queries(), 2);
        for path in [versions_path(id), format!("{}?limit=100", versions_path(id)), one.clone()] {
            app.chill(&client, id).await;
            let miss = app.get(&path, &client).await;
            assert_eq!((miss.queries(), miss.cache()), (1, "MISS"), "{path}");
            let hit = app.get(&path, &client).await;
            assert_eq!((hit.queries(), hit.cache()), (0, "HIT"), "{path}");
        }
    }
    let versions = app.get(&format!("{}?limit=100", versions_path(id)), &ann).await;
    let doomed = versions.ids()[0];
    let resp = app.delete(&format!("{}/{doomed}", versions_path(id)), &ann).await;
    assert_eq!((resp.status, resp.queries()), (StatusCode::NO_CONTENT, 2));
    app.finish().await;
}

/// Reviewers and readers on one version for a few seconds, through both instances: every read
/// of the version (alone, in the version list, as the detail's current version) reflects every
/// review acknowledged before the read began. Each reviewer writes an increasing number into
/// their note, so their newest review is also their highest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_stale_review_under_concurrent_reviewers() {
    use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    let app = Arc::new(TestApp::spawn().await);
    let b = app.peer().await.map(Arc::new);
    let (ann, client) = (app.user("ann").await, app.user("client").await);
    let id = app.project(&ann, "Concurrent").await;
    app.add_member(&ann, id, &client, "viewer").await;
    let version = upload(&app, &ann, id, "").await.result()["id"].as_i64().unwrap();
    let reviewers = [ann.clone(), client.clone()];
    let acked: Arc<[AtomicI64; 2]> = Arc::new([AtomicI64::new(0), AtomicI64::new(0)]);
    let stop = Arc::new(AtomicBool::new(false));
    let (reads, stale) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)));
    let instance = |n: i64| -> &Instance {
        match (&b, n % 2) {
            (Some(b), 0) => b,
            _ => &app.app,
        }
    };
    let instance = &instance;
    let review_of = |v: &Value, user: &TestUser| -> i64 {
        let reviews = v["approval"]["reviews"].as_array().cloned().unwrap_or_default();
        let mine = reviews.iter().find(|r| r["user"]["id"] == user.id);
        mine.and_then(|r| r["note"].as_str()?.parse().ok()).unwrap_or(0)
    };
    let review_of = &review_of;
    let writers = reviewers.iter().enumerate().map(|(k, user)| {
        let (acked, stop) = (acked.clone(), stop.clone());
        async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                tokio::task::yield_now().await;
                n += 1;
                let status = if n % 2 == 0 { "approved" } else { "changes_requested" };
                let path = format!("{}/{version}/review", versions_path(id));
                let body = json!({"status": status, "note": n.to_string()});
                let resp = instance(n).put(&path, user, body).await;
                assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
                acked[k].store(n, Ordering::SeqCst);
            }
        }
    });
    let readers = (0..4).map(|r| {
        let (acked, stop, reads, stale) =
            (acked.clone(), stop.clone(), reads.clone(), stale.clone());
        let reviewers = reviewers.clone();
        async move {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                tokio::task::yield_now().await;
                i += 1;
                let floors = [acked[0].load(Ordering::SeqCst), acked[1].load(Ordering::SeqCst)];
                let user = &reviewers[r % 2];
                let seen = match i % 3 {
                    0 => instance(i)
                        .get(&format!("{}/{version}", versions_path(id)), user)
                        .await
                        .result()
                        .clone(),
                    1 => instance(i).get(&versions_path(id), user).await.result()[0].clone(),
                    _ => {
                        let detail = instance(i).get(&format!("/api/projects/{id}"), user).await;
                        detail.result()["feedback"]["current_version"].clone()
                    }
                };
                reads.fetch_add(1, Ordering::Relaxed);
                for (k, floor) in floors.into_iter().enumerate() {
                    if review_of(&seen, &reviewers[k]) < floor {
                        stale.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
    });
    let stopper = async {
        tokio::time::sleep(Duration::from_secs(3)).await;
        stop.store(true, Ordering::Relaxed);
    };
    let all = futures::future::join3(
        futures::future::join_all(writers),
        futures::future::join_all(readers),
        stopper,
    );
    all.await;
    let (reads, stale) = (reads.load(Ordering::Relaxed), stale.load(Ordering::Relaxed));
    let writes = acked[0].load(Ordering::Relaxed) + acked[1].load(Ordering::Relaxed);
    println!("concurrent reviews: {reads} reads, {writes} reviews, {stale} stale");
    assert!(reads > 100 && writes > 20, "too little exercised: {reads} reads, {writes} reviews");
    assert_eq!(stale, 0);
}
