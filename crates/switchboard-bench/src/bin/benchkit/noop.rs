//! A server that answers every POST with 204 and does nothing else: the floor a
//! receiver is compared with, and the noise floor of a latency on a shared machine.

use std::net::Ipv4Addr;

use axum::{http::StatusCode, routing::post, Router};

/// Starts it on a free loopback port; returns the URL to POST to.
pub async fn start() -> String {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("a loopback port for the no-op server");
    let url = format!("http://{}/noop", listener.local_addr().unwrap());
    let app = Router::new().route(
        "/noop",
        post(|_body: axum::body::Bytes| async { StatusCode::NO_CONTENT }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}
