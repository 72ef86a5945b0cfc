//! A Prometheus scrape job as an operator sets it up: a scrape token in the server's
//! environment that keeps working across restarts (the admin token does not), opens
//! `/metrics` and nothing else, and an opt-in listener that serves only `/metrics`.

use std::{
    net::TcpListener,
    path::Path,
    process::{Child, Command, Stdio},
};

use crate::server_cli::{ready_lines, server};

const SCRAPE_TOKEN: &str = "0123456789abcdef0123456789abcdef-scrape";

struct Running {
    child: Child,
    lines: Vec<String>,
}

impl Running {
    fn start(data_dir: &Path, configure: impl FnOnce(&mut Command)) -> Self {
        let mut cmd = server();
        cmd.args([
            "--endpoint-bind",
            "127.0.0.1:0",
            "--secrets",
            "env",
            "--sandbox",
            "on",
            "--data-dir",
        ])
        .arg(data_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
        configure(&mut cmd);
        let mut child = cmd.spawn().unwrap();
        let lines = ready_lines(child.stdout.take().unwrap());
        Self { child, lines }
    }

    /// The value after `label` on the ready line that starts with it.
    fn line(&self, label: &str) -> &str {
        self.lines
            .iter()
            .find_map(|l| l.trim_start().strip_prefix(label))
            .map(str::trim)
            .unwrap_or_else(|| panic!("no {label:?} line in {:#?}", self.lines))
    }

    fn admin_base(&self) -> String {
        let url = self.line("Admin UI:");
        url.split("/?token=").next().unwrap().to_string()
    }

    fn admin_token(&self) -> String {
        self.line("Admin UI:")
            .split("?token=")
            .nth(1)
            .unwrap()
            .to_string()
    }

    fn stop(mut self) {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(self.child.wait().unwrap().success());
    }
}

fn get(url: &str, bearer: &str) -> (u16, String) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let res = reqwest::Client::new()
            .get(url)
            .bearer_auth(bearer)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.text().await.unwrap())
    })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn the_scrape_token_survives_a_restart_and_opens_only_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let with_token = |c: &mut Command| {
        c.env("SWITCHBOARD_METRICS_TOKEN", SCRAPE_TOKEN);
    };

    let first = Running::start(dir.path(), with_token);
    let base = first.admin_base();
    let (status, body) = get(&format!("{base}/metrics"), SCRAPE_TOKEN);
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("switchboard_webhook_deliveries_total"),
        "{body}"
    );
    // The scrape token is no admin credential.
    let (status, _) = get(&format!("{base}/api/status"), SCRAPE_TOKEN);
    assert_eq!(status, 401);
    let old_admin = first.admin_token();
    first.stop();

    let second = Running::start(dir.path(), with_token);
    let base = second.admin_base();
    let (status, body) = get(&format!("{base}/metrics"), SCRAPE_TOKEN);
    assert_eq!(status, 200, "after the restart: {body}");
    // The previous launch's admin token no longer scrapes; this launch's still does.
    let (status, _) = get(&format!("{base}/metrics"), &old_admin);
    assert_eq!(status, 401);
    let (status, _) = get(&format!("{base}/metrics"), &second.admin_token());
    assert_eq!(status, 200);
    let (status, body) = get(&format!("{base}/metrics"), "not-the-token");
    assert_eq!(status, 401);
    assert!(body.contains("SWITCHBOARD_METRICS_TOKEN"), "{body}");
    second.stop();
}

#[test]
fn the_metrics_listener_serves_metrics_alone_to_the_scrape_token_alone() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let running = Running::start(dir.path(), |c| {
        c.env("SWITCHBOARD_METRICS_TOKEN", SCRAPE_TOKEN)
            .args(["--metrics-bind", &format!("127.0.0.1:{port}")]);
    });
    let metrics = running.line("Metrics:");
    assert!(
        metrics.starts_with(&format!("http://127.0.0.1:{port}/metrics")),
        "{metrics}"
    );
    let scrape_base = format!("http://127.0.0.1:{port}");
    let (status, body) = get(&format!("{scrape_base}/metrics"), SCRAPE_TOKEN);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("switchboard_database_size_bytes"), "{body}");
    // The admin token stays on the admin listener: it opens nothing here.
    let (status, _) = get(&format!("{scrape_base}/metrics"), &running.admin_token());
    assert_eq!(status, 401);
    for path in ["/api/status", "/api/settings", "/", "/endpoint/x"] {
        let (status, _) = get(&format!("{scrape_base}{path}"), SCRAPE_TOKEN);
        assert_eq!(status, 404, "{path} is not served here");
    }
    running.stop();
}

#[test]
fn a_metrics_bind_without_a_strong_token_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let base = |c: &mut Command| {
        c.args(["--secrets", "env", "--sandbox", "on", "--data-dir"])
            .arg(dir.path())
            .args(["--endpoint-bind", "127.0.0.1:0"]);
    };

    let mut no_token = server();
    base(&mut no_token);
    let out = no_token
        .args(["--metrics-bind", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("--metrics-bind") && err.contains("SWITCHBOARD_METRICS_TOKEN"),
        "{err}"
    );

    let mut weak = server();
    base(&mut weak);
    let out = weak
        .env("SWITCHBOARD_METRICS_TOKEN", "short")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("too weak") && err.contains("32"), "{err}");
    assert!(!err.contains("short"), "the token is not echoed: {err}");

    let mut bad_addr = server();
    base(&mut bad_addr);
    let out = bad_addr
        .env("SWITCHBOARD_METRICS_TOKEN", SCRAPE_TOKEN)
        .args(["--metrics-bind", "9787"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("metricsBind") && err.contains("9787"), "{err}");
}
