//! The admin's setup helpers: test a connection with a key that is not saved yet,
//! register (or re-point) the relay's webhook in 8x8, list channels for the pickers, and
//! preview exactly what the agent receives on a handover. Failures come back in plain
//! words with 8x8's own reason.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::admin::error::ErrorCode;
use crate::admin::sandbox_setup::{self, WEBHOOK_NAME};
use crate::relay::RelayState;
use chat_gateway_client::json_properties;
use chat_gateway_client::{
    types::{Channel, ConversationUser, History, PageQuery, SendMessage, Webhook, WebhookRequest},
    ChatGatewayClient, ClientError, Connection, RetryPolicy,
};
use switchboard_settings::secrets::Secret;
use switchboard_settings::settings::{check_base_url, FieldError, SandboxChoice};
use switchboard_settings::Role;

/// A setup call is a person waiting on a spinner: fail in seconds, not minutes.
const SETUP_TIMEOUT: Duration = Duration::from_secs(15);

/// `POST /api/connection/test`.
#[derive(Debug, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TestRequest {
    pub role: Role,
    pub base_url: String,
    #[serde(default)]
    #[ts(optional = nullable)]
    pub tenant: Option<String>,
    /// The key as typed in the form; `None` tests the stored one.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub api_key: Option<String>,
    /// The sandbox choice as the form has it now; `None` takes the saved one. With no key
    /// typed, a role that would be on the sandbox tests the sandbox.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub sandbox: Option<SandboxChoice>,
}

/// A connection test's verdict: `ok`, or the failure's code and plain words.
#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TestOutcome {
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub code: Option<ErrorCode>,
    pub message: String,
}

impl TestOutcome {
    fn failed(code: ErrorCode, message: String) -> Self {
        Self {
            ok: false,
            code: Some(code),
            message,
        }
    }
}

pub async fn test_connection(
    state: &RelayState,
    req: TestRequest,
) -> Result<TestOutcome, Vec<FieldError>> {
    let base_url = req.base_url.trim().trim_end_matches('/').to_string();
    let field = match req.role {
        Role::Endpoint => "connection.baseUrl",
        Role::Handover => "handover.connection.baseUrl",
    };
    check_base_url(&base_url).map_err(|message| {
        vec![FieldError {
            field: field.into(),
            message,
        }]
    })?;
    let tenant = req
        .tenant
        .as_deref()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    let typed = req
        .api_key
        .as_deref()
        .map(|k| k.trim().to_string())
        .filter(|k| !k.is_empty());
    if typed.is_none() {
        if let Some(conn) = sandbox_under_test(state, &req, &base_url) {
            return Ok(test_sandbox(conn).await);
        }
    }
    let api_key = match typed {
        Some(k) => Secret::new(k),
        None => {
            let settings = state.settings();
            let saved = match state.secrets.get(req.role.key_name(&settings)).await {
                Ok(Some(k)) => k,
                Ok(None) => {
                    return Ok(TestOutcome::failed(
                        ErrorCode::NoKey,
                        "Type the API key first: none is saved for this connection yet.".into(),
                    ))
                }
                Err(e) => return Ok(TestOutcome::failed(ErrorCode::NoKey, e.to_string())),
            };
            // The saved key goes only where it was saved for: testing another Base URL
            // takes the key typed again. Otherwise anyone holding the admin token could
            // have the key sent to a server of theirs, though the UI never shows it.
            let saved_url = req.role.connection(&settings).base_url.trim();
            if saved_url.trim_end_matches('/') != base_url {
                return Ok(TestOutcome::failed(
                    ErrorCode::KeyForOtherUrl,
                    format!(
                        "The saved API key is only ever sent to the saved Base URL ({}). \
                         To test {base_url}, type the key.",
                        saved_url.trim_end_matches('/')
                    ),
                ));
            }
            saved
        }
    };
    let host = host_of(&base_url);
    let client = ChatGatewayClient::with_policy(
        Connection {
            base_url: base_url.clone(),
            tenant: tenant.clone(),
            api_key,
        },
        RetryPolicy::once(),
    );
    let query = PageQuery {
        size: Some(1),
        page: None,
        sort: None,
    };
    let result = tokio::time::timeout(SETUP_TIMEOUT, client.list_webhooks(&query))
        .await
        .unwrap_or(Err(ClientError::Timeout(SETUP_TIMEOUT)));
    Ok(match result {
        Ok(page) => TestOutcome {
            ok: true,
            code: None,
            message: format!(
                "Connected to {host}: 8x8 accepted the API key{}. {}",
                tenant
                    .as_deref()
                    .map(|t| format!(" and the tenant {t}"))
                    .unwrap_or_default(),
                webhooks_registered(page.total_elements)
            ),
        },
        Err(e) => explain(&e, &host),
    })
}

/// The sandbox's connection when that is what the form would use: no key typed, the
/// role on the sandbox with the form's choice, and the Base URL the saved one (which the
/// sandbox stands in for) or the sandbox's own. Any other Base URL is not the sandbox,
/// and the saved-key rule applies to it.
fn sandbox_under_test(state: &RelayState, req: &TestRequest, base_url: &str) -> Option<Connection> {
    let saved = state.settings();
    let mut draft = (*saved).clone();
    if let Some(choice) = req.sandbox {
        draft.sandbox = choice;
    }
    if !state.sandbox_active(&draft, req.role) {
        return None;
    }
    let conn = sandbox_setup::connection(state)?;
    let saved_url = req
        .role
        .connection(&saved)
        .base_url
        .trim()
        .trim_end_matches('/')
        .to_string();
    (base_url == saved_url || base_url == conn.base_url.trim_end_matches('/')).then_some(conn)
}

/// How many webhooks 8x8 lists, as a sentence.
fn webhooks_registered(count: u64) -> String {
    match count {
        0 => "No webhook is registered yet.".to_string(),
        1 => "1 webhook is registered.".to_string(),
        n => format!("{n} webhooks are registered."),
    }
}

/// Tests the embedded emulator with its own key and tenant, said as the sandbox.
async fn test_sandbox(conn: Connection) -> TestOutcome {
    let host = host_of(&conn.base_url);
    let client = ChatGatewayClient::with_policy(conn, RetryPolicy::once());
    let query = PageQuery {
        size: Some(1),
        page: None,
        sort: None,
    };
    let result = tokio::time::timeout(SETUP_TIMEOUT, client.list_webhooks(&query))
        .await
        .unwrap_or(Err(ClientError::Timeout(SETUP_TIMEOUT)));
    match result {
        Ok(page) => TestOutcome {
            ok: true,
            code: None,
            message: format!(
                "Connected to the sandbox (the built-in 8x8 emulator at {host}); it needs no key of yours. {} The Base URL, API Key and 8x8-Tenant here apply once you switch to a real tenant.",
                webhooks_registered(page.total_elements)
            ),
        },
        Err(e) => {
            let mut outcome = explain(&e, &host);
            outcome.message = format!("The sandbox (the built-in 8x8 emulator) did not answer: {}", outcome.message);
            outcome
        }
    }
}

/// 8x8's failures in the words an admin can act on.
pub fn explain(e: &ClientError, host: &str) -> TestOutcome {
    let code = ErrorCode::from(e);
    match e {
        ClientError::Api(api) if api.status == 401 => TestOutcome::failed(
            code,
            format!("8x8 refused the API key (401 Unauthorized: {}). Copy the whole key from the 8x8 Admin Console (API Keys) and check that its app includes the Chat Gateway product.", api.message),
        ),
        ClientError::Api(api) if api.status == 403 => TestOutcome::failed(
            code,
            format!("8x8 accepted the key but refused the tenant (403 Forbidden: {}). Check the 8x8-Tenant: it is mandatory when your organisation has several tenants and must belong to this key.", detail(api)),
        ),
        ClientError::Api(api) if api.status == 404 => TestOutcome::failed(
            code,
            format!("Nothing answers at {host}/chat-gateway/v1 (404). Check the Base URL; for 8x8 it is https://api.8x8.com."),
        ),
        ClientError::Api(api) => TestOutcome::failed(code, format!("{api}.")),
        ClientError::Connect(m) | ClientError::Transport(m) if is_tls(m) => TestOutcome::failed(
            ErrorCode::GatewayTls,
            format!("The secure connection (TLS) to {host} failed: {m}. Check the Base URL, and any proxy that intercepts HTTPS."),
        ),
        ClientError::Connect(m) => TestOutcome::failed(code, unreachable(host, m)),
        ClientError::Timeout(d) => TestOutcome::failed(
            code,
            format!("{host} did not answer within {} s. Check the Base URL and this machine's network.", d.as_secs()),
        ),
        other => TestOutcome::failed(code, format!("{other}.")),
    }
}

/// A connection that failed before 8x8 could answer, in plain words: the HTTP client's
/// chain ("error sending request: client error (Connect): dns error: …") is only kept
/// for what has no plainer name.
fn unreachable(host: &str, m: &str) -> String {
    let lower = m.to_ascii_lowercase();
    if [
        "dns error",
        "failed to lookup address",
        "name or service not known",
    ]
    .iter()
    .any(|w| lower.contains(w))
    {
        format!("Cannot reach {host}: that name is not found (DNS). Check the Base URL's spelling and this machine's network.")
    } else if lower.contains("connection refused") {
        format!("Cannot reach {host}: the connection was refused (nothing listens there). Check the Base URL, with its port.")
    } else {
        format!("Cannot reach {host}: {m}. Check the Base URL and this machine's network.")
    }
}

fn detail(api: &chat_gateway_client::ApiError) -> String {
    api.details
        .first()
        .cloned()
        .unwrap_or_else(|| api.message.clone())
}

fn is_tls(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    // rustls words it "invalid peer certificate", "received corrupt message", "alert".
    [
        "certificate",
        "tls",
        "handshake",
        "ssl",
        "corrupt message",
        "alert",
    ]
    .iter()
    .any(|w| m.contains(w))
}

fn host_of(base_url: &str) -> String {
    url::Url::parse(base_url)
        .ok()
        .and_then(|u| {
            u.host_str().map(|h| {
                u.port()
                    .map(|p| format!("{h}:{p}"))
                    .unwrap_or(h.to_string())
            })
        })
        .unwrap_or_else(|| base_url.to_string())
}

/// An 8x8 call of a setup helper that failed, and the host it went to (for the words).
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct SetupError {
    pub host: String,
    #[source]
    pub error: ClientError,
}

/// The client of the role's connection, and the host it talks to.
async fn client_for(
    state: &RelayState,
    role: Role,
) -> Result<(ChatGatewayClient, String), SetupError> {
    let conn = crate::connections::resolve_for(state, role)
        .await
        .map_err(|error| SetupError {
            host: String::new(),
            error,
        })?;
    let host = host_of(&conn.base_url);
    Ok((ChatGatewayClient::new(conn), host))
}

/// What [`register_webhook`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum RegistrationAction {
    Created,
    Updated,
    Unchanged,
}

#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "WebhookRegistration")]
pub struct Registration {
    pub action: RegistrationAction,
    pub webhook: Webhook,
    pub verified: bool,
    pub message: String,
}

/// Creates or re-points the relay's webhook at the current Endpoint URL. 8x8 verifies
/// the URL (WEB_HOOK_VERIFY) before it answers, so success means 8x8 reached the relay.
pub async fn register_webhook(state: &RelayState) -> Result<Registration, SetupError> {
    let (client, host) = client_for(state, Role::Endpoint).await?;
    let url = state.endpoint_url(&state.settings()).0;
    let work = async {
        let hooks = sandbox_setup::all_webhooks(&client).await?;
        if let Some(hook) = hooks.iter().find(|h| h.uri == url) {
            client.verify_webhook(&url).await?;
            return Ok(Registration {
                action: RegistrationAction::Unchanged,
                webhook: hook.clone(),
                verified: true,
                message: format!(
                    "Webhook unchanged: {} already points at this relay; 8x8 verified the Endpoint URL again.",
                    hook.id
                ),
            });
        }
        let request = WebhookRequest::new(WEBHOOK_NAME, &url);
        if let Some(hook) = hooks.iter().find(|h| h.name == WEBHOOK_NAME) {
            let updated = client.update_webhook(&hook.id, &request).await?;
            return Ok(Registration {
                action: RegistrationAction::Updated,
                message: format!(
                    "Webhook updated: {} now points at this relay; 8x8 verified the Endpoint URL.",
                    updated.id
                ),
                webhook: updated,
                verified: true,
            });
        }
        let created = client.create_webhook(&request).await?;
        Ok(Registration {
            action: RegistrationAction::Created,
            message: format!("Webhook created ({}): 8x8 verified the Endpoint URL. Choose it for your 8x8 chat channel.", created.id),
            webhook: created,
            verified: true,
        })
    };
    tokio::time::timeout(SETUP_TIMEOUT, work)
        .await
        .unwrap_or(Err(ClientError::Timeout(SETUP_TIMEOUT)))
        .map_err(|error| SetupError { host, error })
}

#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct WebhookState {
    pub registered: bool,
    pub webhook: Option<Webhook>,
    /// False when the registered webhook points somewhere else (the Endpoint URL drifted).
    pub up_to_date: bool,
    pub endpoint_url: String,
}

pub async fn webhook_state(state: &RelayState) -> Result<WebhookState, SetupError> {
    let (client, host) = client_for(state, Role::Endpoint).await?;
    let url = state.endpoint_url(&state.settings()).0;
    let hooks = tokio::time::timeout(SETUP_TIMEOUT, sandbox_setup::all_webhooks(&client))
        .await
        .unwrap_or(Err(ClientError::Timeout(SETUP_TIMEOUT)))
        .map_err(|error| SetupError { host, error })?;
    let current = hooks.iter().find(|h| h.uri == url);
    let named = hooks.iter().find(|h| h.name == WEBHOOK_NAME);
    Ok(WebhookState {
        registered: current.or(named).is_some(),
        webhook: current.or(named).cloned(),
        up_to_date: current.is_some(),
        endpoint_url: url,
    })
}

/// A channel as the pickers offer it.
#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "Channel")]
pub struct ChannelChoice {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub webhook_id: Option<String>,
    pub queue_id: Option<String>,
}

impl From<Channel> for ChannelChoice {
    fn from(c: Channel) -> Self {
        Self {
            id: c.id,
            name: c.name,
            kind: c.kind,
            webhook_id: c.web_hook_id,
            queue_id: c.routing_options.map(|r| r.id),
        }
    }
}

/// Every channel of the role's connection (a handful of pages at most), for the pickers.
pub async fn channels(state: &RelayState, role: Role) -> Result<Vec<ChannelChoice>, SetupError> {
    let (client, host) = client_for(state, role).await?;
    let work = async {
        let mut out = Vec::new();
        for page in 0..20 {
            let p = client
                .list_channels(&PageQuery {
                    size: Some(100),
                    page: Some(page),
                    sort: None,
                })
                .await?;
            let more = p.has_next();
            out.extend(p.items.into_iter().map(ChannelChoice::from));
            if !more {
                break;
            }
        }
        Ok(out)
    };
    tokio::time::timeout(SETUP_TIMEOUT, work)
        .await
        .unwrap_or(Err(ClientError::Timeout(SETUP_TIMEOUT)))
        .map_err(|error| SetupError { host, error })
}

/// What the agent receives on a handover, with sample values.
#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "HandoverPreview")]
pub struct Preview {
    pub user: ConversationUser,
    pub history: History,
    pub notes: Vec<String>,
}

/// What the agent receives, built with the same types the handover sends: the user with
/// the JSON properties as `additionalProperties`, and a sample bot transcript.
pub fn handover_preview(
    json_properties_text: &str,
    handover_message: &str,
) -> Result<Preview, String> {
    let additional_properties = json_properties::parse(json_properties_text)?;
    let count = additional_properties.len();
    Ok(Preview {
        user: ConversationUser {
            name: Some("Sam Sample".into()),
            email: Some("sam.sample@example.com".into()),
            language: Some("en".into()),
            additional_properties,
            ..ConversationUser::default()
        },
        history: History {
            messages: vec![
                SendMessage::text("user", "Hi, I have a question about my bill."),
                SendMessage::text("bot", "Sure. What would you like to know?"),
                SendMessage::text("user", "I'd like to talk to a person."),
                SendMessage::text("bot", handover_message),
            ],
        },
        notes: vec![
            "Name, email and language come from the conversation; these are sample values.".into(),
            format!(
                "{count} of at most {} custom properties; values that are not text are sent as JSON text.",
                json_properties::MAX_ENTRIES
            ),
            "The history is the bot transcript, the latest 200 messages at most.".into(),
        ],
    })
}

/// Something about the settings the admin should know, though nothing is invalid.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Warning {
    pub code: WarningCode,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum WarningCode {
    /// Webhook signatures are not verified.
    SignaturesOff,
    /// The Endpoint URL is local, so 8x8's cloud cannot reach it.
    EndpointLocalOnly,
    /// The sandbox could not be prepared.
    SandboxSetupFailed,
    /// The handover channel delivers its events to another receiver.
    HandoverChannelElsewhere,
}

/// Checks that need 8x8: the handover channel must deliver its events to this relay,
/// or agent messages go to another receiver (which relays them too: doubled) or nowhere.
/// Bounded in time: a slow 8x8 must not hold the settings page.
pub async fn channel_warnings(state: &RelayState) -> Vec<Warning> {
    let settings = state.settings();
    let Some(channel_id) = settings.handover.channel_id.clone() else {
        return Vec::new();
    };
    let work = async {
        let client = ChatGatewayClient::with_policy(
            crate::connections::resolve_for(state, Role::Handover).await?,
            RetryPolicy::once(),
        );
        let channel = client.get_channel(&channel_id).await?;
        let Some(webhook_id) = channel.web_hook_id else {
            return Ok(None);
        };
        let hooks = sandbox_setup::all_webhooks(&client).await?;
        Ok::<_, ClientError>(hooks.into_iter().find(|h| h.id == webhook_id))
    };
    let url = state.endpoint_url(&settings).0;
    match tokio::time::timeout(Duration::from_secs(3), work).await {
        Ok(Ok(Some(hook))) if hook.uri != url => vec![Warning {
            code: WarningCode::HandoverChannelElsewhere,
            message: format!(
                "The handover channel {channel_id} sends its events to {}, not to this relay's Endpoint URL. Agent messages would be relayed by that receiver as well (doubled) or not reach Switchboard at all: point the channel at the Switchboard webhook.",
                hook.uri
            ),
        }],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_preview_shows_properties_as_8x8_gets_them() {
        let p = handover_preview(r#"{"intent": "billing", "tier": 2}"#, "Connecting you.").unwrap();
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(
            json["user"]["additionalProperties"],
            serde_json::json!([{"key": "intent", "value": "billing"}, {"key": "tier", "value": "2"}])
        );
        assert_eq!(json["history"]["messages"][3]["authorType"], "bot");
        assert_eq!(json["history"]["messages"][3]["text"], "Connecting you.");
        assert!(handover_preview("[", "x").unwrap_err().contains("line 1"));
    }

    #[test]
    fn tls_failures_are_named() {
        let e = ClientError::Connect("invalid peer certificate: UnknownIssuer".into());
        let o = explain(&e, "api.example.com");
        assert_eq!(o.code, Some(ErrorCode::GatewayTls));
        assert!(o.message.contains("TLS"), "{}", o.message);
        let e = ClientError::Connect("connection refused".into());
        assert_eq!(explain(&e, "h").code, Some(ErrorCode::GatewayUnreachable));
    }

    #[test]
    fn a_host_that_cannot_be_reached_is_said_in_plain_words() {
        let dns = ClientError::Connect(
            "error sending request: client error (Connect): dns error: failed to lookup address information: Name or service not known".into(),
        );
        let o = explain(&dns, "api.8x8.com");
        assert_eq!(o.code, Some(ErrorCode::GatewayUnreachable));
        assert_eq!(
            o.message,
            "Cannot reach api.8x8.com: that name is not found (DNS). Check the Base URL's spelling and this machine's network."
        );
        let refused = ClientError::Connect(
            "error sending request: client error (Connect): tcp connect error: Connection refused (os error 111)".into(),
        );
        assert_eq!(
            explain(&refused, "127.0.0.1:9").message,
            "Cannot reach 127.0.0.1:9: the connection was refused (nothing listens there). Check the Base URL, with its port."
        );
    }
}
