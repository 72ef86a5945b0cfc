//! 8x8 Contact Center's queue statistics and schedules (docs/contact-center.md): the
//! `/cc/v1` API the handover checks read before handing over. Not part of the Chat
//! Gateway, nor of its OpenAPI document; 8x8 documents none of it, so the shapes are
//! those 8x8's customers' connectors read (§1, §3) and the reading is tolerant (§4):
//! hyphenated or camelCase names, numbers as numbers or strings, missing or null figures
//! as 0, negative ones as 0, ids as numbers or strings, a list given as one object.
//!
//! What cannot be read (a figure that is not a number, a schedule status that is none of
//! the known values, an answer that is not JSON) is a [`ClientError::Decode`] naming the
//! call and quoting what 8x8 answered, so the handover's fallback applies and the
//! transcript says why.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use ts_rs::TS;

use switchboard_types::contact_center::{QueueFigures, ScheduleState};

#[cfg(feature = "http")]
use crate::{client::seg, error::ClientError, ChatGatewayClient};

/// Where these paths start, under the Base URL (§1).
pub const PREFIX: &str = "/cc/v1";

/// A schedule as 8x8 lists it (`GET /cc/v1/schedules`), for picking one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Schedule {
    pub id: String,
    /// `None` when 8x8 gives no name.
    pub name: Option<String>,
}

#[cfg(feature = "http")]
impl ChatGatewayClient {
    /// Every queue's real-time figures (`GET {base}/cc/v1/stats/rt/queues`).
    pub async fn queue_stats_list(&self) -> Result<Vec<QueueFigures>, ClientError> {
        let call = "GET /cc/v1/stats/rt/queues";
        let body = self.cc_get("/stats/rt/queues".into()).await?;
        read_queue_list(&json(&body, call)?).map_err(|e| decode(call, e))
    }

    /// One queue's real-time figures (`GET {base}/cc/v1/stats/rt/queue/{id}`).
    pub async fn queue_stats(&self, queue_id: &str) -> Result<QueueFigures, ClientError> {
        let call = format!("GET /cc/v1/stats/rt/queue/{queue_id}");
        let body = self
            .cc_get(format!("/stats/rt/queue/{}", seg(queue_id)))
            .await?;
        read_queue(&json(&body, &call)?, queue_id).map_err(|e| decode(&call, e))
    }

    /// The tenant's schedules (`GET {base}/cc/v1/schedules`).
    pub async fn schedules(&self) -> Result<Vec<Schedule>, ClientError> {
        let call = "GET /cc/v1/schedules";
        let body = self.cc_get("/schedules".into()).await?;
        read_schedules(&json(&body, call)?).map_err(|e| decode(call, e))
    }

    /// A schedule's state now (`GET {base}/cc/v1/schedules/{id}/status`).
    pub async fn schedule_status(&self, schedule_id: &str) -> Result<ScheduleState, ClientError> {
        let call = format!("GET /cc/v1/schedules/{schedule_id}/status");
        let body = self
            .cc_get(format!("/schedules/{}/status", seg(schedule_id)))
            .await?;
        read_schedule_status(&json(&body, &call)?).map_err(|e| decode(&call, e))
    }
}

#[cfg(feature = "http")]
fn decode(call: &str, what: String) -> ClientError {
    ClientError::Decode(format!("{call}: {what}"))
}

/// The body as JSON, or an error quoting the start of what came instead.
#[cfg(feature = "http")]
fn json(body: &[u8], call: &str) -> Result<Value, ClientError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(decode(call, "8x8 answered with an empty body".into()));
    }
    serde_json::from_slice(body).map_err(|e| {
        let text = String::from_utf8_lossy(body);
        decode(
            call,
            format!("8x8 answered {} ({e}), not JSON", quote(text.trim())),
        )
    })
}

// ---- reading ------------------------------------------------------------------------

/// The queue list: `{"queue": [...]}`, or one object for a one-queue tenant, or the older
/// `{"queues": {"queue": [...]}}`; none at all is an empty list. Entries without a
/// queue id cannot be asked about again and are left out.
pub fn read_queue_list(body: &Value) -> Result<Vec<QueueFigures>, String> {
    let items = match body {
        Value::Array(_) => body,
        Value::Object(o) => match get(o, "queue") {
            Some(v) => v,
            None => match get(o, "queues") {
                Some(Value::Object(inner)) => get(inner, "queue").unwrap_or(&Value::Null),
                Some(v) => v,
                None => &Value::Null,
            },
        },
        Value::Null => &Value::Null,
        other => return Err(format!("8x8 answered {}, not a queue list", shown(other))),
    };
    let items: Vec<&Value> = match items {
        Value::Null => Vec::new(),
        Value::Array(a) => a.iter().collect(),
        one @ Value::Object(_) => vec![one],
        other => return Err(format!("`queue` is {}, not a list of queues", shown(other))),
    };
    let mut out = Vec::new();
    for (n, item) in items.into_iter().enumerate() {
        match item {
            Value::Null => {}
            Value::Object(o) => {
                let Some(id) = get(o, "queue-id").and_then(id_text) else {
                    continue;
                };
                out.push(figures(o, id).map_err(|e| format!("queue {}: {e}", n + 1))?);
            }
            other => {
                return Err(format!(
                    "entry {} of the queue list is {}, not a queue",
                    n + 1,
                    shown(other)
                ))
            }
        }
    }
    Ok(out)
}

/// One queue: `{"queue": {...}}` (also a one-entry list, or the object bare). An answer
/// about another queue than the one asked is refused rather than taken for it.
pub fn read_queue(body: &Value, queue_id: &str) -> Result<QueueFigures, String> {
    let inner = match body {
        Value::Object(o) => match get(o, "queue") {
            Some(v) => v,
            // The object itself, when it carries figures.
            None if get(o, "queue-id").is_some() || get(o, "queue-size").is_some() => body,
            None => &Value::Null,
        },
        other => other,
    };
    let object = match inner {
        Value::Object(o) => o,
        Value::Array(items) => {
            let objects: Vec<&Map<String, Value>> =
                items.iter().filter_map(Value::as_object).collect();
            let same = objects
                .iter()
                .copied()
                .find(|o| get(o, "queue-id").and_then(id_text).as_deref() == Some(queue_id.trim()));
            match (same, objects.as_slice()) {
                (Some(o), _) => o,
                (None, [only]) => *only,
                _ => {
                    return Err(format!(
                        "8x8 answered no statistics for queue {queue_id}: {}",
                        shown(body)
                    ))
                }
            }
        }
        _ => {
            return Err(format!(
                "8x8 answered no statistics for queue {queue_id}: {}",
                shown(body)
            ))
        }
    };
    if let Some(other) = get(object, "queue-id").and_then(id_text) {
        if other != queue_id.trim() {
            return Err(format!(
                "8x8 answered the statistics of queue {other}, not of queue {queue_id}"
            ));
        }
    }
    figures(object, queue_id.trim().to_string())
}

/// The figures a handover decides on, in seconds (docs/contact-center.md §1, §2).
fn figures(o: &Map<String, Value>, queue_id: String) -> Result<QueueFigures, String> {
    Ok(QueueFigures {
        queue_id,
        queue_name: get(o, "queue-name").and_then(id_text),
        waiting: count(o, "queue-size")?,
        longest_wait_seconds: count(o, "longest-wait-time")?,
        average_wait_seconds: count(o, "thirty-min-avg-wait-time")?,
        agents_available: count(o, "agent-count-waitTransact")?,
        agents_busy: count(o, "agent-count-busy")?,
        agents_working_offline: count(o, "agent-count-workOffline")?,
        agents_on_break: count(o, "agent-count-onBreak")?,
        agents_logged_out: count(o, "agent-count-loggedOut")?,
        agents_wrap_up: count(o, "agent-count-postProcess")?,
    })
}

/// The schedule list: `{"schedules": {"schedule": [...]}}`, also with one object for
/// the list, or the list bare; none at all is an empty list. Entries without an id
/// cannot be picked and are left out.
pub fn read_schedules(body: &Value) -> Result<Vec<Schedule>, String> {
    let mut list = body;
    // Unwrap `schedules`, then `schedule`, whichever are there.
    for key in ["schedules", "schedule"] {
        if let Value::Object(o) = list {
            if let Some(v) = get(o, key) {
                list = v;
            }
        }
    }
    let items: Vec<&Value> = match list {
        Value::Null => Vec::new(),
        Value::Array(a) => a.iter().collect(),
        // An object with an id is one schedule; any other (say `{}`) holds none.
        Value::Object(o) if get(o, "id").is_some() => vec![list],
        Value::Object(_) => Vec::new(),
        other => {
            return Err(format!(
                "8x8 answered {}, not a schedule list",
                shown(other)
            ))
        }
    };
    let mut out = Vec::new();
    for (n, item) in items.into_iter().enumerate() {
        match item {
            Value::Null => {}
            Value::Object(o) => {
                let Some(id) = get(o, "id").and_then(id_text) else {
                    continue;
                };
                out.push(Schedule {
                    id,
                    name: get(o, "name").and_then(id_text),
                });
            }
            other => {
                return Err(format!(
                    "entry {} of the schedule list is {}, not a schedule",
                    n + 1,
                    shown(other)
                ))
            }
        }
    }
    Ok(out)
}

/// `{"schedule-status": {"status": 0 | -1 | "Choice #n"}}` (the status also taken bare
/// or as a string); anything else is an error quoting it (§3).
pub fn read_schedule_status(body: &Value) -> Result<ScheduleState, String> {
    let status = match body {
        Value::Object(o) => match get(o, "schedule-status") {
            Some(Value::Object(inner)) => get(inner, "status"),
            Some(bare) => Some(bare),
            None => get(o, "status"),
        },
        _ => None,
    };
    match status {
        None => Err(format!("8x8 answered no status: {}", shown(body))),
        Some(v) => schedule_state(v).ok_or_else(|| {
            format!(
                "8x8 answered the status {}, which is none of 0 (open), -1 (closed) or \"Choice #1\" to \"Choice #6\"",
                shown(v)
            )
        }),
    }
}

fn schedule_state(v: &Value) -> Option<ScheduleState> {
    let number = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    if let Some(n) = number {
        return if n == 0.0 {
            Some(ScheduleState::Open)
        } else if n == -1.0 {
            Some(ScheduleState::Closed)
        } else {
            None
        };
    }
    // "Choice #3", "choice#3", "CHOICE # 3", "Choice 3": one spelling.
    let text: String = v
        .as_str()?
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    let rest = text.strip_prefix("choice")?;
    let digits = rest.strip_prefix('#').unwrap_or(rest);
    match digits.parse::<u8>() {
        Ok(n @ 1..=6) if digits.bytes().all(|b| b.is_ascii_digit()) => {
            Some(ScheduleState::Choice(format!("Choice #{n}")))
        }
        _ => None,
    }
}

// ---- tolerant fields ----------------------------------------------------------------

/// A field by 8x8's hyphenated name, or the same name in another spelling
/// (`queueSize`, `queue_size`, `Queue-Size`).
fn get<'a>(o: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    if let Some(v) = o.get(name) {
        return Some(v);
    }
    let wanted = squash(name);
    o.iter().find(|(k, _)| squash(k) == wanted).map(|(_, v)| v)
}

fn squash(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '-' | '_' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

/// A count or a number of seconds: a number or a numeric string (`"3"`, `"3.0"`),
/// rounded; missing, null or empty is 0, and so is a negative value (8x8's "none").
fn count(o: &Map<String, Value>, name: &str) -> Result<u32, String> {
    let value = match get(o, name) {
        None | Some(Value::Null) => return Ok(0),
        Some(v) => v,
    };
    let number = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) if s.trim().is_empty() => return Ok(0),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    };
    match number {
        Some(f) if f <= 0.0 => Ok(0),
        Some(f) if f >= u32::MAX as f64 => Ok(u32::MAX),
        Some(f) => Ok(f.round() as u32),
        None => Err(format!("`{name}` is {}, not a number", shown(value))),
    }
}

/// An id or a name: a string (trimmed, empty is none) or a number (`101`, `101.0`).
fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(f)) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            _ => n.to_string(),
        }),
        _ => None,
    }
}

/// What 8x8 answered, as JSON, cut short enough for a transcript line.
fn shown(v: &Value) -> String {
    quote(&v.to_string())
}

fn quote(text: &str) -> String {
    const MAX: usize = 120;
    if text.chars().count() <= MAX {
        return text.to_string();
    }
    let cut: String = text.chars().take(MAX).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The example of contact-center.md §1, as 8x8's customers' connectors read it.
    fn support_queue() -> Value {
        json!({ "queue": { "queue-id": 101, "queue-name": "Support", "media-type": "chat",
            "queue-type": "", "queue-size": 2, "longest-wait-time": 40,
            "thirty-min-avg-wait-time": 25, "agent-count-waitTransact": 1,
            "agent-count-busy": 3, "agent-count-workOffline": 0, "agent-count-onBreak": 1,
            "agent-count-loggedOut": 4, "agent-count-postProcess": 2,
            "assigned-agent-count": 9, "enabled-agent-count": 5 } })
    }

    #[test]
    fn a_queue_reads_into_the_figures_a_handover_decides_on() {
        let f = read_queue(&support_queue(), "101").unwrap();
        assert_eq!(
            f,
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
                agents_wrap_up: 2,
            }
        );
    }

    #[test]
    fn numbers_come_as_numbers_or_strings_and_are_rounded() {
        let body = json!({ "queue": { "queue-id": "101", "queue-size": "3",
            "longest-wait-time": "3.0", "thirty-min-avg-wait-time": 24.6,
            "agent-count-waitTransact": " 2 ", "agent-count-busy": 1e1 } });
        let f = read_queue(&body, "101").unwrap();
        assert_eq!(
            (
                f.waiting,
                f.longest_wait_seconds,
                f.average_wait_seconds,
                f.agents_available,
                f.agents_busy
            ),
            (3, 3, 25, 2, 10)
        );
    }

    #[test]
    fn missing_null_empty_and_negative_figures_are_zero() {
        let body = json!({ "queue": { "queue-id": 7, "queue-size": null,
            "longest-wait-time": -1, "thirty-min-avg-wait-time": "-5",
            "agent-count-busy": "" } });
        let f = read_queue(&body, "7").unwrap();
        assert_eq!(
            f,
            QueueFigures {
                queue_id: "7".into(),
                ..QueueFigures::default()
            }
        );
        // A figure too large for a count is the largest count, not an error.
        let huge = json!({ "queue": { "queue-size": 1e12 } });
        assert_eq!(read_queue(&huge, "7").unwrap().waiting, u32::MAX);
    }

    #[test]
    fn field_names_in_other_spellings_are_read() {
        let body = json!({ "Queue": { "queueId": 101, "queueSize": 4,
            "agent_count_wait_transact": 2, "Thirty-Min-Avg-Wait-Time": 60 } });
        let f = read_queue(&body, "101").unwrap();
        assert_eq!(
            (f.waiting, f.agents_available, f.average_wait_seconds),
            (4, 2, 60)
        );
    }

    #[test]
    fn ids_and_names_as_numbers_or_strings() {
        let body = json!({ "queue": [ { "queue-id": 101.0, "queue-name": 5 },
            { "queue-id": " 102 ", "queue-name": "  " } ] });
        let list = read_queue_list(&body).unwrap();
        assert_eq!(list[0].queue_id, "101");
        assert_eq!(list[0].queue_name.as_deref(), Some("5"));
        assert_eq!(list[1].queue_id, "102");
        assert_eq!(list[1].queue_name, None);
    }

    #[test]
    fn a_figure_that_is_not_a_number_is_an_error_naming_it() {
        let body = json!({ "queue": { "queue-id": 101, "queue-size": "lots" } });
        let e = read_queue(&body, "101").unwrap_err();
        assert_eq!(e, "`queue-size` is \"lots\", not a number");
        let body = json!({ "queue": { "queue-id": 101, "agent-count-busy": [1] } });
        assert!(read_queue(&body, "101")
            .unwrap_err()
            .contains("agent-count-busy"));
    }

    #[test]
    fn the_queue_list_missing_single_or_legacy() {
        assert!(read_queue_list(&json!({})).unwrap().is_empty());
        assert!(read_queue_list(&json!({ "queue": null }))
            .unwrap()
            .is_empty());
        assert!(read_queue_list(&Value::Null).unwrap().is_empty());
        let one = read_queue_list(&support_queue()).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].agents_busy, 3);
        let legacy = json!({ "queues": { "queue": [ { "queue-id": 1 }, { "queue-id": 2 } ] } });
        assert_eq!(read_queue_list(&legacy).unwrap().len(), 2);
        let bare = json!([ { "queue-id": 1 }, null, { "queue-name": "no id" } ]);
        assert_eq!(read_queue_list(&bare).unwrap().len(), 1);
        let bad = json!({ "queue": [ { "queue-id": 1 }, "two" ] });
        assert_eq!(
            read_queue_list(&bad).unwrap_err(),
            "entry 2 of the queue list is \"two\", not a queue"
        );
        assert!(read_queue_list(&json!({ "queue": 3 })).is_err());
    }

    #[test]
    fn one_queue_missing_or_another_one_is_an_error() {
        let e = read_queue(&json!({ "queue": null }), "101").unwrap_err();
        assert_eq!(
            e,
            "8x8 answered no statistics for queue 101: {\"queue\":null}"
        );
        assert!(read_queue(&json!({}), "101").is_err());
        let other = json!({ "queue": { "queue-id": 102 } });
        assert_eq!(
            read_queue(&other, "101").unwrap_err(),
            "8x8 answered the statistics of queue 102, not of queue 101"
        );
        // A list of one, or the one asked for among several, is taken.
        let listed =
            json!({ "queue": [ { "queue-id": 102 }, { "queue-id": 101, "queue-size": 5 } ] });
        assert_eq!(read_queue(&listed, "101").unwrap().waiting, 5);
        // The object bare, without the wrapper.
        assert_eq!(
            read_queue(&json!({ "queue-size": "1" }), "9")
                .unwrap()
                .waiting,
            1
        );
    }

    #[test]
    fn schedules_in_each_shape() {
        let body = json!({ "schedules": { "schedule": [
            { "id": 122, "name": "Default", "week-days": { "week-day": [
                { "day": 0, "properties": { "status": -1 } } ] } },
            { "id": "123", "name": "Weekend" },
            { "name": "no id" } ] } });
        assert_eq!(
            read_schedules(&body).unwrap(),
            vec![
                Schedule {
                    id: "122".into(),
                    name: Some("Default".into())
                },
                Schedule {
                    id: "123".into(),
                    name: Some("Weekend".into())
                },
            ]
        );
        let one = json!({ "schedules": { "schedule": { "id": 5 } } });
        assert_eq!(
            read_schedules(&one).unwrap(),
            vec![Schedule {
                id: "5".into(),
                name: None
            }]
        );
        assert!(read_schedules(&json!({})).unwrap().is_empty());
        assert!(read_schedules(&json!({ "schedules": {} }))
            .unwrap()
            .is_empty());
        assert!(read_schedules(&json!({ "schedules": null }))
            .unwrap()
            .is_empty());
        assert_eq!(read_schedules(&json!([ { "id": 1 } ])).unwrap().len(), 1);
        assert!(read_schedules(&json!({ "schedules": "none" })).is_err());
    }

    #[test]
    fn schedule_open_closed_and_choices() {
        let status =
            |v: Value| read_schedule_status(&json!({ "schedule-status": { "status": v } }));
        assert_eq!(status(json!(0)), Ok(ScheduleState::Open));
        assert_eq!(status(json!("0")), Ok(ScheduleState::Open));
        assert_eq!(status(json!(-1)), Ok(ScheduleState::Closed));
        assert_eq!(status(json!("-1")), Ok(ScheduleState::Closed));
        assert_eq!(status(json!(" -1.0 ")), Ok(ScheduleState::Closed));
        for spelling in ["Choice #1", "choice#1", "CHOICE # 1", " Choice  1 "] {
            assert_eq!(
                status(json!(spelling)),
                Ok(ScheduleState::Choice("Choice #1".into())),
                "{spelling}"
            );
        }
        assert_eq!(
            status(json!("Choice #6")),
            Ok(ScheduleState::Choice("Choice #6".into()))
        );
        // The status bare, or without the wrapper.
        assert_eq!(
            read_schedule_status(&json!({ "schedule-status": -1 })),
            Ok(ScheduleState::Closed)
        );
        assert_eq!(
            read_schedule_status(&json!({ "status": "Choice #2" })),
            Ok(ScheduleState::Choice("Choice #2".into()))
        );
    }

    #[test]
    fn any_other_schedule_status_is_an_error_saying_what_8x8_answered() {
        let status =
            |v: Value| read_schedule_status(&json!({ "schedule-status": { "status": v } }));
        for bad in [
            json!(1),
            json!(-2),
            json!("Choice #7"),
            json!("Choice #0"),
            json!("Choice #1a"),
            json!("Open"),
            json!(null),
            json!(true),
        ] {
            let e = status(bad.clone()).unwrap_err();
            assert!(e.contains(&bad.to_string()), "{e}");
            assert!(e.contains("none of 0 (open), -1 (closed)"), "{e}");
        }
        assert_eq!(
            read_schedule_status(&json!({})).unwrap_err(),
            "8x8 answered no status: {}"
        );
    }

    #[test]
    fn what_8x8_answered_is_cut_for_the_transcript() {
        let long = json!({ "queue": { "queue-id": 1, "queue-size": "x".repeat(500) } });
        let e = read_queue(&long, "1").unwrap_err();
        assert!(e.len() < 200 && e.contains('…'), "{e}");
    }
}
