//! Checks of the window's Content-Security-Policy (`app.security.csp` in tauri.conf.json).
//!
//! Tauri sends it with the pages it serves itself from `boot/` (the page that says why the
//! relay did not start). The admin UI the window shows otherwise comes from the relay's
//! admin listener, with that listener's own policy (crates/switchboard-relay/src/admin/guard.rs).
//! The window test tests/node/desktop-boot.test.mjs shows the policy at work in WebKit.

use std::collections::HashMap;

use serde_json::Value;

const CONFIG: &str = include_str!("../tauri.conf.json");
const BOOT_PAGE: &str = include_str!("../boot/index.html");

/// The policy's directives and their sources, from either form Tauri takes (one string,
/// or an object of directive → string or list of strings).
fn directives(csp: &Value) -> HashMap<String, Vec<String>> {
    let words = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
    match csp {
        Value::String(policy) => policy
            .split(';')
            .filter_map(|d| {
                let mut parts = d.split_whitespace();
                let name = parts.next()?.to_ascii_lowercase();
                Some((name, parts.map(String::from).collect()))
            })
            .collect(),
        Value::Object(map) => map
            .iter()
            .map(|(name, sources)| {
                let sources = match sources {
                    Value::String(s) => words(s),
                    Value::Array(list) => list
                        .iter()
                        .filter_map(Value::as_str)
                        .flat_map(words)
                        .collect(),
                    other => panic!("{name}: sources are a string or a list, not {other}"),
                };
                (name.to_ascii_lowercase(), sources)
            })
            .collect(),
        other => panic!("app.security.csp must be a policy, not {other}"),
    }
}

fn window_policy() -> HashMap<String, Vec<String>> {
    let config: Value = serde_json::from_str(CONFIG).expect("tauri.conf.json is JSON");
    directives(&config["app"]["security"]["csp"])
}

/// The sources a directive ends up with: its own, else default-src's (as browsers do for
/// the fetch directives).
fn effective<'a>(policy: &'a HashMap<String, Vec<String>>, name: &str) -> &'a [String] {
    policy
        .get(name)
        .or_else(|| policy.get("default-src"))
        .map_or(&[], Vec::as_slice)
}

/// Sources that would let injected or foreign code and styles in.
const LOOSE: [&str; 5] = [
    "'unsafe-inline'",
    "'unsafe-eval'",
    "'unsafe-hashes'",
    "data:",
    "blob:",
];

#[test]
fn the_window_has_a_strict_policy() {
    let policy = window_policy();
    assert_eq!(
        policy.get("default-src").map(Vec::as_slice),
        Some(&["'self'".to_string()][..]),
        "default-src is 'self' alone: {policy:?}"
    );
    for name in ["script-src", "style-src", "img-src", "connect-src"] {
        for source in effective(&policy, name) {
            let loose = LOOSE.contains(&source.as_str())
                || source.contains('*')
                || source.starts_with("http");
            assert!(!loose, "{name} allows {source}: {policy:?}");
        }
    }
    for name in ["object-src", "base-uri", "frame-ancestors", "form-action"] {
        assert_eq!(
            policy.get(name).map(Vec::as_slice),
            Some(&["'none'".to_string()][..]),
            "{name}: {policy:?}"
        );
    }
}

#[test]
fn the_policy_parser_reads_both_forms() {
    let string = directives(&Value::from(
        "default-src 'self'; script-src 'self' 'unsafe-inline'",
    ));
    assert_eq!(string["script-src"], ["'self'", "'unsafe-inline'"]);
    let object = directives(&serde_json::json!({
        "default-src": "'self'",
        "img-src": ["'self'", "data: blob:"],
    }));
    assert_eq!(object["img-src"], ["'self'", "data:", "blob:"]);
}

/// `"csp": null` turns the policy off altogether.
#[test]
#[should_panic(expected = "must be a policy")]
fn no_policy_is_refused() {
    directives(&Value::Null);
}

/// Inline code would need 'unsafe-inline' (or a hash Tauri adds at build time, which does
/// not cover attributes): the boot page keeps its script and style in files of its own.
#[test]
fn the_boot_page_has_no_inline_script_or_style() {
    let page = BOOT_PAGE.to_ascii_lowercase();
    assert!(!page.contains("<style"), "a <style> element");
    assert!(!page.contains(" style="), "a style attribute");
    for tag in page.split("<script").skip(1) {
        let open = &tag[..tag.find('>').expect("the script tag closes")];
        assert!(open.contains(" src="), "an inline <script>");
        assert!(
            tag[open.len() + 1..].trim_start().starts_with("</script>"),
            "a script with a src and a body"
        );
    }
    let mut rest = page.as_str();
    while let Some(at) = rest.find(" on") {
        let name: String = rest[at + 1..]
            .chars()
            .take_while(char::is_ascii_alphabetic)
            .collect();
        assert!(
            !rest[at + 1 + name.len()..].starts_with('='),
            "an event handler attribute {name}"
        );
        rest = &rest[at + 3..];
    }
    let boot = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("boot");
    for file in ["boot.js", "boot.css"] {
        assert!(page.contains(file), "the page loads {file}");
        assert!(boot.join(file).is_file(), "boot/{file} exists");
    }
}
