//! The headless relay as a process of its own (`switchboard-server`), for the tests that
//! kill it with SIGKILL, start it again on the same ports and data directory, or read
//! what it logs. It talks to an emulator the test runs (sandbox off, key from the
//! environment), like a server deployment talks to 8x8.

use std::{
    fmt,
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{mpsc, Arc, Mutex},
    time::{Duration, Instant},
};

use switchboard_settings::settings::{JsonFileSettings, SandboxChoice, Settings, SettingsStore};

use crate::eventually;

/// How long a start may take before the test gives up (a hang guard, not a speed bound).
const START_GUARD: Duration = Duration::from_secs(90);

/// What one relay is: kept across restarts, so a restart is the same relay.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub data_dir: PathBuf,
    pub endpoint_port: u16,
    pub admin_port: u16,
    /// The 8x8 (emulator) Base URL: where the relay sends API calls and fetches keys.
    pub base_url: String,
    pub api_key: String,
    pub tenant: String,
    /// The Endpoint URL token, chosen here so 8x8's webhook can be seeded before start.
    pub token: String,
    /// Off by default: a bot greeting on every conversation would add outbound traffic
    /// the failure tests do not look at.
    pub accept_active_event: bool,
    /// `--log` filter.
    pub log: String,
    /// PostgreSQL shared with other relays (passed as `SWITCHBOARD_DATABASE_URL`);
    /// the SQLite file in the data directory when `None`.
    pub database_url: Option<String>,
}

impl ServerConfig {
    pub fn new(data_dir: &Path, base_url: &str) -> Self {
        Self {
            data_dir: data_dir.to_path_buf(),
            endpoint_port: free_port(),
            admin_port: free_port(),
            base_url: base_url.to_string(),
            api_key: crate::emulator::KEY.into(),
            tenant: crate::emulator::TENANT.into(),
            token: switchboard_types::token::generate(),
            accept_active_event: false,
            log: "info".into(),
            database_url: None,
        }
    }

    pub fn endpoint_url(&self) -> String {
        format!(
            "http://127.0.0.1:{}/endpoint/{}",
            self.endpoint_port, self.token
        )
    }

    /// Writes `settings.json` unless the relay has one already (a restart keeps its own).
    fn write_settings(&self) {
        let store = JsonFileSettings::new(self.data_dir.join("settings.json"));
        if store.load().expect("settings file readable").is_some() {
            return;
        }
        let mut s = Settings {
            sandbox: SandboxChoice::Off,
            ..Settings::default()
        };
        s.connection.base_url = self.base_url.clone();
        s.connection.tenant = Some(self.tenant.clone());
        s.endpoint.token = self.token.clone();
        s.endpoint.accept_conversation_active_event = self.accept_active_event;
        store.save(&s).expect("settings file written");
    }
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// The `switchboard-server` binary next to this test binary (`cargo test --workspace`
/// builds it); built on demand when it is missing. One left by an earlier build is used
/// as it is: after changing the relay, run a single test target only after
/// `cargo build -p switchboard-relay --bin switchboard-server` (building it here every
/// time would rebuild dependencies with another feature set than the workspace's).
pub fn server_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("SWITCHBOARD_SERVER_BIN") {
        return p.into();
    }
    static BUILT: Mutex<()> = Mutex::new(());
    let exe = std::env::current_exe().expect("test binary path");
    // target/<profile>/deps/<test> → target/<profile>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binary in target/<profile>/deps")
        .to_path_buf();
    let bin = profile_dir.join("switchboard-server");
    let _one_build = BUILT.lock().unwrap_or_else(|p| p.into_inner());
    if !bin.exists() {
        let target_dir = profile_dir.parent().expect("target dir");
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args(["build", "--quiet", "-p", "switchboard-relay", "--bin"])
            .arg("switchboard-server")
            .env("CARGO_TARGET_DIR", target_dir)
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("cargo runs");
        assert!(
            status.success() && bin.exists(),
            "could not build switchboard-server ({status}); build it with \
             `cargo build -p switchboard-relay --bin switchboard-server`"
        );
    }
    bin
}

/// A running `switchboard-server`. Dropping it kills the process.
pub struct ServerProcess {
    pub config: ServerConfig,
    child: Child,
    admin_token: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl ServerProcess {
    /// Starts the relay and waits until it says it is ready.
    pub fn start(config: &ServerConfig) -> Self {
        config.write_settings();
        let mut cmd = Command::new(server_binary());
        // Never let a developer's environment leak in.
        for (k, _) in std::env::vars() {
            if k.starts_with("SWITCHBOARD_") {
                cmd.env_remove(k);
            }
        }
        cmd.arg("--data-dir")
            .arg(&config.data_dir)
            .arg("--endpoint-bind")
            .arg(format!("127.0.0.1:{}", config.endpoint_port))
            .arg("--admin-port")
            .arg(config.admin_port.to_string())
            .args(["--sandbox", "off", "--secrets", "env", "--log", &config.log])
            .env("SWITCHBOARD_API_KEY", &config.api_key)
            .envs(
                config
                    .database_url
                    .iter()
                    .map(|url| ("SWITCHBOARD_DATABASE_URL", url)),
            )
            // Plain log lines: the tests search them for words.
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("switchboard-server starts");

        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().expect("stderr piped");
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(strip_ansi(&line));
            }
        });
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout piped");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });

        let deadline = Instant::now() + START_GUARD;
        let mut admin_token = None;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left.min(Duration::from_millis(200))) {
                Ok(line) if line.contains("Admin UI:") => {
                    admin_token = line.split("token=").nth(1).map(|t| t.trim().to_string());
                }
                Ok(line) if line.contains("Press Ctrl+C") => break,
                Ok(_) | Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {}
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "switchboard-server exited before it was ready ({status}):\n{}",
                    log.lock().unwrap_or_else(|p| p.into_inner()).join("\n")
                );
            }
            assert!(
                Instant::now() < deadline,
                "switchboard-server was not ready within {START_GUARD:?}"
            );
        }
        Self {
            config: config.clone(),
            child,
            admin_token: admin_token.expect("the ready lines carry the admin token"),
            log,
        }
    }

    /// Whether the process is still running (not exited or killed).
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn endpoint_url(&self) -> String {
        self.config.endpoint_url()
    }

    pub fn admin(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.config.admin_port)
    }

    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.admin_token)
    }

    pub fn db_path(&self) -> PathBuf {
        self.config.data_dir.join("switchboard.db")
    }

    /// SIGKILL: no shutdown, no flush; what is not committed is gone.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM and wait for the graceful stop (killed if it does not come).
    pub fn stop(mut self) {
        let asked = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        if !asked {
            let _ = self.child.kill();
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Everything the server wrote to stderr so far.
    pub fn log_lines(&self) -> Vec<String> {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The first log line containing every one of `needles`, waiting up to `guard`.
    pub async fn wait_for_log(&self, needles: &[&str], guard: Duration) -> String {
        let what = LogLine {
            needles,
            server: self,
        };
        eventually(what, guard, async || {
            self.log_lines()
                .into_iter()
                .find(|l| needles.iter().all(|n| l.contains(n)))
        })
        .await
    }
}

/// What [`ServerProcess::wait_for_log`] waits for, and on a timeout the whole log.
struct LogLine<'a> {
    needles: &'a [&'a str],
    server: &'a ServerProcess,
}

impl fmt::Display for LogLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a relay log line with {:?}; its log:\n{}",
            self.needles,
            self.server.log_lines().join("\n")
        )
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Drops terminal colour codes, in case a build colours its log anyway.
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
