//! The server's one error type, mapped to the contract's status, code and body in one place.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use reelplan_domain::ValidationErrors;
use reelplan_store::StoreError;
use serde_json::json;

// The OpenAPI document's `error_code` schema is derived from this enum, and every `ApiError`
// maps to one of its variants, so the documented codes cannot drift from the sent ones.
/// The stable error codes of API.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = error_code)]
pub enum ErrorCode {
    /// 400.
    BadRequest,
    /// 401.
    Unauthenticated,
    /// 403.
    Forbidden,
    /// 404.
    NotFound,
    /// 405.
    MethodNotAllowed,
    /// 409.
    Conflict,
    /// 412.
    PreconditionFailed,
    /// 413.
    PayloadTooLarge,
    /// 416.
    RangeNotSatisfiable,
    /// 422.
    Validation,
    /// 429.
    RateLimited,
    /// 500.
    Internal,
    /// 503.
    Unavailable,
}

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
    /// 405: the path exists, the method does not.
    #[error("this method is not allowed here")]
    MethodNotAllowed,
    /// 416: the requested byte range lies outside the file, whose size is sent in
    /// `Content-Range: bytes */<size>`.
    #[error("the requested range is outside the file")]
    RangeNotSatisfiable {
        /// The file's size in bytes.
        size: u64,
    },
    /// 409: the thing already exists.
    #[error("{0}")]
    Conflict(&'static str),
    /// 412: an `If-Match` that no longer holds the resource's ETag; nothing was written.
    #[error("the resource changed since that ETag was issued")]
    PreconditionFailed,
    /// 413: body over the limit.
    #[error("the request body is too large")]
    PayloadTooLarge,
    /// 422: well-formed input that breaks a rule.
    #[error("some fields are invalid")]
    Validation(ValidationErrors),
    /// 429: too many failed logins (or signups) from one address or for one email; sent with
    /// `Retry-After`, the whole seconds until an attempt is allowed again.
    #[error("{message}")]
    RateLimited {
        /// What was limited.
        message: &'static str,
        /// How long until the budget allows one more.
        retry_after: std::time::Duration,
    },
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
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::RangeNotSatisfiable { .. } => StatusCode::RANGE_NOT_SATISFIABLE,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable | ApiError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The contract's stable code.
    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::BadRequest(_) => ErrorCode::BadRequest,
            ApiError::Unauthenticated(_) => ErrorCode::Unauthenticated,
            ApiError::Forbidden => ErrorCode::Forbidden,
            ApiError::NotFound(_) => ErrorCode::NotFound,
            ApiError::MethodNotAllowed => ErrorCode::MethodNotAllowed,
            ApiError::RangeNotSatisfiable { .. } => ErrorCode::RangeNotSatisfiable,
            ApiError::Conflict(_) => ErrorCode::Conflict,
            ApiError::PreconditionFailed => ErrorCode::PreconditionFailed,
            ApiError::PayloadTooLarge => ErrorCode::PayloadTooLarge,
            ApiError::Validation(_) => ErrorCode::Validation,
            ApiError::RateLimited { .. } => ErrorCode::RateLimited,
            ApiError::Unavailable | ApiError::Busy(_) => ErrorCode::Unavailable,
            ApiError::Internal => ErrorCode::Internal,
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

/// What a store error means to the use case at hand, for the two errors whose meaning depends
/// on it: a unique constraint's refusal, and a row (a parent) that vanished under the write.
pub trait ResultExt<T> {
    /// A refusal by a unique constraint is this 409.
    fn conflict_means(self, message: &'static str) -> Result<T, ApiError>;
    /// A vanished row means the project is gone (a parent deleted under a concurrent write):
    /// the 404 of a missing project.
    fn gone_means_no_project(self) -> Result<T, ApiError>;
}

impl<T, E: Into<ApiError>> ResultExt<T> for Result<T, E> {
    fn conflict_means(self, message: &'static str) -> Result<T, ApiError> {
        self.map_err(|e| match e.into() {
            ApiError::Conflict(_) => ApiError::Conflict(message),
            other => other,
        })
    }

    fn gone_means_no_project(self) -> Result<T, ApiError> {
        self.map_err(|e| match e.into() {
            ApiError::NotFound(_) => ApiError::no_project(),
            other => other,
        })
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
        let retry_after = match self {
            ApiError::Busy(_) => Some(1),
            ApiError::RateLimited { retry_after, .. } => {
                Some((retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0)).max(1))
            }
            _ => None,
        };
        if let ApiError::RangeNotSatisfiable { size } = self {
            if let Ok(value) = axum::http::HeaderValue::from_str(&format!("bytes */{size}")) {
                response.headers_mut().insert(axum::http::header::CONTENT_RANGE, value);
            }
        }
        if let Some(secs) = retry_after {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}
