//! A round-robin reverse proxy in front of several relays, as a load balancer in front
//! of a cluster: each request goes to the next relay in turn, whatever connection it
//! came on. A relay that does not answer (killed, restarting) costs that request a 502,
//! and 8x8 retries it, as it would behind a real balancer without health checks.

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use axum::{
    body::Body,
    extract::{Request, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};

struct Backends {
    ports: Vec<u16>,
    next: AtomicUsize,
    http: reqwest::Client,
}

/// Starts the proxy on a free loopback port; returns that port. It runs until the test
/// process ends.
pub async fn round_robin(ports: Vec<u16>) -> u16 {
    let state = Arc::new(Backends {
        ports,
        next: AtomicUsize::new(0),
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client builds"),
    });
    let app = axum::Router::new().fallback(forward).with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let port = listener.local_addr().expect("bound").port();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    port
}

async fn forward(State(b): State<Arc<Backends>>, request: Request) -> Response {
    let port = b.ports[b.next.fetch_add(1, Ordering::Relaxed) % b.ports.len()];
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, 4 << 20).await else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let mut out = b
        .http
        .request(parts.method, format!("http://127.0.0.1:{port}{path}"))
        .body(body);
    for (name, value) in &parts.headers {
        if name != "host" && name != "content-length" {
            out = out.header(name, value);
        }
    }
    match out.send().await {
        Ok(answer) => {
            let status = answer.status();
            let headers = answer.headers().clone();
            let bytes = answer.bytes().await.unwrap_or_default();
            let mut response = Response::new(Body::from(bytes));
            *response.status_mut() = status;
            for (name, value) in &headers {
                if name != "content-length" && name != "transfer-encoding" {
                    response.headers_mut().insert(name, value.clone());
                }
            }
            response
        }
        Err(_) => StatusCode::BAD_GATEWAY.into_response(),
    }
}
