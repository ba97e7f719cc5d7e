//! The authorization matrix: every `/api` route of API.md against every kind of caller, each
//! cell asserting the exact status the contract gives.
//!
//! The tables below read like the contract's "who" columns, one per section of API.md. A row
//! names the route (with the contract's own path parameters), its minimal caller ([`Who`]), the
//! object its path points at ([`Target`]) and its success status; [`expected`] turns a row and a
//! [`Caller`] into the one status that cell must answer:
//!
//! - anonymous, expired, foreign-signed and malformed tokens: 401 (ignored by signup and login);
//! - a non-member, and a member who was removed: 404 on every project route (not leaked);
//! - a member whose role is below the row's: 403;
//! - everyone else: the row's 2xx.
//!
//! Every cell runs on a project of its own, set up fresh, so a destroying row (delete project,
//! remove member, delete comment, memo or file) never depends on what an earlier cell did. After
//! a destroying call the owner checks that the object is gone after a 2xx and still there after
//! a refusal, so a 403 that deleted anyway cannot pass. The removed member read the project
//! (filling the cache with their access) before being removed, so their 404 also proves the
//! removal reached the cache.

use axum::body::Body;
use axum::http::{Method, Request};
use reelplan_domain::Role;
use serde_json::{json, Value};

use crate::helpers::{Resp, TestApp, TestUser};

/// Who calls. The token cases all carry the *owner's* user id, so only the token's defect can
/// be the reason for their 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Anonymous,
    NonMember,
    Viewer,
    Editor,
    Manager,
    Owner,
    /// Was a viewer (and read the project), then was removed by the owner.
    Removed,
    /// Right secret, `exp` in the past.
    Expired,
    /// Valid claims signed with another secret.
    ForeignSecret,
    /// Not a JWT at all.
    Malformed,
}

const CALLERS: [Caller; 10] = [
    Caller::Anonymous,
    Caller::NonMember,
    Caller::Viewer,
    Caller::Editor,
    Caller::Manager,
    Caller::Owner,
    Caller::Removed,
    Caller::Expired,
    Caller::ForeignSecret,
    Caller::Malformed,
];

impl Caller {
    /// The caller's role on the cell's project, if any.
    fn role(self) -> Option<Role> {
        match self {
            Caller::Viewer => Some(Role::Viewer),
            Caller::Editor => Some(Role::Editor),
            Caller::Manager => Some(Role::Manager),
            Caller::Owner => Some(Role::Owner),
            _ => None,
        }
    }

    /// No valid token: the contract's 401 cases.
    fn unauthenticated(self) -> bool {
        matches!(
            self,
            Caller::Anonymous | Caller::Expired | Caller::ForeignSecret | Caller::Malformed
        )
    }
}

/// The contract's "who" column.
#[derive(Debug, Clone, Copy)]
enum Who {
    /// No token needed (signup, login): a token, even a bad one, is ignored.
    Public,
    /// Any signed-in user, member of anything or not.
    User,
    /// A member of the project with at least this role; the owner is the strongest.
    Member(Role),
}

/// The object a row's path parameter (`{member_id}`, `{comment_id}`, ...) names, made fresh
/// for each cell before the call.
#[derive(Debug, Clone, Copy)]
enum Target {
    None,
    /// Another user's membership with this role.
    Member(Role),
    /// The caller's own membership (leaving). Callers without one (the owner, a non-member)
    /// aim at the viewer's; the removed member at the membership they had.
    OwnMembership,
    /// A comment the caller wrote (the removed member wrote it before removal). Callers who
    /// never could aim at the viewer's.
    OwnComment,
    /// A comment written by another member (a viewer who is not the caller).
    OthersComment,
    /// A memo by the owner.
    Memo,
    /// A file uploaded by the owner.
    File,
    /// A version uploaded by the owner.
    Version,
}

/// A request body.
#[derive(Debug, Clone, Copy)]
enum Payload {
    None,
    /// JSON text; `{invitee}` becomes the invitee's email, `{unique}` a fresh word.
    Json(&'static str),
    /// Raw bytes with this `Content-Type`.
    Raw(&'static str),
}

/// One line of the matrix.
#[derive(Debug, Clone, Copy)]
struct Row {
    method: &'static str,
    /// As in API.md; `{id}` is the project, `{phase}` a phase, other parameters the target.
    path: &'static str,
    who: Who,
    /// The status of a caller the contract allows.
    ok: u16,
    target: Target,
    payload: Payload,
}

const fn row(method: &'static str, path: &'static str, who: Who, ok: u16) -> Row {
    Row { method, path, who, ok, target: Target::None, payload: Payload::None }
}

impl Row {
    const fn json(self, body: &'static str) -> Row {
        Row { payload: Payload::Json(body), ..self }
    }

    const fn raw(self, content_type: &'static str) -> Row {
        Row { payload: Payload::Raw(content_type), ..self }
    }

    const fn on(self, target: Target) -> Row {
        Row { target, ..self }
    }

    fn destroys(&self) -> bool {
        self.method == "DELETE"
    }
}

use Role::{Editor, Manager, Owner, Viewer};
use Who::{Member, Public, User};

const ACCOUNT: &[Row] = &[
    row("POST", "/api/auth/signup", Public, 201).json(
        r#"{"email": "{unique}@example.com", "password": "password-new", "nickname": "new"}"#,
    ),
    row("POST", "/api/auth/login", Public, 200)
        .json(r#"{"email": "owner@example.com", "password": "password-owner"}"#),
    row("GET", "/api/me", User, 200),
    row("PATCH", "/api/me", User, 200).json(r#"{"nickname": "renamed"}"#),
];

const PROJECTS: &[Row] = &[
    row("GET", "/api/projects", User, 200),
    row("POST", "/api/projects", User, 201).json(r#"{"name": "new"}"#),
    row("GET", "/api/projects/{id}", Member(Viewer), 200),
    row("PATCH", "/api/projects/{id}", Member(Manager), 200).json(r#"{"name": "renamed"}"#),
    row("DELETE", "/api/projects/{id}", Member(Owner), 204),
    row("PUT", "/api/projects/{id}/phases/{phase}", Member(Editor), 200)
        .json(r#"{"start_date": "2026-03-01T09:00:00Z", "end_date": "2026-03-02T09:00:00Z"}"#),
];

const MEMBERS: &[Row] = &[
    row("POST", "/api/projects/{id}/members", Member(Manager), 201)
        .json(r#"{"email": "{invitee}", "role": "viewer"}"#),
    row("POST", "/api/projects/{id}/members", Member(Manager), 201)
        .json(r#"{"email": "{invitee}", "role": "editor"}"#),
    // Only the owner grants, changes or removes the manager role.
    row("POST", "/api/projects/{id}/members", Member(Owner), 201)
        .json(r#"{"email": "{invitee}", "role": "manager"}"#),
    row("PATCH", "/api/projects/{id}/members/{member_id}", Member(Manager), 200)
        .on(Target::Member(Viewer))
        .json(r#"{"role": "editor"}"#),
    row("PATCH", "/api/projects/{id}/members/{member_id}", Member(Owner), 200)
        .on(Target::Member(Editor))
        .json(r#"{"role": "manager"}"#),
    row("PATCH", "/api/projects/{id}/members/{member_id}", Member(Owner), 200)
        .on(Target::Member(Manager))
        .json(r#"{"role": "viewer"}"#),
    row("DELETE", "/api/projects/{id}/members/{member_id}", Member(Manager), 204)
        .on(Target::Member(Editor)),
    row("DELETE", "/api/projects/{id}/members/{member_id}", Member(Owner), 204)
        .on(Target::Member(Manager)),
    // A member may always leave, whatever their role.
    row("DELETE", "/api/projects/{id}/members/{member_id}", Member(Viewer), 204)
        .on(Target::OwnMembership),
];

const FEEDBACK: &[Row] = &[
    row("GET", "/api/projects/{id}/feedback/comments", Member(Viewer), 200),
    row("POST", "/api/projects/{id}/feedback/comments", Member(Viewer), 201)
        .json(r#"{"text": "at 1.5 s", "timecode": 1.5}"#),
    // Its author, or manager+.
    row("DELETE", "/api/projects/{id}/feedback/comments/{comment_id}", Member(Viewer), 204)
        .on(Target::OwnComment),
    row("DELETE", "/api/projects/{id}/feedback/comments/{comment_id}", Member(Manager), 204)
        .on(Target::OthersComment),
    // Text: its author; resolution: its author, or editor+ (others' text: see feedback.rs).
    row("PATCH", "/api/projects/{id}/feedback/comments/{comment_id}", Member(Viewer), 200)
        .on(Target::OwnComment)
        .json(r#"{"text": "edited", "resolved": true}"#),
    row("PATCH", "/api/projects/{id}/feedback/comments/{comment_id}", Member(Editor), 200)
        .on(Target::OthersComment)
        .json(r#"{"resolved": true}"#),
    row("GET", "/api/projects/{id}/feedback/messages", Member(Viewer), 200),
    row("POST", "/api/projects/{id}/feedback/messages", Member(Viewer), 201)
        .json(r#"{"text": "hello"}"#),
    row("PUT", "/api/projects/{id}/feedback/video", Member(Editor), 200).raw("video/mp4"),
];

const MEMOS_AND_FILES: &[Row] = &[
    row("POST", "/api/projects/{id}/memos", Member(Editor), 201)
        .json(r#"{"date": "2026-03-01T09:00:00Z", "text": "call the client"}"#),
    row("DELETE", "/api/projects/{id}/memos/{memo_id}", Member(Editor), 204).on(Target::Memo),
    row("POST", "/api/projects/{id}/files?name=notes.txt", Member(Editor), 201).raw("text/plain"),
    row("GET", "/api/projects/{id}/files/{file_id}", Member(Viewer), 200).on(Target::File),
    row("DELETE", "/api/projects/{id}/files/{file_id}", Member(Editor), 204).on(Target::File),
];

const VERSIONS: &[Row] = &[
    row("POST", "/api/projects/{id}/versions?label=cut", Member(Editor), 201).raw("video/mp4"),
    row("GET", "/api/projects/{id}/versions", Member(Viewer), 200),
    row("GET", "/api/projects/{id}/versions/{version_id}", Member(Viewer), 200).on(Target::Version),
    row("PATCH", "/api/projects/{id}/versions/{version_id}", Member(Editor), 200)
        .on(Target::Version)
        .json(r#"{"label": "fine cut", "fps": 25}"#),
    row("DELETE", "/api/projects/{id}/versions/{version_id}", Member(Manager), 204)
        .on(Target::Version),
    row(
        "GET",
        "/api/projects/{id}/versions/{version_id}/comments/export?format=csv",
        Member(Viewer),
        200,
    )
    .on(Target::Version),
    // Any member reviews, viewers (the client) first of all.
    row("PUT", "/api/projects/{id}/versions/{version_id}/review", Member(Viewer), 200)
        .on(Target::Version)
        .json(r#"{"status": "approved", "note": "ship it"}"#),
];

const EVENTS: &[Row] = &[
    row("POST", "/api/events/ticket", User, 201),
    row("GET", "/api/projects/{id}/activity", Member(Viewer), 200),
];

/// Operations the matrix leaves to another suite: a stream's 200 never ends, so
/// `tests/events.rs` checks who may open one over a socket.
const ELSEWHERE: [&str; 1] = ["get /api/events"];

const SECTIONS: [&[Row]; 7] =
    [ACCOUNT, PROJECTS, MEMBERS, FEEDBACK, MEMOS_AND_FILES, VERSIONS, EVENTS];

/// The status the contract gives `caller` on `row`.
fn expected(row: &Row, caller: Caller) -> u16 {
    match row.who {
        Public => row.ok,
        _ if caller.unauthenticated() => 401,
        User => row.ok,
        Member(min) => match caller.role() {
            None => 404,
            Some(role) if role < min => 403,
            Some(_) => row.ok,
        },
    }
}

/// The status's contract code, for the error cells.
fn code(status: u16) -> &'static str {
    match status {
        401 => "unauthenticated",
        403 => "forbidden",
        404 => "not_found",
        other => panic!("no error code expected for {other}"),
    }
}

/// The users every cell draws on, signed up once per app.
struct Users {
    owner: TestUser,
    viewer: TestUser,
    editor: TestUser,
    manager: TestUser,
    stranger: TestUser,
    removed: TestUser,
    /// Invited by the `POST members` rows; never a member beforehand.
    invitee: TestUser,
    /// The member or comment author a target row aims at, when not the caller.
    other: TestUser,
    /// Tokens of the owner that must not work.
    expired: String,
    foreign: String,
}

/// A JWT with the claims `src/auth.rs` issues (`sub` the user id as a string, `iat`, `exp`).
fn mint(secret: &str, user: i64, iat: i64, exp: i64) -> String {
    let claims = json!({"sub": user.to_string(), "iat": iat, "exp": exp});
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign a token")
}

fn app_secret(app: &TestApp) -> String {
    app.config.auth.jwt_secret.as_ref().expect("tests set a secret").0.clone()
}

impl Users {
    async fn sign_up(app: &TestApp) -> Users {
        let owner = app.user("owner").await;
        let now = chrono::Utc::now().timestamp();
        let secret = app_secret(app);
        Users {
            expired: mint(&secret, owner.id, now - 7200, now - 60),
            foreign: mint("another-secret-another-secret-another", owner.id, now, now + 3600),
            owner,
            viewer: app.user("viewer").await,
            editor: app.user("editor").await,
            manager: app.user("manager").await,
            stranger: app.user("stranger").await,
            removed: app.user("removed").await,
            invitee: app.user("invitee").await,
            other: app.user("other").await,
        }
    }

    fn token(&self, caller: Caller) -> Option<&str> {
        Some(match caller {
            Caller::Anonymous => return None,
            Caller::NonMember => &self.stranger.token,
            Caller::Viewer => &self.viewer.token,
            Caller::Editor => &self.editor.token,
            Caller::Manager => &self.manager.token,
            Caller::Owner => &self.owner.token,
            Caller::Removed => &self.removed.token,
            Caller::Expired => &self.expired,
            Caller::ForeignSecret => &self.foreign,
            Caller::Malformed => "not-a-jwt",
        })
    }
}

/// What a cell set up: its project and the id its path parameter stands for.
struct Cell {
    project: i64,
    target: Option<i64>,
}

async fn comment_by(app: &TestApp, user: &TestUser, project: i64) -> i64 {
    let path = format!("/api/projects/{project}/feedback/comments");
    let resp = app.post(&path, user, json!({"text": "a note"})).await;
    assert_eq!(resp.status, 201, "{:?}", resp.body);
    resp.result()["id"].as_i64().expect("comment id")
}

/// A small raw-bytes body with a content type, as the file and video routes take.
async fn send_raw(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    content_type: &str,
) -> Resp {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = request.header("content-type", content_type).body(Body::from("0123456789"));
    app.send(request.expect("request")).await
}

/// A fresh project with a viewer, an editor and a manager, the row's target, and (for the
/// removed caller) a member who read it and was then removed.
async fn set_up(app: &TestApp, users: &Users, row: &Row, caller: Caller) -> Cell {
    let owner = &users.owner;
    let project = app.project(owner, "matrix").await;
    let viewer = app.add_member(owner, project, &users.viewer, "viewer").await;
    let editor = app.add_member(owner, project, &users.editor, "editor").await;
    let manager = app.add_member(owner, project, &users.manager, "manager").await;
    let removed = if caller == Caller::Removed {
        Some(app.add_member(owner, project, &users.removed, "viewer").await)
    } else {
        None
    };
    let target = match row.target {
        Target::None => None,
        Target::Member(role) => {
            Some(app.add_member(owner, project, &users.other, role.as_str()).await)
        }
        Target::OwnMembership => Some(match caller {
            Caller::Editor => editor,
            Caller::Manager => manager,
            Caller::Removed => removed.expect("added above"),
            _ => viewer,
        }),
        Target::OwnComment => {
            let author = match caller {
                Caller::Editor => &users.editor,
                Caller::Manager => &users.manager,
                Caller::Owner => owner,
                Caller::Removed => &users.removed,
                _ => &users.viewer,
            };
            Some(comment_by(app, author, project).await)
        }
        Target::OthersComment => {
            app.add_member(owner, project, &users.other, "viewer").await;
            Some(comment_by(app, &users.other, project).await)
        }
        Target::Memo => {
            let body = json!({"date": "2026-03-01T09:00:00Z", "text": "memo"});
            let resp = app.post(&format!("/api/projects/{project}/memos"), owner, body).await;
            assert_eq!(resp.status, 201, "{:?}", resp.body);
            resp.result()["id"].as_i64()
        }
        Target::File => {
            let path = format!("/api/projects/{project}/files?name=a.txt");
            let resp = send_raw(app, Method::POST, &path, Some(&owner.token), "text/plain").await;
            assert_eq!(resp.status, 201, "{:?}", resp.body);
            resp.result()["id"].as_i64()
        }
        Target::Version => {
            let path = format!("/api/projects/{project}/versions");
            let resp = send_raw(app, Method::POST, &path, Some(&owner.token), "video/mp4").await;
            assert_eq!(resp.status, 201, "{:?}", resp.body);
            resp.result()["id"].as_i64()
        }
    };
    if let Some(member) = removed {
        // Read first, so the access list the removal must invalidate is in the cache.
        assert_eq!(app.get(&format!("/api/projects/{project}"), &users.removed).await.status, 200);
        let resp = app.delete(&format!("/api/projects/{project}/members/{member}"), owner).await;
        assert_eq!(resp.status, 204, "{:?}", resp.body);
    }
    Cell { project, target }
}

/// The row's path with the cell's ids in it.
fn path_of(row: &Row, cell: Option<&Cell>) -> String {
    let mut path = row.path.to_owned();
    if let Some(cell) = cell {
        path = path.replace("{id}", &cell.project.to_string());
        if let Some(target) = cell.target {
            for name in ["{member_id}", "{comment_id}", "{memo_id}", "{file_id}", "{version_id}"] {
                path = path.replace(name, &target.to_string());
            }
        }
    }
    path.replace("{phase}", "filming")
}

async fn call(app: &TestApp, users: &Users, row: &Row, path: &str, caller: Caller) -> Resp {
    let token = users.token(caller);
    let method = Method::from_bytes(row.method.as_bytes()).expect("method");
    match row.payload {
        Payload::None => app.call(method, path, token, None).await,
        Payload::Json(text) => {
            // One signup row: the caller alone makes the email unique within an app.
            let unique = format!("new-{caller:?}").to_lowercase();
            let text = text.replace("{unique}", &unique).replace("{invitee}", &users.invitee.email);
            let body: Value = serde_json::from_str(&text).expect("row body is JSON");
            app.call(method, path, token, Some(body)).await
        }
        Payload::Raw(content_type) => send_raw(app, method, path, token, content_type).await,
    }
}

/// Whether the object a destroying row aims at still exists, as its owner sees it.
async fn still_there(app: &TestApp, users: &Users, row: &Row, cell: &Cell) -> bool {
    let project = cell.project;
    let detail = app.get(&format!("/api/projects/{project}"), &users.owner).await;
    if row.target.is_none() {
        return match detail.status.as_u16() {
            200 => true,
            404 => false,
            other => panic!("detail answered {other}: {:?}", detail.body),
        };
    }
    assert_eq!(detail.status, 200, "{:?}", detail.body);
    let listed = |list: &Value| {
        list.as_array().expect("a list").iter().any(|item| item["id"].as_i64() == cell.target)
    };
    match row.target {
        Target::Member(_) | Target::OwnMembership => listed(&detail.result()["members"]),
        Target::Memo => listed(&detail.result()["memos"]),
        Target::File => listed(&detail.result()["files"]),
        Target::Version => {
            let versions =
                app.get(&format!("/api/projects/{project}/versions"), &users.owner).await;
            assert_eq!(versions.status, 200, "{:?}", versions.body);
            listed(versions.result())
        }
        Target::OwnComment | Target::OthersComment => {
            let path = format!("/api/projects/{project}/feedback/comments?limit=100");
            let comments = app.get(&path, &users.owner).await;
            assert_eq!(comments.status, 200, "{:?}", comments.body);
            listed(comments.result())
        }
        Target::None => unreachable!("handled above"),
    }
}

impl Target {
    fn is_none(&self) -> bool {
        matches!(self, Target::None)
    }
}

/// Runs every cell of `rows`; returns the number of cells. Collects every wrong cell before
/// failing, so one run shows the whole picture.
async fn run(rows: &[Row]) -> usize {
    let app = TestApp::spawn().await;
    let users = Users::sign_up(&app).await;
    let mut failures = Vec::new();
    let mut cells = 0;
    for row in rows {
        for caller in CALLERS {
            cells += 1;
            let cell = match row.who {
                Member(_) => Some(set_up(&app, &users, row, caller).await),
                Public | User => None,
            };
            let path = path_of(row, cell.as_ref());
            // What a destroying row aims at may already be gone (the removed member's own
            // membership): a refusal must leave it as it was, a 2xx must leave it gone.
            let before = match (row.destroys(), cell.as_ref()) {
                (true, Some(cell)) => Some(still_there(&app, &users, row, cell).await),
                _ => None,
            };
            let resp = call(&app, &users, row, &path, caller).await;
            let want = expected(row, caller);
            let what = format!("{} {} as {caller:?}", row.method, row.path);
            if resp.status.as_u16() != want {
                failures.push(format!("{what}: want {want}, got {} {}", resp.status, resp.raw));
                continue;
            }
            if want >= 400 && (resp.body["code"] != code(want) || !resp.body["message"].is_string())
            {
                failures.push(format!("{what}: want code {}, got {}", code(want), resp.raw));
            }
            if let (Some(before), Some(cell)) = (before, cell.as_ref()) {
                let after = still_there(&app, &users, row, cell).await;
                let right = if want < 300 { !after } else { after == before };
                if !right {
                    failures.push(format!(
                        "{what}: answered {want}; there before {before}, after {after}"
                    ));
                }
            }
        }
    }
    app.finish().await;
    assert!(failures.is_empty(), "{} wrong cells:\n{}", failures.len(), failures.join("\n"));
    cells
}

#[tokio::test]
async fn account_routes() {
    assert_eq!(run(ACCOUNT).await, ACCOUNT.len() * CALLERS.len());
}

#[tokio::test]
async fn project_routes() {
    assert_eq!(run(PROJECTS).await, PROJECTS.len() * CALLERS.len());
}

#[tokio::test]
async fn member_routes() {
    assert_eq!(run(MEMBERS).await, MEMBERS.len() * CALLERS.len());
}

#[tokio::test]
async fn feedback_routes() {
    assert_eq!(run(FEEDBACK).await, FEEDBACK.len() * CALLERS.len());
}

#[tokio::test]
async fn version_routes() {
    assert_eq!(run(VERSIONS).await, VERSIONS.len() * CALLERS.len());
}

#[tokio::test]
async fn event_routes() {
    assert_eq!(run(EVENTS).await, EVENTS.len() * CALLERS.len());
}

#[tokio::test]
async fn memo_and_file_routes() {
    assert_eq!(run(MEMOS_AND_FILES).await, MEMOS_AND_FILES.len() * CALLERS.len());
}

/// The matrix covers every `/api` operation the OpenAPI document lists, so a new route cannot
/// slip in without a row.
#[tokio::test]
async fn the_matrix_covers_every_api_operation() {
    let app = TestApp::spawn().await;
    let doc = app.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(doc.status, 200);
    let covered: Vec<(String, &str)> = SECTIONS
        .iter()
        .flat_map(|rows| rows.iter())
        .map(|row| (row.method.to_lowercase(), row.path.split('?').next().unwrap_or(row.path)))
        .collect();
    let mut missing = Vec::new();
    let paths = doc.body["paths"].as_object().expect("paths");
    for (path, item) in paths.iter().filter(|(path, _)| path.starts_with("/api/")) {
        for method in item.as_object().expect("path item").keys() {
            let elsewhere = ELSEWHERE.contains(&format!("{method} {path}").as_str());
            if !elsewhere && !covered.iter().any(|(m, p)| m == method && p == path) {
                missing.push(format!("{method} {path}"));
            }
        }
    }
    app.finish().await;
    assert!(missing.is_empty(), "routes without a matrix row: {missing:?}");
}

/// The token callers fail for their defect alone: the same claims, properly signed and
/// current, are accepted. Other forgeries (another algorithm, no signature, another scheme)
/// are 401 too.
#[tokio::test]
async fn only_the_token_defect_makes_the_401() {
    let app = TestApp::spawn().await;
    let ann = app.user("ann").await;
    let now = chrono::Utc::now().timestamp();
    let secret = app_secret(&app);
    let good = mint(&secret, ann.id, now, now + 600);
    let me = app.call(Method::GET, "/api/me", Some(&good), None).await;
    assert_eq!(me.status, 200, "{:?}", me.body);
    assert_eq!(me.result()["id"], ann.id);

    // The same claims with `alg: none` (signature stripped) and with HS512 under our secret.
    let (head, rest) = good.split_once('.').expect("a JWT");
    let payload = rest.split_once('.').expect("a JWT").0;
    use base64::Engine;
    let none =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let hs512 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS512),
        &json!({"sub": ann.id.to_string(), "iat": now, "exp": now + 600}),
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign");
    for token in [
        format!("{none}.{payload}."),
        format!("{head}.{payload}."),
        hs512,
        format!("{good}x"),
        String::new(),
    ] {
        let resp = app.call(Method::GET, "/api/me", Some(&token), None).await;
        resp.assert_error(401, "unauthenticated");
    }
    for header in [format!("Basic {good}"), format!("bearer{good}"), "Bearer".to_owned()] {
        let request = Request::builder()
            .uri("/api/me")
            .header("authorization", header)
            .body(Body::empty())
            .expect("request");
        app.send(request).await.assert_error(401, "unauthenticated");
    }
    app.finish().await;
}

/// Found while fuzzing for 5xx: PostgreSQL `text` cannot hold U+0000, so a NUL in any stored
/// field (or compared with one) was a 500 there. Every such input now gets the contract's
/// answer on both backends: 422 for a stored field, 400 for the search, 401 at login.
#[tokio::test]
async fn nul_characters_are_refused_never_a_500() {
    let app = TestApp::spawn().await;
    let ann = app.user("ann").await;
    let id = app.project(&ann, "p").await;
    let signup =
        json!({"email": "nul@example.com", "password": "password-nul", "nickname": "a\0b"});
    app.call(Method::POST, "/api/auth/signup", None, Some(signup))
        .await
        .assert_error(422, "validation");
    let login = json!({"email": "ann\0@example.com", "password": "password-ann"});
    app.call(Method::POST, "/api/auth/login", None, Some(login))
        .await
        .assert_error(401, "unauthenticated");
    app.patch("/api/me", &ann, json!({"nickname": "a\0"})).await.assert_error(422, "validation");
    app.post("/api/projects", &ann, json!({"name": "p\0"})).await.assert_error(422, "validation");
    let project = format!("/api/projects/{id}");
    for field in ["name", "manager", "consumer", "description"] {
        let resp = app.patch(&project, &ann, json!({field: "x\0y"})).await;
        resp.assert_error(422, "validation");
        assert!(resp.body["fields"][field].is_string(), "{field}: {:?}", resp.body);
    }
    for thread in ["comments", "messages"] {
        let path = format!("{project}/feedback/{thread}");
        app.post(&path, &ann, json!({"text": "x\0y"})).await.assert_error(422, "validation");
    }
    let memo = json!({"date": "2026-03-01T09:00:00Z", "text": "x\0y"});
    app.post(&format!("{project}/memos"), &ann, memo).await.assert_error(422, "validation");
    app.get("/api/projects?q=a%00b", &ann).await.assert_error(400, "bad_request");
    app.finish().await;
}
