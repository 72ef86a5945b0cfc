//! The admin listener's guards: Host allow-list, token, Origin.

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, Method},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::error::{ApiError, ErrorCode};
use crate::relay::RelayState;
use switchboard_types::token;

/// The cookie carries the port because browsers share cookies across ports of one host.
pub fn cookie_name(port: u16) -> String {
    format!("switchboard_admin_{port}")
}

fn allowed_hosts(port: u16) -> [String; 3] {
    [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
    ]
}

pub async fn check_host(
    State(state): State<Arc<RelayState>>,
    req: Request,
    next: Next,
) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if !allowed_hosts(state.admin_port).iter().any(|h| h == host) {
        return ApiError::new(
            ErrorCode::ForeignHost,
            "The admin UI answers only on 127.0.0.1, localhost or [::1] with its own port.",
        )
        .into_response();
    }
    next.run(req).await
}

/// Blocks other sites from driving the API through the user's browser.
pub async fn check_origin(
    State(state): State<Arc<RelayState>>,
    req: Request,
    next: Next,
) -> Response {
    let changes_state = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if changes_state {
        if let Some(origin) = req
            .headers()
            .get(header::ORIGIN)
            .and_then(|o| o.to_str().ok())
        {
            let ok = allowed_hosts(state.admin_port)
                .iter()
                .any(|h| origin == format!("http://{h}"));
            if !ok {
                return ApiError::new(
                    ErrorCode::ForeignOrigin,
                    "Requests from other web pages are not accepted.",
                )
                .into_response();
            }
        }
    }
    next.run(req).await
}

pub async fn require_token(
    State(state): State<Arc<RelayState>>,
    req: Request,
    next: Next,
) -> Response {
    if presented_token(req.headers(), state.admin_port)
        .is_some_and(|t| token::matches(&state.admin_token, &t))
    {
        return next.run(req).await;
    }
    ApiError::new(
        ErrorCode::Unauthorized,
        "Open the admin link the app printed (it carries the access token); this launch's token is required.",
    )
    .into_response()
}

fn presented_token(headers: &HeaderMap, port: u16) -> Option<String> {
    if let Some(bearer) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return Some(bearer.trim().to_string());
    }
    let name = cookie_name(port);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn token_from_bearer_or_the_ports_cookie() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(presented_token(&h, 1).as_deref(), Some("abc"));

        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("other=1; switchboard_admin_4000=tok; x=y"),
        );
        assert_eq!(presented_token(&h, 4000).as_deref(), Some("tok"));
        assert_eq!(presented_token(&h, 4001), None);
    }
}
