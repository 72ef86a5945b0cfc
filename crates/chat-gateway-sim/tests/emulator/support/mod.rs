//! Test support: an emulator on port 0 with its typed control client, a webhook
//! receiver on 127.0.0.1 port 0 that records every delivery, an API client that checks
//! every emulator response against 8x8's OpenAPI document (a response that does not
//! validate fails the test), and [`eventually`], the one way these tests wait.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use chat_gateway_sim::control_client::{AgentScript, LogFilter, LogRecord, SimControl};
use chat_gateway_sim::{Keyring, Seed, SimConfig, SimHandle};
use openapi_contract::Contract;
use serde_json::{json, Value};

pub const KEY: &str = "sandbox-key";
pub const TENANT: &str = "sandbox-tenant";
pub const V1: &str = "/chat-gateway/v1";

/// How often [`eventually`] asks again.
const POLL_EVERY: Duration = Duration::from_millis(10);

/// Asks `f` until it answers `Some`, and returns that; panics with `what` once `timeout`
/// has passed without one. Every wait in these tests goes through here. `what` is
/// formatted only on timeout, so it may describe the state at that moment.
pub async fn eventually<T>(
    what: impl fmt::Display,
    timeout: Duration,
    f: impl AsyncFnMut() -> Option<T>,
) -> T {
    switchboard_testkit::eventually(what, timeout, POLL_EVERY, f).await
}

/// One RSA key for the whole test binary: key generation is the slow part of start-up.
pub fn shared_keyring() -> Arc<Keyring> {
    static K: OnceLock<Arc<Keyring>> = OnceLock::new();
    K.get_or_init(|| Arc::new(Keyring::generate().expect("keygen")))
        .clone()
}

/// A delivery as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Delivered {
    #[expect(dead_code, reason = "shown by Debug when a test prints deliveries")]
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: Bytes,
    pub json: Value,
    pub answered: u16,
    pub at: Instant,
}

impl Delivered {
    pub fn event_type(&self) -> &str {
        self.json["eventType"].as_str().unwrap_or("")
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).cloned()
    }
}

#[derive(Default)]
struct RecvState {
    seen: Mutex<Vec<Delivered>>,
    answers: Mutex<VecDeque<u16>>,
    delay_ms: Mutex<u64>,
}

/// A webhook receiver on 127.0.0.1, port 0.
pub struct Receiver {
    pub url: String,
    state: Arc<RecvState>,
    task: tokio::task::JoinHandle<()>,
}

async fn receive(
    State(s): State<Arc<RecvState>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let delay = *s.delay_ms.lock().unwrap();
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let answer = s.answers.lock().unwrap().pop_front().unwrap_or(200);
    let headers = headers
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    s.seen.lock().unwrap().push(Delivered {
        path: uri.path().to_string(),
        headers,
        json: serde_json::from_slice(&body).unwrap_or(Value::Null),
        body,
        answered: answer,
        at: Instant::now(),
    });
    StatusCode::from_u16(answer).unwrap()
}

impl Receiver {
    pub async fn start() -> Receiver {
        let state = Arc::new(RecvState::default());
        let app = Router::new()
            .route("/{*path}", post(receive))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver {
            url: format!("http://{addr}/hook"),
            state,
            task,
        }
    }

    /// The next deliveries are answered with these statuses (then 200 again).
    pub fn answer_next(&self, statuses: &[u16]) {
        self.state.answers.lock().unwrap().extend(statuses);
    }

    pub fn set_delay_ms(&self, ms: u64) {
        *self.state.delay_ms.lock().unwrap() = ms;
    }

    pub fn all(&self) -> Vec<Delivered> {
        self.state.seen.lock().unwrap().clone()
    }

    pub fn clear(&self) {
        self.state.seen.lock().unwrap().clear();
    }

    /// Every delivery for a conversation, in arrival order.
    pub fn for_conversation(&self, conv: &str) -> Vec<Delivered> {
        self.all()
            .into_iter()
            .filter(|d| d.json["conversationId"] == conv)
            .collect()
    }

    /// Waits until `f` holds over all deliveries so far; panics (with the deliveries)
    /// after `timeout_ms`.
    pub async fn wait_until<F>(&self, timeout_ms: u64, what: &str, f: F) -> Vec<Delivered>
    where
        F: Fn(&[Delivered]) -> bool,
    {
        let timeout = Duration::from_millis(timeout_ms);
        eventually(self.waiting_for(what), timeout, async || {
            let all = self.all();
            f(&all).then_some(all)
        })
        .await
    }

    /// Waits for a successful delivery of `event_type` for `conv` matching `pred`.
    pub async fn wait_event<F>(&self, conv: &str, event_type: &str, pred: F) -> Delivered
    where
        F: Fn(&Value) -> bool,
    {
        let what = format!("{event_type} for {conv}");
        eventually(
            self.waiting_for(&what),
            Duration::from_secs(5),
            async || {
                self.all().into_iter().find(|d| {
                    d.answered < 300
                        && d.json["conversationId"] == conv
                        && d.event_type() == event_type
                        && pred(&d.json)
                })
            },
        )
        .await
    }

    /// `what`, and on a timeout every delivery the receiver got by then.
    fn waiting_for<'a>(&'a self, what: &'a str) -> impl fmt::Display + 'a {
        struct WithDeliveries<'a>(&'a str, &'a Receiver);
        impl fmt::Display for WithDeliveries<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}; deliveries:", self.0)?;
                for d in self.1.all() {
                    write!(f, "\n[{}] {}", d.answered, String::from_utf8_lossy(&d.body))?;
                }
                Ok(())
            }
        }
        WithDeliveries(what, self)
    }

    /// The successful deliveries of a conversation as `TYPE[:detail]` labels, for
    /// asserting on sequences.
    pub fn labels(&self, conv: &str) -> Vec<String> {
        self.for_conversation(conv)
            .iter()
            .filter(|d| d.answered < 300)
            .map(label)
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `CONVERSATION_UPDATE:active:queue`, `MEMBERS_CHANGED:agent:joined`, `MESSAGE:agent`,
/// `MESSAGE:echo:user`, `ACTIVITY:typing:1`, `QUEUED:101`, `TRANSFER`.
pub fn label(d: &Delivered) -> String {
    let j = &d.json;
    let data = &j["data"];
    match d.event_type() {
        "CONVERSATION_UPDATE" => format!(
            "CONVERSATION_UPDATE:{}:{}",
            data["state"].as_str().unwrap_or(""),
            data["assignment"]["type"].as_str().unwrap_or("")
        ),
        "MEMBERS_CHANGED" => format!(
            "MEMBERS_CHANGED:{}:{}",
            data["memberType"].as_str().unwrap_or(""),
            data["change"].as_str().unwrap_or("")
        ),
        "MESSAGE" => {
            if data["isEcho"] == true {
                format!(
                    "MESSAGE:echo:{}",
                    data["sender"]["type"].as_str().unwrap_or("")
                )
            } else {
                format!("MESSAGE:{}", data["sender"]["type"].as_str().unwrap_or(""))
            }
        }
        "ACTIVITY" => match data["name"].as_str().unwrap_or("") {
            "typing" => format!(
                "ACTIVITY:typing:{}",
                data["value"]["users"]
                    .as_array()
                    .map(|a| a.len())
                    .unwrap_or(0)
            ),
            other => format!("ACTIVITY:{other}"),
        },
        "QUEUED" => format!("QUEUED:{}", data["queueId"].as_str().unwrap_or("")),
        other => other.to_string(),
    }
}

/// A response, already checked against the contract.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub content_type: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub bytes: Bytes,
    pub body: Option<Value>,
}

impl Resp {
    pub fn json(&self) -> &Value {
        self.body.as_ref().expect("a JSON body")
    }
}

/// A Chat Gateway client for tests: every response is validated against the contract.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub key: Option<String>,
    pub tenant: Option<String>,
    http: reqwest::Client,
}

impl Api {
    pub fn new(base: &str) -> Self {
        Self {
            base: base.to_string(),
            key: Some(KEY.into()),
            tenant: Some(TENANT.into()),
            http: reqwest::Client::builder().no_proxy().build().unwrap(),
        }
    }

    pub fn with_key(&self, key: Option<&str>) -> Self {
        Self {
            key: key.map(str::to_string),
            ..self.clone()
        }
    }

    pub fn with_tenant(&self, tenant: Option<&str>) -> Self {
        Self {
            tenant: tenant.map(str::to_string),
            ..self.clone()
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.call("GET", path, None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.call("POST", path, Some(body)).await
    }
    pub async fn put(&self, path: &str, body: Value) -> Resp {
        self.call("PUT", path, Some(body)).await
    }
    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        self.call("PATCH", path, Some(body)).await
    }

    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Resp {
        let raw = body.map(|b| serde_json::to_vec(&b).unwrap());
        self.raw(method, path, raw, Some("application/json")).await
    }

    /// Any bytes, any content type; the response is still validated.
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        body: Option<Vec<u8>>,
        content_type: Option<&str>,
    ) -> Resp {
        let mut req = self
            .http
            .request(method.parse().unwrap(), format!("{}{}", self.base, path))
            .header("accept", "application/hal+json");
        if let Some(k) = &self.key {
            req = req.header("x-api-key", k);
        }
        if let Some(t) = &self.tenant {
            req = req.header("X-8x8-Tenant", t);
        }
        if let Some(b) = body {
            if let Some(ct) = content_type {
                req = req.header("content-type", ct);
            }
            req = req.body(b);
        }
        self.finish(method, path, req).await
    }

    pub async fn upload(&self, path: &str, form: reqwest::multipart::Form) -> Resp {
        let mut req = self
            .http
            .post(format!("{}{}", self.base, path))
            .multipart(form);
        if let Some(k) = &self.key {
            req = req.header("x-api-key", k);
        }
        if let Some(t) = &self.tenant {
            req = req.header("X-8x8-Tenant", t);
        }
        self.finish("POST", path, req).await
    }

    async fn finish(&self, method: &str, path: &str, req: reqwest::RequestBuilder) -> Resp {
        let r = req.send().await.expect("the emulator answers");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let content_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = r.bytes().await.unwrap();
        let binary = content_type
            .as_deref()
            .is_some_and(|c| c.starts_with("application/octet-stream"));
        let body = if bytes.is_empty() || binary {
            None
        } else {
            Some(serde_json::from_slice::<Value>(&bytes).unwrap_or_else(|e| {
                panic!(
                    "{method} {path} -> {status}: body is not JSON ({e}): {}",
                    String::from_utf8_lossy(&bytes)
                )
            }))
        };
        if let Err(errors) = Contract::get().validate_response(
            method,
            path,
            status,
            content_type.as_deref(),
            body.as_ref(),
        ) {
            panic!(
                "response does not match the OpenAPI contract:\n  {}\nbody: {}",
                errors.join("\n  "),
                String::from_utf8_lossy(&bytes)
            );
        }
        Resp {
            status,
            content_type,
            headers,
            bytes,
            body,
        }
    }
}

/// An emulator with fast timings, its control client, a receiver and an API client.
pub struct Env {
    pub sim: SimHandle,
    /// The control API (`/sim/...`), typed.
    pub ctl: SimControl,
    pub api: Api,
    pub rx: Receiver,
    pub http: reqwest::Client,
}

impl Env {
    pub async fn start() -> Env {
        Self::with_seed(Seed::sandbox()).await
    }

    pub async fn with_seed(seed: Seed) -> Env {
        let mut config = SimConfig::new("127.0.0.1:0".parse().unwrap(), seed);
        config.settings = chat_gateway_sim::Settings::fast();
        config.keyring = Some(shared_keyring());
        let sim = chat_gateway_sim::start(config)
            .await
            .expect("the emulator starts");
        let api = Api::new(&sim.base_url());
        let ctl = sim.control();
        let rx = Receiver::start().await;
        Env {
            sim,
            ctl,
            api,
            rx,
            http: reqwest::Client::builder().no_proxy().build().unwrap(),
        }
    }

    /// Makes the sandbox's mock agents answer fast (they wait 1.5 s by default).
    pub async fn fast_agents(&self) {
        for (q, to) in [("101", Some("102")), ("102", None)] {
            let script = AgentScript {
                agent_id: format!("agent-{q}"),
                accept_after_ms: 30,
                typing_ms: 20,
                greeting: Some(format!("Hello from queue {q}")),
                replies: Vec::new(),
                transfer_keyword: to.map(|_| "transfer".to_string()),
                transfer_to: to.map(str::to_string),
                end_keyword: Some("bye".into()),
            };
            self.ctl.set_queue_agent(q, Some(&script)).await.unwrap();
        }
    }

    /// Leaves queue offers to a person (the control API), no scripted agent.
    pub async fn manual_agents(&self) {
        for q in ["101", "102"] {
            self.ctl.set_queue_agent(q, None).await.unwrap();
        }
    }

    /// Registers the receiver as a webhook and creates a ChatAPI channel on queue 101.
    pub async fn webhook_and_channel(&self) -> (String, String) {
        let w = self
            .api
            .post(
                &format!("{V1}/webhooks"),
                json!({"name": "relay", "uri": self.rx.url, "version": "Chat Gateway v1.0", "notificationVersion": "Chat Gateway v1.0"}),
            )
            .await;
        assert_eq!(w.status, 200, "{:?}", w.body);
        let wid = w.json()["id"].as_str().unwrap().to_string();
        let c = self
            .api
            .post(
                &format!("{V1}/channels"),
                json!({"name": "relay channel", "type": "ChatAPI", "webHookId": wid, "routingOptions": {"type": "queue", "id": "101"}}),
            )
            .await;
        assert_eq!(c.status, 200, "{:?}", c.body);
        (wid, c.json()["id"].as_str().unwrap().to_string())
    }

    pub async fn create_conversation(&self, channel: &str) -> String {
        let r = self
            .api
            .post(
                &format!("{V1}/conversations"),
                json!({
                    "channelId": channel,
                    "user": {"name": "James Jones", "email": "user@example.com", "language": "en",
                             "additionalProperties": [{"key": "Intent", "value": "balance"}]},
                    "history": {"messages": [
                        {"authorType": "user", "text": "Can I get my balance?"},
                        {"authorType": "bot", "text": "Sure, connecting you to an agent"}
                    ]}
                }),
            )
            .await;
        assert_eq!(r.status, 202, "{:?}", r.body);
        r.json()["conversationId"].as_str().unwrap().to_string()
    }

    /// The Event Log records matching `filter`.
    pub async fn log(&self, filter: LogFilter) -> Vec<LogRecord> {
        self.ctl.log(&filter).await.unwrap()
    }
}
