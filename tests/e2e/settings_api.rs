//! The settings API over real HTTP, with the embedded emulator as 8x8: saves that keep
//! the keychain and the settings in step, the Endpoint URL token, export/import, and the
//! setup helpers (test connection, webhook registration and drift, channels, preview).

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};

use chat_gateway_sim::control_client::{LogFilter, SimControl};
use reqwest::{header, StatusCode};
use serde_json::{json, Value};
use switchboard_e2e::{client, TestRelay};
use switchboard_settings::secrets::{SecretName, Secrets};
use switchboard_settings::settings::{MemorySettings, Settings, SettingsError, SettingsStore};

const KEY: &str = "k3y-s3cr3t-value-9f8e7d";

async fn call(
    relay: &TestRelay,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = client()
        .request(method.parse().unwrap(), relay.admin(path))
        .header(header::AUTHORIZATION, relay.bearer());
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn sandbox_url(view: &Value) -> String {
    view["sandbox"]["baseUrl"].as_str().unwrap().to_string()
}

/// Calls the emulator directly, as the sandbox's own admin would.
async fn emulator(base: &str, method: &str, path: &str, body: Option<Value>) -> Value {
    let mut req = client()
        .request(
            method.parse().unwrap(),
            format!("{base}/chat-gateway/v1{path}"),
        )
        .header("x-api-key", "sandbox-key")
        .header("X-8x8-Tenant", "sandbox-tenant");
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    assert!(
        res.status().is_success(),
        "{method} {path}: {}",
        res.status()
    );
    res.json().await.unwrap_or(Value::Null)
}

#[tokio::test]
async fn a_fresh_relay_is_on_a_prepared_sandbox() {
    let relay = TestRelay::start().await;
    let (status, view) = call(&relay, "GET", "/api/settings", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view["settings"]["sandbox"], "auto");
    assert_eq!(view["keys"]["endpoint"]["set"], false);
    assert_eq!(view["sandbox"]["endpointActive"], true);
    assert_eq!(view["sandbox"]["handoverActive"], true);
    assert_eq!(view["sandbox"]["queueId"], "101");
    // The relay registered its own Endpoint URL in the sandbox, with a channel on it.
    let hooks = emulator(&sandbox_url(&view), "GET", "/webhooks", None).await;
    let hook = &hooks["_embedded"]["webhooks"][0];
    assert_eq!(hook["uri"], view["endpointUrl"]);
    let channel = emulator(
        &sandbox_url(&view),
        "GET",
        &format!(
            "/channels/{}",
            view["sandbox"]["channelId"].as_str().unwrap()
        ),
        None,
    )
    .await;
    assert_eq!(channel["webHookId"], hook["id"]);
    relay.handle.shutdown().await;
}

#[tokio::test]
async fn invalid_fields_are_named_and_nothing_changes() {
    let relay = TestRelay::start().await;
    let (_, before) = call(&relay, "GET", "/api/settings", None).await;
    let mut settings = before["settings"].clone();
    settings["connection"]["baseUrl"] = json!("http://api.example.com");
    settings["handover"]["jsonProperties"] = json!("{\"a\": 1,}");
    settings["handover"]["inactivityTimeoutMinutes"] = json!(0);
    let (status, body) = call(
        &relay,
        "PUT",
        "/api/settings",
        Some(json!({ "settings": settings, "keys": { "endpoint": { "action": "replace", "value": "two words" } } })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["code"], "invalid_settings");
    let fields: Vec<&str> = body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "connection.baseUrl",
            "handover.jsonProperties",
            "handover.inactivityTimeoutMinutes",
            "keys.endpoint"
        ]
    );
    let json_message = body["fields"][1]["message"].as_str().unwrap();
    assert!(json_message.contains("line 1, column 9"), "{json_message}");
    let (_, after) = call(&relay, "GET", "/api/settings", None).await;
    assert_eq!(before, after, "a refused save changes nothing");
    assert!(!relay
        .handle
        .state
        .secrets
        .is_set(SecretName::EndpointApiKey)
        .await
        .unwrap());

    let (status, body) = call(
        &relay,
        "PUT",
        "/api/settings",
        Some(json!({ "nonsense": 1 })),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "bad_request");
    relay.handle.shutdown().await;
}

#[tokio::test]
async fn a_saved_key_lives_only_in_the_keychain_and_switches_off_the_sandbox() {
    let relay = TestRelay::start().await;
    let (_, view) = call(&relay, "GET", "/api/settings", None).await;
    let sandbox = sandbox_url(&view);
    let mut settings = view["settings"].clone();
    // The "real" 8x8 here is the emulator: tests never call the real 8x8.
    settings["connection"]["baseUrl"] = json!(sandbox);
    settings["connection"]["tenant"] = json!("sandbox-tenant");
    settings["endpoint"]["publicBaseUrl"] = json!("");
    settings["handover"]["jsonProperties"] = json!("{\"intent\": \"billing\"}");
    let (status, saved) = call(
        &relay,
        "PUT",
        "/api/settings",
        Some(json!({ "settings": settings, "keys": { "endpoint": { "action": "replace", "value": KEY } } })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["keys"]["endpoint"]["set"], true);
    assert_eq!(
        saved["settings"]["endpoint"]["publicBaseUrl"],
        Value::Null,
        "blank → none"
    );
    assert_eq!(
        saved["sandbox"]["endpointActive"], false,
        "a key switches auto to 8x8"
    );
    let stored = relay
        .handle
        .state
        .secrets
        .get(SecretName::EndpointApiKey)
        .await
        .unwrap();
    assert_eq!(stored.unwrap().expose(), KEY);

    // The key appears in no answer and not in the stored settings.
    for path in ["/api/settings", "/api/status", "/api/settings/export"] {
        let (_, body) = call(&relay, "GET", path, None).await;
        assert!(!body.to_string().contains(KEY), "{path} leaks the key");
    }
    let persisted =
        serde_json::to_string(&relay.handle.state.settings_store.load().unwrap()).unwrap();
    assert!(!persisted.contains(KEY));
    assert!(
        persisted.contains("billing"),
        "the settings themselves were saved"
    );

    // The stored key goes nowhere but the saved Base URL: another one, even on this
    // machine, needs the key typed, and hears nothing.
    let elsewhere = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    elsewhere.set_nonblocking(true).unwrap();
    let other = format!("http://{}", elsewhere.local_addr().unwrap());
    let (_, outcome) = call(
        &relay,
        "POST",
        "/api/connection/test",
        Some(json!({ "role": "endpoint", "baseUrl": other, "tenant": "sandbox-tenant", "apiKey": null })),
    )
    .await;
    assert_eq!(outcome["ok"], false, "{outcome}");
    assert_eq!(outcome["code"], "key_for_other_url", "{outcome}");
    assert!(
        elsewhere.accept().is_err(),
        "the other Base URL was never contacted"
    );

    // The stored key is what "test connection" uses when none is typed.
    let (_, outcome) = call(
        &relay,
        "POST",
        "/api/connection/test",
        Some(json!({ "role": "endpoint", "baseUrl": sandbox, "tenant": "sandbox-tenant", "apiKey": null })),
    )
    .await;
    assert_eq!(outcome["ok"], false, "{outcome}");
    assert_eq!(
        outcome["code"], "8x8_unauthorized",
        "the stored key is not the emulator's"
    );

    let (status, removed) = call(
        &relay,
        "PUT",
        "/api/settings",
        Some(json!({ "settings": saved["settings"], "keys": { "endpoint": { "action": "remove" } } })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(removed["keys"]["endpoint"]["set"], false);
    assert_eq!(
        removed["sandbox"]["endpointActive"], true,
        "back on the sandbox"
    );
    relay.handle.shutdown().await;
}

/// A settings store whose writes can be made to fail, like a full disk.
#[derive(Default)]
struct FlakyStore {
    inner: MemorySettings,
    fail: AtomicBool,
}

impl SettingsStore for FlakyStore {
    fn load(&self) -> Result<Option<Settings>, SettingsError> {
        self.inner.load()
    }
    fn save(&self, s: &Settings) -> Result<(), SettingsError> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(SettingsError::Backend("disk full".into()));
        }
        self.inner.save(s)
    }
    fn location(&self) -> String {
        "flaky".into()
    }
}

#[tokio::test]
async fn when_the_settings_cannot_be_written_the_key_change_is_undone() {
    let store = Arc::new(FlakyStore::default());
    let relay = TestRelay::start_with(|c| c.settings_store = store.clone()).await;
    let (_, view) = call(&relay, "GET", "/api/settings", None).await;
    store.fail.store(true, Ordering::SeqCst);
    let mut settings = view["settings"].clone();
    settings["connection"]["tenant"] = json!("t-1");
    let (status, body) = call(
        &relay,
        "PUT",
        "/api/settings",
        Some(json!({ "settings": settings, "keys": { "endpoint": { "action": "replace", "value": KEY } } })),
    )
    .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body["code"], "settings_not_saved");
    assert!(body["message"].as_str().unwrap().contains("disk full"));
    assert!(!relay
        .handle
        .state
        .secrets
        .is_set(SecretName::EndpointApiKey)
        .await
        .unwrap());
    let (_, after) = call(&relay, "GET", "/api/settings", None).await;
    assert_eq!(after["settings"], view["settings"]);
    assert_eq!(after["keys"]["endpoint"]["set"], false);
    relay.handle.shutdown().await;
}

#[tokio::test]
async fn a_key_from_the_environment_cannot_be_changed_here() {
    std::env::set_var("SWITCHBOARD_HANDOVER_API_KEY", "from-env");
    let secrets = Arc::new(Secrets::in_memory().with_env_overrides());
    std::env::remove_var("SWITCHBOARD_HANDOVER_API_KEY");
    let relay = TestRelay::start_with(|c| c.secrets = secrets.clone()).await;
    let (_, view) = call(&relay, "GET", "/api/settings", None).await;
    assert_eq!(view["keys"]["handover"]["fromEnvironment"], true);
    let (status, body) = call(
        &relay,
        "PUT",
        "/api/settings",
        Some(
            json!({ "settings": view["settings"], "keys": { "handover": { "action": "remove" } } }),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["code"], "key_from_environment");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("SWITCHBOARD_HANDOVER_API_KEY"));
    relay.handle.shutdown().await;
}

#[tokio::test]
async fn regenerating_the_token_moves_the_endpoint_url_and_the_sandbox_follows() {
    let relay = TestRelay::start().await;
    let (_, before) = call(&relay, "GET", "/api/settings", None).await;
    let old_url = before["endpointUrl"].as_str().unwrap().to_string();
    let (status, after) = call(&relay, "POST", "/api/settings/regenerate-token", None).await;
    assert_eq!(status, StatusCode::OK);
    let new_url = after["endpointUrl"].as_str().unwrap().to_string();
    assert_ne!(old_url, new_url);
    let verify = r#"{"notificationVersion":"Chat Gateway v1.0","eventType":"WEB_HOOK_VERIFY"}"#;
    let post = |url: String| {
        client()
            .post(url)
            .header(header::CONTENT_TYPE, "application/json")
            .body(verify)
            .send()
    };
    assert_eq!(post(old_url).await.unwrap().status(), StatusCode::NOT_FOUND);
    assert!(post(new_url.clone()).await.unwrap().status().is_success());
    let hooks = emulator(&sandbox_url(&after), "GET", "/webhooks", None).await;
    assert_eq!(hooks["_embedded"]["webhooks"][0]["uri"], new_url.as_str());
    relay.handle.shutdown().await;
}

#[tokio::test]
async fn export_leaves_out_secrets_and_import_restores_the_rest() {
    let relay = TestRelay::start().await;
    let (_, view) = call(&relay, "GET", "/api/settings", None).await;
    let token = view["settings"]["endpoint"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    let mut settings = view["settings"].clone();
    settings["handover"]["queueId"] = json!("102");
    settings["handover"]["whenAgentLeaves"] = json!("close");
    call(
        &relay,
        "PUT",
        "/api/settings",
        Some(json!({ "settings": settings, "keys": { "endpoint": { "action": "replace", "value": KEY } } })),
    )
    .await;
    let res = client()
        .get(relay.admin("/api/settings/export"))
        .header(header::AUTHORIZATION, relay.bearer())
        .send()
        .await
        .unwrap();
    assert!(res.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .contains("attachment"));
    let exported = res.text().await.unwrap();
    assert!(
        !exported.contains(KEY) && !exported.contains(&token),
        "{exported}"
    );

    // Change things, then import the export: the fields come back, the token stays.
    let mut changed = settings.clone();
    changed["handover"]["queueId"] = json!("555");
    call(
        &relay,
        "PUT",
        "/api/settings",
        Some(json!({ "settings": changed })),
    )
    .await;
    let res = client()
        .post(relay.admin("/api/settings/import"))
        .header(header::AUTHORIZATION, relay.bearer())
        .body(exported.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let imported: Value = res.json().await.unwrap();
    assert_eq!(imported["settings"]["handover"]["queueId"], "102");
    assert_eq!(imported["settings"]["handover"]["whenAgentLeaves"], "close");
    assert_eq!(imported["settings"]["endpoint"]["token"], token.as_str());
    assert_eq!(imported["keys"]["endpoint"]["set"], true);

    let res = client()
        .post(relay.admin("/api/settings/import"))
        .header(header::AUTHORIZATION, relay.bearer())
        .body("{\"something\": \"else\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "bad_import");

    // An export with a 1.5 MB handover message is refused by name, and nothing changes.
    let mut bloated: Value = serde_json::from_str(&exported).unwrap();
    bloated["settings"]["handover"]["handoverMessage"] = json!("x".repeat(1_500_000));
    let res = client()
        .post(relay.admin("/api/settings/import"))
        .header(header::AUTHORIZATION, relay.bearer())
        .body(bloated.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["fields"][0]["field"], "handover.handoverMessage",
        "{body}"
    );
    // A body past the admin API's limit answers in the API's own shape.
    let res = client()
        .post(relay.admin("/api/settings/import"))
        .header(header::AUTHORIZATION, relay.bearer())
        .body(vec![b' '; 3 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "too_large", "{body}");
    let (_, after) = call(&relay, "GET", "/api/settings", None).await;
    assert_eq!(
        after["settings"]["handover"]["queueId"], "102",
        "nothing changed"
    );
    relay.handle.shutdown().await;
}

#[tokio::test]
async fn test_connection_reports_each_failure_in_plain_words() {
    let relay = TestRelay::start().await;
    let (_, view) = call(&relay, "GET", "/api/settings", None).await;
    let sandbox = sandbox_url(&view);
    let test = |base: String, tenant: &str, key: &str| json!({ "role": "endpoint", "baseUrl": base, "tenant": tenant, "apiKey": key });
    let cases = [
        (
            test(sandbox.clone(), "sandbox-tenant", "sandbox-key"),
            None,
            "accepted the API key",
        ),
        (
            test(sandbox.clone(), "sandbox-tenant", "wrong"),
            Some("8x8_unauthorized"),
            "401",
        ),
        (
            test(sandbox.clone(), "other-tenant", "sandbox-key"),
            Some("8x8_forbidden"),
            "tenant",
        ),
    ];
    for (body, code, words) in cases {
        let (status, outcome) = call(&relay, "POST", "/api/connection/test", Some(body)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(outcome["ok"], code.is_none(), "{outcome}");
        assert_eq!(outcome["code"].as_str(), code, "{outcome}");
        assert!(
            outcome["message"].as_str().unwrap().contains(words),
            "{outcome}"
        );
    }
    // Nothing listening.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (_, outcome) = call(
        &relay,
        "POST",
        "/api/connection/test",
        Some(test(format!("http://{closed}"), "t", "k")),
    )
    .await;
    assert_eq!(outcome["code"], "8x8_unreachable", "{outcome}");
    // https to a plain-http server: the TLS handshake fails.
    let (_, outcome) = call(
        &relay,
        "POST",
        "/api/connection/test",
        Some(test(sandbox.replace("http://", "https://"), "t", "k")),
    )
    .await;
    assert_eq!(outcome["code"], "8x8_tls", "{outcome}");
    // A Base URL that may not be used at all.
    let (status, body) = call(
        &relay,
        "POST",
        "/api/connection/test",
        Some(test("http://example.com".into(), "t", "k")),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["fields"][0]["field"], "connection.baseUrl");
    relay.handle.shutdown().await;
}

#[tokio::test]
async fn webhook_registration_creates_updates_and_detects_drift() {
    let relay = TestRelay::start().await;
    let (_, view) = call(&relay, "GET", "/api/settings", None).await;
    let sandbox = sandbox_url(&view);
    let url = view["endpointUrl"].as_str().unwrap().to_string();
    let id = emulator(&sandbox, "GET", "/webhooks", None).await["_embedded"]["webhooks"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let (_, state) = call(&relay, "GET", "/api/webhook", None).await;
    assert_eq!(
        (state["registered"].clone(), state["upToDate"].clone()),
        (json!(true), json!(true))
    );
    let (_, reg) = call(&relay, "POST", "/api/webhook/register", None).await;
    assert_eq!(reg["action"], "unchanged");
    assert_eq!(reg["verified"], true);

    // Someone points the webhook elsewhere in 8x8 (another receiver that answers 8x8's
    // verification): drift is seen, and registration mends it.
    let elsewhere = TestRelay::start().await;
    let elsewhere_url = elsewhere.handle.endpoint_url().await;
    emulator(
        &sandbox,
        "PUT",
        &format!("/webhooks/{id}"),
        Some(json!({ "name": "Switchboard relay", "uri": elsewhere_url, "version": "Chat Gateway v1.0", "notificationVersion": "Chat Gateway v1.0" })),
    )
    .await;
    let (_, state) = call(&relay, "GET", "/api/webhook", None).await;
    assert_eq!(
        (state["registered"].clone(), state["upToDate"].clone()),
        (json!(true), json!(false))
    );
    let (status, reg) = call(&relay, "POST", "/api/webhook/register", None).await;
    assert_eq!(status, StatusCode::OK, "{reg}");
    assert_eq!(reg["action"], "updated");
    assert_eq!(reg["webhook"]["uri"], url.as_str());

    // Deleted in 8x8: registration creates it again, and 8x8's verify reached the relay.
    let res = client()
        .delete(format!("{sandbox}/chat-gateway/v1/webhooks/{id}"))
        .header("x-api-key", "sandbox-key")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    let (_, reg) = call(&relay, "POST", "/api/webhook/register", None).await;
    assert_eq!(reg["action"], "created", "{reg}");
    let verifies = LogFilter::default().record_type("WEB_HOOK_VERIFY");
    let log = SimControl::new(&sandbox).log(&verifies).await.unwrap();
    let to_relay = log.iter().filter(|r| r.url == url).count();
    assert!(to_relay >= 2, "verify events reached the relay: {log:#?}");
    elsewhere.handle.shutdown().await;
    relay.handle.shutdown().await;
}

#[tokio::test]
async fn channels_and_the_handover_preview() {
    let relay = TestRelay::start().await;
    let (_, view) = call(&relay, "GET", "/api/settings", None).await;
    let (status, body) = call(&relay, "GET", "/api/channels?role=handover", None).await;
    assert_eq!(status, StatusCode::OK);
    let channel = &body["channels"][0];
    assert_eq!(channel["id"], view["sandbox"]["channelId"]);
    assert_eq!(channel["queueId"], "101");
    assert_eq!(channel["type"], "ChatAPI");

    let (status, preview) = call(
        &relay,
        "POST",
        "/api/handover/preview",
        Some(json!({ "jsonProperties": "{\"intent\": \"billing\", \"cart\": {\"n\": 2}}" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        preview["user"]["additionalProperties"],
        json!([{"key": "intent", "value": "billing"}, {"key": "cart", "value": "{\"n\":2}"}])
    );
    assert_eq!(
        preview["history"]["messages"][3]["text"],
        view["settings"]["handover"]["handoverMessage"]
    );
    let (status, body) = call(
        &relay,
        "POST",
        "/api/handover/preview",
        Some(json!({ "jsonProperties": "[1, 2]" })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["code"], "invalid_json_properties");
    relay.handle.shutdown().await;
}
