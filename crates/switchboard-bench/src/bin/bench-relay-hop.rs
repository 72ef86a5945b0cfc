//! Relay hop latency while many handed-over conversations are active (not a test: it
//! prints figures, it asserts none). For each size (100 and 1,000 conversations by
//! default), one message at a time and then every conversation at the same instant:
//!
//! (a) a user's message in → the relay's `POST …/messages` seen by 8x8 (the emulator,
//!     behind a pass-through proxy that notes when each post has arrived);
//! (b) an agent's MESSAGE webhook sent → the transcript line on the relay's event bus;
//! (c) the same webhook → that line received by a client of the admin API's live
//!     channel (`/api/events`, the server-sent events the UI listens to).
//!
//! `cargo run --release -p switchboard-bench --bin bench-relay-hop -- [sizes=100,1000] [samples=500]`
//! (see crates/switchboard-bench/BENCHMARKS.md).

mod benchkit;

use std::{
    collections::HashMap,
    future::Future,
    net::Ipv4Addr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use benchkit::{
    deliveries::{self, TENANT},
    emulator::Emulator,
    noop, proxy, sse,
    table::{ms, Samples, Table},
};
use chat_gateway_client::{
    types::{ChannelRequest, WebhookRequest},
    ChatGatewayClient, Connection,
};
use chat_gateway_sim::{
    control_client::{FaultsPatch, SimControl},
    Seed, SimConfig,
};
use futures_util::{stream, StreamExt};
use switchboard_engine::{NewUser, Phase, UserInput};
use switchboard_relay::{RelayHandle, RelayState};
use switchboard_settings::secrets::Secret;
use switchboard_store::outbox::Backoff;
use switchboard_types::events::{now_ms, RelayEvent};

const QUEUE: &str = "101";
/// Webhooks in flight at once in the burst: 8x8 does not open a connection per event,
/// and a default limit of 1,024 open files must not be what the figure measures.
const BURST_CONNECTIONS: usize = 256;
/// A hang guard, not a timing: a relay that is merely slow still finishes well within it.
const HANG: Duration = Duration::from_secs(120);
/// How long 8x8 takes to answer a call across the internet, for the third burst.
const SLOW_8X8_MS: u64 = 100;

/// A handed-over conversation: the relay's id, 8x8's id and the agent who has it.
struct Active {
    id: String,
    gid: String,
    agent: String,
}

/// When each tracked message was put in, by its (unique) text, per probe; and what
/// each probe measured.
#[derive(Default)]
struct Marks {
    user: HashMap<String, Instant>,
    bus: HashMap<String, Instant>,
    live: HashMap<String, Instant>,
    user_done: Vec<Duration>,
    bus_done: Vec<Duration>,
    live_done: Vec<Duration>,
    /// Events a subscriber missed because it fell behind (their samples never arrive).
    lagged: u64,
}

type Shared = Arc<Mutex<Marks>>;

struct Bench {
    relay: RelayHandle,
    sim: Emulator,
    endpoint_url: String,
    /// A server that answers 204 at once: its round trip, sampled beside each hop,
    /// shows how much of a tail is the machine rather than the relay.
    noop_url: String,
    http: reqwest::Client,
    marks: Shared,
    active: Vec<Active>,
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let sizes: Vec<usize> = args
        .next()
        .unwrap_or_else(|| "100,1000".into())
        .split(',')
        .map(|s| s.parse().expect("sizes: a comma-separated list of numbers"))
        .collect();
    let samples: usize = args
        .next()
        .map_or(500, |s| s.parse().expect("samples: a number"));
    println!(
        "bench-relay-hop: {sizes:?} conversations with an agent, {samples} one-at-a-time samples per size, {} cores",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let dir = std::env::temp_dir().join(format!("bench-relay-hop-{}", std::process::id()));
    let mut bench = Bench::start(dir.clone()).await;
    let mut table = Table::new(
        &[
            "conversations",
            "messages",
            "measure",
            "p50",
            "p99",
            "max",
            "samples",
        ],
        3,
    );
    for &size in &sizes {
        let t = Instant::now();
        bench.grow(size).await;
        println!(
            "{size} conversations handed over and accepted ({:.1} s)",
            t.elapsed().as_secs_f64()
        );
        let [user, bus, live, floor] = bench.one_at_a_time(size, samples).await;
        let alone = "one at a time";
        add_rows(
            &mut table,
            size,
            alone,
            [(A, user), (B, bus), (C, live), (FLOOR, floor)],
            samples,
        );
        let together = format!("all {size} at once");
        let user = bench.users_at_once(size, "together").await;
        let (bus, live) = bench.agents_at_once(size).await;
        add_rows(
            &mut table,
            size,
            &together,
            [(A, user), (B, bus), (C, live)],
            size,
        );
        // 8x8 across the internet answers in tens of milliseconds, not in one.
        bench.api_latency(SLOW_8X8_MS).await;
        let user = bench.users_at_once(size, "slow").await;
        bench.api_latency(0).await;
        let slow = format!("all {size} at once, 8x8 answering in {SLOW_8X8_MS} ms");
        add_rows(&mut table, size, &slow, [(A, user)], size);
    }
    println!();
    table.print();
    println!();
    println!("Targets, one at a time: (a) and (b) p50 < 2 ms and p99 < 10 ms; (c) p50 < 5 ms.");
    bench.relay.shutdown().await;
    bench.sim.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

const A: &str = "(a) user message → POST seen by 8x8";
const B: &str = "(b) agent MESSAGE webhook → event on the bus";
const C: &str = "(c) agent MESSAGE webhook → live UI client (SSE)";
const FLOOR: &str = "noise floor: POST to a no-op server, same moments";

fn add_rows<const N: usize>(
    table: &mut Table,
    size: usize,
    how: &str,
    rows: [(&str, Samples); N],
    expected: usize,
) {
    for (name, s) in rows {
        let count = if s.len() == expected {
            s.len().to_string()
        } else {
            format!("{} ({} lost)", s.len(), expected.saturating_sub(s.len()))
        };
        table.row(vec![
            size.to_string(),
            how.to_string(),
            name.to_string(),
            ms(s.pct(0.50)),
            ms(s.pct(0.99)),
            ms(s.max()),
            count,
        ]);
    }
}

impl Bench {
    /// The emulator (without its mock agents: the benchmark plays the agent) behind the
    /// noting proxy, a relay pointed at the proxy with a key, and the three probes.
    async fn start(dir: std::path::PathBuf) -> Self {
        let mut seed = Seed::sandbox();
        for q in &mut seed.queues {
            q.agent = None;
        }
        let key = seed.api_keys[0].key.clone();
        let sim = Emulator::start(SimConfig::new((Ipv4Addr::LOCALHOST, 0).into(), seed)).await;
        // The proxy is 8x8's side of the wire: on the emulator's threads too.
        let (proxy_url, posted) = sim.run(proxy::start(sim.base_url())).await;

        let relay = benchkit::relay::start(&proxy_url, Some(&key), dir).await;
        relay.state.outbox.set_backoff(Backoff {
            base: Duration::from_millis(20),
            max: Duration::from_millis(200),
        });
        let endpoint_url = relay.endpoint_url().await;

        // What an admin does once in 8x8: the webhook to the Endpoint URL, a channel on
        // the queue, and both in the handover settings.
        let client = ChatGatewayClient::new(Connection {
            base_url: sim.base_url(),
            tenant: Some(TENANT.into()),
            api_key: Secret::new(key),
        });
        let webhook = client
            .create_webhook(&WebhookRequest::new("bench relay", endpoint_url.clone()))
            .await
            .expect("the webhook is created");
        let channel = client
            .create_channel(&ChannelRequest::chat_api("bench", &webhook.id, QUEUE))
            .await
            .expect("the channel is created");
        {
            relay.state.settings.send_modify(|s| {
                let s = std::sync::Arc::make_mut(s);
                s.handover.channel_id = Some(channel.id);
                s.handover.queue_id = Some(QUEUE.into());
            });
        }

        let marks = Shared::default();
        listen_posted(posted, marks.clone());
        listen_bus(&relay.state, marks.clone());
        listen_live(
            sse::subscribe(relay.admin_addr, relay.admin_token()).await,
            marks.clone(),
        );
        Self {
            relay,
            sim,
            endpoint_url,
            noop_url: noop::start().await,
            http: reqwest::Client::new(),
            marks,
            active: Vec::new(),
        }
    }

    /// Adds conversations until `n` are active: each user asks for an agent, the relay
    /// hands over to 8x8, and the agent accepts the offer.
    async fn grow(&mut self, n: usize) {
        let state = self.relay.state.clone();
        let from = self.active.len();
        let ids: Vec<String> = stream::iter(from..n)
            .map(|i| {
                let state = state.clone();
                async move {
                    let user = NewUser {
                        name: Some(format!("User {i}")),
                        ..NewUser::default()
                    };
                    let conv = state.engine.start(user).await.expect("a conversation");
                    state
                        .engine
                        .input(
                            &conv.id,
                            UserInput::Text {
                                text: "agent".into(),
                            },
                        )
                        .await
                        .expect("the handover request");
                    conv.id
                }
            })
            .buffered(16)
            .collect()
            .await;
        for id in ids {
            let gid = until("the handover queued", || async {
                let c = state.engine.store.get(&id).await.unwrap()?;
                (c.phase == Phase::Queued).then_some(c.gateway_id).flatten()
            })
            .await;
            let agent = self.accept(&gid).await;
            self.active.push(Active { id, gid, agent });
        }
        for a in &self.active[from..] {
            until("the agent joined", || async {
                let c = state.engine.store.get(&a.id).await.unwrap()?;
                (c.phase == Phase::Agent).then_some(())
            })
            .await;
        }
    }

    /// `samples` messages each way, one at a time, spread over the first `size`
    /// conversations while all of them are active.
    async fn one_at_a_time(&self, size: usize, samples: usize) -> [Samples; 4] {
        let before = self.counts();
        let mut floor = Samples::default();
        for k in 0..samples {
            let a = &self.active[k % size];
            let t = Instant::now();
            let answered = self.http.post(&self.noop_url).send().await;
            floor.0.push(t.elapsed());
            assert!(
                answered.is_ok_and(|r| r.status() == 204),
                "the no-op server answers"
            );

            let text = format!("user {size} {k}");
            self.marks
                .lock()
                .unwrap()
                .user
                .insert(text.clone(), Instant::now());
            self.relay
                .state
                .engine
                .input(&a.id, UserInput::Text { text })
                .await
                .expect("the user's message is taken");
            self.wait(|m| m.user_done.len() > before.0 + k).await;
            // A quiet gap, so 8x8's echo of that post is not in the next sample.
            tokio::time::sleep(Duration::from_millis(5)).await;

            let text = format!("agent {size} {k}");
            let now = now_ms() as u64;
            let body = deliveries::agent_message_body(&a.gid, &a.agent, &text, now);
            let d = deliveries::sign(&self.sim.keyring(), body, &format!("hop-{now}-{k}"), now);
            self.start_agent(&text);
            let status = deliveries::send(&self.http, &self.endpoint_url, &d).await;
            assert_eq!(status, Some(204), "the relay takes the agent's message");
            self.wait(|m| m.bus_done.len() > before.1 + k && m.live_done.len() > before.2 + k)
                .await;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let [user, bus, live] = self.since(before);
        [user, bus, live, floor]
    }

    /// Every one of the first `size` users speaks at the same instant, then every agent.
    /// Every one of the first `size` users speaks at the same instant.
    async fn users_at_once(&self, size: usize, tag: &str) -> Samples {
        let before = self.counts();
        let state = &self.relay.state;
        let users: Vec<_> = self.active[..size]
            .iter()
            .map(|a| {
                let (state, marks, id) = (state.clone(), self.marks.clone(), a.id.clone());
                let text = format!("user {size} {tag} {}", a.id);
                tokio::spawn(async move {
                    marks
                        .lock()
                        .unwrap()
                        .user
                        .insert(text.clone(), Instant::now());
                    state
                        .engine
                        .input(&id, UserInput::Text { text })
                        .await
                        .expect("the user's message is taken");
                })
            })
            .collect();
        for u in users {
            u.await.unwrap();
        }
        self.wait(|m| m.user_done.len() >= before.0 + size).await;
        // 8x8's echoes of those posts come back meanwhile; let them pass first.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let [user, _, _] = self.since(before);
        user
    }

    /// Every one of the first `size` agents answers at the same instant.
    async fn agents_at_once(&self, size: usize) -> (Samples, Samples) {
        let before = self.counts();
        // Signed before the clock starts: signing is 8x8's work.
        let keyring = self.sim.keyring();
        let active = &self.active[..size];
        let signed = deliveries::sign_all(&keyring, size, |i, now| {
            let text = format!("agent {size} together {i}");
            deliveries::agent_message_body(&active[i].gid, &active[i].agent, &text, now)
        });
        let slots = Arc::new(tokio::sync::Semaphore::new(BURST_CONNECTIONS));
        let sends: Vec<_> = signed
            .into_iter()
            .enumerate()
            .map(|(i, d)| {
                let (http, url, slots, marks) = (
                    self.http.clone(),
                    self.endpoint_url.clone(),
                    slots.clone(),
                    self.marks.clone(),
                );
                tokio::spawn(async move {
                    let _slot = slots.acquire().await.unwrap();
                    let text = format!("agent {size} together {i}");
                    start_agent(&marks, &text);
                    deliveries::send(&http, &url, &d).await
                })
            })
            .collect();
        for s in sends {
            assert_eq!(
                s.await.unwrap(),
                Some(204),
                "the relay takes the agent's message"
            );
        }
        self.wait(|m| m.bus_done.len() >= before.1 + size && m.live_done.len() >= before.2 + size)
            .await;
        let [_, bus, live] = self.since(before);
        (bus, live)
    }

    /// The emulator's control API, on the benchmark's own HTTP client.
    fn control(&self) -> SimControl {
        SimControl::with_client(self.sim.base_url(), self.http.clone())
    }

    /// Makes the emulator wait this long before it handles each API call.
    async fn api_latency(&self, ms: u64) {
        self.control()
            .patch_faults(&FaultsPatch {
                api_latency_ms: Some(ms),
                ..FaultsPatch::default()
            })
            .await
            .expect("the emulator takes the latency fault");
    }

    /// The agent accepts the offer, through the emulator's control API (so that what
    /// it sets off runs on the emulator's threads); returns the agent's id.
    async fn accept(&self, gid: &str) -> String {
        self.control()
            .agent_accept(gid, None)
            .await
            .expect("the agent accepts the offer")
            .agent_id
    }

    fn start_agent(&self, text: &str) {
        start_agent(&self.marks, text);
    }

    fn counts(&self) -> (usize, usize, usize) {
        let m = self.marks.lock().unwrap();
        (m.user_done.len(), m.bus_done.len(), m.live_done.len())
    }

    fn since(&self, before: (usize, usize, usize)) -> [Samples; 3] {
        let mut m = self.marks.lock().unwrap();
        // Samples lost to a lagging subscriber never arrive: forget their start marks.
        m.user.clear();
        m.bus.clear();
        m.live.clear();
        [
            Samples(m.user_done[before.0..].to_vec()),
            Samples(m.bus_done[before.1..].to_vec()),
            Samples(m.live_done[before.2..].to_vec()),
        ]
    }

    /// Until `done`, or until a lagging subscriber has lost samples and nothing more
    /// arrived for two seconds; the hang guard ends the run if the relay stalls.
    async fn wait(&self, done: impl Fn(&Marks) -> bool) {
        let started = Instant::now();
        let mut last = (self.counts(), Instant::now());
        loop {
            {
                let m = self.marks.lock().unwrap();
                if done(&m) {
                    return;
                }
                if m.lagged > 0 && last.1.elapsed() > Duration::from_secs(2) {
                    return;
                }
            }
            let now = self.counts();
            if now != last.0 {
                last = (now, Instant::now());
            }
            assert!(
                started.elapsed() < HANG,
                "the relay did not keep up within {HANG:?} (measured so far: {now:?})"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

fn start_agent(marks: &Shared, text: &str) {
    let now = Instant::now();
    let mut m = marks.lock().unwrap();
    m.bus.insert(text.to_string(), now);
    m.live.insert(text.to_string(), now);
}

/// (a): the proxy saw the relay's post of a tracked user message.
fn listen_posted(mut posted: tokio::sync::mpsc::UnboundedReceiver<proxy::Posted>, marks: Shared) {
    tokio::spawn(async move {
        while let Some(p) = posted.recv().await {
            let mut m = marks.lock().unwrap();
            if let Some(t0) = m.user.remove(&p.text) {
                m.user_done.push(p.at - t0);
            }
        }
    });
}

/// The text of a transcript line in the agent's lane.
fn agent_text(entry: &serde_json::Value) -> Option<&str> {
    (entry["lane"] == "agent")
        .then(|| entry["text"].as_str())
        .flatten()
}

/// (b): a subscriber of the relay's bus, in the relay's process.
fn listen_bus(state: &Arc<RelayState>, marks: Shared) {
    let mut rx = state.bus.subscribe();
    tokio::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(env) => {
                    let at = Instant::now();
                    if let RelayEvent::TranscriptEntry { entry } = &env.event {
                        if let Some(text) = agent_text(entry) {
                            let mut m = marks.lock().unwrap();
                            if let Some(t0) = m.bus.remove(text) {
                                m.bus_done.push(at - t0);
                            }
                        }
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    marks.lock().unwrap().lagged += n;
                }
                Err(_) => return,
            }
        }
    });
}

/// (c): the live channel's client.
fn listen_live(mut live: tokio::sync::mpsc::UnboundedReceiver<sse::Live>, marks: Shared) {
    tokio::spawn(async move {
        while let Some(item) = live.recv().await {
            let mut m = marks.lock().unwrap();
            match item {
                sse::Live::Event(v, at) => {
                    if let Some(text) = agent_text(&v["entry"]) {
                        if let Some(t0) = m.live.remove(text) {
                            m.live_done.push(at - t0);
                        }
                    }
                }
                sse::Live::Lagged(n) => m.lagged += n,
            }
        }
    });
}

/// Polls `check` until it gives a value; the hang guard ends the run if it never does.
async fn until<T, F: Future<Output = Option<T>>>(what: &str, check: impl Fn() -> F) -> T {
    let started = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(started.elapsed() < HANG, "{what}: not within {HANG:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
