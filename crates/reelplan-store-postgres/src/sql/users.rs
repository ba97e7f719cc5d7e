//! Users: sign-up, login, profile, and what a profile change touches.

use async_trait::async_trait;
use reelplan_domain::{Email, Nickname, ProjectId, UserId};
use reelplan_store::stats::run;
use reelplan_store::{Credentials, Footprint, StoreResult, User, Users};

use super::{fetch_doc, fetch_opt_doc, now};
use crate::PgStore;

/// The `user` document of the row aliased `u`.
macro_rules! user_doc {
    () => {
        "json_build_object('id', u.id, 'email', u.email, 'nickname', u.nickname,
                           'created', rp_us(u.created))::text"
    };
}

/// Inserts a user: $1 email, $2 nickname, $3 hash, $4 now. A taken email is a unique
/// violation, hence `Conflict`.
pub const CREATE: &str = concat!(
    "INSERT INTO users AS u (email, nickname, password_hash, created, updated)
     VALUES ($1::text, $2::text, $3::text, $4::timestamptz, $4::timestamptz)
     RETURNING ",
    user_doc!()
);

/// The user with email $1 and their hash.
pub const CREDENTIALS: &str =
    concat!("SELECT ", user_doc!(), ", u.password_hash FROM users u WHERE u.email = $1::text");

/// The user with id $1.
pub const BY_ID: &str = concat!("SELECT ", user_doc!(), " FROM users u WHERE u.id = $1::bigint");

/// Sets user $1's nickname to $2 at $3.
pub const SET_NICKNAME: &str = concat!(
    "UPDATE users AS u SET nickname = $2::text, updated = $3::timestamptz
     WHERE u.id = $1::bigint RETURNING ",
    user_doc!()
);

/// `[projects, list_viewers]` of user $1 (see `Footprint`): the projects they own, belong to
/// or wrote in; the owners and members of the projects they own.
pub const FOOTPRINT: &str = "
WITH owned AS (SELECT id FROM projects WHERE owner_id = $1::bigint),
touched AS (
    SELECT id FROM owned
    UNION SELECT project_id FROM members WHERE user_id = $1::bigint
    UNION SELECT project_id FROM comments WHERE user_id = $1::bigint
    UNION SELECT project_id FROM messages WHERE user_id = $1::bigint
),
viewers AS (
    SELECT $1::bigint AS user_id WHERE EXISTS (SELECT 1 FROM owned)
    UNION SELECT m.user_id FROM members m JOIN owned o ON o.id = m.project_id
)
SELECT json_build_array(
    COALESCE((SELECT json_agg(id ORDER BY id) FROM touched), '[]'::json),
    COALESCE((SELECT json_agg(user_id ORDER BY user_id) FROM viewers), '[]'::json))::text";

#[async_trait]
impl Users for PgStore {
    async fn create_user(
        &self,
        email: &Email,
        nickname: &Nickname,
        hash: &str,
    ) -> StoreResult<User> {
        fetch_doc(&self.pool, CREATE, |q| {
            q.bind(email.as_str()).bind(nickname.as_str()).bind(hash).bind(now())
        })
        .await
    }

    async fn credentials(&self, email: &Email) -> StoreResult<Option<Credentials>> {
        let query = sqlx::query_as::<_, (String, String)>(CREDENTIALS).bind(email.as_str());
        let Some((user, password_hash)) =
            run(CREDENTIALS, query.fetch_optional(&self.pool)).await?
        else {
            return Ok(None);
        };
        Ok(Some(Credentials { user: serde_json::from_str(&user)?, password_hash }))
    }

    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        fetch_opt_doc(&self.pool, BY_ID, |q| q.bind(id.0)).await
    }

    async fn set_nickname(&self, id: UserId, nickname: &Nickname) -> StoreResult<Option<User>> {
        fetch_opt_doc(&self.pool, SET_NICKNAME, |q| {
            q.bind(id.0).bind(nickname.as_str()).bind(now())
        })
        .await
    }

    async fn footprint(&self, id: UserId) -> StoreResult<Footprint> {
        let (projects, list_viewers): (Vec<ProjectId>, Vec<UserId>) =
            fetch_doc(&self.pool, FOOTPRINT, |q| q.bind(id.0)).await?;
        Ok(Footprint { projects, list_viewers })
    }
}
