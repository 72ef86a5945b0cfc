//! The cases' language: a case is a table of steps — what 8x8, the tester or the clock
//! does, then what must have followed — run in order against a fresh [`Harness`].
//!
//! Expectations are exact and incremental: [`Step::Lines`] names every transcript line
//! written since the previous `Lines` check (of the conversation in focus), and
//! [`Step::Calls`] every outbox call added since the previous `Calls` check, so a case
//! also proves that nothing else was written.

use std::{collections::HashMap, time::Duration};

use serde_json::{json, Value};
use switchboard_engine::{Conversation, EngineConfig, NewUser, Phase, QuickReplyChoice, UserInput};
use switchboard_settings::Settings;
use switchboard_types::contact_center::{QueueFigures, ScheduleState};
use switchboard_types::now_ms;

use crate::harness::{eventually, Backend, Harness, PATIENCE};

/// The test bot: short, fixed texts.
pub const FLOW: &str = r#"
greeting:
  reply: Hello, I am the test bot.
  quick_replies:
    - title: Talk to a person
      payload: agent
rules:
  - name: hours
    keywords: [hours]
    reply: We are open 9 to 5.
fallback: Sorry, I did not get that.
handover:
  keywords: [agent]
  reply: Connecting you to an agent.
"#;
pub const GREETING: &str = "Hello, I am the test bot.";
pub const HOURS: &str = "We are open 9 to 5.";
pub const CONNECTING: &str = "Connecting you to an agent.";
/// What the relay itself says (on_event.rs).
pub const BOT_IS_BACK: &str =
    "The agent has left. I'm back to help you; ask for an agent again at any time.";
pub const GOODBYE: &str = "The agent has ended the chat. Thank you for contacting us.";
pub const HANDOVER_NOTE: &str = "Handover to queue q-support: asked for an agent.";

/// The 8x8 conversation an endpoint case talks about, unless a step says otherwise.
pub const GW: &str = "gw-1";

pub enum Step {
    // ---- the world ----
    /// Change the settings (applies from the engine's next job on).
    Settings(fn(&mut Settings)),
    /// How long a "minute" of the inactivity timeout is.
    Minute(Duration),
    /// Let this much time pass (the clock's own steps: queue updates).
    Sleep(Duration),
    /// A second relay's engine joins on the same database (PostgreSQL; on SQLite, where
    /// one relay holds the file alone, nothing happens): the periodic jobs must still
    /// act once across the two.
    SecondRelay,
    /// The id of this relay's webhook in 8x8, for a handback.
    HandbackWebhook(Option<&'static str>),
    /// Look at another 8x8 conversation (and its local conversation) from here on.
    Focus(&'static str),
    /// What 8x8's queue statistics answer from now on (figures, or the error).
    Figures(Result<QueueFigures, &'static str>),
    /// What 8x8's schedule status answers from now on.
    Schedule(Result<ScheduleState, &'static str>),

    // ---- 8x8 ----
    /// 8x8 delivers an event (built by the functions below) for the 8x8 conversation in
    /// focus unless it names its own; waits until the engine has handled it.
    Event(Value),
    /// The same event delivered twice (one event id): the second is a duplicate.
    Twice(Value),
    /// 8x8 answers the pending handover create with this conversation id (the engine's
    /// waiter sees it); waits until the conversation has taken the id.
    CreateAnswered(&'static str),
    /// 8x8 refuses the pending handover create; waits until the engine has reacted.
    CreateRefused(&'static str),

    // ---- the tester (handover mode) ----
    Start,
    Say(&'static str),
    /// The tester's user taps a quick reply: title, payload.
    Tap(&'static str, &'static str),
    Leave,

    // ---- expectations ----
    /// The conversation is in this phase now.
    InPhase(Phase),
    /// The conversation reaches this phase (something the clock does).
    ReachesPhase(Phase),
    /// What the engine wrote as the last delivery's outcome.
    Outcome(&'static str),
    /// The transcript lines written since the last check, each `("lane", text)` or
    /// `("lane/direction", text)`.
    Lines(&'static [(&'static str, &'static str)]),
    /// The outbox calls added since the last check: operation and a JSON the request
    /// contains (objects: these keys; arrays: exactly these items).
    Calls(Vec<(&'static str, Value)>),
    /// Anything else, on a snapshot.
    Check(&'static str, fn(&Snapshot)),
    /// What was written so far counts as checked (after a setup).
    Seen,

    /// A sequence of steps (a setup shared by several cases).
    Steps(Vec<Step>),
}

/// The steps in the order they run, each with its place in the table: `4`, or `2.3` for
/// the third step of the setup in row 2.
fn flatten(steps: Vec<Step>, prefix: &str, into: &mut Vec<(String, Step)>) {
    for (n, step) in steps.into_iter().enumerate() {
        let place = format!("{prefix}{}", n + 1);
        match step {
            Step::Steps(inner) => flatten(inner, &format!("{place}."), into),
            step => into.push((place, step)),
        }
    }
}

impl Step {
    /// How a failure names the step.
    fn label(&self) -> String {
        match self {
            Step::Settings(_) => "Settings".into(),
            Step::Minute(m) => format!("Minute({m:?})"),
            Step::HandbackWebhook(id) => format!("HandbackWebhook({id:?})"),
            Step::Focus(gw) => format!("Focus({gw})"),
            Step::Figures(f) => format!("Figures({f:?})"),
            Step::Sleep(d) => format!("Sleep({d:?})"),
            Step::SecondRelay => "SecondRelay".into(),
            Step::Schedule(st) => format!("Schedule({st:?})"),
            Step::Tap(title, payload) => format!("Tap({title:?}, {payload:?})"),
            Step::Event(e) | Step::Twice(e) => {
                let kind = if matches!(self, Step::Twice(_)) {
                    "Twice"
                } else {
                    "Event"
                };
                format!(
                    "{kind} {} {}",
                    e["eventType"].as_str().unwrap_or("?"),
                    e["data"]
                )
            }
            Step::CreateAnswered(gw) => format!("CreateAnswered({gw})"),
            Step::CreateRefused(why) => format!("CreateRefused({why:?})"),
            Step::Start => "Start".into(),
            Step::Say(text) => format!("Say({text:?})"),
            Step::Leave => "Leave".into(),
            Step::InPhase(p) => format!("InPhase({})", p.as_str()),
            Step::ReachesPhase(p) => format!("ReachesPhase({})", p.as_str()),
            Step::Outcome(o) => format!("Outcome({o:?})"),
            Step::Lines(_) => "Lines".into(),
            Step::Calls(_) => "Calls".into(),
            Step::Check(what, _) => format!("Check({what:?})"),
            Step::Seen => "Seen".into(),
            Step::Steps(_) => "Steps".into(),
        }
    }
}

/// What a [`Step::Check`] looks at.
pub struct Snapshot {
    pub conversation: Option<Conversation>,
    /// The whole transcript, oldest first, as JSON.
    pub transcript: Vec<Value>,
    /// Every outbox entry, oldest first, as JSON.
    pub outbox: Vec<Value>,
}

impl Snapshot {
    pub fn conv(&self) -> &Conversation {
        self.conversation.as_ref().expect("a conversation")
    }
}

// ---- 8x8's events (chat-gateway.md §5) ----

fn event(event_type: &str, data: Value) -> Value {
    json!({ "eventType": event_type, "data": data })
}

/// The same event for another 8x8 conversation than the one in focus.
pub fn on(gateway_id: &str, mut event: Value) -> Value {
    event["conversationId"] = json!(gateway_id);
    event
}

/// With a fixed `timestamp` (when it happened).
pub fn at(timestamp: i64, mut event: Value) -> Value {
    event["timestamp"] = json!(timestamp);
    event
}

/// 8x8 routes a web-chat customer to the bot (§6.6).
pub fn active() -> Value {
    event(
        "CONVERSATION_UPDATE",
        json!({ "state": "active", "channel": "WebChat", "assignment": { "type": "script", "id": "s-1" } }),
    )
}

pub fn update(data: Value) -> Value {
    event("CONVERSATION_UPDATE", data)
}

pub fn idle() -> Value {
    update(json!({ "state": "idle" }))
}

pub fn queued(queue_name: &str) -> Value {
    event(
        "QUEUED",
        json!({ "queueId": "q-support", "queueName": queue_name }),
    )
}

pub fn member(member_type: &str, change: &str, id: &str) -> Value {
    event(
        "MEMBERS_CHANGED",
        json!({ "memberType": member_type, "change": change, "id": id }),
    )
}

pub fn agent_joined(id: &str) -> Value {
    member("agent", "joined", id)
}

pub fn agent_left(id: &str) -> Value {
    member("agent", "left", id)
}

pub fn user_left() -> Value {
    member("user", "left", "customer-1")
}

pub fn transfer() -> Value {
    json!({ "eventType": "TRANSFER" })
}

pub fn message(sender: &str, text: &str, is_echo: bool) -> Value {
    event(
        "MESSAGE",
        json!({ "isEcho": is_echo, "sender": { "id": format!("{sender}-1"), "type": sender }, "text": text }),
    )
}

/// The customer writes (endpoint mode).
pub fn customer(text: &str) -> Value {
    message("user", text, false)
}

pub fn agent_says(text: &str) -> Value {
    message("agent", text, false)
}

// ---- the runner ----

/// The settings a case starts from: the defaults with the test bot.
pub fn base_settings() -> Settings {
    let mut s = Settings::default();
    s.bot.flow = FLOW.into();
    s
}

pub async fn run(case: &str, backend: Backend, table: Vec<Step>) {
    let mut steps = Vec::new();
    flatten(table, "", &mut steps);
    // A case about the clock shortens the minute before the engine's timer starts.
    let config = match steps.first() {
        Some((_, Step::Minute(minute))) => EngineConfig { minute: *minute },
        _ => EngineConfig::default(),
    };
    let Some(h) = Harness::start(case, backend, base_settings(), config).await else {
        return;
    };
    let mut r = Runner {
        h,
        gateway: GW.to_string(),
        local: None,
        lines_seen: HashMap::new(),
        calls_seen: 0,
        last_outcome: None,
    };
    for (place, step) in steps {
        let at = format!("{case}, step {place} ({})", step.label());
        r.step(&at, step).await;
    }
    r.h.finish().await;
}

struct Runner {
    h: Harness,
    /// The 8x8 conversation in focus.
    gateway: String,
    /// Its local conversation, once known.
    local: Option<String>,
    /// Transcript lines already checked, per local conversation.
    lines_seen: HashMap<String, usize>,
    /// Outbox entries already checked.
    calls_seen: usize,
    last_outcome: Option<String>,
}

impl Runner {
    /// The local conversation in focus: a handover's own id, or the one 8x8's id names.
    async fn local(&mut self) -> Option<String> {
        if self.local.is_none() {
            self.local = self.h.by_gateway_id(&self.gateway).await.map(|c| c.id);
        }
        self.local.clone()
    }

    async fn conversation(&mut self, at: &str) -> Conversation {
        let id = self.local().await;
        let conv = match &id {
            Some(id) => self.h.conversation(id).await,
            None => None,
        };
        conv.unwrap_or_else(|| panic!("{at}: no conversation for {}", self.gateway))
    }

    /// The envelope's `conversationId` (the one in focus) and `timestamp` (now), unless
    /// the event has its own.
    fn envelope(&self, mut body: Value) -> Value {
        if body.get("conversationId").is_none() {
            body["conversationId"] = json!(self.gateway);
        }
        if body.get("timestamp").is_none() {
            body["timestamp"] = json!(now_ms());
        }
        body
    }

    async fn deliver(&mut self, at: &str, event_id: &str, body: Value) -> i64 {
        let body = self.envelope(body);
        let recorded = self.h.deliver(event_id, &body).await;
        assert_eq!(recorded.duplicate_of, None, "{at}: a new event id");
        let done = self.h.settled(recorded.id).await;
        assert_eq!(
            done["status"], "processed",
            "{at}: the engine processed {body}: {done}"
        );
        self.last_outcome = done["outcome"].as_str().map(str::to_string);
        recorded.id
    }

    async fn pending_create(&self, at: &str) -> i64 {
        let creates: Vec<i64> = self
            .h
            .outbox_entries()
            .await
            .iter()
            .filter(|e| e["operation"] == "createConversation" && e["status"] == "pending")
            .map(|e| e["id"].as_i64().unwrap())
            .collect();
        match creates[..] {
            [id] => id,
            _ => panic!("{at}: expected one pending create, found {creates:?}"),
        }
    }

    async fn step(&mut self, at: &str, step: Step) {
        let h = &self.h;
        match step {
            Step::Settings(change) => h.change_settings(change),
            Step::Minute(minute) => h.engine.set_config(EngineConfig { minute }),
            Step::HandbackWebhook(id) => {
                *h.connections.handback.lock().unwrap() = id.map(str::to_string)
            }
            Step::Focus(gateway) => {
                self.gateway = gateway.to_string();
                self.local = None;
            }
            Step::Sleep(d) => tokio::time::sleep(d).await,
            Step::SecondRelay => self.h.second_relay().await,
            Step::Figures(answer) => {
                *h.connections.figures.lock().unwrap() = answer.map_err(str::to_string)
            }
            Step::Schedule(answer) => {
                *h.connections.schedule.lock().unwrap() = answer.map_err(str::to_string)
            }
            Step::Tap(title, payload) => {
                let id = self.local().await.expect("a conversation to tap in");
                self.h
                    .engine
                    .input(
                        &id,
                        UserInput::QuickReply {
                            quick_reply: QuickReplyChoice {
                                title: title.into(),
                                payload: payload.into(),
                            },
                        },
                    )
                    .await
                    .unwrap_or_else(|e| panic!("{at}: tap: {e}"));
            }
            Step::Event(body) => {
                let id = h.new_event_id();
                self.deliver(at, &id, body).await;
            }
            Step::Twice(body) => {
                let event_id = h.new_event_id();
                let body = self.envelope(body);
                let first = self.deliver(at, &event_id, body.clone()).await;
                let again = self.h.deliver(&event_id, &body).await;
                assert_eq!(again.duplicate_of, Some(first), "{at}: a retry");
                let again = self.h.delivery(again.id).await;
                assert_eq!(again["status"], "duplicate", "{at}: {again}");
            }
            Step::CreateAnswered(gateway) => {
                let create = self.pending_create(at).await;
                self.h
                    .answer(create, Ok(json!({ "conversationId": gateway })))
                    .await;
                let id = self.local().await.expect("a handover conversation");
                let h = &self.h;
                eventually(
                    &format!("{at}: the conversation to take 8x8's id {gateway}"),
                    PATIENCE,
                    || async {
                        let c = h.conversation(&id).await?;
                        (c.gateway_id.as_deref() == Some(gateway)).then_some(())
                    },
                )
                .await;
                self.gateway = gateway.to_string();
            }
            Step::CreateRefused(why) => {
                let create = self.pending_create(at).await;
                self.h.answer(create, Err(why)).await;
                let id = self.local().await.expect("a handover conversation");
                let h = &self.h;
                eventually(
                    &format!("{at}: the conversation to leave the handover phase"),
                    PATIENCE,
                    || async {
                        let c = h.conversation(&id).await?;
                        (c.phase != Phase::Handover).then_some(())
                    },
                )
                .await;
            }
            Step::Start => {
                let conv = h
                    .engine
                    .start(NewUser {
                        name: Some("Ada Lovelace".into()),
                        email: Some("ada@example.com".into()),
                        ..NewUser::default()
                    })
                    .await
                    .unwrap_or_else(|e| panic!("{at}: start: {e}"));
                self.local = Some(conv.id);
                // No 8x8 conversation until the create is answered.
                self.gateway = String::new();
            }
            Step::Say(text) => {
                let id = self.local().await.expect("a conversation to speak in");
                self.h
                    .engine
                    .input(&id, UserInput::Text { text: text.into() })
                    .await
                    .unwrap_or_else(|e| panic!("{at}: input: {e}"));
            }
            Step::Leave => {
                let id = self.local().await.expect("a conversation to leave");
                self.h
                    .engine
                    .leave(&id)
                    .await
                    .unwrap_or_else(|e| panic!("{at}: leave: {e}"));
            }
            Step::InPhase(phase) => {
                let conv = self.conversation(at).await;
                assert_eq!(conv.phase, phase, "{at}: the phase of {conv:#?}");
            }
            Step::ReachesPhase(phase) => {
                let id = self.local().await.expect("a conversation");
                let h = &self.h;
                eventually(
                    &format!("{at}: phase {}", phase.as_str()),
                    PATIENCE,
                    || async { (h.conversation(&id).await?.phase == phase).then_some(()) },
                )
                .await;
            }
            Step::Outcome(expected) => {
                assert_eq!(
                    self.last_outcome.as_deref(),
                    Some(expected),
                    "{at}: the last delivery's outcome"
                );
            }
            Step::Lines(expected) => {
                let lines = match self.local().await {
                    Some(id) => self.h.transcript(&id).await,
                    None => Vec::new(),
                };
                let key = self.local.clone().unwrap_or_default();
                let seen = self.lines_seen.get(&key).copied().unwrap_or(0);
                // Each line as its expectation is written: with the direction if it names one.
                let new: Vec<String> = lines[seen.min(lines.len())..]
                    .iter()
                    .enumerate()
                    .map(|(n, line)| {
                        let with_direction = expected.get(n).is_some_and(|(l, _)| l.contains('/'));
                        describe_line(line, with_direction)
                    })
                    .collect();
                let want: Vec<String> = expected
                    .iter()
                    .map(|(lane, text)| format!("{lane}: {text}"))
                    .collect();
                assert_eq!(new, want, "{at}: the new transcript lines");
                self.lines_seen.insert(key, lines.len());
            }
            Step::Calls(expected) => {
                let entries = self.h.outbox_entries().await;
                let new = &entries[self.calls_seen.min(entries.len())..];
                let got: Vec<String> = new
                    .iter()
                    .map(|e| {
                        format!(
                            "{} {}",
                            e["operation"].as_str().unwrap_or("?"),
                            e["request"]
                        )
                    })
                    .collect();
                assert_eq!(
                    new.len(),
                    expected.len(),
                    "{at}: the new outbox calls: {got:#?}"
                );
                for ((operation, request), entry) in expected.iter().zip(new) {
                    assert_eq!(entry["operation"], *operation, "{at}: {got:#?}");
                    if let Err(path) = contains(&entry["request"], request, "request") {
                        panic!(
                            "{at}: {operation}'s {path} differs\n  expected {request:#}\n  got {:#}",
                            entry["request"]
                        );
                    }
                }
                self.calls_seen = entries.len();
            }
            Step::Seen => {
                if let Some(id) = self.local().await {
                    let n = self.h.transcript(&id).await.len();
                    self.lines_seen.insert(id, n);
                }
                self.calls_seen = self.h.outbox_entries().await.len();
            }
            Step::Steps(_) => unreachable!("flattened before the run"),
            Step::Check(what, check) => {
                let conversation = match self.local().await {
                    Some(id) => self.h.conversation(&id).await,
                    None => None,
                };
                let transcript = match &conversation {
                    Some(c) => self.h.transcript(&c.id).await,
                    None => Vec::new(),
                };
                let snapshot = Snapshot {
                    conversation,
                    transcript,
                    outbox: self.h.outbox_entries().await,
                };
                let outcome =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&snapshot)));
                if let Err(e) = outcome {
                    let message = e
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    panic!("{at}: {what}: {message}");
                }
            }
        }
    }
}

fn describe_line(line: &Value, with_direction: bool) -> String {
    let lane = line["lane"].as_str().unwrap_or("?");
    let text = line["text"].as_str().unwrap_or("?");
    if with_direction {
        let direction = line["direction"].as_str().unwrap_or("?");
        format!("{lane}/{direction}: {text}")
    } else {
        format!("{lane}: {text}")
    }
}

/// Whether `actual` has everything `expected` has: an object's keys (others may be
/// there too), an array's items exactly (each compared the same way), a value equal.
fn contains(actual: &Value, expected: &Value, path: &str) -> Result<(), String> {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => {
            for (key, want) in e {
                contains(
                    a.get(key).unwrap_or(&Value::Null),
                    want,
                    &format!("{path}.{key}"),
                )?;
            }
            Ok(())
        }
        (Value::Array(a), Value::Array(e)) if a.len() == e.len() => {
            for (n, (a, e)) in a.iter().zip(e).enumerate() {
                contains(a, e, &format!("{path}[{n}]"))?;
            }
            Ok(())
        }
        (a, e) if a == e => Ok(()),
        _ => Err(path.to_string()),
    }
}

// ---- shorthands for expected calls ----

/// A message to 8x8 conversation `gateway_id`.
pub fn send(gateway_id: &str, author_type: &str, text: &str) -> (&'static str, Value) {
    (
        "sendMessage",
        json!({ "conversationId": gateway_id, "message": { "authorType": author_type, "text": text } }),
    )
}

pub fn user_leave(gateway_id: &str) -> (&'static str, Value) {
    ("userLeave", json!({ "conversationId": gateway_id }))
}

pub fn post_agent(gateway_id: &str, webhook: &str) -> (&'static str, Value) {
    (
        "postAgentAssignment",
        json!({ "conversationId": gateway_id, "request": { "type": "webhook", "id": webhook } }),
    )
}

pub fn to_queue(gateway_id: &str) -> (&'static str, Value) {
    (
        "patchAssignment",
        json!({ "conversationId": gateway_id, "assignment": { "type": "queue", "id": "q-support" } }),
    )
}

// ---- setups shared by cases ----

/// Endpoint mode: the customer asked the bot for an agent; the conversation was
/// re-assigned to the queue (not yet queued).
pub fn endpoint_handed_over() -> Step {
    Step::Steps(vec![
        Step::Event(customer("I need an agent")),
        Step::InPhase(Phase::Handover),
        Step::Seen,
    ])
}

/// Endpoint mode: … queued in Support, and agent-7 joined.
pub fn endpoint_with_agent() -> Step {
    Step::Steps(vec![
        endpoint_handed_over(),
        Step::Event(queued("Support")),
        Step::Event(agent_joined("agent-7")),
        Step::InPhase(Phase::Agent),
        Step::Seen,
    ])
}

/// Handover mode: the tester's user asked for an agent and 8x8 created gw-h1.
pub fn handover_created() -> Step {
    Step::Steps(vec![
        Step::Start,
        Step::Say("agent"),
        Step::CreateAnswered("gw-h1"),
        Step::InPhase(Phase::Handover),
        Step::Seen,
    ])
}

/// Handover mode: … queued in Support, and agent-7 joined.
pub fn handover_with_agent() -> Step {
    Step::Steps(vec![
        handover_created(),
        Step::Event(queued("Support")),
        Step::Event(agent_joined("agent-7")),
        Step::InPhase(Phase::Agent),
        Step::Seen,
    ])
}
