//! The admin listener: the UI and its API, bound to loopback only. Three guards keep it
//! private even from other web pages in the same browser: a Host allow-list (defeats DNS
//! rebinding), a per-launch token (header or an HttpOnly cookie set from the one-time
//! admin link), and an Origin check on requests that change state.

mod conversations_api;
mod guard;
pub mod inspector;
mod inspector_api;
mod sandbox_api;
pub mod sandbox_setup;
mod settings_api;
pub mod settings_update;
pub mod setup_helpers;
mod status;
mod ui;

use std::sync::Arc;

use axum::{
    extract::State,
    http::StatusCode,
    middleware,
    response::{
        sse::{Event, KeepAlive, Sse},
        IntoResponse, Response,
    },
    routing::get,
    Json, Router,
};
use futures_util::{Stream, StreamExt};
use serde::Serialize;
use tokio_stream::wrappers::{errors::BroadcastStreamRecvError, BroadcastStream};

use crate::relay::RelayState;

pub use guard::cookie_name;
pub use status::Status;

/// The status as the admin API reports it, for shells that print it.
pub async fn status_of(state: &RelayState) -> Status {
    status::build(state).await
}

/// Errors reach the UI as `{code, message}`: a stable code for the program, words for people.
#[derive(Debug, Serialize)]
pub struct ApiError {
    #[serde(skip)]
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
}

/// A JSON request body whose rejection speaks the API's `{code, message}` like every
/// other error, instead of axum's plain-text one.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        Json::<T>::from_request(req, state)
            .await
            .map(|Json(v)| JsonBody(v))
            .map_err(|r| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    format!(
                        "The request body is not what this route takes: {}",
                        r.body_text()
                    ),
                )
            })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(&self)).into_response()
    }
}

pub fn router(state: Arc<RelayState>) -> Router {
    let api = Router::new()
        .route("/status", get(status::get_status))
        .route("/events", get(events))
        .merge(settings_api::router())
        .merge(sandbox_api::router())
        .merge(inspector_api::router())
        .merge(conversations_api::router())
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "No such admin API route.",
            )
        })
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            guard::require_token,
        ));
    Router::new()
        .nest("/api", api)
        .merge(ui::router())
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::check_origin,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::check_host,
        ))
        .with_state(state)
}

/// Live updates for the UI as server-sent events; the UI never polls.
async fn events(
    State(state): State<Arc<RelayState>>,
) -> Sse<impl Stream<Item = Result<Event, std::convert::Infallible>>> {
    let stream = BroadcastStream::new(state.bus.subscribe()).map(|item| {
        Ok(match item {
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
