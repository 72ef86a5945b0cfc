//! The relay reading queue figures and schedules from the emulator (docs/contact-center.md):
//! the figures follow the emulator's mock agents and schedules as set through its control
//! API, a second read within seconds is answered from the relay's cache (counted in the
//! emulator's request log), and the emulator's faults come back as words.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chat_gateway_sim::control_client::{
    AgentState, FaultsPatch, ScheduleState as SimSchedule, ScheduleStateBody,
};
use switchboard_engine::Connections;
use switchboard_relay::connections::RelayConnections;
use switchboard_types::contact_center::ScheduleState;

use crate::support::*;

struct Setup {
    sim: chat_gateway_sim::SimHandle,
    relay: switchboard_relay::RelayHandle,
    connections: RelayConnections,
    _dir: tempfile::TempDir,
}

impl Setup {
    async fn start() -> Setup {
        let sim = start_sim().await;
        let dir = tempfile::tempdir().unwrap();
        let relay = start_relay(dir.path(), &sim.base_url()).await;
        let connections = RelayConnections::new(Arc::downgrade(&relay.state));
        Setup {
            sim,
            relay,
            connections,
            _dir: dir,
        }
    }

    /// How many times the emulator was asked `GET {path}`.
    fn asked(&self, path: &str) -> usize {
        let wanted = format!("GET {path}");
        self.sim
            .log()
            .iter()
            .filter(|r| r.direction == "inbound" && r.record_type == wanted)
            .count()
    }

    async fn admin(&self, path: &str) -> (u16, serde_json::Value) {
        let r = reqwest::Client::new()
            .get(format!("http://{}/api{path}", self.relay.admin_addr))
            .bearer_auth(self.relay.admin_token())
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    async fn shutdown(self) {
        self.relay.shutdown().await;
        self.sim.shutdown().await;
    }
}

#[tokio::test]
async fn queue_figures_follow_the_emulators_agents_and_a_second_read_is_cached() {
    let s = Setup::start().await;
    // The sandbox's queue 101: Alex available, Jo on break, Kim logged out; nobody waits.
    let f = s.connections.queue_figures("101").await.unwrap();
    assert_eq!(f.queue_id, "101");
    assert_eq!(f.queue_name.as_deref(), Some("Sandbox support"));
    assert_eq!(
        (
            f.waiting,
            f.agents_available,
            f.agents_on_break,
            f.agents_logged_out
        ),
        (0, 1, 1, 1)
    );

    s.sim
        .control()
        .set_agent_state("101", "sandbox-agent-alex", AgentState::LoggedOut)
        .await
        .unwrap();
    s.sim
        .control()
        .set_agent_state("101", "sandbox-agent-jo", AgentState::WrapUp)
        .await
        .unwrap();
    // Within 5 s the relay answers from its cache: 8x8 was asked once.
    let again = s.connections.queue_figures("101").await.unwrap();
    assert_eq!(again, f);
    let (status, body) = s.admin("/contact-center/queues/101").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["agentsAvailable"], 1);
    assert_eq!(s.asked("/cc/v1/stats/rt/queue/101"), 1);

    // The list is read when asked, and shows the agents as they are now.
    let (status, body) = s.admin("/contact-center/queues").await;
    assert_eq!(status, 200, "{body}");
    let q101 = body["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["queueId"] == "101")
        .cloned()
        .unwrap();
    assert_eq!(
        (
            &q101["agentsAvailable"],
            &q101["agentsWrapUp"],
            &q101["agentsLoggedOut"]
        ),
        (&0.into(), &1.into(), &2.into())
    );
    assert!(body["queues"]
        .as_array()
        .unwrap()
        .iter()
        .any(|q| q["queueId"] == "102"));
    assert_eq!(s.asked("/cc/v1/stats/rt/queues"), 1);
    s.shutdown().await;
}

#[tokio::test]
async fn schedules_open_closed_and_choices_from_the_emulator() {
    let s = Setup::start().await;
    let (status, body) = s.admin("/contact-center/schedules").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        serde_json::json!({"schedules": [{"id": "101", "name": "Sandbox hours"}]})
    );
    assert_eq!(
        s.connections.schedule_state("101").await,
        Ok(ScheduleState::Open)
    );

    s.sim
        .control()
        .set_schedule_state("101", SimSchedule::Closed)
        .await
        .unwrap();
    // Cached: still open to the relay for a few seconds, and 8x8 asked once.
    assert_eq!(
        s.connections.schedule_state("101").await,
        Ok(ScheduleState::Open)
    );
    assert_eq!(s.asked("/cc/v1/schedules/101/status"), 1);

    for (id, state, expected) in [
        ("200", SimSchedule::Closed, ScheduleState::Closed),
        (
            "201",
            SimSchedule::Choice(3),
            ScheduleState::Choice("Choice #3".into()),
        ),
    ] {
        s.sim
            .control()
            .put_schedule(
                id,
                &ScheduleStateBody {
                    state,
                    name: Some(format!("Schedule {id}")),
                    time_zone: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(s.connections.schedule_state(id).await, Ok(expected.clone()));
        let (status, body) = s
            .admin(&format!("/contact-center/schedules/{id}/status"))
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["label"], expected.label());
    }
    s.shutdown().await;
}

#[tokio::test]
async fn the_emulators_faults_come_back_as_words() {
    let s = Setup::start().await;
    // Both attempts fail.
    s.sim
        .control()
        .patch_faults(&FaultsPatch {
            stats_fail_next: Some(2),
            stats_fail_status: Some(503),
            ..FaultsPatch::default()
        })
        .await
        .unwrap();
    let words = s.connections.queue_figures("101").await.unwrap_err();
    assert!(
        words.starts_with(
            "8x8's queue statistics for queue 101 could not be read: 8x8 answered 503"
        ),
        "{words}"
    );
    // Kept a second: the admin API says the same without asking 8x8 again.
    let (status, body) = s.admin("/contact-center/queues/101").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (502, Some("8x8_unavailable"))
    );
    assert_eq!(body["message"], words.as_str());
    assert_eq!(s.asked("/cc/v1/stats/rt/queue/101"), 2);

    // A queue 8x8 does not know.
    let words = s.connections.queue_figures("999").await.unwrap_err();
    assert!(
        words.starts_with(
            "8x8's queue statistics for queue 999 could not be read: 8x8 answered 404"
        ),
        "{words}"
    );

    // A schedule that answers too late is given up within 3 s.
    s.sim
        .control()
        .patch_faults(&FaultsPatch {
            schedule_latency_ms: Some(4_000),
            ..FaultsPatch::default()
        })
        .await
        .unwrap();
    let started = Instant::now();
    let words = s.connections.schedule_state("101").await.unwrap_err();
    assert!(started.elapsed() < Duration::from_millis(3500));
    assert!(
        words.starts_with("8x8's schedule 101 could not be read: 8x8 did not answer within"),
        "{words}"
    );
    s.shutdown().await;
}
