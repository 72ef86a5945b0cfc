//! A typed client for the emulator's control API (`{base_url}/sim/...`, served by
//! `control.rs` and listed in the crate's README).
//!
//! Why it exists: this crate's tests, the workspace's end-to-end tests and the relay's
//! sandbox admin API all drive the emulator — accept an offer as the agent, speak as an
//! 8x8 web-chat customer, switch faults and settings, read the Event Log — and used to do
//! so with raw `("POST", format!("/sim/conversations/{id}/agent/accept"))` strings and
//! `serde_json::Value` bodies, where a typo in a path or a field name showed up only as
//! an odd 404 or a silently ignored field at run time. Here every control operation is
//! one async method of [`SimControl`], its request and response are the types the
//! emulator's handlers (de)serialize themselves (re-exported below), and every failure is
//! one [`SimControlError`] that carries the HTTP status and what the emulator said, so a
//! failing test prints the reason.
//!
//! ```no_run
//! # async fn demo(base_url: String) -> Result<(), chat_gateway_sim::control_client::SimControlError> {
//! use chat_gateway_sim::control_client::{FaultsPatch, LogFilter, SayBody, SimControl};
//!
//! let sim = SimControl::new(base_url);
//! sim.patch_faults(&FaultsPatch { drop_next: Some(1), ..Default::default() }).await?;
//! let offer = sim.offers().await?.remove(0);
//! sim.agent_accept(&offer.conversation_id, Some("ann")).await?;
//! sim.agent_say(&offer.conversation_id, &SayBody::text("Hello, Ann here")).await?;
//! let dropped = sim.log(&LogFilter::default().status("dropped")).await?;
//! # let _ = dropped; Ok(()) }
//! ```
//!
//! The 8x8 Chat Gateway API itself (`{base_url}/chat-gateway/v1/...`) is not here: that
//! is what the relay's own Chat Gateway client talks to.

use std::fmt::Write as _;
use std::time::Duration;

use bytes::Bytes;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::Serialize;
use serde_json::Value;

pub use crate::control::{
    AcceptBody, AcceptResponse, AssignmentView, AttachmentRef, AttachmentView, CardBody, CardView,
    ConversationView, EndBody, FileBody, Health, InteractionView, LogFilter, MessageView,
    ParticipantView, PostAgentView, QuickReplyBody, RotateKeyResponse, SayBody, SayResponse,
    SimInfo, SubmitCardBody, TextBody, TransferBody, TypingBody, WebchatBody, WebchatResponse,
};
pub use crate::eventlog::LogRecord;
pub use crate::faults::{Faults, FaultsPatch};
pub use crate::seed::{AgentScript, ApiKeySeed, QueueSeed};
pub use crate::settings::{Settings, SettingsPatch};
pub use crate::store::{Indicator, Offer};

pub use crate::contact_center::{AgentState, ScheduleState};
pub use crate::control_contact_center::{
    AgentStateBody, AgentView, ContactCenterView, QueueAgents, ScheduleStateBody, ScheduleView,
};

use crate::control::{LogRecords, Offers, Queues};
use crate::control_contact_center::Schedules;

/// What went wrong talking to the emulator's control API.
#[derive(Debug, thiserror::Error)]
pub enum SimControlError {
    /// The emulator answered with a non-2xx status; `message` is its `{"error": …}` text
    /// (or the whole body when it has none).
    #[error("{method} {path} -> {status}: {message}")]
    Status {
        method: Method,
        path: String,
        status: StatusCode,
        message: String,
        body: String,
    },
    /// No answer: connection refused, reset or timed out.
    #[error("{method} {path}: the emulator did not answer: {source}")]
    Transport {
        method: Method,
        path: String,
        #[source]
        source: reqwest::Error,
    },
    /// A 2xx answer that is not the type the control API documents.
    #[error("{method} {path}: unexpected answer ({source}): {body}")]
    Decode {
        method: Method,
        path: String,
        #[source]
        source: serde_json::Error,
        body: String,
    },
    /// An id that cannot be a path segment (empty, `.` or `..`); nothing was sent.
    #[error("{0:?} is not an id the emulator uses")]
    InvalidId(String),
}

impl SimControlError {
    /// The HTTP status of a [`SimControlError::Status`].
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// What the emulator said, for a [`SimControlError::Status`].
    pub fn message(&self) -> Option<&str> {
        match self {
            Self::Status { message, .. } => Some(message),
            _ => None,
        }
    }
}

type Result<T> = std::result::Result<T, SimControlError>;

/// The emulator's control API at one base URL (what [`crate::SimHandle::base_url`]
/// returns, e.g. `http://127.0.0.1:PORT`). Cheap to clone.
#[derive(Debug, Clone)]
pub struct SimControl {
    base: String,
    http: reqwest::Client,
}

impl SimControl {
    /// A client with its own HTTP connection pool: no proxy (the emulator is a local test
    /// double) and a 30 s timeout per call.
    pub fn new(base_url: impl Into<String>) -> Self {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        Self::with_client(base_url, http)
    }

    /// A client that uses `http` (its timeouts, proxy and pool).
    pub fn with_client(base_url: impl Into<String>, http: reqwest::Client) -> Self {
        let base = base_url.into().trim_end_matches('/').to_string();
        Self { base, http }
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// `GET /sim/health`.
    pub async fn health(&self) -> Result<Health> {
        self.call(Method::GET, "/sim/health".into(), |r| r).await
    }

    /// `GET /sim/info`: base URL, customer, keys and tenants, queues, current `kid`.
    pub async fn info(&self) -> Result<SimInfo> {
        self.call(Method::GET, "/sim/info".into(), |r| r).await
    }

    /// `GET /sim/log`: the Event Log records matching `filter`, oldest first.
    pub async fn log(&self, filter: &LogFilter) -> Result<Vec<LogRecord>> {
        let page: LogRecords = self
            .call(Method::GET, "/sim/log".into(), |r| r.query(filter))
            .await?;
        Ok(page.records)
    }

    /// `DELETE /sim/log`.
    pub async fn clear_log(&self) -> Result<()> {
        self.fetch(Method::DELETE, "/sim/log".into(), |r| r)
            .await
            .map(drop)
    }

    /// `GET /sim/faults`.
    pub async fn faults(&self) -> Result<Faults> {
        self.call(Method::GET, "/sim/faults".into(), |r| r).await
    }

    /// `PUT /sim/faults`: replaces every fault; returns them.
    pub async fn set_faults(&self, faults: &Faults) -> Result<Faults> {
        self.call(Method::PUT, "/sim/faults".into(), |r| r.json(faults))
            .await
    }

    /// `PATCH /sim/faults`: changes the fields given; returns all faults.
    pub async fn patch_faults(&self, patch: &FaultsPatch) -> Result<Faults> {
        self.call(Method::PATCH, "/sim/faults".into(), |r| r.json(patch))
            .await
    }

    /// `GET /sim/settings`.
    pub async fn settings(&self) -> Result<Settings> {
        self.call(Method::GET, "/sim/settings".into(), |r| r).await
    }

    /// `PUT /sim/settings`: replaces every setting; returns them.
    pub async fn set_settings(&self, settings: &Settings) -> Result<Settings> {
        self.call(Method::PUT, "/sim/settings".into(), |r| r.json(settings))
            .await
    }

    /// `PATCH /sim/settings`: changes the fields given; returns all settings.
    pub async fn patch_settings(&self, patch: &SettingsPatch) -> Result<Settings> {
        self.call(Method::PATCH, "/sim/settings".into(), |r| r.json(patch))
            .await
    }

    /// `POST /sim/keys/rotate`: a new signing key; the old ones stay published.
    pub async fn rotate_key(&self) -> Result<RotateKeyResponse> {
        self.call(Method::POST, "/sim/keys/rotate".into(), |r| r)
            .await
    }

    /// `GET /sim/queues`.
    pub async fn queues(&self) -> Result<Vec<QueueSeed>> {
        let list: Queues = self.call(Method::GET, "/sim/queues".into(), |r| r).await?;
        Ok(list.queues)
    }

    /// `PUT /sim/queues/{id}/agent`: sets the queue's scripted mock agent, or with `None`
    /// removes it (offers then wait for [`SimControl::agent_accept`]); returns the queue.
    pub async fn set_queue_agent(
        &self,
        queue_id: &str,
        agent: Option<&AgentScript>,
    ) -> Result<QueueSeed> {
        let path = format!("/sim/queues/{}/agent", segment(queue_id)?);
        self.call(Method::PUT, path, |r| r.json(&agent)).await
    }

    /// `GET /sim/offers`: interactions waiting in queues for an agent.
    pub async fn offers(&self) -> Result<Vec<Offer>> {
        let list: Offers = self.call(Method::GET, "/sim/offers".into(), |r| r).await?;
        Ok(list.offers)
    }

    /// `GET /sim/contact-center`: every queue's mock agents and every schedule.
    pub async fn contact_center(&self) -> Result<ContactCenterView> {
        self.call(Method::GET, "/sim/contact-center".into(), |r| r)
            .await
    }

    /// `GET /sim/contact-center/queues/{queueId}/agents`: a queue's mock agents, their
    /// states and what each is counted as now.
    pub async fn queue_agents(&self, queue_id: &str) -> Result<QueueAgents> {
        let path = format!("/sim/contact-center/queues/{}/agents", segment(queue_id)?);
        self.call(Method::GET, path, |r| r).await
    }

    /// `PUT /sim/contact-center/queues/{queueId}/agents/{agentId}`: sets an agent's
    /// state (adding the agent to the queue if new). The queue's scripted agent takes
    /// offers only while available; set available, it takes the ones that waited.
    pub async fn set_agent_state(
        &self,
        queue_id: &str,
        agent_id: &str,
        state: AgentState,
    ) -> Result<AgentView> {
        let path = format!(
            "/sim/contact-center/queues/{}/agents/{}",
            segment(queue_id)?,
            segment(agent_id)?
        );
        let body = AgentStateBody { state, name: None };
        self.call(Method::PUT, path, |r| r.json(&body)).await
    }

    /// `GET /sim/contact-center/schedules`.
    pub async fn schedules(&self) -> Result<Vec<ScheduleView>> {
        let list: Schedules = self
            .call(Method::GET, "/sim/contact-center/schedules".into(), |r| r)
            .await?;
        Ok(list.schedules)
    }

    /// `GET /sim/contact-center/schedules/{scheduleId}`.
    pub async fn schedule(&self, schedule_id: &str) -> Result<ScheduleView> {
        let path = format!("/sim/contact-center/schedules/{}", segment(schedule_id)?);
        self.call(Method::GET, path, |r| r).await
    }

    /// `PUT /sim/contact-center/schedules/{scheduleId}`: sets an existing schedule's
    /// state (what `GET /cc/v1/schedules/{id}/status` answers); 404 for an unknown id.
    pub async fn set_schedule_state(
        &self,
        schedule_id: &str,
        state: ScheduleState,
    ) -> Result<ScheduleView> {
        let path = format!("/sim/contact-center/schedules/{}", segment(schedule_id)?);
        let body = ScheduleStateBody {
            state,
            name: None,
            time_zone: None,
        };
        self.call(Method::PUT, path, |r| r.json(&body)).await
    }

    /// `PUT /sim/contact-center/schedules/{scheduleId}` with a name: adds the schedule
    /// if it does not exist, else renames it and sets its state.
    pub async fn put_schedule(
        &self,
        schedule_id: &str,
        body: &ScheduleStateBody,
    ) -> Result<ScheduleView> {
        let path = format!("/sim/contact-center/schedules/{}", segment(schedule_id)?);
        self.call(Method::PUT, path, |r| r.json(body)).await
    }

    /// `GET /sim/conversations/{id}`: the agent's view of a conversation.
    pub async fn conversation(&self, conversation_id: &str) -> Result<ConversationView> {
        let path = format!("/sim/conversations/{}", segment(conversation_id)?);
        self.call(Method::GET, path, |r| r).await
    }

    /// `POST …/agent/accept`: the agent (`agent_id`, or the queue's default) accepts the
    /// pending offer; 409 if there is none.
    pub async fn agent_accept(
        &self,
        conversation_id: &str,
        agent_id: Option<&str>,
    ) -> Result<AcceptResponse> {
        let body = AcceptBody {
            agent_id: agent_id.map(str::to_string),
        };
        let path = conversation_path(conversation_id, "agent/accept")?;
        self.call(Method::POST, path, |r| r.json(&body)).await
    }

    /// `POST …/agent/typing`: `ACTIVITY typing` with the agent, or with nobody.
    pub async fn agent_typing(&self, conversation_id: &str, typing: bool) -> Result<()> {
        let path = conversation_path(conversation_id, "agent/typing")?;
        self.act(
            path,
            &TypingBody {
                typing,
                agent_id: None,
            },
        )
        .await
    }

    /// `POST …/agent/say`: an agent `MESSAGE` with text, cards and/or attachments.
    pub async fn agent_say(&self, conversation_id: &str, say: &SayBody) -> Result<SayResponse> {
        let path = conversation_path(conversation_id, "agent/say")?;
        self.call(Method::POST, path, |r| r.json(say)).await
    }

    /// `POST …/agent/transfer`: the agent transfers the chat to another queue.
    pub async fn agent_transfer(&self, conversation_id: &str, queue_id: &str) -> Result<()> {
        let path = conversation_path(conversation_id, "agent/transfer")?;
        let body = TransferBody {
            queue_id: queue_id.to_string(),
            agent_id: None,
        };
        self.act(path, &body).await
    }

    /// `POST …/agent/end`: the agent ends the chat (a handback follows if one is set).
    pub async fn agent_end(&self, conversation_id: &str) -> Result<()> {
        let path = conversation_path(conversation_id, "agent/end")?;
        self.fetch(Method::POST, path, |r| r).await.map(drop)
    }

    /// `POST /sim/webchat/conversations`: an 8x8 web-chat customer starts a chat that is
    /// routed to the bot first (chat-gateway.md §6.6).
    pub async fn start_webchat(&self, webchat: &WebchatBody) -> Result<WebchatResponse> {
        self.call(Method::POST, "/sim/webchat/conversations".into(), |r| {
            r.json(webchat)
        })
        .await
    }

    /// `POST …/customer/say`: a customer `MESSAGE` (not an echo).
    pub async fn customer_say(&self, conversation_id: &str, text: &str) -> Result<()> {
        let path = conversation_path(conversation_id, "customer/say")?;
        let body = TextBody {
            text: text.to_string(),
        };
        self.act(path, &body).await
    }

    /// `POST …/customer/typing`: `ACTIVITY typing` with the user, or with nobody.
    pub async fn customer_typing(&self, conversation_id: &str, typing: bool) -> Result<()> {
        let path = conversation_path(conversation_id, "customer/typing")?;
        self.act(
            path,
            &TypingBody {
                typing,
                agent_id: None,
            },
        )
        .await
    }

    /// `POST …/customer/quick-reply`: `ACTIVITY quickReply/action`.
    pub async fn customer_quick_reply(
        &self,
        conversation_id: &str,
        reply: &QuickReplyBody,
    ) -> Result<()> {
        let path = conversation_path(conversation_id, "customer/quick-reply")?;
        self.act(path, reply).await
    }

    /// `POST …/customer/submit-card`: `ACTIVITY adaptiveCard/action`.
    pub async fn customer_submit_card(
        &self,
        conversation_id: &str,
        submit: &SubmitCardBody,
    ) -> Result<()> {
        let path = conversation_path(conversation_id, "customer/submit-card")?;
        self.act(path, submit).await
    }

    /// `POST …/customer/leave`: the customer leaves.
    pub async fn customer_leave(&self, conversation_id: &str) -> Result<()> {
        let path = conversation_path(conversation_id, "customer/leave")?;
        self.fetch(Method::POST, path, |r| r).await.map(drop)
    }

    /// `GET /sim/files/{conversationId}/{attachmentId}`: an attachment's bytes, as its
    /// `preSignedUrl` serves them.
    pub async fn file(&self, conversation_id: &str, attachment_id: &str) -> Result<Bytes> {
        let path = format!(
            "/sim/files/{}/{}",
            segment(conversation_id)?,
            segment(attachment_id)?
        );
        self.fetch(Method::GET, path, |r| r).await
    }

    /// An action answered with `{}`.
    async fn act<B: Serialize + ?Sized>(&self, path: String, body: &B) -> Result<()> {
        let _: IgnoredAny = self.call(Method::POST, path, |r| r.json(body)).await?;
        Ok(())
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: String,
        build: impl FnOnce(RequestBuilder) -> RequestBuilder,
    ) -> Result<T> {
        let bytes = self.fetch(method.clone(), path.clone(), build).await?;
        // An empty 2xx body reads as `null`, which `IgnoredAny` and `Option`s accept.
        let json: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
        serde_json::from_slice(json).map_err(|source| SimControlError::Decode {
            method,
            path,
            source,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        })
    }

    async fn fetch(
        &self,
        method: Method,
        path: String,
        build: impl FnOnce(RequestBuilder) -> RequestBuilder,
    ) -> Result<Bytes> {
        let request = build(
            self.http
                .request(method.clone(), format!("{}{path}", self.base)),
        );
        let transport = |source| SimControlError::Transport {
            method: method.clone(),
            path: path.clone(),
            source,
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(transport)?;
        if status.is_success() {
            return Ok(bytes);
        }
        let body = String::from_utf8_lossy(&bytes).into_owned();
        let message = serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|v| v.get("error")?.as_str().map(str::to_string))
            .unwrap_or_else(|| body.clone());
        Err(SimControlError::Status {
            method,
            path,
            status,
            message,
            body,
        })
    }
}

fn conversation_path(conversation_id: &str, action: &str) -> Result<String> {
    Ok(format!(
        "/sim/conversations/{}/{action}",
        segment(conversation_id)?
    ))
}

/// Percent-encodes an id for one path segment. `.` and `..` are refused: URL parsing
/// would resolve them (also percent-encoded) and send the call elsewhere.
fn segment(id: &str) -> Result<String> {
    if id.is_empty() || id == "." || id == ".." {
        return Err(SimControlError::InvalidId(id.to_string()));
    }
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_one_path_segment() {
        assert_eq!(segment("int-1_a.B~").unwrap(), "int-1_a.B~");
        assert_eq!(segment("a/b c?d").unwrap(), "a%2Fb%20c%3Fd");
        assert_eq!(segment("ü").unwrap(), "%C3%BC");
        for bad in ["", ".", ".."] {
            assert!(matches!(segment(bad), Err(SimControlError::InvalidId(_))));
        }
    }

    #[tokio::test]
    async fn an_emulator_error_carries_status_and_message() {
        let sim = crate::start(crate::SimConfig {
            keyring: Some(std::sync::Arc::new(
                crate::Keyring::with_bits(1024).expect("a small test key"),
            )),
            ..crate::SimConfig::default()
        })
        .await
        .expect("the emulator starts");
        let ctl = SimControl::new(format!("{}/", sim.base_url()));
        assert_eq!(ctl.base_url(), sim.base_url());
        assert_eq!(ctl.health().await.unwrap().status, "ok");
        let err = ctl.agent_end("no-such-conversation").await.unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
        let shown = err.to_string();
        assert!(
            shown.starts_with("POST /sim/conversations/no-such-conversation/agent/end -> 404"),
            "{shown}"
        );
        assert!(
            err.message().unwrap().contains("no-such-conversation"),
            "{shown}"
        );
        assert!(matches!(
            ctl.conversation("..").await,
            Err(SimControlError::InvalidId(_))
        ));
        sim.shutdown().await;
        let err = ctl.health().await.unwrap_err();
        assert!(matches!(err, SimControlError::Transport { .. }), "{err:?}");
    }
}
