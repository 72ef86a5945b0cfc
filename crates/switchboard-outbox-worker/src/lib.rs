//! The task that empties the outbox. It keeps up to [`CONCURRENCY`] calls in flight, each
//! the head of its ordering key (the oldest open entry of that key — later ones wait
//! behind it, so a conversation's calls still go one at a time and in order). As each
//! call's answer comes back and is recorded, the next due heads are started at once:
//! a slow 8x8 holds up only the conversation it is answering, not every other one. It
//! sleeps until the next retry is due or a new entry arrives.
//!
//! A 429 is about the caller, not the call: 8x8 limits the rate per API key. So when one
//! comes back no new call starts, whatever its conversation, until the `Retry-After` it
//! gave has passed (calls already in flight finish as they will).

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    time::{Duration, Instant},
};

use futures_util::{stream::FuturesUnordered, FutureExt, StreamExt};
use tokio::{sync::watch, task::JoinHandle};

use chat_gateway_client::{
    http_client, retry, ChatGatewayClient, ClientError, Connection, HttpExchange, OutboundCall,
    RetryPolicy,
};
use switchboard_store::{outbox::Backoff, Outbox, OutboxEntry, OutboxError};
use switchboard_types::{now_ms, OutboxStatus, RelayEvent};

/// Calls in flight at once, each for a different ordering key. 8x8 answers in tens to
/// hundreds of milliseconds across the internet; at 100 ms this drains ≈ 640 calls/s.
const CONCURRENCY: usize = 64;
/// Longest wait when nothing is scheduled (a new entry wakes the worker anyway).
const IDLE: Duration = Duration::from_secs(3600);
/// How long a resolved connection (settings and the API key from the keychain) is used
/// before it is read again: a burst must not cost a keychain round trip per call, and a
/// changed key or Base URL still applies within a second.
const CONNECTION_TTL: Duration = Duration::from_secs(1);

pub type Resolver = Arc<
    dyn Fn() -> Pin<Box<dyn Future<Output = Result<Connection, ClientError>> + Send>> + Send + Sync,
>;
pub type Publisher = Arc<dyn Fn(RelayEvent) + Send + Sync>;

pub fn spawn(
    outbox: Arc<Outbox>,
    resolve: Resolver,
    publish: Publisher,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        // A database hiccup (locked, disk full) must not end delivery for the rest of the
        // run: log it, wait, start over (entries left `sending` go again).
        loop {
            match run(
                outbox.clone(),
                resolve.clone(),
                publish.clone(),
                stop.clone(),
            )
            .await
            {
                Ok(()) => return,
                Err(e) => tracing::error!(error = %e, "the outbox worker failed; restarting it"),
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = stop.changed() => return,
            }
        }
    })
}

type Attempt = (
    OutboxEntry,
    Result<Option<serde_json::Value>, ClientError>,
    Option<HttpExchange>,
);

/// What one visit to the database brought back: whether every outcome it carried was
/// stored (false: the relay stops), and the due heads it took, if it asked for any.
struct Visited {
    stored: bool,
    asked: usize,
    took: Option<(Vec<OutboxEntry>, Option<i64>)>,
}

type Visit<'a> = Pin<Box<dyn Future<Output = Result<Visited, OutboxError>> + Send + 'a>>;

async fn run(
    outbox: Arc<Outbox>,
    resolve: Resolver,
    publish: Publisher,
    mut stop: watch::Receiver<bool>,
) -> Result<(), OutboxError> {
    // Entries in flight when the relay stopped (or when this worker restarted after a
    // database error): 8x8 may or may not have them, so they go again (at least once).
    outbox.requeue_interrupted(now_ms()).await?;
    let http = http_client(&RetryPolicy::once());
    let mut connection = CachedConnection::default();
    let mut in_flight = FuturesUnordered::new();
    // Visits to the database under way: outcomes being stored, heads being taken. The
    // worker never waits for one before starting the calls it already has: a wave's
    // outcomes waited for a commit behind the turn's other writes, and while they did,
    // the slots its calls had freed stayed empty (a 5,000-message burst's replies queued
    // for 1 s with 8x8 answering at once; bench-whole-path).
    let mut visits: FuturesUnordered<Visit<'_>> = FuturesUnordered::new();
    // Slots promised to heads still being taken.
    let mut asked = 0_usize;
    // Heads taken and not started yet. They start at the top of the loop unless 8x8
    // asked us to hold off: a visit asked for before a 429 came back may bring heads
    // during the pause, and those wait for its end.
    let mut ready: Vec<OutboxEntry> = Vec::new();
    // Whether an entry may be due that no visit is looking for yet.
    let mut look = true;
    let mut next_at: Option<i64> = None;
    // Until when 8x8 asked us to hold off (ms since the epoch), after a 429.
    let mut paused_until = 0_i64;
    loop {
        if *stop.borrow() {
            return Ok(());
        }
        let paused = paused_until > now_ms();
        if !paused && !ready.is_empty() {
            let conn = connection.get(&resolve).await;
            for entry in ready.drain(..) {
                publish(updated(&entry));
                in_flight.push(attempt(entry, conn.clone(), http.clone(), &outbox));
            }
        }
        let free = CONCURRENCY.saturating_sub(in_flight.len() + asked + ready.len());
        if look && free > 0 && !paused {
            look = false;
            asked += free;
            visits.push(visit(&outbox, &publish, &stop, Vec::new(), free));
        }
        let wake_at = if paused { Some(paused_until) } else { next_at };
        let wait = wake_at
            .map(|t| Duration::from_millis((t - now_ms()).max(0) as u64))
            .unwrap_or(IDLE);
        tokio::select! {
            Some(done) = in_flight.next(), if !in_flight.is_empty() => {
                // Every answer already back is recorded in one visit rather than one
                // each: the database commits a wave's outcomes together.
                let mut answers = vec![done];
                while let Some(Some(more)) = in_flight.next().now_or_never() {
                    answers.push(more);
                }
                for (_, result, _) in &answers {
                    if let Some(until) = rate_limited_until(result, &outbox.backoff()) {
                        paused_until = paused_until.max(until);
                    }
                }
                // The next heads are taken in the same visit, after the outcomes (the
                // database thread runs writes in the order they come), so that a
                // conversation's next call, due once this one is recorded, is found.
                let free = CONCURRENCY.saturating_sub(in_flight.len() + asked + ready.len());
                let ask = if paused_until <= now_ms() { free } else { 0 };
                asked += ask;
                visits.push(visit(&outbox, &publish, &stop, answers, ask));
            }
            Some(visited) = visits.next(), if !visits.is_empty() => {
                let visited = visited?;
                asked -= visited.asked;
                if !visited.stored {
                    return Ok(());
                }
                if let Some((due, next)) = visited.took {
                    next_at = next;
                    // All it asked for were due: more may be.
                    if visited.asked > 0 && due.len() == visited.asked {
                        look = true;
                    }
                    ready.extend(due);
                }
            }
            _ = outbox.added() => look = true,
            _ = tokio::time::sleep(wait) => look = true,
            // Unfinished sends stay `sending` and go again after the restart.
            _ = stop.changed() => return Ok(()),
        }
    }
}

/// One visit to the database: `answers`' outcomes stored side by side (committed
/// together), then, if `ask` > 0, up to `ask` due heads taken in the same turn.
fn visit<'a>(
    outbox: &'a Outbox,
    publish: &'a Publisher,
    stop: &watch::Receiver<bool>,
    answers: Vec<Attempt>,
    ask: usize,
) -> Visit<'a> {
    let stop = stop.clone();
    Box::pin(async move {
        let recorded =
            futures_util::future::join_all(answers.into_iter().map(|(entry, result, exchange)| {
                let mut stop = stop.clone();
                async move { record(outbox, publish, entry, result, exchange, &mut stop).await }
            }));
        let take = async {
            if ask > 0 {
                Some(outbox.take_due(now_ms(), ask).await)
            } else {
                None
            }
        };
        let (recorded, took) = tokio::join!(recorded, take);
        let mut stored = true;
        for r in recorded {
            stored &= r?;
        }
        Ok(Visited {
            stored,
            asked: ask,
            took: took.transpose()?,
        })
    })
}

/// After a 429: until when no call should start (ms since the epoch).
fn rate_limited_until(
    result: &Result<Option<serde_json::Value>, ClientError>,
    backoff: &Backoff,
) -> Option<i64> {
    let e = result.as_ref().err()?;
    if e.status() != Some(429) {
        return None;
    }
    let wait = e.retry_after().map_or(backoff.base, |after| {
        after.min(longest_retry_after(backoff))
    });
    Some(now_ms() + wait.as_millis() as i64)
}

/// The longest `Retry-After` obeyed: 8x8's own word, within reason.
fn longest_retry_after(backoff: &Backoff) -> Duration {
    backoff.max.max(Duration::from_secs(300))
}

/// One attempt at one entry: the call rebuilt from its stored form and sent once.
fn attempt(
    entry: OutboxEntry,
    conn: Result<Connection, ClientError>,
    http: reqwest::Client,
    outbox: &Outbox,
) -> impl Future<Output = Attempt> {
    let observer = outbox.observer();
    async move {
        // What the attempt looked like on the wire, for the inspector.
        let seen = Arc::new(std::sync::Mutex::new(None::<HttpExchange>));
        let keep = seen.clone();
        let result = match (
            conn,
            serde_json::from_value::<OutboundCall>(entry.request.clone()),
        ) {
            (_, Err(e)) => Err(ClientError::InvalidRequest(format!(
                "stored call does not parse: {e}"
            ))),
            (Err(e), _) => Err(e),
            (Ok(conn), Ok(call)) => {
                let mut client = ChatGatewayClient::with_http(http, conn, RetryPolicy::once())
                    .on_exchange(Arc::new(move |x: &HttpExchange| {
                        *keep.lock().unwrap_or_else(|e| e.into_inner()) = Some(x.clone());
                    }));
                if let Some(o) = observer {
                    client = client.observe(o);
                }
                call.execute(&client).await
            }
        };
        let exchange = seen.lock().unwrap_or_else(|e| e.into_inner()).take();
        (entry, result, exchange)
    }
}

/// Stores what 8x8 answered and tells the UI and any waiter. False if the relay stops
/// before the outcome could be stored.
async fn record(
    outbox: &Outbox,
    publish: &Publisher,
    entry: OutboxEntry,
    result: Result<Option<serde_json::Value>, ClientError>,
    exchange: Option<HttpExchange>,
    stop: &mut watch::Receiver<bool>,
) -> Result<bool, OutboxError> {
    let mut outcome = Outcome::of(&entry, result, &outbox.backoff());
    // A success's status is known only from the wire (the typed answer drops it).
    outcome.http_status = outcome
        .http_status
        .or(exchange.as_ref().and_then(|x| x.status));
    if let Some(observe) = outbox.attempt_observer() {
        observe(&switchboard_store::outbox::AttemptSeen {
            operation: &entry.operation,
            duration: exchange
                .as_ref()
                .map(|x| Duration::from_millis(x.duration_ms)),
            http_status: outcome.http_status,
            delivered: outcome.status == OutboxStatus::Delivered,
        });
    }
    outcome.exchange = exchange;
    let finished = outcome.is_final();
    // The entry as stored now, without reading it back: what `record_attempt` wrote.
    let mut stored = entry;
    stored.status = outcome.status;
    stored.last_error = outcome.error.clone().or(stored.last_error);
    if !store_outcome(outbox, stored.id, outcome, stop).await {
        return Ok(false);
    }
    publish(updated(&stored));
    if finished {
        outbox.notify_finished();
    }
    Ok(true)
}

/// The connection the last attempts used, read again once it is older than
/// [`CONNECTION_TTL`] or did not resolve.
#[derive(Default)]
struct CachedConnection(Option<(Instant, Connection)>);

impl CachedConnection {
    async fn get(&mut self, resolve: &Resolver) -> Result<Connection, ClientError> {
        if let Some((at, conn)) = &self.0 {
            if at.elapsed() < CONNECTION_TTL {
                return Ok(conn.clone());
            }
        }
        let resolved = resolve().await;
        self.0 = resolved.as_ref().ok().map(|c| (Instant::now(), c.clone()));
        resolved
    }
}

/// How long to wait before trying again to store an attempt's outcome.
const STORE_RETRY: Duration = Duration::from_millis(500);

/// Stores an attempt's outcome, trying again while the database refuses (locked, disk
/// full): 8x8's answer is known, and forgetting it would leave the entry `sending`, to be
/// sent again — a delivered message shown twice. False if the relay stops first.
async fn store_outcome(
    outbox: &Outbox,
    id: i64,
    outcome: Outcome,
    stop: &mut watch::Receiver<bool>,
) -> bool {
    let mut logged = false;
    loop {
        match outcome.store(outbox, id).await {
            Ok(()) => {
                if logged {
                    tracing::info!(id, "the outbox entry's outcome is stored now");
                }
                return true;
            }
            Err(e) => {
                if !logged {
                    tracing::error!(id, error = %e, "cannot store what 8x8 answered to an outbox entry; trying again so it is not sent twice");
                    logged = true;
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(STORE_RETRY) => {}
            _ = stop.changed() => return false,
        }
    }
}

fn updated(e: &OutboxEntry) -> RelayEvent {
    RelayEvent::OutboxUpdated {
        id: e.id,
        operation: e.operation.clone(),
        status: e.status,
        attempts: e.attempts,
        last_error: e.last_error.clone(),
    }
}

/// One attempt's outcome, as it is written to the entry.
struct Outcome {
    status: OutboxStatus,
    next_at: i64,
    error: Option<String>,
    http_status: Option<u16>,
    response: Option<String>,
    exchange: Option<HttpExchange>,
    at: i64,
}

impl Outcome {
    fn of(
        entry: &OutboxEntry,
        result: Result<Option<serde_json::Value>, ClientError>,
        backoff: &Backoff,
    ) -> Self {
        let now = now_ms();
        let (status, next_at, error, http_status, response) = match result {
            Ok(response) => (
                OutboxStatus::Delivered,
                now,
                None,
                None,
                response.map(|v| v.to_string()),
            ),
            Err(e) if e.is_permanent() => {
                tracing::warn!(id = entry.id, operation = %entry.operation, code = e.code(), "an outbox entry failed for good");
                (
                    OutboxStatus::Failed,
                    now,
                    Some(e.to_string()),
                    e.status(),
                    None,
                )
            }
            Err(e) => {
                let wait = match e.retry_after() {
                    Some(after) => after.min(longest_retry_after(backoff)),
                    None => retry::backoff(backoff.base, backoff.max, entry.attempts.max(1) as u32),
                };
                let mut text = e.to_string();
                if !e.certainly_not_processed() {
                    text.push_str(" — 8x8 may have applied it; it will be sent again");
                }
                (
                    OutboxStatus::Pending,
                    now + wait.as_millis() as i64,
                    Some(text),
                    e.status(),
                    None,
                )
            }
        };
        Self {
            status,
            next_at,
            error,
            http_status,
            response,
            exchange: None,
            at: now,
        }
    }

    fn is_final(&self) -> bool {
        self.status != OutboxStatus::Pending
    }

    async fn store(&self, outbox: &Outbox, id: i64) -> Result<(), OutboxError> {
        let outcome = (
            self.status,
            self.next_at,
            self.error.clone(),
            self.http_status,
            self.response.clone(),
        );
        outbox
            .record_attempt_on_wire(id, outcome, self.exchange.as_ref(), self.at)
            .await?;
        Ok(())
    }
}
