//! 8x8's contact center around the Chat Gateway, as far as a handover needs it: per queue
//! the mock agents and their states, the queue's real-time figures and the tenant's
//! schedules (docs/contact-center-emulator.md).
//!
//! The figures are not set by hand: they are computed from the emulator's own offers
//! (an interaction waiting in a queue), so a test that queues three chats sees
//! `queue-size` 3. All waits are whole **seconds** (rounded down for the current wait,
//! rounded to nearest for averages), the unit Cognigy's 8x8 extension compares them in;
//! 8x8 does not document the unit. "Day" figures count since the emulator started.
//!
//! Agents are per queue: the same person in two queues is two entries here, each with
//! its own state. A queue's scripted agent (its `AgentScript`) is one of them, and
//! available unless set otherwise; the others only make the counts realistic and never
//! take an offer (a person takes offers through the control API's accept).

use std::collections::{BTreeMap, HashMap, VecDeque};

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::store::Store;

/// The window of the `thirty-min-*` figures.
const WINDOW_MS: u64 = 30 * 60 * 1000;
/// The service level the `*sla-activity` figures measure: accepted within this many
/// seconds (8x8's threshold is a tenant setting the public sources do not show).
const SLA_SECONDS: u64 = 60;
/// The percentage reported as `sla-target`.
const SLA_TARGET: u64 = 80;

/// An agent's state as a supervisor sets it. While an `available` agent handles a chat
/// it is counted as busy (`agent-count-busy`), as 8x8 counts an agent in a chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AgentState {
    /// Waiting for an interaction (8x8 `WAIT_TRANSACT`, `agent-count-waitTransact`).
    #[default]
    Available,
    /// Busy (`agent-count-busy`); takes no offer.
    Busy,
    /// On break (`agent-count-onBreak`).
    OnBreak,
    /// Working offline (`agent-count-workOffline`).
    WorkingOffline,
    /// Logged out (`agent-count-loggedOut`); not counted as enabled.
    LoggedOut,
    /// Wrap-up after an interaction (8x8 `POST_PROCESS`, `agent-count-postProcess`).
    WrapUp,
}

impl AgentState {
    pub const ALL: [AgentState; 6] = [
        AgentState::Available,
        AgentState::Busy,
        AgentState::OnBreak,
        AgentState::WorkingOffline,
        AgentState::LoggedOut,
        AgentState::WrapUp,
    ];
}

/// A schedule's current state: 8x8 answers `0`, `-1` or `"Choice #n"` (n = 1..6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScheduleState {
    #[default]
    Open,
    Closed,
    Choice(u8),
}

impl ScheduleState {
    /// The value of `schedule-status.status`.
    pub fn status_value(self) -> Value {
        match self {
            ScheduleState::Open => json!(0),
            ScheduleState::Closed => json!(-1),
            ScheduleState::Choice(n) => json!(format!("Choice #{n}")),
        }
    }
}

impl std::fmt::Display for ScheduleState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScheduleState::Open => f.write_str("Open"),
            ScheduleState::Closed => f.write_str("Closed"),
            ScheduleState::Choice(n) => write!(f, "Choice #{n}"),
        }
    }
}

impl std::str::FromStr for ScheduleState {
    type Err = String;

    /// `Open`, `Closed` or `Choice #1` … `Choice #6`, in any letter case, with or
    /// without the `#`.
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim().to_ascii_lowercase();
        match t.as_str() {
            "open" => return Ok(ScheduleState::Open),
            "closed" => return Ok(ScheduleState::Closed),
            _ => {}
        }
        let n = t
            .strip_prefix("choice")
            .map(|r| r.trim_start().trim_start_matches('#').trim())
            .and_then(|r| r.parse::<u8>().ok());
        match n {
            Some(n @ 1..=6) => Ok(ScheduleState::Choice(n)),
            _ => Err(format!(
                "{s:?} is not a schedule state: use Open, Closed or Choice #1 … Choice #6"
            )),
        }
    }
}

impl Serialize for ScheduleState {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ScheduleState {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A mock agent of one queue, in the seed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct QueueAgentSeed {
    pub queue_id: String,
    pub agent_id: String,
    /// Display name; the agent id when absent.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub state: AgentState,
}

/// A schedule in the seed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleSeed {
    pub id: String,
    pub name: String,
    #[serde(default = "utc")]
    pub time_zone: String,
    #[serde(default)]
    pub state: ScheduleState,
}

fn utc() -> String {
    "UTC".into()
}

/// The contact-center part of the seed. Empty unless given (a seed file without it has
/// no schedules, and each queue's scripted agent alone, available).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct ContactCenterSeed {
    pub agents: Vec<QueueAgentSeed>,
    pub schedules: Vec<ScheduleSeed>,
}

impl ContactCenterSeed {
    /// The sandbox: in queue 101 Alex (the scripted agent) available, Jo on break and
    /// Kim logged out; in queue 102 Sam (scripted) available, Lee working offline and
    /// Ana logged out; schedule `101` "Sandbox hours", open.
    pub fn sandbox() -> Self {
        let a = |queue: &str, id: &str, name: &str, state| QueueAgentSeed {
            queue_id: queue.into(),
            agent_id: id.into(),
            name: Some(name.into()),
            state,
        };
        Self {
            agents: vec![
                a("101", "sandbox-agent-alex", "Alex", AgentState::Available),
                a("101", "sandbox-agent-jo", "Jo", AgentState::OnBreak),
                a("101", "sandbox-agent-kim", "Kim", AgentState::LoggedOut),
                a("102", "sandbox-agent-sam", "Sam", AgentState::Available),
                a(
                    "102",
                    "sandbox-agent-lee",
                    "Lee",
                    AgentState::WorkingOffline,
                ),
                a("102", "sandbox-agent-ana", "Ana", AgentState::LoggedOut),
            ],
            schedules: vec![ScheduleSeed {
                id: "101".into(),
                name: "Sandbox hours".into(),
                time_zone: "UTC".into(),
                state: ScheduleState::Open,
            }],
        }
    }
}

#[derive(Debug, Clone)]
pub struct MockAgent {
    pub id: String,
    pub name: String,
    pub state: AgentState,
}

#[derive(Debug, Clone)]
pub struct Schedule {
    pub id: String,
    pub name: String,
    pub time_zone: String,
    pub state: ScheduleState,
}

/// Something that happened to an offer in a queue, kept for the 30-minute window.
#[derive(Debug, Clone, Copy)]
enum Happened {
    Queued,
    Accepted { waited_ms: u64 },
    Abandoned,
}

#[derive(Debug, Default, Clone)]
struct Counters {
    day_queued: u64,
    day_accepted: u64,
    day_abandoned: u64,
    day_wait_ms: u64,
    day_within_sla: u64,
    recent: VecDeque<(u64, Happened)>,
}

impl Counters {
    fn push(&mut self, at: u64, what: Happened) {
        self.recent.push_back((at, what));
        while self
            .recent
            .front()
            .is_some_and(|(t, _)| at.saturating_sub(*t) > WINDOW_MS)
        {
            self.recent.pop_front();
        }
    }
}

/// The contact-center state of one emulator, kept in the [`Store`] (one lock).
#[derive(Debug, Default)]
pub struct ContactCenter {
    /// Queue id → its mock agents, in seed order.
    pub agents: BTreeMap<String, Vec<MockAgent>>,
    pub schedules: Vec<Schedule>,
    counters: HashMap<String, Counters>,
}

impl ContactCenter {
    pub fn from_seed(seed: &ContactCenterSeed) -> Self {
        let mut cc = ContactCenter::default();
        for a in &seed.agents {
            cc.set_agent(&a.queue_id, &a.agent_id, a.state, a.name.clone());
        }
        cc.schedules = seed
            .schedules
            .iter()
            .map(|s| Schedule {
                id: s.id.clone(),
                name: s.name.clone(),
                time_zone: s.time_zone.clone(),
                state: s.state,
            })
            .collect();
        cc
    }

    /// Sets (or adds) an agent of a queue; returns it.
    pub fn set_agent(
        &mut self,
        queue_id: &str,
        agent_id: &str,
        state: AgentState,
        name: Option<String>,
    ) -> MockAgent {
        let list = self.agents.entry(queue_id.to_string()).or_default();
        let i = match list.iter().position(|a| a.id == agent_id) {
            Some(i) => i,
            None => {
                list.push(MockAgent {
                    id: agent_id.into(),
                    name: agent_id.into(),
                    state: AgentState::Available,
                });
                list.len() - 1
            }
        };
        let agent = &mut list[i];
        agent.state = state;
        if let Some(n) = name.filter(|n| !n.trim().is_empty()) {
            agent.name = n;
        }
        agent.clone()
    }

    /// The state set for an agent of a queue; a queue's scripted agent not listed is
    /// available (so a seed or test that only names a script works as before).
    pub fn agent_state(&self, queue_id: &str, agent_id: &str) -> AgentState {
        self.agents
            .get(queue_id)
            .and_then(|l| l.iter().find(|a| a.id == agent_id))
            .map(|a| a.state)
            .unwrap_or(AgentState::Available)
    }

    pub fn queued(&mut self, queue_id: &str, now: u64) {
        let c = self.counters.entry(queue_id.to_string()).or_default();
        c.day_queued += 1;
        c.push(now, Happened::Queued);
    }

    pub fn accepted(&mut self, queue_id: &str, offered_at: u64, now: u64) {
        let waited_ms = now.saturating_sub(offered_at);
        let c = self.counters.entry(queue_id.to_string()).or_default();
        c.day_accepted += 1;
        c.day_wait_ms += waited_ms;
        if waited_ms / 1000 <= SLA_SECONDS {
            c.day_within_sla += 1;
        }
        c.push(now, Happened::Accepted { waited_ms });
    }

    pub fn abandoned(&mut self, queue_id: &str, now: u64) {
        let c = self.counters.entry(queue_id.to_string()).or_default();
        c.day_abandoned += 1;
        c.push(now, Happened::Abandoned);
    }

    pub fn schedule(&self, id: &str) -> Option<&Schedule> {
        self.schedules.iter().find(|s| s.id == id)
    }
}

/// One agent with what 8x8 would report for it now.
#[derive(Debug, Clone)]
pub struct AgentNow {
    pub agent: MockAgent,
    /// Conversations it handles now.
    pub handling: usize,
    /// The queue's scripted agent.
    pub scripted: bool,
}

impl AgentNow {
    /// The `agent-count-*` it counts in.
    pub fn counted_as(&self) -> &'static str {
        match self.agent.state {
            AgentState::Available if self.handling > 0 => "busy",
            AgentState::Available => "waitTransact",
            AgentState::Busy => "busy",
            AgentState::OnBreak => "onBreak",
            AgentState::WorkingOffline => "workOffline",
            AgentState::LoggedOut => "loggedOut",
            AgentState::WrapUp => "postProcess",
        }
    }
}

/// The agents of a queue now: the listed ones, plus its scripted agent if not listed.
pub fn agents_now(store: &Store, queue_id: &str) -> Vec<AgentNow> {
    let script = store
        .queues
        .iter()
        .find(|q| q.id == queue_id)
        .and_then(|q| q.agent.as_ref())
        .map(|a| a.agent_id.clone());
    let mut list: Vec<MockAgent> = store.cc.agents.get(queue_id).cloned().unwrap_or_default();
    if let Some(s) = &script {
        if !list.iter().any(|a| &a.id == s) {
            list.insert(
                0,
                MockAgent {
                    id: s.clone(),
                    name: s.clone(),
                    state: AgentState::Available,
                },
            );
        }
    }
    list.into_iter()
        .map(|agent| {
            let handling = store
                .conversations
                .values()
                .filter(|c| c.agent.as_deref() == Some(agent.id.as_str()))
                .filter(|c| c.last_queue.as_deref() == Some(queue_id))
                .count();
            AgentNow {
                scripted: script.as_deref() == Some(agent.id.as_str()),
                agent,
                handling,
            }
        })
        .collect()
}

fn secs(ms: u64) -> u64 {
    ms / 1000
}

fn avg_secs(total_ms: u64, n: u64) -> u64 {
    (total_ms + n * 500)
        .checked_div(n)
        .map_or(0, |ms| ms / 1000)
}

/// `part` of `whole` in percent; 100 when there is nothing to measure.
fn percent(part: u64, whole: u64) -> u64 {
    (part * 100 + whole / 2).checked_div(whole).unwrap_or(100)
}

/// 8x8's `queue-id`: a number when the id is one, else the string.
fn queue_id_value(id: &str) -> Value {
    id.parse::<u64>()
        .map(Value::from)
        .unwrap_or_else(|_| json!(id))
}

/// The queue object of `GET /cc/v1/stats/rt/queue/{id}` (and of each list item), with
/// every field Cognigy's 8x8 extension reads.
pub fn queue_figures(store: &Store, tenant: &str, queue_id: &str, now: u64) -> Option<Value> {
    let queue = store.queue(tenant, queue_id)?;
    let waiting: Vec<u64> = store
        .offers
        .iter()
        .filter(|o| o.queue_id == queue_id && o.tenant == tenant)
        .map(|o| now.saturating_sub(o.offered_at_ms))
        .collect();
    let longest_now = waiting.iter().copied().max().unwrap_or(0);
    let in_progress = store
        .conversations
        .values()
        .filter(|c| c.tenant == tenant && c.agent.is_some())
        .filter(|c| c.last_queue.as_deref() == Some(queue_id))
        .count();

    let mut counts: BTreeMap<&str, u64> = [
        "waitTransact",
        "busy",
        "workOffline",
        "onBreak",
        "loggedOut",
        "postProcess",
    ]
    .into_iter()
    .map(|k| (k, 0))
    .collect();
    let agents = agents_now(store, queue_id);
    for a in &agents {
        *counts.entry(a.counted_as()).or_default() += 1;
    }
    let enabled = agents
        .iter()
        .filter(|a| a.agent.state != AgentState::LoggedOut)
        .count();

    let empty = Counters::default();
    let c = store.cc.counters.get(queue_id).unwrap_or(&empty);
    let (mut q30, mut acc30, mut ab30, mut wait30, mut longest30, mut sla30) = (0, 0, 0, 0, 0, 0);
    for (at, what) in &c.recent {
        if now.saturating_sub(*at) > WINDOW_MS {
            continue;
        }
        match what {
            Happened::Queued => q30 += 1,
            Happened::Abandoned => ab30 += 1,
            Happened::Accepted { waited_ms } => {
                acc30 += 1;
                wait30 += waited_ms;
                longest30 = longest30.max(*waited_ms);
                if waited_ms / 1000 <= SLA_SECONDS {
                    sla30 += 1;
                }
            }
        }
    }
    let within_now = waiting.iter().filter(|w| secs(**w) <= SLA_SECONDS).count() as u64;
    let sla_now = percent(within_now, waiting.len() as u64);

    let mut m = Map::new();
    m.insert("queue-id".into(), queue_id_value(queue_id));
    m.insert("queue-name".into(), json!(queue.name));
    m.insert("media-type".into(), json!("chat"));
    m.insert("queue-type".into(), json!("inbound"));
    m.insert("queue-size".into(), json!(waiting.len()));
    m.insert("longest-wait-time".into(), json!(secs(longest_now)));
    m.insert("number-in-offered".into(), json!(waiting.len()));
    m.insert("number-in-progress".into(), json!(in_progress));
    for (k, v) in counts {
        m.insert(format!("agent-count-{k}"), json!(v));
    }
    m.insert("assigned-agent-count".into(), json!(agents.len()));
    m.insert("enabled-agent-count".into(), json!(enabled));
    m.insert("day-queued".into(), json!(c.day_queued));
    m.insert("day-accepted".into(), json!(c.day_accepted));
    m.insert("day-abandoned".into(), json!(c.day_abandoned));
    m.insert(
        "day-avg-wait-time".into(),
        json!(avg_secs(c.day_wait_ms, c.day_accepted)),
    );
    m.insert("day-avg-duration".into(), json!(0));
    m.insert(
        "day-sla-activity".into(),
        json!(percent(c.day_within_sla, c.day_accepted)),
    );
    m.insert("sla-activity".into(), json!(sla_now));
    m.insert("sla-target".into(), json!(SLA_TARGET));
    m.insert("thirty-min-queued".into(), json!(q30));
    m.insert("thirty-min-accepted".into(), json!(acc30));
    m.insert("thirty-min-abandoned".into(), json!(ab30));
    m.insert(
        "thirty-min-avg-wait-time".into(),
        json!(avg_secs(wait30, acc30)),
    );
    m.insert(
        "thirty-min-longest-wait-time".into(),
        json!(secs(longest30.max(longest_now))),
    );
    m.insert("thirty-min-avg-duration".into(), json!(0));
    m.insert(
        "thirty-min-sla-activity".into(),
        json!(percent(sla30, acc30)),
    );
    Some(Value::Object(m))
}

/// The schedule object of `GET /cc/v1/schedules`: a Monday–Friday 09:00–17:00 week
/// (day 0 = Sunday). The week is informational: the state is what the control API sets.
pub fn schedule_json(s: &Schedule) -> Value {
    let days: Vec<Value> = (0..7)
        .map(|day| {
            let open = (1..=5).contains(&day);
            json!({
                "day": day,
                "properties": {
                    "status": if open { 0 } else { -1 },
                    "start-time": if open { "09:00" } else { "00:00" },
                    "end-time": if open { "17:00" } else { "00:00" },
                },
            })
        })
        .collect();
    json!({
        "id": queue_id_value(&s.id),
        "name": s.name,
        "time-zone": s.time_zone,
        "week-days": {"week-day": days},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_states_read_as_8x8_writes_them() {
        for (text, state, value) in [
            ("Open", ScheduleState::Open, json!(0)),
            ("closed", ScheduleState::Closed, json!(-1)),
            ("Choice #3", ScheduleState::Choice(3), json!("Choice #3")),
            ("choice 6", ScheduleState::Choice(6), json!("Choice #6")),
        ] {
            let parsed: ScheduleState = text.parse().unwrap();
            assert_eq!(parsed, state);
            assert_eq!(parsed.status_value(), value);
        }
        for bad in ["Choice #7", "Choice #0", "maybe", ""] {
            let err = bad.parse::<ScheduleState>().unwrap_err();
            assert!(err.contains("Choice #1 … Choice #6"), "{err}");
        }
    }

    #[test]
    fn averages_round_and_treat_none_as_zero() {
        assert_eq!(avg_secs(0, 0), 0);
        assert_eq!(avg_secs(2_600, 1), 3);
        assert_eq!(avg_secs(3_000, 2), 2);
        assert_eq!(percent(0, 0), 100);
    }
}
