//! Users: sign-up, login, profile, and what a profile change touches.

use async_trait::async_trait;
use reelplan_domain::{Email, Nickname, ProjectId, UserId};
use reelplan_store::stats::run;
use reelplan_store::{Credentials, Footprint, StoreResult, User, Users};
use serde::Deserialize;

use super::{fetch_doc, now, time};
use crate::SqliteStore;

/// `id, email, nickname, created` of a user row.
type UserRow = (i64, String, String, i64);

fn user(row: UserRow) -> StoreResult<User> {
    let (id, email, nickname, created) = row;
    Ok(User { id: UserId(id), email, nickname, created: time(created)? })
}

/// Inserts a user: ?1 email, ?2 nickname, ?3 hash, ?4 now. A taken email is a unique
/// violation, hence `Conflict`.
pub const CREATE: &str = "
    INSERT INTO users (email, nickname, password_hash, created, updated)
    VALUES (?1, ?2, ?3, ?4, ?4)
    RETURNING id, email, nickname, created";

/// The user with email ?1 and their hash.
pub const CREDENTIALS: &str = "
    SELECT id, email, nickname, created, password_hash FROM users WHERE email = ?1";

/// The user with id ?1.
pub const BY_ID: &str = "SELECT id, email, nickname, created FROM users WHERE id = ?1";

/// Sets user ?1's nickname to ?2 at ?3.
pub const SET_NICKNAME: &str = "
    UPDATE users SET nickname = ?2, updated = ?3 WHERE id = ?1
    RETURNING id, email, nickname, created";

/// `{projects, list_viewers}` of user ?1 (see `Footprint`): the projects they own, belong to
/// or wrote in; the owners and members of the projects they own.
pub const FOOTPRINT: &str = "
    SELECT json_object(
        'projects', json((
            SELECT json_group_array(project_id ORDER BY project_id) FROM (
                SELECT id AS project_id FROM projects WHERE owner_id = ?1
                UNION SELECT project_id FROM members WHERE user_id = ?1
                UNION SELECT project_id FROM comments WHERE user_id = ?1
                UNION SELECT project_id FROM messages WHERE user_id = ?1))),
        'list_viewers', json((
            SELECT json_group_array(user_id ORDER BY user_id) FROM (
                SELECT owner_id AS user_id FROM projects WHERE owner_id = ?1
                UNION SELECT m.user_id FROM projects p JOIN members m ON m.project_id = p.id
                      WHERE p.owner_id = ?1))))";

#[derive(Deserialize)]
struct FootprintDoc {
    projects: Vec<ProjectId>,
    list_viewers: Vec<UserId>,
}

#[async_trait]
impl Users for SqliteStore {
    async fn create_user(
        &self,
        email: &Email,
        nickname: &Nickname,
        hash: &str,
    ) -> StoreResult<User> {
        let query = sqlx::query_as::<_, UserRow>(CREATE)
            .bind(email.as_str())
            .bind(nickname.as_str())
            .bind(hash)
            .bind(now());
        user(run(CREATE, query.fetch_one(&self.pool)).await?)
    }

    async fn credentials(&self, email: &Email) -> StoreResult<Option<Credentials>> {
        let query = sqlx::query_as::<_, (i64, String, String, i64, String)>(CREDENTIALS)
            .bind(email.as_str());
        run(CREDENTIALS, query.fetch_optional(&self.pool))
            .await?
            .map(|(id, email, nickname, created, password_hash)| {
                Ok(Credentials { user: user((id, email, nickname, created))?, password_hash })
            })
            .transpose()
    }

    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        let query = sqlx::query_as::<_, UserRow>(BY_ID).bind(id.0);
        run(BY_ID, query.fetch_optional(&self.pool)).await?.map(user).transpose()
    }

    async fn set_nickname(&self, id: UserId, nickname: &Nickname) -> StoreResult<Option<User>> {
        let query = sqlx::query_as::<_, UserRow>(SET_NICKNAME)
            .bind(id.0)
            .bind(nickname.as_str())
            .bind(now());
        run(SET_NICKNAME, query.fetch_optional(&self.pool)).await?.map(user).transpose()
    }

    async fn footprint(&self, id: UserId) -> StoreResult<Footprint> {
        let doc: FootprintDoc = fetch_doc(&self.pool, FOOTPRINT, |q| q.bind(id.0)).await?;
        Ok(Footprint { projects: doc.projects, list_viewers: doc.list_viewers })
    }
}
