//! The feedback thread: timecoded comments (oldest first) and chat messages (newest first).

use async_trait::async_trait;
use reelplan_domain::{CommentId, DiscussionText, ProjectId, Timecode, UserId};
use reelplan_store::stats::run;
use reelplan_store::{
    Comment, Feedback, FeedbackSummary, Message, PageRequest, ProjectAccess, StoreResult,
    ThreadPage,
};
use serde::de::DeserializeOwned;

use super::{fetch_opt_doc, now};
use crate::PgStore;

/// The comments of the project row aliased `p` after cursor $2/$3 (created, id), oldest
/// first, at most $4, as a JSON array.
macro_rules! comment_items {
    () => {
        concat!(
            "COALESCE((
        SELECT json_agg(x.doc ORDER BY x.created, x.id)
        FROM (SELECT c.created, c.id, ",
            thread_item!("c", "cu", "'timecode', c.timecode, "),
            " AS doc
              FROM comments c JOIN users cu ON cu.id = c.user_id
              WHERE c.project_id = p.id
                AND (c.created, c.id) > (COALESCE($2::timestamptz, '-infinity'::timestamptz),
                                         COALESCE($3::bigint, 0))
              ORDER BY c.created, c.id
              LIMIT $4::bigint) x), '[]'::json)"
        )
    };
}

/// `[access, comments]` of project $1: comments after cursor $2/$3 (created, id), oldest
/// first, at most $4.
pub const COMMENTS_PAGE: &str = concat!(
    "SELECT json_build_array(",
    access_doc!(),
    ", ",
    comment_items!(),
    ")::text
FROM projects p WHERE p.id = $1::bigint"
);

/// `[access, comments, feedback]`: [`COMMENTS_PAGE`] (cursor $2/$3 null for the first page)
/// and the project's feedback block, what a comment post reads back.
pub const COMMENTS_HEAD: &str = concat!(
    "SELECT json_build_array(",
    access_doc!(),
    ", ",
    comment_items!(),
    ", ",
    feedback_doc!(),
    ")::text
FROM projects p WHERE p.id = $1::bigint"
);

/// `[access, messages]` of project $1: messages before cursor $2/$3 (created, id), newest
/// first, at most $4.
pub const MESSAGES_PAGE: &str = concat!(
    "SELECT json_build_array(",
    access_doc!(),
    ", COALESCE((
        SELECT json_agg(x.doc ORDER BY x.created DESC, x.id DESC)
        FROM (SELECT ms.created, ms.id, ",
    thread_item!("ms", "mu", ""),
    " AS doc
              FROM messages ms JOIN users mu ON mu.id = ms.user_id
              WHERE ms.project_id = p.id
                AND (ms.created, ms.id) < (COALESCE($2::timestamptz, 'infinity'::timestamptz),
                                           COALESCE($3::bigint, 0))
              ORDER BY ms.created DESC, ms.id DESC
              LIMIT $4::bigint) x), '[]'::json))::text
FROM projects p WHERE p.id = $1::bigint"
);

/// Posts a comment on project $1 by $2: text $3, timecode $4, at $5.
pub const ADD_COMMENT: &str = concat!(
    "WITH c AS (
    INSERT INTO comments (project_id, user_id, text, timecode, created)
    SELECT $1::bigint, $2::bigint, $3::text, $4::float8, $5::timestamptz
    WHERE ",
    takes_part!("$1", "$2"),
    "
    RETURNING id, user_id, text, timecode, created
)
SELECT ",
    thread_item!("c", "cu", "'timecode', c.timecode, "),
    "::text FROM c JOIN users cu ON cu.id = c.user_id"
);

/// The author of comment $2 on project $1.
pub const COMMENT_AUTHOR: &str =
    "SELECT user_id FROM comments WHERE id = $2::bigint AND project_id = $1::bigint";

/// Deletes comment $2 of project $1.
pub const DELETE_COMMENT: &str =
    "DELETE FROM comments WHERE id = $2::bigint AND project_id = $1::bigint";

/// Posts a message on project $1 by $2: text $3, at $4.
pub const ADD_MESSAGE: &str = concat!(
    "WITH ms AS (
    INSERT INTO messages (project_id, user_id, text, created)
    SELECT $1::bigint, $2::bigint, $3::text, $4::timestamptz
    WHERE ",
    takes_part!("$1", "$2"),
    "
    RETURNING id, user_id, text, created
)
SELECT ",
    thread_item!("ms", "mu", ""),
    "::text FROM ms JOIN users mu ON mu.id = ms.user_id"
);

/// A page of [`COMMENTS_PAGE`] or [`MESSAGES_PAGE`].
async fn page<T: DeserializeOwned>(
    store: &PgStore,
    sql: &'static str,
    project: ProjectId,
    page: PageRequest,
) -> StoreResult<Option<ThreadPage<T>>> {
    let doc: Option<(ProjectAccess, Vec<T>)> = fetch_opt_doc(&store.pool, sql, |q| {
        q.bind(project.0)
            .bind(page.after.map(|c| c.created))
            .bind(page.after.map(|c| c.id))
            .bind(i64::from(page.limit))
    })
    .await?;
    Ok(doc.map(|(access, items)| ThreadPage { access, items }))
}

#[async_trait]
impl Feedback for PgStore {
    async fn comments_page(
        &self,
        project: ProjectId,
        request: PageRequest,
    ) -> StoreResult<Option<ThreadPage<Comment>>> {
        page(self, COMMENTS_PAGE, project, request).await
    }

    async fn messages_page(
        &self,
        project: ProjectId,
        request: PageRequest,
    ) -> StoreResult<Option<ThreadPage<Message>>> {
        page(self, MESSAGES_PAGE, project, request).await
    }

    async fn comments_head(
        &self,
        project: ProjectId,
        limit: u32,
    ) -> StoreResult<Option<(ThreadPage<Comment>, FeedbackSummary)>> {
        let head: Option<(ProjectAccess, Vec<Comment>, FeedbackSummary)> =
            fetch_opt_doc(&self.pool, COMMENTS_HEAD, |q| {
                q.bind(project.0)
                    .bind(None::<chrono::DateTime<chrono::Utc>>)
                    .bind(None::<i64>)
                    .bind(i64::from(limit))
            })
            .await?;
        Ok(head.map(|(access, items, feedback)| (ThreadPage { access, items }, feedback)))
    }

    async fn add_comment(
        &self,
        project: ProjectId,
        author: UserId,
        text: &DiscussionText,
        timecode: Option<Timecode>,
    ) -> StoreResult<Option<Comment>> {
        fetch_opt_doc(&self.pool, ADD_COMMENT, |q| {
            q.bind(project.0)
                .bind(author.0)
                .bind(text.as_str())
                .bind(timecode.map(Timecode::value))
                .bind(now())
        })
        .await
    }

    async fn comment_author(
        &self,
        project: ProjectId,
        id: CommentId,
    ) -> StoreResult<Option<UserId>> {
        let query = sqlx::query_scalar::<_, i64>(COMMENT_AUTHOR).bind(project.0).bind(id.0);
        Ok(run(COMMENT_AUTHOR, query.fetch_optional(&self.pool)).await?.map(UserId))
    }

    async fn delete_comment(&self, project: ProjectId, id: CommentId) -> StoreResult<bool> {
        let query = sqlx::query(DELETE_COMMENT).bind(project.0).bind(id.0);
        Ok(run(DELETE_COMMENT, query.execute(&self.pool)).await?.rows_affected() > 0)
    }

    async fn add_message(
        &self,
        project: ProjectId,
        author: UserId,
        text: &DiscussionText,
    ) -> StoreResult<Option<Message>> {
        fetch_opt_doc(&self.pool, ADD_MESSAGE, |q| {
            q.bind(project.0).bind(author.0).bind(text.as_str()).bind(now())
        })
        .await
    }
}
