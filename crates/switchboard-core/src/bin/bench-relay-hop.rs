//! Relay hop latency with many conversations at once: how long a user's message takes
//! from the relay's input to 8x8 having accepted the POST, and an agent's MESSAGE from
//! 8x8's control API to the event the live UI gets. A benchmark: it prints figures and
//! asserts nothing. `cargo run --release -p switchboard-core --bin bench-relay-hop -- [conversations] [rounds]`

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use serde_json::{json, Value};
use switchboard_core::{
    engine::{Engine, NewUser, Phase, UserInput},
    events::RelayEvent,
    outbox::Backoff,
    relay::RelayState,
    RelayConfig,
};

#[tokio::main]
async fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let conversations = args.first().copied().unwrap_or(100);
    let rounds = args.get(1).copied().unwrap_or(5);
    let dir = tempfile_dir();
    let relay = switchboard_core::start(RelayConfig::for_tests(dir.clone()))
        .await
        .expect("relay starts");
    let state = relay.state.clone();
    state.outbox.set_backoff(Backoff {
        base: Duration::from_millis(20),
        max: Duration::from_millis(200),
    });
    let sim = state.sandbox.as_ref().expect("sandbox").base_url.clone();
    let http = reqwest::Client::new();
    // The benchmark plays the agent; the seeded mock agent would answer too.
    http.put(format!("{sim}/sim/queues/101/agent"))
        .json(&Value::Null)
        .send()
        .await
        .unwrap();

    println!("bench-relay-hop: {conversations} conversations with an agent, {rounds} rounds each way, {} cores",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    let ids = handed_over(&state, &http, &sim, conversations).await;

    // One message at a time across the active conversations: the hop itself.
    let (user_hop, agent_hop) = measure(&state, &http, &sim, &ids, rounds, false).await;
    println!("one message at a time, {} conversations active:", ids.len());
    report("  user message → 8x8 accepted the POST", user_hop);
    report("  agent MESSAGE → live event on the bus", agent_hop);
    // Every conversation at the same instant: the hop plus queueing behind the others.
    let (user_hop, agent_hop) = measure(&state, &http, &sim, &ids, rounds, true).await;
    println!("all {} conversations at the same instant:", ids.len());
    report("  user message → 8x8 accepted the POST", user_hop);
    report("  agent MESSAGE → live event on the bus", agent_hop);
    relay.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("bench-relay-hop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Starts the conversations, hands each over and lets an agent accept it.
async fn handed_over(
    state: &Arc<RelayState>,
    http: &reqwest::Client,
    sim: &str,
    n: usize,
) -> Vec<(String, String)> {
    let mut ids = Vec::new();
    for i in 0..n {
        let conv = Engine::start(
            state,
            NewUser {
                name: Some(format!("User {i}")),
                ..NewUser::default()
            },
        )
        .await
        .unwrap();
        Engine::input(
            state,
            &conv.id,
            UserInput::Text {
                text: "agent".into(),
            },
        )
        .await
        .unwrap();
        ids.push(conv.id);
    }
    let mut pairs = Vec::new();
    for id in ids {
        let gid = loop {
            let c = state.engine.store.get(&id).await.unwrap().unwrap();
            if let (Some(gid), Phase::Queued) = (c.gateway_id.clone(), c.phase) {
                break gid;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        http.post(format!("{sim}/sim/conversations/{gid}/agent/accept"))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        pairs.push((id, gid));
    }
    for (id, _) in &pairs {
        while state.engine.store.get(id).await.unwrap().unwrap().phase != Phase::Agent {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    pairs
}

#[derive(Default)]
struct Marks {
    /// (conversation, text) → when the message was put in.
    started: HashMap<(String, String), Instant>,
    /// outbox id → (conversation, text) of the user line it carries.
    outbox: HashMap<i64, (String, String)>,
    /// outbox id → when it was delivered, for deliveries reported before their line.
    delivered: HashMap<i64, Instant>,
    user_done: Vec<Duration>,
    agent_done: Vec<Duration>,
    /// Bus events this benchmark missed because it fell behind (their samples are lost).
    lost: usize,
}

async fn measure(
    state: &Arc<RelayState>,
    http: &reqwest::Client,
    sim: &str,
    ids: &[(String, String)],
    rounds: usize,
    burst: bool,
) -> (Vec<Duration>, Vec<Duration>) {
    let marks = Arc::new(Mutex::new(Marks::default()));
    let mut rx = state.bus.subscribe();
    let m = marks.clone();
    let listener = tokio::spawn(async move {
        loop {
            let env = match rx.recv().await {
                Ok(env) => env,
                // Fell behind a burst: those samples are lost; say so and go on.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    m.lock().unwrap().lost += n as usize;
                    continue;
                }
                Err(_) => break,
            };
            let now = Instant::now();
            let mut m = m.lock().unwrap();
            match env.event {
                RelayEvent::TranscriptEntry { entry } => {
                    let key = (
                        entry["conversationId"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string(),
                        entry["text"].as_str().unwrap_or_default().to_string(),
                    );
                    match entry["lane"].as_str() {
                        Some("user") => {
                            if let Some(id) = entry["payload"]["outboxId"].as_i64() {
                                // The POST may be delivered before its line is published.
                                match m.delivered.remove(&id) {
                                    Some(at) => {
                                        if let Some(t0) = m.started.remove(&key) {
                                            m.user_done.push(at - t0);
                                        }
                                    }
                                    None => {
                                        m.outbox.insert(id, key);
                                    }
                                }
                            }
                        }
                        Some("agent") => {
                            if let Some(t0) = m.started.remove(&key) {
                                m.agent_done.push(now - t0);
                            }
                        }
                        _ => {}
                    }
                }
                RelayEvent::OutboxUpdated { id, status, .. } if status == "delivered" => {
                    match m.outbox.remove(&id) {
                        Some(key) => {
                            if let Some(t0) = m.started.remove(&key) {
                                m.user_done.push(now - t0);
                            }
                        }
                        None => {
                            m.delivered.insert(id, now);
                        }
                    }
                }
                _ => {}
            }
        }
    });
    for round in 0..rounds {
        let tag = if burst { "together" } else { "alone" };
        // The users speak: all at once, or one after another.
        let mut tasks = Vec::new();
        for (id, _) in ids {
            let (state, mine, id) = (state.clone(), marks.clone(), id.clone());
            let text = format!("user round {round} {tag}");
            let want = marks.lock().unwrap().user_done.len() + 1;
            let task = tokio::spawn(async move {
                mine.lock()
                    .unwrap()
                    .started
                    .insert((id.clone(), text.clone()), Instant::now());
                Engine::input(&state, &id, UserInput::Text { text })
                    .await
                    .unwrap();
            });
            if burst {
                tasks.push(task);
            } else {
                task.await.unwrap();
                wait_until(&marks, |m| m.user_done.len() >= want).await;
            }
        }
        for t in tasks {
            t.await.unwrap();
        }
        wait_until(&marks, |m| m.user_done.len() >= (round + 1) * ids.len()).await;
        // The agents answer: all at once, or one after another.
        let mut tasks = Vec::new();
        for (id, gid) in ids {
            let (http, mine, id) = (http.clone(), marks.clone(), id.clone());
            let url = format!("{sim}/sim/conversations/{gid}/agent/say");
            let text = format!("agent round {round} {tag}");
            let want = marks.lock().unwrap().agent_done.len() + 1;
            let task = tokio::spawn(async move {
                mine.lock()
                    .unwrap()
                    .started
                    .insert((id, text.clone()), Instant::now());
                http.post(url)
                    .json(&json!({ "text": text }))
                    .send()
                    .await
                    .unwrap();
            });
            if burst {
                tasks.push(task);
            } else {
                task.await.unwrap();
                wait_until(&marks, |m| m.agent_done.len() >= want).await;
            }
        }
        for t in tasks {
            t.await.unwrap();
        }
        wait_until(&marks, |m| m.agent_done.len() >= (round + 1) * ids.len()).await;
    }
    listener.abort();
    let m = marks.lock().unwrap();
    if m.lost > 0 {
        println!(
            "  (this subscriber fell behind and missed {} bus events; their samples are left out)",
            m.lost
        );
    }
    (m.user_done.clone(), m.agent_done.clone())
}

async fn wait_until(marks: &Arc<Mutex<Marks>>, done: impl Fn(&Marks) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        {
            let m = marks.lock().unwrap();
            if done(&m) {
                return;
            }
            if m.lost > 0 && Instant::now() + Duration::from_secs(55) > deadline {
                // Samples lost to a lagging subscriber never arrive; measure what did.
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the relay did not keep up within 60 s ({} user and {} agent hops measured, {} waiting)",
                m.user_done.len(),
                m.agent_done.len(),
                m.started.len()
            );
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn report(what: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let pick = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    println!(
        "{what:<42} p50 {:>8.3} ms   p99 {:>8.3} ms   max {:>8.3} ms   ({} samples)",
        pick(0.50).as_secs_f64() * 1000.0,
        pick(0.99).as_secs_f64() * 1000.0,
        samples.last().unwrap().as_secs_f64() * 1000.0,
        samples.len()
    );
}
