//! The 8x8 Chat Gateway v1 client: typed operations over reqwest, with the headers 8x8
//! wants (`x-api-key`, `X-8x8-Tenant` whenever a tenant is configured — P16 — JSON in,
//! hal+json out), one error type for all of 8x8's error shapes, per-attempt timeouts and
//! the retry rules of [`retry`]. The API key is only ever put in the request header; it
//! is never logged and never part of an error.

use std::time::Duration;

use bytes::Bytes;
use reqwest::{header, Method};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;

use crate::{
    error::{ApiError, ClientError},
    observe::{ExchangeObserver, HttpExchange, RequestObserver, SentRequest},
    retry::{self, RetryPolicy},
    types::*,
    Connection,
};

const PREFIX: &str = "/chat-gateway/v1";
const ACCEPT: &str = "application/hal+json, application/json;q=0.9, */*;q=0.5";

#[derive(Clone)]
pub struct ChatGatewayClient {
    http: reqwest::Client,
    conn: Connection,
    policy: RetryPolicy,
    observer: Option<RequestObserver>,
    exchanges: Option<ExchangeObserver>,
}

impl std::fmt::Debug for ChatGatewayClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatGatewayClient")
            .field("base_url", &self.conn.base_url)
            .field("tenant", &self.conn.tenant)
            .finish_non_exhaustive()
    }
}

/// A request body; multipart is rebuilt for every attempt (reqwest forms are one-shot).
enum Body<'a> {
    None,
    Json(Value),
    Upload {
        filename: &'a str,
        content_type: &'a str,
        bytes: Bytes,
        author_type: &'a str,
    },
}

struct Raw {
    headers: header::HeaderMap,
    bytes: Bytes,
}

impl ChatGatewayClient {
    pub fn new(conn: Connection) -> Self {
        Self::with_policy(conn, RetryPolicy::default())
    }

    pub fn with_policy(conn: Connection, policy: RetryPolicy) -> Self {
        let http = http_client(&policy);
        Self::with_http(http, conn, policy)
    }

    /// Shares a connection pool (see [`http_client`]) across clients made per call, as
    /// the outbox does so that a changed key or Base URL applies at once.
    pub fn with_http(http: reqwest::Client, conn: Connection, policy: RetryPolicy) -> Self {
        Self {
            http,
            conn,
            policy,
            observer: None,
            exchanges: None,
        }
    }

    /// Calls `observer` with every request before it is sent.
    pub fn observe(mut self, observer: RequestObserver) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Calls `observer` after every attempt with its exchange (status, time, body).
    pub fn on_exchange(mut self, observer: ExchangeObserver) -> Self {
        self.exchanges = Some(observer);
        self
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    // ---- webhooks -------------------------------------------------------------------

    pub async fn list_webhooks(&self, q: &PageQuery) -> Result<Page<Webhook>, ClientError> {
        self.list("/webhooks", q, "webhooks").await
    }

    /// 8x8 sends `WEB_HOOK_VERIFY` to the URI before answering (chat-gateway.md §7.7).
    pub async fn create_webhook(&self, req: &WebhookRequest) -> Result<Webhook, ClientError> {
        self.json(Method::POST, "/webhooks".into(), &[], Some(req), false)
            .await
    }

    pub async fn update_webhook(
        &self,
        id: &str,
        req: &WebhookRequest,
    ) -> Result<Webhook, ClientError> {
        self.json(
            Method::PUT,
            format!("/webhooks/{}", seg(id)),
            &[],
            Some(req),
            true,
        )
        .await
    }

    /// Asks 8x8 to POST a verify event to `uri` (204 when it answered 2xx).
    pub async fn verify_webhook(&self, uri: &str) -> Result<(), ClientError> {
        let req = WebhookVerifyRequest {
            version: CHAT_GATEWAY_V1.into(),
            uri: uri.into(),
        };
        self.empty(Method::POST, "/webhooks/verify".into(), Some(&req), true)
            .await
    }

    // ---- channels -------------------------------------------------------------------

    pub async fn list_channels(&self, q: &PageQuery) -> Result<Page<Channel>, ClientError> {
        self.list("/channels", q, "channels").await
    }

    /// Only `ChatAPI` channels can be created through the API.
    pub async fn create_channel(&self, req: &ChannelRequest) -> Result<Channel, ClientError> {
        self.json(Method::POST, "/channels".into(), &[], Some(req), false)
            .await
    }

    pub async fn get_channel(&self, id: &str) -> Result<Channel, ClientError> {
        self.json::<(), _>(
            Method::GET,
            format!("/channels/{}", seg(id)),
            &[],
            None,
            true,
        )
        .await
    }

    // ---- conversations --------------------------------------------------------------

    pub async fn create_conversation(
        &self,
        req: &CreateConversation,
    ) -> Result<CreatedConversation, ClientError> {
        self.json(Method::POST, "/conversations".into(), &[], Some(req), false)
            .await
    }

    pub async fn get_conversation(&self, id: &str) -> Result<Conversation, ClientError> {
        self.json::<(), _>(Method::GET, conv(id, ""), &[], None, true)
            .await
    }

    /// Re-routes the conversation (e.g. the bot hands an 8x8-owned chat to a queue).
    pub async fn patch_assignment(
        &self,
        id: &str,
        assignment: &Assignment,
    ) -> Result<Conversation, ClientError> {
        let body = serde_json::json!({ "assignment": assignment });
        self.json(Method::PATCH, conv(id, ""), &[], Some(&body), false)
            .await
    }

    /// `PATCH …/conversations/{id}` with the assignment and, when given, user fields.
    pub async fn patch_conversation(
        &self,
        id: &str,
        assignment: &Assignment,
        user: Option<&ConversationUser>,
    ) -> Result<Conversation, ClientError> {
        let mut body = serde_json::json!({ "assignment": assignment });
        if let Some(user) = user {
            body["user"] = serde_json::to_value(user).unwrap_or(Value::Null);
        }
        self.json(Method::PATCH, conv(id, ""), &[], Some(&body), false)
            .await
    }

    pub async fn list_interactions(
        &self,
        id: &str,
        q: &PageQuery,
    ) -> Result<Page<Interaction>, ClientError> {
        self.list(&conv(id, "/interactions"), q, "interactions")
            .await
    }

    pub async fn post_agent_assignment(
        &self,
        id: &str,
        req: &PostAgentAssignment,
    ) -> Result<(), ClientError> {
        self.empty(
            Method::POST,
            conv(id, "/post-agent-assignment"),
            Some(req),
            false,
        )
        .await
    }

    // ---- messages, indicators, participants -----------------------------------------

    /// 202 without a body: 8x8 returns no message id (P5).
    pub async fn send_message(&self, id: &str, msg: &SendMessage) -> Result<(), ClientError> {
        self.empty(Method::POST, conv(id, "/messages"), Some(msg), false)
            .await
    }

    pub async fn list_messages(
        &self,
        id: &str,
        q: &PageQuery,
    ) -> Result<Page<Message>, ClientError> {
        self.list(&conv(id, "/messages"), q, "messages").await
    }

    /// A pulse; there is no "stop typing" (P23).
    pub async fn typing(&self, id: &str, author_type: &str) -> Result<(), ClientError> {
        let body = serde_json::json!({ "authorType": author_type });
        self.empty(Method::POST, conv(id, "/typing"), Some(&body), true)
            .await
    }

    pub async fn thinking(&self, id: &str, max_seconds: Option<u32>) -> Result<(), ClientError> {
        let mut body = serde_json::json!({ "authorType": "bot" });
        if let Some(s) = max_seconds {
            body["maxThinkingTimeSeconds"] = s.into();
        }
        self.empty(Method::POST, conv(id, "/thinking"), Some(&body), true)
            .await
    }

    /// Ends the conversation from the user's side; a second leave is harmless (P27).
    pub async fn user_leave(&self, id: &str) -> Result<(), ClientError> {
        let body = serde_json::json!({ "removed": true });
        self.empty(
            Method::PATCH,
            conv(id, "/participants/user"),
            Some(&body),
            true,
        )
        .await
    }

    // ---- attachments ----------------------------------------------------------------

    pub async fn upload_attachment(
        &self,
        id: &str,
        filename: &str,
        content_type: &str,
        bytes: Bytes,
        author_type: &str,
    ) -> Result<Attachment, ClientError> {
        let raw = self
            .send(
                Method::POST,
                conv(id, "/attachments"),
                &[],
                Body::Upload {
                    filename,
                    content_type,
                    bytes,
                    author_type,
                },
                false,
            )
            .await?;
        decode(&raw.bytes)
    }

    pub async fn download_attachment(
        &self,
        id: &str,
        attachment_id: &str,
    ) -> Result<AttachmentContent, ClientError> {
        let raw = self
            .send(
                Method::GET,
                conv(id, &format!("/attachments/{}/content", seg(attachment_id))),
                &[],
                Body::None,
                true,
            )
            .await?;
        let text = |name| {
            raw.headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        Ok(AttachmentContent {
            content_type: text(header::CONTENT_TYPE),
            content_disposition: text(header::CONTENT_DISPOSITION),
            bytes: raw.bytes,
        })
    }

    // ---- JWK ------------------------------------------------------------------------

    /// The public key 8x8 signs webhooks with (no auth needed).
    pub async fn get_jwk(&self, kid: &str) -> Result<Value, ClientError> {
        self.json::<(), _>(
            Method::GET,
            format!("/jwk/{}/public", seg(kid)),
            &[],
            None,
            true,
        )
        .await
    }

    // ---- plumbing -------------------------------------------------------------------

    async fn list<T: DeserializeOwned>(
        &self,
        path: &str,
        q: &PageQuery,
        collection: &str,
    ) -> Result<Page<T>, ClientError> {
        let v: Value = self
            .json::<(), _>(Method::GET, path.to_string(), &q.pairs(), None, true)
            .await?;
        let items = match v.get("_embedded").and_then(|e| e.get(collection)) {
            Some(items) => serde_json::from_value(items.clone())
                .map_err(|e| ClientError::Decode(format!("{collection}: {e}")))?,
            None => Vec::new(),
        };
        let page = v.get("page").cloned().unwrap_or(Value::Null);
        let num = |k: &str| page.get(k).and_then(Value::as_u64).unwrap_or(0);
        Ok(Page {
            items,
            number: num("number") as u32,
            size: num("size") as u32,
            total_elements: num("totalElements"),
            total_pages: num("totalPages") as u32,
        })
    }

    async fn json<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: String,
        query: &[(&str, String)],
        body: Option<&B>,
        idempotent: bool,
    ) -> Result<T, ClientError> {
        let raw = self
            .send(method, path, query, json_body(body)?, idempotent)
            .await?;
        decode(&raw.bytes)
    }

    async fn empty<B: Serialize>(
        &self,
        method: Method,
        path: String,
        body: Option<&B>,
        idempotent: bool,
    ) -> Result<(), ClientError> {
        self.send(method, path, &[], json_body(body)?, idempotent)
            .await
            .map(|_| ())
    }

    /// A GET under the Contact Center API's `/cc/v1` (contact_center.rs): the same
    /// headers, retries and observers as the Chat Gateway's calls; the body as sent.
    pub(crate) async fn cc_get(&self, path: String) -> Result<Bytes, ClientError> {
        self.send_at(
            crate::contact_center::PREFIX,
            Method::GET,
            path,
            &[],
            Body::None,
            true,
        )
        .await
        .map(|raw| raw.bytes)
    }

    async fn send(
        &self,
        method: Method,
        path: String,
        query: &[(&str, String)],
        body: Body<'_>,
        idempotent: bool,
    ) -> Result<Raw, ClientError> {
        self.send_at(PREFIX, method, path, query, body, idempotent)
            .await
    }

    async fn send_at(
        &self,
        prefix: &str,
        method: Method,
        path: String,
        query: &[(&str, String)],
        body: Body<'_>,
        idempotent: bool,
    ) -> Result<Raw, ClientError> {
        let mut url = url::Url::parse(&format!(
            "{}{prefix}{path}",
            self.conn.base_url.trim_end_matches('/')
        ))
        .map_err(|e| ClientError::InvalidRequest(format!("the Base URL is not valid: {e}")))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        if let Some(observer) = &self.observer {
            let path_and_query = match url.query() {
                Some(q) => format!("{}?{q}", url.path()),
                None => url.path().to_string(),
            };
            observer(&SentRequest {
                method: method.to_string(),
                path: path_and_query,
                body: match &body {
                    Body::None => None,
                    Body::Json(v) => Some(v.clone()),
                    Body::Upload { .. } => Some(Value::Null),
                },
            });
        }
        let mut attempt = 1;
        loop {
            let result = self.attempt(&method, &url, &body).await;
            let error = match result {
                Ok(raw) => return Ok(raw),
                Err(e) => e,
            };
            if attempt >= self.policy.max_attempts || !retry::is_retryable(&error, idempotent) {
                return Err(error);
            }
            let wait = self.policy.delay(attempt, &error);
            tracing::debug!(%method, path = url.path(), attempt, ?wait, error = %error, "retrying an 8x8 call");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    async fn attempt(
        &self,
        method: &Method,
        url: &url::Url,
        body: &Body<'_>,
    ) -> Result<Raw, ClientError> {
        let mut req = self
            .http
            .request(method.clone(), url.clone())
            .header("x-api-key", self.conn.api_key.expose())
            .header(header::ACCEPT, ACCEPT);
        if let Some(tenant) = &self.conn.tenant {
            req = req.header("X-8x8-Tenant", tenant);
        }
        req = match body {
            Body::None => req,
            Body::Json(v) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(serde_json::to_vec(v).expect("a JSON value serializes")),
            Body::Upload {
                filename,
                content_type,
                bytes,
                author_type,
            } => {
                let part = reqwest::multipart::Part::bytes(bytes.to_vec())
                    .file_name(filename.to_string())
                    .mime_str(content_type)
                    .map_err(|e| ClientError::InvalidRequest(format!("content type: {e}")))?;
                let form = reqwest::multipart::Form::new()
                    .part("attachment", part)
                    .text("authorType", author_type.to_string());
                req.multipart(form)
            }
        };
        let started = std::time::Instant::now();
        let answer = async {
            let response = req.send().await?;
            let status = response.status();
            let headers = response.headers().clone();
            Ok::<_, reqwest::Error>((status, headers, response.bytes().await?))
        }
        .await;
        if let Some(observer) = &self.exchanges {
            let mut shown = url.clone();
            // Never in a Base URL 8x8 gives, but a typed one could carry a login.
            let _ = shown.set_username("");
            let _ = shown.set_password(None);
            let (status, body) = match &answer {
                Ok((status, _, bytes)) => (Some(status.as_u16()), Some(bytes)),
                Err(e) => (e.status().map(|s| s.as_u16()), None),
            };
            observer(&HttpExchange {
                method: method.to_string(),
                url: shown.to_string(),
                status,
                duration_ms: started.elapsed().as_millis() as u64,
                response_body: body.map(|b| HttpExchange::cut_body(b)),
                response_bytes: body.map_or(0, |b| b.len() as u64),
            });
        }
        let (status, headers, bytes) = answer.map_err(|e| self.transport(e))?;
        tracing::debug!(%method, path = url.path(), status = status.as_u16(), "8x8 call");
        if status.is_success() {
            return Ok(Raw { headers, bytes });
        }
        Err(ClientError::Api(ApiError::parse(
            status.as_u16(),
            &bytes,
            retry_after(&headers),
        )))
    }

    fn transport(&self, e: reqwest::Error) -> ClientError {
        // reqwest's errors carry the URL, never headers: no key can leak here. The URL
        // is dropped anyway, the Base URL is shown elsewhere.
        if e.is_timeout() {
            ClientError::Timeout(self.policy.timeout)
        } else if e.is_connect() {
            ClientError::Connect(with_causes(e.without_url()))
        } else {
            ClientError::Transport(with_causes(e.without_url()))
        }
    }
}

/// reqwest's own message is only "error sending request"; the reason (refused, DNS,
/// certificate, TLS) is in the causes, and the admin needs it.
fn with_causes(e: reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = c.source();
    }
    text
}

/// The reqwest client 8x8 calls use: per-attempt timeout from the policy.
pub fn http_client(policy: &RetryPolicy) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(policy.timeout)
        .connect_timeout(policy.timeout.min(Duration::from_secs(5)))
        .user_agent(concat!("switchboard/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("a plain reqwest client builds")
}

fn json_body<B: Serialize>(body: Option<&B>) -> Result<Body<'static>, ClientError> {
    match body {
        None => Ok(Body::None),
        Some(b) => serde_json::to_value(b)
            .map(Body::Json)
            .map_err(|e| ClientError::InvalidRequest(e.to_string())),
    }
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ClientError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"null"
    } else {
        bytes
    };
    serde_json::from_slice(bytes).map_err(|e| ClientError::Decode(e.to_string()))
}

/// `Retry-After` as seconds (8x8's CPaaS style); an HTTP date is ignored.
fn retry_after(headers: &header::HeaderMap) -> Option<Duration> {
    headers
        .get(header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

fn conv(id: &str, rest: &str) -> String {
    format!("/conversations/{}{rest}", seg(id))
}

/// Percent-encodes one path segment (ids are opaque strings).
pub(crate) fn seg(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Secret;

    #[test]
    fn ids_are_escaped_in_paths() {
        assert_eq!(
            conv("a/b c", "/messages"),
            "/conversations/a%2Fb%20c/messages"
        );
        assert_eq!(seg("vXg39aMTRlq4xCBFaUCTlA"), "vXg39aMTRlq4xCBFaUCTlA");
    }

    #[test]
    fn debug_does_not_show_the_key() {
        let c = ChatGatewayClient::new(Connection {
            base_url: "http://127.0.0.1:1".into(),
            tenant: None,
            api_key: Secret::new("very-secret-key"),
        });
        assert!(!format!("{c:?}").contains("very-secret-key"));
    }
}
