//! Shared helpers for the end-to-end tests: a relay on free loopback ports with a temp
//! data directory, the typed control client of its embedded emulator, an HTTP client
//! that never follows redirects (tests assert them), and [`eventually`], the one way
//! these tests wait.

use std::{fmt, path::PathBuf, sync::Mutex, time::Duration};

use chat_gateway_sim::control_client::SimControl;
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

    /// The typed control API (`/sim/...`) of the relay's embedded emulator, the sandbox.
    pub fn sim(&self) -> SimControl {
        let sandbox = self.handle.state.sandbox.as_ref();
        SimControl::new(&sandbox.expect("the relay runs its sandbox").base_url)
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
pub mod proxy;
pub mod relay_db;
pub mod relay_pg;
pub mod small_disk;

/// How often [`eventually`] asks again.
const POLL_EVERY: Duration = Duration::from_millis(50);

/// Asks `f` until it answers `Some`, and returns that; panics with `what` once `timeout`
/// has passed without one — a hang guard for slow machines, never a speed bound. Every
/// wait in these tests goes through here. `what` is formatted only on timeout, so it
/// may describe the state at that moment (a [`Seen`] does).
pub async fn eventually<T>(
    what: impl fmt::Display,
    timeout: Duration,
    f: impl AsyncFnMut() -> Option<T>,
) -> T {
    switchboard_testkit::eventually(what, timeout, POLL_EVERY, f).await
}

/// What a wait is for and the state it last saw, for [`eventually`]'s timeout message:
/// pass `&seen` as its `what` and [`Seen::note`] the state on every look.
pub struct Seen {
    what: String,
    last: Mutex<String>,
}

impl Seen {
    pub fn new(what: impl Into<String>) -> Self {
        Self {
            what: what.into(),
            last: Mutex::new("nothing yet".into()),
        }
    }

    /// Remembers `state` as the last thing seen (with `{:#}`: JSON comes out pretty).
    pub fn note(&self, state: impl fmt::Display) {
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = format!("{state:#}");
    }

    /// Notes `state`, and gives it back if `done`: `seen.check(cond, state)` ends an
    /// [`eventually`] closure.
    pub fn check<T: fmt::Display>(&self, done: bool, state: T) -> Option<T> {
        self.note(&state);
        done.then_some(state)
    }
}

impl fmt::Display for Seen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        write!(f, "{}; last seen: {last}", self.what)
    }
}

/// Makes the failure tests take turns. Each of them loads this 2-core machine fully (a
/// relay process, thousands of deliveries, 8x8's retries timed against a restart), and
/// their guards assume nothing else as heavy runs beside them, as when each was a test
/// binary of its own. Hold the guard for the whole test.
pub async fn one_failure_test_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    TURN.lock().await
}
