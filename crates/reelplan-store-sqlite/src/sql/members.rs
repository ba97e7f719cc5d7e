//! Members and access: who takes part in a project, with which role.

use reelplan_domain::{MemberId, ProjectId, Role, UserId};
use reelplan_store::stats::run;
use reelplan_store::{Member, ProjectAccess, StoreResult, UserRef};
use serde::Deserialize;
use sqlx::SqlitePool;

use super::parse_opt;
use crate::{now, time};

pub(crate) const ACCESS: &str =
    concat!("SELECT ", access_json!(), " FROM projects p WHERE p.id = ?1");

/// The owner and members of a project; None when it does not exist.
pub async fn access(pool: &SqlitePool, id: ProjectId) -> StoreResult<Option<ProjectAccess>> {
    let query = sqlx::query_scalar::<_, String>(ACCESS).bind(id.0);
    parse_opt(run(ACCESS, query.fetch_optional(pool)).await?)
}

pub(crate) const INVITE_CONTEXT: &str = concat!(
    "SELECT json_object('access', ",
    access_json!(),
    ", 'user', json((SELECT ",
    user_ref_json!(),
    " FROM users u WHERE u.email = ?2)))
    FROM projects p WHERE p.id = ?1"
);

#[derive(Deserialize)]
struct InviteDoc {
    access: ProjectAccess,
    user: Option<UserRef>,
}

/// The access list and the user with `email`; None when the project does not exist.
pub async fn invite_context(
    pool: &SqlitePool,
    id: ProjectId,
    email: &str,
) -> StoreResult<Option<(ProjectAccess, Option<UserRef>)>> {
    let query = sqlx::query_scalar::<_, String>(INVITE_CONTEXT).bind(id.0).bind(email);
    let doc: Option<InviteDoc> = parse_opt(run(INVITE_CONTEXT, query.fetch_optional(pool)).await?)?;
    Ok(doc.map(|doc| (doc.access, doc.user)))
}

const ADD: &str = "
    INSERT INTO members (project_id, user_id, role, created)
    SELECT ?1, ?2, ?3, ?4
    WHERE EXISTS (SELECT 1 FROM projects p WHERE p.id = ?1 AND p.owner_id = ?5)
       OR (?3 <> 'manager' AND EXISTS (
            SELECT 1 FROM members c WHERE c.project_id = ?1 AND c.user_id = ?5 AND c.role = 'manager'))
    RETURNING id, created";

/// Adds a member if `by` is the owner, or a manager and the role is not manager; None
/// otherwise or when the project is gone; `Conflict` when already one.
pub async fn add(
    pool: &SqlitePool,
    project: ProjectId,
    user: &UserRef,
    role: Role,
    by: UserId,
) -> StoreResult<Option<Member>> {
    let query = sqlx::query_as::<_, (i64, i64)>(ADD)
        .bind(project.0)
        .bind(user.id.0)
        .bind(role.as_str())
        .bind(now())
        .bind(by.0);
    let Some((id, created)) = run(ADD, query.fetch_optional(pool)).await? else {
        return Ok(None);
    };
    Ok(Some(Member {
        id: MemberId(id),
        user_id: user.id,
        email: user.email.clone(),
        nickname: user.nickname.clone(),
        role,
        created: time(created)?,
    }))
}

const SET_ROLE: &str = "
    UPDATE members SET role = ?3
    WHERE id = ?2 AND project_id = ?1 AND (
        EXISTS (SELECT 1 FROM projects p WHERE p.id = ?1 AND p.owner_id = ?4)
        OR (?3 <> 'manager' AND role <> 'manager' AND EXISTS (
            SELECT 1 FROM members c
            WHERE c.project_id = ?1 AND c.user_id = ?4 AND c.role = 'manager')))
    RETURNING json_object(
        'id', id, 'user_id', user_id,
        'email', (SELECT email FROM users WHERE users.id = members.user_id),
        'nickname', (SELECT nickname FROM users WHERE users.id = members.user_id),
        'role', role, 'created', created)";

/// Changes a member's role if `by` may (the owner, or a manager when neither the current
/// role nor the new one is manager); None otherwise or when there is no such member.
pub async fn set_role(
    pool: &SqlitePool,
    project: ProjectId,
    member: MemberId,
    role: Role,
    by: UserId,
) -> StoreResult<Option<Member>> {
    let query = sqlx::query_scalar::<_, String>(SET_ROLE)
        .bind(project.0)
        .bind(member.0)
        .bind(role.as_str())
        .bind(by.0);
    parse_opt(run(SET_ROLE, query.fetch_optional(pool)).await?)
}

const REMOVE: &str = "
    DELETE FROM members
    WHERE id = ?2 AND project_id = ?1 AND (
        user_id = ?3
        OR EXISTS (SELECT 1 FROM projects p WHERE p.id = ?1 AND p.owner_id = ?3)
        OR (role <> 'manager' AND EXISTS (
            SELECT 1 FROM members c
            WHERE c.project_id = ?1 AND c.user_id = ?3 AND c.role = 'manager')))
    RETURNING user_id";

/// Removes a member; false when there is no such member of this project.
pub async fn remove(
    pool: &SqlitePool,
    project: ProjectId,
    member: MemberId,
    by: UserId,
) -> StoreResult<Option<UserId>> {
    let query = sqlx::query_scalar::<_, i64>(REMOVE).bind(project.0).bind(member.0).bind(by.0);
    Ok(run(REMOVE, query.fetch_optional(pool)).await?.map(UserId))
}
