//! The limits and timeouts as documented — README.md's "Limits and timeouts" table and
//! the server's `--help` — against the values in the code, so that neither drifts
//! silently when a limit changes.

use std::{collections::HashMap, process::Command, time::Duration};

use axum::http::StatusCode;
use chat_gateway_client::{
    json_properties,
    webhook::{jwk, signature},
};
use switchboard_relay::{admin::ErrorCode, endpoint, listener};
use switchboard_settings::settings;
use switchboard_store::deliveries;

const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md");
const SECTION: &str = "## Limits and timeouts";

fn secs(d: Duration) -> String {
    assert_eq!(d.subsec_nanos(), 0, "{d:?} is documented in whole seconds");
    format!("{} s", d.as_secs())
}

fn size(bytes: usize) -> String {
    match bytes {
        b if b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

/// `65536` as `65,536`.
fn count(n: impl Into<u64>) -> String {
    let digits = n.into().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn chars(n: usize) -> String {
    format!("{} characters", count(n as u64))
}

/// How the admin API answers `code`: its status and `{code: "…"}`.
fn api_error(code: ErrorCode) -> String {
    let name = serde_json::to_value(code).unwrap();
    format!(
        "{} `{{code: \"{}\"}}`",
        code.status().as_u16(),
        name.as_str().unwrap()
    )
}

/// How the endpoint answers a signature that did not check out (endpoint/receive.rs): 503
/// when the fault is ours and 8x8 should retry, else 401; with the error's code.
fn signature_refusal(e: signature::SignatureError) -> String {
    let status = if e.is_transient() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::UNAUTHORIZED
    };
    format!("{} `{}`", status.as_u16(), e.code())
}

/// The table's rows, first column → (limit, past the limit).
fn readme_table() -> HashMap<String, (String, String)> {
    let readme = std::fs::read_to_string(README).unwrap();
    let start = readme
        .find(SECTION)
        .unwrap_or_else(|| panic!("README.md has no {SECTION:?} section"));
    let section = &readme[start + SECTION.len()..];
    let section = &section[..section.find("\n## ").unwrap_or(section.len())];
    let mut rows = HashMap::new();
    for line in section.lines().filter(|l| l.starts_with('|')).skip(2) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        let [what, limit, past] = cells[..] else {
            panic!("a row of three cells: {line}");
        };
        let previous = rows.insert(what.to_string(), (limit.to_string(), past.to_string()));
        assert!(previous.is_none(), "two rows for {what:?}");
    }
    rows
}

#[test]
fn the_readme_table_has_the_values_of_the_code() {
    let listeners = listener::Limits::standard(1);
    // The descriptors the relay keeps out of the caps, and the caps' bounds (two listeners).
    let reserved = 10_000 - listener::connection_cap(10_000, 1) as u64;
    let fewest = listener::connection_cap(0, 2) as u64;
    let most = listener::connection_cap(u64::MAX, 2) as u64;
    let unavailable = signature::SignatureError::KeyUnavailable {
        kid: "k".into(),
        reason: "slow".into(),
    };
    let settings_refused = api_error(ErrorCode::InvalidSettings);
    // Each row: the start of its first column, its limit, and what its last column says.
    let expected: Vec<(&str, String, String)> = vec![
        (
            "Request headers, both listeners",
            secs(listeners.header_read),
            "closed".into(),
        ),
        (
            "Request body, both listeners",
            secs(listeners.body_read),
            format!(
                "{} (the admin API's as `{{code: \"bad_request\"}}`)",
                ErrorCode::BadRequest.status().as_u16()
            ),
        ),
        (
            "Connections per listener",
            format!(
                "(open-files limit − {reserved}) / 2, from {} to {}",
                count(fewest),
                count(most)
            ),
            "longest-idle".into(),
        ),
        (
            "Webhook body",
            size(endpoint::BODY_LIMIT),
            StatusCode::PAYLOAD_TOO_LARGE.as_u16().to_string(),
        ),
        (
            "Admin API request body",
            switchboard_relay::admin::error::BODY_LIMIT.into(),
            api_error(ErrorCode::TooLarge),
        ),
        (
            "Signing key id",
            chars(signature::MAX_KID_LEN),
            signature_refusal(signature::SignatureError::Malformed("")),
        ),
        (
            "Fetching a new signing key",
            format!("{} per request", secs(jwk::FETCH_TIMEOUT)),
            signature_refusal(unavailable.clone()),
        ),
        (
            "Signing-key fetches at once",
            jwk::MAX_FETCHES.to_string(),
            format!(
                "waits up to {} for a place, then {}",
                secs(jwk::FETCH_TIMEOUT),
                signature_refusal(unavailable)
            ),
        ),
        (
            "A key id 8x8 does not know",
            format!("remembered for {}", secs(jwk::UNKNOWN_FOR)),
            signature_refusal(signature::SignatureError::UnknownKid { kid: "k".into() }),
        ),
        (
            "Rejected deliveries kept",
            format!("the newest {}", count(deliveries::MAX_REJECTED as u64)),
            "deleted".into(),
        ),
        (
            "Body kept of a rejected delivery",
            size(deliveries::REJECTED_BODY_KEPT),
            "dropped".into(),
        ),
        (
            "Settings: each URL",
            chars(settings::MAX_URL),
            settings_refused.clone(),
        ),
        (
            "Settings: 8x8-Tenant, Channel Id, Queue Id",
            chars(settings::MAX_ID),
            "the same".into(),
        ),
        (
            "Settings: handover message",
            chars(settings::MAX_MESSAGE),
            "the same".into(),
        ),
        (
            "Settings: JSON properties",
            format!(
                "{}, {} properties",
                chars(settings::MAX_JSON_PROPERTIES),
                json_properties::MAX_ENTRIES
            ),
            "the same".into(),
        ),
        (
            "Settings: the built-in flow",
            chars(settings::MAX_FLOW),
            "the same".into(),
        ),
    ];
    let table = readme_table();
    for (what, limit, past) in &expected {
        let matching: Vec<_> = table.iter().filter(|(w, _)| w.starts_with(what)).collect();
        let [(_, (documented, answer))] = matching[..] else {
            panic!("README.md's table needs one row starting {what:?}; it has {matching:?}");
        };
        assert_eq!(documented, limit, "README.md, {what}");
        assert!(
            answer.contains(past.as_str()),
            "README.md, {what}: {answer:?} should say {past:?}"
        );
    }
    assert_eq!(
        table.len(),
        expected.len(),
        "every row of the table is checked here: {:?}",
        table.keys()
    );
}

#[test]
fn the_help_has_the_values_of_the_code() {
    let out = Command::new(env!("CARGO_BIN_EXE_switchboard-server"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    // The paragraph is wrapped by hand: compare with single spaces.
    let help = String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let listeners = listener::Limits::standard(1);
    let reserved = 10_000 - listener::connection_cap(10_000, 1) as u64;
    for phrase in [
        format!(
            "request's headers must arrive within {}",
            secs(listeners.header_read)
        ),
        format!("its body within {} (else 400)", secs(listeners.body_read)),
        format!(
            "webhook body takes at most {}, an admin API body at most {} (else 413)",
            size(endpoint::BODY_LIMIT),
            switchboard_relay::admin::error::BODY_LIMIT
        ),
        format!(
            "at most (open-files limit - {reserved}) / 2 connections, between {} and {}",
            count(listener::connection_cap(0, 2) as u64),
            count(listener::connection_cap(u64::MAX, 2) as u64)
        ),
        format!(
            "fetched within {}, else the delivery gets 503",
            secs(jwk::FETCH_TIMEOUT)
        ),
        format!(
            "the newest {} are kept, with {} of body each",
            count(deliveries::MAX_REJECTED as u64),
            size(deliveries::REJECTED_BODY_KEPT)
        ),
    ] {
        assert!(
            help.contains(&phrase),
            "--help should say {phrase:?}:\n{help}"
        );
    }
}
