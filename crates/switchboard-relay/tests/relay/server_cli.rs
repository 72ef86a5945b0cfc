//! The headless server as a user meets it: --help, bad configuration, a taken port, and
//! the ready lines with the admin URL and the Endpoint URL.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard-server");

/// The server binary, with none of a developer's `SWITCHBOARD_` environment.
pub(crate) fn server() -> Command {
    let mut cmd = Command::new(BIN);
    // Never let a developer's environment leak in.
    for (k, _) in std::env::vars() {
        if k.starts_with("SWITCHBOARD_") {
            cmd.env_remove(k);
        }
    }
    cmd
}

#[test]
fn help_documents_every_option() {
    let out = server().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for option in [
        "--config",
        "--data-dir",
        "--endpoint-bind",
        "--admin-port",
        "--public-url",
        "--sandbox",
        "--secrets",
        "--log",
        "SWITCHBOARD_API_KEY",
        "SWITCHBOARD_ENDPOINT_BIND",
    ] {
        assert!(help.contains(option), "--help lacks {option}:\n{help}");
    }
}

#[test]
fn a_bad_config_file_exits_2_and_names_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.json");
    std::fs::write(&config, r#"{"endpointBind": "nowhere"}"#).unwrap();
    let out = server()
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("endpointBind") && err.contains("nowhere"),
        "{err}"
    );

    std::fs::write(&config, r#"{"sandbox": "sometimes"}"#).unwrap();
    let out = server().arg("--config").arg(&config).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr).unwrap().contains("sometimes"));

    let out = server()
        .arg("--config")
        .arg(dir.path().join("missing.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("missing.json"));
}

#[test]
fn a_taken_port_exits_non_zero_with_a_hint() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let out = server()
        .args(["--endpoint-bind", &addr, "--secrets", "env", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains(&addr) && err.contains("--endpoint-bind"),
        "{err}"
    );
}

#[test]
fn environment_overrides_the_config_file() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.json");
    std::fs::write(&config, r#"{"endpointBind": "127.0.0.1:0"}"#).unwrap();
    // The file says "any port"; the environment says the taken one, and wins.
    let out = server()
        .arg("--config")
        .arg(&config)
        .env("SWITCHBOARD_ENDPOINT_BIND", &addr)
        .env("SWITCHBOARD_SECRETS", "env")
        .env("SWITCHBOARD_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr).unwrap().contains(&addr));
}

#[test]
fn prints_the_admin_and_endpoint_urls_when_ready_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = server()
        .args([
            "--endpoint-bind",
            "127.0.0.1:0",
            "--secrets",
            "env",
            "--data-dir",
        ])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = ready_lines(child.stdout.take().unwrap());
    let text = out.join("\n");
    assert!(text.contains("Admin UI:     http://127.0.0.1:"), "{text}");
    assert!(text.contains("/?token="), "{text}");
    assert!(text.contains("Endpoint URL: http://127.0.0.1:"), "{text}");
    assert!(text.contains("/endpoint/"), "{text}");
    assert!(text.contains("Sandbox:      on"), "{text}");
    assert!(dir.path().join("settings.json").exists());

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let code = child.wait().unwrap();
    assert!(code.success(), "clean exit after SIGTERM: {code:?}");
}

/// The server's stdout up to its last ready line ("… Ctrl+C …"), within 30 s.
pub(crate) fn ready_lines(stdout: std::process::ChildStdout) -> Vec<String> {
    let mut lines = BufReader::new(stdout).lines();
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let line = lines
            .next()
            .expect("server printed its ready lines")
            .unwrap();
        let done = line.contains("Ctrl+C");
        out.push(line);
        if done {
            break;
        }
    }
    out
}
