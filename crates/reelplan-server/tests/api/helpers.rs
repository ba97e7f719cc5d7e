//! `TestApp`: the real router on a fresh database per test — SQLite by default, PostgreSQL
//! when `DATABASE_URL` is set, with Redis as L2 when `REDIS_URL` is set — and request helpers
//! that read like the contract.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use reelplan_server::config::PasswordCost;
use reelplan_server::config::Secret;
use reelplan_server::{AppState, Config};
use reelplan_store::Store;
use reelplan_store_postgres::TestDatabase;
use serde_json::{json, Value};
use tower::ServiceExt;

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Where a test's data lives; dropped (or removed) by [`TestApp::finish`].
pub enum Database {
    Sqlite(PathBuf),
    Postgres { url: String, guard: Box<TestDatabase> },
}

impl Database {
    /// A fresh database of the backend this run tests.
    pub async fn fresh() -> Database {
        match std::env::var("DATABASE_URL") {
            Ok(base) if base.starts_with("postgres") => {
                let (_, guard) = reelplan_store_postgres::connect_isolated_for_tests(&base)
                    .await
                    .expect("PostgreSQL test database");
                let prefix = base.rsplit_once('/').map_or(base.as_str(), |(p, _)| p);
                let url = format!("{prefix}/{}", guard.name());
                Database::Postgres { url, guard: Box::new(guard) }
            }
            _ => {
                let n = COUNTER.fetch_add(1, Ordering::Relaxed);
                let nonce: u32 = rand::random();
                let path = std::env::temp_dir()
                    .join(format!("reelplan-test-{}-{n}-{nonce:08x}.db", std::process::id()));
                Database::Sqlite(path)
            }
        }
    }

    fn url(&self) -> String {
        match self {
            Database::Sqlite(path) => format!("sqlite://{}", path.display()),
            Database::Postgres { url, .. } => url.clone(),
        }
    }

    pub async fn drop(self) {
        match self {
            Database::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Database::Postgres { guard, .. } => guard.drop_database().await,
        }
    }
}

/// The configuration every test app starts from: cheap password hashing (tests only), a fixed
/// secret, Redis when `REDIS_URL` is set, under a namespace no other test shares.
pub fn test_config(db: &Database) -> Config {
    let mut config = Config::embedded(std::env::temp_dir());
    config.database.url = db.url();
    config.auth.jwt_secret = Some(Secret("test-secret-test-secret-test-secret!".into()));
    config.auth.password_cost = PasswordCost { memory_kib: 64, iterations: 1, parallelism: 1 };
    config.cache.redis_url = std::env::var("REDIS_URL").ok();
    config.cache.namespace = format!("rptest{:08x}", rand::random::<u32>());
    config
}

/// One running instance of the app.
pub struct Instance {
    pub state: AppState,
    router: Router,
}

impl Instance {
    pub async fn start(config: &Config) -> Instance {
        let store = reelplan_server::open_store(&config.database).await.expect("store");
        store.migrate().await.expect("migrations");
        let state = reelplan_server::state_with_store(store, config).expect("state");
        Instance { router: reelplan_server::router(state.clone()), state }
    }

    pub fn store(&self) -> Arc<dyn Store> {
        self.state.store.clone()
    }

    /// Whether this run tests PostgreSQL (else SQLite).
    pub fn is_postgres(&self) -> bool {
        self.state.store.backend() == "postgres"
    }

    /// Moves on every cache scope of `user` and `project`, so each of their documents is cold
    /// (writes fill what they read back, so a fresh project starts warm).
    pub async fn chill(&self, user: &TestUser, project: i64) {
        use reelplan_cache::Scope;
        let id = user.id;
        let scopes = [
            Scope::User(id),
            Scope::Memberships(id),
            Scope::Lists(id),
            Scope::Project(project),
            Scope::Attachments(project),
            Scope::Thread(project),
            Scope::Access(project),
            Scope::Activity(project),
        ];
        self.state.cache.invalidate(&scopes).await;
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let request = match body {
            Some(body) => request
                .header("content-type", "application/json")
                .body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        };
        self.send(request.expect("request")).await
    }

    pub async fn send(&self, request: Request<Body>) -> Resp {
        let response = self.router.clone().oneshot(request).await.expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        let raw = String::from_utf8_lossy(&bytes).into_owned();
        Resp { status, headers, body, raw }
    }

    pub async fn get(&self, path: &str, user: &TestUser) -> Resp {
        self.call(Method::GET, path, Some(&user.token), None).await
    }

    pub async fn post(&self, path: &str, user: &TestUser, body: Value) -> Resp {
        self.call(Method::POST, path, Some(&user.token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, user: &TestUser, body: Value) -> Resp {
        self.call(Method::PATCH, path, Some(&user.token), Some(body)).await
    }

    pub async fn put(&self, path: &str, user: &TestUser, body: Value) -> Resp {
        self.call(Method::PUT, path, Some(&user.token), Some(body)).await
    }

    pub async fn delete(&self, path: &str, user: &TestUser) -> Resp {
        self.call(Method::DELETE, path, Some(&user.token), None).await
    }

    /// Signs up `name@example.com` with password `password-<name>`.
    pub async fn user(&self, name: &str) -> TestUser {
        let email = format!("{name}@example.com");
        let body =
            json!({"email": email, "password": format!("password-{name}"), "nickname": name});
        let resp = self.call(Method::POST, "/api/auth/signup", None, Some(body)).await;
        assert_eq!(resp.status, StatusCode::CREATED, "signup {name}: {:?}", resp.body);
        TestUser {
            id: resp.body["result"]["user"]["id"].as_i64().expect("user id"),
            token: resp.body["result"]["token"].as_str().expect("token").to_owned(),
            email,
        }
    }

    /// Creates a project named `name` owned by `owner`; returns its id.
    pub async fn project(&self, owner: &TestUser, name: &str) -> i64 {
        let resp = self.post("/api/projects", owner, json!({"name": name})).await;
        assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
        resp.result()["id"].as_i64().expect("project id")
    }

    /// Adds `user` to `project` with `role` (as its owner); returns the member id.
    pub async fn add_member(
        &self,
        owner: &TestUser,
        project: i64,
        user: &TestUser,
        role: &str,
    ) -> i64 {
        let path = format!("/api/projects/{project}/members");
        let resp = self.post(&path, owner, json!({"email": user.email, "role": role})).await;
        assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
        resp.result()["id"].as_i64().expect("member id")
    }

    /// Fails the test if any request so far looked like an N+1.
    pub fn assert_no_n_plus_one(&self) {
        let warnings = self.state.n_plus_one_warnings.load(Ordering::Relaxed);
        assert_eq!(warnings, 0, "requests ran more than 10 statements or repeated one");
    }
}

/// A test app on its own fresh database.
pub struct TestApp {
    pub app: Instance,
    pub config: Config,
    db: Database,
}

impl std::ops::Deref for TestApp {
    type Target = Instance;
    fn deref(&self) -> &Instance {
        &self.app
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
        let db = Database::fresh().await;
        let mut config = test_config(&db);
        tweak(&mut config);
        TestApp { app: Instance::start(&config).await, config, db }
    }

    /// A second instance on the same database and Redis (separate L1, pool, generations).
    pub async fn second_instance(&self) -> Instance {
        Instance::start(&self.config).await
    }

    /// With `REDIS_URL`, a second instance (see [`TestApp::second_instance`]) for coherence
    /// checks across instances; without Redis, None (instances would share no cache).
    pub async fn peer(&self) -> Option<Instance> {
        match self.config.cache.redis_url {
            Some(_) => Some(self.second_instance().await),
            None => None,
        }
    }

    /// Asserts the N+1 guard held, then drops the database.
    pub async fn finish(self) {
        self.app.assert_no_n_plus_one();
        self.db.drop().await;
    }
}

/// A signed-up user.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: i64,
    pub token: String,
    pub email: String,
}

/// A response, body parsed as JSON (null when empty).
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    /// The body as sent, for checks of key order.
    pub raw: String,
}

impl Resp {
    pub fn result(&self) -> &Value {
        &self.body["result"]
    }

    pub fn queries(&self) -> u32 {
        self.header("x-query-count").parse().expect("X-Query-Count")
    }

    pub fn cache(&self) -> &str {
        self.header("x-cache")
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// Asserts status and error code.
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "{:?}", self.body);
        assert_eq!(self.body["code"], code, "{:?}", self.body);
        assert!(self.body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }

    pub fn ids(&self) -> Vec<i64> {
        self.result()
            .as_array()
            .expect("a list")
            .iter()
            .map(|v| v["id"].as_i64().unwrap())
            .collect()
    }
}

/// Deterministic pseudo-random bytes (binary, not UTF-8), so a lossy round trip would show.
pub fn bytes_of(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A raw-body request with the caller's token.
pub fn raw(
    method: Method,
    path: &str,
    user: &TestUser,
    content_type: Option<&str>,
    body: Body,
) -> Request<Body> {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {}", user.token));
    if let Some(content_type) = content_type {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    request.body(body).expect("request")
}
