//! A pass-through proxy in front of the emulator that notes the instant each message the
//! relay posts to 8x8 (`POST …/conversations/{id}/messages`) has fully arrived: "8x8 has
//! seen it", without changing the emulator. Everything is forwarded unchanged.

use std::{net::Ipv4Addr, time::Instant};

use axum::{
    body::{to_bytes, Body},
    extract::{Request, State},
    http::{header, HeaderName, StatusCode},
    response::Response,
    Router,
};
use tokio::sync::mpsc;

/// A message the relay posted: its 8x8 conversation id, its text and when it arrived.
#[derive(Debug)]
pub struct Posted {
    pub conversation_id: String,
    pub text: String,
    pub at: Instant,
}

#[derive(Clone)]
struct Upstream {
    base: String,
    http: reqwest::Client,
    seen: mpsc::UnboundedSender<Posted>,
}

/// Starts the proxy to `upstream` (a base URL); returns its base URL and the posts seen.
pub async fn start(upstream: String) -> (String, mpsc::UnboundedReceiver<Posted>) {
    let (seen, rx) = mpsc::unbounded_channel();
    let state = Upstream {
        base: upstream.trim_end_matches('/').to_string(),
        http: reqwest::Client::new(),
        seen,
    };
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("a loopback port for the proxy");
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new().fallback(forward).with_state(state);
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, rx)
}

/// Hop-by-hop headers and those the client library sets itself.
fn passes(name: &HeaderName) -> bool {
    ![
        header::HOST,
        header::CONNECTION,
        header::CONTENT_LENGTH,
        header::TRANSFER_ENCODING,
    ]
    .contains(name)
}

async fn forward(State(up): State<Upstream>, req: Request) -> Result<Response, StatusCode> {
    let (parts, body) = req.into_parts();
    let body = to_bytes(body, usize::MAX)
        .await
        .map_err(|_| StatusCode::BAD_REQUEST)?;
    let at = Instant::now();
    let path = parts.uri.path();
    if parts.method == "POST" {
        if let Some(id) = path
            .strip_prefix("/chat-gateway/v1/conversations/")
            .and_then(|rest| rest.strip_suffix("/messages"))
        {
            let text = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["text"].as_str().map(str::to_string))
                .unwrap_or_default();
            let _ = up.seen.send(Posted {
                conversation_id: id.to_string(),
                text,
                at,
            });
        }
    }
    let target = format!(
        "{}{}",
        up.base,
        parts.uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let mut out = up.http.request(parts.method.clone(), target).body(body);
    for (name, value) in parts.headers.iter().filter(|(n, _)| passes(n)) {
        out = out.header(name, value);
    }
    let answer = out.send().await.map_err(|_| StatusCode::BAD_GATEWAY)?;
    let mut response = Response::builder().status(answer.status());
    for (name, value) in answer.headers().iter().filter(|(n, _)| passes(n)) {
        response = response.header(name, value);
    }
    let bytes = answer.bytes().await.map_err(|_| StatusCode::BAD_GATEWAY)?;
    response
        .body(Body::from(bytes))
        .map_err(|_| StatusCode::BAD_GATEWAY)
}
