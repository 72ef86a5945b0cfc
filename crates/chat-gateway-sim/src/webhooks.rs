//! Webhooks (chat-gateway.md §3.1): CRUD plus the WEB_HOOK_VERIFY reachability check 8x8 runs on
//! create, update and `POST /webhooks/verify` (P1, P2, P4).

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use serde_json::Value;

use crate::api::{json_body, run};
use crate::auth::authorize;
use crate::delivery::{new_event_id, Outgoing, SignMode};
use crate::errors::{empty, hal, ApiError, ErrorStyle};
use crate::events::WEB_HOOK_VERIFY;
use crate::paging::ListQuery;
use crate::state::Sim;
use crate::store::Webhook;
use crate::validate::{object, optional_str, required_str, uri};

const VERSION: &str = "Chat Gateway v1.0";

pub async fn list(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    run(&sim, &headers, ErrorStyle::Generic, |caller| {
        let query = ListQuery::parse(q.as_deref(), "id:asc", &["id", "name", "uri"])?;
        let store = sim.lock();
        let items = store
            .webhooks
            .values()
            .filter(|w| w.tenant == caller.tenant)
            .map(|w| (w.seq, w.to_json()))
            .collect();
        let href = format!("{}/chat-gateway/v1/webhooks", sim.base_url);
        Ok(hal(
            StatusCode::OK,
            query.page(items, "webhooks", Some(href)),
        ))
    })
}

pub async fn get(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    run(&sim, &headers, ErrorStyle::Generic, |caller| {
        let store = sim.lock();
        let w = store
            .webhook(&caller.tenant, &id)
            .ok_or_else(|| ApiError::not_found("WebHook", &id))?;
        Ok(hal(StatusCode::OK, w.to_json()))
    })
}

pub async fn delete(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    run(&sim, &headers, ErrorStyle::Generic, |caller| {
        let mut store = sim.lock();
        if store.webhook(&caller.tenant, &id).is_none() {
            return Err(ApiError::not_found("WebHook", &id));
        }
        store.webhooks.remove(&id);
        Ok(empty(StatusCode::NO_CONTENT))
    })
}

/// Name, URI and version of a create/PUT body. P1: `version` or `notificationVersion`,
/// at least one, and it must be the v1 format.
fn parse(body: &Value) -> Result<(String, String), ApiError> {
    let m = object(body, "body")?;
    let name = required_str(m, "name", Some(256))?;
    let u = uri(&required_str(m, "uri", None)?, "uri")?;
    let version = optional_str(m, "version")?;
    let notification_version = optional_str(m, "notificationVersion")?;
    match version.or(notification_version) {
        None => Err(ApiError::invalid(
            "constraint_violation",
            "notificationVersion: May not be empty.",
        )),
        Some(v) if v != VERSION => Err(ApiError::invalid(
            "invalid_version",
            format!("Unsupported notification version {v}; use {VERSION}"),
        )),
        Some(_) => Ok((name, u)),
    }
}

/// Sends WEB_HOOK_VERIFY to `uri` once; any 2xx passes.
async fn verify(
    sim: &Sim,
    tenant: &str,
    webhook_id: Option<String>,
    target: &str,
) -> Result<(), ApiError> {
    let settings = sim.settings();
    let out = Outgoing {
        record_type: "WEB_HOOK_VERIFY".into(),
        event_id: new_event_id(),
        tenant: tenant.into(),
        url: target.into(),
        webhook_id,
        channel_id: None,
        conversation_id: None,
        interaction_id: None,
        body: Bytes::from_static(WEB_HOOK_VERIFY.as_bytes()),
    };
    let mode = if settings.sign_verify_events {
        SignMode::Signed
    } else {
        SignMode::Unsigned
    };
    sim.delivery
        .attempt(&out, 0, mode, None)
        .await
        .map(|_| ())
        .map_err(|why| {
            ApiError::invalid(
                "webhook_unreachable",
                format!("Webhook verification failed: {target} answered {why}"),
            )
        })
}

pub async fn create(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> Response {
    let style = ErrorStyle::Generic;
    let caller = match authorize(&sim.seed, &headers) {
        Ok(c) => c,
        Err(e) => return e.render(style, ""),
    };
    let parsed = json_body(&body).and_then(|b| parse(&b));
    let (name, u) = match parsed {
        Ok(p) => p,
        Err(e) => return e.render(style, &caller.tenant),
    };
    if sim.settings().verify_webhooks {
        if let Err(e) = verify(&sim, &caller.tenant, None, &u).await {
            return e.render(style, &caller.tenant);
        }
    }
    let mut store = sim.lock();
    let id = store.next_numeric_id();
    let seq = store.next_seq();
    let w = Webhook {
        id: id.clone(),
        tenant: caller.tenant.clone(),
        name,
        uri: u,
        version: VERSION.into(),
        seq,
    };
    let json = w.to_json();
    store.webhooks.insert(id, w);
    hal(StatusCode::OK, json)
}

pub async fn update(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let style = ErrorStyle::Generic;
    let caller = match authorize(&sim.seed, &headers) {
        Ok(c) => c,
        Err(e) => return e.render(style, ""),
    };
    if sim.lock().webhook(&caller.tenant, &id).is_none() {
        return ApiError::not_found("WebHook", &id).render(style, &caller.tenant);
    }
    let (name, u) = match json_body(&body).and_then(|b| parse(&b)) {
        Ok(p) => p,
        Err(e) => return e.render(style, &caller.tenant),
    };
    if sim.settings().verify_webhooks {
        if let Err(e) = verify(&sim, &caller.tenant, Some(id.clone()), &u).await {
            return e.render(style, &caller.tenant);
        }
    }
    let mut store = sim.lock();
    let Some(w) = store
        .webhooks
        .get_mut(&id)
        .filter(|w| w.tenant == caller.tenant)
    else {
        return ApiError::not_found("WebHook", &id).render(style, &caller.tenant);
    };
    w.name = name;
    w.uri = u;
    hal(StatusCode::OK, w.to_json())
}

/// `POST /webhooks/verify {version, uri}`: a check without creating anything. It always
/// sends the verify event, whatever `verify_webhooks` says.
pub async fn verify_only(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> Response {
    let style = ErrorStyle::Generic;
    let caller = match authorize(&sim.seed, &headers) {
        Ok(c) => c,
        Err(e) => return e.render(style, ""),
    };
    let parsed = json_body(&body).and_then(|b| {
        let m = object(&b, "body")?.clone();
        // P2: any non-empty version string.
        required_str(&m, "version", None)?;
        uri(&required_str(&m, "uri", None)?, "uri")
    });
    let u = match parsed {
        Ok(u) => u,
        Err(e) => return e.render(style, &caller.tenant),
    };
    match verify(&sim, &caller.tenant, None, &u).await {
        Ok(()) => empty(StatusCode::NO_CONTENT),
        Err(e) => e.render(style, &caller.tenant),
    }
}

/// `GET /jwk/{kid}/public` (and the legacy path): open, no key needed (§3.2).
pub async fn jwk(State(sim): State<Arc<Sim>>, Path(kid): Path<String>) -> Response {
    match sim.keyring.jwk(&kid) {
        Some(j) => {
            let mut r =
                axum::response::IntoResponse::into_response((StatusCode::OK, j.to_string()));
            r.headers_mut().insert(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/json"),
            );
            r
        }
        None => ApiError::not_found("JwkKey", &kid).render(ErrorStyle::Generic, ""),
    }
}
