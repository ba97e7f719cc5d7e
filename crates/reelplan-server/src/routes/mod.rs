//! The route map, in one place; [`crate::middleware::stack`] wraps it in every layer.

mod account;
mod download;
mod events;
mod feedback;
mod files;
mod members;
mod memos;
mod ops;
pub use ops::openapi_json;
mod projects;
mod versions;

use axum::routing::{delete, get, patch, post, put};
use axum::Router;

use crate::error::ApiError;
use crate::state::AppState;

/// The whole HTTP surface: `/api` per API.md and the operations endpoints.
pub fn router(state: AppState) -> Router {
    let project = "/api/projects/{id}";
    let app = Router::new()
        .route("/api/auth/signup", post(account::signup))
        .route("/api/auth/login", post(account::login))
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
            patch(feedback::patch_comment).delete(feedback::delete_comment),
        )
        .route(
            "/api/projects/{id}/feedback/messages",
            get(feedback::messages).post(feedback::message),
        )
        .route("/api/projects/{id}/memos", post(memos::add))
        .route("/api/projects/{id}/memos/{memo_id}", delete(memos::delete))
        .merge(files::routes())
        .merge(versions::routes())
        .merge(events::routes())
        .merge(ops::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);
    crate::middleware::stack(app, state)
}

/// An optional field of a body as its check left it: `Some(None)` when absent,
/// `Some(Some(value))` when valid, None when the check failed (and recorded why), so a
/// `ValidationErrors::finish_with` builder can `?` it.
fn checked<T>(field: Option<Option<T>>) -> Option<Option<T>> {
    match field {
        None => Some(None),
        Some(value) => value.map(Some),
    }
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such resource")
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
