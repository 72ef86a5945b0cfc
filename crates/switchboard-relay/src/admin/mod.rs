//! The admin listener: the UI and its API, bound to loopback only. Three guards keep it
//! private even from other web pages in the same browser: a Host allow-list (defeats DNS
//! rebinding), a per-launch token (header or an HttpOnly cookie set from the one-time
//! admin link), and an Origin check on requests that change state.

mod analytics_api;
mod contact_center_api;
mod conversations_api;
mod copilot_api;
pub mod error;
mod guard;
pub mod inspector;
mod inspector_api;
mod sandbox_api;
pub mod sandbox_setup;
mod settings_api;
pub mod settings_update;
pub mod setup_helpers;
mod status;
#[cfg(test)]
mod ts_export;
mod ui;

use std::sync::Arc;

use axum::{
    extract::State,
    middleware,
    response::sse::{Event, KeepAlive, Sse},
    routing::get,
    Router,
};
use futures_util::{Stream, StreamExt};
use tokio_stream::wrappers::{errors::BroadcastStreamRecvError, BroadcastStream};

use crate::relay::RelayState;

pub use error::{ApiError, ErrorCode};
pub(crate) use guard::presented_token;
pub use status::Status;

/// The status as the admin API reports it, for shells that print it.
pub async fn status_of(state: &RelayState) -> Status {
    status::build(state).await
}

pub fn router(state: Arc<RelayState>) -> Router {
    let api = Router::new()
        .route("/status", get(status::get_status))
        .route("/events", get(events))
        .merge(settings_api::router())
        .merge(sandbox_api::router())
        .merge(inspector_api::router())
        .merge(conversations_api::router())
        .merge(contact_center_api::router())
        .merge(copilot_api::router())
        .merge(analytics_api::router())
        .fallback(|| async { ApiError::new(ErrorCode::NotFound, "No such admin API route.") })
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            guard::require_token,
        ));
    // Prometheus scrapes with `Authorization: Bearer <token>`: the admin token like the
    // API, or the operator's scrape token, which survives a restart (scrape.rs).
    let metrics = Router::new()
        .route("/metrics", get(crate::metrics::scrape))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            crate::scrape::admin_or_scrape_token,
        ));
    Router::new()
        .nest("/api", api)
        .merge(metrics)
        .merge(ui::router())
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::check_origin,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::check_host,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::security_headers,
        ))
        .with_state(state)
}

/// Live updates for the UI as server-sent events; the UI never polls.
async fn events(
    State(state): State<Arc<RelayState>>,
) -> Sse<impl Stream<Item = Result<Event, std::convert::Infallible>>> {
    let stream = BroadcastStream::new(state.bus.subscribe()).map(|item| {
        Ok(match item {
            Ok(envelope) if matches!(envelope.event, switchboard_types::RelayEvent::Lagged) => {
                Event::default().event("lagged").data("1")
            }
            Ok(envelope) => Event::default()
                .event("relay")
                .id(envelope.seq.to_string())
                .json_data(&envelope)
                .unwrap_or_else(|_| Event::default().comment("unserializable event")),
            // The client fell behind; tell it so it can refetch instead of trusting gaps.
            Err(BroadcastStreamRecvError::Lagged(n)) => {
                Event::default().event("lagged").data(n.to_string())
            }
        })
    });
    let hello =
        futures_util::stream::once(async { Ok(Event::default().event("hello").data("{}")) });
    let mut stopping = state.stopping.clone();
    let until_stop = async move {
        let _ = stopping.wait_for(|s| *s).await;
    };
    Sse::new(hello.chain(stream).take_until(until_stop)).keep_alive(KeepAlive::default())
}
