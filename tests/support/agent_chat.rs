//! The starting point of the fault tests: a relay process, the emulator that plays 8x8
//! for it, and one conversation an agent has accepted. The agent's next message is the
//! delivery a fault is aimed at; what 8x8 saw of it is in the emulator's Event Log, what
//! the relay made of it in its database.

use std::time::Duration;

use chat_gateway_sim::{LogRecord, SimHandle};

use crate::{
    emulator::{self, open_agent_conversations, seed_for},
    eventually,
    process::{ServerConfig, ServerProcess},
    relay_db::RelayDb,
    Seen,
};

/// Hang guard for each wait (never a speed bound).
pub const GUARD: Duration = Duration::from_secs(60);

pub struct AgentChat {
    pub sim: SimHandle,
    pub relay: ServerProcess,
    pub conversation: String,
}

impl AgentChat {
    /// `data_dir` holds the relay's database; `sim_settings` sets 8x8's retries.
    pub async fn start(
        data_dir: &std::path::Path,
        sim_settings: chat_gateway_sim::Settings,
        keyring: Option<std::sync::Arc<chat_gateway_sim::Keyring>>,
        adjust: impl FnOnce(&mut ServerConfig),
    ) -> Self {
        let mut config = ServerConfig::new(data_dir, "http://127.0.0.1:9");
        let sim = emulator::start(
            "127.0.0.1:0",
            seed_for(&config.endpoint_url()),
            sim_settings,
            keyring,
        )
        .await;
        config.base_url = sim.base_url();
        adjust(&mut config);
        let relay = ServerProcess::start(&config);
        let conversation = open_agent_conversations(&sim, 1, "agent-flo")
            .await
            .remove(0);
        let chat = Self {
            sim,
            relay,
            conversation,
        };
        chat.say_and_wait_processed("hello before the fault").await;
        chat
    }

    pub fn db(&self) -> RelayDb {
        RelayDb::open(&self.relay.db_path())
    }

    /// The agent says `text`; returns 8x8's event id for it, known once 8x8 has made its
    /// first attempt (the Event Log records attempts when they are answered).
    pub async fn say(&self, text: &str) -> String {
        self.sim.agent_say(&self.conversation, text).unwrap();
        let needle = serde_json::to_string(text).expect("text as JSON");
        eventually(
            format!("8x8's first attempt of {text:?}"),
            GUARD,
            async || {
                self.sim
                    .log()
                    .into_iter()
                    .find(|r| {
                        r.direction == "outbound"
                            && r.record_type == "MESSAGE"
                            && r.conversation_id.as_deref() == Some(self.conversation.as_str())
                            && r.request_body.contains(&needle)
                    })
                    .and_then(|r| r.event_id)
            },
        )
        .await
    }

    /// Every delivery attempt 8x8 made for `event_id` so far.
    pub fn attempts(&self, event_id: &str) -> Vec<LogRecord> {
        let log = self.sim.log();
        emulator::attempts_of(&log, event_id).cloned().collect()
    }

    /// Waits until 8x8 has been refused `n` times for `event_id`, and checks every
    /// answer so far was a 5xx: 8x8 must retry, so never a 2xx for something not stored
    /// and never a 4xx for a failure on the relay's side.
    pub async fn wait_refused(&self, event_id: &str, n: usize) -> Vec<LogRecord> {
        let seen = Seen::new(format!("{n} refused attempts of {event_id}"));
        eventually(&seen, GUARD, async || {
            let attempts = self.attempts(event_id);
            for a in &attempts {
                let code = a.status_code.unwrap_or(0);
                assert!(
                    (500..600).contains(&code),
                    "8x8's attempt {} of {event_id} got {:?} ({}), not a 5xx: {:?}",
                    a.retry,
                    a.status_code,
                    a.status,
                    a.response_body.as_deref().or(a.error.as_deref())
                );
            }
            seen.note(format_args!("{} attempts", attempts.len()));
            (attempts.len() >= n).then_some(attempts)
        })
        .await
    }

    /// Waits until 8x8 got a 2xx for `event_id` and the relay processed it, and checks
    /// the text is in the transcript once. Returns the attempts.
    pub async fn wait_processed(&self, event_id: &str, text: &str) -> Vec<LogRecord> {
        let seen = Seen::new(format!("{event_id} delivered"));
        let attempts = eventually(&seen, GUARD, async || {
            let attempts = self.attempts(event_id);
            seen.note(format_args!("{attempts:?}"));
            attempts
                .iter()
                .any(|a| a.status == "delivered")
                .then_some(attempts)
        })
        .await;
        let db = self.db();
        let seen = Seen::new(format!("{event_id} processed"));
        eventually(&seen, GUARD, async || {
            let rows = db
                .deliveries_by_event()
                .remove(event_id)
                .unwrap_or_default();
            seen.note(format_args!("{rows:?}"));
            let originals: Vec<_> = rows
                .iter()
                .filter(|r| r.duplicate_of.is_none() && r.status != "rejected")
                .collect();
            matches!(originals.as_slice(), [one] if one.status == "processed").then_some(())
        })
        .await;
        assert_eq!(
            db.lines_by_text("agent").get(text).copied(),
            Some(1),
            "{text:?} once in the transcript"
        );
        attempts
    }

    pub async fn say_and_wait_processed(&self, text: &str) {
        let eid = self.say(text).await;
        self.wait_processed(&eid, text).await;
    }
}
