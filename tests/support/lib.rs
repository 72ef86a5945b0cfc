//! Shared helpers for the end-to-end tests: a relay on free loopback ports with a temp
//! data directory, and an HTTP client that never follows redirects (tests assert them).

use std::path::PathBuf;

use switchboard_relay::RelayConfig;
use switchboard_relay::RelayHandle;

pub struct TestRelay {
    pub handle: RelayHandle,
    pub dir: tempfile::TempDir,
}

impl TestRelay {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut RelayConfig)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = RelayConfig::for_tests(dir.path().to_path_buf());
        adjust(&mut config);
        let handle = switchboard_relay::start(config)
            .await
            .expect("relay starts");
        Self { handle, dir }
    }

    pub fn admin(&self, path: &str) -> String {
        format!("http://{}{path}", self.handle.admin_addr)
    }

    pub fn endpoint(&self, path: &str) -> String {
        format!("http://{}{path}", self.handle.endpoint_addr)
    }

    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.handle.admin_token())
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client builds")
}

pub mod agent_chat;
pub mod emulator;
pub mod process;
pub mod relay_db;
pub mod small_disk;

/// Polls `check` every 100 ms until it gives a value; panics with `what` and the last
/// state it described after `guard` — a hang guard for slow machines, never a speed bound.
pub async fn wait_until<T>(
    what: &str,
    guard: std::time::Duration,
    mut check: impl FnMut() -> Result<T, String>,
) -> T {
    let deadline = std::time::Instant::now() + guard;
    loop {
        match check() {
            Ok(v) => return v,
            Err(last) if std::time::Instant::now() >= deadline => {
                panic!("{what}: not within {guard:?}; last seen: {last}")
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
}
