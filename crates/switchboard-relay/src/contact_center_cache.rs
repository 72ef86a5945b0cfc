//! 8x8's queue figures and schedule states as the handover checks and the admin UI read
//! them: through the handover role's connection (the sandbox while that role is on it),
//! quickly, and a few seconds cached (docs/contact-center.md §4).
//!
//! - **Short**: a customer is waiting for the answer, so a read gives up after
//!   [`TOTAL`] (two attempts at most); the handover's fallback then applies.
//! - **Cached** per connection and id: an answer for [`CachePolicy::fresh`] (the figures
//!   change by the second anyway, and 8x8 documents no rate limit), a failure for
//!   [`CachePolicy::failure`], so a failing 8x8 is not asked again by every
//!   conversation handed over meanwhile. Readers of the same id wait for one request.
//! - **In words**: a failure says which figures could not be read and what 8x8 answered,
//!   for the transcript and the admin UI; never the key.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chat_gateway_client::{
    contact_center::Schedule, ChatGatewayClient, ClientError, Connection, RetryPolicy,
};
use switchboard_settings::Role;
use switchboard_types::contact_center::{QueueFigures, ScheduleState};
use tokio::time::Instant;

use crate::relay::RelayState;

/// The most a read may take, attempts and the wait between them included.
pub const TOTAL: Duration = Duration::from_secs(3);

/// Two attempts: one retry of a dropped connection or a 5xx fits in [`TOTAL`].
fn policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 2,
        base_delay: Duration::from_millis(200),
        max_delay: Duration::from_millis(400),
        timeout: Duration::from_millis(1400),
    }
}

/// How long answers are kept.
#[derive(Debug, Clone, Copy)]
pub struct CachePolicy {
    pub fresh: Duration,
    pub failure: Duration,
}

impl Default for CachePolicy {
    fn default() -> Self {
        Self {
            fresh: Duration::from_secs(5),
            failure: Duration::from_secs(1),
        }
    }
}

/// A read that failed: the client's error (for the admin API's code) and the words.
#[derive(Debug, Clone)]
pub struct ReadError {
    pub error: ClientError,
    pub message: String,
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The connection's Base URL and tenant, and the id: a changed connection is asked anew.
type Key = (String, Option<String>, String);

struct Slot<T> {
    at: Instant,
    result: Result<T, ReadError>,
}

/// One lock per key, held across the request: readers of one id share one answer.
type Slots<T> = Mutex<HashMap<Key, Arc<tokio::sync::Mutex<Option<Slot<T>>>>>>;

/// Past this many ids, stale slots are dropped (ids typed into the admin API).
const MAX_SLOTS: usize = 256;

pub struct ContactCenterCache {
    http: reqwest::Client,
    policy: CachePolicy,
    queues: Slots<QueueFigures>,
    schedules: Slots<ScheduleState>,
}

impl Default for ContactCenterCache {
    fn default() -> Self {
        Self::new(CachePolicy::default())
    }
}

impl ContactCenterCache {
    pub fn new(policy: CachePolicy) -> Self {
        Self {
            http: chat_gateway_client::http_client(&self::policy()),
            policy,
            queues: Mutex::default(),
            schedules: Mutex::default(),
        }
    }

    /// Forgets every answer, as if their time had passed: the next read asks 8x8 (tests
    /// that change 8x8's state use it instead of waiting out the cache).
    pub fn forget(&self) {
        self.queues
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        self.schedules
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// One queue's figures, cached.
    pub async fn queue(
        &self,
        state: &RelayState,
        queue_id: &str,
    ) -> Result<QueueFigures, ReadError> {
        let what = format!("8x8's queue statistics for queue {queue_id}");
        let conn = self.connection(state, &what).await?;
        let key = (
            conn.base_url.clone(),
            conn.tenant.clone(),
            queue_id.to_string(),
        );
        let client = self.client(conn);
        cached(&self.queues, key, self.policy, || async move {
            bounded(&what, client.queue_stats(queue_id)).await
        })
        .await
    }

    /// A schedule's state now, cached.
    pub async fn schedule_state(
        &self,
        state: &RelayState,
        schedule_id: &str,
    ) -> Result<ScheduleState, ReadError> {
        let what = format!("8x8's schedule {schedule_id}");
        let conn = self.connection(state, &what).await?;
        let key = (
            conn.base_url.clone(),
            conn.tenant.clone(),
            schedule_id.to_string(),
        );
        let client = self.client(conn);
        cached(&self.schedules, key, self.policy, || async move {
            bounded(&what, client.schedule_status(schedule_id)).await
        })
        .await
    }

    /// Every queue's figures (for the admin UI; not cached: a page asks once).
    pub async fn queues(&self, state: &RelayState) -> Result<Vec<QueueFigures>, ReadError> {
        let what = "8x8's queue statistics";
        let client = self.client(self.connection(state, what).await?);
        bounded(what, client.queue_stats_list()).await
    }

    /// The tenant's schedules (for the settings' picker; not cached).
    pub async fn schedules(&self, state: &RelayState) -> Result<Vec<Schedule>, ReadError> {
        let what = "8x8's list of schedules";
        let client = self.client(self.connection(state, what).await?);
        bounded(what, client.schedules()).await
    }

    async fn connection(&self, state: &RelayState, what: &str) -> Result<Connection, ReadError> {
        crate::connections::resolve_for(state, Role::Handover)
            .await
            .map_err(|error| failure(what, error))
    }

    fn client(&self, conn: Connection) -> ChatGatewayClient {
        ChatGatewayClient::with_http(self.http.clone(), conn, policy())
    }
}

/// The read, given up after [`TOTAL`], its failure in words.
async fn bounded<T>(
    what: &str,
    read: impl std::future::Future<Output = Result<T, ClientError>>,
) -> Result<T, ReadError> {
    tokio::time::timeout(TOTAL, read)
        .await
        .unwrap_or(Err(ClientError::Timeout(TOTAL)))
        .map_err(|error| failure(what, error))
}

fn failure(what: &str, error: ClientError) -> ReadError {
    let message = match &error {
        // resolve_for's words when the keychain has no key (connections.rs).
        ClientError::NotConfigured(m) if m == "no 8x8 API key is set" => format!(
            "{what} could not be read: no 8x8 API key is set for the handover connection (save one in the Handover settings, or use the sandbox)"
        ),
        ClientError::NotConfigured(m) => format!(
            "{what} could not be read: the handover connection's API key could not be read ({m})"
        ),
        // The client's words already start "8x8 answered …", "8x8 did not answer …".
        other => format!("{what} could not be read: {other}"),
    };
    ReadError { error, message }
}

/// The slot's result while fresh, otherwise `read`'s (kept for the next readers).
async fn cached<T, F, Fut>(
    slots: &Slots<T>,
    key: Key,
    policy: CachePolicy,
    read: F,
) -> Result<T, ReadError>
where
    T: Clone,
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<T, ReadError>>,
{
    let slot = {
        let mut map = slots.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_SLOTS && !map.contains_key(&key) {
            let oldest_fresh = policy.fresh.max(policy.failure);
            map.retain(|_, s| match s.try_lock() {
                Ok(g) => g.as_ref().is_some_and(|s| s.at.elapsed() < oldest_fresh),
                Err(_) => true, // being read now
            });
        }
        map.entry(key).or_default().clone()
    };
    let mut guard = slot.lock().await;
    if let Some(s) = guard.as_ref() {
        let keep = if s.result.is_ok() {
            policy.fresh
        } else {
            policy.failure
        };
        if s.at.elapsed() < keep {
            return s.result.clone();
        }
    }
    let result = read().await;
    *guard = Some(Slot {
        at: Instant::now(),
        result: result.clone(),
    });
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn key(id: &str) -> Key {
        ("http://8x8".into(), None, id.into())
    }

    fn short() -> CachePolicy {
        CachePolicy {
            fresh: Duration::from_millis(300),
            failure: Duration::from_millis(100),
        }
    }

    async fn read(
        slots: &Slots<u32>,
        id: &str,
        calls: &AtomicU32,
        answer: Result<u32, &str>,
    ) -> Result<u32, String> {
        cached(slots, key(id), short(), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            answer.map_err(|m| ReadError {
                error: ClientError::Transport(m.into()),
                message: m.into(),
            })
        })
        .await
        .map_err(|e| e.message)
    }

    #[tokio::test]
    async fn an_answer_is_kept_while_fresh_per_id() {
        let slots = Slots::<u32>::default();
        let calls = AtomicU32::new(0);
        assert_eq!(read(&slots, "101", &calls, Ok(1)).await, Ok(1));
        assert_eq!(read(&slots, "101", &calls, Ok(2)).await, Ok(1));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // Another id is its own read.
        assert_eq!(read(&slots, "102", &calls, Ok(3)).await, Ok(3));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        tokio::time::sleep(short().fresh).await;
        assert_eq!(read(&slots, "101", &calls, Ok(4)).await, Ok(4));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_failure_is_kept_briefly() {
        let slots = Slots::<u32>::default();
        let calls = AtomicU32::new(0);
        assert_eq!(
            read(&slots, "101", &calls, Err("500")).await,
            Err("500".into())
        );
        assert_eq!(read(&slots, "101", &calls, Ok(1)).await, Err("500".into()));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        tokio::time::sleep(short().failure).await;
        assert_eq!(read(&slots, "101", &calls, Ok(1)).await, Ok(1));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn readers_of_one_id_at_once_share_one_request() {
        let slots = Slots::<u32>::default();
        let calls = AtomicU32::new(0);
        let slow = || async {
            cached(&slots, key("101"), short(), || async {
                calls.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
                Ok(7)
            })
            .await
            .unwrap()
        };
        let (a, b, c) = tokio::join!(slow(), slow(), slow());
        assert_eq!((a, b, c), (7, 7, 7));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn failures_say_what_could_not_be_read_and_what_8x8_answered() {
        let e = failure(
            "8x8's queue statistics for queue 101",
            ClientError::Api(chat_gateway_client::ApiError::parse(500, b"", None)),
        );
        assert_eq!(
            e.message,
            "8x8's queue statistics for queue 101 could not be read: 8x8 answered 500: Internal Server Error"
        );
        let e = failure(
            "8x8's schedule 122",
            ClientError::NotConfigured("no 8x8 API key is set".into()),
        );
        assert_eq!(
            e.message,
            "8x8's schedule 122 could not be read: no 8x8 API key is set for the handover connection (save one in the Handover settings, or use the sandbox)"
        );
        let e = failure("8x8's schedule 122", ClientError::Timeout(TOTAL));
        assert_eq!(
            e.message,
            "8x8's schedule 122 could not be read: 8x8 did not answer within 3s"
        );
    }
}
