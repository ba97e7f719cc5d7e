//! `/api/auth/*` and `/api/me`.

use axum::extract::State;
use axum::http::StatusCode;
use reelplan_domain::{validate, Email, Nickname, ValidationErrors};
use serde::Deserialize;

use super::ops::schemas as api_doc;
use crate::error::ApiError;
use crate::extract::{ApiJson, Caller, ClientAddress};
use crate::response::{created, ok, JsonBytes};
use crate::service::double_option;
use crate::service::users::{self, ValidLogin, ValidProfilePatch, ValidSignup};
use crate::state::AppState;

#[utoipa::path(
    post,
    path = "/api/auth/signup",
    tag = "account",
    summary = "Creates an account and signs in.",
    request_body = Signup,
    responses(
        (status = 201, description = "The new user and a token.", body = api_doc::SessionResult),
        (status = 409, description = "That email is already registered.", body = api_doc::ErrorBody),
        (status = 422, description = "A field breaks a rule (`fields` says which).", body = api_doc::ErrorBody),
        (status = 429, description = "Too many signups from this address.", body = api_doc::ErrorBody),
        (status = 503, description = "Every password hashing slot is busy; retry after `Retry-After`.", body = api_doc::ErrorBody),
    ),
)]
pub(super) async fn signup(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    ApiJson(body): ApiJson<Signup>,
) -> Result<JsonBytes, ApiError> {
    created(&users::signup(&state, address, body.parse()).await?)
}

#[utoipa::path(
    post,
    path = "/api/auth/login",
    tag = "account",
    summary = "Signs in with email and password.",
    request_body = Login,
    responses(
        (status = 200, description = "The user and a token.", body = api_doc::SessionResult),
        (status = 401, description = "Wrong email or password (a malformed email included).", body = api_doc::ErrorBody),
        (status = 429, description = "Too many failed logins from this address or for this email.", body = api_doc::ErrorBody),
        (status = 503, description = "Every password hashing slot is busy; retry after `Retry-After`.", body = api_doc::ErrorBody),
    ),
)]
pub(super) async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    ApiJson(body): ApiJson<Login>,
) -> Result<JsonBytes, ApiError> {
    ok(&users::login(&state, address, body.parse()?).await?)
}

#[utoipa::path(
    get,
    path = "/api/me",
    tag = "account",
    summary = "The caller's profile.",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller.", body = api_doc::UserResult),
    ),
)]
pub(super) async fn me(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> Result<JsonBytes, ApiError> {
    Ok(JsonBytes(StatusCode::OK, users::me(&state, caller).await?))
}

#[utoipa::path(
    patch,
    path = "/api/me",
    tag = "account",
    summary = "Changes the caller's nickname.",
    request_body = ProfilePatch,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed profile.", body = api_doc::UserResult),
        (status = 422, description = "A field breaks a rule (`fields` says which).", body = api_doc::ErrorBody),
    ),
)]
pub(super) async fn patch_me(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(body): ApiJson<ProfilePatch>,
) -> Result<JsonBytes, ApiError> {
    ok(&users::patch_me(&state, caller, body.parse()?).await?)
}

/// `POST /api/auth/signup` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = signup)]
#[serde(deny_unknown_fields)]
pub struct Signup {
    email: Option<String>,
    password: Option<String>,
    nickname: Option<String>,
}

/// `POST /api/auth/login` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = login)]
#[serde(deny_unknown_fields)]
pub struct Login {
    email: Option<String>,
    password: Option<String>,
}

/// `PATCH /api/me` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = profile_patch)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    #[serde(default, deserialize_with = "double_option")]
    nickname: Option<Option<String>>,
}

impl Signup {
    /// The signup, or every field's problem at once.
    pub fn parse(self) -> Result<ValidSignup, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let email =
            errors.check("email", validate::required(self.email.as_deref()).and_then(Email::parse));
        let password = errors.check(
            "password",
            validate::required(self.password.as_deref())
                .and_then(validate::password)
                .map(str::to_owned),
        );
        let nickname = errors.check(
            "nickname",
            validate::required(self.nickname.as_deref()).and_then(Nickname::parse),
        );
        errors.finish_with(|| {
            Some(ValidSignup { email: email?, password: password?, nickname: nickname? })
        })
    }
}

impl Login {
    /// The login, or every missing field at once.
    pub fn parse(self) -> Result<ValidLogin, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let email = errors.check("email", validate::required(self.email));
        let password = errors.check("password", validate::required(self.password));
        errors.finish_with(|| Some(ValidLogin { email: email?, password: password? }))
    }
}

impl ProfilePatch {
    /// The patch, or the nickname's problem (an explicit null is no nickname).
    pub fn parse(self) -> Result<ValidProfilePatch, ValidationErrors> {
        let nickname = self
            .nickname
            .map(|nickname| Nickname::parse(nickname.as_deref().unwrap_or_default()))
            .transpose()
            .map_err(|p| ValidationErrors::single("nickname", p))?;
        Ok(ValidProfilePatch { nickname })
    }
}
