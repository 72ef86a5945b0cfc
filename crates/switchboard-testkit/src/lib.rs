//! What every test suite of the workspace shares. One polling helper, so that each wait
//! in the tests has the same shape — a hang guard that names what it waited for, never
//! a speed bound — and a suite's support module only picks how often it asks. And a
//! fresh PostgreSQL database per test ([`postgres`]).

pub mod postgres;

use std::{fmt, time::Duration};

use tokio::time::Instant;

/// Asks `probe` every `every` until it answers `Some`, and returns that; panics with
/// `what` once `timeout` has passed without one. `what` is formatted only then, so it may
/// describe the state at that moment.
pub async fn eventually<T>(
    what: impl fmt::Display,
    timeout: Duration,
    every: Duration,
    mut probe: impl AsyncFnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        if Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(every).await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[tokio::test]
    async fn answers_as_soon_as_the_probe_does() {
        let calls = AtomicU32::new(0);
        let got = eventually(
            "the third call",
            Duration::from_secs(5),
            Duration::ZERO,
            || {
                let n = calls.fetch_add(1, Ordering::Relaxed) + 1;
                async move { (n == 3).then_some(n) }
            },
        )
        .await;
        assert_eq!(got, 3);
    }

    #[tokio::test]
    #[should_panic(expected = "waiting for a thing that never comes")]
    async fn names_what_it_waited_for() {
        eventually(
            "a thing that never comes",
            Duration::from_millis(30),
            Duration::from_millis(5),
            || async { None::<()> },
        )
        .await;
    }
}
