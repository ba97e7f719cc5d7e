//! Members: add, change role, remove (or leave). Only the owner touches managers.

use axum::http::HeaderValue;
use reelplan_cache::Scope;
use reelplan_domain::{Action, Email, MemberId, ProjectId, Role, UserId, ValidationErrors};
use reelplan_store::{Event, Member, ProjectAccess, Recorded};

use super::project_docs::read_back;
use super::projects::detail;
use super::{access, check_if_match, list_scopes, refused, settle};
use crate::error::{ApiError, ResultExt};
use crate::etag::etag_of;
use crate::state::AppState;

const ALREADY_A_MEMBER: &str = "that user is already part of this project";

/// An `AddMember` body whose fields keep their rules.
#[derive(Debug)]
pub struct ValidMember {
    pub(crate) email: Email,
    pub(crate) role: Role,
}

/// What a membership change moves on: the project (its summary shows `member_count`, its
/// detail the members), its access list, and the memberships and filtered lists of the member
/// whose role changed.
fn membership_scopes(project: ProjectId, member: UserId) -> Vec<Scope> {
    vec![
        Scope::Project(project.0),
        Scope::Access(project.0),
        Scope::Memberships(member.0),
        Scope::Lists(member.0),
    ]
}

/// After a member joined or left: moves on [`membership_scopes`] and the filtered lists of
/// every participant the write knew of (`member_count` shows in all of them), then reads the
/// detail back to fill the project's documents, and moves on the filtered lists of any
/// participant it did not know of; then publishes the write's event. One statement.
async fn after_join_or_leave(
    state: &AppState,
    project: ProjectId,
    member: UserId,
    known: &ProjectAccess,
    event: Event,
) -> Result<(), ApiError> {
    let mut scopes = membership_scopes(project, member);
    scopes.extend(list_scopes(known.participants()));
    let late: Vec<Scope> = match read_back(state, project, &scopes).await? {
        Some((detail, _)) => list_scopes(detail.access().participants())
            .filter(|scope| !scopes.contains(scope))
            .collect(),
        None => Vec::new(),
    };
    settle(state, &late, event).await;
    Ok(())
}

/// Adds a member (manager+; manager role by the owner only). Three statements.
#[tracing::instrument(level = "debug", skip_all, fields(project = project.0))]
pub async fn add(
    state: &AppState,
    caller: UserId,
    project: ProjectId,
    body: Result<ValidMember, ValidationErrors>,
) -> Result<Member, ApiError> {
    // The access list is read even for an invalid body, so that a non-participant hears 404;
    // without a valid email it looks up nobody.
    let email = match &body {
        Ok(member) => member.email.as_str(),
        Err(_) => "",
    };
    let (access, target) =
        state.store.invite_context(project, email).await?.ok_or_else(ApiError::no_project)?;
    let caller_role = access.role_of(caller).ok_or_else(ApiError::no_project)?;
    let ValidMember { role, .. } = body?;
    if !caller_role.may_manage_member(None, Some(role)) {
        return Err(ApiError::Forbidden);
    }
    let user = target.ok_or(ApiError::NotFound("no user has that email"))?;
    if access.role_of(user.id).is_some() {
        return Err(ApiError::Conflict(ALREADY_A_MEMBER));
    }
    let added = state
        .store
        .add_member(project, &user, role, caller)
        .await
        .conflict_means(ALREADY_A_MEMBER)
        .gone_means_no_project()?;
    // Refused by the insert's own check: the caller's role changed since the first read.
    let Some(Recorded { value: member, event }) = added else {
        return Err(refused(state, project, caller, Action::Manage).await);
    };
    after_join_or_leave(state, project, user.id, &access, event).await?;
    Ok(member)
}

/// Changes a member's role (manager+; managers by the owner only), if `If-Match` (when sent)
/// still holds the caller's detail ETag, and answers with the detail's new ETag. Two
/// statements: the update, which checks who may make the change (a refusal reads the access
/// list to say why), and the read-back; one more to check `If-Match` on a cold detail.
#[tracing::instrument(level = "debug", skip_all, fields(project = project.0))]
pub async fn patch(
    state: &AppState,
    caller: UserId,
    project: ProjectId,
    id: MemberId,
    body: Result<Role, ValidationErrors>,
    if_match: Option<HeaderValue>,
) -> Result<(Member, HeaderValue), ApiError> {
    let role = match body {
        Ok(role) => role,
        Err(errors) => {
            // A non-member learns nothing from the body's validation.
            access(state, project).await?.role_of(caller).ok_or_else(ApiError::no_project)?;
            return Err(errors.into());
        }
    };
    check_if_match(if_match.as_ref(), || detail(state, caller, project)).await?;
    let changed = state.store.set_member_role(project, id, role, caller).await?;
    let Some(Recorded { value: member, event }) = changed else {
        let access = access(state, project).await?;
        access.role_of(caller).ok_or_else(ApiError::no_project)?;
        // The member exists, so the update refused the caller (at the moment it ran).
        access.member(id).ok_or(ApiError::NotFound("no such member"))?;
        return Err(ApiError::Forbidden);
    };
    settle(state, &membership_scopes(project, member.user_id), event).await;
    // The write answers with the detail's new ETag (the one a next `If-Match` sends), read
    // back and filled for the next reader.
    let (_, docs) = read_back(state, project, &[]).await?.ok_or_else(ApiError::no_project)?;
    Ok((member, etag_of(&docs.respond(caller)?)))
}

/// Removes a member (manager+; managers by the owner only), or lets a member leave. Two
/// statements: the delete (which checks who may), and the read-back.
#[tracing::instrument(level = "debug", skip_all, fields(project = project.0))]
pub async fn remove(
    state: &AppState,
    caller: UserId,
    project: ProjectId,
    id: MemberId,
) -> Result<(), ApiError> {
    let Some(Recorded { value: removed, event }) =
        state.store.remove_member(project, id, caller).await?
    else {
        // Refused or absent: the access list (on this path only) says which.
        let access = access(state, project).await?;
        let caller_role = access.role_of(caller).ok_or_else(ApiError::no_project)?;
        let target = access.member(id).ok_or(ApiError::NotFound("no such member"))?;
        let allowed =
            target.user_id == caller || caller_role.may_manage_member(Some(target.role), None);
        return Err(if allowed {
            ApiError::NotFound("no such member")
        } else {
            ApiError::Forbidden
        });
    };
    let nobody = ProjectAccess { owner_id: removed, members: Vec::new() };
    after_join_or_leave(state, project, removed, &nobody, event).await
}
