//! The admin API's one error boundary. Every failure reaches the UI as
//! `{code, message, fields?}`: a stable [`ErrorCode`] for the program, words for people,
//! and per-field problems when a form was refused. Handlers return
//! `Result<_, ApiError>` and use `?`; the `From` impls below decide, in one place, which
//! status and code each error of the lower layers becomes.
//!
//! A 4xx says why the request was refused. A 5xx that the admin can act on (the settings
//! file could not be written, the keychain refused, 8x8 failed) says so in words written
//! for them; anything else is [`ErrorCode::Internal`] with a generic message, and the
//! detail goes to the log (tracing), never to the page. Messages never carry a secret:
//! API keys are not part of any error of these layers.

use axum::{
    extract::{rejection::JsonRejection, FromRequest, FromRequestParts, Request},
    http::{request::Parts, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::{de::DeserializeOwned, Serialize};
use ts_rs::TS;

use crate::admin::inspector::InspectorError;
use crate::admin::settings_update::{ImportError, UpdateError};
use crate::admin::setup_helpers::{self, SetupError};
use chat_gateway_client::ClientError;
use switchboard_engine::EngineError;
use switchboard_store::db::DbError;
use switchboard_store::deliveries::StoreError;
use switchboard_store::outbox::OutboxError;
use switchboard_types::FieldError;

/// What went wrong, for the program: the UI branches on these, never on messages.
/// The 8x8 codes are also what a connection test reports (`TestOutcome.code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 401: the request lacks this launch's admin token (as a bearer token).
    Unauthorized,
    /// 403: the Host header is not loopback with the admin port (DNS rebinding).
    ForeignHost,
    /// 403: a state-changing request from another web page.
    ForeignOrigin,
    /// 404: no such route, conversation, delivery or sandbox object.
    NotFound,
    /// 400: the request body or a path segment is not what the route takes.
    BadRequest,
    /// 400: a query parameter is not one the route knows.
    BadQuery,
    /// 422: settings (or a connection to test) that do not validate; `fields` says where.
    InvalidSettings,
    /// 422: the handover's JSON properties do not read.
    InvalidJsonProperties,
    /// 422: an edited or synthetic event the relay cannot take.
    InvalidEvent,
    /// 400: an import that is not a Switchboard settings export.
    BadImport,
    /// 409: an API key set by an environment variable cannot be changed here.
    KeyFromEnvironment,
    /// 409: the engine refused the action in the conversation's current state.
    Refused,
    /// 409: the sandbox (8x8 emulator) is not running in this relay.
    NoSandbox,
    /// 409: the relay's webhook is not registered in the sandbox.
    NoWebhook,
    /// The sandbox refused: the action conflicts with its state (status as it answered).
    Conflict,
    /// The sandbox refused the action (status as it answered).
    SandboxRefused,
    /// 502: the sandbox did not answer.
    SandboxUnreachable,
    /// 503: the OS keychain refused; nothing was changed.
    KeychainFailed,
    /// 500: the settings could not be written; nothing was changed.
    SettingsNotSaved,
    /// 503: the relay is shutting down.
    Stopping,
    /// 500: anything else; the relay's log has the details.
    Internal,
    /// A connection test without an API key, typed or saved.
    NoKey,
    /// 413: the request body is larger than the admin API takes.
    TooLarge,
    /// A connection test of another Base URL than the saved one without the key typed:
    /// the saved key is sent only to the saved Base URL.
    KeyForOtherUrl,
    /// 409: no 8x8 API key is set for the connection.
    #[serde(rename = "8x8_not_configured")]
    GatewayNotConfigured,
    /// 8x8 answered 401: the API key.
    #[serde(rename = "8x8_unauthorized")]
    GatewayUnauthorized,
    /// 8x8 answered 403: the tenant.
    #[serde(rename = "8x8_forbidden")]
    GatewayForbidden,
    /// 8x8 answered 404: usually the Base URL.
    #[serde(rename = "8x8_not_found")]
    GatewayNotFound,
    /// 8x8 answered 429.
    #[serde(rename = "8x8_rate_limited")]
    GatewayRateLimited,
    /// 8x8 answered 5xx.
    #[serde(rename = "8x8_unavailable")]
    GatewayUnavailable,
    /// 8x8 refused the request (another 4xx).
    #[serde(rename = "8x8_rejected")]
    GatewayRejected,
    /// 8x8 did not answer in time.
    #[serde(rename = "8x8_timeout")]
    GatewayTimeout,
    /// No connection to the Base URL.
    #[serde(rename = "8x8_unreachable")]
    GatewayUnreachable,
    /// The secure connection (TLS) to the Base URL failed.
    #[serde(rename = "8x8_tls")]
    GatewayTls,
    /// The request to 8x8 failed on the way.
    #[serde(rename = "8x8_transport")]
    GatewayTransport,
    /// 8x8's answer could not be read.
    #[serde(rename = "8x8_bad_response")]
    GatewayBadResponse,
    /// The request to 8x8 could not be made at all.
    InvalidRequest,
}

impl ErrorCode {
    /// The status an error with this code answers with, unless it says otherwise
    /// ([`ApiError::with_status`]: the sandbox's refusals keep the sandbox's status).
    pub fn status(self) -> StatusCode {
        use ErrorCode::*;
        match self {
            Unauthorized => StatusCode::UNAUTHORIZED,
            ForeignHost | ForeignOrigin => StatusCode::FORBIDDEN,
            NotFound => StatusCode::NOT_FOUND,
            BadRequest | BadQuery | BadImport => StatusCode::BAD_REQUEST,
            InvalidSettings | InvalidJsonProperties | InvalidEvent => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            KeyFromEnvironment | Refused | NoSandbox | NoWebhook | Conflict | NoKey
            | KeyForOtherUrl | GatewayNotConfigured => StatusCode::CONFLICT,
            KeychainFailed | Stopping => StatusCode::SERVICE_UNAVAILABLE,
            SettingsNotSaved | Internal => StatusCode::INTERNAL_SERVER_ERROR,
            TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            SandboxRefused | SandboxUnreachable | GatewayUnauthorized | GatewayForbidden
            | GatewayNotFound | GatewayRateLimited | GatewayUnavailable | GatewayRejected
            | GatewayTimeout | GatewayUnreachable | GatewayTls | GatewayTransport
            | GatewayBadResponse | InvalidRequest => StatusCode::BAD_GATEWAY,
        }
    }
}

impl From<&ClientError> for ErrorCode {
    /// The same code as [`ClientError::code`] (a test keeps the two together), typed.
    fn from(e: &ClientError) -> Self {
        match e {
            ClientError::Api(a) if a.status == 401 => ErrorCode::GatewayUnauthorized,
            ClientError::Api(a) if a.status == 403 => ErrorCode::GatewayForbidden,
            ClientError::Api(a) if a.status == 404 => ErrorCode::GatewayNotFound,
            ClientError::Api(a) if a.status == 429 => ErrorCode::GatewayRateLimited,
            ClientError::Api(a) if a.status >= 500 => ErrorCode::GatewayUnavailable,
            ClientError::Api(_) => ErrorCode::GatewayRejected,
            ClientError::Timeout(_) => ErrorCode::GatewayTimeout,
            ClientError::Connect(_) => ErrorCode::GatewayUnreachable,
            ClientError::Transport(_) => ErrorCode::GatewayTransport,
            ClientError::Decode(_) => ErrorCode::GatewayBadResponse,
            ClientError::NotConfigured(_) => ErrorCode::GatewayNotConfigured,
            ClientError::InvalidRequest(_) => ErrorCode::InvalidRequest,
        }
    }
}

/// The body of every error answer of the admin API.
#[derive(Debug, Serialize, TS)]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
    /// Per-field problems (`invalid_settings`), named as the forms name fields.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[ts(as = "Option<Vec<FieldError>>", optional)]
    pub fields: Vec<FieldError>,
}

/// An admin API failure: the status, the body, and for the log what the body leaves out.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
    /// What went wrong underneath, for the log only.
    detail: Option<String>,
}

/// What a 5xx without words for the admin says.
const INTERNAL_MESSAGE: &str = "The relay could not complete this; the log has the details.";

impl ApiError {
    /// An error with the code's status.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status: code.status(),
            body: ErrorBody {
                code,
                message: message.into(),
                fields: Vec::new(),
            },
            detail: None,
        }
    }

    /// A failure the admin cannot act on: a generic message; `detail` goes to the log.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        Self {
            detail: Some(detail.to_string()),
            ..Self::new(ErrorCode::Internal, INTERNAL_MESSAGE)
        }
    }

    /// Settings (or a connection to test) refused field by field.
    pub fn invalid(fields: Vec<FieldError>) -> Self {
        let message = match fields.as_slice() {
            [one] => one.message.clone(),
            many => format!("{} fields need attention.", many.len()),
        };
        let mut e = Self::new(ErrorCode::InvalidSettings, message);
        e.body.fields = fields;
        e
    }

    /// Another status than the code's (a refusal passed on as the sandbox answered it).
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// Something for the log beside the message.
    pub fn with_detail(mut self, detail: impl std::fmt::Display) -> Self {
        self.detail = Some(detail.to_string());
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn code(&self) -> ErrorCode {
        self.body.code
    }

    pub fn message(&self) -> &str {
        &self.body.message
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            let detail = self.detail.as_deref().unwrap_or(&self.body.message);
            tracing::error!(status = self.status.as_u16(), code = ?self.body.code, error = %detail, "admin API request failed");
        } else if let Some(detail) = &self.detail {
            tracing::debug!(status = self.status.as_u16(), code = ?self.body.code, error = %detail, "admin API request refused");
        }
        (self.status, Json(self.body)).into_response()
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::NotFound(id) => ApiError::new(
                ErrorCode::NotFound,
                format!("There is no conversation {id}."),
            ),
            EngineError::Refused(m) => ApiError::new(ErrorCode::Refused, m),
            EngineError::Stopping => ApiError::new(ErrorCode::Stopping, "The relay is stopping."),
            other => ApiError::internal(other),
        }
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        ApiError::internal(e)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::internal(e)
    }
}

impl From<OutboxError> for ApiError {
    fn from(e: OutboxError) -> Self {
        ApiError::internal(e)
    }
}

impl From<UpdateError> for ApiError {
    fn from(e: UpdateError) -> Self {
        match e {
            UpdateError::Invalid(fields) => ApiError::invalid(fields),
            UpdateError::Keychain(_) => ApiError::new(ErrorCode::KeychainFailed, e.to_string()),
            UpdateError::FromEnvironment(_) => {
                ApiError::new(ErrorCode::KeyFromEnvironment, e.to_string())
            }
            // Written for the admin (the store's own reason, e.g. "disk full"), and logged.
            UpdateError::Store(_) => ApiError::new(ErrorCode::SettingsNotSaved, e.to_string()),
        }
    }
}

impl From<ImportError> for ApiError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::NotAnExport(_) => ApiError::new(ErrorCode::BadImport, e.to_string()),
            ImportError::Update(e) => e.into(),
        }
    }
}

impl From<InspectorError> for ApiError {
    fn from(e: InspectorError) -> Self {
        match e {
            InspectorError::NotFound(_) => ApiError::new(ErrorCode::NotFound, e.to_string()),
            InspectorError::BadInput(m) => ApiError::new(ErrorCode::InvalidEvent, m),
            InspectorError::Store(e) => e.into(),
        }
    }
}

/// A failed 8x8 call of a setup helper, in the words of [`setup_helpers::explain`].
impl From<SetupError> for ApiError {
    fn from(e: SetupError) -> Self {
        if let ClientError::NotConfigured(_) = e.error {
            return ApiError::new(
                ErrorCode::GatewayNotConfigured,
                "No 8x8 API key is set for this connection: save one in the settings, or use the sandbox.",
            )
            .with_detail(&e.error);
        }
        let outcome = setup_helpers::explain(&e.error, &e.host);
        let code = outcome.code.unwrap_or_else(|| ErrorCode::from(&e.error));
        // An 8x8 failure is 502 whatever 8x8 answered: the admin API itself worked.
        ApiError::new(code, outcome.message)
            .with_status(StatusCode::BAD_GATEWAY)
            .with_detail(&e.error)
    }
}

impl From<ClientError> for ApiError {
    fn from(error: ClientError) -> Self {
        SetupError {
            host: String::from("8x8"),
            error,
        }
        .into()
    }
}

/// The most the admin API reads of a request body (axum's default limit).
pub const BODY_LIMIT: &str = "2 MiB";

fn too_large() -> ApiError {
    ApiError::new(
        ErrorCode::TooLarge,
        format!("The request body is larger than the admin API takes ({BODY_LIMIT})."),
    )
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return too_large();
        }
        ApiError::new(
            ErrorCode::BadRequest,
            format!(
                "The request body is not what this route takes: {}",
                r.body_text()
            ),
        )
    }
}

/// A JSON request body whose rejection speaks the API's `{code, message}` like every
/// other error, instead of axum's plain-text one.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let Json(v) = Json::<T>::from_request(req, state).await?;
        Ok(JsonBody(v))
    }
}

/// A raw request body whose rejection (too large, cut off) speaks `{code, message}`.
pub struct BodyBytes(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for BodyBytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::body::Bytes::from_request(req, state).await {
            Ok(bytes) => Ok(BodyBytes(bytes)),
            Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(too_large()),
            Err(r) => Err(ApiError::new(ErrorCode::BadRequest, r.body_text())),
        }
    }
}

/// Query parameters, refused as `bad_query` when they do not read.
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| QueryParams(v))
            .map_err(|r| {
                ApiError::new(
                    ErrorCode::BadQuery,
                    format!("The query is not what this route takes: {}", r.body_text()),
                )
            })
    }
}

/// Path parameters, refused as `bad_request` (an id that is not a number, say).
pub struct PathParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for PathParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| PathParams(v))
            .map_err(|r| {
                if r.status().is_server_error() {
                    ApiError::internal(r.body_text())
                } else {
                    ApiError::new(
                        ErrorCode::BadRequest,
                        format!("The path is not what this route takes: {}", r.body_text()),
                    )
                }
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_gateway_client::ApiError as GatewayError;
    use std::time::Duration;

    fn body(e: ApiError) -> (StatusCode, serde_json::Value) {
        let status = e.status();
        (status, serde_json::to_value(&e.body).unwrap())
    }

    #[test]
    fn the_typed_8x8_codes_are_the_clients_codes() {
        let api = |status| ClientError::Api(GatewayError::parse(status, b"{}", None));
        let errors = [
            api(401),
            api(403),
            api(404),
            api(429),
            api(503),
            api(400),
            ClientError::Timeout(Duration::from_secs(1)),
            ClientError::Connect("refused".into()),
            ClientError::Transport("reset".into()),
            ClientError::Decode("eof".into()),
            ClientError::NotConfigured("no key".into()),
            ClientError::InvalidRequest("bad url".into()),
        ];
        for e in &errors {
            assert_eq!(
                serde_json::to_value(ErrorCode::from(e)).unwrap(),
                e.code(),
                "{e:?}"
            );
        }
    }

    #[test]
    fn a_5xx_hides_what_went_wrong_underneath() {
        let e: ApiError = EngineError::Db(DbError::Task("sqlite said something".into())).into();
        let (status, json) = body(e);
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(json["code"], "internal");
        assert_eq!(json["message"], INTERNAL_MESSAGE);
        assert!(json.get("fields").is_none());
    }

    #[test]
    fn invalid_settings_carry_their_fields() {
        let (status, json) = body(UpdateError::Invalid(vec![FieldError::new("a.b", "No.")]).into());
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            json,
            serde_json::json!({"code": "invalid_settings", "message": "No.", "fields": [{"field": "a.b", "message": "No."}]})
        );
        let (_, json) = body(ApiError::invalid(vec![
            FieldError::new("a", "x"),
            FieldError::new("b", "y"),
        ]));
        assert_eq!(json["message"], "2 fields need attention.");
    }

    #[test]
    fn an_8x8_failure_is_a_bad_gateway_in_plain_words() {
        let e: ApiError = SetupError {
            host: "api.example.com".into(),
            error: ClientError::Connect("connection refused".into()),
        }
        .into();
        let (status, json) = body(e);
        assert_eq!(status, StatusCode::BAD_GATEWAY);
        assert_eq!(json["code"], "8x8_unreachable");
        assert!(json["message"]
            .as_str()
            .unwrap()
            .contains("Cannot reach api.example.com"));
        let (status, json) = body(ClientError::NotConfigured("no key".into()).into());
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(json["code"], "8x8_not_configured");
    }
}
