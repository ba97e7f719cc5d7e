//! reelplan's HTTP server: the router, handlers, the service layer (use cases), middleware
//! and metrics. `router(state)` is the whole app; `serve` runs it on a listener, so tests run
//! the real thing on port 0 or with `oneshot`.

pub mod app;
pub mod auth;
pub mod cached;
pub mod config;
pub mod error;
pub mod etag;
pub mod events;
pub mod extract;
pub mod limits;
pub mod listener;
pub mod live_stats;
pub mod middleware;
pub mod objects;
pub mod ratelimit;
pub mod redis_conn;
pub mod request_record;
pub mod response;
pub mod routes;
pub mod security;
pub mod service;
pub mod state;
pub mod sweep;
pub mod telemetry;
pub mod uploads;

pub use app::{
    build_state, deployment_namespace, open_bulk_loader, open_store, serve, state_with_store,
};
pub use config::Config;
pub use routes::router;
pub use state::AppState;
