//! Signup, login and the caller's own profile.

use std::net::IpAddr;

use reelplan_cache::{Key, Kind, Scope, Want};
use reelplan_domain::{Email, Nickname, UserId, ValidationErrors};
use reelplan_store::User;
use serde::Serialize;

use super::{list_scopes, read_through};
use crate::cached::{Body, Doc};
use crate::error::{ApiError, ResultExt};
use crate::response::envelope;
use crate::state::AppState;

/// A `Signup` body whose fields keep their rules.
#[derive(Debug)]
pub struct ValidSignup {
    pub(crate) email: Email,
    pub(crate) password: String,
    pub(crate) nickname: Nickname,
}

/// A `Login` body with both fields given (the email as typed: any text is a wrong login, 401).
#[derive(Debug)]
pub struct ValidLogin {
    pub(crate) email: String,
    pub(crate) password: String,
}

/// A `ProfilePatch` body whose fields keep their rules: None leaves the nickname as it is.
#[derive(Debug)]
pub struct ValidProfilePatch {
    pub(crate) nickname: Option<Nickname>,
}

/// `{user, token}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = session)]
pub struct Session {
    user: User,
    token: String,
}

/// Creates an account. One statement. The signup counts against its client address before
/// anything else (the password hash is the expensive part): 429 when that budget is spent.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn signup(
    state: &AppState,
    address: Option<IpAddr>,
    body: Result<ValidSignup, ValidationErrors>,
) -> Result<Session, ApiError> {
    state.login_limiter.signup(address).await.map_err(|retry_after| ApiError::RateLimited {
        message: "too many signups from this address; try again later",
        retry_after,
    })?;
    let ValidSignup { email, password, nickname } = body?;
    let hash = state.auth.hash_password(password).await?;
    let user = state
        .store
        .create_user(&email, &nickname, &hash)
        .await
        .conflict_means("that email is already registered")?;
    let token = state.auth.issue(user.id)?;
    Ok(Session { user, token })
}

/// Checks credentials. One statement.
///
/// The attempt takes its place in the email's and the address's budgets before the password
/// is checked (429 when either is spent), and gives it back unless the answer is 401: see
/// [`crate::ratelimit`].
#[tracing::instrument(level = "debug", skip_all)]
pub async fn login(
    state: &AppState,
    address: Option<IpAddr>,
    body: ValidLogin,
) -> Result<Session, ApiError> {
    let ValidLogin { email, password } = body;
    // Only a valid address can be registered (signup validates it), so anything else is an
    // unknown email without asking the database or keying a budget on it: no over-long text
    // (or U+0000, which PostgreSQL cannot compare) reaches either. Still a 401, like any
    // wrong login.
    let email = crate::ratelimit::login_key(&email);
    let limiter = &state.login_limiter;
    let attempt = limiter.attempt(email.as_ref().map(Email::as_str), address).await.map_err(
        |retry_after| ApiError::RateLimited {
            message: "too many failed logins; try again later",
            retry_after,
        },
    )?;
    let outcome = check_credentials(state, email, password).await;
    if !matches!(outcome, Err(ApiError::Unauthenticated(_))) {
        limiter.refund(attempt).await;
    }
    outcome
}

/// The session of the account with this (normalised) email and password; 401 otherwise.
async fn check_credentials(
    state: &AppState,
    email: Option<Email>,
    password: String,
) -> Result<Session, ApiError> {
    const WRONG: ApiError = ApiError::Unauthenticated("wrong email or password");
    let credentials = match email {
        Some(email) => state.store.credentials(&email).await?,
        None => None,
    };
    // Verify against a real hash even for an unknown email, so timing does not tell.
    let (user, hash) = match credentials {
        Some(c) => (Some(c.user), c.password_hash),
        None => (None, state.auth.dummy_hash().to_owned()),
    };
    let matches = state.auth.verify_password(password, hash).await?;
    match user {
        Some(user) if matches => {
            let token = state.auth.issue(user.id)?;
            Ok(Session { user, token })
        }
        _ => Err(WRONG),
    }
}

/// The caller's profile, as response bytes. One statement on a miss, none on a hit.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn me(state: &AppState, caller: UserId) -> Result<bytes::Bytes, ApiError> {
    let doc = Doc::new(Want::new(Key::new(Kind::UserProfile, caller.0), Scope::User(caller.0)));
    let Body(body) = read_through(state, &doc, || async {
        let user =
            state.store.user(caller).await?.ok_or(ApiError::Unauthenticated("no such user"))?;
        Ok(Body(envelope(&user)?))
    })
    .await?;
    Ok(body)
}

/// Changes the caller's nickname. Two statements: the update, then (after it committed) what
/// shows the user, whose cached documents all move on.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn patch_me(
    state: &AppState,
    caller: UserId,
    body: ValidProfilePatch,
) -> Result<User, ApiError> {
    let Some(nickname) = body.nickname else {
        return state.store.user(caller).await?.ok_or(ApiError::Unauthenticated("no such user"));
    };
    let user = state
        .store
        .set_nickname(caller, &nickname)
        .await?
        .ok_or(ApiError::Unauthenticated("no such user"))?;
    let footprint = state.store.footprint(caller).await?;
    let mut scopes: Vec<Scope> = list_scopes(footprint.list_viewers).collect();
    scopes.push(Scope::User(caller.0));
    for project in footprint.projects {
        scopes.extend([Scope::Project(project.0), Scope::Thread(project.0)]);
    }
    state.cache.invalidate(&scopes).await;
    Ok(user)
}
