//! All 34 operations answer with 8x8's status codes and bodies that validate against the
//! OpenAPI document (the support client checks every response), including paging,
//! sorting and filtering.

use std::collections::BTreeSet;

use crate::support::*;
use openapi_contract::Contract;
use serde_json::{json, Value};

/// Records which operations a test exercised.
struct Coverage(BTreeSet<String>);

impl Coverage {
    fn hit(&mut self, method: &str, path: &str, r: &Resp) -> Resp {
        let op = Contract::get()
            .find_operation(method, path)
            .unwrap_or_else(|| panic!("{method} {path} is not a contract operation"));
        self.0.insert(op.operation_id.clone());
        r.clone()
    }
}

#[tokio::test]
async fn every_operation_succeeds_with_the_documented_status() {
    let env = Env::start().await;
    env.manual_agents().await;
    let api = &env.api;
    let mut cov = Coverage(BTreeSet::new());
    macro_rules! call {
        ($m:literal, $p:expr) => {{
            let p: String = $p;
            let r = api.call($m, &p, None).await;
            cov.hit($m, &p, &r)
        }};
        ($m:literal, $p:expr, $b:expr) => {{
            let p: String = $p;
            let r = api.call($m, &p, Some($b)).await;
            cov.hit($m, &p, &r)
        }};
    }

    // Webhooks.
    let w = call!(
        "POST",
        format!("{V1}/webhooks"),
        json!({"name": "relay", "uri": env.rx.url, "notificationVersion": "Chat Gateway v1.0"})
    );
    assert_eq!(w.status, 200);
    assert_eq!(
        w.json()["version"],
        "Chat Gateway v1.0",
        "P1: stored as version"
    );
    let wid = w.json()["id"].as_str().unwrap().to_string();
    assert_eq!(
        call!("GET", format!("{V1}/webhooks")).json()["_embedded"]["webhooks"][0]["id"],
        wid.as_str()
    );
    assert_eq!(
        call!("GET", format!("{V1}/webhooks/{wid}")).json()["uri"],
        env.rx.url.as_str()
    );
    let updated = call!(
        "PUT",
        format!("{V1}/webhooks/{wid}"),
        json!({"name": "relay 2", "uri": env.rx.url, "version": "Chat Gateway v1.0"})
    );
    assert_eq!(updated.json()["name"], "relay 2");
    assert_eq!(
        call!(
            "POST",
            format!("{V1}/webhooks/verify"),
            json!({"version": "v2.0", "uri": env.rx.url})
        )
        .status,
        204
    );
    // create + update + verify each sent WEB_HOOK_VERIFY.
    assert_eq!(
        env.rx
            .all()
            .iter()
            .filter(|d| d.json["eventType"] == "WEB_HOOK_VERIFY")
            .count(),
        3
    );
    let spare = call!(
        "POST",
        format!("{V1}/webhooks"),
        json!({"name": "spare", "uri": env.rx.url, "version": "Chat Gateway v1.0"})
    );
    let spare_id = spare.json()["id"].as_str().unwrap().to_string();
    assert_eq!(
        call!("DELETE", format!("{V1}/webhooks/{spare_id}")).status,
        204
    );
    assert_eq!(
        call!("GET", format!("{V1}/webhooks/{spare_id}")).status,
        404
    );

    // JWK (no key needed).
    let kid = env.sim.keyring().current_kid();
    let p = format!("{V1}/jwk/{kid}/public");
    let r = api.with_key(None).get(&p).await;
    cov.hit("GET", &p, &r);
    assert_eq!(r.json()["kty"], "RSA");

    // Channels.
    let c = call!(
        "POST",
        format!("{V1}/channels"),
        json!({"name": "main", "type": "ChatAPI", "webHookId": wid, "routingOptions": {"type": "queue", "id": "101"}})
    );
    assert_eq!(c.status, 200);
    let cid = c.json()["id"].as_str().unwrap().to_string();
    assert_eq!(
        call!("GET", format!("{V1}/channels")).json()["page"]["totalElements"],
        1
    );
    assert_eq!(
        call!("GET", format!("{V1}/channels/{cid}")).json()["webHookId"],
        wid.as_str()
    );
    let cu = call!(
        "PUT",
        format!("{V1}/channels/{cid}"),
        json!({"name": "main 2", "webHookId": wid, "routingOptions": {"id": "102"}})
    );
    assert_eq!(
        cu.json()["routingOptions"],
        json!({"type": "queue", "id": "102"})
    );
    let extra = call!(
        "POST",
        format!("{V1}/channels"),
        json!({"name": "extra", "webHookId": wid, "routingOptions": {"type": "queue", "id": "101"}})
    );
    let extra_id = extra.json()["id"].as_str().unwrap().to_string();
    assert_eq!(
        call!("DELETE", format!("{V1}/channels/{extra_id}")).status,
        204
    );

    // Conversations.
    let created = call!(
        "POST",
        format!("{V1}/conversations"),
        json!({
            "channelId": cid, "assignment": {"type": "queue", "id": "101"},
            "user": {"name": "Ann", "customerId": "c-1", "timezoneOffset": -300}
        })
    );
    assert_eq!(created.status, 202);
    let conv = created.json()["conversationId"]
        .as_str()
        .unwrap()
        .to_string();
    let got = call!("GET", format!("{V1}/conversations/{conv}"));
    assert_eq!(
        got.json()["user"]["customerId"],
        "c-1",
        "P20: unknown user fields are kept"
    );
    assert_eq!(
        call!("GET", format!("{V1}/conversations")).json()["_embedded"]["conversations"][0]["id"],
        conv.as_str()
    );
    env.rx.wait_event(&conv, "QUEUED", |_| true).await;
    let put = call!(
        "PUT",
        format!("{V1}/conversations/{conv}"),
        json!({"channelId": cid, "user": {"name": "Ann B"}, "assignment": {"type": "queue", "id": "101"}})
    );
    assert_eq!(put.status, 202);
    assert_eq!(
        put.json()["user"],
        json!({"name": "Ann B"}),
        "PUT replaces the user"
    );
    let patched = call!(
        "PATCH",
        format!("{V1}/conversations/{conv}"),
        json!({"user": {"email": "ann@example.com"}})
    );
    assert_eq!(
        patched.json()["user"],
        json!({"name": "Ann B", "email": "ann@example.com"}),
        "PATCH merges"
    );
    assert_eq!(
        call!("GET", format!("{V1}/conversations/{conv}/interactions")).json()["_embedded"]
            ["interactions"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        call!(
            "POST",
            format!("{V1}/conversations/{conv}/post-agent-assignment"),
            json!({"type": "webhook", "id": wid})
        )
        .status,
        201
    );
    assert_eq!(
        call!(
            "POST",
            format!("{V1}/conversations/{conv}/typing"),
            json!({"authorType": "bot"})
        )
        .status,
        204
    );
    let p = format!("{V1}/conversations/{conv}/thinking");
    let r = api.raw("POST", &p, None, None).await;
    assert_eq!(
        cov.hit("POST", &p, &r).status,
        204,
        "thinking takes no body"
    );
    assert_eq!(
        call!(
            "POST",
            p.clone(),
            json!({"authorType": "bot", "maxThinkingTimeSeconds": 600})
        )
        .status,
        204
    );
    assert_eq!(
        call!(
            "POST",
            format!("{V1}/conversations/{conv}/read-receipt"),
            json!({"authorType": "user", "readAt": 1770200431963u64})
        )
        .status,
        204
    );
    let view = env.ctl.conversation(&conv).await.unwrap();
    let kinds: Vec<_> = view.indicators.iter().map(|i| i.kind.as_str()).collect();
    assert_eq!(
        kinds,
        vec!["typing", "thinking", "thinking", "read-receipt"]
    );

    // Attachments.
    let form = reqwest::multipart::Form::new()
        .part(
            "attachment",
            reqwest::multipart::Part::bytes(b"%PDF-1.4 test".to_vec())
                .file_name("doc.pdf")
                .mime_str("application/pdf")
                .unwrap(),
        )
        .text("authorType", "user");
    let p = format!("{V1}/conversations/{conv}/attachments");
    let up = cov.hit("POST", &p, &api.upload(&p, form).await);
    assert_eq!(up.status, 200);
    assert_eq!(up.json()["sizeInBytes"], 13);
    assert_eq!(up.json()["filename"], "doc.pdf");
    let att = up.json()["id"].as_str().unwrap().to_string();
    assert_eq!(
        call!("GET", format!("{V1}/conversations/{conv}/attachments")).json()["_embedded"]
            ["attachments"][0]["id"],
        att.as_str()
    );
    assert_eq!(
        call!(
            "GET",
            format!("{V1}/conversations/{conv}/attachments/{att}")
        )
        .json()["sizeInBytes"],
        13
    );
    let content = call!(
        "GET",
        format!("{V1}/conversations/{conv}/attachments/{att}/content")
    );
    assert_eq!(&content.bytes[..], b"%PDF-1.4 test");
    assert!(content
        .headers
        .get("content-disposition")
        .unwrap()
        .to_str()
        .unwrap()
        .contains("doc.pdf"));

    // Messages and cards.
    let sent = call!(
        "POST",
        format!("{V1}/conversations/{conv}/messages"),
        json!({
            "authorType": "user", "text": "see attached", "attachments": [{"id": att}],
            "cards": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": {"type": "AdaptiveCard", "version": "1.3", "body": []}}]
        })
    );
    assert_eq!(sent.status, 202);
    let echo = env
        .rx
        .wait_event(&conv, "MESSAGE", |j| j["data"]["text"] == "see attached")
        .await;
    assert_eq!(echo.json["data"]["attachments"][0]["fileName"], "doc.pdf");
    assert_eq!(call!("POST", format!("{V1}/conversations/{conv}/messages"), json!({"authorType": "user", "externalProvider": {"name": "X", "externalMessageId": "1234567890123456789"}})).status, 202);
    let list = call!(
        "GET",
        format!("{V1}/conversations/{conv}/messages?sort=createdAt:asc")
    );
    let first = list.json()["_embedded"]["messages"][0].clone();
    assert_eq!(first["attachments"][0]["id"], att.as_str());
    let second = list.json()["_embedded"]["messages"][1].clone();
    assert_eq!(
        second["externalProvider"]["externalMessageId"],
        "1234567890123456789"
    );
    let mid = first["id"].as_str().unwrap().to_string();
    assert_eq!(
        call!("GET", format!("{V1}/conversations/{conv}/messages/{mid}")).json()["text"],
        "see attached"
    );
    let cards = call!(
        "GET",
        format!("{V1}/conversations/{conv}/messages/{mid}/cards")
    );
    let card = cards.json()["_embedded"]["cards"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        cards.json()["_embedded"]["cards"][0]["actionSubmitted"],
        false
    );
    assert_eq!(
        call!(
            "PUT",
            format!("/api/v1/tenant/{TENANT}/conversations/{conv}/cards/{card}/action-submit"),
            json!({"name": "8x8"})
        )
        .status,
        204
    );
    assert_eq!(
        call!(
            "PUT",
            format!("/api/v1/tenant/{TENANT}/conversations/{conv}/cards/{card}/action-execute"),
            json!({"name": "8x8-Int"})
        )
        .status,
        204
    );
    let cards = call!(
        "GET",
        format!("{V1}/conversations/{conv}/messages/{mid}/cards")
    );
    assert_eq!(
        cards.json()["_embedded"]["cards"][0]["actionSubmitted"],
        true
    );
    assert_eq!(
        cards.json()["_embedded"]["cards"][0]["actionExecuted"],
        true
    );
    let ex = env
        .rx
        .wait_event(&conv, "ACTIVITY", |j| {
            j["data"]["value"]["type"] == "Action.Execute"
        })
        .await;
    assert_eq!(ex.json["data"]["value"]["data"], json!({"name": "8x8-Int"}));

    // Participants and leaving.
    assert_eq!(
        call!("GET", format!("{V1}/conversations/{conv}/participants")).json()["_embedded"]
            ["participants"][0]["id"],
        "user"
    );
    assert_eq!(
        call!(
            "PATCH",
            format!("{V1}/conversations/{conv}/participants/user"),
            json!({"removed": true, "displayMessage": "bye"})
        )
        .status,
        204
    );

    let all: BTreeSet<String> = Contract::get()
        .operations()
        .iter()
        .map(|o| o.operation_id.clone())
        .collect();
    let missing: Vec<_> = all.difference(&cov.0).collect();
    assert!(missing.is_empty(), "operations not exercised: {missing:?}");
    assert_eq!(cov.0.len(), 34);
    env.sim.shutdown().await;
}

#[tokio::test]
async fn paging_sorting_and_filtering() {
    let env = Env::start().await;
    for i in 0..25 {
        let r = env.api.post(&format!("{V1}/webhooks"), json!({"name": format!("hook-{}", i % 5), "uri": env.rx.url, "version": "Chat Gateway v1.0"})).await;
        assert_eq!(r.status, 200);
    }
    let page = env.api.get(&format!("{V1}/webhooks?size=10&page=2")).await;
    let ids: Vec<_> = page.json()["_embedded"]["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, vec!["21", "22", "23", "24", "25"]);
    assert_eq!(
        page.json()["page"],
        json!({"size": 10, "number": 2, "totalElements": 25, "totalPages": 3})
    );
    assert!(page.json()["_links"]["self"]["href"]
        .as_str()
        .unwrap()
        .ends_with("/chat-gateway/v1/webhooks"));
    let default = env.api.get(&format!("{V1}/webhooks")).await;
    assert_eq!(default.json()["page"]["size"], 20);
    assert_eq!(
        default.json()["_embedded"]["webhooks"]
            .as_array()
            .unwrap()
            .len(),
        20
    );
    let desc = env
        .api
        .get(&format!("{V1}/webhooks?sort=id:desc&size=1"))
        .await;
    assert_eq!(desc.json()["_embedded"]["webhooks"][0]["id"], "25");
    let filtered = env
        .api
        .get(&format!("{V1}/webhooks?filter=name==hook-1;id==2,id==3"))
        .await;
    let ids: Vec<Value> = filtered.json()["_embedded"]["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].clone())
        .collect();
    assert_eq!(ids, vec![json!("2"), json!("3")]);
    let beyond = env.api.get(&format!("{V1}/webhooks?page=9")).await;
    assert!(beyond.json()["_embedded"]["webhooks"]
        .as_array()
        .unwrap()
        .is_empty());
    env.sim.shutdown().await;
}

#[tokio::test]
async fn unknown_paths_get_a_problem_body() {
    let env = Env::start().await;
    let r = env
        .http
        .get(format!(
            "{}/chat-gateway/v1/nothing-here",
            env.sim.base_url()
        ))
        .header("x-api-key", KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let v: Value = r.json().await.unwrap();
    assert!(v["message"].as_str().unwrap().contains("nothing-here"));
    env.sim.shutdown().await;
}
