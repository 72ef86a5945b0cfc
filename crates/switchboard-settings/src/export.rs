//! The settings as a file an admin can move to another machine, and back. An export
//! carries no API keys (they never leave the keychain) and no Endpoint URL token
//! (another machine must not take over this relay's URL); reading one only checks that
//! it is an export of a format this build knows — validation is the save's job.
//!
//! A file that cannot be read is refused in the admin's words: where it is cut short or
//! not JSON, which key it gives twice (JSON readers keep the last silently, so half the
//! file would be dropped), which field has a value of the wrong kind.

use chat_gateway_client::json_properties::json_text;
use serde::Deserialize;

use crate::settings::Settings;

/// The format number written into every export.
pub const FORMAT: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The whole sentence, in the admin's words.
    #[error("{0}")]
    NotAnExport(String),
}

impl ExportError {
    /// What is wrong with the file, as a sentence.
    pub fn detail(&self) -> String {
        match self {
            ExportError::NotAnExport(d) => d.clone(),
        }
    }
}

pub fn export(settings: &Settings) -> serde_json::Value {
    let mut s = settings.clone();
    s.endpoint.token = String::new();
    serde_json::json!({ "switchboardSettings": FORMAT, "settings": s })
}

/// The export as a file: indented, one setting a line, so it reads and diffs well.
pub fn export_file(settings: &Settings) -> Vec<u8> {
    let mut file = serde_json::to_vec_pretty(&export(settings)).expect("settings serialize");
    file.push(b'\n');
    file
}

/// The settings inside an export file, not yet normalized or validated. Public so that
/// the fuzz target runs the import's own reading.
pub fn read_export(body: &[u8]) -> Result<Settings, ExportError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Export {
        switchboard_settings: u32,
        settings: Settings,
    }
    let text = std::str::from_utf8(body).map_err(|e| {
        ExportError::NotAnExport(format!(
            "The file is not text (byte {} is not UTF-8): pick the .json file an export saved.",
            e.valid_up_to() + 1
        ))
    })?;
    json_text::check(text).map_err(|p| ExportError::NotAnExport(p.describe("The file")))?;
    // serde would read a list into the struct field by field; an export is an object.
    let kind = match text.trim_start().chars().next() {
        Some('{') => None,
        Some('[') => Some("a list"),
        Some('"') => Some("a text"),
        Some('t' | 'f') => Some("a true/false value"),
        Some('n') => Some("null"),
        _ => Some("a number"),
    };
    if let Some(kind) = kind {
        return Err(ExportError::NotAnExport(format!(
            "This is not a Switchboard settings export: the file holds {kind}, not an object with a switchboardSettings section."
        )));
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let export: Export = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| ExportError::NotAnExport(wrong_value(&e.path().to_string(), e.inner())))?;
    if export.switchboard_settings != FORMAT {
        return Err(ExportError::NotAnExport(format!(
            "The file is a Switchboard settings export of format {}, newer than this Switchboard knows ({FORMAT}): update Switchboard, or export again from the same version.",
            export.switchboard_settings
        )));
    }
    Ok(export.settings)
}

/// A well-formed JSON file whose content is not what an export holds, in words.
fn wrong_value(path: &str, e: &serde_json::Error) -> String {
    let raw = json_text::without_position(e);
    let place = format!("line {}, column {}", e.line(), e.column());
    if let Some(field) = between(&raw, "missing field `", "`") {
        return match field {
            "switchboardSettings" => {
                "This is not a Switchboard settings export: it has no switchboardSettings section."
                    .into()
            }
            "settings" => {
                "The file has no settings section: it is not a whole Switchboard settings export."
                    .into()
            }
            other => format!("{path} has no {other}."),
        };
    }
    if let Some(rest) = raw
        .strip_prefix("invalid type: ")
        .or_else(|| raw.strip_prefix("invalid value: "))
    {
        if let Some((got, want)) = rest.split_once(", expected ") {
            return format!(
                "{path} ({place}) should be {}, not {}.",
                wanted(want),
                found(got)
            );
        }
    }
    if let Some(rest) = raw.strip_prefix("unknown variant `") {
        if let Some((got, choices)) = rest.split_once("`, expected ") {
            let choices = choices.trim_start_matches("one of ").replace('`', "");
            return format!("{path} ({place}) is \"{got}\", which is not one of {choices}.");
        }
    }
    format!("{path} ({place}): {}.", raw.replace('`', "\""))
}

/// serde's name of a value that was found, in words ("string \"ten\"" → the text "ten").
fn found(got: &str) -> String {
    let inner = |prefix: &str| {
        got.strip_prefix(prefix)
            .map(|v| v.trim_matches('`').to_string())
    };
    if let Some(v) = got.strip_prefix("string ") {
        return format!("the text {v}");
    }
    if let Some(v) = inner("integer ").or_else(|| inner("floating point ")) {
        return format!("the number {v}");
    }
    if let Some(v) = inner("boolean ") {
        return v;
    }
    match got {
        "null" | "unit value" => "null".into(),
        "sequence" => "a list".into(),
        "map" => "an object".into(),
        other => other.replace('`', "\""),
    }
}

/// serde's name of what a field takes, in words.
fn wanted(want: &str) -> String {
    match want {
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number (0 or more)".into(),
        "i32" | "i64" => "a whole number".into(),
        "f32" | "f64" => "a number".into(),
        "a string" | "a borrowed string" => "text in double quotes".into(),
        "a boolean" => "true or false".into(),
        w if w.starts_with("struct ") => "an object { … }".into(),
        w if w.starts_with("a sequence") => "a list [ … ]".into(),
        other => other.replace('`', "\""),
    }
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = &text[text.find(start)? + start.len()..];
    Some(&rest[..rest.find(end)?])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> String {
        read_export(text.as_bytes()).unwrap_err().detail()
    }

    #[test]
    fn an_export_reads_back_and_is_indented() {
        let mut s = Settings::default();
        s.connection.tenant = Some("t1".into());
        let file = export_file(&s);
        let text = String::from_utf8(file.clone()).unwrap();
        assert!(text.lines().count() > 20, "{text}");
        assert!(text.contains("\n  \"settings\": {\n    \""), "{text}");
        assert_eq!(
            read_export(&file).unwrap().connection.tenant.as_deref(),
            Some("t1")
        );
    }

    #[test]
    fn a_key_twice_is_refused_by_name() {
        let e = refused(
            r#"{"switchboardSettings": 1, "settings": {"handover": {"queueId": "1", "queueId": "2"}}}"#,
        );
        assert!(
            e.contains("\"queueId\" appears twice in settings.handover"),
            "{e}"
        );
        // Even a key this version ignores: a file that says two things is not read.
        let e = refused(r#"{"switchboardSettings": 1, "note": 1, "note": 2, "settings": {}}"#);
        assert!(e.contains("\"note\" appears twice"), "{e}");
    }

    #[test]
    fn the_parser_s_words_are_put_in_the_admin_s() {
        let e =
            refused(r#"{"switchboardSettings": 1, "settings": {"handover": {"handoverMessage": "#);
        assert!(
            e.starts_with("The file ends in the middle of a value (line 1, column"),
            "{e}"
        );
        assert!(e.ends_with("is it cut short?"), "{e}");

        assert_eq!(
            refused(r#"{"settings": {}}"#),
            "This is not a Switchboard settings export: it has no switchboardSettings section."
        );
        assert!(
            refused("[1, 2]").contains("holds a list"),
            "{}",
            refused("[1, 2]")
        );
        assert!(refused(r#"{"switchboardSettings": 1}"#).contains("no settings section"));

        let e = refused(
            r#"{"switchboardSettings": 1, "settings": {"handover": {"inactivityTimeoutMinutes": "ten"}}}"#,
        );
        assert!(
            e.starts_with("settings.handover.inactivityTimeoutMinutes (line 1, column"),
            "{e}"
        );
        assert!(
            e.ends_with("should be a whole number (0 or more), not the text \"ten\"."),
            "{e}"
        );

        let e = refused(r#"{"switchboardSettings": 1, "settings": {"sandbox": "maybe"}}"#);
        assert!(
            e.contains("settings.sandbox")
                && e.contains("\"maybe\", which is not one of auto, on, off"),
            "{e}"
        );

        let e =
            refused(r#"{"switchboardSettings": 1, "settings": {"endpoint": {"enabled": "yes"}}}"#);
        assert!(
            e.contains("should be true or false, not the text \"yes\""),
            "{e}"
        );

        assert!(
            refused(r#"{"switchboardSettings": 2, "settings": {}}"#).contains("format 2, newer")
        );
        for e in [
            refused("{\"a\" 1}"),
            refused("\u{0}"),
            refused(r#"{"settings": 5}"#),
        ] {
            assert!(
                !e.contains('`') && !e.contains("EOF") && !e.contains("missing field"),
                "{e}"
            );
        }
    }
}
