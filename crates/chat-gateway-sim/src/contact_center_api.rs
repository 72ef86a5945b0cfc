//! 8x8's contact-center routes beside the Chat Gateway, at the paths Cognigy's 8x8
//! extension calls on `https://api.8x8.com` (docs/contact-center-emulator.md):
//! queue real-time statistics and schedules. Same auth (`x-api-key`, `X-8x8-Tenant`) and
//! error bodies as the Chat Gateway routes; their own faults (`stats…`, `schedule…` in
//! [`crate::Faults`]) make them slow or failing so the relay's fallbacks can be tested.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::auth::authorize;
use crate::clock::now_ms;
use crate::contact_center::{queue_figures, schedule_json};
use crate::errors::{ApiError, ErrorStyle};
use crate::faults::CcRoute;
use crate::state::Sim;

pub fn router() -> Router<Arc<Sim>> {
    Router::new()
        .route("/cc/v1/stats/rt/queues", get(queues))
        .route("/cc/v1/stats/rt/queue/{queueId}", get(queue))
        .route("/cc/v1/schedules", get(schedules))
        .route("/cc/v1/schedules/{scheduleId}/status", get(schedule_status))
}

/// Latency and an injected failure for `route`, then the caller's tenant.
async fn enter(sim: &Sim, headers: &HeaderMap, route: CcRoute) -> Result<String, Response> {
    let (latency, fault) = {
        let mut f = sim.faults.lock().unwrap_or_else(|e| e.into_inner());
        (f.cc_latency_ms(route), f.take_cc(route))
    };
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let caller = authorize(&sim.seed, headers).map_err(|e| e.render(ErrorStyle::Generic, ""))?;
    if let Some(e) = fault {
        return Err(e.render(ErrorStyle::Generic, &caller.tenant));
    }
    Ok(caller.tenant)
}

fn ok(body: Value) -> Response {
    (StatusCode::OK, Json(body)).into_response()
}

async fn queues(State(sim): State<Arc<Sim>>, headers: HeaderMap) -> Response {
    let tenant = match enter(&sim, &headers, CcRoute::Stats).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let store = sim.lock();
    let now = now_ms();
    let list: Vec<Value> = store
        .queues
        .iter()
        .filter(|q| q.tenant.as_deref().is_none_or(|t| t == tenant))
        .filter_map(|q| queue_figures(&store, &tenant, &q.id, now))
        .collect();
    ok(json!({ "queue": list }))
}

async fn queue(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let tenant = match enter(&sim, &headers, CcRoute::Stats).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let store = sim.lock();
    match queue_figures(&store, &tenant, &id, now_ms()) {
        Some(q) => ok(json!({ "queue": q })),
        None => ApiError::not_found("Queue", id).render(ErrorStyle::Generic, &tenant),
    }
}

async fn schedules(State(sim): State<Arc<Sim>>, headers: HeaderMap) -> Response {
    if let Err(r) = enter(&sim, &headers, CcRoute::Schedules).await {
        return r;
    }
    let store = sim.lock();
    let list: Vec<Value> = store.cc.schedules.iter().map(schedule_json).collect();
    ok(json!({ "schedules": { "schedule": list } }))
}

async fn schedule_status(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let tenant = match enter(&sim, &headers, CcRoute::Schedules).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let store = sim.lock();
    match store.cc.schedule(&id) {
        Some(s) => ok(json!({ "schedule-status": { "status": s.state.status_value() } })),
        None => ApiError::not_found("Schedule", id).render(ErrorStyle::Generic, &tenant),
    }
}
