//! What the emulator knows before the first request: API keys and the tenants they may
//! act for, queues (with or without a scripted mock agent), and optionally webhooks and
//! channels. Loaded from YAML/JSON config files so a person can shape the sandbox.

use serde::{Deserialize, Serialize};

use crate::contact_center::ContactCenterSeed;

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("cannot read seed file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("seed file {path} is not valid YAML/JSON: {source}")]
    Parse {
        path: String,
        source: serde_yaml::Error,
    },
    #[error("seed is inconsistent: {0}")]
    Invalid(String),
}

/// The whole seed. Every field has a default, so a config file may name only what it
/// changes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Seed {
    /// The 8x8 customer (organisation) id; sent as `x-8x8-customer-id`.
    pub customer_id: String,
    pub api_keys: Vec<ApiKeySeed>,
    pub queues: Vec<QueueSeed>,
    pub webhooks: Vec<WebhookSeed>,
    pub channels: Vec<ChannelSeed>,
    /// Per queue the mock agents' states, and the schedules. Empty when a file leaves it
    /// out (not the sandbox's): each queue's scripted agent then stands alone, available.
    #[serde(default)]
    pub contact_center: ContactCenterSeed,
}

/// An API key and the Contact Center tenants it may act for. More than one tenant makes
/// `X-8x8-Tenant` mandatory (P16).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeySeed {
    pub key: String,
    pub tenants: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct QueueSeed {
    pub id: String,
    pub name: String,
    /// The tenant owning the queue; `None` means every tenant.
    #[serde(default)]
    pub tenant: Option<String>,
    /// A scripted agent answering this queue; `None` leaves offers to a person using the
    /// control API.
    #[serde(default)]
    pub agent: Option<AgentScript>,
}

/// How a scripted mock agent behaves.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct AgentScript {
    pub agent_id: String,
    /// Delay between the offer (QUEUED) and the agent joining.
    pub accept_after_ms: u64,
    /// How long the agent "types" before each message.
    pub typing_ms: u64,
    /// Said right after joining.
    pub greeting: Option<String>,
    /// Replies to user messages, used in turn; empty means echo `You said: …`.
    pub replies: Vec<String>,
    /// A user message containing this word makes the agent transfer to `transfer_to`.
    pub transfer_keyword: Option<String>,
    pub transfer_to: Option<String>,
    /// A user message containing this word makes the agent end the conversation.
    pub end_keyword: Option<String>,
}

impl Default for AgentScript {
    fn default() -> Self {
        Self {
            agent_id: "mock-agent".into(),
            accept_after_ms: 1000,
            typing_ms: 500,
            greeting: None,
            replies: Vec::new(),
            transfer_keyword: None,
            transfer_to: None,
            end_keyword: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WebhookSeed {
    pub id: String,
    pub tenant: String,
    pub name: String,
    pub uri: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ChannelSeed {
    pub id: String,
    pub tenant: String,
    pub name: String,
    /// `ChatAPI` unless given; other types (`WebChat`, …) can be seeded but not created.
    #[serde(default = "chat_api", rename = "type")]
    pub kind: String,
    pub web_hook_id: String,
    pub queue_id: String,
}

fn chat_api() -> String {
    "ChatAPI".into()
}

impl Default for Seed {
    fn default() -> Self {
        Self::sandbox()
    }
}

impl Seed {
    /// The app's sandbox: key `sandbox-key` for tenant `sandbox-tenant`, queue `101`
    /// ("Sandbox support") with an agent that accepts quickly and replies, and queue `102`
    /// ("Sandbox escalations") as a transfer target with a second agent; beside each
    /// scripted agent two mock agents who are not available, and one open schedule
    /// (see [`ContactCenterSeed::sandbox`]).
    pub fn sandbox() -> Self {
        Self {
            customer_id: "sandbox-customer".into(),
            api_keys: vec![ApiKeySeed {
                key: "sandbox-key".into(),
                tenants: vec!["sandbox-tenant".into()],
            }],
            queues: vec![
                QueueSeed {
                    id: "101".into(),
                    name: "Sandbox support".into(),
                    tenant: None,
                    agent: Some(AgentScript {
                        agent_id: "sandbox-agent-alex".into(),
                        accept_after_ms: 1500,
                        typing_ms: 800,
                        greeting: Some(
                            "Hi, this is Alex from Sandbox support. How can I help?".into(),
                        ),
                        replies: vec![
                            "Thanks, let me check that for you.".into(),
                            "I see. Could you tell me a bit more?".into(),
                            "Got it. Anything else I can do for you?".into(),
                        ],
                        transfer_keyword: Some("transfer".into()),
                        transfer_to: Some("102".into()),
                        end_keyword: Some("bye".into()),
                    }),
                },
                QueueSeed {
                    id: "102".into(),
                    name: "Sandbox escalations".into(),
                    tenant: None,
                    agent: Some(AgentScript {
                        agent_id: "sandbox-agent-sam".into(),
                        accept_after_ms: 1500,
                        typing_ms: 800,
                        greeting: Some("Hello, Sam here from escalations.".into()),
                        replies: Vec::new(),
                        transfer_keyword: None,
                        transfer_to: None,
                        end_keyword: Some("bye".into()),
                    }),
                },
            ],
            webhooks: Vec::new(),
            channels: Vec::new(),
            contact_center: ContactCenterSeed::sandbox(),
        }
    }

    /// Reads a YAML (or JSON, which is YAML) seed file.
    pub fn from_file(path: &std::path::Path) -> Result<Self, SeedError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| SeedError::Read {
            path: p.clone(),
            source,
        })?;
        let seed: Seed =
            serde_yaml::from_str(&text).map_err(|source| SeedError::Parse { path: p, source })?;
        seed.check()?;
        Ok(seed)
    }

    /// The first API key (what a single-key setup uses).
    pub fn api_key(&self) -> &str {
        self.api_keys.first().map(|k| k.key.as_str()).unwrap_or("")
    }

    /// The first tenant of the first key.
    pub fn tenant_id(&self) -> &str {
        self.api_keys
            .first()
            .and_then(|k| k.tenants.first())
            .map(String::as_str)
            .unwrap_or("")
    }

    /// Catches references to things that do not exist, so mistakes in a config file are
    /// reported at start rather than as odd 400s later.
    pub fn check(&self) -> Result<(), SeedError> {
        if self.api_keys.is_empty() {
            return Err(SeedError::Invalid("no API key".into()));
        }
        for k in &self.api_keys {
            if k.tenants.is_empty() {
                return Err(SeedError::Invalid(format!("key {} has no tenant", k.key)));
            }
        }
        for a in &self.contact_center.agents {
            if !self.queues.iter().any(|q| q.id == a.queue_id) {
                return Err(SeedError::Invalid(format!(
                    "agent {} is in unknown queue {}",
                    a.agent_id, a.queue_id
                )));
            }
        }
        for c in &self.channels {
            if !self.webhooks.iter().any(|w| w.id == c.web_hook_id) {
                return Err(SeedError::Invalid(format!(
                    "channel {} refers to unknown webhook {}",
                    c.id, c.web_hook_id
                )));
            }
            if !self.queues.iter().any(|q| q.id == c.queue_id) {
                return Err(SeedError::Invalid(format!(
                    "channel {} refers to unknown queue {}",
                    c.id, c.queue_id
                )));
            }
        }
        Ok(())
    }
}
