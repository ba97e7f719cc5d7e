//! `/api/projects/{id}/members`.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use reelplan_domain::{validate, Email, MemberId, ProjectId, Role, ValidationErrors};
use serde::Deserialize;

use super::ops::schemas as api_doc;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::response::{created, JsonBytes, Tagged};
use crate::service::members::{self, ValidMember};
use crate::state::AppState;

#[utoipa::path(
    post,
    path = "/api/projects/{id}/members",
    tag = "members",
    summary = "Adds a member by email (manager+; the manager role by the owner only).",
    params(("id" = i64, Path, description = "The project's id.")), request_body = AddMember,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The new member.", body = api_doc::MemberResult),
        (status = 403, description = "The caller's role does not allow this.", body = api_doc::ErrorBody),
        (status = 404, description = "No such project (or the caller is not a member), or no such object.", body = api_doc::ErrorBody),
        (status = 409, description = "Already a member, or the owner.", body = api_doc::ErrorBody),
        (status = 422, description = "A field breaks a rule (`fields` says which).", body = api_doc::ErrorBody),
    ),
)]
pub(super) async fn add(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<ProjectId>,
    ApiJson(body): ApiJson<AddMember>,
) -> Result<JsonBytes, ApiError> {
    created(&members::add(&state, caller, id, body.parse()).await?)
}

#[utoipa::path(
    patch,
    path = "/api/projects/{id}/members/{member_id}",
    tag = "members",
    summary = "Changes a member's role (manager+; managers by the owner only).",
    params(("id" = i64, Path, description = "The project's id."), ("member_id" = i64, Path, description = "The membership's id."), ("If-Match" = Option<String>, Header, description = "The project detail's ETag: 412 and nothing written if the project changed since.")), request_body = PatchMember,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed member.", body = api_doc::MemberResult),
        (status = 403, description = "The caller's role does not allow this.", body = api_doc::ErrorBody),
        (status = 404, description = "No such project (or the caller is not a member), or no such object.", body = api_doc::ErrorBody),
        (status = 422, description = "A field breaks a rule (`fields` says which).", body = api_doc::ErrorBody),
    ),
)]
pub(super) async fn patch(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath((id, member)): ApiPath<(ProjectId, MemberId)>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PatchMember>,
) -> Result<Tagged, ApiError> {
    let if_match = headers.get(header::IF_MATCH).cloned();
    let (member, tag) = members::patch(&state, caller, id, member, body.parse(), if_match).await?;
    Tagged::with(&member, tag)
}

#[utoipa::path(
    delete,
    path = "/api/projects/{id}/members/{member_id}",
    tag = "members",
    summary = "Removes a member (manager+), or lets a member leave.",
    params(("id" = i64, Path, description = "The project's id."), ("member_id" = i64, Path, description = "The membership's id.")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed."),
        (status = 403, description = "The caller's role does not allow this.", body = api_doc::ErrorBody),
        (status = 404, description = "No such project (or the caller is not a member), or no such object.", body = api_doc::ErrorBody),
    ),
)]
pub(super) async fn remove(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath((id, member)): ApiPath<(ProjectId, MemberId)>,
) -> Result<StatusCode, ApiError> {
    members::remove(&state, caller, id, member).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/projects/{id}/members` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = add_member)]
#[serde(deny_unknown_fields)]
pub struct AddMember {
    email: Option<String>,
    role: Option<String>,
}

/// `PATCH /api/projects/{id}/members/{member_id}` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = patch_member)]
#[serde(deny_unknown_fields)]
pub struct PatchMember {
    role: Option<String>,
}

impl AddMember {
    /// The member to add, or every field's problem at once.
    pub fn parse(self) -> Result<ValidMember, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let email =
            errors.check("email", validate::required(self.email.as_deref()).and_then(Email::parse));
        let role = errors.check("role", member_role(self.role.as_deref()));
        errors.finish_with(|| Some(ValidMember { email: email?, role: role? }))
    }
}

impl PatchMember {
    /// The new role, or its problem.
    pub fn parse(self) -> Result<Role, ValidationErrors> {
        member_role(self.role.as_deref()).map_err(|p| ValidationErrors::single("role", p))
    }
}

fn member_role(raw: Option<&str>) -> Result<Role, &'static str> {
    validate::required(raw)?;
    raw.and_then(Role::parse)
        .filter(|r| r.is_assignable())
        .ok_or("must be viewer, editor or manager")
}
