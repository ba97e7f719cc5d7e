//! Comment export (API.md 1.1): CSV, CMX 3600 marker EDL and FCPXML through the real router,
//! checked as their readers would read them; the rules of `?format=`, `?fps=`, `?start=` and
//! `?resolved=`; the headers a download needs; the cache and the budget.

use axum::body::Body;
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{raw, Instance, Resp, TestApp, TestUser};

/// A project "Spring Campaign!" with a version at `fps` and a thread: a range at 1.5-3.0 s by
/// Ann with a reply by Vi, a comment at 600 s (the 10-minute boundary) with a comma, quotes
/// and a line break, one without a timecode, and a resolved one at 10 s.
struct Fixture {
    project: i64,
    version: i64,
    ann: TestUser,
    vi: TestUser,
}

async fn fixture(app: &Instance, fps: Option<&str>) -> Fixture {
    let ann = app.user("ann").await;
    let vi = app.user("vi").await;
    let project = app.project(&ann, "Spring Campaign!").await;
    app.add_member(&ann, project, &vi, "viewer").await;
    let query = fps.map(|fps| format!("?fps={fps}&duration=700")).unwrap_or_default();
    let path = format!("/api/projects/{project}/versions{query}");
    let resp = app.send(raw(Method::POST, &path, &ann, Some("video/mp4"), Body::from("v"))).await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    let version = resp.result()["id"].as_i64().unwrap();
    let comments = format!("/api/projects/{project}/feedback/comments");
    let post = |user: &TestUser, body: Value| {
        let (comments, user) = (comments.clone(), user.clone());
        async move {
            let resp = app.post(&comments, &user, body).await;
            assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
            resp.result()["id"].as_i64().unwrap()
        }
    };
    let range =
        post(&ann, json!({"text": "Fix the colour", "timecode": 1.5, "timecode_end": 3.0})).await;
    post(&vi, json!({"text": "Agreed", "parent_id": range})).await;
    post(&vi, json!({"text": "Sound, \"picture\"\nout of sync", "timecode": 600.0})).await;
    post(&ann, json!({"text": "General note"})).await;
    let done = post(&ann, json!({"text": "Logo fixed", "timecode": 10.0})).await;
    let resp = app.patch(&format!("{comments}/{done}"), &ann, json!({"resolved": true})).await;
    assert_eq!(resp.status, StatusCode::OK);
    Fixture { project, version, ann, vi }
}

fn export_path(f: &Fixture, query: &str) -> String {
    format!("/api/projects/{}/versions/{}/comments/export?{query}", f.project, f.version)
}

async fn export(app: &Instance, f: &Fixture, query: &str) -> Resp {
    app.get(&export_path(f, query), &f.vi).await
}

#[tokio::test]
async fn a_csv_export_reads_back_as_the_comments() {
    let app = TestApp::spawn().await;
    let f = fixture(&app, Some("29.97")).await;
    let resp = export(&app, &f, "format=csv").await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.raw);
    assert_eq!(resp.header("content-type"), "text/csv; charset=utf-8");
    let disposition = resp.header("content-disposition");
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(disposition.contains("filename=\"Spring-Campaign-v1-comments.csv\""), "{disposition}");
    assert_eq!(resp.header("x-content-type-options"), "nosniff");
    let mut lines = resp.raw.split("\r\n");
    assert_eq!(
        lines.next(),
        Some("id,version,timecode,timecode_end,smpte,smpte_end,author,text,resolved,created")
    );
    assert!(
        resp.raw.contains(",00:00:01;14,00:00:02;29,ann,Fix the colour,false,"),
        "{}",
        resp.raw
    );
    assert!(
        resp.raw.contains(",00:10:00;00,,vi,\"Sound, \"\"picture\"\"\nout of sync\",false,"),
        "{}",
        resp.raw
    );

    // Python's csv module reads it back to the same comments.
    let Ok(mut python) = std::process::Command::new("python3")
        .args(["-c", "import csv,io,json,sys; print(json.dumps(list(csv.reader(io.StringIO(sys.stdin.read(), newline='')))))"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
    else {
        println!("skipped the Python read-back: no python3");
        return app.finish().await;
    };
    use std::io::Write;
    python.stdin.take().unwrap().write_all(resp.raw.as_bytes()).unwrap();
    let out = python.wait_with_output().unwrap();
    let rows: Vec<Vec<String>> = serde_json::from_slice(&out.stdout).expect("csv rows as JSON");
    let listed = app.get(&format!("/api/projects/{}/feedback/comments", f.project), &f.vi).await;
    let comments = listed.result().as_array().unwrap();
    assert_eq!(rows.len(), 1 + comments.len(), "a header and one row per comment: {rows:?}");
    for (row, comment) in rows[1..].iter().zip(comments) {
        assert_eq!(row[0], comment["id"].to_string());
        assert_eq!(row[1], "1");
        assert_eq!(row[6], if comment["user"]["id"] == f.ann.id { "ann" } else { "vi" });
        assert_eq!(row[7], comment["text"].as_str().unwrap());
        assert_eq!(row[8], comment["resolved"].to_string());
        assert_eq!(row[9], comment["created"].as_str().unwrap());
        let seconds = |v: &Value| v.as_f64().map(|s| s.to_string()).unwrap_or_default();
        assert_eq!(
            (row[2].clone(), row[3].clone()),
            (seconds(&comment["timecode"]), seconds(&comment["timecode_end"]))
        );
    }
    app.finish().await;
}

#[tokio::test]
async fn an_edl_export_is_a_cmx_3600_marker_list() {
    let app = TestApp::spawn().await;
    let f = fixture(&app, Some("29.97")).await;
    let resp = export(&app, &f, "format=edl&start=01:00:00;00").await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.raw);
    assert!(resp.header("content-disposition").contains("Spring-Campaign-v1-comments.edl"));
    let lines: Vec<&str> = resp.raw.split("\r\n").collect();
    assert!(lines[0].starts_with("TITLE: "), "{lines:?}");
    assert_eq!(lines[1], "FCM: DROP FRAME");
    let events: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .collect();
    let markers: Vec<&str> = lines.iter().copied().filter(|l| l.contains("|M:")).collect();
    assert_eq!(events.len(), 3, "one event per top-level comment with a timecode: {lines:?}");
    assert_eq!(markers.len(), 3);
    for event in &events {
        let fields: Vec<&str> = event.split_whitespace().collect();
        assert_eq!(fields.len(), 8, "{event}");
        assert_eq!((fields[2], fields[3]), ("V", "C"), "{event}");
        for tc in &fields[4..8] {
            assert!(tc.len() == 11 && tc.as_bytes()[8] == b';', "a drop-frame timecode: {tc}");
        }
    }
    assert!(events[0].contains("01:00:01;14 01:00:01;15"), "{}", events[0]);
    assert!(
        markers[0].contains("|M:Fix the colour") && markers[0].contains("Agreed"),
        "{}",
        markers[0]
    );
    assert!(markers[0].ends_with("|D:45"), "1.5 s at 29.97: {}", markers[0]);
    assert!(events[2].starts_with("003") && events[2].contains("01:10:00;00"), "{}", events[2]);

    // `?resolved=false` leaves the resolved one out; `?fps=` overrides the version's.
    let open = export(&app, &f, "format=edl&resolved=false").await;
    assert_eq!(open.raw.matches("|M:").count(), 2);
    let at_25 = export(&app, &f, "format=edl&fps=25").await;
    assert!(at_25.raw.contains("FCM: NON-DROP FRAME"));
    assert!(at_25.raw.contains("00:10:00:00"), "{}", at_25.raw);
    app.finish().await;
}

#[tokio::test]
async fn an_fcpxml_export_validates_with_one_marker_per_top_level_comment() {
    let app = TestApp::spawn().await;
    let f = fixture(&app, Some("24")).await;
    let resp = export(&app, &f, "format=fcpxml").await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.raw);
    assert_eq!(resp.header("content-type"), "application/xml");
    // FCPXML declares `<!DOCTYPE fcpxml>`, which the parser refuses unless allowed.
    let options = roxmltree::ParsingOptions { allow_dtd: true, ..Default::default() };
    let doc = roxmltree::Document::parse_with_options(&resp.raw, options).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!((root.tag_name().name(), root.attribute("version")), ("fcpxml", Some("1.10")));
    let markers: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("marker")).collect();
    assert_eq!(markers.len(), 3, "one per top-level comment with a timecode");
    let values: Vec<&str> = markers.iter().filter_map(|m| m.attribute("value")).collect();
    assert!(values.contains(&"Fix the colour"), "{values:?}");
    let first = markers.iter().find(|m| m.attribute("value") == Some("Fix the colour")).unwrap();
    assert_eq!(first.attribute("start"), Some("3600/2400s"), "frame 36 at 24 fps");
    assert!(first.attribute("note").unwrap_or("").contains("Agreed"));
    app.finish().await;
}

#[tokio::test]
async fn export_requests_keep_their_rules() {
    let app = TestApp::spawn().await;
    let f = fixture(&app, None).await;
    for (query, field) in [
        ("", "format"),
        ("format=pdf", "format"),
        ("format=edl", "fps"),
        ("format=fcpxml", "fps"),
        ("format=csv&fps=26", "fps"),
        ("format=csv&start=00:00:01:00", "start"),
        ("format=edl&fps=25&start=25:00:00:00", "start"),
        ("format=edl&fps=29.97&start=00:01:00;00", "start"),
    ] {
        let resp = export(&app, &f, query).await;
        resp.assert_error(422, "validation");
        assert!(resp.body["fields"][field].is_string(), "{query}: {:?}", resp.body);
    }
    export(&app, &f, "format=csv&colour=red").await.assert_error(400, "bad_request");
    // A CSV needs no frame rate: its SMPTE columns are empty.
    let csv = export(&app, &f, "format=csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.raw.contains(",1.5,3,,,ann,"), "{}", csv.raw);
    let edl = export(&app, &f, "format=edl&fps=25").await;
    assert_eq!(edl.status, StatusCode::OK, "?fps= stands in for the version's");

    let stranger = app.user("stranger").await;
    app.get(&export_path(&f, "format=csv"), &stranger).await.assert_error(404, "not_found");
    app.get(&export_path(&f, ""), &stranger).await.assert_error(404, "not_found");
    let missing = format!("/api/projects/{}/versions/999999/comments/export?format=csv", f.project);
    app.get(&missing, &f.vi).await.assert_error(404, "not_found");
    app.finish().await;
}

/// One statement on a miss, none on a hit; a new comment, a rename or a resolution shows in
/// the next export at once, on every instance; CORS exposes the file name.
#[tokio::test]
async fn exports_are_cached_and_never_stale() {
    let app = TestApp::spawn_with(|c| {
        c.security.cors_origins = vec!["https://app.example.com".to_owned()];
    })
    .await;
    let f = fixture(&app, Some("25")).await;
    let b = app.peer().await;
    let instances: Vec<&Instance> = std::iter::once(&app.app).chain(b.as_ref()).collect();
    app.chill(&f.vi, f.project).await;
    let miss = export(&app, &f, "format=csv").await;
    assert_eq!((miss.queries(), miss.cache()), (1, "MISS"));
    let hit = export(&app, &f, "format=csv").await;
    assert_eq!((hit.queries(), hit.cache()), (0, "HIT"));
    assert_eq!(hit.raw, miss.raw);
    let edl = export(&app, &f, "format=edl").await;
    assert_eq!((edl.queries(), edl.cache()), (0, "HIT"), "one document serves every format");

    let comments = format!("/api/projects/{}/feedback/comments", f.project);
    app.post(&comments, &f.ann, json!({"text": "One more", "timecode": 20.0})).await;
    for instance in &instances {
        assert!(export(instance, &f, "format=csv").await.raw.contains("One more"));
    }
    let resp =
        app.patch(&format!("/api/projects/{}", f.project), &f.ann, json!({"name": "Autumn"})).await;
    assert_eq!(resp.status, StatusCode::OK);
    for instance in &instances {
        let resp = export(instance, &f, "format=csv").await;
        assert!(resp.header("content-disposition").contains("Autumn-v1-comments.csv"));
    }
    let mut request = raw(Method::GET, &export_path(&f, "format=csv"), &f.vi, None, Body::empty());
    request.headers_mut().insert("origin", "https://app.example.com".parse().unwrap());
    let resp = app.send(request).await;
    assert!(resp.header("access-control-expose-headers").contains("content-disposition"));
    app.finish().await;
}
