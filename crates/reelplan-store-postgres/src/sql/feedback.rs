//! The feedback thread: timecoded comments (oldest first) and chat messages (newest first).

use async_trait::async_trait;
use reelplan_domain::{CommentId, DiscussionText, ProjectId, Timecode, UserId};
use reelplan_store::stats::run;
use reelplan_store::{
    Annotation, Comment, CommentFilter, CommentPatch, Event, Feedback, FeedbackSummary, Message,
    NewComment, PageRequest, ProjectAccess, Recorded, StoreResult, ThreadPage,
};
use serde::de::DeserializeOwned;

use super::{fetch_opt_doc, fetch_recorded, now};
use crate::PgStore;

/// The comments of the project row aliased `p` after cursor $2/$3 (created, id), oldest
/// first, at most $4, of version $5 (any when null) and resolved or not as $6 says (either
/// when null), as a JSON array.
macro_rules! comment_items {
    () => {
        concat!(
            "COALESCE((
        SELECT json_agg(x.doc ORDER BY x.created, x.id)
        FROM (SELECT c.created, c.id, ",
            comment_doc!("c"),
            " AS doc
              FROM comments c
              WHERE c.project_id = p.id
                AND (c.created, c.id) > (COALESCE($2::timestamptz, '-infinity'::timestamptz),
                                         COALESCE($3::bigint, 0))
                AND ($5::bigint IS NULL OR c.version_id = $5::bigint)
                AND ($6::boolean IS NULL OR c.resolved = $6::boolean)
              ORDER BY c.created, c.id
              LIMIT $4::bigint) x), '[]'::json)"
        )
    };
}

/// `[access, comments]` of project $1: comments after cursor $2/$3 (created, id), oldest
/// first, at most $4, filtered by version $5 and resolution $6.
pub const COMMENTS_PAGE: &str = concat!(
    "SELECT json_build_array(",
    access_doc!(),
    ", ",
    comment_items!(),
    ")::text
FROM projects p WHERE p.id = $1::bigint"
);

/// `[access, comments, feedback]`: [`COMMENTS_PAGE`] (cursor $2/$3 and filters $5/$6 null:
/// the first page of all) and the project's feedback block, what a comment post reads back.
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

/// `[comment, event]`: posts a comment on project $1 by $2: text $3, timecode $4 to $5, version
/// $6, parent $7, annotation $8, at $9, recording `comment.created`. Its version is its
/// parent's, else $6, else the project's current one.
pub const ADD_COMMENT: &str = concat!(
    "WITH c AS (
    INSERT INTO comments (project_id, user_id, text, timecode, timecode_end, version_id,
                          parent_id, annotation, created)
    SELECT $1::bigint, $2::bigint, $3::text, $4::float8, $5::float8,
           CASE WHEN $7::bigint IS NOT NULL
                    THEN (SELECT pc.version_id FROM comments pc WHERE pc.id = $7::bigint)
                WHEN $6::bigint IS NOT NULL THEN $6::bigint
                ELSE (SELECT v.id FROM versions v WHERE v.project_id = $1::bigint
                      ORDER BY v.number DESC LIMIT 1) END,
           $7::bigint, $8::text, $9::timestamptz
    WHERE ",
    takes_part!("$1", "$2"),
    "
      AND ($6::bigint IS NULL OR EXISTS (
            SELECT 1 FROM versions v WHERE v.id = $6::bigint AND v.project_id = $1::bigint))
      AND ($7::bigint IS NULL OR EXISTS (
            SELECT 1 FROM comments pc
            WHERE pc.id = $7::bigint AND pc.project_id = $1::bigint AND pc.parent_id IS NULL
              AND ($6::bigint IS NULL OR pc.version_id IS NOT DISTINCT FROM $6::bigint)))
    RETURNING *
), ",
    record_event!(
        "SELECT 'comment.created', c.project_id, c.id, c.user_id, NULL::bigint, c.created FROM c"
    ),
    "
SELECT json_build_array(",
    comment_doc!("c"),
    ", ",
    event_doc!("ev"),
    ")::text FROM c, ev"
);

/// `[comment, event]`: changes comment $2 of project $1: text $3 (when not null; `edited` at
/// $6 when it differs), resolved $4 (when not null; by $5 at $6, kept from the first
/// resolution while it stays resolved), recording `comment.updated` by $5, if $5 may: its
/// author while they take part, or (for a resolution alone) an editor or above.
pub const UPDATE_COMMENT: &str = concat!(
    "WITH c AS (
    UPDATE comments c SET
        text = COALESCE($3::text, c.text),
        edited = CASE WHEN $3::text IS NOT NULL AND $3::text <> c.text THEN $6::timestamptz
                      ELSE c.edited END,
        resolved = COALESCE($4::boolean, c.resolved),
        resolved_by = CASE WHEN $4::boolean IS NULL OR ($4::boolean AND c.resolved)
                               THEN c.resolved_by
                           WHEN $4::boolean THEN $5::bigint END,
        resolved_at = CASE WHEN $4::boolean IS NULL OR ($4::boolean AND c.resolved)
                               THEN c.resolved_at
                           WHEN $4::boolean THEN $6::timestamptz END
    WHERE c.id = $2::bigint AND c.project_id = $1::bigint
      AND EXISTS (SELECT 1 FROM projects WHERE projects.id = $1::bigint AND (
          (c.user_id = $5::bigint AND ",
    changed_by!("$5", "'viewer', 'editor', 'manager'"),
    ")
          OR ($3::text IS NULL AND ",
    changed_by!("$5", "'editor', 'manager'"),
    ")))
    RETURNING c.*
), ",
    record_event!(
        "SELECT 'comment.updated', c.project_id, c.id, $5::bigint, NULL::bigint, $6::timestamptz
    FROM c"
    ),
    "
SELECT json_build_array(",
    comment_doc!("c"),
    ", ",
    event_doc!("ev"),
    ")::text FROM c, ev"
);

/// The author of comment $2 on project $1.
pub const COMMENT_AUTHOR: &str =
    "SELECT user_id FROM comments WHERE id = $2::bigint AND project_id = $1::bigint";

/// The event of deleting comment $2 of project $1 by $3 at $4 (its replies go by cascade,
/// without one).
pub const DELETE_COMMENT: &str = concat!(
    "WITH c AS (
    DELETE FROM comments WHERE id = $2::bigint AND project_id = $1::bigint
    RETURNING id, project_id
), ",
    record_event!(
        "SELECT 'comment.deleted', c.project_id, c.id, $3::bigint, NULL::bigint, $4::timestamptz
    FROM c"
    ),
    "
SELECT ",
    event_doc!("ev"),
    "::text FROM ev"
);

/// `[message, event]`: posts a message on project $1 by $2: text $3, at $4, recording
/// `message.created`.
pub const ADD_MESSAGE: &str = concat!(
    "WITH ms AS (
    INSERT INTO messages (project_id, user_id, text, created)
    SELECT $1::bigint, $2::bigint, $3::text, $4::timestamptz
    WHERE ",
    takes_part!("$1", "$2"),
    "
    RETURNING id, project_id, user_id, text, created
), ",
    record_event!(
        "SELECT 'message.created', ms.project_id, ms.id, ms.user_id, NULL::bigint, ms.created
    FROM ms"
    ),
    "
SELECT json_build_array(",
    thread_item!("ms", "mu", ""),
    ", ",
    event_doc!("ev"),
    ")::text FROM ms JOIN users mu ON mu.id = ms.user_id, ev"
);

/// A page of [`MESSAGES_PAGE`].
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
        filter: CommentFilter,
        page: PageRequest,
    ) -> StoreResult<Option<ThreadPage<Comment>>> {
        let doc: Option<(ProjectAccess, Vec<Comment>)> =
            fetch_opt_doc(&self.pool, COMMENTS_PAGE, |q| {
                q.bind(project.0)
                    .bind(page.after.map(|c| c.created))
                    .bind(page.after.map(|c| c.id))
                    .bind(i64::from(page.limit))
                    .bind(filter.version.map(|v| v.0))
                    .bind(filter.resolved)
            })
            .await?;
        Ok(doc.map(|(access, items)| ThreadPage { access, items }))
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
                    .bind(None::<i64>)
                    .bind(None::<bool>)
            })
            .await?;
        Ok(head.map(|(access, items, feedback)| (ThreadPage { access, items }, feedback)))
    }

    async fn add_comment(
        &self,
        project: ProjectId,
        author: UserId,
        comment: &NewComment,
    ) -> StoreResult<Option<Recorded<Comment>>> {
        fetch_recorded(&self.pool, ADD_COMMENT, |q| {
            q.bind(project.0)
                .bind(author.0)
                .bind(comment.text.as_str())
                .bind(comment.timecode.map(Timecode::value))
                .bind(comment.timecode_end.map(Timecode::value))
                .bind(comment.version.map(|v| v.0))
                .bind(comment.parent.map(|c| c.0))
                .bind(comment.annotation.as_ref().map(Annotation::as_str))
                .bind(now())
        })
        .await
    }

    async fn update_comment(
        &self,
        project: ProjectId,
        id: CommentId,
        patch: &CommentPatch,
        by: UserId,
    ) -> StoreResult<Option<Recorded<Comment>>> {
        fetch_recorded(&self.pool, UPDATE_COMMENT, |q| {
            q.bind(project.0)
                .bind(id.0)
                .bind(patch.text.as_ref().map(DiscussionText::as_str))
                .bind(patch.resolved)
                .bind(by.0)
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

    async fn delete_comment(
        &self,
        project: ProjectId,
        id: CommentId,
        by: UserId,
    ) -> StoreResult<Option<Event>> {
        fetch_opt_doc(&self.pool, DELETE_COMMENT, |q| {
            q.bind(project.0).bind(id.0).bind(by.0).bind(now())
        })
        .await
    }

    async fn add_message(
        &self,
        project: ProjectId,
        author: UserId,
        text: &DiscussionText,
    ) -> StoreResult<Option<Recorded<Message>>> {
        fetch_recorded(&self.pool, ADD_MESSAGE, |q| {
            q.bind(project.0).bind(author.0).bind(text.as_str()).bind(now())
        })
        .await
    }
}
