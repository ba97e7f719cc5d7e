//! Projects: the caller's list, the detail, create, patch, delete and phase dates.

use bytes::{Bytes, BytesMut};
use reelplan_cache::{Kind, Scope};
use reelplan_domain::{
    validate, Action, Cursor, Phase, PhaseDates, ProjectId, Role, UserId, ValidationErrors,
};
use reelplan_store::{NewProject, ProjectDetail, ProjectFilter, ProjectPatch};
use serde::Deserialize;

use reelplan_store::stats::set_cache_outcome;

use super::{access, double_option, page, read_through, require, split_page, user_scopes};
use crate::cached::CachedDoc;
use crate::error::ApiError;
use crate::response::list_envelope;
use crate::state::AppState;

/// `GET /api/projects` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    q: Option<String>,
    active_from: Option<String>,
    active_to: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
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
#[expect(missing_docs, reason = "the phase names of API.md")]
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

fn query_time(
    raw: Option<&str>,
    name: &str,
) -> Result<Option<reelplan_domain::Timestamp>, ApiError> {
    raw.map(|t| validate::time(t).map_err(|p| ApiError::BadRequest(format!("{name} {p}"))))
        .transpose()
}

/// The caller's projects, as response bytes. One statement on a miss, none on a hit.
pub async fn list(state: &AppState, caller: UserId, query: ListQuery) -> Result<Bytes, ApiError> {
    let page = page(query.limit, query.cursor.as_deref(), 20)?;
    let q = query.q.map(|q| q.trim().to_owned()).filter(|q| !q.is_empty());
    // PostgreSQL cannot even compare a text with U+0000 in it (and no name holds one).
    if q.as_deref().is_some_and(|q| q.contains('\0')) {
        return Err(ApiError::BadRequest("q must not contain NUL characters".to_owned()));
    }
    let filter = ProjectFilter {
        q,
        active_from: query_time(query.active_from.as_deref(), "active_from")?,
        active_to: query_time(query.active_to.as_deref(), "active_to")?,
    };
    let key = format!(
        "{caller}:{}:{}:{:?}:{:?}:{}",
        page.limit,
        query.cursor.as_deref().unwrap_or(""),
        filter.active_from.map(|t| t.timestamp_micros()),
        filter.active_to.map(|t| t.timestamp_micros()),
        filter.q.as_deref().unwrap_or(""),
    );
    let load = || async {
        let rows = state.store.list_projects(caller, &filter, page).await?;
        let (rows, next) =
            split_page(rows, page, |p| Cursor { created: p.core.created, id: p.core.id.0 });
        let project_ids = rows.iter().map(|p| p.core.id.0).collect::<Vec<_>>().into();
        Ok(CachedDoc { body: list_envelope(&rows, next)?, access: None, project_ids })
    };
    let scopes = [Scope::User(caller.0)];
    let Some(view) = state.cache.view(&scopes).await else {
        set_cache_outcome("bypass");
        return Ok(load().await?.body);
    };
    let (doc, outcome) = state.cache.get_or_load(&view, Kind::ProjectList, &key, load).await?;
    if !outcome.is_hit() {
        set_cache_outcome("miss");
        return Ok(doc.body);
    }
    // A project deleted by someone else is refused even if this list was cached before the
    // delete could reach this user's generation.
    match state.cache.any_buried(&doc.project_ids).await {
        Some(false) => {
            set_cache_outcome("hit");
            Ok(doc.body)
        }
        Some(true) => {
            state.cache.forget(Kind::ProjectList, &key).await;
            set_cache_outcome("miss");
            let (doc, _) = state.cache.get_or_load(&view, Kind::ProjectList, &key, load).await?;
            Ok(doc.body)
        }
        None => {
            set_cache_outcome("bypass");
            Ok(load().await?.body)
        }
    }
}

/// `{"result": {"my_role": ..., <detail>}}` from the role-free cached detail.
fn with_role(detail: &[u8], role: Role) -> Bytes {
    let mut out = BytesMut::with_capacity(detail.len() + 40);
    out.extend_from_slice(b"{\"result\":{\"my_role\":\"");
    out.extend_from_slice(role.as_str().as_bytes());
    out.extend_from_slice(b"\",");
    out.extend_from_slice(&detail[1..]);
    out.extend_from_slice(b"}");
    out.freeze()
}

fn detail_doc(detail: &ProjectDetail) -> Result<CachedDoc, ApiError> {
    let body = serde_json::to_vec(detail).map_err(|_| ApiError::Internal)?;
    Ok(CachedDoc {
        body: body.into(),
        access: Some(detail.access().into()),
        project_ids: [].into(),
    })
}

/// A project's detail for the caller, as response bytes. One statement on a miss (the access
/// check uses the members it read), none on a hit.
pub async fn detail(state: &AppState, caller: UserId, id: ProjectId) -> Result<Bytes, ApiError> {
    let doc = read_through(
        state,
        &[Scope::Project(id.0)],
        Kind::ProjectDetail,
        &id.to_string(),
        || async {
            let detail = state.store.project_detail(id).await?.ok_or_else(ApiError::no_project)?;
            detail_doc(&detail)
        },
    )
    .await?;
    let access = doc.access.as_ref().ok_or(ApiError::Internal)?;
    let role = access.role_of(caller).ok_or_else(ApiError::no_project)?;
    Ok(with_role(&doc.body, role))
}

/// Reads the detail after a write committed, moves on every affected generation, and answers
/// with the caller's view of it. One statement.
async fn answer_after_write(
    state: &AppState,
    caller: UserId,
    id: ProjectId,
) -> Result<Bytes, ApiError> {
    let detail = state.store.project_detail(id).await?.ok_or_else(ApiError::no_project)?;
    let access = detail.access();
    let mut scopes = vec![Scope::Project(id.0)];
    scopes.extend(user_scopes(access.participants()));
    state.cache.invalidate(&scopes).await;
    let role = access.role_of(caller).ok_or_else(ApiError::no_project)?;
    Ok(with_role(&detail_doc(&detail)?.body, role))
}

fn dates(errors: &mut ValidationErrors, field: &str, input: Option<DatesInput>) -> PhaseDates {
    let input = input.unwrap_or_default();
    let start = format!("{field}start_date");
    let end = format!("{field}end_date");
    let start_date = input.start_date.and_then(|t| errors.check(&start, validate::time(&t)));
    let end_date = input.end_date.and_then(|t| errors.check(&end, validate::time(&t)));
    let dates = PhaseDates { start_date, end_date };
    errors.check(&start, validate::phase_dates(dates)).unwrap_or_default()
}

/// Creates a project owned by the caller. Two statements.
pub async fn create(
    state: &AppState,
    caller: UserId,
    body: CreateProject,
) -> Result<Bytes, ApiError> {
    let mut errors = ValidationErrors::default();
    let name = errors
        .check("name", validate::required(body.name.as_deref()).and_then(validate::project_name));
    let optional = |errors: &mut ValidationErrors,
                    field,
                    raw: Option<String>,
                    rule: fn(&str) -> Result<String, &'static str>| {
        errors.check(field, rule(raw.as_deref().unwrap_or_default())).unwrap_or_default()
    };
    let manager = optional(&mut errors, "manager", body.manager, validate::party);
    let consumer = optional(&mut errors, "consumer", body.consumer, validate::party);
    let description = optional(&mut errors, "description", body.description, validate::description);
    let color = body.color.and_then(|c| errors.check("color", validate::color(&c)));
    let p = body.phases.unwrap_or_default();
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
    let mut phases = [PhaseDates::default(); 8];
    for ((slot, phase), input) in phases.iter_mut().zip(Phase::ALL).zip(inputs) {
        *slot = dates(&mut errors, &format!("phases.{}.", phase.as_str()), input);
    }
    errors.finish()?;
    let project = NewProject {
        name: name.unwrap_or_default(),
        manager,
        consumer,
        description,
        color,
        phases,
    };
    let id = state.store.create_project(caller, &project).await?;
    answer_after_write(state, caller, id).await
}

/// Changes a project's fields (manager+). Three statements.
pub async fn patch(
    state: &AppState,
    caller: UserId,
    id: ProjectId,
    body: PatchProject,
) -> Result<Bytes, ApiError> {
    require(&access(state, id).await?, caller, Action::Manage)?;
    const NOT_NULL: &str = "must not be null";
    let mut errors = ValidationErrors::default();
    let mut text = |field: &str,
                    value: Option<Option<String>>,
                    rule: fn(&str) -> Result<String, &'static str>| {
        value.and_then(|v| errors.check(field, v.ok_or(NOT_NULL).and_then(|v| rule(&v))))
    };
    let name = text("name", body.name, validate::project_name);
    let manager = text("manager", body.manager, validate::party);
    let consumer = text("consumer", body.consumer, validate::party);
    let description = text("description", body.description, validate::description);
    let color = body.color.map(|c| c.and_then(|c| errors.check("color", validate::color(&c))));
    errors.finish()?;
    let patch = ProjectPatch { name, manager, consumer, description, color };
    if !state.store.update_project(id, &patch).await? {
        return Err(ApiError::no_project());
    }
    answer_after_write(state, caller, id).await
}

/// Sets one phase's dates (editor+). Three statements.
pub async fn put_phase(
    state: &AppState,
    caller: UserId,
    id: ProjectId,
    phase: &str,
    body: DatesInput,
) -> Result<Bytes, ApiError> {
    let phase = Phase::parse(phase).map_err(|_| ApiError::NotFound("no such phase"))?;
    require(&access(state, id).await?, caller, Action::Edit)?;
    let mut errors = ValidationErrors::default();
    let dates = dates(&mut errors, "", Some(body));
    errors.finish()?;
    if !state.store.set_phase(id, phase, dates).await? {
        return Err(ApiError::no_project());
    }
    answer_after_write(state, caller, id).await
}

/// Deletes a project (owner only), then its files' objects. Three statements: access, the
/// objects' keys (read first: the rows go with the project), delete.
pub async fn delete(state: &AppState, caller: UserId, id: ProjectId) -> Result<(), ApiError> {
    let access = access(state, id).await?;
    require(&access, caller, Action::Delete)?;
    let keys = state.store.project_file_keys(id).await?;
    if !state.store.delete_project(id).await? {
        return Err(ApiError::no_project());
    }
    let mut scopes = vec![Scope::Project(id.0), Scope::Thread(id.0), Scope::Access(id.0)];
    scopes.extend(user_scopes(access.participants()));
    state.cache.invalidate(&scopes).await;
    state.cache.bury(&[id.0]).await;
    super::files::remove_project_objects(state, keys).await;
    Ok(())
}
