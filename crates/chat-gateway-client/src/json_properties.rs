//! The handover's *JSON properties*: custom data the admin types as a JSON object and the
//! agent sees as `user.additionalProperties` (a list of key/value strings, at most 30).
//! One parser serves the settings form (live validation), the save and the handover, so
//! what the form accepts is exactly what 8x8 receives.

use serde_json::Value;

pub use crate::types::KeyValue;

pub mod json_text;

/// 8x8 shows at most this many properties to the agent (chat-gateway.md §4.1, P18).
pub const MAX_ENTRIES: usize = 30;

/// Parses the admin's text into 8x8's key/value list. Nested objects and arrays become
/// compact JSON text, because 8x8 takes only strings.
pub fn parse(text: &str) -> Result<Vec<KeyValue>, String> {
    // The error shows beside the JSON properties field: "the text" is the one typed there.
    json_text::check(text).map_err(|p| p.describe("The text"))?;
    let value: Value =
        serde_json::from_str(text).map_err(|e| json_text::from_error(&e).describe("The text"))?;
    let Value::Object(map) = value else {
        return Err(format!(
            "JSON properties must be a JSON object such as {{\"intent\": \"billing\"}}, not {}",
            kind(&value)
        ));
    };
    if map.len() > MAX_ENTRIES {
        return Err(format!(
            "JSON properties have {} entries; 8x8 shows at most {MAX_ENTRIES} to the agent, so remove {}",
            map.len(),
            map.len() - MAX_ENTRIES
        ));
    }
    map.into_iter()
        .map(|(key, value)| {
            if key.trim().is_empty() {
                return Err(
                    "JSON properties have an empty key; every property needs a name".into(),
                );
            }
            let value = match value {
                Value::String(s) => s,
                Value::Null => {
                    return Err(format!(
                        "the JSON property {key:?} is null; 8x8 needs a value for every property"
                    ))
                }
                other => other.to_string(),
            };
            Ok(KeyValue { key, value })
        })
        .collect()
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a true/false value",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_stay_and_other_values_become_json_text_in_the_typed_order() {
        let kv =
            parse(r#"{"intent": "billing", "vip": true, "tier": 3, "cart": {"items": [1, 2]}}"#)
                .unwrap();
        let pairs: Vec<_> = kv
            .iter()
            .map(|p| (p.key.as_str(), p.value.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("intent", "billing"),
                ("vip", "true"),
                ("tier", "3"),
                ("cart", r#"{"items":[1,2]}"#)
            ]
        );
    }

    #[test]
    fn errors_say_where_and_what() {
        let e = parse("{\n  \"a\": 1,\n  \"b\" 2\n}").unwrap_err();
        assert!(e.contains("line 3, column 7"), "{e}");
        assert!(e.contains("colon") && !e.contains('`'), "{e}");
        assert!(parse("[1]").unwrap_err().contains("not an array"));
        let e = parse(r#"{"intent": "billing", "intent": "sales"}"#).unwrap_err();
        assert!(e.contains("\"intent\" appears twice"), "{e}");
        let e = parse(r#"{"intent": "#).unwrap_err();
        assert!(
            e.contains("ends in the middle") && !e.contains("EOF"),
            "{e}"
        );
        assert!(parse(r#"{"": "x"}"#).unwrap_err().contains("empty key"));
        assert!(parse(r#"{"a": null}"#)
            .unwrap_err()
            .contains("\"a\" is null"));
    }

    #[test]
    fn at_most_thirty_entries() {
        let object = |n: usize| {
            let items: Vec<_> = (0..n).map(|i| format!("\"k{i}\": \"v\"")).collect();
            format!("{{{}}}", items.join(","))
        };
        assert_eq!(parse(&object(30)).unwrap().len(), 30);
        let e = parse(&object(32)).unwrap_err();
        assert!(e.contains("32 entries") && e.contains("remove 2"), "{e}");
    }

    #[test]
    fn empty_object_is_fine() {
        assert_eq!(parse("{}").unwrap(), vec![]);
    }
}
