//! Documentation-only types: the contract's envelopes and error body as OpenAPI schemas.
//!
//! Handlers write ready JSON bytes (the cache stores them), so these types are never built;
//! they exist so the document names every response shape of API.md.

use std::collections::BTreeMap;

use reelplan_domain::Role;
use reelplan_store::{
    Comment, Event, FileMeta, Member, Memo, Message, ProjectDetail, ProjectSummary, User, Version,
};
use serde::Serialize;
use utoipa::ToSchema;

/// `{"result": <value>}` wrappers, one per result type, named `<type>_result`.
macro_rules! envelopes {
    ($($(#[$doc:meta])* $name:ident as $as:ident: $t:ty;)*) => {$(
        $(#[$doc])*
        #[derive(ToSchema)]
        #[schema(as = $as)]
        #[expect(dead_code, reason = "documentation only")]
        pub(in crate::routes) struct $name {
            result: $t,
        }
    )*};
}

/// `{"result": [...], "next_cursor": ...}` wrappers.
macro_rules! list_envelopes {
    ($($(#[$doc:meta])* $name:ident as $as:ident: $t:ty;)*) => {$(
        $(#[$doc])*
        #[derive(ToSchema)]
        #[schema(as = $as)]
        #[expect(dead_code, reason = "documentation only")]
        pub(in crate::routes) struct $name {
            result: Vec<$t>,
            /// Pass as `?cursor=` for the next page; null on the last page.
            next_cursor: Option<String>,
        }
    )*};
}

envelopes! {
    /// One `user`.
    UserResult as user_result: User;
    /// `{user, token}` after signup or login.
    SessionResult as session_result: crate::service::users::Session;
    /// One `project_detail`.
    ProjectDetailResult as project_detail_result: ProjectDetailDoc;
    /// One `member`.
    MemberResult as member_result: Member;
    /// One `comment`.
    CommentResult as comment_result: Comment;
    /// One `message`.
    MessageResult as message_result: Message;
    /// One `memo`.
    MemoResult as memo_result: Memo;
    /// One `file`.
    FileResult as file_result: FileMeta;
    /// One `version`.
    VersionResult as version_result: Version;
    /// A stream ticket.
    TicketResult as ticket_result: crate::routes::events::Ticket;
}

list_envelopes! {
    /// A page of `project_summary`.
    ProjectList as project_list: ProjectSummary;
    /// A page of `comment`.
    CommentList as comment_list: Comment;
    /// A page of `message`.
    MessageList as message_list: Message;
    /// A page of `version`.
    VersionList as version_list: Version;
    /// A page of `event`, newest first.
    ActivityList as activity_list: Event;
}

/// `project_detail`: the summary fields with the caller's role, plus members, feedback,
/// memos and files.
#[derive(Serialize, ToSchema)]
#[schema(as = project_detail)]
pub(in crate::routes) struct ProjectDetailDoc {
    /// The caller's role on this project.
    my_role: Role,
    #[serde(flatten)]
    detail: ProjectDetail,
}

/// `error`: every failure's body.
#[derive(ToSchema)]
#[schema(as = error)]
#[expect(dead_code, reason = "documentation only")]
pub(in crate::routes) struct ErrorBody {
    /// A human sentence; never internal details.
    message: String,
    /// The stable code.
    code: crate::error::ErrorCode,
    /// On 422 `validation` only: what is wrong with each field.
    #[schema(nullable = false)]
    fields: Option<BTreeMap<String, String>>,
}

/// Raw bytes of a file or video.
#[derive(ToSchema)]
#[schema(as = binary, value_type = String, format = Binary)]
#[expect(dead_code, reason = "documentation only")]
pub(in crate::routes) struct Binary(Vec<u8>);
