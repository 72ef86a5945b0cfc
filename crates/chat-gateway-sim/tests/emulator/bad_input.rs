//! Bad input on every operation: the right status, the endpoint's own error shape
//! (chat-gateway.md §2; the support client also validates it against the contract), and nothing
//! stored changes — checked after every single case.

use crate::support::*;
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Shape {
    /// GenericExceptionPayload: errors = [{code, message}].
    Generic,
    /// BadRequestProblem: errors = {code, message}.
    BadRequest,
    /// InvalidParameterExceptionPayload: errors = [{code, message}] + referenceId.
    InvalidParameter,
    /// ResourceNotFoundProblem: errors = ["..."].
    NotFound,
    /// ResourceNotFoundExceptionPayload: errors = [{code: resource_not_found}].
    NotFoundException,
    /// ForbiddenViolationProblem: errors = ["..."].
    Forbidden,
    /// UnauthorizedProblem: errors = [{code: access_denied}].
    Unauthorized,
}

fn check_shape(what: &str, r: &Resp, shape: Shape) {
    let v = r.json();
    assert_eq!(
        r.content_type.as_deref(),
        Some("application/problem+json"),
        "{what}"
    );
    assert!(v["message"].is_string(), "{what}: {v}");
    let errors = &v["errors"];
    let strings = errors
        .as_array()
        .is_some_and(|a| !a.is_empty() && a.iter().all(Value::is_string));
    let objects = errors.as_array().is_some_and(|a| {
        !a.is_empty()
            && a.iter()
                .all(|e| e["code"].is_string() && e["message"].is_string())
    });
    let ok = match shape {
        Shape::Generic => objects && v.get("referenceId").is_none(),
        Shape::BadRequest => {
            errors["code"].is_string()
                && errors["message"].is_string()
                && v["referenceId"].is_string()
        }
        Shape::InvalidParameter => objects && v["referenceId"].is_string(),
        Shape::NotFound | Shape::Forbidden => strings,
        Shape::NotFoundException => objects && errors[0]["code"] == "resource_not_found",
        Shape::Unauthorized => objects && errors[0]["code"] == "access_denied",
    };
    assert!(ok, "{what}: expected {shape:?} shape, got {v}");
}

struct Fixture {
    env: Env,
    wid: String,
    cid: String,
    conv: String,
    mid: String,
    card: String,
    att: String,
}

async fn fixture() -> Fixture {
    let env = Env::start().await;
    env.manual_agents().await;
    let (wid, cid) = env.webhook_and_channel().await;
    let conv = env.create_conversation(&cid).await;
    env.rx.wait_event(&conv, "QUEUED", |_| true).await;
    let form = reqwest::multipart::Form::new().part(
        "attachment",
        reqwest::multipart::Part::bytes(b"hello".to_vec()).file_name("a.txt"),
    );
    let att = env
        .api
        .upload(&format!("{V1}/conversations/{conv}/attachments"), form)
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    env.api.post(&format!("{V1}/conversations/{conv}/messages"), json!({
        "authorType": "bot", "text": "pick one",
        "cards": [{"contentType": "application/8x8.quick.replies", "content": {"options": []}}]
    })).await;
    env.rx.wait_event(&conv, "MESSAGE", |_| true).await;
    let list = env
        .api
        .get(&format!("{V1}/conversations/{conv}/messages"))
        .await;
    let mid = list.json()["_embedded"]["messages"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let cards = env
        .api
        .get(&format!("{V1}/conversations/{conv}/messages/{mid}/cards"))
        .await;
    let card = cards.json()["_embedded"]["cards"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    Fixture {
        env,
        wid,
        cid,
        conv,
        mid,
        card,
        att,
    }
}

/// Everything the API and the agent view can show, plus the deliveries so far.
async fn snapshot(f: &Fixture) -> Value {
    let api = &f.env.api;
    let c = &f.conv;
    let mut s = json!({});
    for (k, p) in [
        ("webhooks", format!("{V1}/webhooks?size=100")),
        ("channels", format!("{V1}/channels?size=100")),
        ("conversations", format!("{V1}/conversations?size=100")),
        ("conversation", format!("{V1}/conversations/{c}")),
        (
            "messages",
            format!("{V1}/conversations/{c}/messages?size=100"),
        ),
        (
            "participants",
            format!("{V1}/conversations/{c}/participants"),
        ),
        ("attachments", format!("{V1}/conversations/{c}/attachments")),
        (
            "interactions",
            format!("{V1}/conversations/{c}/interactions"),
        ),
        (
            "cards",
            format!("{V1}/conversations/{c}/messages/{}/cards", f.mid),
        ),
    ] {
        s[k] = api.get(&p).await.json().clone();
    }
    let view = f.env.ctl.conversation(c).await.unwrap();
    s["postAgent"] = json!(view.post_agent_assignment);
    s["indicators"] = json!(view.indicators);
    s["offers"] = json!(f.env.ctl.offers().await.unwrap());
    s["deliveries"] = json!(f.env.rx.all().len());
    s
}

enum Body {
    None,
    Json(Value),
    Raw(&'static str),
}

#[tokio::test]
async fn every_operation_rejects_bad_input_without_changing_anything() {
    let f = fixture().await;
    let (wid, cid, conv, card, att) = (&f.wid, &f.cid, &f.conv, &f.card, &f.att);
    let cv = format!("{V1}/conversations/{conv}");
    let long_name = "x".repeat(257);
    let too_many_history: Vec<Value> = (0..201)
        .map(|_| json!({"authorType": "user", "text": "x"}))
        .collect();
    let too_many_props: Vec<Value> = (0..31)
        .map(|i| json!({"key": format!("k{i}"), "value": "v"}))
        .collect();
    let unreachable = "http://127.0.0.1:1/hook";
    use Body::{Json as J, None as N, Raw as R};
    use Shape::*;
    let cases: Vec<(&str, String, Body, u16, Shape)> = vec![
        // 1 GET /webhooks
        ("GET", format!("{V1}/webhooks?size=0"), N, 400, Generic),
        (
            "GET",
            format!("{V1}/webhooks?sort=colour:asc"),
            N,
            400,
            Generic,
        ),
        // 2 POST /webhooks
        ("POST", format!("{V1}/webhooks"), J(json!({})), 400, Generic),
        (
            "POST",
            format!("{V1}/webhooks"),
            R("{not json"),
            400,
            Generic,
        ),
        (
            "POST",
            format!("{V1}/webhooks"),
            J(json!([1, 2])),
            400,
            Generic,
        ),
        (
            "POST",
            format!("{V1}/webhooks"),
            J(json!({"name": long_name, "uri": f.env.rx.url, "version": "Chat Gateway v1.0"})),
            400,
            Generic,
        ),
        (
            "POST",
            format!("{V1}/webhooks"),
            J(json!({"name": "n", "uri": "not a url", "version": "Chat Gateway v1.0"})),
            400,
            Generic,
        ),
        (
            "POST",
            format!("{V1}/webhooks"),
            J(json!({"name": "n", "uri": f.env.rx.url})),
            400,
            Generic,
        ),
        (
            "POST",
            format!("{V1}/webhooks"),
            J(json!({"name": "n", "uri": f.env.rx.url, "version": "v2.0"})),
            400,
            Generic,
        ),
        (
            "POST",
            format!("{V1}/webhooks"),
            J(json!({"name": "n", "uri": unreachable, "version": "Chat Gateway v1.0"})),
            400,
            Generic,
        ),
        // 3-5 webhook by id
        ("GET", format!("{V1}/webhooks/999"), N, 404, NotFound),
        (
            "PUT",
            format!("{V1}/webhooks/999"),
            J(json!({"name": "n", "uri": f.env.rx.url, "version": "Chat Gateway v1.0"})),
            404,
            NotFound,
        ),
        (
            "PUT",
            format!("{V1}/webhooks/{wid}"),
            J(json!({"name": "n"})),
            400,
            Generic,
        ),
        (
            "PUT",
            format!("{V1}/webhooks/{wid}"),
            J(json!({"name": "n", "uri": unreachable, "version": "Chat Gateway v1.0"})),
            400,
            Generic,
        ),
        ("DELETE", format!("{V1}/webhooks/999"), N, 404, NotFound),
        // 6 verify
        (
            "POST",
            format!("{V1}/webhooks/verify"),
            J(json!({"version": "Chat Gateway v1.0"})),
            400,
            Generic,
        ),
        (
            "POST",
            format!("{V1}/webhooks/verify"),
            J(json!({"uri": f.env.rx.url})),
            400,
            Generic,
        ),
        (
            "POST",
            format!("{V1}/webhooks/verify"),
            J(json!({"version": "Chat Gateway v1.0", "uri": unreachable})),
            400,
            Generic,
        ),
        // 7 JWK
        (
            "GET",
            format!("{V1}/jwk/unknown-kid/public"),
            N,
            404,
            NotFound,
        ),
        // 8-12 channels
        ("GET", format!("{V1}/channels?page=-1"), N, 400, Generic),
        (
            "POST",
            format!("{V1}/channels"),
            J(
                json!({"name": "c", "type": "WhatsApp", "webHookId": wid, "routingOptions": {"type": "queue", "id": "101"}}),
            ),
            400,
            Generic,
        ),
        (
            "POST",
            format!("{V1}/channels"),
            J(
                json!({"name": "c", "webHookId": "999", "routingOptions": {"type": "queue", "id": "101"}}),
            ),
            400,
            Generic,
        ),
        (
            "POST",
            format!("{V1}/channels"),
            J(
                json!({"name": "c", "webHookId": wid, "routingOptions": {"type": "queue", "id": "555"}}),
            ),
            400,
            Generic,
        ),
        (
            "POST",
            format!("{V1}/channels"),
            J(
                json!({"name": "c", "webHookId": wid, "routingOptions": {"type": "agent", "id": "101"}}),
            ),
            400,
            Generic,
        ),
        (
            "POST",
            format!("{V1}/channels"),
            J(json!({"webHookId": wid, "routingOptions": {"type": "queue", "id": "101"}})),
            400,
            Generic,
        ),
        (
            "POST",
            format!("{V1}/channels"),
            J(json!({"name": "c", "webHookId": wid})),
            400,
            Generic,
        ),
        ("GET", format!("{V1}/channels/999"), N, 404, NotFound),
        (
            "PUT",
            format!("{V1}/channels/999"),
            J(json!({"name": "c", "webHookId": wid, "routingOptions": {"id": "101"}})),
            404,
            NotFound,
        ),
        (
            "PUT",
            format!("{V1}/channels/{cid}"),
            J(json!({"name": "c", "webHookId": wid, "routingOptions": {"id": "555"}})),
            400,
            Generic,
        ),
        ("DELETE", format!("{V1}/channels/999"), N, 404, NotFound),
        // 13-14 conversations
        (
            "GET",
            format!("{V1}/conversations?size=abc"),
            N,
            400,
            Generic,
        ),
        (
            "POST",
            format!("{V1}/conversations"),
            J(json!({"channelId": cid})),
            400,
            Generic,
        ),
        (
            "POST",
            format!("{V1}/conversations"),
            J(json!({"user": {"name": "a"}})),
            400,
            Generic,
        ),
        (
            "POST",
            format!("{V1}/conversations"),
            J(json!({"channelId": "999", "user": {}})),
            400,
            Generic,
        ),
        (
            "POST",
            format!("{V1}/conversations"),
            J(json!({"channelId": cid, "user": {}, "assignment": {"type": "queue", "id": "555"}})),
            400,
            Generic,
        ),
        (
            "POST",
            format!("{V1}/conversations"),
            J(json!({"channelId": cid, "user": {}, "assignment": {"type": "agent", "id": "a"}})),
            400,
            Generic,
        ),
        (
            "POST",
            format!("{V1}/conversations"),
            J(json!({"channelId": cid, "user": {}, "history": {"messages": too_many_history}})),
            400,
            Generic,
        ),
        (
            "POST",
            format!("{V1}/conversations"),
            J(json!({"channelId": cid, "user": {"additionalProperties": too_many_props}})),
            400,
            Generic,
        ),
        (
            "POST",
            format!("{V1}/conversations"),
            J(json!({"channelId": cid, "user": {"additionalProperties": [{"key": "k"}]}})),
            400,
            Generic,
        ),
        (
            "POST",
            format!("{V1}/conversations"),
            J(
                json!({"channelId": cid, "user": {}, "history": {"messages": [{"authorType": "user", "text": "a", "externalProvider": {"name": "X", "externalMessageId": "1"}}]}}),
            ),
            400,
            Generic,
        ),
        (
            "POST",
            format!("{V1}/conversations"),
            J(json!({"channelId": cid, "user": {}, "history": {}})),
            400,
            Generic,
        ),
        (
            "POST",
            format!("{V1}/conversations"),
            J(json!({"channelId": cid, "user": {"email": "not-an-email"}})),
            400,
            Generic,
        ),
        // 15-18
        ("GET", format!("{V1}/conversations/nope"), N, 404, NotFound),
        (
            "PUT",
            format!("{V1}/conversations/nope"),
            J(json!({"user": {}})),
            404,
            NotFound,
        ),
        (
            "PUT",
            cv.clone(),
            J(json!({"assignment": {"type": "queue", "id": "555"}})),
            400,
            Generic,
        ),
        (
            "PATCH",
            format!("{V1}/conversations/nope"),
            J(json!({"user": {}})),
            404,
            NotFound,
        ),
        ("PATCH", cv.clone(), J(json!({})), 400, Generic),
        (
            "PATCH",
            cv.clone(),
            J(json!({"assignment": {"type": "bogus", "id": "1"}})),
            400,
            Generic,
        ),
        (
            "GET",
            format!("{V1}/conversations/nope/interactions"),
            N,
            404,
            NotFound,
        ),
        // 19 post-agent-assignment
        (
            "POST",
            format!("{V1}/conversations/nope/post-agent-assignment"),
            J(json!({"type": "webhook", "id": wid})),
            404,
            NotFoundException,
        ),
        (
            "POST",
            format!("{cv}/post-agent-assignment"),
            J(json!({"type": "queue", "id": wid})),
            400,
            InvalidParameter,
        ),
        (
            "POST",
            format!("{cv}/post-agent-assignment"),
            J(json!({"type": "webhook", "id": "999"})),
            400,
            InvalidParameter,
        ),
        (
            "POST",
            format!("{cv}/post-agent-assignment"),
            J(json!({"type": "webhook", "id": wid, "configuration": {"maxTotalMinutes": 19}})),
            400,
            InvalidParameter,
        ),
        (
            "POST",
            format!("{cv}/post-agent-assignment"),
            J(
                json!({"type": "webhook", "id": wid, "configuration": {"userTimeoutInMinutes": "301"}}),
            ),
            400,
            InvalidParameter,
        ),
        (
            "POST",
            format!("{cv}/post-agent-assignment"),
            J(
                json!({"type": "webhook", "id": wid, "configuration": {"notifyChannelWebhookIfExists": "maybe"}}),
            ),
            400,
            InvalidParameter,
        ),
        // 20-22 indicators
        (
            "POST",
            format!("{V1}/conversations/nope/typing"),
            J(json!({"authorType": "bot"})),
            404,
            NotFoundException,
        ),
        (
            "POST",
            format!("{cv}/typing"),
            J(json!({})),
            400,
            InvalidParameter,
        ),
        (
            "POST",
            format!("{cv}/typing"),
            J(json!({"authorType": "agent"})),
            400,
            InvalidParameter,
        ),
        ("POST", format!("{cv}/typing"), N, 400, InvalidParameter),
        (
            "POST",
            format!("{V1}/conversations/nope/thinking"),
            N,
            404,
            NotFoundException,
        ),
        (
            "POST",
            format!("{cv}/thinking"),
            J(json!({"authorType": "user"})),
            400,
            InvalidParameter,
        ),
        (
            "POST",
            format!("{cv}/thinking"),
            J(json!({"maxThinkingTimeSeconds": 0})),
            400,
            InvalidParameter,
        ),
        (
            "POST",
            format!("{cv}/thinking"),
            J(json!({"maxThinkingTimeSeconds": 601})),
            400,
            InvalidParameter,
        ),
        (
            "POST",
            format!("{cv}/thinking"),
            J(json!({"maxThinkingTimeSeconds": "60"})),
            400,
            InvalidParameter,
        ),
        (
            "POST",
            format!("{V1}/conversations/nope/read-receipt"),
            J(json!({"authorType": "bot", "readAt": 1})),
            404,
            NotFoundException,
        ),
        (
            "POST",
            format!("{cv}/read-receipt"),
            J(json!({"authorType": "bot"})),
            400,
            InvalidParameter,
        ),
        (
            "POST",
            format!("{cv}/read-receipt"),
            J(json!({"authorType": "bot", "readAt": "yesterday"})),
            400,
            InvalidParameter,
        ),
        (
            "POST",
            format!("{cv}/read-receipt"),
            J(json!({"authorType": "agent", "readAt": 1})),
            400,
            InvalidParameter,
        ),
        // 23-24 participants
        (
            "GET",
            format!("{V1}/conversations/nope/participants"),
            N,
            404,
            Generic,
        ),
        (
            "PATCH",
            format!("{cv}/participants/user"),
            J(json!({"removed": false})),
            400,
            Generic,
        ),
        (
            "PATCH",
            format!("{cv}/participants/user"),
            J(json!({})),
            400,
            Generic,
        ),
        (
            "PATCH",
            format!("{V1}/conversations/nope/participants/user"),
            J(json!({"removed": true})),
            404,
            NotFound,
        ),
        // 25-27 messages
        (
            "GET",
            format!("{V1}/conversations/nope/messages"),
            N,
            404,
            Generic,
        ),
        ("GET", format!("{cv}/messages?sort=id:asc"), N, 400, Generic),
        (
            "POST",
            format!("{cv}/messages"),
            J(json!({"authorType": "agent", "text": "hi"})),
            400,
            BadRequest,
        ),
        (
            "POST",
            format!("{cv}/messages"),
            J(
                json!({"authorType": "user", "text": "a", "externalProvider": {"name": "X", "externalMessageId": "1"}}),
            ),
            400,
            BadRequest,
        ),
        (
            "POST",
            format!("{cv}/messages"),
            J(json!({"authorType": "user"})),
            400,
            BadRequest,
        ),
        (
            "POST",
            format!("{cv}/messages"),
            J(json!({"text": "no author"})),
            400,
            BadRequest,
        ),
        (
            "POST",
            format!("{cv}/messages"),
            J(
                json!({"authorType": "user", "externalProvider": {"name": "Y", "externalMessageId": "1"}}),
            ),
            400,
            BadRequest,
        ),
        (
            "POST",
            format!("{cv}/messages"),
            J(json!({"authorType": "user", "text": "a", "attachments": [{"id": "missing"}]})),
            400,
            BadRequest,
        ),
        (
            "POST",
            format!("{cv}/messages"),
            J(
                json!({"authorType": "user", "text": "a", "cards": [{"contentType": "text/html", "content": {}}]}),
            ),
            400,
            BadRequest,
        ),
        ("POST", format!("{cv}/messages"), R("{"), 400, BadRequest),
        (
            "POST",
            format!("{V1}/conversations/nope/messages"),
            J(json!({"authorType": "user", "text": "a"})),
            404,
            NotFound,
        ),
        ("GET", format!("{cv}/messages/nope"), N, 404, NotFound),
        // 28-31 attachments
        (
            "GET",
            format!("{V1}/conversations/nope/attachments"),
            N,
            404,
            NotFound,
        ),
        ("GET", format!("{cv}/attachments?size=0"), N, 400, Generic),
        (
            "POST",
            format!("{cv}/attachments"),
            J(json!({"attachment": "not multipart"})),
            400,
            Generic,
        ),
        ("GET", format!("{cv}/attachments/nope"), N, 404, NotFound),
        (
            "GET",
            format!("{cv}/attachments/nope/content"),
            N,
            404,
            NotFound,
        ),
        (
            "GET",
            format!("{V1}/conversations/nope/attachments/{att}/content"),
            N,
            404,
            NotFound,
        ),
        // 32-34 cards
        ("GET", format!("{cv}/messages/nope/cards"), N, 404, Generic),
        (
            "PUT",
            format!("/api/v1/tenant/{TENANT}/conversations/{conv}/cards/nope/action-submit"),
            J(json!({"name": "8x8"})),
            404,
            NotFoundException,
        ),
        (
            "PUT",
            format!("/api/v1/tenant/{TENANT}/conversations/{conv}/cards/{card}/action-submit"),
            R("nope"),
            400,
            Generic,
        ),
        (
            "PUT",
            format!("/api/v1/tenant/{TENANT}/conversations/nope/cards/{card}/action-execute"),
            J(json!({"name": "8x8-Int"})),
            404,
            NotFoundException,
        ),
        (
            "PUT",
            format!("/api/v1/tenant/{TENANT}/conversations/{conv}/cards/{card}/action-execute"),
            J(json!({"name": 5})),
            400,
            Generic,
        ),
    ];
    let before = snapshot(&f).await;
    for (method, path, body, status, shape) in cases {
        let what = format!("{method} {path}");
        let r = match body {
            N => f.env.api.raw(method, &path, None, None).await,
            J(v) => f.env.api.call(method, &path, Some(v)).await,
            R(s) => {
                f.env
                    .api
                    .raw(
                        method,
                        &path,
                        Some(s.as_bytes().to_vec()),
                        Some("application/json"),
                    )
                    .await
            }
        };
        assert_eq!(r.status, status, "{what}: {:?}", r.body);
        check_shape(&what, &r, shape);
        let after = snapshot(&f).await;
        assert_eq!(before, after, "{what} changed stored state");
    }
    // A multipart upload with no file part, and one with a bad authorType.
    let p = format!("{V1}/conversations/{conv}/attachments");
    let r = f
        .env
        .api
        .upload(
            &p,
            reqwest::multipart::Form::new().text("authorType", "user"),
        )
        .await;
    assert_eq!(r.status, 400);
    check_shape("upload without file", &r, Generic);
    let form = reqwest::multipart::Form::new()
        .part(
            "attachment",
            reqwest::multipart::Part::bytes(b"x".to_vec()).file_name("x.txt"),
        )
        .text("authorType", "agent");
    let r = f.env.api.upload(&p, form).await;
    assert_eq!(r.status, 400);
    assert_eq!(before, snapshot(&f).await);
    f.env.sim.shutdown().await;
}

#[tokio::test]
async fn every_operation_needs_a_key_and_the_right_tenant() {
    let f = fixture().await;
    let (wid, cid, conv, mid, card, att) = (&f.wid, &f.cid, &f.conv, &f.mid, &f.card, &f.att);
    let cv = format!("{V1}/conversations/{conv}");
    let ops: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", format!("{V1}/webhooks"), None),
        (
            "POST",
            format!("{V1}/webhooks"),
            Some(json!({"name": "n", "uri": f.env.rx.url, "version": "Chat Gateway v1.0"})),
        ),
        ("GET", format!("{V1}/webhooks/{wid}"), None),
        (
            "PUT",
            format!("{V1}/webhooks/{wid}"),
            Some(json!({"name": "n", "uri": f.env.rx.url, "version": "Chat Gateway v1.0"})),
        ),
        ("DELETE", format!("{V1}/webhooks/{wid}"), None),
        (
            "POST",
            format!("{V1}/webhooks/verify"),
            Some(json!({"version": "Chat Gateway v1.0", "uri": f.env.rx.url})),
        ),
        ("GET", format!("{V1}/channels"), None),
        (
            "POST",
            format!("{V1}/channels"),
            Some(json!({"name": "c", "webHookId": wid, "routingOptions": {"id": "101"}})),
        ),
        ("GET", format!("{V1}/channels/{cid}"), None),
        (
            "PUT",
            format!("{V1}/channels/{cid}"),
            Some(json!({"name": "c", "webHookId": wid, "routingOptions": {"id": "101"}})),
        ),
        ("DELETE", format!("{V1}/channels/{cid}"), None),
        ("GET", format!("{V1}/conversations"), None),
        (
            "POST",
            format!("{V1}/conversations"),
            Some(json!({"channelId": cid, "user": {}})),
        ),
        ("GET", cv.clone(), None),
        ("PUT", cv.clone(), Some(json!({"user": {}}))),
        ("PATCH", cv.clone(), Some(json!({"user": {}}))),
        ("GET", format!("{cv}/interactions"), None),
        (
            "POST",
            format!("{cv}/post-agent-assignment"),
            Some(json!({"type": "webhook", "id": wid})),
        ),
        (
            "POST",
            format!("{cv}/typing"),
            Some(json!({"authorType": "bot"})),
        ),
        ("POST", format!("{cv}/thinking"), None),
        (
            "POST",
            format!("{cv}/read-receipt"),
            Some(json!({"authorType": "bot", "readAt": 1})),
        ),
        ("GET", format!("{cv}/participants"), None),
        (
            "PATCH",
            format!("{cv}/participants/user"),
            Some(json!({"removed": true})),
        ),
        ("GET", format!("{cv}/messages"), None),
        (
            "POST",
            format!("{cv}/messages"),
            Some(json!({"authorType": "user", "text": "x"})),
        ),
        ("GET", format!("{cv}/messages/{mid}"), None),
        ("GET", format!("{cv}/attachments"), None),
        ("POST", format!("{cv}/attachments"), None),
        ("GET", format!("{cv}/attachments/{att}"), None),
        ("GET", format!("{cv}/attachments/{att}/content"), None),
        ("GET", format!("{cv}/messages/{mid}/cards"), None),
        (
            "PUT",
            format!("/api/v1/tenant/{TENANT}/conversations/{conv}/cards/{card}/action-submit"),
            Some(json!({"name": "8x8"})),
        ),
        (
            "PUT",
            format!("/api/v1/tenant/{TENANT}/conversations/{conv}/cards/{card}/action-execute"),
            Some(json!({"name": "8x8"})),
        ),
    ];
    assert_eq!(ops.len(), 33, "every operation but the open JWK");
    let before = snapshot(&f).await;
    for (method, path, body) in &ops {
        let what = format!("{method} {path}");
        for api in [
            f.env.api.with_key(None),
            f.env.api.with_key(Some("wrong-key")),
        ] {
            let r = api.call(method, path, body.clone()).await;
            assert_eq!(r.status, 401, "{what}");
            check_shape(&what, &r, Shape::Unauthorized);
        }
        let r = f
            .env
            .api
            .with_tenant(Some("someone-else"))
            .call(method, path, body.clone())
            .await;
        assert_eq!(r.status, 403, "{what}");
        // P17: POST /channels and POST …/attachments declare the generic shape for 403.
        let generic =
            *method == "POST" && (path.ends_with("/channels") || path.ends_with("/attachments"));
        check_shape(
            &what,
            &r,
            if generic {
                Shape::Generic
            } else {
                Shape::Forbidden
            },
        );
    }
    // The card PUTs carry the tenant in the path as well.
    let r = f
        .env
        .api
        .with_tenant(None)
        .put(
            &format!("/api/v1/tenant/other/conversations/{conv}/cards/{card}/action-submit"),
            json!({"name": "8x8"}),
        )
        .await;
    assert_eq!(r.status, 403);
    check_shape("card PUT for another tenant", &r, Shape::Forbidden);
    assert_eq!(before, snapshot(&f).await);
    // Without the tenant header a single-tenant key still works (P16).
    assert_eq!(
        f.env
            .api
            .with_tenant(None)
            .get(&format!("{V1}/webhooks"))
            .await
            .status,
        200
    );
    f.env.sim.shutdown().await;
}

#[tokio::test]
async fn several_tenants_need_the_header_and_are_isolated() {
    let mut seed = chat_gateway_sim::Seed::sandbox();
    seed.api_keys.push(chat_gateway_sim::ApiKeySeed {
        key: "multi".into(),
        tenants: vec!["t-a".into(), "t-b".into()],
    });
    let env = Env::with_seed(seed).await;
    let multi = env.api.with_key(Some("multi"));
    let r = multi.with_tenant(None).get(&format!("{V1}/webhooks")).await;
    assert_eq!(r.status, 403);
    check_shape("no tenant header", &r, Shape::Forbidden);
    let a = multi.with_tenant(Some("t-a"));
    let b = multi.with_tenant(Some("t-b"));
    let w = a
        .post(
            &format!("{V1}/webhooks"),
            json!({"name": "a", "uri": env.rx.url, "version": "Chat Gateway v1.0"}),
        )
        .await;
    assert_eq!(w.status, 200);
    let id = w.json()["id"].as_str().unwrap().to_string();
    assert_eq!(a.get(&format!("{V1}/webhooks/{id}")).await.status, 200);
    assert_eq!(b.get(&format!("{V1}/webhooks/{id}")).await.status, 404);
    assert_eq!(
        b.get(&format!("{V1}/webhooks")).await.json()["page"]["totalElements"],
        0
    );
    // The verify delivery names the tenant it was made for.
    assert_eq!(
        env.rx.all()[0].header("x-8x8-tenant-id").as_deref(),
        Some("t-a")
    );
    env.sim.shutdown().await;
}
