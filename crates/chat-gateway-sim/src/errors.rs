//! 8x8's error bodies. They are `application/problem+json` but not RFC 7807, and the
//! shape depends on the endpoint (chat-gateway.md §2, P17), so every handler picks an
//! [`ErrorStyle`] and the same failure renders the way that endpoint renders it.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::clock::random_id;

/// Which error schemas an endpoint declares for 400 and 404.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorStyle {
    /// 400 GenericExceptionPayload, 404 ResourceNotFoundProblem (most endpoints).
    Generic,
    /// 400 BadRequestProblem (`errors` is an object), 404 ResourceNotFoundProblem:
    /// `POST …/messages`.
    Message,
    /// 400 InvalidParameterExceptionPayload, 404 ResourceNotFoundExceptionPayload:
    /// post-agent-assignment, typing, thinking, read-receipt.
    Indicator,
    /// 400 GenericExceptionPayload, 404 ResourceNotFoundExceptionPayload: the card PUTs.
    Card,
    /// No 404 declared, so `default` (GenericExceptionPayload) applies: participants,
    /// messages and cards lists.
    ListWithoutNotFound,
}

/// A failure of an API call, before it is rendered in an endpoint's style.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("access denied")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    /// The 403 of `POST /channels` and `POST …/attachments`, which declare the generic
    /// shape.
    #[error("{0}")]
    ForbiddenGeneric(String),
    #[error("{kind} {id} not found")]
    NotFound { kind: &'static str, id: String },
    #[error("{message}")]
    Invalid { code: String, message: String },
    #[error("{0}")]
    Internal(String),
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("injected fault {0}")]
    Injected(u16),
}

impl ApiError {
    pub fn invalid(code: &str, message: impl Into<String>) -> Self {
        ApiError::Invalid {
            code: code.into(),
            message: message.into(),
        }
    }

    pub fn not_found(kind: &'static str, id: impl Into<String>) -> Self {
        ApiError::NotFound {
            kind,
            id: id.into(),
        }
    }

    /// Renders the error the way an endpoint of `style` does.
    pub fn render(self, style: ErrorStyle, tenant: &str) -> Response {
        let (status, body) = match self {
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                json!({
                    "message": "Access Denied",
                    "errors": [{"message": "Access Denied", "code": "access_denied"}],
                    "referenceId": reference_id(),
                }),
            ),
            ApiError::Forbidden(detail) => (
                StatusCode::FORBIDDEN,
                json!({"message": "The tenant does not belong to customer.", "errors": [detail]}),
            ),
            ApiError::ForbiddenGeneric(detail) => (
                StatusCode::FORBIDDEN,
                generic(
                    "The tenant does not belong to customer.",
                    "forbidden",
                    &detail,
                ),
            ),
            ApiError::NotFound { kind, id } => {
                let message = format!("Resource of type {kind} with id {id} was not found.");
                let body = match style {
                    ErrorStyle::Indicator | ErrorStyle::Card => json!({
                        "message": "Resource not found",
                        "errors": [{
                            "code": "resource_not_found",
                            "message": format!("Entity of type {kind} with id {id} was not found."),
                        }],
                    }),
                    ErrorStyle::ListWithoutNotFound => {
                        generic(&message, "resource_not_found", &message)
                    }
                    ErrorStyle::Generic | ErrorStyle::Message => json!({
                        "message": message,
                        "errors": [format!("{kind} {id} does not exist for tenant {tenant}.")],
                    }),
                };
                (StatusCode::NOT_FOUND, body)
            }
            ApiError::Invalid { code, message } => {
                let body = match style {
                    ErrorStyle::Message => json!({
                        "message": message,
                        "errors": {"code": code, "message": message},
                        "referenceId": reference_id(),
                    }),
                    ErrorStyle::Indicator => json!({
                        "message": format!(
                            "Invalid parameter exception for conversation and tenant {tenant}."
                        ),
                        "errors": [{"code": code, "message": message}],
                        "referenceId": reference_id(),
                    }),
                    _ => generic(&message, &code, &message),
                };
                (StatusCode::BAD_REQUEST, body)
            }
            ApiError::Internal(detail) => {
                tracing::error!("internal error: {detail}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    generic("Internal error.", "internal_error", "Internal error."),
                )
            }
            ApiError::Injected(status) => {
                let status =
                    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                (
                    status,
                    generic(
                        "Internal error.",
                        "injected_fault",
                        "Injected by the emulator.",
                    ),
                )
            }
            ApiError::TooManyRequests { retry_after_secs } => {
                let mut r = problem(
                    StatusCode::TOO_MANY_REQUESTS,
                    generic("Too many requests.", "rate_limited", "Rate limit exceeded."),
                );
                if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                    r.headers_mut().insert(header::RETRY_AFTER, v);
                }
                return r;
            }
        };
        problem(status, body)
    }
}

fn generic(message: &str, code: &str, detail: &str) -> Value {
    json!({"message": message, "errors": [{"code": code, "message": detail}]})
}

fn reference_id() -> String {
    random_id(8)
}

/// An `application/problem+json` response.
pub fn problem(status: StatusCode, body: Value) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    r
}

/// An `application/hal+json` success response.
pub fn hal(status: StatusCode, body: Value) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/hal+json"),
    );
    r
}

/// A success without a body (201/202/204).
pub fn empty(status: StatusCode) -> Response {
    status.into_response()
}
