//! A project's activity: its event log, newest first.
//!
//! A page is cached under the project's activity scope, which every write to the project moves
//! on (`service::settle`), and its access scope, since a hit is checked against the access list
//! it carries.

use bytes::Bytes;
use reelplan_cache::{Key, Kind, Scope, Want};
use reelplan_domain::{Cursor, ProjectId, UserId};
use reelplan_store::{Event, PageRequest};

use super::feedback::PageQuery;
use super::{page, read_page};
use crate::cached::{Doc, Guarded};
use crate::error::ApiError;
use crate::state::AppState;

/// The default size of a page of activity.
const FIRST_PAGE: u32 = 20;

/// Where a page of project `id`'s activity is cached.
fn page_doc_of(id: ProjectId, page: PageRequest, cursor: &str) -> Doc<Guarded> {
    let key = Key::with(Kind::Activity, id.0, format!("{}:{cursor}", page.limit));
    Doc::new(Want::both(key, Scope::Activity(id.0), Scope::Access(id.0)))
}

/// A page of a project's events, newest first, as response bytes (members). One statement on
/// a miss, none on a hit.
#[tracing::instrument(level = "debug", skip_all, fields(project = project.0))]
pub async fn page_of(
    state: &AppState,
    caller: UserId,
    project: ProjectId,
    query: PageQuery,
) -> Result<Bytes, ApiError> {
    let page = page(query.limit, query.cursor.as_deref(), FIRST_PAGE)?;
    let doc = page_doc_of(project, page, query.cursor.as_deref().unwrap_or(""));
    let fetch = || state.store.activity_page(project, page);
    let position = |e: &Event| Cursor { created: e.created, id: e.id };
    read_page(state, caller, &doc, page, fetch, position).await
}
