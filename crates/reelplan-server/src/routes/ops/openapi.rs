//! `/openapi.json`: the OpenAPI 3.1 document, generated from the handlers' annotations and
//! the models' `ToSchema` derives.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::IntoResponse;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::server::Server;
use utoipa::openapi::{OpenApi as Document, Ref, RefOr};
use utoipa::{Modify, OpenApi};

use super::schemas::ErrorBody;
use crate::middleware::CACHEABLE;
use crate::routes::{account, events, feedback, files, members, memos, projects, versions};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "reelplan",
        version = "1",
        description = "The backend of a video-production project tracker. Every `/api` \
            response carries `X-Query-Count`, `X-Response-Time`, `Server-Timing`, \
            `X-Request-Id`, and `X-Cache` on cacheable reads.",
        license(name = "MIT", identifier = "MIT"),
    ),
    paths(
        account::signup, account::login, account::me, account::patch_me,
        projects::list, projects::create, projects::detail, projects::patch, projects::delete,
        projects::put_phase,
        members::add, members::patch, members::remove,
        feedback::comments, feedback::comment, feedback::patch_comment, feedback::delete_comment,
        feedback::messages, feedback::message,
        memos::add, memos::delete,
        files::upload, files::download, files::delete, files::put_video,
        versions::add, versions::list, versions::one, versions::patch, versions::delete,
        versions::review, versions::export,
        events::stream, events::ticket, events::activity_page,
        super::healthz, super::readyz, super::metrics, super::dashboard::page,
        super::dashboard::stats, openapi_json,
    ),
    components(schemas(ErrorBody)),
    modifiers(&CommonResponses),
    tags(
        (name = "account", description = "Signup, login and the caller's profile."),
        (name = "projects", description = "Projects, their fields and phase dates."),
        (name = "members", description = "Who takes part in a project, with which role."),
        (name = "feedback", description = "Timecoded comments, chat and the review video."),
        (name = "versions", description = "Numbered cuts of the review video and their approvals."),
        (name = "events", description = "Live updates (Server-Sent Events) and each project's activity."),
        (name = "memos", description = "Dated notes on a project."),
        (name = "files", description = "Files stored with a project."),
        (name = "operations", description = "Health, readiness, metrics and the dashboard."),
    ),
)]
struct ApiDoc;

/// The bearer schemes, the failures every `/api` operation can answer with, and what tooling
/// wants of every operation (a unique `operationId`, a declared `security`, a server), added
/// once here rather than repeated on each handler.
struct CommonResponses;

/// The operations endpoints behind `REELPLAN_OPS_TOKEN` when it is set.
const OPS_GUARDED: [&str; 3] = ["/metrics", "/dashboard", "/dashboard/stats.json"];

impl Modify for CommonResponses {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        let bearer = Http::builder().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build();
        components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
        let ops = Http::builder()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some("`REELPLAN_OPS_TOKEN`, when one is set."))
            .build();
        components.add_security_scheme("ops_token", SecurityScheme::Http(ops));
        doc.servers = Some(vec![Server::new("/")]);
        let error = |text: &str| {
            utoipa::openapi::ResponseBuilder::new()
                .description(text)
                .content(
                    "application/json",
                    utoipa::openapi::ContentBuilder::new()
                        .schema(Some(RefOr::Ref(Ref::from_schema_name("error"))))
                        .build(),
                )
                .build()
        };
        for (path, item) in doc.paths.paths.iter_mut() {
            if let Some(get) = item.get.as_mut().filter(|_| CACHEABLE.contains(&path.as_str())) {
                let text = "`If-None-Match` holds the current `ETag`: no body.";
                let not_modified = utoipa::openapi::ResponseBuilder::new().description(text);
                get.responses.responses.insert("304".to_owned(), not_modified.build().into());
            }
            for write in [&mut item.patch, &mut item.put].into_iter().flatten() {
                let takes_if_match =
                    write.parameters.iter().flatten().any(|p| p.name == "If-Match");
                if takes_if_match {
                    let text =
                        "`If-Match` no longer holds the resource's ETag; nothing was written.";
                    write.responses.responses.insert("412".to_owned(), error(text).into());
                }
            }
            let operations =
                [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete];
            for operation in operations.into_iter().flatten() {
                // Handler names repeat across resources (`add`, `patch`, `delete`).
                let tag = operation.tags.as_ref().and_then(|tags| tags.first()).cloned();
                if let (Some(tag), Some(id)) = (tag, operation.operation_id.as_mut()) {
                    *id = format!("{tag}_{id}");
                }
                if path.starts_with("/api/") {
                    add_api_failures(operation, &error);
                } else if OPS_GUARDED.contains(&path.as_str()) {
                    let token = SecurityRequirement::new("ops_token", Vec::<String>::new());
                    operation.security = Some(vec![SecurityRequirement::default(), token]);
                    let text = "`REELPLAN_OPS_TOKEN` is set and the request does not carry it.";
                    operation.responses.responses.insert("401".to_owned(), error(text).into());
                }
                // Public operations say so, rather than leaving `security` undeclared.
                operation.security.get_or_insert_with(Vec::new);
            }
        }
    }
}

/// The failures every `/api` operation can answer with.
fn add_api_failures(
    operation: &mut utoipa::openapi::path::Operation,
    error: &dyn Fn(&str) -> utoipa::openapi::Response,
) {
    let authenticated = operation.security.is_some();
    let has_body = operation.request_body.is_some();
    let responses = &mut operation.responses.responses;
    let mut add = |status: &str, text: &str| {
        responses.entry(status.to_owned()).or_insert_with(|| error(text).into());
    };
    add("400", "Malformed JSON, wrong content type, unknown field or bad query parameter.");
    if authenticated {
        add("401", "Missing, malformed, expired or forged token.");
    }
    if has_body {
        add("413", "The request body is over the limit.");
    }
    add("500", "A bug; the message carries no internal details.");
    add("503", "The database cannot be reached.");
}

/// The document, built once.
pub(crate) fn document() -> &'static Document {
    static DOC: OnceLock<Document> = OnceLock::new();
    DOC.get_or_init(ApiDoc::openapi)
}

/// The document as JSON, as `/openapi.json` serves it.
pub fn document_json() -> String {
    document().to_json().unwrap_or_else(|_| "{}".to_owned())
}

/// `GET /openapi.json`.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    summary = "This document.",
    responses((status = 200, description = "OpenAPI 3.1.", body = Object)))]
pub(super) async fn openapi_json() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], document_json())
}
