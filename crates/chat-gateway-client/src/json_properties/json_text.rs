//! JSON that a person wrote or picked as a file (the JSON properties, a settings export),
//! read strictly and explained in their words. A key given twice in one object is
//! refused: serde_json keeps the last one silently, so half of what was typed would
//! vanish without a word. The parser's own wording ("EOF while parsing a value",
//! "expected `,` or `}`") is put as what the person sees in their text.

use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::error::Category;

/// What is wrong with a JSON text, with where it is (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonProblem {
    /// The text stops before its value is complete: most often a file cut short.
    CutShort { line: usize, column: usize },
    /// Not JSON at this place; `what` says what is wrong in plain words.
    Syntax {
        line: usize,
        column: usize,
        what: String,
    },
    /// The same key twice in one object. `within` is the dotted path of that object
    /// (empty at the top level).
    DuplicateKey {
        key: String,
        within: String,
        line: usize,
        column: usize,
    },
}

impl JsonProblem {
    /// The problem as a sentence about `subject` ("The file", "The JSON properties").
    pub fn describe(&self, subject: &str) -> String {
        match self {
            JsonProblem::CutShort { line, column } => format!(
                "{subject} ends in the middle of a value (line {line}, column {column}) — is it cut short?"
            ),
            JsonProblem::Syntax { line, column, what } => {
                format!("{subject} is not valid JSON at line {line}, column {column}: {what}.")
            }
            JsonProblem::DuplicateKey {
                key,
                within,
                line,
                column,
            } => {
                let place = if within.is_empty() {
                    String::new()
                } else {
                    format!(" in {within}")
                };
                format!(
                    "The key {key:?} appears twice{place} (the second time at line {line}, column {column}); only one can count, so keep the one you mean."
                )
            }
        }
    }
}

impl fmt::Display for JsonProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe("The JSON"))
    }
}

/// Checks that `text` is one JSON value with no key twice in any object. Parse it for
/// real afterwards: this only finds what is wrong.
pub fn check(text: &str) -> Result<(), JsonProblem> {
    let duplicate = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_str(text);
    let walked = Walk {
        path: String::new(),
        duplicate: &duplicate,
    }
    .deserialize(&mut de)
    .and_then(|()| de.end());
    match walked {
        Ok(()) => Ok(()),
        Err(e) => Err(match duplicate.into_inner() {
            Some((key, within)) => JsonProblem::DuplicateKey {
                key,
                within,
                line: e.line(),
                column: e.column(),
            },
            None => from_error(&e),
        }),
    }
}

/// A serde_json syntax or end-of-input error in plain words. Other errors (a value of
/// the wrong type) keep serde's wording: the caller knows the field and says it better.
pub fn from_error(e: &serde_json::Error) -> JsonProblem {
    let (line, column) = (e.line(), e.column());
    match e.classify() {
        Category::Eof => JsonProblem::CutShort { line, column },
        _ => JsonProblem::Syntax {
            line,
            column,
            what: plain(&without_position(e)),
        },
    }
}

/// serde_json's message without its own "at line … column …" tail.
pub fn without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

fn plain(message: &str) -> String {
    let words = match message {
        "expected `:`" => "a colon (:) must follow each key",
        "expected `,` or `}`" => {
            "a comma (,) is missing between two entries, or a closing brace (}) at the end"
        }
        "expected `,` or `]`" => {
            "a comma (,) is missing between two items, or a closing bracket (]) at the end"
        }
        "expected value" => {
            "a value is missing or is not JSON (text goes in double quotes; true, false and null are written in lower case)"
        }
        "expected ident" => {
            "a word JSON does not know (write true, false or null in lower case, and text in double quotes)"
        }
        "key must be a string" => "a key is not in double quotes (write \"key\": value)",
        "trailing comma" => "a comma follows the last entry, which JSON does not allow",
        "trailing characters" => "more text follows the end of the JSON value",
        "invalid escape" => {
            "a backslash starts an escape JSON does not know (write \\\\ for a backslash)"
        }
        "invalid number" => "a number is not written as JSON writes numbers",
        "number out of range" => "a number is too large",
        "recursion limit exceeded" => "the values are nested too deeply",
        m if m.starts_with("control character") => {
            "a line break or tab is inside quotes (write \\n or \\t instead)"
        }
        m if m.contains("hex escape") || m.contains("code point") => {
            "a \\u escape is not a valid character"
        }
        other => return other.replace('`', "\""),
    };
    words.to_string()
}

/// Walks any JSON value, remembering the first key seen twice in one object.
struct Walk<'a> {
    path: String,
    duplicate: &'a RefCell<Option<(String, String)>>,
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        while seq
            .next_element_seed(Walk {
                path: format!("{}[{i}]", self.path),
                duplicate: self.duplicate,
            })?
            .is_some()
        {
            i += 1;
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if seen.contains(&key) {
                *self.duplicate.borrow_mut() = Some((key.clone(), self.path.clone()));
                return Err(de::Error::custom("duplicate key"));
            }
            let path = if self.path.is_empty() {
                key.clone()
            } else {
                format!("{}.{key}", self.path)
            };
            map.next_value_seed(Walk {
                path,
                duplicate: self.duplicate,
            })?;
            seen.insert(key);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_twice_is_named_with_its_object_and_place() {
        let e = check(r#"{"intent": "billing", "tier": 1, "intent": "sales"}"#).unwrap_err();
        assert!(
            matches!(&e, JsonProblem::DuplicateKey { key, within, line: 1, .. } if key == "intent" && within.is_empty()),
            "{e:?}"
        );
        let text = e.describe("The JSON properties");
        assert!(text.contains("\"intent\" appears twice"), "{text}");

        let e = check("{\"settings\": {\"handover\": {\"queueId\": \"1\",\n \"queueId\": \"2\"}}}")
            .unwrap_err();
        assert!(
            matches!(&e, JsonProblem::DuplicateKey { key, within, line: 2, .. } if key == "queueId" && within == "settings.handover"),
            "{e:?}"
        );
        assert!(e
            .describe("The file")
            .contains("\"queueId\" appears twice in settings.handover"));
        // The same key in two different objects is fine, in lists too.
        assert_eq!(check(r#"[{"a": 1}, {"a": 2}, {"b": {"a": 3}}]"#), Ok(()));
    }

    #[test]
    fn a_text_cut_short_is_said_so() {
        let e = check(r#"{"switchboardSettings": 1, "settings": {"handover": {"x": "#).unwrap_err();
        assert_eq!(
            e.describe("The file"),
            "The file ends in the middle of a value (line 1, column 58) — is it cut short?"
        );
        for cut in ["", "{", "[1, 2", "{\"a\": \"text"] {
            assert!(
                matches!(check(cut), Err(JsonProblem::CutShort { .. })),
                "{cut:?}"
            );
        }
    }

    #[test]
    fn syntax_errors_speak_of_the_text_not_the_parser() {
        let cases = [
            ("{\"a\" 1}", "colon"),
            ("{\"a\": 1 \"b\": 2}", "comma (,) is missing"),
            ("{\"a\": True}", "lower case"),
            ("{a: 1}", "not in double quotes"),
            ("{\"a\": 1,}", "comma follows the last entry"),
            ("{} x", "more text follows"),
        ];
        for (text, words) in cases {
            let e = check(text).unwrap_err().describe("The JSON");
            assert!(e.contains(words), "{text:?}: {e}");
            assert!(!e.contains('`') && !e.contains("EOF"), "{e}");
            assert!(e.contains("line 1, column"), "{e}");
        }
    }
}
