//! Serves the embedded web UI, and turns the one-time admin link (`/?token=…`) into a
//! cookie so the token leaves the address bar and browser history.

use std::sync::Arc;

use axum::{
    extract::{Query, State},
    http::{header, StatusCode, Uri},
    response::{Html, IntoResponse, Redirect, Response},
    routing::get,
    Router,
};

use super::guard::cookie_name;
use crate::relay::RelayState;
use crate::ui_assets;
use switchboard_types::token;

#[derive(serde::Deserialize)]
struct LinkQuery {
    token: Option<String>,
}

pub fn router() -> Router<Arc<RelayState>> {
    Router::new().route("/", get(index)).fallback(get(asset))
}

async fn index(State(state): State<Arc<RelayState>>, Query(q): Query<LinkQuery>) -> Response {
    if let Some(given) = q.token {
        if token::matches(&state.admin_token, &given) {
            let cookie = format!(
                "{}={}; Path=/; HttpOnly; SameSite=Strict",
                cookie_name(state.admin_port),
                state.admin_token
            );
            return ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response();
        }
    }
    index_page()
}

fn index_page() -> Response {
    match ui_assets::get("index.html") {
        Some(body) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            body,
        )
            .into_response(),
        None => Html(ui_assets::NOT_BUILT_PAGE).into_response(),
    }
}

async fn asset(uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    match ui_assets::get(path) {
        Some(body) => (
            [
                (header::CONTENT_TYPE, ui_assets::content_type(path)),
                // Vite puts a content hash in every asset name, so they never change.
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            body,
        )
            .into_response(),
        // Client-side routes (no file extension) get the app; missing files get a 404.
        None if !path.contains('.') => index_page(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}
