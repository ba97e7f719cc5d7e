//! The file story against an S3-compatible object store (`REELPLAN_OBJECT_STORE=s3://...`):
//! single-PUT and multipart uploads, byte-identical downloads, ranges (across part
//! boundaries), 416, replacing the video, deleting a file and the project, and an over-limit
//! upload that leaves neither an object nor an unfinished multipart upload.
//!
//! Runs only when `REELPLAN_TEST_S3_ENDPOINT` names an emulator (`.ci/s3-emulator.sh` starts
//! moto's server and prints it); otherwise it prints `skipped: ...` and passes. The test
//! creates its bucket, and points the object store at the endpoint through the `AWS_*`
//! variables it reads (set here, before any runtime thread starts, unless already set).
//!
//! `eval "$(bash .ci/s3-emulator.sh)" && cargo test -p reelplan-server --test s3 -- --nocapture`

#[path = "api/helpers.rs"]
#[expect(dead_code, reason = "the behaviour suite's helpers; this story uses part of them")]
mod helpers;

use axum::body::{Body, Bytes};
use axum::http::{header, Method, StatusCode};
use http_body_util::BodyExt;
use reelplan_domain::ProjectId;
use tower::ServiceExt;

use helpers::{bytes_of, raw, Instance, Resp, TestApp, TestUser};

const MIB: usize = 1024 * 1024;
const BUCKET: &str = "reelplan-test";

/// The endpoint, or None (and a line saying why the test is skipped).
fn endpoint() -> Option<String> {
    match std::env::var("REELPLAN_TEST_S3_ENDPOINT") {
        Ok(url) if !url.is_empty() => Some(url.trim_end_matches('/').to_owned()),
        _ => {
            println!(
                "skipped: REELPLAN_TEST_S3_ENDPOINT is not set (eval \"$(bash .ci/s3-emulator.sh)\")"
            );
            None
        }
    }
}

/// The object store reads its endpoint and credentials from the environment. Set while this
/// process has only the test harness's threads, none of which reads the environment.
fn point_the_store_at(endpoint: &str) {
    let defaults = [
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
    ];
    for (name, value) in defaults {
        if std::env::var_os(name).is_none() {
            std::env::set_var(name, value);
        }
    }
}

/// Creates the bucket (an emulator takes unsigned requests); one that exists is fine.
async fn create_bucket(endpoint: &str) {
    let resp = reqwest::Client::new().put(format!("{endpoint}/{BUCKET}")).send().await;
    let resp = resp.unwrap_or_else(|e| panic!("the S3 endpoint {endpoint} does not answer: {e}"));
    let status = resp.status().as_u16();
    assert!(matches!(status, 200 | 409), "create bucket: {status} {:?}", resp.text().await);
}

/// Multipart uploads started and neither completed nor aborted under `prefix`.
async fn unfinished_uploads(endpoint: &str, prefix: &str) -> usize {
    let url = format!("{endpoint}/{BUCKET}?uploads&prefix={prefix}");
    let xml = reqwest::get(url).await.unwrap().text().await.unwrap();
    assert!(xml.contains("ListMultipartUploadsResult"), "{xml}");
    xml.matches("<Upload>").count()
}

async fn upload(app: &Instance, user: &TestUser, project: i64, name: &str, bytes: &[u8]) -> Resp {
    let path = format!("/api/projects/{project}/files?name={name}");
    let resp =
        app.send(raw(Method::POST, &path, user, Some("application/pdf"), bytes.to_vec().into()));
    resp.await
}

/// A download's status, Content-Range and raw body.
async fn download(
    app: &Instance,
    user: &TestUser,
    url: &str,
    range: Option<&str>,
) -> (u16, String, Bytes) {
    let mut request = raw(Method::GET, url, user, Some("application/json"), Body::empty());
    if let Some(range) = range {
        request.headers_mut().insert(header::RANGE, range.parse().unwrap());
    }
    let response = reelplan_server::router(app.state.clone()).oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let content_range = response
        .headers()
        .get(header::CONTENT_RANGE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_range, response.into_body().collect().await.unwrap().to_bytes())
}

#[test]
fn the_file_story_on_s3() {
    let Some(endpoint) = endpoint() else { return };
    point_the_store_at(&endpoint);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(story(endpoint));
}

async fn story(endpoint: String) {
    create_bucket(&endpoint).await;
    let prefix = format!("run-{:016x}", rand::random::<u64>());
    let url = format!("s3://{BUCKET}/{prefix}");
    let app = TestApp::spawn_with(|config| {
        config.objects.url = Some(url);
        config.objects.max_upload_bytes = 16 * MIB as u64;
    })
    .await;
    let objects = app.state.objects.clone();
    let ann = app.user("ann").await;
    let id = app.project(&ann, "On S3").await;

    // One PUT (under a part) and a multipart upload (5 + 5 + 2 MiB and a bit).
    let small = bytes_of(100_000, 1);
    let big = bytes_of(12 * MIB + 777, 2);
    let s = upload(&app, &ann, id, "small.pdf", &small).await;
    assert_eq!(s.status, StatusCode::CREATED, "{:?}", s.body);
    let b = upload(&app, &ann, id, "big.pdf", &big).await;
    assert_eq!(b.status, StatusCode::CREATED, "{:?}", b.body);
    assert_eq!(b.result()["size"].as_u64(), Some(big.len() as u64));
    let (small_url, big_url) =
        (s.result()["url"].as_str().unwrap(), b.result()["url"].as_str().unwrap());
    let keys = app.store().project_file_keys(ProjectId(id)).await.unwrap();
    assert_eq!(keys.len(), 2);
    for key in &keys {
        assert!(objects.exists(key).await.unwrap(), "{key} is in the bucket");
    }

    let (status, _, body) = download(&app, &ann, small_url, None).await;
    assert_eq!(status, 200);
    assert!(body == small, "single-PUT object byte-identical");
    let (status, _, body) = download(&app, &ann, big_url, None).await;
    assert_eq!(status, 200);
    assert!(body == big, "multipart object byte-identical");

    let size = big.len();
    let part = 5 * MIB;
    for (range, start, end) in [
        ("bytes=0-9".to_owned(), 0, 10),
        (format!("bytes={}-{}", part - 100, part + 99), part - 100, part + 100),
        ("bytes=-5".to_owned(), size - 5, size),
        (format!("bytes={}-", 2 * part), 2 * part, size),
    ] {
        let (status, content_range, body) = download(&app, &ann, big_url, Some(&range)).await;
        assert_eq!(status, 206, "{range}");
        assert_eq!(content_range, format!("bytes {start}-{}/{size}", end - 1), "{range}");
        assert!(body == big[start..end], "{range}");
    }
    let (status, content_range, _) =
        download(&app, &ann, big_url, Some(&format!("bytes={size}-"))).await;
    assert_eq!((status, content_range), (416, format!("bytes */{size}")));

    // A new cut adds a version and keeps the old one's object; deleting a version removes it.
    let video = format!("/api/projects/{id}/feedback/video");
    let v1 =
        app.send(raw(Method::PUT, &video, &ann, Some("video/mp4"), bytes_of(1000, 3).into())).await;
    assert_eq!(v1.status, StatusCode::OK, "{:?}", v1.body);
    let with_v1 = app.store().project_file_keys(ProjectId(id)).await.unwrap();
    let v1_key = with_v1.iter().find(|k| !keys.contains(k)).unwrap().clone();
    let v2 =
        app.send(raw(Method::PUT, &video, &ann, Some("video/mp4"), bytes_of(2000, 4).into())).await;
    assert_eq!(v2.status, StatusCode::OK);
    assert!(objects.exists(&v1_key).await.unwrap(), "version 1's object stays with version 1");
    let detail = app.get(&format!("/api/projects/{id}"), &ann).await;
    assert_eq!(detail.result()["feedback"]["video"], *v2.result());
    let versions = app.get(&format!("/api/projects/{id}/versions"), &ann).await;
    let first = versions.result().as_array().unwrap().last().unwrap()["id"].as_i64().unwrap();
    let version_one = format!("/api/projects/{id}/versions/{first}");
    assert_eq!(app.delete(&version_one, &ann).await.status, StatusCode::NO_CONTENT);
    assert!(!objects.exists(&v1_key).await.unwrap(), "the deleted version's object is gone");

    // Delete a file: its object goes.
    let small_key = keys[0].clone();
    assert_eq!(app.delete(small_url, &ann).await.status, StatusCode::NO_CONTENT);
    assert!(!objects.exists(&small_key).await.unwrap());
    assert_eq!(download(&app, &ann, small_url, None).await.0, 404);

    // Over the limit, after multipart began: 413, no new object, no unfinished upload.
    let before = objects.keys().await.unwrap();
    let chunks = (0..20).map(|i| Ok::<_, std::io::Error>(Bytes::from(bytes_of(MIB, i))));
    let body = Body::from_stream(futures::stream::iter(chunks));
    let path = format!("/api/projects/{id}/files?name=huge");
    app.send(raw(Method::POST, &path, &ann, Some("application/pdf"), body))
        .await
        .assert_error(413, "payload_too_large");
    let mut after = objects.keys().await.unwrap();
    after.sort();
    let mut before_sorted = before.clone();
    before_sorted.sort();
    assert_eq!(after, before_sorted, "no object left by the refused upload");
    assert_eq!(unfinished_uploads(&endpoint, &prefix).await, 0, "the multipart upload was aborted");
    assert_eq!(app.store().project_file_keys(ProjectId(id)).await.unwrap().len(), 2);

    // Delete the project: every object of it goes.
    assert_eq!(
        app.delete(&format!("/api/projects/{id}"), &ann).await.status,
        StatusCode::NO_CONTENT
    );
    let left = objects.keys().await.unwrap();
    assert!(left.is_empty(), "left in the bucket: {left:?}");
    println!("s3: the file story passed against {endpoint} (bucket {BUCKET}, prefix {prefix})");
    app.finish().await;
}
