//! The admin's workflow through the settings API: testing the sandbox (which needs no
//! key), previewing an import before it applies, and export files a person can read.

use reqwest::{header, StatusCode};
use serde_json::{json, Value};
use switchboard_e2e::{client, TestRelay};

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

async fn post_raw(relay: &TestRelay, path: &str, body: String) -> (StatusCode, Value) {
    let res = client()
        .post(relay.admin(path))
        .header(header::AUTHORIZATION, relay.bearer())
        .body(body)
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap())
}

#[tokio::test]
async fn test_connection_on_the_sandbox_needs_no_key() {
    let relay = TestRelay::start().await;
    let (_, view) = call(&relay, "GET", "/api/settings", None).await;
    assert_eq!(view["sandbox"]["endpointActive"], true);
    let saved_url = view["settings"]["connection"]["baseUrl"].clone();
    let test = |role: &str, base: Value, sandbox: Value| json!({ "role": role, "baseUrl": base, "tenant": null, "apiKey": null, "sandbox": sandbox });

    // As the page shows it (the saved Base URL, which the sandbox stands in for): the
    // sandbox answers, with no key of the admin's.
    for role in ["endpoint", "handover"] {
        let (status, outcome) = call(
            &relay,
            "POST",
            "/api/connection/test",
            Some(test(role, saved_url.clone(), Value::Null)),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(outcome["ok"], true, "{role}: {outcome}");
        assert!(
            outcome["message"].as_str().unwrap().contains("sandbox"),
            "{outcome}"
        );
    }
    // The sandbox's own address is the sandbox too.
    let (_, outcome) = call(
        &relay,
        "POST",
        "/api/connection/test",
        Some(test(
            "endpoint",
            view["sandbox"]["baseUrl"].clone(),
            json!("auto"),
        )),
    )
    .await;
    assert_eq!(outcome["ok"], true, "{outcome}");

    // The form switched to a real tenant: that is what is tested, and it needs a key.
    let (_, outcome) = call(
        &relay,
        "POST",
        "/api/connection/test",
        Some(test("endpoint", saved_url.clone(), json!("off"))),
    )
    .await;
    assert_eq!(outcome["ok"], false, "{outcome}");
    assert_eq!(outcome["code"], "no_key", "{outcome}");

    // Another Base URL is not the sandbox: no key is typed, none is saved, and it is
    // never contacted.
    let elsewhere = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    elsewhere.set_nonblocking(true).unwrap();
    let other = format!("http://{}", elsewhere.local_addr().unwrap());
    let (_, outcome) = call(
        &relay,
        "POST",
        "/api/connection/test",
        Some(test("endpoint", json!(other), Value::Null)),
    )
    .await;
    assert_eq!(outcome["ok"], false, "{outcome}");
    assert_eq!(outcome["code"], "no_key", "{outcome}");
    assert!(
        outcome["message"].as_str().unwrap().contains("API key"),
        "{outcome}"
    );
    assert!(
        elsewhere.accept().is_err(),
        "the other Base URL was never contacted"
    );
    relay.handle.shutdown().await;
}

#[tokio::test]
async fn an_import_is_previewed_without_changing_anything_and_exports_are_indented() {
    let relay = TestRelay::start().await;
    let res = client()
        .get(relay.admin("/api/settings/export"))
        .header(header::AUTHORIZATION, relay.bearer())
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()[header::CONTENT_TYPE], "application/json");
    let exported = res.text().await.unwrap();
    assert!(exported.lines().count() > 20, "{exported}");

    let mut file: Value = serde_json::from_str(&exported).unwrap();
    file["settings"]["handover"]["queueId"] = json!("202");
    let (status, preview) =
        post_raw(&relay, "/api/settings/import/preview", file.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["handover"]["queueId"], "202");
    let (_, view) = call(&relay, "GET", "/api/settings", None).await;
    assert_eq!(
        preview["endpoint"]["token"], view["settings"]["endpoint"]["token"],
        "the relay's own token, as the import would keep it"
    );
    assert_eq!(
        view["settings"]["handover"]["queueId"],
        Value::Null,
        "a preview changes nothing"
    );

    // Refused the same way as the import: a key twice, a bad value, in words.
    let (status, body) = post_raw(
        &relay,
        "/api/settings/import/preview",
        r#"{"switchboardSettings": 1, "settings": {"handover": {"queueId": "1", "queueId": "2"}}}"#
            .into(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "bad_import");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("\"queueId\" appears twice"),
        "{body}"
    );
    file["settings"]["handover"]["inactivityTimeoutMinutes"] = json!(0);
    let (status, body) = post_raw(&relay, "/api/settings/import/preview", file.to_string()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body["fields"][0]["field"],
        "handover.inactivityTimeoutMinutes"
    );
    relay.handle.shutdown().await;
}
