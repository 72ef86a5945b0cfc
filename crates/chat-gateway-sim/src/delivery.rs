//! Delivers webhook events the way 8x8 does (chat-gateway.md §7): the six `x-8x8-*` headers, a
//! fresh signature and transmission time per attempt, retries on non-2xx and timeouts.
//!
//! Each conversation has its own lane (a queue and a task): an event is sent only after
//! the one before it succeeded or ran out of retries, so per-conversation order holds
//! unless a reorder fault is injected. Every attempt lands in the [`EventLog`].

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

use crate::clock::{now_ms, random_id};
use crate::eventlog::{EventLog, LogRecord};
use crate::faults::{DeliveryFault, Faults};
use crate::settings::Settings;
use crate::signing::Keyring;
use crate::tasks::Tasks;

/// One event on its way to a webhook.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub record_type: String,
    pub event_id: String,
    pub tenant: String,
    pub url: String,
    pub webhook_id: Option<String>,
    pub channel_id: Option<String>,
    pub conversation_id: Option<String>,
    pub interaction_id: Option<String>,
    pub body: Bytes,
}

/// How an attempt is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignMode {
    Signed,
    Unsigned,
    BadSignature,
}

pub struct Delivery {
    client: reqwest::Client,
    keyring: Arc<Keyring>,
    customer_id: String,
    settings: Arc<RwLock<Settings>>,
    faults: Arc<Mutex<Faults>>,
    log: Arc<EventLog>,
    tasks: Arc<Tasks>,
    lanes: Mutex<HashMap<String, UnboundedSender<Outgoing>>>,
}

impl Delivery {
    pub fn new(
        keyring: Arc<Keyring>,
        customer_id: String,
        settings: Arc<RwLock<Settings>>,
        faults: Arc<Mutex<Faults>>,
        log: Arc<EventLog>,
        tasks: Arc<Tasks>,
    ) -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .unwrap_or_default();
        Self {
            client,
            keyring,
            customer_id,
            settings,
            faults,
            log,
            tasks,
            lanes: Mutex::new(HashMap::new()),
        }
    }

    /// Queues an event on the lane `lane` (the conversation id). Never blocks, so it can
    /// be called while the store is locked, which is what keeps events in state order.
    pub fn enqueue(self: &Arc<Self>, lane: &str, out: Outgoing) {
        let mut lanes = self.lanes.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tx) = lanes.get(lane) {
            if tx.send(out.clone()).is_ok() {
                return;
            }
        }
        let (tx, rx) = unbounded_channel();
        let _ = tx.send(out);
        lanes.insert(lane.to_string(), tx);
        let me = self.clone();
        self.tasks.spawn(async move { me.run_lane(rx).await });
    }

    /// Records an event that has nowhere to go (its webhook was deleted).
    pub fn undeliverable(&self, out: &Outgoing, why: &str) {
        self.log.push(LogRecord {
            direction: "outbound".into(),
            status: "undeliverable".into(),
            error: Some(why.into()),
            ..self.base_record(out, 0)
        });
    }

    async fn run_lane(self: Arc<Self>, mut rx: UnboundedReceiver<Outgoing>) {
        let mut held: Option<Outgoing> = None;
        loop {
            let next = if held.is_some() {
                // A held (reordered) event waits for the next one, but not forever.
                match tokio::time::timeout(Duration::from_millis(500), rx.recv()).await {
                    Ok(v) => v,
                    Err(_) => {
                        if let Some(h) = held.take() {
                            self.deliver_event(h).await;
                        }
                        continue;
                    }
                }
            } else {
                rx.recv().await
            };
            let Some(out) = next else { break };
            let (drop, reorder) = {
                let mut f = self.faults.lock().unwrap_or_else(|e| e.into_inner());
                let drop = f.take(DeliveryFault::Drop);
                let reorder = !drop && held.is_none() && f.take(DeliveryFault::Reorder);
                (drop, reorder)
            };
            if drop {
                self.log.push(LogRecord {
                    direction: "outbound".into(),
                    status: "dropped".into(),
                    fault: Some("drop".into()),
                    ..self.base_record(&out, 0)
                });
            } else if reorder {
                held = Some(out);
                continue;
            } else {
                self.deliver_event(out).await;
            }
            if let Some(h) = held.take() {
                self.deliver_event(h).await;
            }
        }
    }

    /// All attempts of one event, plus a duplicate if that fault is due.
    async fn deliver_event(&self, out: Outgoing) {
        let (mode, duplicate) = {
            let mut f = self.faults.lock().unwrap_or_else(|e| e.into_inner());
            let mode = if f.take(DeliveryFault::Unsigned) {
                SignMode::Unsigned
            } else if f.take(DeliveryFault::BadSignature) {
                SignMode::BadSignature
            } else {
                SignMode::Signed
            };
            (mode, f.take(DeliveryFault::Duplicate))
        };
        self.with_retries(&out, mode, None).await;
        if duplicate {
            self.with_retries(&out, mode, Some("duplicate")).await;
        }
    }

    async fn with_retries(&self, out: &Outgoing, mode: SignMode, fault: Option<&str>) {
        let schedule = self
            .settings
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .retry_schedule_ms
            .clone();
        for retry in 0..=schedule.len() as u32 {
            if retry > 0 {
                tokio::time::sleep(Duration::from_millis(schedule[retry as usize - 1])).await;
            }
            if self.attempt(out, retry, mode, fault).await.is_ok() {
                return;
            }
        }
    }

    /// One delivery attempt; `Ok(status)` for a 2xx answer.
    pub async fn attempt(
        &self,
        out: &Outgoing,
        retry: u32,
        mode: SignMode,
        fault: Option<&str>,
    ) -> Result<u16, String> {
        let (timeout_ms, latency_ms) = {
            let s = self.settings.read().unwrap_or_else(|e| e.into_inner());
            let f = self.faults.lock().unwrap_or_else(|e| e.into_inner());
            (s.delivery_timeout_ms, f.webhook_latency_ms)
        };
        if latency_ms > 0 {
            tokio::time::sleep(Duration::from_millis(latency_ms)).await;
        }
        let tt = now_ms();
        let mut headers = BTreeMap::new();
        headers.insert("content-type".to_string(), "application/json".to_string());
        headers.insert("cache-control".to_string(), "no-cache".to_string());
        let signed = self.keyring.sign_delivery(
            &out.body,
            &out.tenant,
            &self.customer_id,
            &out.event_id,
            retry,
            tt,
        );
        for (k, v) in signed.pairs() {
            headers.insert(k.to_string(), v);
        }
        let fault_label = match mode {
            SignMode::Signed => fault.map(str::to_string),
            SignMode::Unsigned => {
                headers.remove("x-8x8-signature");
                Some("unsigned".to_string())
            }
            SignMode::BadSignature => {
                // A well-formed signature over other values: it must not verify.
                let wrong = self.keyring.sign_delivery(
                    &out.body,
                    &out.tenant,
                    &self.customer_id,
                    &out.event_id,
                    retry + 1000,
                    tt,
                );
                headers.insert("x-8x8-signature".into(), wrong.signature);
                Some("bad-signature".to_string())
            }
        };
        let mut req = self
            .client
            .post(&out.url)
            .timeout(Duration::from_millis(timeout_ms))
            .body(out.body.clone());
        for (k, v) in &headers {
            req = req.header(k, v);
        }
        let started = Instant::now();
        let result = req.send().await;
        let (status, status_code, response_body, error, outcome) = match result {
            Ok(resp) => {
                let code = resp.status().as_u16();
                let text = resp.text().await.unwrap_or_default();
                if (200..300).contains(&code) {
                    ("delivered", Some(code), Some(text), None, Ok(code))
                } else {
                    (
                        "failed",
                        Some(code),
                        Some(text),
                        None,
                        Err(format!("HTTP {code}")),
                    )
                }
            }
            Err(e) => {
                let msg = if e.is_timeout() {
                    format!("timeout after {timeout_ms} ms")
                } else {
                    format!("connection error: {e}")
                };
                ("error", None, None, Some(msg.clone()), Err(msg))
            }
        };
        self.log.push(LogRecord {
            direction: "outbound".into(),
            status: status.into(),
            status_code,
            duration_ms: started.elapsed().as_millis() as u64,
            timestamp: tt,
            request_headers: headers,
            response_body,
            error,
            fault: fault_label,
            ..self.base_record(out, retry)
        });
        outcome
    }

    fn base_record(&self, out: &Outgoing, retry: u32) -> LogRecord {
        LogRecord {
            record_type: out.record_type.clone(),
            event_id: Some(out.event_id.clone()),
            retry,
            timestamp: now_ms(),
            tenant_id: Some(out.tenant.clone()),
            webhook_id: out.webhook_id.clone(),
            channel_id: out.channel_id.clone(),
            conversation_id: out.conversation_id.clone(),
            interaction_id: out.interaction_id.clone(),
            url: out.url.clone(),
            request_body: String::from_utf8_lossy(&out.body).into_owned(),
            ..LogRecord::default()
        }
    }
}

/// A fresh 22-character event id.
pub fn new_event_id() -> String {
    random_id(16)
}
