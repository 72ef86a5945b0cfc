//! A fast stand-in for 8x8's API: it answers the calls the bot makes in a conversation
//! (post a message, the typing pulse) itself — 202 after an optional delay, no echo, no
//! signing — and notes when each message arrived. Everything else (the signing keys the
//! relay fetches) is forwarded to the emulator. With it, the whole path's figures are
//! the relay's, not the emulator's RSA signing of 8x8's echoes on the same cores.

use std::{
    net::Ipv4Addr,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use axum::{
    body::{to_bytes, Body},
    extract::{Request, State},
    http::StatusCode,
    response::Response,
    Router,
};
use tokio::sync::mpsc;

use super::proxy::Posted;

#[derive(Clone)]
struct StandIn {
    upstream: String,
    http: reqwest::Client,
    latency_ms: Arc<AtomicU64>,
    seen: mpsc::UnboundedSender<Posted>,
}

/// Starts the stand-in; `upstream` (the emulator) serves what it does not answer itself.
/// Returns its base URL, the messages posted to it, and its answer delay in ms (0 at
/// first; settable while it runs).
pub async fn start(upstream: String) -> (String, mpsc::UnboundedReceiver<Posted>, Arc<AtomicU64>) {
    let latency_ms = Arc::new(AtomicU64::new(0));
    let (seen, rx) = mpsc::unbounded_channel();
    let state = StandIn {
        upstream: upstream.trim_end_matches('/').to_string(),
        http: reqwest::Client::new(),
        latency_ms: latency_ms.clone(),
        seen,
    };
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("a loopback port for the 8x8 stand-in");
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new().fallback(answer).with_state(state);
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, rx, latency_ms)
}

async fn answer(State(s): State<StandIn>, req: Request) -> Result<Response, StatusCode> {
    let (parts, body) = req.into_parts();
    let body = to_bytes(body, usize::MAX)
        .await
        .map_err(|_| StatusCode::BAD_REQUEST)?;
    let path = parts.uri.path().to_string();
    let call = path
        .strip_prefix("/chat-gateway/v1/conversations/")
        .and_then(|rest| rest.rsplit_once('/'));
    if parts.method == "POST" {
        if let Some((id, what)) = call {
            let latency = s.latency_ms.load(Ordering::Relaxed);
            if latency > 0 {
                tokio::time::sleep(Duration::from_millis(latency)).await;
            }
            if what == "messages" {
                let text = serde_json::from_slice::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v["text"].as_str().map(str::to_string))
                    .unwrap_or_default();
                let _ = s.seen.send(Posted {
                    conversation_id: id.to_string(),
                    text,
                    at: Instant::now(),
                });
            }
            return Ok(Response::builder()
                .status(StatusCode::ACCEPTED)
                .body(Body::empty())
                .unwrap());
        }
    }
    let target = format!(
        "{}{}",
        s.upstream,
        parts.uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let answer = s
        .http
        .request(parts.method.clone(), target)
        .body(body)
        .send()
        .await
        .map_err(|_| StatusCode::BAD_GATEWAY)?;
    let status = answer.status();
    let content_type = answer.headers().get("content-type").cloned();
    let bytes = answer.bytes().await.map_err(|_| StatusCode::BAD_GATEWAY)?;
    let mut response = Response::builder().status(status);
    if let Some(ct) = content_type {
        response = response.header("content-type", ct);
    }
    response
        .body(Body::from(bytes))
        .map_err(|_| StatusCode::BAD_GATEWAY)
}
