//! The agent's Copilot link end to end: the link in what 8x8 receives (handover create
//! and endpoint PATCH), the page's API on the endpoint listener serving one conversation
//! to the holder of its link, every kind of bad link refused with the same 404, the live
//! stream of one conversation, the rate limit, and nothing of the admin side reachable.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{json, Value};
use switchboard_e2e::{client, eventually, Seen};

use crate::engine::{greeted_webchat, handed_over, Env, GUARD};

const NOT_VALID: &str = "This Copilot link is not valid: it may have expired or been revoked. Ask for a new one from the conversation.";

/// The Copilot link 8x8 got for a handover-mode conversation.
async fn link_of(env: &Env, id: &str) -> String {
    let view = env.transcript(id).await;
    let props = view["conversation"]["handover"]["request"]["user"]["additionalProperties"]
        .as_array()
        .expect("additionalProperties")
        .clone();
    let entry = props.last().expect("the link entry");
    assert_eq!(entry["key"], "Copilot", "{props:?}");
    entry["value"].as_str().unwrap().to_string()
}

/// The link's query as pairs, and the same link pointed at an API route.
fn query(link: &str) -> Vec<(String, String)> {
    url::Url::parse(link)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn param(link: &str, name: &str) -> String {
    query(link)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .unwrap_or_default()
}

fn api_url(env: &Env, route: &str, pairs: &[(String, String)]) -> String {
    let mut url = url::Url::parse(&env.relay.endpoint(&format!("/copilot/api/{route}"))).unwrap();
    url.query_pairs_mut().extend_pairs(pairs);
    url.into()
}

fn with(pairs: &[(String, String)], name: &str, value: &str) -> Vec<(String, String)> {
    let mut out: Vec<_> = pairs.iter().filter(|(k, _)| k != name).cloned().collect();
    out.push((name.into(), value.into()));
    out
}

async fn get(url: &str) -> (u16, String) {
    let res = client().get(url).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.text().await.unwrap())
}

#[tokio::test]
async fn the_link_reaches_8x8_in_both_modes_and_opens_its_conversation_only() {
    let env = Env::start().await;
    let (hid, gid) = handed_over(&env).await;
    let link = link_of(&env, &hid).await;

    // Served by the endpoint listener under /copilot/, naming the conversation; the
    // token is 256 bits of base64url.
    let base = env.relay.endpoint("/copilot/?");
    assert!(link.starts_with(&base), "{link} under {base}");
    assert_eq!(param(&link, "sessionId"), hid);
    assert!(param(&link, "URLToken").len() >= 22, "{link}");
    // 8x8 (the emulator) shows it to the agent.
    let in_8x8 = env.in_8x8(&gid).await;
    assert!(
        in_8x8.user["additionalProperties"]
            .to_string()
            .contains(&param(&link, "URLToken")),
        "{in_8x8:#?}"
    );

    // The workspace: this conversation.
    let pairs = query(&link);
    let (status, body) = get(&api_url(&env, "workspace", &pairs)).await;
    assert_eq!(status, 200, "{body}");
    let w: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(w["conversation"]["id"], hid.as_str(), "{w}");

    // The admin API shows the same link.
    let admin = env
        .api("GET", &format!("/api/conversations/{hid}/copilot"), None)
        .await;
    assert_eq!(admin["link"], link.as_str());
    assert_eq!(admin["revokedAtMs"], Value::Null);

    // A second conversation's token does not open the first, nor the first's the second.
    let (hid2, _) = handed_over(&env).await;
    let link2 = link_of(&env, &hid2).await;
    assert_ne!(param(&link, "URLToken"), param(&link2, "URLToken"));
    for crossed in [
        with(&pairs, "URLToken", &param(&link2, "URLToken")),
        with(&query(&link2), "URLToken", &param(&link, "URLToken")),
    ] {
        let (status, body) = get(&api_url(&env, "workspace", &crossed)).await;
        assert_eq!(
            (status, body.as_str()),
            (404, json!({ "message": NOT_VALID }).to_string().as_str())
        );
    }

    // Endpoint mode: 8x8 already has the user; the link comes with the re-assignment.
    let wid = greeted_webchat(&env).await;
    env.sim.customer_say(&wid, "agent").await.unwrap();
    let seen = Seen::new("the link in 8x8's user");
    let props = eventually(&seen, GUARD, async || {
        let c = env.in_8x8(&wid).await;
        let props = c
            .user
            .get("additionalProperties")
            .cloned()
            .unwrap_or(Value::Null);
        seen.check(props.to_string().contains("/copilot/?"), props)
    })
    .await;
    let elink = props.as_array().unwrap().last().unwrap()["value"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(param(&elink, "sessionId"), wid);
    let (status, body) = get(&api_url(&env, "workspace", &query(&elink))).await;
    assert_eq!(status, 200, "{body}");
    env.relay.handle.shutdown().await;
}

#[tokio::test]
async fn wrong_expired_revoked_and_badly_signed_links_get_the_same_404() {
    let env = Env::start().await;
    let (hid, _) = handed_over(&env).await;
    let pairs = query(&link_of(&env, &hid).await);
    let expected = (404, json!({ "message": NOT_VALID }).to_string());
    let mut timings = Vec::new();
    let mut refused = async |what: &str, pairs: Vec<(String, String)>| {
        for route in ["workspace", "events", "knowledge"] {
            let started = Instant::now();
            let got = get(&api_url(&env, route, &pairs)).await;
            timings.push(started.elapsed());
            assert_eq!(got, expected, "{what} on {route}");
        }
    };
    refused(
        "a wrong token",
        with(
            &pairs,
            "URLToken",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ),
    )
    .await;
    refused("no token", with(&pairs, "URLToken", "")).await;
    refused(
        "an unknown conversation",
        with(&pairs, "sessionId", "no-such-conversation"),
    )
    .await;

    // Signed links: the JWT must be there and verify.
    let secret = env.api("POST", "/api/copilot/jwt-secret", None).await;
    assert!(secret["secret"].as_str().unwrap().len() >= 43);
    let view = env.api("GET", "/api/settings", None).await;
    assert_eq!(view["keys"]["copilotJwtSecret"]["set"], true);
    assert!(!view
        .to_string()
        .contains(secret["secret"].as_str().unwrap()));
    env.settings(|s| s["handover"]["copilot"]["signedLinks"] = json!(true))
        .await;
    let signed = env
        .api("GET", &format!("/api/conversations/{hid}/copilot"), None)
        .await;
    let signed = query(signed["link"].as_str().unwrap());
    let auth = signed
        .iter()
        .find(|(k, _)| k == "auth")
        .expect("an auth JWT")
        .1
        .clone();
    let (status, _) = get(&api_url(&env, "workspace", &signed)).await;
    assert_eq!(status, 200, "a signed link works");
    refused("no JWT", pairs.clone()).await;
    let mut tampered = auth.clone();
    tampered.pop();
    tampered.push(if auth.ends_with('A') { 'B' } else { 'A' });
    refused(
        "a JWT with a wrong signature",
        with(&signed, "auth", &tampered),
    )
    .await;
    refused("a JWT that is not one", with(&signed, "auth", "not.a.jwt")).await;
    env.settings(|s| s["handover"]["copilot"]["signedLinks"] = json!(false))
        .await;

    // Expired: the conversation ended more than the configured hours ago.
    let (gone, _) = handed_over(&env).await;
    let gone_pairs = query(&link_of(&env, &gone).await);
    env.api(
        "POST",
        &format!("/api/tester/conversations/{gone}/leave"),
        None,
    )
    .await;
    let seen = Seen::new("ended");
    eventually(&seen, GUARD, async || {
        let v = env.transcript(&gone).await;
        seen.check(v["conversation"]["phase"] == "ended", v)
    })
    .await;
    assert_eq!(
        get(&api_url(&env, "workspace", &gone_pairs)).await.0,
        200,
        "still within 24 hours"
    );
    let long_ago = switchboard_types::now_ms() - 25 * 3_600_000;
    let id = gone.clone();
    env.relay
        .handle
        .state
        .db
        .sqlite()
        .expect("the e2e relay runs on SQLite")
        .blocking(move |c| {
            c.execute(
                "UPDATE conversations SET ended_at_ms = ?1 WHERE id = ?2",
                rusqlite::params![long_ago, id],
            )
            .unwrap()
        });
    refused("an expired link", gone_pairs).await;

    // Revoked from the admin API: refused at once; the admin view says when.
    let revoked = env
        .api(
            "POST",
            &format!("/api/conversations/{hid}/copilot/revoke"),
            None,
        )
        .await;
    assert!(revoked["revokedAtMs"].is_i64(), "{revoked}");
    assert_eq!(revoked["link"], Value::Null);
    refused("a revoked link", pairs.clone()).await;

    // About as fast as each other: nothing to tell a guess from a real conversation.
    eprintln!("refusals took {timings:?}");
    let slowest = timings.iter().max().unwrap();
    assert!(*slowest < Duration::from_secs(1), "{timings:?}");
    env.relay.handle.shutdown().await;
}

/// The next SSE event names seen on `stream` within `wait`.
async fn events_within(
    stream: &mut (impl futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
    wait: Duration,
) -> Vec<String> {
    let mut names = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    while let Ok(Some(Ok(chunk))) = tokio::time::timeout_at(deadline, stream.next()).await {
        for line in String::from_utf8_lossy(&chunk).lines() {
            if let Some(name) = line.strip_prefix("event:") {
                names.push(name.trim().to_string());
            }
        }
    }
    names
}

#[tokio::test]
async fn the_event_stream_tells_of_its_own_conversation_only() {
    let env = Env::start().await;
    let (hid, _) = handed_over(&env).await;
    let (other, _) = handed_over(&env).await;
    let pairs = query(&link_of(&env, &hid).await);
    let res = client()
        .get(api_url(&env, "events", &pairs))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let mut stream = res.bytes_stream();
    // The other conversation talks: nothing here.
    env.api(
        "POST",
        &format!("/api/tester/conversations/{other}/messages"),
        Some(json!({ "text": "hello from elsewhere" })),
    )
    .await;
    assert_eq!(
        events_within(&mut stream, Duration::from_millis(800)).await,
        Vec::<String>::new()
    );
    // This one does: an event.
    env.api(
        "POST",
        &format!("/api/tester/conversations/{hid}/messages"),
        Some(json!({ "text": "hello" })),
    )
    .await;
    let names = events_within(&mut stream, Duration::from_secs(3)).await;
    assert!(names.iter().any(|n| n == "changed"), "{names:?}");
    // Revoked: the stream ends.
    env.api(
        "POST",
        &format!("/api/conversations/{hid}/copilot/revoke"),
        None,
    )
    .await;
    let ended = tokio::time::timeout(GUARD, async {
        while let Some(Ok(_)) = stream.next().await {}
    })
    .await;
    assert!(ended.is_ok(), "the stream of a revoked link ends");
    env.relay.handle.shutdown().await;
}

#[tokio::test]
async fn a_client_past_the_burst_gets_429_with_retry_after() {
    let env = Env::start().await;
    let url = env
        .relay
        .endpoint("/copilot/api/workspace?sessionId=x&URLToken=y");
    let answers = futures_util::future::join_all((0..80).map(|_| client().get(&url).send())).await;
    let limited: Vec<_> = answers
        .iter()
        .map(|r| r.as_ref().unwrap())
        .filter(|r| r.status() == 429)
        .collect();
    assert!(limited.len() >= 30, "{} of 80 limited", limited.len());
    let retry: u64 = limited[0].headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry), "{retry}");
    // The webhook route is not limited by it (8x8's deliveries never wait on the page).
    let hook = client()
        .get(env.relay.endpoint("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(hook.status(), 200);
    env.relay.handle.shutdown().await;
}

#[tokio::test]
async fn the_admin_side_is_not_reachable_and_no_secret_is_in_a_copilot_answer() {
    let env = Env::start().await;
    let (hid, _) = handed_over(&env).await;
    let link = link_of(&env, &hid).await;
    let token = env.relay.handle.admin_token().to_string();
    for path in [
        "/api/status",
        "/api/settings",
        &format!("/api/conversations/{hid}"),
        &format!("/api/conversations/{hid}/copilot"),
        "/copilot/../api/status",
        "/copilot/api/../../api/settings",
        "/",
        "/index.html",
    ] {
        let res = client()
            .get(env.relay.endpoint(path))
            .header("authorization", format!("Bearer {token}"))
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let body = res.text().await.unwrap();
        assert_eq!(status, 404, "{path}: {body}");
        assert!(!body.contains("sandbox-key"), "{path}");
    }
    // The page and only the files it loads.
    let page = client().get(&link).send().await.unwrap();
    let headers = page.headers().clone();
    let html = page.text().await.unwrap();
    if html.contains("<script") {
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'self'"), "{csp}");
        assert!(csp.contains("frame-ancestors"), "{csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["referrer-policy"], "no-referrer");
        for asset in switchboard_relay::ui_assets::ASSETS
            .iter()
            .map(|(p, _)| *p)
            .filter(|p| p.starts_with("assets/"))
        {
            let status = client()
                .get(env.relay.endpoint(&format!("/copilot/{asset}")))
                .send()
                .await
                .unwrap()
                .status();
            let needed = html.contains(asset.trim_start_matches("assets/"));
            if needed {
                assert_eq!(status, 200, "{asset}, which the page loads");
            }
        }
        let admin_entry =
            String::from_utf8_lossy(switchboard_relay::ui_assets::get("index.html").unwrap())
                .to_string();
        let admin_script = admin_entry
            .split("src=\"/assets/")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("the admin app's script");
        let status = client()
            .get(
                env.relay
                    .endpoint(&format!("/copilot/assets/{admin_script}")),
            )
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 404, "the admin app's script is not served here");
    }
    // No secret in what the page's API answers, and strict headers on it.
    let secret = env.api("POST", "/api/copilot/jwt-secret", None).await["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let res = client()
        .get(api_url(&env, "workspace", &query(&link)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body = res.text().await.unwrap();
    for secret in ["sandbox-key", token.as_str(), secret.as_str()] {
        assert!(!body.contains(secret), "a secret in the workspace");
    }
    let (status, hits) = get(&api_url(
        &env,
        "knowledge",
        &with(&query(&link), "q", "hours"),
    ))
    .await;
    assert_eq!(status, 200, "{hits}");
    assert!(hits.starts_with('['), "{hits}");
    env.relay.handle.shutdown().await;
}

/// A stand-in for an OpenAI-compatible chat-completions service: answers a fixed
/// summary and remembers the Authorization headers it got.
async fn model_stand_in() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use axum::{http::HeaderMap, routing::post, Json, Router};
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let app = Router::new().route(
        "/v1/chat/completions",
        post(move |headers: HeaderMap, Json(_body): Json<Value>| {
            let log = log.clone();
            async move {
                let auth = headers.get("authorization").map(|v| v.to_str().unwrap().to_string());
                log.lock().unwrap().push(auth.unwrap_or_default());
                Json(json!({ "choices": [{ "message": { "role": "assistant", "content":
                    "{\"summary\": \"The customer wants a person.\", \"answers\": [\"Hello, I am here to help.\"]}" } }] }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/v1/chat/completions",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

#[tokio::test]
async fn the_language_model_writes_its_part_with_the_keychain_key_never_shown() {
    let env = Env::start().await;
    let (url, seen) = model_stand_in().await;
    const KEY: &str = "sk-test-copilot-model-key";
    let view = env.api("GET", "/api/settings", None).await;
    let mut settings = view["settings"].clone();
    settings["handover"]["copilot"]["model"] =
        json!({ "enabled": true, "url": url, "model": "stand-in-1" });
    let saved = env
        .api("PUT", "/api/settings", Some(json!({ "settings": settings, "keys": { "copilotModel": { "action": "replace", "value": KEY } } })))
        .await;
    assert_eq!(saved["keys"]["copilotModel"]["set"], true);
    assert!(!saved.to_string().contains(KEY));

    let (hid, _) = handed_over(&env).await;
    let pairs = query(&link_of(&env, &hid).await);
    let seen_model = Seen::new("the model's part on the page");
    let w = eventually(&seen_model, GUARD, async || {
        let (_, body) = get(&api_url(&env, "workspace", &pairs)).await;
        assert!(!body.contains(KEY), "the model key in the workspace");
        let w: Value = serde_json::from_str(&body).unwrap();
        seen_model.check(!w["model"].is_null(), w)
    })
    .await;
    assert_eq!(w["model"]["summary"], "The customer wants a person.");
    assert_eq!(w["model"]["model"], "stand-in-1");
    let written: Vec<_> = w["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["modelWritten"] == true)
        .collect();
    assert_eq!(written.len(), 1, "{w}");
    assert_eq!(seen.lock().unwrap()[0], format!("Bearer {KEY}"));
    // One call for one state of the transcript, however often the page asks.
    for _ in 0..3 {
        get(&api_url(&env, "workspace", &pairs)).await;
    }
    assert_eq!(seen.lock().unwrap().len(), 1);
    env.relay.handle.shutdown().await;
}

/// Everything the relay logs on this test's thread.
#[derive(Clone, Default)]
struct LogSink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A model service that refuses, echoing the Authorization header it got (as some do).
async fn echoing_model() -> String {
    use axum::{http::HeaderMap, http::StatusCode, routing::post, Json, Router};
    let app = Router::new().route(
        "/v1/chat/completions",
        post(|headers: HeaderMap| async move {
            let auth = headers
                .get("authorization")
                .map(|v| v.to_str().unwrap().to_string());
            (
                StatusCode::UNAUTHORIZED,
                Json(json!({ "error": { "message": format!("bad key {auth:?}") } })),
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/v1/chat/completions",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

// One thread: every task of the relay that logs runs where the subscriber is set.
#[tokio::test(flavor = "current_thread")]
async fn no_token_key_or_secret_in_the_relay_log() {
    let sink = LogSink::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _log = tracing::subscriber::set_default(subscriber);

    let env = Env::start().await;
    const KEY: &str = "sk-copilot-model-secret-key";
    let url = echoing_model().await;
    let secret = env.api("POST", "/api/copilot/jwt-secret", None).await["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let view = env.api("GET", "/api/settings", None).await;
    let mut settings = view["settings"].clone();
    settings["handover"]["copilot"]["model"] = json!({ "enabled": true, "url": url, "model": "m" });
    settings["handover"]["copilot"]["signedLinks"] = json!(true);
    env.api("PUT", "/api/settings", Some(json!({ "settings": settings, "keys": { "copilotModel": { "action": "replace", "value": KEY } } }))).await;

    let (hid, _) = handed_over(&env).await;
    let link = link_of(&env, &hid).await;
    let pairs = query(&link);
    assert_eq!(get(&api_url(&env, "workspace", &pairs)).await.0, 200);
    let logged = || String::from_utf8_lossy(&sink.0.lock().unwrap()).to_string();
    let seen = Seen::new("the model's failure logged");
    eventually(&seen, GUARD, async || {
        let log = logged();
        seen.check(
            log.contains("language model failed"),
            log.lines().rev().take(5).collect::<Vec<_>>().join("\n"),
        )
    })
    .await;
    // A refused link is not logged with what it presented either.
    get(&api_url(
        &env,
        "workspace",
        &with(&pairs, "URLToken", "guessed-token-0123456789abcdef"),
    ))
    .await;
    let log = logged();
    for (what, secret) in [
        ("the model key", KEY),
        ("the JWT secret", secret.as_str()),
        ("the link's token", param(&link, "URLToken").as_str()),
        ("the link's JWT", param(&link, "auth").as_str()),
        ("a guessed token", "guessed-token-0123456789abcdef"),
        ("the 8x8 API key", "sandbox-key"),
    ] {
        assert!(!log.contains(secret), "{what} in the log");
    }
    env.relay.handle.shutdown().await;
}

#[tokio::test]
async fn a_second_handover_reuses_the_link_and_a_revoked_one_gets_a_new_token() {
    let env = Env::start().await;
    let (hid, _) = handed_over(&env).await;
    let first = link_of(&env, &hid).await;
    let state = env.relay.handle.state.clone();
    let conv = state.engine.store.get(&hid).await.unwrap().unwrap();
    // A transfer or a new handover asks again: the same link.
    let again = switchboard_relay::copilot_links::open_link(&state, &conv)
        .await
        .unwrap();
    assert_eq!(again, first);
    // Revoked, then handed over again: a new token; only the new link opens the page.
    env.api(
        "POST",
        &format!("/api/conversations/{hid}/copilot/revoke"),
        None,
    )
    .await;
    let renewed = switchboard_relay::copilot_links::open_link(&state, &conv)
        .await
        .unwrap();
    assert_ne!(param(&renewed, "URLToken"), param(&first, "URLToken"));
    assert_eq!(
        get(&api_url(&env, "workspace", &query(&first))).await.0,
        404
    );
    assert_eq!(
        get(&api_url(&env, "workspace", &query(&renewed))).await.0,
        200
    );
    let admin = env
        .api("GET", &format!("/api/conversations/{hid}/copilot"), None)
        .await;
    assert_eq!(admin["link"], renewed.as_str());
    assert_eq!(admin["revokedAtMs"], Value::Null);
    // Off: no link, and the session stays as it was.
    env.settings(|s| s["handover"]["copilot"]["enabled"] = json!(false))
        .await;
    assert_eq!(
        switchboard_relay::copilot_links::open_link(&state, &conv).await,
        None
    );
    env.relay.handle.shutdown().await;
}
