//! The admin listener's guards: Host allow-list, token, Origin.
//!
//! The token travels only as `Authorization: Bearer …`, which the page adds itself from
//! its own storage (see ui/src/lib/api.ts); never as a cookie. Browsers scope cookies by
//! host, not port, so a cookie for this listener would also go to every other web server
//! on 127.0.0.1 the user visits — and with it admin rights to any local process. The one
//! exception is the live stream, which an `EventSource` opens without headers: it may
//! carry the token as `?access_token=`.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::{
    extract::{OriginalUri, Request, State},
    http::{header, Method},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::error::{ApiError, ErrorCode};
use crate::relay::RelayState;
use switchboard_types::token;

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
    if presented_token(&req).is_some_and(|t| token::matches(&state.admin_token, &t)) {
        return next.run(req).await;
    }
    ApiError::new(
        ErrorCode::Unauthorized,
        "Open the admin link the app printed (it carries the access token); this launch's token is required.",
    )
    .into_response()
}

/// What the admin UI may load and do, sent with every answer of the admin listener: its
/// own scripts and styles only, no plug-ins, no form posts elsewhere, framed by nobody.
/// Images may come from elsewhere (attachments are served by 8x8); nothing else may. The
/// one thing it may frame is added per answer ([`frame_sources`]).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: http: https:; \
     connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// The origins the agent console may show the Copilot page from, in its side panel: the
/// endpoint listener, which serves the page, at its local address and at the public
/// base URL the links are built with. Nothing else can be framed.
pub fn frame_sources(endpoint_addr: SocketAddr, public_base_url: Option<&str>) -> String {
    let mut addr = endpoint_addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(Ipv4Addr::LOCALHOST.into());
    }
    let mut origins = vec![format!("http://{addr}")];
    if let Some(origin) = public_base_url
        .and_then(|u| url::Url::parse(u).ok())
        .map(|u| u.origin())
        .filter(|o| o.is_tuple())
    {
        origins.push(origin.ascii_serialization());
    }
    format!("frame-src {}", origins.join(" "))
}

/// Adds the headers that keep the admin UI from being framed, sniffed or leaking its
/// address (which may still carry the admin link's token) through a Referer.
pub async fn security_headers(
    State(state): State<Arc<RelayState>>,
    req: Request,
    next: Next,
) -> Response {
    let frames = frame_sources(
        state.endpoint_addr,
        state.settings().endpoint.public_base_url.as_deref(),
    );
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    let csp = header::HeaderValue::from_str(&format!("{CONTENT_SECURITY_POLICY}; {frames}"))
        .unwrap_or(header::HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ] {
        headers.insert(name, header::HeaderValue::from_static(value));
    }
    response
}

/// The path of the live stream, the one route that takes the token in its query.
pub const EVENTS_PATH: &str = "/api/events";

pub(crate) fn presented_token(req: &Request) -> Option<String> {
    if let Some(bearer) = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return Some(bearer.trim().to_string());
    }
    // Inside the nested /api router the URI has lost its prefix; the original has it.
    let path = req
        .extensions()
        .get::<OriginalUri>()
        .map_or(req.uri().path(), |u| u.path());
    if req.method() == Method::GET && path == EVENTS_PATH {
        return req
            .uri()
            .query()
            .unwrap_or("")
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == "access_token")
            .map(|(_, v)| v.to_string());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    #[test]
    fn the_admin_ui_may_frame_only_the_endpoint_listener_locally_and_at_its_public_origin() {
        let local: SocketAddr = "0.0.0.0:8787".parse().unwrap();
        assert_eq!(
            frame_sources(local, None),
            "frame-src http://127.0.0.1:8787"
        );
        assert_eq!(
            frame_sources(local, Some("https://relay.example.com/prefix/")),
            "frame-src http://127.0.0.1:8787 https://relay.example.com"
        );
        // A value that is no URL adds nothing rather than something wrong.
        assert_eq!(
            frame_sources("127.0.0.1:9".parse().unwrap(), Some("not a url")),
            "frame-src http://127.0.0.1:9"
        );
    }

    fn request(method: Method, uri: &str, headers: &[(header::HeaderName, &str)]) -> Request {
        let mut builder = Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            builder = builder.header(k, *v);
        }
        builder.body(Body::empty()).unwrap()
    }

    #[test]
    fn the_token_comes_from_the_bearer_header_or_the_live_streams_query_only() {
        let bearer = request(
            Method::GET,
            "/api/status",
            &[(header::AUTHORIZATION, "Bearer abc")],
        );
        assert_eq!(presented_token(&bearer).as_deref(), Some("abc"));

        let stream = request(Method::GET, "/api/events?access_token=tok", &[]);
        assert_eq!(presented_token(&stream).as_deref(), Some("tok"));
        let elsewhere = request(Method::GET, "/api/settings?access_token=tok", &[]);
        assert_eq!(presented_token(&elsewhere), None, "only the live stream");
        let posted = request(Method::POST, "/api/events?access_token=tok", &[]);
        assert_eq!(presented_token(&posted), None);

        let cookie = request(
            Method::GET,
            "/api/status",
            &[(header::COOKIE, "switchboard_admin_4000=tok")],
        );
        assert_eq!(
            presented_token(&cookie),
            None,
            "a cookie is never a credential"
        );
    }
}
