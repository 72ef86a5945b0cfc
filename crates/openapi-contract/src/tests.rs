//! The validator must reject what the contract forbids; a validator that accepts
//! everything would make every contract test meaningless.

use serde_json::json;

use super::*;

fn c() -> &'static Contract {
    Contract::get()
}

#[test]
fn document_has_the_34_operations() {
    assert_eq!(c().operations().len(), 34);
    let op = c()
        .find_operation("POST", "/chat-gateway/v1/webhooks/verify")
        .unwrap();
    assert_eq!(op.operation_id, "verifywebhook-1");
    let op = c()
        .find_operation("put", "/chat-gateway/v1/webhooks/verify?x=1")
        .unwrap();
    assert_eq!(op.operation_id, "updatewebhook-1");
    assert!(c().find_operation("GET", "/chat-gateway/v1/nope").is_none());
}

#[test]
fn good_webhook_result_passes_and_bad_one_fails() {
    let path = "/chat-gateway/v1/webhooks/12";
    let good = json!({"id":"12","name":"relay","uri":"https://x.example/hook","version":"Chat Gateway v1.0"});
    c().validate_response("GET", path, 200, Some("application/hal+json"), Some(&good))
        .unwrap();
    let bad = json!({"id":12,"name":"relay","uri":"https://x.example/hook","version":"v9"});
    let errs = c()
        .validate_response("GET", path, 200, Some("application/hal+json"), Some(&bad))
        .unwrap_err();
    assert!(errs.iter().any(|e| e.contains("/id")), "{errs:?}");
    assert!(errs.iter().any(|e| e.contains("/version")), "{errs:?}");
}

#[test]
fn wrong_status_or_media_type_fails() {
    let path = "/chat-gateway/v1/webhooks";
    let body = json!({"id":"1","name":"n","uri":"https://x.example/"});
    // Webhook creation answers 200, not 201.
    assert!(c()
        .validate_response("POST", path, 201, Some("application/hal+json"), Some(&body))
        .is_err());
    assert!(c()
        .validate_response("POST", path, 200, Some("application/json"), Some(&body))
        .is_err());
    assert!(c()
        .validate_response(
            "POST",
            path,
            200,
            Some("application/hal+json; charset=utf-8"),
            Some(&body)
        )
        .is_ok());
}

#[test]
fn error_shapes_are_per_endpoint() {
    let conv = "/chat-gateway/v1/conversations/abc/messages";
    // BadRequestProblem: errors is an object.
    let bad_request = json!({"message":"m","errors":{"code":"invalid_json_object","message":"m"}});
    c().validate_response(
        "POST",
        conv,
        400,
        Some("application/problem+json"),
        Some(&bad_request),
    )
    .unwrap();
    let as_array = json!({"message":"m","errors":[{"code":"x","message":"m"}]});
    assert!(c()
        .validate_response(
            "POST",
            conv,
            400,
            Some("application/problem+json"),
            Some(&as_array)
        )
        .is_err());
    // ForbiddenViolationProblem: errors are strings.
    let forbidden = json!({"message":"m","errors":["Header X-8x8-Tenant doesn't match"]});
    c().validate_response(
        "GET",
        conv,
        403,
        Some("application/problem+json"),
        Some(&forbidden),
    )
    .unwrap();
    let forbidden_objects = json!({"message":"m","errors":[{"message":"x"}]});
    assert!(c()
        .validate_response(
            "GET",
            conv,
            403,
            Some("application/problem+json"),
            Some(&forbidden_objects)
        )
        .is_err());
}

#[test]
fn empty_bodies_where_declared() {
    let p = "/chat-gateway/v1/conversations/abc/messages";
    c().validate_response("POST", p, 202, None, None).unwrap();
    assert!(c()
        .validate_response(
            "POST",
            p,
            202,
            Some("application/json"),
            Some(&json!({"id":"1"}))
        )
        .is_err());
}

#[test]
fn request_rules_are_enforced() {
    let p = "/chat-gateway/v1/conversations";
    let ok = json!({"channelId":"1","user":{"name":"n","additionalProperties":[{"key":"k","value":"v"}]},
        "history":{"messages":[{"authorType":"user","text":"hi"}]}});
    c().validate_request("POST", p, Some(&ok)).unwrap();
    let missing_user = json!({"channelId":"1"});
    assert!(c()
        .validate_request("POST", p, Some(&missing_user))
        .is_err());
    // P18: 201 history items and 31 properties are too many.
    let msgs: Vec<_> = (0..201)
        .map(|_| json!({"authorType":"user","text":"x"}))
        .collect();
    let too_long = json!({"channelId":"1","user":{},"history":{"messages":msgs}});
    assert!(c().validate_request("POST", p, Some(&too_long)).is_err());
    let props: Vec<_> = (0..31)
        .map(|i| json!({"key":format!("k{i}"),"value":"v"}))
        .collect();
    let too_many = json!({"channelId":"1","user":{"additionalProperties":props}});
    assert!(c().validate_request("POST", p, Some(&too_many)).is_err());
    let both = json!({"authorType":"user","text":"x","externalProvider":{"name":"X","externalMessageId":"1"}});
    assert!(c()
        .validate_request(
            "POST",
            "/chat-gateway/v1/conversations/a/messages",
            Some(&both)
        )
        .is_err());
    assert!(c()
        .validate_request("POST", "/chat-gateway/v1/conversations/a/messages", None)
        .is_err());
    let thinking_out_of_range = json!({"authorType":"bot","maxThinkingTimeSeconds":601});
    assert!(c()
        .validate_request(
            "POST",
            "/chat-gateway/v1/conversations/a/thinking",
            Some(&thinking_out_of_range)
        )
        .is_err());
    // Thinking takes an optional body.
    c().validate_request("POST", "/chat-gateway/v1/conversations/a/thinking", None)
        .unwrap();
}

#[test]
fn jwk_is_an_object() {
    let p = "/chat-gateway/v1/jwk/k1/public";
    let jwk = json!({"kty":"RSA","e":"AQAB","n":"abc","kid":"k1"});
    c().validate_response("GET", p, 200, Some("application/json"), Some(&jwk))
        .unwrap();
    assert!(c()
        .validate_response(
            "GET",
            p,
            200,
            Some("application/json"),
            Some(&json!("a string"))
        )
        .is_err());
}

#[test]
fn binary_download_needs_the_declared_media_type() {
    let p = "/chat-gateway/v1/conversations/c/attachments/a/content";
    c().validate_response("GET", p, 200, Some("application/octet-stream"), None)
        .unwrap();
    assert!(c()
        .validate_response("GET", p, 200, Some("application/json"), Some(&json!({})))
        .is_err());
}

#[test]
fn user_leave_errors_use_the_generic_shape() {
    let p = "/chat-gateway/v1/conversations/c/participants/user";
    let generic = json!({"message":"m","errors":[{"code":"invalid_parameter","message":"m"}]});
    c().validate_response(
        "PATCH",
        p,
        400,
        Some("application/problem+json"),
        Some(&generic),
    )
    .unwrap();
    assert!(c()
        .validate_response(
            "PATCH",
            p,
            400,
            Some("application/problem+json"),
            Some(&json!({"errors": "x"}))
        )
        .is_err());
}

#[test]
fn api_key_is_required_except_for_the_jwk() {
    let p = "/chat-gateway/v1/conversations";
    assert_eq!(c().requires_api_key("POST", p), Some(true));
    assert_eq!(
        c().requires_api_key("GET", "/chat-gateway/v1/jwk/k/public"),
        Some(false)
    );
    c().validate_request_headers("POST", p, &[("X-API-KEY", "k")])
        .unwrap();
    assert!(c().validate_request_headers("POST", p, &[]).is_err());
    c().validate_request_headers("GET", "/chat-gateway/v1/jwk/k/public", &[])
        .unwrap();
}
