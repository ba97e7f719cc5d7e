//! Project files and the feedback video (issue 6).

use axum::Router;

use crate::state::AppState;

/// File and video routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
}
