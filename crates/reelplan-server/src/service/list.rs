//! The caller's project list, decomposed so that writes to one project cost one summary:
//!
//! - the caller's **memberships** (every project of their list with their role, in list order)
//!   under their memberships scope, which only membership changes, project creation and
//!   deletion move on;
//! - one **summary** per project, shared by every member's list, under the project scope.
//!
//! A page is the memberships sliced at the cursor plus a multi-get of its summaries. With
//! Redis, when L1 holds the memberships (whatever their tag) the page's summaries are guessed
//! from them and fetched in the same round trip as the generations. Whatever is missing costs
//! one statement. Filtered pages (`?q=`, `?active_*`) are cached whole per caller instead,
//! under the caller's lists scope, which every change to one of their projects moves on.

use bytes::Bytes;
use reelplan_cache::{record, Found, Key, Kind, Outcome, Scope, Tag, Want};
use reelplan_domain::{Cursor, ProjectId, UserId};
use reelplan_store::{ListEntry, MembershipPage, PageRequest, ProjectCore, ProjectFilter};

use super::project_docs::{list_body, summary_doc, summary_of};
use super::split_page;
use crate::cached::{docs, Body, Doc, ListPage, Memberships};
use crate::error::ApiError;
use crate::request_record::set_cache_outcome;
use crate::response::list_envelope;
use crate::state::AppState;

fn memberships_of(caller: UserId) -> Doc<Memberships> {
    Doc::new(Want::new(Key::new(Kind::Memberships, caller.0), Scope::Memberships(caller.0)))
}

/// The entries a page shows (one more than it shows, when more follow) after the cursor.
fn page_of(entries: &[ListEntry], page: PageRequest) -> &[ListEntry] {
    let start = match page.after {
        None => 0,
        // Entries are sorted by (created, id) descending: skip those at or before the cursor.
        Some(c) => entries.partition_point(|e| (e.created, e.project_id.0) >= (c.created, c.id)),
    };
    let end = (start + page.limit as usize).min(entries.len());
    &entries[start..end]
}

/// The response bytes of a page: entries (with the one extra row that tells more follow) and
/// the summary of each shown one.
fn respond(
    entries: &[ListEntry],
    summaries: &[Bytes],
    page: PageRequest,
) -> Result<Bytes, ApiError> {
    let shown = (page.limit as usize - 1).min(entries.len());
    let next = (entries.len() > shown)
        .then(|| entries[..shown].last())
        .flatten()
        .map(|last| Cursor { created: last.created, id: last.project_id.0 }.encode());
    let items = entries[..shown].iter().zip(summaries).map(|(e, s)| (e.role, &s[..]));
    list_body(items, next.as_deref())
}

/// The unfiltered list page: one statement on a miss, none on a hit.
pub(crate) async fn page(
    state: &AppState,
    caller: UserId,
    page: PageRequest,
) -> Result<Bytes, ApiError> {
    let memberships = memberships_of(caller);
    let guess: Vec<ListEntry> = match docs::<Memberships>(&state.cache).peek(&memberships).await {
        Some(Memberships(entries)) => page_of(&entries, page).to_vec(),
        None => Vec::new(),
    };
    let guessed: Vec<Doc<Body>> = guess.iter().map(|e| summary_of(e.project_id)).collect();
    let mut wants = vec![memberships.want.clone()];
    wants.extend(guessed.iter().map(|d| d.want.clone()));
    let Some(mut found) = state.cache.lookup(&wants).await else {
        return bypass(state, caller, page).await;
    };
    let guessed: Option<Vec<Found<Body>>> =
        found.split_off(1).into_iter().zip(&guessed).map(|(f, doc)| doc.found(f)).collect();
    let mine = found.pop().and_then(|f| memberships.found(f));
    let (Some(guessed), Some(mine)) = (guessed, mine) else {
        return bypass(state, caller, page).await;
    };
    let (entries, mut outcome) = match mine {
        Found::Hit(Memberships(entries), outcome) => (entries, outcome),
        Found::Miss(tag) => {
            let _flight = state.cache.flight(memberships.key()).await;
            match docs::<Memberships>(&state.cache).held(&memberships, tag).await {
                Some(Memberships(entries)) => (entries, Outcome::HitL1),
                None => return load_page(state, caller, page, tag, &guess, guessed).await,
            }
        }
    };
    record(Kind::Memberships, outcome);
    let shown = page_of(&entries, page);
    let summaries = if shown == guess.as_slice() {
        guessed
    } else {
        let wanted: Vec<Doc<Body>> = shown.iter().map(|e| summary_of(e.project_id)).collect();
        match docs::<Body>(&state.cache).lookup(&wanted).await {
            Some(found) => found,
            None => return bypass(state, caller, page).await,
        }
    };
    let bodies = match summaries_or_load(state, shown, summaries, &mut outcome).await? {
        Some(bodies) => bodies,
        // A listed project is gone: a delete raced this caller's memberships.
        None => return reload(state, caller, page).await,
    };
    set_cache_outcome(outcome);
    respond(shown, &bodies, page)
}

/// The summaries of `shown`, loading the missing ones in one statement under their flights;
/// None when one of them no longer exists.
async fn summaries_or_load(
    state: &AppState,
    shown: &[ListEntry],
    found: Vec<Found<Body>>,
    outcome: &mut Outcome,
) -> Result<Option<Vec<Bytes>>, ApiError> {
    let mut bodies: Vec<Option<Bytes>> = Vec::with_capacity(shown.len());
    let mut missing: Vec<(usize, Tag)> = Vec::new();
    for (i, found) in found.into_iter().enumerate() {
        match found {
            Found::Hit(Body(body), tier) => {
                record(Kind::ProjectSummary, tier);
                bodies.push(Some(body));
            }
            Found::Miss(tag) => {
                missing.push((i, tag));
                bodies.push(None);
            }
        }
    }
    if !missing.is_empty() {
        let summaries = docs::<Body>(&state.cache);
        let wanted: Vec<Doc<Body>> =
            missing.iter().map(|(i, _)| summary_of(shown[*i].project_id)).collect();
        let _flights = state.cache.flights(&wanted.iter().map(Doc::key).collect::<Vec<_>>()).await;
        let mut load: Vec<(usize, &Doc<Body>, Tag)> = Vec::new();
        for ((i, tag), doc) in missing.into_iter().zip(&wanted) {
            match summaries.held(doc, tag).await {
                Some(Body(body)) => bodies[i] = Some(body),
                None => load.push((i, doc, tag)),
            }
        }
        if !load.is_empty() {
            *outcome = Outcome::Miss;
            let ids: Vec<ProjectId> = load.iter().map(|(i, ..)| shown[*i].project_id).collect();
            let cores = state.store.project_summaries(&ids).await?;
            let mut fills = Vec::with_capacity(load.len());
            for (i, doc, tag) in load {
                record(Kind::ProjectSummary, Outcome::Miss);
                let Some(core) = cores.iter().find(|c| c.id == shown[i].project_id) else {
                    return Ok(None);
                };
                let summary = summary_doc(core)?;
                bodies[i] = Some(summary.0.clone());
                fills.push((doc, tag, summary));
            }
            summaries.fill(fills).await;
        }
    }
    Ok(bodies.into_iter().collect())
}

/// Memberships missed: one statement reads them with the page, and fills the memberships and
/// the page's summaries whose tags were taken before it (those guessed from an older copy).
async fn load_page(
    state: &AppState,
    caller: UserId,
    page: PageRequest,
    tag: Tag,
    guess: &[ListEntry],
    guessed: Vec<Found<Body>>,
) -> Result<Bytes, ApiError> {
    record(Kind::Memberships, Outcome::Miss);
    set_cache_outcome(Outcome::Miss);
    let loaded = state.store.memberships_page(caller, page).await?;
    let memberships = Memberships(loaded.entries.clone().into());
    let mut fills = vec![memberships_of(caller).entry(tag, memberships)];
    for (entry, found) in guess.iter().zip(guessed) {
        let (Found::Miss(tag), Some(core)) =
            (found, loaded.page.iter().find(|c| c.id == entry.project_id))
        else {
            continue;
        };
        fills.push(summary_of(entry.project_id).entry(tag, summary_doc(core)?));
    }
    state.cache.fill(fills).await;
    respond_loaded(&loaded, page)
}

/// A delete raced the cached memberships: drop them and answer from the database (a second
/// statement, only in that race).
async fn reload(state: &AppState, caller: UserId, page: PageRequest) -> Result<Bytes, ApiError> {
    let memberships = memberships_of(caller);
    state.cache.forget(memberships.key()).await;
    let tag = state.cache.tags(std::slice::from_ref(&memberships.want)).await;
    let loaded = state.store.memberships_page(caller, page).await?;
    if let Some(tag) = tag {
        let entries = Memberships(loaded.entries.clone().into());
        docs::<Memberships>(&state.cache).fill(vec![(&memberships, tag[0], entries)]).await;
    }
    set_cache_outcome(Outcome::Miss);
    respond_loaded(&loaded, page)
}

/// The cache cannot be used: the page straight from the database (one statement).
async fn bypass(state: &AppState, caller: UserId, page: PageRequest) -> Result<Bytes, ApiError> {
    set_cache_outcome(Outcome::Bypass);
    let loaded = state.store.memberships_page(caller, page).await?;
    respond_loaded(&loaded, page)
}

fn respond_loaded(loaded: &MembershipPage, page: PageRequest) -> Result<Bytes, ApiError> {
    let shown = page_of(&loaded.entries, page);
    let bodies = shown
        .iter()
        .take(loaded.page.len().min(page.limit as usize - 1))
        .map(|e| {
            let core: &ProjectCore =
                loaded.page.iter().find(|c| c.id == e.project_id).ok_or(ApiError::Internal)?;
            Ok(summary_doc(core)?.0)
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    respond(shown, &bodies, page)
}

/// A filtered page, cached whole under the caller's lists scope. One statement on a miss.
pub(crate) async fn filtered(
    state: &AppState,
    caller: UserId,
    filter: &ProjectFilter,
    page: PageRequest,
    rest: String,
) -> Result<Bytes, ApiError> {
    // A project deleted by someone else is refused even if this page was cached before the
    // delete could reach this caller's lists scope: the read checks the page's projects
    // against the tombstones ([`ListPage`]'s [`crate::cached::DocValue::shows`]).
    let doc =
        Doc::new(Want::new(Key::with(Kind::ProjectList, caller.0, rest), Scope::Lists(caller.0)));
    let load = || async {
        let rows = state.store.list_projects(caller, filter, page).await?;
        let (rows, next) =
            split_page(rows, page, |p| Cursor { created: p.core.created, id: p.core.id.0 });
        let project_ids = rows.iter().map(|p| p.core.id.0).collect::<Vec<_>>().into();
        let body = list_envelope(&rows, next)?;
        Ok::<_, ApiError>(ListPage { body, project_ids })
    };
    let ListPage { body, .. } = super::read_through(state, &doc, load).await?;
    Ok(body)
}
