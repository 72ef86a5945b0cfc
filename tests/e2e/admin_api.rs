//! The admin listener's guards and API, over real HTTP on loopback.

use std::time::Duration;

use reqwest::{header, StatusCode};
use serde_json::Value;
use switchboard_e2e::{client, TestRelay};
use switchboard_types::events::RelayEvent;

async fn status(relay: &TestRelay) -> Value {
    client()
        .get(relay.admin("/api/status"))
        .header(header::AUTHORIZATION, relay.bearer())
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn api_without_token_is_401_with_a_reason() {
    let relay = TestRelay::start().await;
    let res = client()
        .get(relay.admin("/api/status"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "unauthorized");
    assert!(body["message"].as_str().unwrap().contains("admin link"));

    let wrong = client()
        .get(relay.admin("/api/status"))
        .header(header::AUTHORIZATION, "Bearer not-the-token")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    relay.handle.shutdown().await;
}

#[tokio::test]
async fn status_with_token_describes_the_running_relay() {
    let relay = TestRelay::start().await;
    let status = status(&relay).await;
    assert_eq!(status["admin"]["port"], relay.handle.admin_addr.port());
    assert_eq!(
        status["endpoint"]["port"],
        relay.handle.endpoint_addr.port()
    );
    assert_eq!(status["sandbox"]["active"], true, "no key set → sandbox");
    let sandbox_url = status["sandbox"]["baseUrl"].as_str().unwrap();
    assert_eq!(status["connection"]["effectiveBaseUrl"], sandbox_url);
    assert_eq!(status["connection"]["apiKeySet"], false);
    let url = status["endpoint"]["url"].as_str().unwrap();
    assert_eq!(url, relay.handle.endpoint_url().await);
    assert!(url.starts_with(&format!("http://{}/endpoint/", relay.handle.endpoint_addr)));
    assert_eq!(status["endpoint"]["localOnly"], true);
    // The sandbox it names is really there, and wants a key like 8x8 does.
    let res = client()
        .get(format!("{sandbox_url}/chat-gateway/v1/webhooks"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    relay.handle.shutdown().await;
}

#[tokio::test]
async fn a_foreign_host_header_is_403_even_with_the_token() {
    let relay = TestRelay::start().await;
    let port = relay.handle.admin_addr.port();
    for host in [
        "evil.example".to_string(),
        format!("127.0.0.1:{}", port.wrapping_add(1)),
        "localhost".to_string(),
    ] {
        let res = client()
            .get(relay.admin("/api/status"))
            .header(header::AUTHORIZATION, relay.bearer())
            .header(header::HOST, &host)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "host {host}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["code"], "foreign_host");
    }
    // The UI page is guarded the same way (DNS rebinding would otherwise read it).
    let res = client()
        .get(relay.admin("/"))
        .header(header::HOST, "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let ok = client()
        .get(relay.admin("/api/status"))
        .header(header::AUTHORIZATION, relay.bearer())
        .header(header::HOST, format!("localhost:{port}"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    relay.handle.shutdown().await;
}

#[tokio::test]
async fn admin_routes_are_not_on_the_endpoint_listener() {
    let relay = TestRelay::start().await;
    for path in [
        "/api/status",
        "/api/events",
        "/",
        "/index.html",
        "/?token=x",
    ] {
        let res = client()
            .get(relay.endpoint(path))
            .header(header::AUTHORIZATION, relay.bearer())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let health = client()
        .get(relay.endpoint("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    relay.handle.shutdown().await;
}

#[tokio::test]
async fn a_wrong_endpoint_token_is_404_and_only_counted() {
    let relay = TestRelay::start().await;
    let res = client()
        .post(relay.endpoint("/endpoint/wrong-token-wrong-token-123"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(r#"{"notificationVersion":"Chat Gateway v1.0","eventType":"WEB_HOOK_VERIFY"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(status(&relay).await["endpoint"]["rejectedTokenCount"], 1);
    relay.handle.shutdown().await;
}

#[tokio::test]
async fn the_admin_link_opens_the_page_without_a_cookie_and_only_the_bearer_token_opens_the_api() {
    let relay = TestRelay::start().await;
    let res = client().get(relay.handle.admin_url()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "the page itself, no redirect");
    assert!(
        res.headers().get(header::SET_COOKIE).is_none(),
        "no cookie: it would reach every other server on 127.0.0.1"
    );
    assert_eq!(res.headers()[header::REFERRER_POLICY], "no-referrer");
    assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");
    let csp = res.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert_eq!(res.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");

    let token = relay.handle.admin_token().to_string();
    let with = |req: reqwest::RequestBuilder| async move { req.send().await.unwrap().status() };
    assert_eq!(
        with(
            client()
                .get(relay.admin("/api/status"))
                .header(header::AUTHORIZATION, relay.bearer())
        )
        .await,
        StatusCode::OK
    );
    let cookie = format!(
        "switchboard_admin_{}={token}",
        relay.handle.admin_addr.port()
    );
    assert_eq!(
        with(
            client()
                .get(relay.admin("/api/status"))
                .header(header::COOKIE, cookie)
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "a cookie is never a credential"
    );
    assert_eq!(
        with(client().get(relay.admin(&format!("/api/status?access_token={token}")))).await,
        StatusCode::UNAUTHORIZED,
        "the query carries the token for the live stream only"
    );
    let stream = client()
        .get(relay.admin(&format!("/api/events?access_token={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        stream.status(),
        StatusCode::OK,
        "the live stream, opened by an EventSource"
    );
    drop(stream);
    relay.handle.shutdown().await;
}

#[tokio::test]
async fn state_changing_requests_from_other_origins_are_refused() {
    let relay = TestRelay::start().await;
    let res = client()
        .post(relay.admin("/api/status"))
        .header(header::AUTHORIZATION, relay.bearer())
        .header(header::ORIGIN, "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "foreign_origin");
    relay.handle.shutdown().await;
}

/// Reads the stream until `needle` shows up; fails after a generous bound.
async fn read_until(res: &mut reqwest::Response, seen: &mut String, needle: &str) {
    while !seen.contains(needle) {
        let chunk = tokio::time::timeout(Duration::from_secs(10), res.chunk())
            .await
            .unwrap_or_else(|_| panic!("{needle:?} did not arrive; got {seen:?}"))
            .unwrap()
            .expect("stream still open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test]
async fn live_events_arrive_over_sse_and_shutdown_ends_the_stream() {
    let relay = TestRelay::start().await;
    let mut res = client()
        .get(relay.admin("/api/events"))
        .header(header::AUTHORIZATION, relay.bearer())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let mut seen = String::new();
    read_until(&mut res, &mut seen, "event: hello").await;
    relay.handle.state.bus.publish(RelayEvent::StatusChanged);
    read_until(&mut res, &mut seen, "\"type\":\"statusChanged\"").await;
    assert!(seen.contains("event: relay"), "{seen}");

    // Shutdown must not hang on the open stream, and the stream must end.
    let admin = relay.handle.admin_addr;
    tokio::time::timeout(Duration::from_secs(4), relay.handle.shutdown())
        .await
        .expect("shutdown finishes while a live stream is open");
    let ended = tokio::time::timeout(Duration::from_secs(2), async {
        while let Ok(Some(_)) = res.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "stream ended");
    assert!(
        tokio::net::TcpStream::connect(admin).await.is_err(),
        "admin port closed after shutdown"
    );
}
