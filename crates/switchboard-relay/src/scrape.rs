//! Who may scrape `/metrics`, and the opt-in listener a scraper on another machine uses.
//!
//! The admin token is new at every launch, so a Prometheus scrape job holding it breaks
//! at each restart. An operator can therefore set a scrape token
//! (`SWITCHBOARD_METRICS_TOKEN`, from the environment like the server's other secrets):
//! it outlives restarts and opens `/metrics` and nothing else. On the admin listener
//! either token is taken. The admin listener only listens on 127.0.0.1; `--metrics-bind`
//! adds a listener that serves `/metrics` alone, to the scrape token alone (the admin
//! token never has to cross the network), within the same connection limits as the
//! other listeners.

use std::{net::SocketAddr, sync::Arc};

use axum::{
    extract::{Request, State},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use tokio::{net::TcpListener, sync::watch, task::JoinHandle};

use crate::admin::{ApiError, ErrorCode};
use crate::relay::RelayState;
use switchboard_settings::secrets::{SecretName, Secrets};
use switchboard_types::token;

/// Shortest scrape token accepted: 32 characters is 128 bits even as hex.
pub const MIN_TOKEN_LEN: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum ScrapeError {
    #[error("SWITCHBOARD_METRICS_TOKEN is too weak: use at least {MIN_TOKEN_LEN} visible characters without spaces (make one with `openssl rand -hex 32`)")]
    WeakToken,
    #[error("--metrics-bind needs a scrape token: set SWITCHBOARD_METRICS_TOKEN (at least {MIN_TOKEN_LEN} characters, e.g. from `openssl rand -hex 32`), which the scraper sends as `Authorization: Bearer <token>`")]
    NoToken,
    #[error("the scrape token cannot be read: {0}")]
    Secrets(String),
    #[error("cannot listen for scrapes on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Whether `value` is strong enough to be a scrape token.
pub fn check_token(value: &str) -> Result<(), ScrapeError> {
    let visible = value.bytes().all(|b| b.is_ascii_graphic());
    if value.len() >= MIN_TOKEN_LEN && visible {
        Ok(())
    } else {
        Err(ScrapeError::WeakToken)
    }
}

/// The operator's scrape token, checked; `None` when none is set. Only the environment
/// is read: the token is a server operator's, and a keychain that cannot be reached must
/// neither stop the server nor be asked at every scrape.
pub async fn configured_token(secrets: &Secrets) -> Result<Option<String>, ScrapeError> {
    if !secrets.from_environment(SecretName::MetricsToken) {
        return Ok(None);
    }
    let token = secrets
        .get(SecretName::MetricsToken)
        .await
        .map_err(|e| ScrapeError::Secrets(e.to_string()))?;
    match token {
        Some(t) => {
            check_token(t.expose())?;
            Ok(Some(t.expose().to_string()))
        }
        None => Ok(None),
    }
}

async fn scrape_token_matches(state: &RelayState, given: &str) -> bool {
    // A weak or unreadable token opens nothing; the server refuses to start with one.
    matches!(configured_token(&state.secrets).await, Ok(Some(t)) if token::matches(&t, given))
}

fn refused(message: &str) -> Response {
    ApiError::new(ErrorCode::Unauthorized, message).into_response()
}

/// `/metrics` on the admin listener: this launch's admin token or the scrape token.
pub async fn admin_or_scrape_token(
    State(state): State<Arc<RelayState>>,
    req: Request,
    next: Next,
) -> Response {
    if let Some(given) = crate::admin::presented_token(&req) {
        if token::matches(&state.admin_token, &given) || scrape_token_matches(&state, &given).await
        {
            return next.run(req).await;
        }
    }
    refused("Scrape with `Authorization: Bearer <token>`: the scrape token set in SWITCHBOARD_METRICS_TOKEN, or this launch's admin token.")
}

async fn scrape_token_only(
    State(state): State<Arc<RelayState>>,
    req: Request,
    next: Next,
) -> Response {
    if let Some(given) = crate::admin::presented_token(&req) {
        if scrape_token_matches(&state, &given).await {
            return next.run(req).await;
        }
    }
    refused(
        "Scrape with `Authorization: Bearer <token>`, the token set in SWITCHBOARD_METRICS_TOKEN.",
    )
}

/// The scrape listener's routes: `/metrics` behind the scrape token, and nothing else.
pub fn router(state: Arc<RelayState>) -> Router {
    Router::new()
        .route("/metrics", get(crate::metrics::scrape))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            scrape_token_only,
        ))
        .fallback(|| async { ApiError::new(ErrorCode::NotFound, "Only /metrics is served here.") })
        .with_state(state)
}

/// A running scrape listener; it stops when [`ScrapeListener::stop`] is called or the
/// process ends.
pub struct ScrapeListener {
    pub addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl ScrapeListener {
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Binds `addr` and serves the scrape routes. Refuses without a scrape token: the port
/// may face a network.
pub async fn start(
    addr: SocketAddr,
    state: Arc<RelayState>,
) -> Result<ScrapeListener, ScrapeError> {
    if configured_token(&state.secrets).await?.is_none() {
        return Err(ScrapeError::NoToken);
    }
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ScrapeError::Bind { addr, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| ScrapeError::Bind { addr, source })?;
    let (stop, stopped) = watch::channel(false);
    // A scraper needs a handful of connections; the cap keeps a flood from costing more.
    let limits = crate::listener::Limits::standard(64);
    let task = crate::listener::serve("metrics", listener, router(state), limits, stopped);
    tracing::info!(%addr, "serving /metrics to the scrape token");
    Ok(ScrapeListener { addr, stop, task })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scrape_token_needs_32_visible_characters() {
        assert!(check_token(&"a".repeat(32)).is_ok());
        assert!(check_token(&"0f".repeat(32)).is_ok());
        assert!(check_token(&"a".repeat(31)).is_err());
        assert!(check_token(&format!("{} ", "a".repeat(32))).is_err());
        assert!(check_token(&format!("{}é", "a".repeat(32))).is_err());
        assert!(check_token("").is_err());
    }
}
