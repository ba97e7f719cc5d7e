//! Live updates through real sockets: servers on TCP sharing one database (and Redis when
//! `REDIS_URL` is set), streams read as a browser's `EventSource` reads them.
//!
//! SQLite by default, PostgreSQL when `DATABASE_URL` is set. The cross-instance and Redis-cut
//! cases need `REDIS_URL` (without it they say they were skipped); the browser case needs
//! `/usr/bin/chromium` (`.ci/run` installs it).

use std::path::Path;
use std::time::{Duration, Instant};

use reelplan_server::config::{PasswordCost, Secret};
use reelplan_server::{AppState, Config};
use serde_json::{json, Value};
use tokio::net::TcpListener;

mod support;

use support::{fresh_database, host_port, via_proxy, Proxy};

/// How long an event may take to arrive before a test gives up on it.
const ARRIVES: Duration = Duration::from_secs(10);
/// How long a test waits to be sure that nothing more arrives.
const QUIET: Duration = Duration::from_millis(600);

fn config(database_url: &str, namespace: &str) -> Config {
    let mut config = Config::embedded(std::env::temp_dir());
    config.database.url = database_url.to_owned();
    config.auth.jwt_secret = Some(Secret("events-test-secret-0123456789abcdefgh".into()));
    config.auth.password_cost = PasswordCost { memory_kib: 64, iterations: 1, parallelism: 1 };
    config.cache.redis_url = std::env::var("REDIS_URL").ok();
    config.cache.namespace = namespace.to_owned();
    config
}

/// A server on a random port; it stops when the test's runtime ends.
struct Server {
    base: String,
    state: AppState,
}

impl Server {
    async fn start(config: &Config) -> Server {
        let state = reelplan_server::build_state(config).await.expect("state");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(reelplan_server::serve(listener, state.clone(), std::future::pending()));
        let server = Server { base, state };
        server.until_linked().await;
        server
    }

    /// Waits until the other instances' events reach this one (its Redis subscription is up).
    async fn until_linked(&self) {
        let deadline = Instant::now() + ARRIVES;
        while !self.state.events.linked() {
            assert!(Instant::now() < deadline, "the event link did not come up");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// One HTTP call; asserts the status and returns the body's `result`.
async fn call(
    method: &str,
    url: String,
    token: Option<&str>,
    body: Option<Value>,
    status: u16,
) -> Value {
    let http = reqwest::Client::new();
    let mut request = http.request(method.parse().unwrap(), &url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("the server answers");
    assert_eq!(response.status().as_u16(), status, "{method} {url}");
    response.json::<Value>().await.map(|b| b["result"].clone()).unwrap_or(Value::Null)
}

struct User {
    id: i64,
    token: String,
    email: String,
}

async fn signup(server: &Server, name: &str) -> User {
    let email = format!("{name}-{:08x}@example.com", rand::random::<u32>());
    let body = json!({"email": email, "password": format!("password-{name}"), "nickname": name});
    let session = call("POST", server.url("/api/auth/signup"), None, Some(body), 201).await;
    User {
        id: session["user"]["id"].as_i64().unwrap(),
        token: session["token"].as_str().unwrap().to_owned(),
        email,
    }
}

async fn project(server: &Server, owner: &User, name: &str) -> i64 {
    let body = Some(json!({"name": name}));
    let created = call("POST", server.url("/api/projects"), Some(&owner.token), body, 201).await;
    created["id"].as_i64().unwrap()
}

async fn add_member(server: &Server, owner: &User, project: i64, user: &User) -> i64 {
    let url = server.url(&format!("/api/projects/{project}/members"));
    let body = Some(json!({"email": user.email, "role": "editor"}));
    call("POST", url, Some(&owner.token), body, 201).await["id"].as_i64().unwrap()
}

async fn comment(server: &Server, user: &User, project: i64, text: &str) -> i64 {
    let url = server.url(&format!("/api/projects/{project}/feedback/comments"));
    let body = Some(json!({"text": text, "timecode": 1.5}));
    call("POST", url, Some(&user.token), body, 201).await["id"].as_i64().unwrap()
}

/// One message of a stream.
#[derive(Debug, Clone)]
struct Message {
    id: Option<i64>,
    event: String,
    data: Value,
}

/// A stream as an `EventSource` reads it.
struct Stream {
    response: reqwest::Response,
    buffer: String,
}

enum Auth<'a> {
    Bearer(&'a str),
    Ticket(&'a str),
}

impl Stream {
    async fn open(server: &Server, auth: Auth<'_>, last_event_id: Option<i64>) -> Stream {
        let response = Self::request(server, auth, last_event_id).await;
        assert_eq!(response.status().as_u16(), 200, "the stream opens");
        let kind = response.headers()["content-type"].to_str().unwrap().to_owned();
        assert_eq!(kind, "text/event-stream");
        Stream { response, buffer: String::new() }
    }

    async fn request(server: &Server, auth: Auth<'_>, last: Option<i64>) -> reqwest::Response {
        let http = reqwest::Client::new();
        let mut request = match auth {
            Auth::Bearer(token) => http.get(server.url("/api/events")).bearer_auth(token),
            Auth::Ticket(ticket) => http.get(server.url(&format!("/api/events?ticket={ticket}"))),
        };
        if let Some(last) = last {
            request = request.header("Last-Event-ID", last.to_string());
        }
        request.send().await.expect("the server answers")
    }

    /// The next message within `within` (comments skipped); None when none came.
    async fn next_within(&mut self, within: Duration) -> Option<Message> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                if let Some(message) = parse(&block) {
                    return Some(message);
                }
                continue;
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk()).await.ok()?;
            let chunk = chunk.expect("the stream stays readable")?;
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    async fn next(&mut self) -> Message {
        self.next_within(ARRIVES).await.expect("an event arrives")
    }

    /// Asserts that nothing more arrives for a while.
    async fn quiet(&mut self) {
        if let Some(message) = self.next_within(QUIET).await {
            panic!("nothing more should arrive, got {message:?}");
        }
    }
}

fn parse(block: &str) -> Option<Message> {
    let (mut id, mut event, mut data) = (None, None, String::new());
    for line in block.lines() {
        if let Some(value) = line.strip_prefix("id: ") {
            id = value.parse().ok();
        } else if let Some(value) = line.strip_prefix("event: ") {
            event = Some(value.to_owned());
        } else if let Some(value) = line.strip_prefix("data: ") {
            data.push_str(value);
        }
    }
    let event = event?;
    Some(Message { id, event, data: serde_json::from_str(&data).unwrap_or(Value::Null) })
}

fn namespace() -> String {
    format!("rpev{:08x}", rand::random::<u32>())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_reaches_a_stream_with_the_contract_fields_and_the_refetch_shows_it() {
    let (url, guard) = fresh_database("events-basic").await;
    let server = Server::start(&config(&url, &namespace())).await;
    let ann = signup(&server, "ann").await;
    let id = project(&server, &ann, "Trailer").await;
    let mut stream = Stream::open(&server, Auth::Bearer(&ann.token), None).await;
    let comment_id = comment(&server, &ann, id, "Tighter at 0:42").await;
    let message = stream.next().await;
    assert_eq!(message.event, "comment.created");
    let data = &message.data;
    assert_eq!(message.id, data["id"].as_i64(), "the SSE id is the event's id");
    let mut keys: Vec<&str> = data.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["actor_id", "created", "id", "object_id", "project_id", "type"]);
    assert_eq!(data["type"], "comment.created");
    assert_eq!(data["project_id"], id);
    assert_eq!(data["object_id"], comment_id);
    assert_eq!(data["actor_id"], ann.id);
    let thread = server.url(&format!("/api/projects/{id}/feedback/comments"));
    let comments = call("GET", thread, Some(&ann.token), None, 200).await;
    assert_eq!(comments[0]["id"], comment_id);
    stream.quiet().await;
    if let Some(guard) = guard {
        guard.drop_database().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_on_one_instance_reaches_a_stream_on_another_and_its_refetch_there_is_fresh() {
    if std::env::var("REDIS_URL").is_err() {
        println!("skipped: REDIS_URL is not set (instances share events through Redis)");
        return;
    }
    let (url, guard) = fresh_database("events-two").await;
    let shared = config(&url, &namespace());
    let (a, b) = (Server::start(&shared).await, Server::start(&shared).await);
    let ann = signup(&a, "ann").await;
    let bob = signup(&a, "bob").await;
    let id = project(&a, &ann, "Two instances").await;
    add_member(&a, &ann, id, &bob).await;
    let thread = format!("/api/projects/{id}/feedback/comments");
    // Bob's thread is warm on B before the write.
    call("GET", b.url(&thread), Some(&bob.token), None, 200).await;
    let mut on_b = Stream::open(&b, Auth::Bearer(&bob.token), None).await;
    for n in 0..5 {
        let comment_id = comment(&a, &ann, id, &format!("note {n}")).await;
        let message = on_b.next().await;
        assert_eq!(
            (message.event.as_str(), message.data["object_id"].as_i64()),
            ("comment.created", Some(comment_id))
        );
        let comments = call("GET", b.url(&thread), Some(&bob.token), None, 200).await;
        let ids: Vec<i64> =
            comments.as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
        assert!(ids.contains(&comment_id), "B's refetch right after the event shows the comment");
    }
    on_b.quiet().await;
    if let Some(guard) = guard {
        guard.drop_database().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnect_with_last_event_id_replays_exactly_what_was_missed() {
    let (url, guard) = fresh_database("events-replay").await;
    let server = Server::start(&config(&url, &namespace())).await;
    let ann = signup(&server, "ann").await;
    let id = project(&server, &ann, "Replay").await;
    let mut stream = Stream::open(&server, Auth::Bearer(&ann.token), None).await;
    comment(&server, &ann, id, "seen").await;
    let seen = stream.next().await.id.unwrap();
    drop(stream);
    let mut missed = Vec::new();
    for n in 0..3 {
        missed.push(comment(&server, &ann, id, &format!("missed {n}")).await);
    }
    let phase = server.url(&format!("/api/projects/{id}/phases/filming"));
    let dates = json!({"start_date": "2026-03-01T00:00:00Z", "end_date": "2026-03-05T00:00:00Z"});
    call("PUT", phase, Some(&ann.token), Some(dates), 200).await;
    let mut stream = Stream::open(&server, Auth::Bearer(&ann.token), Some(seen)).await;
    let mut replayed = Vec::new();
    for _ in 0..4 {
        let message = stream.next().await;
        assert!(message.id.unwrap() > seen);
        replayed.push((message.event, message.data["object_id"].as_i64().unwrap()));
    }
    let mut expected: Vec<(String, i64)> =
        missed.iter().map(|c| ("comment.created".to_owned(), *c)).collect();
    expected.push(("phase.updated".to_owned(), id));
    assert_eq!(replayed, expected, "the missed events, in order, nothing before them");
    stream.quiet().await;
    // Live events follow the replay on the same stream.
    let live = comment(&server, &ann, id, "live").await;
    assert_eq!(stream.next().await.data["object_id"], live);
    if let Some(guard) = guard {
        guard.drop_database().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnect_older_than_the_log_starts_with_reset() {
    let (url, guard) = fresh_database("events-reset").await;
    let server = Server::start(&config(&url, &namespace())).await;
    let ann = signup(&server, "ann").await;
    let id = project(&server, &ann, "Reset").await;
    let mut stream = Stream::open(&server, Auth::Bearer(&ann.token), None).await;
    comment(&server, &ann, id, "old").await;
    let old = stream.next().await.id.unwrap();
    drop(stream);
    comment(&server, &ann, id, "pruned too").await;
    // The log's horizon moves past both (as the sweep does after the retention).
    let pruned = server
        .state
        .store
        .prune_events(chrono::Utc::now() + chrono::Duration::seconds(1))
        .await
        .unwrap();
    assert!(pruned >= 2);
    let mut stream = Stream::open(&server, Auth::Bearer(&ann.token), Some(old)).await;
    let first = stream.next().await;
    assert_eq!(first.event, "reset");
    let reset_id = first.id.expect("a reset moves Last-Event-ID on");
    stream.quiet().await;
    drop(stream);
    // Reconnecting from the reset's id does not reset again.
    let mut stream = Stream::open(&server, Auth::Bearer(&ann.token), Some(reset_id)).await;
    stream.quiet().await;
    if let Some(guard) = guard {
        guard.drop_database().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn membership_changes_take_effect_on_open_streams_at_once() {
    let (url, guard) = fresh_database("events-members").await;
    let server = Server::start(&config(&url, &namespace())).await;
    let ann = signup(&server, "ann").await;
    let bob = signup(&server, "bob").await;
    let id = project(&server, &ann, "Members").await;
    let other = project(&server, &ann, "Not bob's").await;
    let mut bobs = Stream::open(&server, Auth::Bearer(&bob.token), None).await;
    comment(&server, &ann, id, "before bob").await;
    bobs.quiet().await;
    let member = add_member(&server, &ann, id, &bob).await;
    let first = bobs.next().await;
    assert_eq!(
        (first.event.as_str(), first.data["object_id"].as_i64()),
        ("member.added", Some(member))
    );
    comment(&server, &ann, id, "with bob").await;
    assert_eq!(bobs.next().await.event, "comment.created");
    comment(&server, &ann, other, "elsewhere").await;
    bobs.quiet().await;
    let url_member = server.url(&format!("/api/projects/{id}/members/{member}"));
    call("DELETE", url_member, Some(&ann.token), None, 204).await;
    let last = bobs.next().await;
    assert_eq!(last.event, "member.removed");
    assert_eq!(last.data["object_id"], member);
    comment(&server, &ann, id, "after bob").await;
    bobs.quiet().await;
    // A replay from before the removal gives bob only his removal of a project he has left
    // (what happened there before it is no longer his to read).
    let mut replay = Stream::open(&server, Auth::Bearer(&bob.token), first.id).await;
    let mut kinds = Vec::new();
    while let Some(message) = replay.next_within(QUIET).await {
        kinds.push(message.event);
    }
    assert_eq!(kinds, ["member.removed"]);
    if let Some(guard) = guard {
        guard.drop_database().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_opens_one_stream_once_and_a_stream_costs_one_statement() {
    let (url, guard) = fresh_database("events-ticket").await;
    let server = Server::start(&config(&url, &namespace())).await;
    let ann = signup(&server, "ann").await;
    let id = project(&server, &ann, "Ticket").await;
    let issued = call("POST", server.url("/api/events/ticket"), Some(&ann.token), None, 201).await;
    let ticket = issued["ticket"].as_str().unwrap().to_owned();
    let response = Stream::request(&server, Auth::Ticket(&ticket), None).await;
    assert_eq!(response.headers()["x-query-count"], "1", "opening a stream: one statement");
    let mut stream = Stream { response, buffer: String::new() };
    comment(&server, &ann, id, "via ticket").await;
    assert_eq!(stream.next().await.event, "comment.created");
    let again = Stream::request(&server, Auth::Ticket(&ticket), None).await;
    assert_eq!(again.status().as_u16(), 401, "a ticket serves once");
    let bad = Stream::request(&server, Auth::Ticket("forged"), None).await;
    assert_eq!(bad.status().as_u16(), 401);
    let http = reqwest::Client::new();
    let none = http.get(server.url("/api/events")).send().await.unwrap();
    assert_eq!(none.status().as_u16(), 401);
    let forged = http.get(server.url("/api/events")).bearer_auth("not-a-jwt").send().await;
    assert_eq!(forged.unwrap().status().as_u16(), 401, "a bad token, ticket or not");
    let bad_id = http
        .get(server.url("/api/events"))
        .bearer_auth(&ann.token)
        .header("Last-Event-ID", "yesterday")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_id.status().as_u16(), 400);
    if let Some(guard) = guard {
        guard.drop_database().await;
    }
}

/// At shutdown the streams end, so the instance stops without waiting out its grace for them
/// (and their clients reconnect elsewhere).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_the_streams_instead_of_waiting_for_them() {
    let (url, guard) = fresh_database("events-shutdown").await;
    let mut config = config(&url, &namespace());
    config.limits.shutdown_grace = Duration::from_secs(120);
    let state = reelplan_server::build_state(&config).await.expect("state");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(reelplan_server::serve(listener, state.clone(), async move {
        let _ = stopped.await;
    }));
    let server = Server { base, state };
    let ann = signup(&server, "ann").await;
    let mut stream = Stream::open(&server, Auth::Bearer(&ann.token), None).await;
    stop.send(()).unwrap();
    // The body ends (a chunk of None), well before the two-minute grace.
    let ended = tokio::time::timeout(ARRIVES, async {
        while let Ok(Some(_)) = stream.response.chunk().await {}
    });
    ended.await.expect("the stream ended at shutdown");
    tokio::time::timeout(ARRIVES, serving).await.expect("serve returned").unwrap().unwrap();
    if let Some(guard) = guard {
        guard.drop_database().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_user_cannot_hold_every_stream() {
    let (url, guard) = fresh_database("events-cap").await;
    let mut config = config(&url, &namespace());
    config.events.max_streams_per_user = 2;
    let server = Server::start(&config).await;
    let ann = signup(&server, "ann").await;
    let bob = signup(&server, "bob").await;
    let _one = Stream::open(&server, Auth::Bearer(&ann.token), None).await;
    let _two = Stream::open(&server, Auth::Bearer(&ann.token), None).await;
    let third = Stream::request(&server, Auth::Bearer(&ann.token), None).await;
    assert_eq!(third.status().as_u16(), 429);
    let _bobs = Stream::open(&server, Auth::Bearer(&bob.token), None).await;
    if let Some(guard) = guard {
        guard.drop_database().await;
    }
}

/// Behind a proxy speaking HTTP/2 upstream, many streams share one connection: each gets its
/// events, requests run beside them, and the client's pings between requests (bytes with no
/// request) do not start the header timeout that would cut the connection and its streams.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_share_one_http2_connection_and_outlive_the_header_timeout() {
    let (url, guard) = fresh_database("events-h2").await;
    let mut config = config(&url, &namespace());
    config.limits.connections.header_read_timeout = Duration::from_millis(300);
    let server = Server::start(&config).await;
    let ann = signup(&server, "ann").await;
    let bob = signup(&server, "bob").await;
    let id = project(&server, &ann, "Trailer").await;
    add_member(&server, &ann, id, &bob).await;
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .http2_keep_alive_interval(Duration::from_millis(100))
        .http2_keep_alive_while_idle(true)
        .build()
        .unwrap();
    let mut streams = Vec::new();
    for token in [&ann.token, &ann.token, &bob.token] {
        let response = h2.get(server.url("/api/events")).bearer_auth(token).send().await.unwrap();
        assert_eq!(response.version(), reqwest::Version::HTTP_2);
        assert_eq!(response.status().as_u16(), 200);
        streams.push(Stream { response, buffer: String::new() });
    }
    // Ten header timeouts of pings and no request.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let comment_id = comment(&server, &bob, id, "Over h2").await;
    for stream in &mut streams {
        let message = stream.next().await;
        assert_eq!(
            (message.event.as_str(), message.data["object_id"].as_i64()),
            ("comment.created", Some(comment_id))
        );
    }
    let thread = server.url(&format!("/api/projects/{id}/feedback/comments"));
    let response = h2.get(thread).bearer_auth(&ann.token).send().await.unwrap();
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["result"][0]["id"], comment_id);
    if let Some(guard) = guard {
        guard.drop_database().await;
    }
}

/// The subscription answers its pings: it stays the one it opened (a ping read wrongly would
/// drop and reopen it every few seconds, each time a gap only the log fills).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_link_between_instances_stays_up_across_its_pings() {
    if std::env::var("REDIS_URL").is_err() {
        println!("skipped: REDIS_URL is not set");
        return;
    }
    let (url, guard) = fresh_database("events-ping").await;
    let server = Server::start(&config(&url, &namespace())).await;
    // Past two pings (one every 2 s).
    tokio::time::sleep(Duration::from_millis(4500)).await;
    assert!(server.state.events.linked());
    assert_eq!(server.state.events.link_sessions(), 1, "the link never broke");
    if let Some(guard) = guard {
        guard.drop_database().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_cut_and_restored_under_a_stream_loses_no_event() {
    let Ok(redis) = std::env::var("REDIS_URL") else {
        println!("skipped: REDIS_URL is not set");
        return;
    };
    let (url, guard) = fresh_database("events-cut").await;
    let shared = config(&url, &namespace());
    let a = Server::start(&shared).await;
    // A log older than B: B's catch-up must not reach back into it.
    let ann = signup(&a, "ann").await;
    let id = project(&a, &ann, "Cut").await;
    for n in 0..3 {
        comment(&a, &ann, id, &format!("before B {n}")).await;
    }
    let proxy = Proxy::start(host_port(&redis, 6379)).await;
    let mut through_proxy = shared.clone();
    through_proxy.cache.redis_url = Some(via_proxy(&redis, proxy.port, None));
    let b = Server::start(&through_proxy).await;
    let mut on_b = Stream::open(&b, Auth::Bearer(&ann.token), None).await;
    let before = comment(&a, &ann, id, "before the cut").await;
    assert_eq!(on_b.next().await.data["object_id"], before);
    proxy.cut().await;
    // B notices (its ping goes unanswered) while A keeps writing.
    let deadline = Instant::now() + ARRIVES;
    while b.state.events.linked() {
        assert!(Instant::now() < deadline, "B did not notice the cut");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut during = Vec::new();
    for n in 0..3 {
        during.push(comment(&a, &ann, id, &format!("during the cut {n}")).await);
    }
    on_b.quiet().await;
    proxy.restore().await;
    let mut arrived = Vec::new();
    for _ in 0..3 {
        arrived.push(on_b.next().await.data["object_id"].as_i64().unwrap());
    }
    assert_eq!(arrived, during, "every event of the cut, in order, once");
    on_b.quiet().await;
    let after = comment(&a, &ann, id, "after").await;
    assert_eq!(on_b.next().await.data["object_id"], after);
    assert_eq!(b.state.events.link_sessions(), 2, "one break, one reconnect");
    if let Some(guard) = guard {
        guard.drop_database().await;
    }
}

const CHROMIUM: &str = "/usr/bin/chromium";

/// The page the browser case loads: takes a ticket with the token in its URL fragment, opens
/// an `EventSource` on the API's origin, and writes each event's type into the DOM. Its last
/// script (`/hold`) is answered only once the page reported an event (`/seen`), so its load,
/// after which Chromium dumps the DOM, waits for the event.
const PAGE: &str = r#"<!doctype html><html><body><ul id="events"></ul><p id="state">loading</p>
<script>
const [api, token] = decodeURIComponent(location.hash.slice(1)).split(" ");
fetch(api + "/api/events/ticket", {method: "POST", headers: {Authorization: "Bearer " + token}})
  .then(r => r.json())
  .then(({result}) => {
    const source = new EventSource(api + "/api/events?ticket=" + result.ticket);
    source.onopen = () => { document.getElementById("state").textContent = "open"; };
    source.addEventListener("comment.created", e => {
      const li = document.createElement("li");
      li.textContent = e.type + " " + JSON.parse(e.data).object_id;
      document.getElementById("events").appendChild(li);
      fetch("/seen");
    });
  })
  .catch(e => { document.getElementById("state").textContent = "failed: " + e; });
</script>
<script src="/hold"></script></body></html>"#;

/// The page's own server: `/`, `/seen`, and `/hold`, which waits for `/seen` (20 s at most).
async fn serve_page() -> String {
    use axum::routing::get;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(tokio::sync::Notify::new());
    let (on_seen, on_hold) = (seen.clone(), seen);
    let page = axum::Router::new()
        .route("/", get(|| async { axum::response::Html(PAGE) }))
        .route("/seen", get(move || async move { on_seen.notify_one() }))
        .route(
            "/hold",
            get(move || async move {
                let _ = tokio::time::timeout(Duration::from_secs(20), on_hold.notified()).await;
                ([("content-type", "text/javascript")], "")
            }),
        );
    tokio::spawn(async move { axum::serve(listener, page).await });
    origin
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_event_source_with_a_ticket_shows_a_write_in_its_dom() {
    if !Path::new(CHROMIUM).exists() {
        println!("skipped: chromium not installed");
        return;
    }
    let (url, guard) = fresh_database("events-browser").await;
    // The page's own origin, served by the test; the API allows it through CORS.
    let page_origin = serve_page().await;
    let mut config = config(&url, &namespace());
    config.security.cors_origins = vec![page_origin.clone()];
    let server = Server::start(&config).await;
    let ann = signup(&server, "ann").await;
    let id = project(&server, &ann, "Browser").await;
    let fragment = format!("{} {}", server.base, ann.token).replace(' ', "%20");
    let profile = std::env::temp_dir()
        .join(format!("reelplan-events-chromium-{:08x}", rand::random::<u32>()));
    let mut browser = tokio::process::Command::new(CHROMIUM);
    browser
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--timeout=6000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("{page_origin}/#{fragment}"))
        .kill_on_drop(true);
    let running = tokio::spawn(async move { browser.output().await });
    // The write comes once the page's stream is open.
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.state.events.open_streams() == 0 {
        assert!(Instant::now() < deadline, "the page did not open its stream");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let comment_id = comment(&server, &ann, id, "seen by a browser").await;
    let output = tokio::time::timeout(Duration::from_secs(60), running)
        .await
        .expect("chromium finished")
        .unwrap()
        .expect("chromium runs");
    let _ = std::fs::remove_dir_all(&profile);
    let dom = String::from_utf8_lossy(&output.stdout);
    assert!(dom.contains("<p id=\"state\">open</p>"), "the EventSource opened: {dom}");
    assert!(
        dom.contains(&format!("<li>comment.created {comment_id}</li>")),
        "the event is in the DOM: {dom}"
    );
    if let Some(guard) = guard {
        guard.drop_database().await;
    }
}
