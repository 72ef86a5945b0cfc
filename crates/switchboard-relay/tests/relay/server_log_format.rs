//! `--log-format json`: the headless server's log lines on stderr are one JSON object
//! each, for a log shipper to read without parsing text, and carry no secret.

use std::{
    io::Read,
    process::{Command, Stdio},
};

use crate::server_cli::{ready_lines, server};

const API_KEY: &str = "sk-log-format-test-9f3c2b7e";

/// Starts the server with `extra` arguments/environment, waits for its ready lines, stops
/// it with SIGTERM and returns (stdout, stderr).
fn run_until_ready(configure: impl FnOnce(&mut Command)) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = server();
    cmd.args([
        "--endpoint-bind",
        "127.0.0.1:0",
        "--secrets",
        "env",
        "--sandbox",
        "on",
        "--log",
        "debug",
        "--data-dir",
    ])
    .arg(dir.path())
    .env("SWITCHBOARD_API_KEY", API_KEY)
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    configure(&mut cmd);
    let mut child = cmd.spawn().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        stderr.read_to_string(&mut s).unwrap();
        s
    });
    let out = ready_lines(child.stdout.take().unwrap());
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());
    (out.join("\n"), err_reader.join().unwrap())
}

fn admin_token(stdout: &str) -> String {
    let at = stdout.find("?token=").expect("admin URL with its token") + 7;
    stdout[at..]
        .split(|c: char| c.is_whitespace() || c == '&')
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn log_format_json_writes_one_json_object_per_line_without_secrets() {
    let (stdout, stderr) = run_until_ready(|c| {
        c.args(["--log-format", "json"]);
    });
    let token = admin_token(&stdout);
    let logs: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("switchboard-server:"))
        .collect();
    assert!(!logs.is_empty(), "no log lines on stderr:\n{stderr}");
    for line in &logs {
        let v: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
        assert!(v["level"].is_string(), "no level: {line}");
        assert!(v["timestamp"].is_string(), "no timestamp: {line}");
        assert!(v["fields"].is_object(), "no fields: {line}");
    }
    assert!(!stderr.contains(API_KEY), "the API key leaked:\n{stderr}");
    assert!(
        !stderr.contains(&token),
        "the admin token leaked:\n{stderr}"
    );
}

#[test]
fn the_environment_picks_json_and_the_default_stays_text() {
    let (_, json) = run_until_ready(|c| {
        c.env("SWITCHBOARD_LOG_FORMAT", "json");
    });
    let first = json.lines().find(|l| l.starts_with('{')).expect(&json);
    serde_json::from_str::<serde_json::Value>(first).unwrap();

    let (_, text) = run_until_ready(|_| {});
    let first = text
        .lines()
        .find(|l| !l.starts_with("switchboard-server:"))
        .expect(&text);
    assert!(
        serde_json::from_str::<serde_json::Value>(first).is_err(),
        "the default is text: {first}"
    );
    assert!(
        !text.contains('\x1b'),
        "no colour codes when stderr is no terminal (the journal would keep them): {text}"
    );
}

#[test]
fn an_unknown_log_format_exits_2_naming_the_choices() {
    let out = server().args(["--log-format", "xml"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("xml") && err.contains("json") && err.contains("text"),
        "{err}"
    );
}

#[test]
fn help_names_the_log_format_option_and_its_variable() {
    let out = server().arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for needle in ["--log-format", "SWITCHBOARD_LOG_FORMAT", "json"] {
        assert!(help.contains(needle), "--help lacks {needle}:\n{help}");
    }
}
