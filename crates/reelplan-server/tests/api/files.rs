//! Project files and the feedback video (API.md "Memos and files", `PUT .../feedback/video`):
//! byte-identical round trips, `Range`, access, the upload limit with nothing left behind,
//! object clean-up, safe `Content-Disposition`, and the detail cache seeing every file write.
//!
//! Each test gets its own object folder (`file://` store), so "nothing left behind" is checked
//! by walking that folder: the local store stages uploads next to the final object, so a
//! leaked staging file shows up too, not only a leaked object. Rows are checked through the
//! store directly ([`Store::project_file_keys`]), never through the cached detail, so a row
//! written without an invalidation cannot hide.
//!
//! A feedback video whose content type is not `video/*` is 400 `bad_request`: API.md's error
//! table gives "wrong content type" to 400 and has no 415 (`service/files.rs` says the same).

use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use reelplan_domain::ProjectId;
use serde_json::Value;
use tower::ServiceExt;

use crate::helpers::{bytes_of, raw, Instance, Resp, TestApp, TestUser};

// ---------------------------------------------------------------------------------------------
// Helpers.

/// A test app whose objects live in a folder of its own; `max` overrides the upload limit.
async fn spawn(max: Option<u64>) -> (TestApp, PathBuf) {
    let dir = std::env::temp_dir().join(format!(
        "reelplan-objects-test-{}-{:016x}",
        std::process::id(),
        rand::random::<u64>()
    ));
    let url = format!("file://{}", dir.display());
    let app = TestApp::spawn_with(|config| {
        config.objects.url = Some(url);
        if let Some(max) = max {
            config.objects.max_upload_bytes = max;
        }
    })
    .await;
    (app, dir)
}

async fn finish(app: TestApp, dir: PathBuf) {
    app.finish().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// Every regular file under `dir` (objects and any staging leftovers), relative paths sorted.
fn files_in(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// The storage keys of a project's file rows (either kind), read from the store, uncached.
async fn row_keys(app: &Instance, project: i64) -> Vec<String> {
    app.store().project_file_keys(ProjectId(project)).await.expect("file keys")
}

/// Percent-encodes a query value (everything but unreserved characters).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Decodes `%XX` escapes (for `filename*`).
fn decode(value: &str) -> Vec<u8> {
    let bytes = value.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            out.push(u8::from_str_radix(&value[i + 1..i + 3], 16).expect("hex escape"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// `POST /api/projects/{project}/files?name=` with `bytes` (Content-Length set).
async fn upload(
    app: &Instance,
    user: &TestUser,
    project: i64,
    name: &str,
    content_type: Option<&str>,
    bytes: &[u8],
) -> Resp {
    let path = format!("/api/projects/{project}/files?name={}", encode(name));
    let body = Body::from(bytes.to_vec());
    let mut request = raw(Method::POST, &path, user, content_type, body);
    request.headers_mut().insert(header::CONTENT_LENGTH, bytes.len().into());
    app.send(request).await
}

/// `PUT /api/projects/{project}/feedback/video` with `bytes`.
async fn put_video(
    app: &Instance,
    user: &TestUser,
    project: i64,
    content_type: Option<&str>,
    bytes: &[u8],
) -> Resp {
    let path = format!("/api/projects/{project}/feedback/video");
    app.send(raw(Method::PUT, &path, user, content_type, Body::from(bytes.to_vec()))).await
}

/// A body of `chunks` pieces of `size` bytes with no length known in advance (as a chunked
/// upload arrives), optionally failing after them.
fn streamed(chunks: usize, size: usize, fail: bool) -> Body {
    let items = (0..chunks)
        .map(move |i| Ok::<_, std::io::Error>(Bytes::from(bytes_of(size, i as u64))))
        .chain(fail.then(|| Err(std::io::Error::other("client went away"))));
    Body::from_stream(futures::stream::iter(items))
}

/// A download as raw bytes. `Resp` keeps only a lossy string of the body, so this goes
/// through a router over the same state to compare binary bodies exactly.
struct Got {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Got {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
}

async fn download(app: &Instance, user: &TestUser, url: &str, range: Option<&str>) -> Got {
    let mut request = raw(Method::GET, url, user, None, Body::empty());
    if let Some(range) = range {
        request.headers_mut().insert(header::RANGE, range.parse().unwrap());
    }
    let router = reelplan_server::router(app.state.clone());
    let response = router.oneshot(request).await.expect("infallible");
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("body").to_bytes();
    Got { status: parts.status, headers: parts.headers, body }
}

/// The project detail, read twice: the first read may miss, the second must hit the cache
/// and say the same. Returns the detail.
async fn detail_twice(app: &Instance, user: &TestUser, project: i64) -> Value {
    let path = format!("/api/projects/{project}");
    let first = app.get(&path, user).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    let second = app.get(&path, user).await;
    assert_eq!(second.cache(), "HIT", "second read of {path}");
    assert_eq!(second.result(), first.result(), "a hit says what the miss said");
    first.result().clone()
}

fn file_ids(detail: &Value) -> Vec<i64> {
    detail["files"].as_array().expect("files").iter().map(|f| f["id"].as_i64().unwrap()).collect()
}

// ---------------------------------------------------------------------------------------------
// Tests.

/// Upload, then download: the same bytes, the stored content type, the right length; the
/// `file` object is the contract's and the detail lists it at once.
#[tokio::test]
async fn upload_then_download_is_byte_identical() {
    let (app, dir) = spawn(None).await;
    let (ann, vi) = (app.user("ann").await, app.user("vi").await);
    let id = app.project(&ann, "Files").await;
    app.add_member(&ann, id, &vi, "viewer").await;
    // More than one multipart part, and not a multiple of any chunk size.
    let big = bytes_of(6 * 1024 * 1024 + 12_345, 1);
    let small = bytes_of(1000, 2);

    let resp = upload(&app, &ann, id, "cut.mov", Some("Video/QuickTime"), &big).await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    let file = resp.result().clone();
    let file_id = file["id"].as_i64().unwrap();
    let keys: Vec<_> = file.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys.len(), 6, "{file}");
    assert_eq!(file["name"], "cut.mov");
    assert_eq!(file["content_type"], "video/quicktime", "type and subtype lower-cased");
    assert_eq!(file["size"].as_u64(), Some(big.len() as u64));
    assert_eq!(file["url"], format!("/api/projects/{id}/files/{file_id}"));
    assert!(file["created"].as_str().is_some_and(|c| c.ends_with('Z') || c.contains('+')));

    let plain = upload(&app, &ann, id, "notes.txt", None, &small).await;
    assert_eq!(plain.status, StatusCode::CREATED);
    assert_eq!(plain.result()["content_type"], "application/octet-stream", "the default");
    let empty = upload(&app, &ann, id, "empty.bin", Some("application/x-empty"), b"").await;
    assert_eq!(empty.status, StatusCode::CREATED);
    assert_eq!(empty.result()["size"], 0);

    // Any member (a viewer too) downloads.
    let got = download(&app, &vi, file["url"].as_str().unwrap(), None).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.header("content-type"), "video/quicktime");
    assert_eq!(got.header("content-length"), big.len().to_string());
    assert_eq!(got.header("accept-ranges"), "bytes");
    assert_eq!(got.header("x-content-type-options"), "nosniff");
    assert!(got.header("content-disposition").starts_with("inline; filename=\"cut.mov\""));
    assert!(got.body == big, "the bytes come back identical");

    let got = download(&app, &ann, plain.result()["url"].as_str().unwrap(), None).await;
    assert_eq!(got.header("content-type"), "application/octet-stream");
    assert!(got.header("content-disposition").starts_with("attachment;"));
    assert!(got.body == small);
    let got = download(&app, &ann, empty.result()["url"].as_str().unwrap(), None).await;
    assert_eq!((got.status, got.header("content-length")), (StatusCode::OK, "0"));
    assert!(got.body.is_empty());

    // One object per row, under the random keys the rows name.
    let mut keys = row_keys(&app, id).await;
    keys.sort();
    assert_eq!(files_in(&dir), keys);

    let detail = detail_twice(&app, &vi, id).await;
    assert_eq!(detail["files"][0], file, "the detail lists the same file object");
    assert_eq!(detail["files"].as_array().unwrap().len(), 3);
    assert!(detail["feedback"]["video"].is_null(), "a file is not the video");

    // A missing or foreign file id is 404 for members.
    let other = app.project(&ann, "Other").await;
    let foreign = format!("/api/projects/{other}/files/{file_id}");
    assert_eq!(
        download(&app, &ann, &foreign, None).await.status,
        StatusCode::NOT_FOUND,
        "not through another project"
    );
    let missing = download(&app, &ann, &format!("/api/projects/{id}/files/999999"), None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    finish(app, dir).await;
}

/// `Range`: first bytes, a middle slice, a suffix, open-ended, clamped ends, across the local
/// store's read chunks; unsatisfiable ranges are 416 with `Content-Range: bytes */size`;
/// malformed ones are ignored (200, the whole file), as RFC 9110 allows.
#[tokio::test]
async fn range_requests() {
    let (app, dir) = spawn(None).await;
    let ann = app.user("ann").await;
    let id = app.project(&ann, "Ranges").await;
    let data = bytes_of(1_000_000, 3);
    let size = data.len();
    let resp = upload(&app, &ann, id, "r.mp4", Some("video/mp4"), &data).await;
    let url = resp.result()["url"].as_str().unwrap().to_owned();

    let cases: [(&str, usize, usize); 8] = [
        ("bytes=0-9", 0, 10),
        ("bytes=0-0", 0, 1),
        ("bytes=500-599", 500, 600),
        // Across the 256 KiB read chunks of the local store.
        ("bytes=262000-524400", 262_000, 524_401),
        ("bytes=-5", size - 5, size),
        ("bytes=999990-", 999_990, size),
        ("bytes=999995-2000000", 999_995, size),
        ("bytes=-2000000", 0, size),
    ];
    for (range, start, end) in cases {
        let got = download(&app, &ann, &url, Some(range)).await;
        assert_eq!(got.status, StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(
            got.header("content-range"),
            format!("bytes {start}-{}/{size}", end - 1),
            "{range}"
        );
        assert_eq!(got.header("content-length"), (end - start).to_string(), "{range}");
        assert_eq!(got.header("content-type"), "video/mp4", "{range}");
        assert!(got.body == data[start..end], "{range}: the bytes of the range");
    }

    for range in ["bytes=1000000-", "bytes=1000000-1000005", "bytes=-0", "bytes=5000000-6000000"] {
        let got = download(&app, &ann, &url, Some(range)).await;
        assert_eq!(got.status, StatusCode::RANGE_NOT_SATISFIABLE, "{range}");
        assert_eq!(got.header("content-range"), format!("bytes */{size}"), "{range}");
        let body: Value = serde_json::from_slice(&got.body).expect("a JSON error body");
        assert_eq!(body["code"], "range_not_satisfiable", "{range}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }

    // Not understood: served whole (200), never an error.
    for range in ["bytes=5-2", "items=0-1", "bytes=0-1,4-5", "bytes=a-b", "bytes=-"] {
        let got = download(&app, &ann, &url, Some(range)).await;
        assert_eq!(got.status, StatusCode::OK, "{range}");
        assert_eq!(got.header("content-range"), "", "{range}");
        assert_eq!(got.body.len(), size, "{range}");
    }

    // Any range of an empty file is unsatisfiable.
    let empty = upload(&app, &ann, id, "e", None, b"").await;
    let got = download(&app, &ann, empty.result()["url"].as_str().unwrap(), Some("bytes=0-")).await;
    assert_eq!(got.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(got.header("content-range"), "bytes */0");
    finish(app, dir).await;
}

/// The feedback video: `feedback.video` in the detail, at once and from the cache. Since API
/// 1.1 a `PUT` adds a version without a label, so the old video stays (as the version before)
/// and downloads as before; it is not listed among `files`; it downloads by its url and is
/// deleted like a file, which takes its version and makes the one before current again.
#[tokio::test]
async fn a_put_video_adds_a_version_and_keeps_the_old_one() {
    let (app, dir) = spawn(None).await;
    let (ann, ed) = (app.user("ann").await, app.user("ed").await);
    let id = app.project(&ann, "Review").await;
    app.add_member(&ann, id, &ed, "editor").await;
    assert!(detail_twice(&app, &ed, id).await["feedback"]["video"].is_null());

    let first = bytes_of(300_000, 4);
    let resp = put_video(&app, &ed, id, Some("video/mp4"), &first).await;
    assert_eq!(resp.status, StatusCode::OK, "PUT answers 200 with the file: {:?}", resp.body);
    let v1 = resp.result().clone();
    assert_eq!(
        (v1["name"].as_str(), v1["content_type"].as_str()),
        (Some("video"), Some("video/mp4"))
    );
    assert_eq!(v1["size"].as_u64(), Some(first.len() as u64));
    let v1_keys = row_keys(&app, id).await;
    assert_eq!(v1_keys.len(), 1);
    assert_eq!(files_in(&dir), v1_keys);
    let detail = detail_twice(&app, &ann, id).await;
    assert_eq!(detail["feedback"]["video"], v1);
    assert!(file_ids(&detail).is_empty(), "the video is not among the files");
    let got = download(&app, &ann, v1["url"].as_str().unwrap(), Some("bytes=0-99")).await;
    assert_eq!(got.status, StatusCode::PARTIAL_CONTENT);
    assert!(got.body == first[..100]);

    // A second one, with a name this time.
    let second = bytes_of(7 * 1024 * 1024, 5);
    let path = format!("/api/projects/{id}/feedback/video?name={}", encode("take 2.webm"));
    let resp =
        app.send(raw(Method::PUT, &path, &ed, Some("video/webm"), second.clone().into())).await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    let v2 = resp.result().clone();
    assert_eq!(v2["name"], "take 2.webm");
    assert_ne!(v2["id"], v1["id"]);
    let mut keys = row_keys(&app, id).await;
    keys.sort();
    assert_eq!(keys.len(), 2, "one video row per version");
    assert_eq!(files_in(&dir), keys, "both objects are kept");
    let detail = detail_twice(&app, &ann, id).await;
    assert_eq!(detail["feedback"]["video"], v2);
    assert_eq!(detail["feedback"]["current_version"]["number"], 2);
    assert_eq!(detail["feedback"]["current_version"]["label"], Value::Null);
    assert_eq!(detail["feedback"]["current_version"]["file"], v2);
    let old = download(&app, &ann, v1["url"].as_str().unwrap(), None).await;
    assert_eq!(old.status, StatusCode::OK, "version 1's video still downloads");
    assert!(old.body == first);
    let got = download(&app, &ann, v2["url"].as_str().unwrap(), None).await;
    assert_eq!(got.header("content-type"), "video/webm");
    assert!(got.body == second);

    // A video is deleted through its file url, with its version.
    let resp = app.delete(v2["url"].as_str().unwrap(), &ed).await;
    assert_eq!(resp.status, StatusCode::NO_CONTENT);
    assert_eq!(files_in(&dir), v1_keys);
    assert_eq!(detail_twice(&app, &ann, id).await["feedback"]["video"], v1);
    let resp = app.delete(v1["url"].as_str().unwrap(), &ed).await;
    assert_eq!(resp.status, StatusCode::NO_CONTENT);
    assert!(files_in(&dir).is_empty());
    let detail = detail_twice(&app, &ann, id).await;
    assert!(detail["feedback"]["video"].is_null());
    assert!(detail["feedback"]["current_version"].is_null());
    finish(app, dir).await;
}

/// The video must be `video/*`: anything else, or no content type, is 400 `bad_request`
/// (API.md: wrong content type), before any byte is stored.
#[tokio::test]
async fn a_video_must_have_a_video_content_type() {
    let (app, dir) = spawn(None).await;
    let ann = app.user("ann").await;
    let id = app.project(&ann, "Types").await;
    for content_type in [Some("image/png"), Some("application/octet-stream"), Some("video"), None] {
        let resp = put_video(&app, &ann, id, content_type, b"not a video").await;
        assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{content_type:?}: {:?}", resp.body);
        resp.assert_error(400, "bad_request");
    }
    // Files take any well-formed media type, but not a malformed one.
    upload(&app, &ann, id, "x", Some("not a type"), b"x").await.assert_error(422, "validation");
    assert!(files_in(&dir).is_empty());
    assert!(row_keys(&app, id).await.is_empty());
    finish(app, dir).await;
}

/// Delete a file: 204, row and object gone, then 404 to download or delete again; the
/// detail (a cache hit the moment before) drops it at once.
#[tokio::test]
async fn deleting_a_file_removes_row_and_object() {
    let (app, dir) = spawn(None).await;
    let (ann, ed) = (app.user("ann").await, app.user("ed").await);
    let id = app.project(&ann, "Del").await;
    app.add_member(&ann, id, &ed, "editor").await;
    let keep = upload(&app, &ed, id, "keep", None, &bytes_of(10, 6)).await.result().clone();
    let gone = upload(&app, &ed, id, "gone", None, &bytes_of(10, 7)).await.result().clone();
    let (keep_id, gone_id) = (keep["id"].as_i64().unwrap(), gone["id"].as_i64().unwrap());
    assert_eq!(file_ids(&detail_twice(&app, &ann, id).await), [keep_id, gone_id]);
    assert_eq!(files_in(&dir).len(), 2);

    let url = gone["url"].as_str().unwrap();
    assert_eq!(app.delete(url, &ed).await.status, StatusCode::NO_CONTENT);
    assert_eq!(file_ids(&detail_twice(&app, &ann, id).await), [keep_id]);
    let keys = row_keys(&app, id).await;
    assert_eq!(keys.len(), 1);
    assert_eq!(files_in(&dir), keys, "only the kept object is left");
    assert_eq!(download(&app, &ann, url, None).await.status, StatusCode::NOT_FOUND);
    app.delete(url, &ed).await.assert_error(404, "not_found");
    finish(app, dir).await;
}

/// Deleting the project removes every object of its files and its video (after the rows);
/// another project's objects stay.
#[tokio::test]
async fn deleting_the_project_removes_its_objects() {
    let (app, dir) = spawn(None).await;
    let ann = app.user("ann").await;
    let (doomed, kept) = (app.project(&ann, "Doomed").await, app.project(&ann, "Kept").await);
    for n in 0..3 {
        let resp = upload(&app, &ann, doomed, &format!("f{n}"), None, &bytes_of(100, n)).await;
        assert_eq!(resp.status, StatusCode::CREATED);
    }
    put_video(&app, &ann, doomed, Some("video/mp4"), &bytes_of(100, 9)).await;
    upload(&app, &ann, kept, "stay", None, b"stay").await;
    assert_eq!(files_in(&dir).len(), 5);

    let resp = app.delete(&format!("/api/projects/{doomed}"), &ann).await;
    assert_eq!(resp.status, StatusCode::NO_CONTENT);
    assert!(row_keys(&app, doomed).await.is_empty());
    assert_eq!(files_in(&dir), row_keys(&app, kept).await, "only the other project's object");
    finish(app, dir).await;
}

/// A non-member gets 404 on every file route (existence is not leaked), a viewer 403 on
/// every write; neither leaves anything behind.
#[tokio::test]
async fn access_to_files() {
    let (app, dir) = spawn(None).await;
    let (ann, vi, eve) = (app.user("ann").await, app.user("vi").await, app.user("eve").await);
    let id = app.project(&ann, "Private").await;
    app.add_member(&ann, id, &vi, "viewer").await;
    let file = upload(&app, &ann, id, "secret", None, b"secret").await.result().clone();
    let url = file["url"].as_str().unwrap();
    let video = put_video(&app, &ann, id, Some("video/mp4"), b"video").await.result().clone();
    let before = files_in(&dir);

    upload(&app, &eve, id, "x", None, b"x").await.assert_error(404, "not_found");
    put_video(&app, &eve, id, Some("video/mp4"), b"x").await.assert_error(404, "not_found");
    app.delete(url, &eve).await.assert_error(404, "not_found");
    let got = download(&app, &eve, url, None).await;
    assert_eq!(got.status, StatusCode::NOT_FOUND);
    assert!(!got.body.windows(6).any(|w| w == b"secret"));
    let got = download(&app, &eve, video["url"].as_str().unwrap(), Some("bytes=0-1")).await;
    assert_eq!(got.status, StatusCode::NOT_FOUND);
    // A project that does not exist looks the same.
    upload(&app, &eve, 999_999, "x", None, b"x").await.assert_error(404, "not_found");

    upload(&app, &vi, id, "x", None, b"x").await.assert_error(403, "forbidden");
    put_video(&app, &vi, id, Some("video/mp4"), b"x").await.assert_error(403, "forbidden");
    app.delete(url, &vi).await.assert_error(403, "forbidden");
    app.delete(video["url"].as_str().unwrap(), &vi).await.assert_error(403, "forbidden");
    assert_eq!(download(&app, &vi, url, None).await.body.as_ref(), b"secret");

    // No token at all.
    let request = Request::post(format!("/api/projects/{id}/files?name=x")).body(Body::from("x"));
    app.send(request.unwrap()).await.assert_error(401, "unauthenticated");

    assert_eq!(files_in(&dir), before, "refused uploads store nothing");
    assert_eq!(row_keys(&app, id).await.len(), 2);
    finish(app, dir).await;
}

/// A hostile name is kept as given (shown in JSON), but `Content-Disposition` carries only a
/// sanitised ASCII `filename` and the exact name percent-encoded in `filename*`; control
/// characters (CR LF: header injection) are refused at upload.
#[tokio::test]
async fn hostile_names_are_safe_in_content_disposition() {
    let (app, dir) = spawn(None).await;
    let ann = app.user("ann").await;
    let id = app.project(&ann, "Names").await;
    let name = "../..\\\"evil\"; filename=x.html/%2e 日本語 ✓.mp4";
    let resp = upload(&app, &ann, id, name, Some("text/html"), b"<script>").await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    assert_eq!(resp.result()["name"], name, "the name is stored as given");
    let got = download(&app, &ann, resp.result()["url"].as_str().unwrap(), None).await;
    let disposition = got.header("content-disposition");
    assert!(disposition.starts_with("attachment; filename=\""), "{disposition}");
    // Exactly three parameters-worth of structure: the only quotes are the two delimiters,
    // the only semicolons the two separators.
    assert_eq!(disposition.matches('"').count(), 2, "{disposition}");
    assert_eq!(disposition.matches(';').count(), 2, "{disposition}");
    let (ascii, extended) = disposition
        .strip_prefix("attachment; filename=\"")
        .and_then(|rest| rest.split_once("\"; filename*=UTF-8''"))
        .expect(disposition);
    assert!(
        ascii.chars().all(|c| c.is_ascii_graphic() || c == ' ')
            && !ascii.contains(['/', '\\', '"', ';', '%']),
        "{ascii}"
    );
    assert!(!ascii.starts_with('.'), "no leading dots: {ascii}");
    assert!(extended.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~%".contains(&b)));
    assert_eq!(decode(extended), name.as_bytes(), "filename* carries the exact name");
    // Stored HTML is never rendered as a page of this origin.
    assert_eq!(got.header("content-type"), "text/html");
    assert_eq!(got.header("x-content-type-options"), "nosniff");
    assert!(got.header("content-security-policy").contains("sandbox"));

    for bad in ["a\r\nSet-Cookie: x=1", "a\nb", "tab\there", "nul\0", "   ", ""] {
        let resp = upload(&app, &ann, id, bad, None, b"x").await;
        resp.assert_error(422, "validation");
        assert!(resp.body["fields"]["name"].is_string(), "{bad:?}");
    }
    let path = format!("/api/projects/{id}/files");
    let resp = app.send(raw(Method::POST, &path, &ann, None, Body::from("x"))).await;
    resp.assert_error(422, "validation");
    upload(&app, &ann, id, &"n".repeat(256), None, b"x").await.assert_error(422, "validation");
    assert_eq!(
        upload(&app, &ann, id, &"ü".repeat(255), None, b"x").await.status,
        StatusCode::CREATED
    );
    assert_eq!(files_in(&dir).len(), 2, "refused names store nothing");
    finish(app, dir).await;
}

/// Over the upload limit: 413 `payload_too_large` whether `Content-Length` says so up front
/// or a chunked body runs past it (within one part, and after several multipart parts), and
/// no object, staging file or row is left. A body that breaks off leaves nothing either. At
/// the limit exactly is fine.
#[tokio::test]
async fn over_the_limit_is_413_and_leaves_nothing() {
    const LIMIT: u64 = 12 * 1024 * 1024;
    let (app, dir) = spawn(Some(LIMIT)).await;
    let ann = app.user("ann").await;
    let id = app.project(&ann, "Limits").await;
    let path = format!("/api/projects/{id}/files?name=big");
    let video = format!("/api/projects/{id}/feedback/video");
    let nothing_left = |what: &str| {
        let left = files_in(&dir);
        assert!(left.is_empty(), "{what}: left behind {left:?}");
    };

    // Content-Length over the limit: refused before a byte is read.
    let mut request = raw(Method::POST, &path, &ann, None, Body::empty());
    request.headers_mut().insert(header::CONTENT_LENGTH, (LIMIT + 1).into());
    app.send(request).await.assert_error(413, "payload_too_large");
    nothing_left("declared length");

    // Streamed past the limit within the first part (a small limit) and across parts.
    let small = spawn(Some(1000)).await;
    let (small_app, small_dir) = small;
    let bob = small_app.user("bob").await;
    let small_id = small_app.project(&bob, "Small").await;
    let small_path = format!("/api/projects/{small_id}/files?name=s");
    let resp =
        small_app.send(raw(Method::POST, &small_path, &bob, None, streamed(11, 100, false))).await;
    resp.assert_error(413, "payload_too_large");
    assert!(files_in(&small_dir).is_empty());
    assert!(row_keys(&small_app, small_id).await.is_empty());
    let resp =
        small_app.send(raw(Method::POST, &small_path, &bob, None, streamed(10, 100, false))).await;
    assert_eq!(resp.status, StatusCode::CREATED, "exactly the limit is allowed");
    finish(small_app, small_dir).await;

    // 13 MiB in 1 MiB chunks: two parts uploaded, the third cut off.
    let resp = app.send(raw(Method::POST, &path, &ann, None, streamed(13, 1 << 20, false))).await;
    resp.assert_error(413, "payload_too_large");
    nothing_left("streamed file");
    let resp = app
        .send(raw(Method::PUT, &video, &ann, Some("video/mp4"), streamed(13, 1 << 20, false)))
        .await;
    resp.assert_error(413, "payload_too_large");
    nothing_left("streamed video");

    // A body that fails part-way (after multipart began) is 400 and leaves nothing.
    let resp = app.send(raw(Method::POST, &path, &ann, None, streamed(7, 1 << 20, true))).await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{:?}", resp.body);
    let resp = app.send(raw(Method::POST, &path, &ann, None, streamed(1, 100, true))).await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{:?}", resp.body);
    nothing_left("broken body");
    assert!(row_keys(&app, id).await.is_empty(), "no row for a refused upload");
    assert!(detail_twice(&app, &ann, id).await["files"].as_array().unwrap().is_empty());

    // Exactly at the limit, streamed: accepted and stored whole.
    let resp = app.send(raw(Method::POST, &path, &ann, None, streamed(12, 1 << 20, false))).await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    assert_eq!(resp.result()["size"].as_u64(), Some(LIMIT));
    assert_eq!(files_in(&dir).len(), 1);
    finish(app, dir).await;
}

/// Every file write is visible in the project detail at once, to every member, on every
/// instance (a second instance shares the database and Redis when `REDIS_URL` is set), and
/// the read after it is a cache hit with the same content.
#[tokio::test]
async fn file_writes_are_visible_in_the_cached_detail_at_once() {
    let (app, dir) = spawn(None).await;
    let (ann, vi) = (app.user("ann").await, app.user("vi").await);
    let id = app.project(&ann, "Cache").await;
    app.add_member(&ann, id, &vi, "viewer").await;
    let b = app.peer().await;
    let instances: Vec<&Instance> = std::iter::once(&app.app).chain(b.as_ref()).collect();
    let check = |files: Vec<i64>, video: Option<i64>| {
        let (instances, vi) = (instances.clone(), vi.clone());
        async move {
            for instance in instances {
                let detail = detail_twice(instance, &vi, id).await;
                assert_eq!(file_ids(&detail), files);
                assert_eq!(detail["feedback"]["video"]["id"].as_i64(), video);
            }
        }
    };

    check(vec![], None).await;
    let f1 = upload(&app, &ann, id, "a", None, b"a").await.result()["id"].as_i64().unwrap();
    check(vec![f1], None).await;
    let v1 = put_video(&app, &ann, id, Some("video/mp4"), b"v1").await.result()["id"].as_i64();
    check(vec![f1], v1).await;
    let v2 = put_video(&app, &ann, id, Some("video/mp4"), b"v2").await.result()["id"].as_i64();
    check(vec![f1], v2).await;
    let f2 = upload(&app, &ann, id, "b", None, b"b").await.result()["id"].as_i64().unwrap();
    check(vec![f1, f2], v2).await;
    let resp = app.delete(&format!("/api/projects/{id}/files/{f1}"), &ann).await;
    assert_eq!(resp.status, StatusCode::NO_CONTENT);
    check(vec![f2], v2).await;
    // A video's file delete takes its version: the one before is current again.
    let resp = app.delete(&format!("/api/projects/{id}/files/{}", v2.unwrap()), &ann).await;
    assert_eq!(resp.status, StatusCode::NO_CONTENT);
    check(vec![f2], v1).await;
    let resp = app.delete(&format!("/api/projects/{id}/files/{}", v1.unwrap()), &ann).await;
    assert_eq!(resp.status, StatusCode::NO_CONTENT);
    check(vec![f2], None).await;
    // A refused upload changes nothing (and the detail stays cached).
    upload(&app, &vi, id, "x", None, b"x").await.assert_error(403, "forbidden");
    let resp = app.get(&format!("/api/projects/{id}"), &vi).await;
    assert_eq!(resp.cache(), "HIT");
    if let Some(b) = &b {
        b.assert_no_n_plus_one();
    }
    finish(app, dir).await;
}

/// Writes stay within the query budget: an upload, a video replacement and a delete run at
/// most 3 statements, a download 1 (a player seeks with many range requests).
#[tokio::test]
async fn file_routes_stay_within_the_statement_budget() {
    let (app, dir) = spawn(None).await;
    let ann = app.user("ann").await;
    let id = app.project(&ann, "Budget").await;
    let resp = upload(&app, &ann, id, "a", None, b"a").await;
    assert!(resp.queries() <= 3, "upload: {}", resp.queries());
    let url = resp.result()["url"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        let resp = put_video(&app, &ann, id, Some("video/mp4"), b"v").await;
        assert!(resp.queries() <= 3, "video: {}", resp.queries());
    }
    let got = download(&app, &ann, &url, Some("bytes=0-0")).await;
    assert_eq!(got.header("x-query-count"), "1");
    let resp = app.delete(&url, &ann).await;
    assert!(resp.queries() <= 3, "delete: {}", resp.queries());
    finish(app, dir).await;
}

/// The row is written only once the object is complete: while a body is still arriving (well
/// into a multipart upload) there is no row, nothing in the detail, and no object under a
/// final name, only the store's staging file.
#[tokio::test]
async fn the_row_is_written_only_once_the_object_is_complete() {
    let (app, dir) = spawn(None).await;
    let ann = app.user("ann").await;
    let id = app.project(&ann, "Slow").await;
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(1);
    let body = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (Ok::<_, std::convert::Infallible>(chunk), rx))
    });
    let path = format!("/api/projects/{id}/files?name=slow");
    let uploading = app.send(raw(Method::POST, &path, &ann, None, Body::from_stream(body)));
    let feeding = async {
        let tx = tx;
        for i in 0..8 {
            tx.send(Bytes::from(bytes_of(1 << 20, i))).await.unwrap();
        }
        // With a channel of one, the server has taken at least 7 MiB: past the first part.
        assert!(row_keys(&app, id).await.is_empty(), "no row while the body arrives");
        let detail = app.get(&format!("/api/projects/{id}"), &ann).await;
        assert_eq!(detail.result()["files"], serde_json::json!([]));
        let staged = files_in(&dir);
        assert!(staged.iter().all(|f| f.contains('#')), "only staging files: {staged:?}");
        drop(tx);
    };
    let (resp, ()) = tokio::join!(uploading, feeding);
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    assert_eq!(resp.result()["size"].as_u64(), Some(8 << 20));
    assert_eq!(files_in(&dir), row_keys(&app, id).await, "now the object, under its key");
    finish(app, dir).await;
}

/// An object that cannot be removed (here a folder squats on its name) never blocks the
/// user: deleting a file, deleting a version and deleting the project all answer as usual
/// and the rows are gone; the failure is logged for a sweep.
#[tokio::test]
async fn a_failed_object_removal_never_blocks_the_user() {
    let (app, dir) = spawn(None).await;
    let ann = app.user("ann").await;
    let id = app.project(&ann, "Stuck").await;
    let squat = |key: &str| {
        let path = dir.join(key);
        std::fs::remove_file(&path).unwrap();
        std::fs::create_dir_all(path.join("in-the-way")).unwrap();
        std::fs::write(path.join("in-the-way/x"), b"x").unwrap();
        path
    };
    let failures = || async {
        let metrics = app.call(Method::GET, "/metrics", None, None).await.raw;
        metrics
            .lines()
            .find(|l| l.starts_with("reelplan_object_delete_failures_total"))
            .and_then(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let failed_before = failures().await;
    let file = upload(&app, &ann, id, "f", None, b"f").await.result().clone();
    let stuck = squat(&row_keys(&app, id).await[0]);
    let url = file["url"].as_str().unwrap();
    assert_eq!(app.delete(url, &ann).await.status, StatusCode::NO_CONTENT);
    assert!(row_keys(&app, id).await.is_empty());
    assert_eq!(download(&app, &ann, url, None).await.status, StatusCode::NOT_FOUND);

    let path = format!("/api/projects/{id}/versions");
    let v1 = app.send(raw(Method::POST, &path, &ann, Some("video/mp4"), Body::from("v1"))).await;
    assert_eq!(v1.status, StatusCode::CREATED, "{:?}", v1.body);
    squat(&row_keys(&app, id).await[0]);
    let version = format!("/api/projects/{id}/versions/{}", v1.result()["id"]);
    assert_eq!(app.delete(&version, &ann).await.status, StatusCode::NO_CONTENT);
    assert!(row_keys(&app, id).await.is_empty());
    assert!(detail_twice(&app, &ann, id).await["feedback"]["video"].is_null());

    upload(&app, &ann, id, "g", None, b"g").await;
    squat(&row_keys(&app, id).await[0]);
    assert_eq!(
        app.delete(&format!("/api/projects/{id}"), &ann).await.status,
        StatusCode::NO_CONTENT
    );
    assert!(row_keys(&app, id).await.is_empty());
    app.get(&format!("/api/projects/{id}"), &ann).await.assert_error(404, "not_found");
    // The removals did fail (and were counted), rather than not being tried.
    assert!(stuck.exists(), "the squatted name is still there");
    assert!(failures().await >= failed_before + 3, "three failed removals counted");
    finish(app, dir).await;
}

/// Concurrent video uploads each become a version of their own, numbered one after the
/// other without gaps or repeats (PostgreSQL serialises them on the project's row), each with
/// its one row and object; the detail shows the highest.
#[tokio::test]
async fn concurrent_video_uploads_get_consecutive_numbers() {
    let (app, dir) = spawn(None).await;
    let ann = app.user("ann").await;
    let id = app.project(&ann, "Race").await;
    let (app_ref, ann_ref) = (&app, &ann);
    let path = format!("/api/projects/{id}/versions");
    let path = &path;
    let mut numbers = Vec::new();
    for round in 0..3 {
        let posts = (0..3).map(|n| {
            let bytes = bytes_of(1000 + n, round * 10 + n as u64);
            async move {
                let request = raw(Method::POST, path, ann_ref, Some("video/mp4"), bytes.into());
                app_ref.send(request).await
            }
        });
        for resp in futures::future::join_all(posts).await {
            assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
            numbers.push(resp.result()["number"].as_i64().unwrap());
        }
    }
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=9).collect::<Vec<_>>());
    let mut keys = row_keys(&app, id).await;
    keys.sort();
    assert_eq!(keys.len(), 9, "one video row per version");
    assert_eq!(files_in(&dir), keys, "one object per row");
    let detail = detail_twice(&app, &ann, id).await;
    assert_eq!(detail["feedback"]["current_version"]["number"], 9);
    finish(app, dir).await;
}

/// A project holds at most its cap of memos and files: the next one is 422 and changes
/// nothing, so no detail document grows without bound.
#[tokio::test]
async fn memos_and_files_stop_at_their_cap() {
    let app = crate::helpers::TestApp::spawn_with(|config| {
        config.content.memos_per_project = 2;
        config.content.files_per_project = 1;
    })
    .await;
    let ann = app.user("ann").await;
    let id = app.project(&ann, "capped").await;
    let memo = serde_json::json!({"date": "2026-01-01T00:00:00Z", "text": "call"});
    for _ in 0..2 {
        let resp = app.post(&format!("/api/projects/{id}/memos"), &ann, memo.clone()).await;
        assert_eq!(resp.status, axum::http::StatusCode::CREATED);
    }
    let over = app.post(&format!("/api/projects/{id}/memos"), &ann, memo).await;
    assert_eq!(over.status, axum::http::StatusCode::UNPROCESSABLE_ENTITY, "{:?}", over.body);
    assert_eq!(over.body["fields"]["memos"], "a project holds at most 2");
    let first = upload(&app, &ann, id, "a.txt", Some("text/plain"), b"one").await;
    assert_eq!(first.status, axum::http::StatusCode::CREATED, "{:?}", first.body);
    let second = upload(&app, &ann, id, "b.txt", Some("text/plain"), b"two").await;
    assert_eq!(second.status, axum::http::StatusCode::UNPROCESSABLE_ENTITY, "{:?}", second.body);
    assert_eq!(second.body["fields"]["files"], "a project holds at most 1");
    let detail = app.get(&format!("/api/projects/{id}"), &ann).await;
    assert_eq!(detail.result()["memos"].as_array().map(Vec::len), Some(2));
    assert_eq!(detail.result()["files"].as_array().map(Vec::len), Some(1));
    app.finish().await;
}

/// The sweep removes objects no row names once they are old enough (here: any age), keeps
/// every named object, and keeps unnamed ones younger than its minimum age (an upload
/// between its object and its row).
#[tokio::test]
async fn the_sweep_removes_only_old_objects_no_row_names() {
    let (app, dir) = spawn(None).await;
    let ann = app.user("ann").await;
    let id = app.project(&ann, "Swept").await;
    upload(&app, &ann, id, "kept", None, b"kept").await;
    put_video(&app, &ann, id, Some("video/mp4"), b"video").await;
    let objects = &app.state.objects;
    let orphans = ["ab/orphan-one", "cd/orphan-two"];
    for key in orphans {
        let body = futures::stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(b"x"))]);
        objects.upload(key, body, 10).await.unwrap();
    }
    let named = row_keys(&app, id).await;
    assert_eq!(files_in(&dir).len(), 4);

    let store = app.store();
    let young = reelplan_server::sweep::sweep(&*store, objects, Duration::from_secs(3600));
    let report = young.await.unwrap();
    assert_eq!((report.examined, report.removed), (0, 0), "everything is younger than an hour");
    assert_eq!(files_in(&dir).len(), 4);

    let report = reelplan_server::sweep::sweep(&*store, objects, Duration::ZERO).await.unwrap();
    assert_eq!((report.examined, report.removed, report.failed), (4, 2, 0));
    let mut left = files_in(&dir);
    let mut named = named;
    left.sort();
    named.sort();
    assert_eq!(left, named, "the orphans are gone, the file and the video stay");
    let detail = detail_twice(&app, &ann, id).await;
    let kept = download(&app, &ann, detail["files"][0]["url"].as_str().unwrap(), None).await;
    assert_eq!((kept.status, &kept.body[..]), (StatusCode::OK, &b"kept"[..]));
    finish(app, dir).await;
}
