//! `/api/projects` and a project's own fields and phases.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use reelplan_domain::{
    validate, Color, Description, Party, Phase, PhaseDates, ProjectId, ProjectName,
    ValidationErrors,
};
use reelplan_store::{NewProject, ProjectPatch};
use serde::Deserialize;

use super::ops::schemas as api_doc;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::response::{JsonBytes, Tagged};
use crate::service::double_option;
use crate::service::projects::{self, ListQuery};
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/api/projects",
    tag = "projects",
    summary = "The caller's projects (owner or member), newest first.",
    params(ListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of projects.", body = api_doc::ProjectList),
    ),
)]
pub(super) async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<JsonBytes, ApiError> {
    Ok(JsonBytes(StatusCode::OK, projects::list(&state, caller, query).await?))
}

#[utoipa::path(
    post,
    path = "/api/projects",
    tag = "projects",
    summary = "Creates a project; the caller becomes its owner.",
    request_body = CreateProject,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The new project.", body = api_doc::ProjectDetailResult),
        (status = 422, description = "A field breaks a rule (`fields` says which).", body = api_doc::ErrorBody),
    ),
)]
pub(super) async fn create(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(body): ApiJson<CreateProject>,
) -> Result<JsonBytes, ApiError> {
    Ok(JsonBytes(StatusCode::CREATED, projects::create(&state, caller, body.parse()?).await?))
}

#[utoipa::path(
    get,
    path = "/api/projects/{id}",
    tag = "projects",
    summary = "A project's detail (members only).",
    params(("id" = i64, Path, description = "The project's id.")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The project.", body = api_doc::ProjectDetailResult),
        (status = 404, description = "No such project (or the caller is not a member), or no such object.", body = api_doc::ErrorBody),
    ),
)]
pub(super) async fn detail(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<ProjectId>,
) -> Result<JsonBytes, ApiError> {
    Ok(JsonBytes(StatusCode::OK, projects::detail(&state, caller, id).await?))
}

#[utoipa::path(
    patch,
    path = "/api/projects/{id}",
    tag = "projects",
    summary = "Changes a project's fields (manager+).",
    params(("id" = i64, Path, description = "The project's id."), ("If-Match" = Option<String>, Header, description = "The detail's ETag: 412 and nothing written if the project changed since.")), request_body = PatchProject,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed project.", body = api_doc::ProjectDetailResult),
        (status = 403, description = "The caller's role does not allow this.", body = api_doc::ErrorBody),
        (status = 404, description = "No such project (or the caller is not a member), or no such object.", body = api_doc::ErrorBody),
        (status = 422, description = "A field breaks a rule (`fields` says which).", body = api_doc::ErrorBody),
    ),
)]
pub(super) async fn patch(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<ProjectId>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PatchProject>,
) -> Result<Tagged, ApiError> {
    let if_match = headers.get(header::IF_MATCH).cloned();
    Ok(Tagged::ok(projects::patch(&state, caller, id, body.parse(), if_match).await?))
}

#[utoipa::path(
    delete,
    path = "/api/projects/{id}",
    tag = "projects",
    summary = "Deletes a project with everything in it (owner only).",
    params(("id" = i64, Path, description = "The project's id.")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, description = "The caller's role does not allow this.", body = api_doc::ErrorBody),
        (status = 404, description = "No such project (or the caller is not a member), or no such object.", body = api_doc::ErrorBody),
    ),
)]
pub(super) async fn delete(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<ProjectId>,
) -> Result<StatusCode, ApiError> {
    projects::delete(&state, caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    put,
    path = "/api/projects/{id}/phases/{phase}",
    tag = "projects",
    summary = "Sets one phase's dates (editor+).",
    params(("id" = i64, Path, description = "The project's id."), ("phase" = String, Path, description = "One of the eight phase names; any other is 404."), ("If-Match" = Option<String>, Header, description = "The detail's ETag: 412 and nothing written if the project changed since.")), request_body = DatesInput,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed project.", body = api_doc::ProjectDetailResult),
        (status = 403, description = "The caller's role does not allow this.", body = api_doc::ErrorBody),
        (status = 404, description = "No such project (or the caller is not a member), or no such object.", body = api_doc::ErrorBody),
        (status = 422, description = "A field breaks a rule (`fields` says which).", body = api_doc::ErrorBody),
    ),
)]
pub(super) async fn put_phase(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath((id, phase)): ApiPath<(ProjectId, Phase)>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<DatesInput>,
) -> Result<Tagged, ApiError> {
    let if_match = headers.get(header::IF_MATCH).cloned();
    Ok(Tagged::ok(projects::put_phase(&state, caller, id, phase, body.parse(), if_match).await?))
}

/// One phase's dates as sent.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[schema(as = phase_dates)]
#[serde(deny_unknown_fields)]
pub struct DatesInput {
    start_date: Option<String>,
    end_date: Option<String>,
}

/// All phases as sent at creation; unknown phase names are unknown fields (400).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[schema(as = phases_input)]
#[serde(deny_unknown_fields)]
pub struct PhasesInput {
    pub basic_plan: Option<DatesInput>,
    pub story_board: Option<DatesInput>,
    pub filming: Option<DatesInput>,
    pub video_edit: Option<DatesInput>,
    pub post_work: Option<DatesInput>,
    pub video_preview: Option<DatesInput>,
    pub confirmation: Option<DatesInput>,
    pub video_delivery: Option<DatesInput>,
}

/// `POST /api/projects` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = create_project)]
#[serde(deny_unknown_fields)]
pub struct CreateProject {
    name: Option<String>,
    manager: Option<String>,
    consumer: Option<String>,
    description: Option<String>,
    color: Option<String>,
    phases: Option<PhasesInput>,
}

/// `PATCH /api/projects/{id}` body: absent fields stay; only `color` may be null.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = patch_project)]
#[serde(deny_unknown_fields)]
pub struct PatchProject {
    #[serde(default, deserialize_with = "double_option")]
    name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    manager: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    consumer: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    description: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    color: Option<Option<String>>,
}

impl CreateProject {
    /// The new project (absent texts empty), or every field's problem at once.
    pub fn parse(self) -> Result<NewProject, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let name = errors
            .check("name", validate::required(self.name.as_deref()).and_then(ProjectName::parse));
        let manager = errors.check("manager", Party::parse(self.manager.as_deref().unwrap_or("")));
        let consumer =
            errors.check("consumer", Party::parse(self.consumer.as_deref().unwrap_or("")));
        let description = errors
            .check("description", Description::parse(self.description.as_deref().unwrap_or("")));
        let color = self.color.map(|c| errors.check("color", Color::parse(&c)));
        let p = self.phases.unwrap_or_default();
        let inputs = [
            p.basic_plan,
            p.story_board,
            p.filming,
            p.video_edit,
            p.post_work,
            p.video_preview,
            p.confirmation,
            p.video_delivery,
        ];
        let phases: Vec<Option<PhaseDates>> = Phase::ALL
            .into_iter()
            .zip(inputs)
            .map(|(phase, input)| dates(&mut errors, &format!("phases.{}.", phase.as_str()), input))
            .collect();
        errors.finish_with(|| {
            let mut checked = [PhaseDates::default(); 8];
            for (slot, dates) in checked.iter_mut().zip(phases) {
                *slot = dates?;
            }
            Some(NewProject {
                name: name?,
                manager: manager?,
                consumer: consumer?,
                description: description?,
                color: color.map(|c| c.ok_or(())).transpose().ok()?,
                phases: checked,
            })
        })
    }
}

impl PatchProject {
    /// The patch, or every field's problem at once (only `color` may be null).
    pub fn parse(self) -> Result<ProjectPatch, ValidationErrors> {
        const NOT_NULL: &str = "must not be null";
        let mut errors = ValidationErrors::default();
        /// A field that is absent (None), or checked: Some(None) when it broke its rule.
        fn text<T>(
            errors: &mut ValidationErrors,
            field: &str,
            value: Option<Option<String>>,
            rule: fn(&str) -> Result<T, &'static str>,
        ) -> Option<Option<T>> {
            value.map(|v| errors.check(field, v.ok_or(NOT_NULL).and_then(|v| rule(&v))))
        }
        let name = text(&mut errors, "name", self.name, ProjectName::parse);
        let manager = text(&mut errors, "manager", self.manager, Party::parse);
        let consumer = text(&mut errors, "consumer", self.consumer, Party::parse);
        let description = text(&mut errors, "description", self.description, Description::parse);
        let color = self.color.map(|c| c.map(|c| errors.check("color", Color::parse(&c))));
        errors.finish_with(|| {
            Some(ProjectPatch {
                name: name.map(|v| v.ok_or(())).transpose().ok()?,
                manager: manager.map(|v| v.ok_or(())).transpose().ok()?,
                consumer: consumer.map(|v| v.ok_or(())).transpose().ok()?,
                description: description.map(|v| v.ok_or(())).transpose().ok()?,
                color: match color {
                    None => None,
                    Some(None) => Some(None),
                    Some(Some(c)) => Some(Some(c?)),
                },
            })
        })
    }
}

impl DatesInput {
    /// The phase's dates, or their problems.
    pub fn parse(self) -> Result<PhaseDates, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let dates = dates(&mut errors, "", Some(self));
        errors.finish_with(|| dates)
    }
}

/// A phase's dates, checked under `field` (a prefix of `start_date` and `end_date`); None when
/// they broke a rule.
fn dates(
    errors: &mut ValidationErrors,
    field: &str,
    input: Option<DatesInput>,
) -> Option<PhaseDates> {
    let input = input.unwrap_or_default();
    let start = format!("{field}start_date");
    let end = format!("{field}end_date");
    let start_date = input.start_date.and_then(|t| errors.check(&start, validate::time(&t)));
    let end_date = input.end_date.and_then(|t| errors.check(&end, validate::time(&t)));
    let dates = PhaseDates { start_date, end_date };
    errors.check(&start, validate::phase_dates(dates))
}
