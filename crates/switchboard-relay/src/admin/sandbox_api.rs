//! The sandbox's control API, reached through the admin API: the UI talks to the admin
//! listener only (one origin, one token), yet the agent console and the tester's web-chat
//! customer drive the embedded emulator. Only the routes those pages need are forwarded,
//! and only while the emulator runs (409 otherwise).

use std::{sync::Arc, time::Duration};

use axum::{
    body::Bytes,
    extract::{RawQuery, State},
    http::{header, Method, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post, put},
    Router,
};
use serde_json::Value;

use super::error::{ApiError, BodyBytes, ErrorCode, PathParams};
use crate::relay::RelayState;

pub fn router() -> Router<Arc<RelayState>> {
    Router::new()
        .route(
            "/sandbox/info",
            get(|s: State<Arc<RelayState>>, q: RawQuery| plain(s, q, "info")),
        )
        .route(
            "/sandbox/queues",
            get(|s: State<Arc<RelayState>>, q: RawQuery| plain(s, q, "queues")),
        )
        .route(
            "/sandbox/offers",
            get(|s: State<Arc<RelayState>>, q: RawQuery| plain(s, q, "offers")),
        )
        .route(
            "/sandbox/log",
            get(|s: State<Arc<RelayState>>, q: RawQuery| plain(s, q, "log")),
        )
        .route("/sandbox/queues/{id}/agent", put(queue_agent))
        .route("/sandbox/conversations/{id}", get(conversation))
        .route("/sandbox/conversations/{id}/agent/{action}", post(agent))
        .route(
            "/sandbox/conversations/{id}/customer/{action}",
            post(customer),
        )
        .route("/sandbox/webchat/conversations", post(webchat_start))
        // The contact center the sandbox console sets: agents' states and schedules.
        .route(
            "/sandbox/contact-center",
            get(|s: State<Arc<RelayState>>, q: RawQuery| plain(s, q, "contact-center")),
        )
        .route(
            "/sandbox/contact-center/queues/{id}/agents/{agent}",
            put(contact_center_agent),
        )
        .route(
            "/sandbox/contact-center/schedules/{id}",
            put(contact_center_schedule),
        )
}

const AGENT_ACTIONS: [&str; 5] = ["accept", "typing", "say", "transfer", "end"];
const CUSTOMER_ACTIONS: [&str; 5] = ["say", "typing", "quick-reply", "submit-card", "leave"];

fn http() -> &'static reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("a plain reqwest client builds")
    })
}

/// Path segments come from the URL; they must not climb out of `/sim/`.
fn segment(s: &str) -> Result<&str, ApiError> {
    if s.is_empty()
        || !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c))
        || s.starts_with('.')
    {
        return Err(ApiError::new(
            ErrorCode::BadRequest,
            format!("{s:?} is not an id the sandbox uses."),
        ));
    }
    Ok(s)
}

async fn forward(
    state: &RelayState,
    method: Method,
    path: &str,
    query: Option<String>,
    body: Option<Bytes>,
) -> Result<Response, ApiError> {
    let Some(sandbox) = &state.sandbox else {
        return Err(ApiError::new(
            ErrorCode::NoSandbox,
            "The sandbox (8x8 emulator) is not running in this relay; start it with --sandbox auto or on.",
        ));
    };
    let mut url = format!("{}/sim/{path}", sandbox.base_url.trim_end_matches('/'));
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        url.push('?');
        url.push_str(&q);
    }
    let mut request = http().request(method, &url);
    if let Some(body) = body {
        request = request
            .header(header::CONTENT_TYPE, "application/json")
            .body(body);
    }
    let response = request.send().await.map_err(|e| {
        ApiError::new(ErrorCode::SandboxUnreachable, "The sandbox did not answer.").with_detail(e)
    })?;
    let status = StatusCode::from_u16(response.status().as_u16()).unwrap_or(StatusCode::OK);
    let bytes = response.bytes().await.unwrap_or_default();
    if status.is_success() {
        if bytes.is_empty() {
            return Ok(status.into_response());
        }
        return Ok((status, [(header::CONTENT_TYPE, "application/json")], bytes).into_response());
    }
    // The emulator answers `{"error": "..."}`; the UI reads `{code, message}`.
    let message = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| String::from_utf8_lossy(&bytes).chars().take(300).collect());
    let code = match status {
        StatusCode::NOT_FOUND => ErrorCode::NotFound,
        StatusCode::CONFLICT => ErrorCode::Conflict,
        _ => ErrorCode::SandboxRefused,
    };
    Err(ApiError::new(code, message).with_status(status))
}

async fn plain(
    State(state): State<Arc<RelayState>>,
    RawQuery(query): RawQuery,
    path: &'static str,
) -> Result<Response, ApiError> {
    forward(&state, Method::GET, path, query, None).await
}

async fn queue_agent(
    State(state): State<Arc<RelayState>>,
    PathParams(id): PathParams<String>,
    BodyBytes(body): BodyBytes,
) -> Result<Response, ApiError> {
    let path = format!("queues/{}/agent", segment(&id)?);
    forward(&state, Method::PUT, &path, None, Some(body)).await
}

async fn contact_center_agent(
    State(state): State<Arc<RelayState>>,
    PathParams((id, agent)): PathParams<(String, String)>,
    BodyBytes(body): BodyBytes,
) -> Result<Response, ApiError> {
    let path = format!(
        "contact-center/queues/{}/agents/{}",
        segment(&id)?,
        segment(&agent)?
    );
    forward(&state, Method::PUT, &path, None, Some(body)).await
}

async fn contact_center_schedule(
    State(state): State<Arc<RelayState>>,
    PathParams(id): PathParams<String>,
    BodyBytes(body): BodyBytes,
) -> Result<Response, ApiError> {
    let path = format!("contact-center/schedules/{}", segment(&id)?);
    forward(&state, Method::PUT, &path, None, Some(body)).await
}

async fn conversation(
    State(state): State<Arc<RelayState>>,
    PathParams(id): PathParams<String>,
) -> Result<Response, ApiError> {
    let path = format!("conversations/{}", segment(&id)?);
    forward(&state, Method::GET, &path, None, None).await
}

async fn act(
    state: &RelayState,
    id: &str,
    who: &str,
    action: &str,
    allowed: &[&str],
    body: Bytes,
) -> Result<Response, ApiError> {
    if !allowed.contains(&action) {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            format!("The sandbox {who} cannot {action:?}."),
        ));
    }
    let id = segment(id)?;
    let body = if body.is_empty() {
        Bytes::from_static(b"{}")
    } else {
        body
    };
    let path = format!("conversations/{id}/{who}/{action}");
    forward(state, Method::POST, &path, None, Some(body)).await
}

async fn agent(
    State(state): State<Arc<RelayState>>,
    PathParams((id, action)): PathParams<(String, String)>,
    BodyBytes(body): BodyBytes,
) -> Result<Response, ApiError> {
    act(&state, &id, "agent", &action, &AGENT_ACTIONS, body).await
}

async fn customer(
    State(state): State<Arc<RelayState>>,
    PathParams((id, action)): PathParams<(String, String)>,
    BodyBytes(body): BodyBytes,
) -> Result<Response, ApiError> {
    act(&state, &id, "customer", &action, &CUSTOMER_ACTIONS, body).await
}

/// Starts an 8x8 web-chat customer routed to this relay: without a `webhookId` or
/// `channelId`, the webhook the relay registered in the sandbox is used.
async fn webchat_start(
    State(state): State<Arc<RelayState>>,
    BodyBytes(body): BodyBytes,
) -> Result<Response, ApiError> {
    let mut request: Value = if body.is_empty() {
        Value::Object(Default::default())
    } else {
        match serde_json::from_slice(&body) {
            Ok(v @ Value::Object(_)) => v,
            _ => {
                return Err(ApiError::new(
                    ErrorCode::BadRequest,
                    "The body must be a JSON object.",
                ))
            }
        }
    };
    if request.get("webhookId").is_none() && request.get("channelId").is_none() {
        let id = state.sandbox_setup().webhook_id.ok_or_else(|| {
            ApiError::new(
                ErrorCode::NoWebhook,
                "The relay's webhook is not registered in the sandbox (see the Endpoint settings).",
            )
        })?;
        request["webhookId"] = Value::String(id);
    }
    forward(
        &state,
        Method::POST,
        "webchat/conversations",
        None,
        Some(Bytes::from(request.to_string())),
    )
    .await
}
