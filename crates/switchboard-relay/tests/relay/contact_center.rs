//! 8x8's queue statistics and schedules (docs/contact-center.md) as the relay reads them:
//! the client's calls on the wire (path, key, tenant), the relay's few-seconds cache and
//! short timeout, and the words a failing 8x8 gets — against a local stand-in that
//! answers what a test tells it and counts what it is asked.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    extract::{Request, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use chat_gateway_client::{ChatGatewayClient, ClientError, Connection, RetryPolicy, SentRequest};
use openapi_contract::Contract;
use switchboard_engine::Connections;
use switchboard_relay::connections::RelayConnections;
use switchboard_settings::secrets::Secret;
use switchboard_types::contact_center::{QueueFigures, ScheduleState};

use crate::support::*;

/// What the stand-in answers for a path: status, body, and a delay before answering.
#[derive(Clone)]
struct Answer {
    status: u16,
    body: String,
    delay: Duration,
}

fn answer(status: u16, body: impl Into<String>) -> Answer {
    Answer {
        status,
        body: body.into(),
        delay: Duration::ZERO,
    }
}

/// One request as the stand-in received it.
#[derive(Clone, Debug)]
struct Seen {
    path: String,
    api_key: Option<String>,
    tenant: Option<String>,
}

#[derive(Clone, Default)]
struct StandIn {
    answers: Arc<Mutex<HashMap<String, Answer>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl StandIn {
    async fn start() -> (StandIn, String) {
        let s = StandIn::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new().fallback(reply).with_state(s.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (s, base)
    }

    fn set(&self, path: &str, a: Answer) {
        self.answers.lock().unwrap().insert(path.into(), a);
    }

    /// How many times `path` was asked.
    fn asked(&self, path: &str) -> usize {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.path == path)
            .count()
    }
}

async fn reply(State(s): State<StandIn>, req: Request) -> Response {
    // Read before any await: a request (its body) is not shared across threads.
    let seen = {
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        Seen {
            path: req.uri().path().to_string(),
            api_key: header("x-api-key"),
            tenant: header("x-8x8-tenant"),
        }
    };
    drop(req);
    let path = seen.path.clone();
    s.seen.lock().unwrap().push(seen);
    let a = s.answers.lock().unwrap().get(&path).cloned();
    let Some(a) = a else {
        return (StatusCode::NOT_FOUND, "{\"message\":\"no such path\"}").into_response();
    };
    tokio::time::sleep(a.delay).await;
    (
        StatusCode::from_u16(a.status).unwrap(),
        [("content-type", "application/json")],
        a.body,
    )
        .into_response()
}

fn client(base: &str, sent: Arc<Mutex<Vec<SentRequest>>>) -> ChatGatewayClient {
    ChatGatewayClient::with_policy(
        Connection {
            base_url: base.into(),
            tenant: Some(TENANT.into()),
            api_key: Secret::new(KEY),
        },
        RetryPolicy::once(),
    )
    .observe(Arc::new(move |r: &SentRequest| {
        sent.lock().unwrap().push(r.clone())
    }))
}

const QUEUE_101: &str = r#"{"queue":{"queue-id":"101","queue-name":"Support","queue-size":"2",
  "longest-wait-time":40.0,"thirty-min-avg-wait-time":"25","agent-count-waitTransact":1,
  "agent-count-busy":3,"agent-count-workOffline":null,"agent-count-onBreak":1,
  "agent-count-loggedOut":4,"agent-count-postProcess":-1}}"#;

fn support_figures() -> QueueFigures {
    QueueFigures {
        queue_id: "101".into(),
        queue_name: Some("Support".into()),
        waiting: 2,
        longest_wait_seconds: 40,
        average_wait_seconds: 25,
        agents_available: 1,
        agents_busy: 3,
        agents_working_offline: 0,
        agents_on_break: 1,
        agents_logged_out: 4,
        agents_wrap_up: 0,
    }
}

#[tokio::test]
async fn the_client_reads_queues_and_schedules_under_cc_v1_with_key_and_tenant() {
    let (standin, base) = StandIn::start().await;
    standin.set(
        "/cc/v1/stats/rt/queues",
        answer(
            200,
            format!("{{\"queue\":[{}]}}", &QUEUE_101[9..QUEUE_101.len() - 1]),
        ),
    );
    standin.set("/cc/v1/stats/rt/queue/101", answer(200, QUEUE_101));
    standin.set(
        "/cc/v1/schedules",
        answer(
            200,
            r#"{"schedules":{"schedule":[{"id":122,"name":"Default"},{"id":"123"}]}}"#,
        ),
    );
    standin.set(
        "/cc/v1/schedules/122/status",
        answer(200, r#"{"schedule-status":{"status":"-1"}}"#),
    );
    standin.set(
        "/cc/v1/schedules/a%2Fb/status",
        answer(200, r#"{"schedule-status":{"status":"choice # 2"}}"#),
    );
    let sent = Arc::new(Mutex::new(Vec::new()));
    let c = client(&base, sent.clone());

    assert_eq!(c.queue_stats_list().await.unwrap(), vec![support_figures()]);
    assert_eq!(c.queue_stats("101").await.unwrap(), support_figures());
    let schedules = c.schedules().await.unwrap();
    assert_eq!(
        schedules
            .iter()
            .map(|s| (s.id.as_str(), s.name.as_deref()))
            .collect::<Vec<_>>(),
        [("122", Some("Default")), ("123", None)]
    );
    assert_eq!(
        c.schedule_status("122").await.unwrap(),
        ScheduleState::Closed
    );
    // An id is one path segment, escaped.
    assert_eq!(
        c.schedule_status("a/b").await.unwrap(),
        ScheduleState::Choice("Choice #2".into())
    );

    let seen = standin.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 5);
    for s in &seen {
        assert_eq!(s.api_key.as_deref(), Some(KEY), "{s:?}");
        assert_eq!(s.tenant.as_deref(), Some(TENANT), "{s:?}");
    }
    // The observer sees them like the Chat Gateway's calls; they are not operations of
    // 8x8's Chat Gateway OpenAPI document, which does not describe /cc/v1.
    let sent = sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 5);
    for r in &sent {
        assert!(r.path.starts_with("/cc/v1/"), "{r:?}");
        assert!(
            Contract::get().find_operation(&r.method, &r.path).is_none(),
            "{r:?}"
        );
    }
}

#[tokio::test]
async fn what_8x8_answered_is_said_when_it_cannot_be_read() {
    let (standin, base) = StandIn::start().await;
    let c = client(&base, Arc::default());
    standin.set(
        "/cc/v1/stats/rt/queue/101",
        answer(500, r#"{"message":"Internal error."}"#),
    );
    match c.queue_stats("101").await.unwrap_err() {
        ClientError::Api(e) => {
            assert_eq!((e.status, e.message.as_str()), (500, "Internal error."))
        }
        other => panic!("{other:?}"),
    }
    standin.set(
        "/cc/v1/stats/rt/queue/101",
        answer(200, "<html>oops</html>"),
    );
    let e = c.queue_stats("101").await.unwrap_err();
    assert!(matches!(e, ClientError::Decode(_)), "{e:?}");
    let text = e.to_string();
    assert!(
        text.contains("GET /cc/v1/stats/rt/queue/101") && text.contains("<html>oops</html>"),
        "{text}"
    );
    standin.set(
        "/cc/v1/schedules/122/status",
        answer(200, r#"{"schedule-status":{"status":"Choice #9"}}"#),
    );
    let text = c.schedule_status("122").await.unwrap_err().to_string();
    assert!(
        text.contains("GET /cc/v1/schedules/122/status") && text.contains("\"Choice #9\""),
        "{text}"
    );
    assert!(!text.contains(KEY));
}

/// A relay whose (endpoint and handover) connection is the stand-in, with the engine's
/// view of its connections and an admin API client.
struct Relay {
    relay: switchboard_relay::RelayHandle,
    connections: RelayConnections,
    _dir: tempfile::TempDir,
}

impl Relay {
    async fn start(base: &str) -> Relay {
        let dir = tempfile::tempdir().unwrap();
        let relay = start_relay(dir.path(), base).await;
        let connections = RelayConnections::new(Arc::downgrade(&relay.state));
        Relay {
            relay,
            connections,
            _dir: dir,
        }
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
}

#[tokio::test]
async fn a_second_read_within_seconds_does_not_reach_8x8() {
    let (standin, base) = StandIn::start().await;
    standin.set("/cc/v1/stats/rt/queue/101", answer(200, QUEUE_101));
    standin.set(
        "/cc/v1/schedules/122/status",
        answer(200, r#"{"schedule-status":{"status":0}}"#),
    );
    let r = Relay::start(&base).await;

    assert_eq!(
        r.connections.queue_figures("101").await,
        Ok(support_figures())
    );
    // The admin API's one-queue route reads the same cache.
    let (status, body) = r.admin("/contact-center/queues/101").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["waiting"], 2);
    assert_eq!(body["agentsAvailable"], 1);
    assert_eq!(r.connections.queue_figures("101").await.unwrap().waiting, 2);
    assert_eq!(standin.asked("/cc/v1/stats/rt/queue/101"), 1);

    assert_eq!(
        r.connections.schedule_state("122").await,
        Ok(ScheduleState::Open)
    );
    let (status, body) = r.admin("/contact-center/schedules/122/status").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        serde_json::json!({"scheduleId": "122", "state": {"kind": "open"}, "label": "Open"})
    );
    assert_eq!(standin.asked("/cc/v1/schedules/122/status"), 1);

    r.relay.shutdown().await;
}

#[tokio::test]
async fn a_failing_8x8_is_said_in_words_and_not_asked_again_at_once() {
    let (standin, base) = StandIn::start().await;
    standin.set(
        "/cc/v1/stats/rt/queue/101",
        answer(500, r#"{"message":"Internal error."}"#),
    );
    let r = Relay::start(&base).await;

    let words = r.connections.queue_figures("101").await.unwrap_err();
    assert_eq!(
        words,
        "8x8's queue statistics for queue 101 could not be read: 8x8 answered 500: Internal error."
    );
    // Two attempts (one retry of a 5xx), then the failure is kept for a second.
    let asked = standin.asked("/cc/v1/stats/rt/queue/101");
    assert_eq!(asked, 2);
    let (status, body) = r.admin("/contact-center/queues/101").await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["code"], "8x8_unavailable");
    assert_eq!(body["message"], words.as_str());
    assert_eq!(standin.asked("/cc/v1/stats/rt/queue/101"), asked);

    // Once 8x8 answers again, a read a second later has the figures.
    standin.set("/cc/v1/stats/rt/queue/101", answer(200, QUEUE_101));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        r.connections.queue_figures("101").await,
        Ok(support_figures())
    );

    // A schedule status none of the known values is an error quoting it.
    standin.set(
        "/cc/v1/schedules/122/status",
        answer(200, r#"{"schedule-status":{"status":"Holiday"}}"#),
    );
    let words = r.connections.schedule_state("122").await.unwrap_err();
    assert!(
        words.starts_with("8x8's schedule 122 could not be read: 8x8's answer could not be read: GET /cc/v1/schedules/122/status: 8x8 answered the status \"Holiday\""),
        "{words}"
    );
    r.relay.shutdown().await;
}

#[tokio::test]
async fn a_slow_8x8_is_given_up_within_three_seconds() {
    let (standin, base) = StandIn::start().await;
    standin.set(
        "/cc/v1/stats/rt/queue/101",
        Answer {
            delay: Duration::from_secs(20),
            ..answer(200, QUEUE_101)
        },
    );
    let r = Relay::start(&base).await;
    let started = Instant::now();
    let words = r.connections.queue_figures("101").await.unwrap_err();
    let took = started.elapsed();
    assert!(took < Duration::from_millis(3500), "{took:?}");
    assert!(
        words.starts_with(
            "8x8's queue statistics for queue 101 could not be read: 8x8 did not answer within"
        ),
        "{words}"
    );
    r.relay.shutdown().await;
}

#[tokio::test]
async fn the_admin_api_lists_schedules_and_queues() {
    let (standin, base) = StandIn::start().await;
    standin.set(
        "/cc/v1/schedules",
        answer(
            200,
            r#"{"schedules":{"schedule":[{"id":122,"name":"Default"},{"id":"123"}]}}"#,
        ),
    );
    standin.set(
        "/cc/v1/stats/rt/queues",
        answer(200, r#"{"queue":{"queue-id":7,"queue-size":"1"}}"#),
    );
    let r = Relay::start(&base).await;
    let (status, body) = r.admin("/contact-center/schedules").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        serde_json::json!({"schedules": [{"id": "122", "name": "Default"}, {"id": "123", "name": "123"}]})
    );
    let (status, body) = r.admin("/contact-center/queues").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["queues"][0]["queueId"], "7");
    assert_eq!(body["queues"][0]["waiting"], 1);

    // 8x8 refusing the key: the admin API says so with the client's code.
    standin.set(
        "/cc/v1/schedules",
        answer(401, r#"{"message":"Access Denied"}"#),
    );
    let (status, body) = r.admin("/contact-center/schedules").await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["code"], "8x8_unauthorized");
    assert_eq!(
        body["message"],
        "8x8's list of schedules could not be read: 8x8 answered 401: Access Denied"
    );
    // An id with a space is refused before 8x8 is asked.
    let (status, body) = r.admin("/contact-center/queues/1%2001").await;
    assert_eq!((status, body["code"].as_str()), (400, Some("bad_request")));
    r.relay.shutdown().await;
}

#[tokio::test]
async fn without_an_api_key_the_admin_api_says_where_to_set_one() {
    let (standin, base) = StandIn::start().await;
    let r = Relay::start(&base).await;
    r.relay
        .state
        .secrets
        .delete(switchboard_settings::secrets::SecretName::EndpointApiKey)
        .await
        .unwrap();
    let (status, body) = r.admin("/contact-center/schedules").await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["code"], "8x8_not_configured");
    assert_eq!(
        body["message"],
        "8x8's list of schedules could not be read: no 8x8 API key is set for the handover connection (save one in the Handover settings, or use the sandbox)"
    );
    let words = r.connections.schedule_state("122").await.unwrap_err();
    assert!(words.contains("no 8x8 API key is set"), "{words}");
    assert!(standin.seen.lock().unwrap().is_empty());
    r.relay.shutdown().await;
}
