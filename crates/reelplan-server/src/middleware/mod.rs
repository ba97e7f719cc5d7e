//! The middleware, and [`stack`], which composes the whole layer order in one function.
//!
//! As a request meets them, outermost first: the body limit; accounting (`observe`: request
//! id, span, statement log, metrics), so that every request below is counted, timed and given
//! a request id, even one shed, timed out or panicked; the security headers; CORS (when
//! configured); the panic catcher; the operations-token guard; load shedding (uploads take
//! their own slots instead); the request timeout (uploads are bounded by their pace instead);
//! and, on matched routes only, the ETag and `304` of a cacheable GET (`conditional`) and the
//! route's name for the accounting.

mod conditional;
mod load;
mod observe;
mod security;

use axum::extract::DefaultBodyLimit;
use axum::{middleware, Router};
use tower_http::catch_panic::CatchPanicLayer;

pub(crate) use conditional::CACHEABLE;
pub use observe::{method_label, MAX_REPEATS, MAX_STATEMENTS};

use crate::config::MAX_BODY_BYTES;
use crate::state::AppState;

/// Wraps the route map in every layer, in the order the module documentation gives.
pub fn stack(routes: Router<AppState>, state: AppState) -> Router {
    let inner = routes
        .route_layer(middleware::from_fn(observe::name_route))
        .route_layer(middleware::from_fn(conditional::etag))
        .layer(middleware::from_fn_with_state(state.clone(), load::timeout))
        .layer(middleware::from_fn_with_state(state.clone(), load::shed))
        .layer(middleware::from_fn_with_state(state.clone(), security::ops_guard))
        .layer(CatchPanicLayer::custom(load::panicked));
    let inner = match crate::security::cors(&state.security) {
        Some(cors) => inner.layer(cors),
        None => inner,
    };
    inner
        .layer(middleware::from_fn(security::headers))
        .layer(middleware::from_fn_with_state(state.clone(), observe::observe))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}
