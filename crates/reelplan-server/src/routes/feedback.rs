//! `/api/projects/{id}/feedback/*`.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use reelplan_domain::{
    validate, CommentId, DiscussionText, ProjectId, Timecode, ValidationErrors, VersionId,
};
use reelplan_store::{Annotation, CommentFilter, CommentPatch};
use serde::Deserialize;

use super::checked;
use super::ops::schemas as api_doc;
use crate::error::ApiError;
use crate::etag::page_of_tag;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::response::{created, JsonBytes, Tagged};
use crate::service::feedback::{self, CommentPage, HeldPage, IfMatch, PageQuery, Thread};
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/api/projects/{id}/feedback/comments",
    tag = "feedback",
    summary = "Timecoded review comments and replies, oldest first.",
    params(("id" = i64, Path, description = "The project's id."), CommentQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of comments.", body = api_doc::CommentList),
        (status = 404, description = "No such project (or the caller is not a member), or no such object.", body = api_doc::ErrorBody),
    ),
)]
pub(super) async fn comments(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<ProjectId>,
    ApiQuery(query): ApiQuery<CommentQuery>,
) -> Result<JsonBytes, ApiError> {
    let (page, filter) = query.split();
    Ok(JsonBytes(
        StatusCode::OK,
        feedback::page_of(&state, caller, id, Thread::Comments(filter), page).await?,
    ))
}

/// `?limit=&cursor=&version_id=&resolved=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CommentQuery {
    /// 1-100 (default 50).
    limit: Option<i64>,
    /// The `next_cursor` of the page before.
    cursor: Option<String>,
    /// Only this version's comments.
    version_id: Option<i64>,
    /// Only resolved (`true`) or open (`false`) comments.
    resolved: Option<bool>,
}

impl CommentQuery {
    /// The page and the filter.
    fn split(self) -> (PageQuery, CommentFilter) {
        let filter =
            CommentFilter { version: self.version_id.map(VersionId), resolved: self.resolved };
        (PageQuery { limit: self.limit, cursor: self.cursor }, filter)
    }
}

#[utoipa::path(
    get,
    path = "/api/projects/{id}/feedback/messages",
    tag = "feedback",
    summary = "Chat messages, newest first.",
    params(("id" = i64, Path, description = "The project's id."), PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of messages.", body = api_doc::MessageList),
        (status = 404, description = "No such project (or the caller is not a member), or no such object.", body = api_doc::ErrorBody),
    ),
)]
pub(super) async fn messages(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<ProjectId>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<JsonBytes, ApiError> {
    Ok(JsonBytes(
        StatusCode::OK,
        feedback::page_of(&state, caller, id, Thread::Messages, query).await?,
    ))
}

#[utoipa::path(
    post,
    path = "/api/projects/{id}/feedback/comments",
    tag = "feedback",
    summary = "Posts a comment (any member).",
    params(("id" = i64, Path, description = "The project's id.")), request_body = NewComment,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The new comment.", body = api_doc::CommentResult),
        (status = 404, description = "No such project (or the caller is not a member), or no such object.", body = api_doc::ErrorBody),
        (status = 422, description = "A field breaks a rule (`fields` says which).", body = api_doc::ErrorBody),
    ),
)]
pub(super) async fn comment(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<ProjectId>,
    ApiJson(body): ApiJson<NewComment>,
) -> Result<JsonBytes, ApiError> {
    created(&feedback::comment(&state, caller, id, body.parse()).await?)
}

#[utoipa::path(
    delete,
    path = "/api/projects/{id}/feedback/comments/{comment_id}",
    tag = "feedback",
    summary = "Deletes a comment (its author, or manager+).",
    params(("id" = i64, Path, description = "The project's id."), ("comment_id" = i64, Path, description = "The comment's id.")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, description = "The caller's role does not allow this.", body = api_doc::ErrorBody),
        (status = 404, description = "No such project (or the caller is not a member), or no such object.", body = api_doc::ErrorBody),
    ),
)]
pub(super) async fn delete_comment(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath((id, comment)): ApiPath<(ProjectId, CommentId)>,
) -> Result<StatusCode, ApiError> {
    feedback::delete_comment(&state, caller, id, comment).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    patch,
    path = "/api/projects/{id}/feedback/comments/{comment_id}",
    tag = "feedback",
    summary = "Edits a comment's text (its author) or resolves it (its author, or editor+).",
    params(
        ("id" = i64, Path, description = "The project's id."),
        ("comment_id" = i64, Path, description = "The comment's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag of the comment page that showed it: 412 and nothing written if that page changed since."),
    ),
    request_body = PatchComment,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The comment; `ETag`: the new tag of the page `If-Match` named (or of the first page).", body = api_doc::CommentResult),
        (status = 403, description = "The caller's role does not allow this.", body = api_doc::ErrorBody),
        (status = 404, description = "No such project (or the caller is not a member), or no such object.", body = api_doc::ErrorBody),
        (status = 422, description = "A field breaks a rule (`fields` says which).", body = api_doc::ErrorBody),
    ),
)]
pub(super) async fn patch_comment(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath((id, comment)): ApiPath<(ProjectId, CommentId)>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PatchComment>,
) -> Result<Tagged, ApiError> {
    let held = headers.get(header::IF_MATCH).map(held_pages);
    let (comment, tag) =
        feedback::patch_comment(&state, caller, id, comment, body.parse(), held).await?;
    Tagged::with(&comment, tag)
}

/// What an `If-Match` on a comment holds: `*`, or the pages its tags of ours name. A tag that
/// names no page, or a page this server would refuse, can match nothing.
fn held_pages(value: &HeaderValue) -> IfMatch {
    let Ok(text) = value.to_str() else {
        return IfMatch::Pages(Vec::new());
    };
    if text.trim() == "*" {
        return IfMatch::Any;
    }
    let pages = text
        .split(',')
        .filter_map(|tag| {
            let query = page_of_tag(tag)?;
            let uri: Uri = format!("/?{query}").parse().ok()?;
            let Query(parsed) = Query::<CommentQuery>::try_from_uri(&uri).ok()?;
            let (page, filter) = parsed.split();
            let tag = HeaderValue::from_str(tag.trim()).ok()?;
            Some(HeldPage { tag, page: CommentPage { query, filter, page } })
        })
        .collect();
    IfMatch::Pages(pages)
}

#[utoipa::path(
    post,
    path = "/api/projects/{id}/feedback/messages",
    tag = "feedback",
    summary = "Posts a chat message (any member).",
    params(("id" = i64, Path, description = "The project's id.")), request_body = NewMessage,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The new message.", body = api_doc::MessageResult),
        (status = 404, description = "No such project (or the caller is not a member), or no such object.", body = api_doc::ErrorBody),
        (status = 422, description = "A field breaks a rule (`fields` says which).", body = api_doc::ErrorBody),
    ),
)]
pub(super) async fn message(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<ProjectId>,
    ApiJson(body): ApiJson<NewMessage>,
) -> Result<JsonBytes, ApiError> {
    created(&feedback::message(&state, caller, id, body.parse()).await?)
}

/// `POST .../feedback/comments` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = new_comment)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    /// 1-5,000 characters.
    text: Option<String>,
    /// Seconds into the video.
    timecode: Option<f64>,
    /// The end of a range; needs `timecode`, and is not before it.
    timecode_end: Option<f64>,
    /// The version; default the current one (a reply: its parent's).
    version_id: Option<i64>,
    /// The top-level comment this replies to.
    parent_id: Option<i64>,
    /// A drawing on the frame: a JSON object of at most 16 KiB.
    #[schema(value_type = Option<Object>)]
    annotation: Option<serde_json::Value>,
}

/// `PATCH .../feedback/comments/{comment_id}` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = patch_comment)]
#[serde(deny_unknown_fields)]
pub struct PatchComment {
    /// New text (its author only).
    text: Option<String>,
    /// Resolve or reopen (its author, or editor+).
    resolved: Option<bool>,
}

impl PatchComment {
    /// The change, or its problem.
    pub fn parse(self) -> Result<CommentPatch, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let text = self.text.map(|text| errors.check("text", DiscussionText::parse(&text)));
        errors.finish_with(|| {
            let text = match text {
                None => None,
                Some(checked) => Some(checked?),
            };
            Some(CommentPatch { text, resolved: self.resolved })
        })
    }
}

/// `POST .../feedback/messages` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = new_message)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    text: Option<String>,
}

impl NewComment {
    /// The comment, or every field's problem at once.
    pub fn parse(self) -> Result<reelplan_store::NewComment, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let text = errors.check(
            "text",
            validate::required(self.text.as_deref()).and_then(DiscussionText::parse),
        );
        let timecode = self.timecode.map(|t| errors.check("timecode", Timecode::parse(t)));
        let end = self.timecode_end.map(|end| {
            let start = self.timecode.filter(|start| start.is_finite());
            let checked = match start {
                None => Err("needs a timecode"),
                Some(start) if end < start => Err("must not be before timecode"),
                Some(_) => Timecode::parse(end),
            };
            errors.check("timecode_end", checked)
        });
        let annotation = self
            .annotation
            .filter(|value| !value.is_null())
            .map(|value| errors.check("annotation", Annotation::parse(&value)));
        errors.finish_with(|| {
            Some(reelplan_store::NewComment {
                text: text?,
                timecode: checked(timecode)?,
                timecode_end: checked(end)?,
                version: self.version_id.map(VersionId),
                parent: self.parent_id.map(CommentId),
                annotation: checked(annotation)?,
            })
        })
    }
}

impl NewMessage {
    /// The message's text, or its problem.
    pub fn parse(self) -> Result<DiscussionText, ValidationErrors> {
        validate::required(self.text.as_deref())
            .and_then(DiscussionText::parse)
            .map_err(|p| ValidationErrors::single("text", p))
    }
}
