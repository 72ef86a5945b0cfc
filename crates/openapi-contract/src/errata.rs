//! Rewrites 8x8's OpenAPI 3.0 schemas into something a JSON Schema validator checks the
//! way 8x8 means them. Every rewrite is a known erratum of the document and names the
//! pitfall of the protocol notes (docs/decisions.md) it follows; everything else is validated as published.

use serde_json::{json, Value};

/// Applies every schema rewrite to the parsed document.
pub(crate) fn apply(doc: &mut Value) {
    if let Some(components) = doc.get_mut("components") {
        openapi_to_json_schema(components);
    }
    if let Some(paths) = doc.get_mut("paths") {
        openapi_to_json_schema(paths);
    }
    let schemas = &mut doc["components"]["schemas"];
    // The list envelopes demand fields (`data`, `messages`, `cards`) at the top level that
    // the documented examples never carry; the items live under `_embedded`.
    for name in [
        "AttachmentsResult",
        "ConversationParticipants",
        "MessageListResult",
        "CardsListResult",
    ] {
        if let Some(first) = schemas[name]["allOf"].get_mut(0) {
            if let Some(obj) = first.as_object_mut() {
                obj.remove("required");
            }
        }
    }
    // P21: `required` names `size`/`type`, the properties are `sizeInBytes` and none.
    schemas["AttachmentResult"]["required"] = json!(["id", "filename", "sizeInBytes", "createdAt"]);
    // The interaction times are declared `date` but the example is a date-time.
    for field in ["startTime", "endTime"] {
        schemas["InteractionInfo"]["properties"][field]["format"] = json!("date-time");
    }
    // The user-leave operation's `default` response reads "user left" and has no content
    // (a copy-paste glitch); P27 makes bad bodies a 400 GenericExceptionPayload.
    doc["paths"]["/chat-gateway/v1/conversations/{conversationId}/participants/user"]["patch"]
        ["responses"]["default"] = json!({"$ref": "#/components/responses/GeneralErrorResponse"});
    // P15: the JWK is declared `type: string` while the example (and reality) is an object.
    let jwk = &mut doc["paths"]["/chat-gateway/v1/jwk/{jwkId}/public"]["get"]["responses"]["200"]
        ["content"]["application/json"]["schema"];
    *jwk = json!({
        "type": "object",
        "required": ["kty", "e", "n", "kid"],
        "properties": {
            "kty": {"type": "string", "enum": ["RSA"]},
            "e": {"type": "string", "minLength": 1},
            "n": {"type": "string", "minLength": 1},
            "kid": {"type": "string", "minLength": 1}
        }
    });
}

/// Generic OpenAPI-3.0-isms, applied recursively.
fn openapi_to_json_schema(v: &mut Value) {
    match v {
        Value::Object(map) => {
            let is_array = map.get("type").and_then(Value::as_str) == Some("array");
            if is_array {
                // P18: `maxLength` (history) and `maxProperties` (additionalProperties)
                // are written on arrays; 8x8 means a maximum item count.
                for k in ["maxLength", "maxProperties"] {
                    if let Some(n) = map.remove(k) {
                        map.insert("maxItems".into(), n);
                    }
                }
            }
            if map.get("nullable").and_then(Value::as_bool) == Some(true) {
                if let Some(Value::String(t)) = map.get("type").cloned() {
                    map.insert("type".into(), json!([t, "null"]));
                }
            }
            map.remove("nullable");
            // `format: string`, `int32`, `int64`, `binary` are OpenAPI annotations, not
            // JSON Schema formats; keep only the ones a validator can check.
            if let Some(f) = map.get("format").and_then(Value::as_str) {
                if !matches!(f, "date-time" | "email" | "uri" | "date") {
                    map.remove("format");
                }
            }
            // `example` and `x-*` are annotations; leave them, validators ignore them.
            for (_, child) in map.iter_mut() {
                openapi_to_json_schema(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(openapi_to_json_schema),
        _ => {}
    }
}

/// Rules the document states in prose (or in keywords a validator cannot apply) that a
/// request must still follow.
pub(crate) fn request_rules(operation_id: &str, body: &Value, label: &str) -> Vec<String> {
    let mut errors = Vec::new();
    match operation_id {
        "sendmessagetocctransaction-1" => text_xor_provider(body, "(root)", label, &mut errors),
        "createcctransaction-1" => {
            if let Some(items) = body.pointer("/history/messages").and_then(Value::as_array) {
                for (i, m) in items.iter().enumerate() {
                    text_xor_provider(m, &format!("/history/messages/{i}"), label, &mut errors);
                }
            }
            additional_properties(body, label, &mut errors);
        }
        "putcctransaction" => additional_properties(body, label, &mut errors),
        "patchcctransaction" => {
            // `anyOf` of two all-optional objects accepts anything; the intent is
            // "an assignment or a user".
            if body.get("assignment").is_none() && body.get("user").is_none() {
                errors.push(format!("{label}: at (root): needs `assignment` or `user`"));
            }
            additional_properties(body, label, &mut errors);
        }
        _ => {}
    }
    errors
}

fn text_xor_provider(m: &Value, at: &str, label: &str, errors: &mut Vec<String>) {
    let has_text = m.get("text").is_some_and(|t| !t.is_null());
    let has_provider = m.get("externalProvider").is_some_and(|t| !t.is_null());
    if has_text == has_provider {
        errors.push(format!(
            "{label}: at {at}: exactly one of `text` and `externalProvider` is required"
        ));
    }
}

fn additional_properties(body: &Value, label: &str, errors: &mut Vec<String>) {
    if let Some(items) = body
        .pointer("/user/additionalProperties")
        .and_then(Value::as_array)
    {
        for (i, item) in items.iter().enumerate() {
            for k in ["key", "value"] {
                if !item.get(k).is_some_and(Value::is_string) {
                    errors.push(format!(
                        "{label}: at /user/additionalProperties/{i}: `{k}` is required"
                    ));
                }
            }
        }
    }
}
