//! `/api/auth/*` and `/api/me`.

use axum::extract::State;
use axum::http::StatusCode;

use crate::error::ApiError;
use crate::extract::{ApiJson, Caller};
use crate::response::{created, ok, JsonBytes};
use crate::service::users::{self, Login, ProfilePatch, Signup};
use crate::state::AppState;

pub(super) async fn signup(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Signup>,
) -> Result<JsonBytes, ApiError> {
    created(&users::signup(&state, body).await?)
}

pub(super) async fn login(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Login>,
) -> Result<JsonBytes, ApiError> {
    ok(&users::login(&state, body).await?)
}

pub(super) async fn me(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> Result<JsonBytes, ApiError> {
    Ok(JsonBytes(StatusCode::OK, users::me(&state, caller).await?))
}

pub(super) async fn patch_me(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(body): ApiJson<ProfilePatch>,
) -> Result<JsonBytes, ApiError> {
    ok(&users::patch_me(&state, caller, body).await?)
}
