//! The server's one error type, mapped to the contract's status, code and body in one place.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use reelplan_domain::ValidationErrors;
use reelplan_store::StoreError;
use serde_json::json;

/// Every way a request can fail, as the contract names them.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// 400: malformed JSON, wrong content type, unknown field, bad query parameter or cursor.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no valid token, or wrong credentials at login.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// 403: a member whose role does not allow the action.
    #[error("your role on this project does not allow this")]
    Forbidden,
    /// 404: no such object, or a project the caller is not a member of.
    #[error("{0}")]
    NotFound(&'static str),
    /// 409: the thing already exists.
    #[error("{0}")]
    Conflict(&'static str),
    /// 413: body over the limit.
    #[error("the request body is too large")]
    PayloadTooLarge,
    /// 422: well-formed input that breaks a rule.
    #[error("some fields are invalid")]
    Validation(ValidationErrors),
    /// 429: too many failed logins (or signups) from one address or for one email.
    #[error("{0}")]
    RateLimited(&'static str),
    /// 503: the database cannot be reached.
    #[error("the database is unavailable; try again shortly")]
    Unavailable,
    /// 503: a bounded resource (such as the password hashing slots) is full right now; sent
    /// with `Retry-After`.
    #[error("{0}")]
    Busy(&'static str),
    /// 500: a bug. The detail is logged, never sent.
    #[error("internal error")]
    Internal,
}

impl ApiError {
    /// The HTTP status of this error.
    pub fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable | ApiError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The contract's stable code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Unauthenticated(_) => "unauthenticated",
            ApiError::Forbidden => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::Validation(_) => "validation",
            ApiError::RateLimited(_) => "rate_limited",
            ApiError::Unavailable | ApiError::Busy(_) => "unavailable",
            ApiError::Internal => "internal",
        }
    }

    /// 404 for a project the caller may not see, whether or not it exists.
    pub fn no_project() -> Self {
        ApiError::NotFound("no such project")
    }

    /// A single-field validation error.
    pub fn invalid(field: &str, problem: &str) -> Self {
        ApiError::Validation(ValidationErrors::single(field, problem))
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => ApiError::NotFound("not found"),
            StoreError::Conflict { .. } => ApiError::Conflict("it already exists"),
            StoreError::Unavailable(detail) => {
                tracing::warn!(%detail, "database unavailable");
                ApiError::Unavailable
            }
            StoreError::Other(detail) => {
                tracing::error!(%detail, "store error");
                ApiError::Internal
            }
        }
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(errors: ValidationErrors) -> Self {
        ApiError::Validation(errors)
    }
}

/// Errors shared by a single-flight cache load reach every waiter.
impl From<std::sync::Arc<ApiError>> for ApiError {
    fn from(error: std::sync::Arc<ApiError>) -> Self {
        (*error).clone()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "message": self.to_string(), "code": self.code() });
        if let ApiError::Validation(errors) = &self {
            body["fields"] = json!(errors.0);
        }
        let mut response = (self.status_code(), axum::Json(body)).into_response();
        if let ApiError::Busy(_) = self {
            let retry = axum::http::HeaderValue::from_static("1");
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, retry);
        }
        response
    }
}
