//! The control API of the contact-center state (`/sim/contact-center/...`): read and set
//! the mock agents' states per queue and the schedules' states, which drive what
//! `/cc/v1/stats/rt/...` and `/cc/v1/schedules...` answer (contact_center.rs). Not part
//! of 8x8's contract.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::contact_center::{agents_now, AgentNow, AgentState, Schedule, ScheduleState};
use crate::control::ControlError;
use crate::state::Sim;
use crate::store::Store;

pub fn router() -> Router<Arc<Sim>> {
    Router::new()
        .route("/sim/contact-center", get(overview))
        .route(
            "/sim/contact-center/queues/{queueId}/agents",
            get(queue_agents),
        )
        .route(
            "/sim/contact-center/queues/{queueId}/agents/{agentId}",
            axum::routing::put(set_agent),
        )
        .route("/sim/contact-center/schedules", get(schedules))
        .route(
            "/sim/contact-center/schedules/{scheduleId}",
            get(schedule).put(set_schedule),
        )
}

/// One mock agent of a queue.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AgentView {
    pub agent_id: String,
    pub name: String,
    /// The state set for it.
    pub state: AgentState,
    /// The queue's scripted agent (the one that takes offers by itself).
    pub scripted: bool,
    /// Conversations of this queue it handles now.
    pub handling: u32,
    /// The `agent-count-*` field it is counted in now (`waitTransact`, `busy`, …): an
    /// available agent handling a chat counts as busy.
    pub counted_as: String,
}

impl From<AgentNow> for AgentView {
    fn from(a: AgentNow) -> Self {
        Self {
            counted_as: a.counted_as().into(),
            agent_id: a.agent.id,
            name: a.agent.name,
            state: a.agent.state,
            scripted: a.scripted,
            handling: a.handling as u32,
        }
    }
}

/// A queue's agents (`GET /sim/contact-center/queues/{queueId}/agents`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct QueueAgents {
    pub queue_id: String,
    pub queue_name: String,
    pub agents: Vec<AgentView>,
}

/// A schedule and its state.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleView {
    pub id: String,
    pub name: String,
    pub time_zone: String,
    /// `Open`, `Closed` or `Choice #1` … `Choice #6`.
    pub state: ScheduleState,
}

impl From<&Schedule> for ScheduleView {
    fn from(s: &Schedule) -> Self {
        Self {
            id: s.id.clone(),
            name: s.name.clone(),
            time_zone: s.time_zone.clone(),
            state: s.state,
        }
    }
}

/// Everything at once (`GET /sim/contact-center`): what the sandbox console shows.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ContactCenterView {
    pub queues: Vec<QueueAgents>,
    pub schedules: Vec<ScheduleView>,
}

/// The body of `GET /sim/contact-center/schedules`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Schedules {
    pub schedules: Vec<ScheduleView>,
}

/// `PUT /sim/contact-center/queues/{queueId}/agents/{agentId}`: an unknown agent is
/// added to the queue (named `name`, or its id).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AgentStateBody {
    pub state: AgentState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// `PUT /sim/contact-center/schedules/{scheduleId}`: a `name` adds the schedule when it
/// does not exist (without one an unknown id is 404, so a typo does not add one).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleStateBody {
    pub state: ScheduleState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

/// A JSON body, or a 400 that says what is wrong with it (axum's own rejection is a
/// plain-text 422 the callers cannot show).
fn body<T: DeserializeOwned>(bytes: &Bytes, example: &str) -> Result<T, ControlError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ControlError::BadRequest(format!("the body is not valid ({e}); send e.g. {example}"))
    })
}

fn queue_view(store: &Store, queue_id: &str) -> Result<QueueAgents, ControlError> {
    let q = store
        .queues
        .iter()
        .find(|q| q.id == queue_id)
        .ok_or_else(|| ControlError::NotFound(format!("queue {queue_id} not found")))?;
    Ok(QueueAgents {
        queue_id: q.id.clone(),
        queue_name: q.name.clone(),
        agents: agents_now(store, queue_id)
            .into_iter()
            .map(AgentView::from)
            .collect(),
    })
}

async fn overview(State(sim): State<Arc<Sim>>) -> Result<Json<ContactCenterView>, ControlError> {
    let store = sim.lock();
    let queues = store
        .queues
        .iter()
        .map(|q| queue_view(&store, &q.id))
        .collect::<Result<_, _>>()?;
    Ok(Json(ContactCenterView {
        queues,
        schedules: store.cc.schedules.iter().map(ScheduleView::from).collect(),
    }))
}

async fn queue_agents(
    State(sim): State<Arc<Sim>>,
    Path(queue_id): Path<String>,
) -> Result<Json<QueueAgents>, ControlError> {
    Ok(Json(queue_view(&sim.lock(), &queue_id)?))
}

/// Sets an agent's state. Setting the queue's scripted agent available hands it the
/// offers that waited meanwhile, oldest first, as new ones would be.
async fn set_agent(
    State(sim): State<Arc<Sim>>,
    Path((queue_id, agent_id)): Path<(String, String)>,
    bytes: Bytes,
) -> Result<Json<AgentView>, ControlError> {
    let b: AgentStateBody = body(&bytes, r#"{"state": "onBreak"}"#)?;
    let mut store = sim.lock();
    let script = store
        .queues
        .iter()
        .find(|q| q.id == queue_id)
        .ok_or_else(|| ControlError::NotFound(format!("queue {queue_id} not found")))?
        .agent
        .clone();
    store.cc.set_agent(&queue_id, &agent_id, b.state, b.name);
    let view = agents_now(&store, &queue_id)
        .into_iter()
        .find(|a| a.agent.id == agent_id)
        .map(AgentView::from)
        .ok_or_else(|| ControlError::NotFound(format!("agent {agent_id} not found")))?;
    let script = script.filter(|s| s.agent_id == agent_id && b.state == AgentState::Available);
    if let Some(script) = script {
        let mut waiting: Vec<(u64, String, u64)> = store
            .offers
            .iter()
            .filter(|o| o.queue_id == queue_id)
            .filter_map(|o| {
                let c = store.conversations.get(&o.conversation_id)?;
                Some((o.offered_at_ms, c.id.clone(), c.epoch))
            })
            .collect();
        waiting.sort();
        drop(store);
        for (_, conv, epoch) in waiting {
            let script = script.clone();
            sim.after(script.accept_after_ms, move |sim| {
                let _ = sim.accept(&conv, None, Some((epoch, script)));
            });
        }
    }
    Ok(Json(view))
}

async fn schedules(State(sim): State<Arc<Sim>>) -> Json<Schedules> {
    Json(Schedules {
        schedules: sim
            .lock()
            .cc
            .schedules
            .iter()
            .map(ScheduleView::from)
            .collect(),
    })
}

async fn schedule(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
) -> Result<Json<ScheduleView>, ControlError> {
    sim.lock()
        .cc
        .schedule(&id)
        .map(|s| Json(ScheduleView::from(s)))
        .ok_or_else(|| ControlError::NotFound(format!("schedule {id} not found")))
}

async fn set_schedule(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Json<ScheduleView>, ControlError> {
    let b: ScheduleStateBody = body(&bytes, r#"{"state": "Closed"}"#)?;
    let mut store = sim.lock();
    let schedules = &mut store.cc.schedules;
    let i = match schedules.iter().position(|s| s.id == id) {
        Some(i) => i,
        None => {
            let Some(name) = b.name.clone().filter(|n| !n.trim().is_empty()) else {
                return Err(ControlError::NotFound(format!(
                    "schedule {id} not found (send a name to add it)"
                )));
            };
            schedules.push(Schedule {
                id: id.clone(),
                name,
                time_zone: "UTC".into(),
                state: b.state,
            });
            schedules.len() - 1
        }
    };
    let s = &mut schedules[i];
    s.state = b.state;
    if let Some(n) = b.name.filter(|n| !n.trim().is_empty()) {
        s.name = n;
    }
    if let Some(tz) = b.time_zone.filter(|t| !t.trim().is_empty()) {
        s.time_zone = tz;
    }
    Ok(Json(ScheduleView::from(&*s)))
}
