//! Serves the embedded web UI. The one-time admin link (`/?token=…`) opens the page like
//! any other; the page keeps the token in its own storage and takes it out of the
//! address bar and history (ui/src/lib/api.ts). No cookie is ever set (guard.rs says
//! why), and the page is served so that the token cannot leak through a Referer.

use std::sync::Arc;

use axum::{
    http::{header, StatusCode, Uri},
    response::{Html, IntoResponse, Response},
    routing::get,
    Router,
};

use crate::relay::RelayState;
use crate::ui_assets;

pub fn router() -> Router<Arc<RelayState>> {
    Router::new().route("/", get(index)).fallback(get(asset))
}

async fn index() -> Response {
    index_page()
}

fn index_page() -> Response {
    match ui_assets::get("index.html") {
        Some(body) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                // The admin link carries the token until the page has taken it in.
                (header::CACHE_CONTROL, "no-store"),
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
