//! Live updates: `GET /api/events` (Server-Sent Events), `POST /api/events/ticket`, and a
//! project's activity, `GET /api/projects/{id}/activity`.
//!
//! Rules where API.md is silent: a ticket is answered 201 as `{"result": {"ticket"}}`; a stream
//! takes `Last-Event-ID` over `?last_event_id=` when both are sent; a user holds at most
//! `REELPLAN_MAX_STREAMS_PER_USER` streams per instance (429 past it) and an instance at most
//! `REELPLAN_MAX_STREAMS` (503 past it).

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use reelplan_domain::{ProjectId, UserId};
use serde::{Deserialize, Serialize};

use super::ops::schemas::{ActivityList, ErrorBody, TicketResult};
use crate::error::ApiError;
use crate::events::{open_stream, StreamStartError};
use crate::extract::{bearer_token, ApiPath, ApiQuery, Caller};
use crate::response::{created, JsonBytes};
use crate::service::activity;
use crate::service::feedback::PageQuery;
use crate::state::AppState;

/// Live update routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/events", get(stream))
        .route("/api/events/ticket", post(ticket))
        .route("/api/projects/{id}/activity", get(activity_page))
}

/// `?ticket=&last_event_id=` of a stream.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct StreamQuery {
    /// A ticket from `POST /api/events/ticket`, for a client that cannot send a header.
    ticket: Option<String>,
    /// Replay the events after this id (as `Last-Event-ID`).
    last_event_id: Option<i64>,
}

/// `{ticket}`: single use, valid 30 s.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = ticket)]
pub(crate) struct Ticket {
    ticket: String,
}

/// Who opens a stream: the bearer token's user, or the ticket's.
async fn stream_user(
    state: &AppState,
    headers: &HeaderMap,
    ticket: Option<&str>,
) -> Result<UserId, ApiError> {
    if headers.contains_key(header::AUTHORIZATION) {
        let token = bearer_token(headers)
            .ok_or(ApiError::Unauthenticated("malformed Authorization header"))?;
        return state.auth.verify(token);
    }
    let ticket = ticket.ok_or(ApiError::Unauthenticated("missing bearer token or ticket"))?;
    state
        .events
        .tickets
        .redeem(ticket)
        .await
        .ok_or(ApiError::Unauthenticated("invalid, expired or used ticket"))
}

/// The id to replay after: the `Last-Event-ID` header, else `?last_event_id=`.
fn last_event_id(headers: &HeaderMap, query: Option<i64>) -> Result<Option<i64>, ApiError> {
    match headers.get("last-event-id") {
        None => Ok(query),
        Some(value) => value
            .to_str()
            .ok()
            .and_then(|text| text.trim().parse::<i64>().ok())
            .filter(|id| *id >= 0)
            .map(Some)
            .ok_or_else(|| ApiError::BadRequest("Last-Event-ID must be an event id".into())),
    }
}

#[utoipa::path(
    operation_id = "open_stream",
    get,
    path = "/api/events",
    tag = "events",
    summary = "The caller's events, as they happen, across their projects (Server-Sent Events).",
    params(
        StreamQuery,
        ("Last-Event-ID" = Option<String>, Header, description = "Replay the events after this id; `event: reset` first when the log no longer holds them."),
    ),
    security(("bearer" = []), ()),
    responses(
        (status = 200, description = "`text/event-stream`: `id`, `event` (the type) and `data` (the event) per event; a comment every 15 s.", content_type = "text/event-stream", body = String),
        (status = 400, description = "A bad Last-Event-ID.", body = ErrorBody),
        (status = 401, description = "No valid token or ticket.", body = ErrorBody),
        (status = 429, description = "The caller holds too many streams.", body = ErrorBody),
        (status = 503, description = "The instance holds its maximum of streams, or the database is unavailable.", body = ErrorBody),
    ),
)]
pub(super) async fn stream(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<StreamQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let user = stream_user(&state, &headers, query.ticket.as_deref()).await?;
    tracing::Span::current().record("user", user.0);
    let after = last_event_id(&headers, query.last_event_id)?;
    let frames =
        open_stream(&state.events, &*state.store, user, after).await.map_err(|e| match e {
            StreamStartError::Full => ApiError::Busy("this instance holds its maximum of streams"),
            StreamStartError::UserFull => ApiError::RateLimited {
                message: "too many open streams for this user",
                retry_after: std::time::Duration::from_secs(15),
            },
            StreamStartError::Store(error) => error.into(),
        })?;
    let mut response = Response::new(Body::from_stream(frames));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // Proxies that buffer (nginx) would hold events back.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

#[utoipa::path(
    operation_id = "create_ticket",
    post,
    path = "/api/events/ticket",
    tag = "events",
    summary = "A single-use ticket, valid 30 s, to open the stream without a header (EventSource).",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The ticket.", body = TicketResult),
        (status = 401, description = "No valid token.", body = ErrorBody),
        (status = 503, description = "Too many tickets outstanding on this instance.", body = ErrorBody),
    ),
)]
pub(super) async fn ticket(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> Result<JsonBytes, ApiError> {
    let ticket = state.events.tickets.issue(caller).await;
    let ticket = ticket.ok_or(ApiError::Busy("too many stream tickets outstanding"))?;
    created(&Ticket { ticket })
}

#[utoipa::path(
    operation_id = "list_activity",
    get,
    path = "/api/projects/{id}/activity",
    tag = "events",
    summary = "The project's events, newest first (members).",
    params(("id" = i64, Path, description = "The project's id."), PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of events.", body = ActivityList),
        (status = 400, description = "A bad limit or cursor.", body = ErrorBody),
        (status = 404, description = "No such project, or not a member.", body = ErrorBody),
    ),
)]
pub(super) async fn activity_page(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<ProjectId>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<JsonBytes, ApiError> {
    Ok(JsonBytes(StatusCode::OK, activity::page_of(&state, caller, id, query).await?))
}
