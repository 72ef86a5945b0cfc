//! Shared helpers for the end-to-end tests: a relay on free loopback ports with a temp
//! data directory, and an HTTP client that never follows redirects (tests assert them).

use std::path::PathBuf;

use switchboard_core::{RelayConfig, RelayHandle};

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
        let handle = switchboard_core::start(config).await.expect("relay starts");
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
