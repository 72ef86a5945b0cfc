//! When and how long to wait before calling 8x8 again. 8x8 documents no rate limit and no
//! idempotency key (chat-gateway.md §8, P10), so the rules are ours:
//!
//! - **Idempotent calls** (GET, PUT of a webhook, verify, typing/thinking, user leave)
//!   are retried on connection errors, timeouts, 408, 429 and 5xx.
//! - **Non-idempotent calls** (send message, create conversation/webhook, patch
//!   assignment, upload, post-agent assignment) are retried *inline* only when 8x8
//!   certainly did not act: no connection, 429, or 503. A timeout or a 500 may mean the
//!   message was posted, and a second post would show the agent a duplicate, so the
//!   client returns the error. The durable outbox above the client then decides: it
//!   retries those too (at-least-once), because a lost customer message is worse than a
//!   rare duplicate, and records the ambiguity in the entry's last error.
//!
//! Delays: `Retry-After` when 8x8 sends it (capped), otherwise exponential 1, 2, 4, 8 s
//! with jitter (each delay drawn from 50–100 % of its step) so that many relays
//! recovering together do not retry in lockstep.

use std::time::Duration;

use rand::Rng;

use crate::error::ClientError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included; 1 means no retry.
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Per attempt (P10 suggests ~10 s).
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(8),
            timeout: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// One attempt: for callers that keep their own schedule (the outbox).
    pub fn once() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The wait before attempt `attempt + 1` (attempt counts from 1).
    pub fn delay(&self, attempt: u32, error: &ClientError) -> Duration {
        if let Some(after) = error.retry_after() {
            return after.min(self.max_delay.max(Duration::from_secs(60)));
        }
        backoff(self.base_delay, self.max_delay, attempt)
    }
}

/// `base · 2^(attempt-1)`, capped, then jittered down to 50–100 %.
pub fn backoff(base: Duration, cap: Duration, attempt: u32) -> Duration {
    let step = base
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
        .min(cap);
    let factor = rand::thread_rng().gen_range(0.5..=1.0);
    step.mul_f64(factor)
}

/// Whether `error` may be retried for a call of this kind (see the module docs).
pub fn is_retryable(error: &ClientError, idempotent: bool) -> bool {
    if error.is_permanent() {
        return false;
    }
    if idempotent {
        return match error {
            ClientError::Api(e) => e.status == 408 || e.status == 429 || e.status >= 500,
            ClientError::Timeout(_) | ClientError::Connect(_) | ClientError::Transport(_) => true,
            _ => false,
        };
    }
    error.certainly_not_processed() && !matches!(error, ClientError::NotConfigured(_))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;

    #[test]
    fn backoff_doubles_within_jitter_and_caps() {
        let base = Duration::from_secs(1);
        let cap = Duration::from_secs(8);
        for (attempt, step) in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)] {
            for _ in 0..50 {
                let d = backoff(base, cap, attempt).as_secs_f64();
                assert!(d >= step * 0.5 - 1e-9 && d <= step + 1e-9, "{attempt}: {d}");
            }
        }
    }

    #[test]
    fn retry_after_wins() {
        let e = ClientError::Api(ApiError::parse(429, b"{}", Some(Duration::from_secs(3))));
        assert_eq!(RetryPolicy::default().delay(1, &e), Duration::from_secs(3));
    }

    #[test]
    fn what_is_retried() {
        let api = |s| ClientError::Api(ApiError::parse(s, b"{}", None));
        assert!(is_retryable(&api(500), true));
        assert!(!is_retryable(&api(500), false));
        assert!(is_retryable(&api(503), false));
        assert!(is_retryable(&api(429), false));
        assert!(!is_retryable(&api(400), true));
        assert!(is_retryable(
            &ClientError::Timeout(Duration::from_secs(1)),
            true
        ));
        assert!(!is_retryable(
            &ClientError::Timeout(Duration::from_secs(1)),
            false
        ));
        assert!(is_retryable(&ClientError::Connect("refused".into()), false));
    }
}
