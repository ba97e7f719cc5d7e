//! The route map, in one place.

mod account;
mod feedback;
mod files;
mod members;
mod memos;
mod ops;
pub use ops::openapi_json;
mod projects;

use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, patch, post, put};
use axum::{middleware, Router};

use crate::error::ApiError;
use crate::middleware::{name_route, observe};
use crate::state::AppState;

/// Request bodies over this are refused with 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The whole HTTP surface: `/api` per API.md and the operations endpoints.
pub fn router(state: AppState) -> Router {
    let project = "/api/projects/{id}";
    let app = Router::new()
        .route(
            "/api/auth/signup",
            post(account::signup).layer(middleware::from_fn_with_state(
                state.clone(),
                crate::ratelimit::signup_guard,
            )),
        )
        .route(
            "/api/auth/login",
            post(account::login).layer(middleware::from_fn_with_state(
                state.clone(),
                crate::ratelimit::login_guard,
            )),
        )
        .route("/api/me", get(account::me).patch(account::patch_me))
        .route("/api/projects", get(projects::list).post(projects::create))
        .route(project, get(projects::detail).patch(projects::patch).delete(projects::delete))
        .route("/api/projects/{id}/phases/{phase}", put(projects::put_phase))
        .route("/api/projects/{id}/members", post(members::add))
        .route(
            "/api/projects/{id}/members/{member_id}",
            patch(members::patch).delete(members::remove),
        )
        .route(
            "/api/projects/{id}/feedback/comments",
            get(feedback::comments).post(feedback::comment),
        )
        .route(
            "/api/projects/{id}/feedback/comments/{comment_id}",
            delete(feedback::delete_comment),
        )
        .route(
            "/api/projects/{id}/feedback/messages",
            get(feedback::messages).post(feedback::message),
        )
        .route("/api/projects/{id}/memos", post(memos::add))
        .route("/api/projects/{id}/memos/{memo_id}", delete(memos::delete))
        .merge(files::routes())
        .merge(ops::routes())
        .route_layer(middleware::from_fn(name_route))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);
    // Load limits and security layers sit inside the accounting, so a shed, timed-out or
    // panicked request is still counted, timed and given a request id.
    crate::limits::harden(app, &state)
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such resource")
}

async fn method_not_allowed() -> impl axum::response::IntoResponse {
    let body = serde_json::json!({"message": "this method is not allowed here", "code": "method_not_allowed"});
    (axum::http::StatusCode::METHOD_NOT_ALLOWED, axum::Json(body))
}
