//! The HTTP surface: 8x8's 34 operations at 8x8's paths (plus the legacy JWK path and the
//! contact-center statistics and schedules, contact_center_api.rs), the
//! inbound Event Log and API fault injection around them, and the control API.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, patch, post, put};
use axum::Router;

use crate::clock::now_ms;
use crate::errors::ErrorStyle;
use crate::eventlog::LogRecord;
use crate::state::Sim;
use crate::{
    attachments, cards, channels, contact_center_api, control, control_contact_center,
    conversations, indicators, messages, webhooks,
};

const V1: &str = "/chat-gateway/v1";

pub fn router(sim: Arc<Sim>) -> Router {
    let c = |p: &str| format!("{V1}/conversations/{{conversationId}}{p}");
    let api = Router::new()
        .route(&format!("{V1}/webhooks"), get(webhooks::list).post(webhooks::create))
        .route(&format!("{V1}/webhooks/verify"), post(webhooks::verify_only))
        .route(
            &format!("{V1}/webhooks/{{webhookId}}"),
            get(webhooks::get).put(webhooks::update).delete(webhooks::delete),
        )
        .route(&format!("{V1}/jwk/{{jwkId}}/public"), get(webhooks::jwk))
        // The legacy URL the docs' sample code still uses (P15).
        .route("/vcc/{region}/chat/v2/jwk/{jwkId}/public", get(legacy_jwk))
        .route(&format!("{V1}/channels"), get(channels::list).post(channels::create))
        .route(
            &format!("{V1}/channels/{{channelId}}"),
            get(channels::get).put(channels::update).delete(channels::delete),
        )
        .route(&format!("{V1}/conversations"), get(conversations::list).post(conversations::create))
        .route(
            &c(""),
            get(conversations::get).put(conversations::put).patch(conversations::patch),
        )
        .route(&c("/interactions"), get(conversations::interactions))
        .route(&c("/post-agent-assignment"), post(conversations::post_agent_assignment))
        .route(&c("/typing"), post(indicators::typing))
        .route(&c("/thinking"), post(indicators::thinking))
        .route(&c("/read-receipt"), post(indicators::read_receipt))
        .route(&c("/participants"), get(conversations::participants))
        .route(&c("/participants/user"), patch(conversations::leave))
        .route(&c("/messages"), get(messages::list).post(messages::send))
        .route(&c("/messages/{messageId}"), get(messages::get))
        .route(&c("/messages/{messageId}/cards"), get(messages::cards))
        .route(&c("/attachments"), get(attachments::list).post(attachments::upload))
        .route(&c("/attachments/{attachmentId}"), get(attachments::get))
        .route(&c("/attachments/{attachmentId}/content"), get(attachments::content))
        .route(
            "/api/v1/tenant/{tenantId}/conversations/{conversationId}/cards/{cardId}/action-submit",
            put(cards::submit),
        )
        .route(
            "/api/v1/tenant/{tenantId}/conversations/{conversationId}/cards/{cardId}/action-execute",
            put(cards::execute),
        )
        .merge(contact_center_api::router())
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn_with_state(sim.clone(), inbound));
    api.merge(control::router())
        .merge(control_contact_center::router())
        .fallback(unknown_path)
        .with_state(sim)
}

/// Unknown paths answer like 8x8's gateway would, with a problem body rather than an
/// empty 404.
async fn unknown_path(uri: axum::http::Uri) -> Response {
    crate::errors::ApiError::not_found("Path", uri.path()).render(ErrorStyle::Generic, "")
}

const MAX_BODY: usize = 25 * 1024 * 1024;

async fn legacy_jwk(
    state: State<Arc<Sim>>,
    axum::extract::Path((_region, kid)): axum::extract::Path<(String, String)>,
) -> Response {
    webhooks::jwk(state, axum::extract::Path(kid)).await
}

/// Applies API faults (latency, 429/5xx) and records every API call in the Event Log as
/// an inbound record, with the body the client sent.
async fn inbound(State(sim): State<Arc<Sim>>, req: Request, next: Next) -> Response {
    let (latency, fault) = {
        let mut f = sim.faults.lock().unwrap_or_else(|e| e.into_inner());
        (f.api_latency_ms, f.take_api())
    };
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let method = req.method().to_string();
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let mut headers = BTreeMap::new();
    for (k, v) in req.headers() {
        let value = if k.as_str().eq_ignore_ascii_case("x-api-key") {
            "***".to_string()
        } else {
            v.to_str().unwrap_or("<binary>").to_string()
        };
        headers.insert(k.as_str().to_string(), value);
    }
    let multipart = headers
        .get("content-type")
        .is_some_and(|c| c.starts_with("multipart/"));
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .unwrap_or_default();
    let request_body = if multipart {
        format!("<multipart body, {} bytes>", bytes.len())
    } else {
        String::from_utf8_lossy(&bytes[..bytes.len().min(65_536)]).into_owned()
    };
    let started = Instant::now();
    let injected = fault.is_some();
    let response = match fault {
        Some(err) => err.render(ErrorStyle::Generic, ""),
        None => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
    };
    let code = response.status().as_u16();
    sim.log.push(LogRecord {
        direction: "inbound".into(),
        status: if code < 400 { "ok" } else { "error" }.into(),
        status_code: Some(code),
        record_type: format!("{method} {}", path.split('?').next().unwrap_or("")),
        duration_ms: started.elapsed().as_millis() as u64,
        timestamp: now_ms(),
        url: path,
        request_headers: headers,
        request_body,
        fault: injected.then(|| format!("api-{code}")),
        ..LogRecord::default()
    });
    response
}
