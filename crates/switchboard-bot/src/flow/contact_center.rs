//! The flow's `handover.contact_center` block (its format is in the parent module's doc):
//! the Handover settings' contact-center checks in snake_case YAML, read into the same
//! [`ContactCenterChecks`] and held to the same rules, each problem reported at the line
//! of the key to fix.

use switchboard_types::contact_center::{
    AgentStates, Availability, ContactCenterChecks, OnCheckError, OpeningHours, QueueLimit,
};
use switchboard_types::contact_center_rules::{closed_choice_problem, SCHEDULE_CHOICES};

use super::{boolean, error, list, Fields, Result};
use crate::yaml::{Node, Pos};

const KEYS: &[&str] = &[
    "opening_hours",
    "availability",
    "queue_limit",
    "on_error",
    "queue_update_seconds",
    "queue_update_message",
    "cancel_word",
    "status",
];
const OPENING_HOURS_KEYS: &[&str] = &["schedule_id", "closed_choices", "message"];
const AVAILABILITY_KEYS: &[&str] = &["states", "message", "offer_wait"];
const QUEUE_LIMIT_KEYS: &[&str] = &["max_waiting", "max_longest_wait_seconds", "message"];
const STATUS_KEYS: &[&str] = &[
    "queued",
    "agent_joined",
    "transferred",
    "agent_left",
    "ended",
    "cancelled",
];

const STATES: &[(&str, AgentStates)] = &[
    ("available", AgentStates::Available),
    ("available_or_busy", AgentStates::AvailableOrBusy),
    (
        "available_busy_or_offline",
        AgentStates::AvailableBusyOrOffline,
    ),
    (
        "available_busy_offline_or_break",
        AgentStates::AvailableBusyOfflineOrBreak,
    ),
    ("logged_in", AgentStates::LoggedIn),
];
const ON_ERROR: &[(&str, OnCheckError)] = &[
    ("hand_over", OnCheckError::HandOver),
    ("treat_as_closed", OnCheckError::TreatAsClosed),
];

/// Reads the block whose key is at `key_at`. Keys left out take the type's defaults (not
/// the settings' values: the block replaces the settings' block whole); a section left
/// out is off.
pub(super) fn parse(key_at: Pos, node: &Node) -> Result<ContactCenterChecks> {
    let fields = Fields::of(node, "the contact_center block", KEYS)?;
    let mut checks = ContactCenterChecks::default();

    if let Some(node) = fields.optional("opening_hours") {
        let f = Fields::of(node, "opening_hours", OPENING_HOURS_KEYS)?;
        let mut hours = OpeningHours::default();
        if let Some(n) = f.optional("schedule_id") {
            hours.schedule_id = words(n, "schedule_id")?;
        }
        if let Some(n) = f.optional("closed_choices") {
            hours.closed_choices = closed_choices(n)?;
        }
        if let Some(n) = f.optional("message") {
            hours.message = words(n, "the out-of-hours message")?;
        }
        checks.opening_hours = Some(hours);
    }

    if let Some(node) = fields.optional("availability") {
        let f = Fields::of(node, "availability", AVAILABILITY_KEYS)?;
        let mut availability = Availability::default();
        if let Some(n) = f.optional("states") {
            availability.states = one_of(n, "states", STATES)?;
        }
        if let Some(n) = f.optional("message") {
            availability.message = words(n, "the availability message")?;
        }
        if let Some(n) = f.optional("offer_wait") {
            availability.offer_wait = boolean(n, "offer_wait")?;
        }
        checks.availability = Some(availability);
    }

    if let Some(node) = fields.optional("queue_limit") {
        let f = Fields::of(node, "queue_limit", QUEUE_LIMIT_KEYS)?;
        let mut limit = QueueLimit::default();
        if let Some(n) = f.optional("max_waiting") {
            limit.max_waiting = Some(number(n, "max_waiting")?);
        }
        if let Some(n) = f.optional("max_longest_wait_seconds") {
            limit.max_longest_wait_seconds = Some(number(n, "max_longest_wait_seconds")?);
        }
        if let Some(n) = f.optional("message") {
            limit.message = words(n, "the queue limit's message")?;
        }
        checks.queue_limit = Some(limit);
    }

    if let Some(n) = fields.optional("on_error") {
        checks.on_error = one_of(n, "on_error", ON_ERROR)?;
    }
    if let Some(n) = fields.optional("queue_update_seconds") {
        checks.queue_update_seconds = number(n, "queue_update_seconds")?;
    }
    if let Some(n) = fields.optional("queue_update_message") {
        checks.queue_update_message = words(n, "queue_update_message")?;
    }
    if let Some(n) = fields.optional("cancel_word") {
        checks.cancel_word = words(n, "cancel_word")?;
    }

    if let Some(node) = fields.optional("status") {
        let f = Fields::of(node, "status", STATUS_KEYS)?;
        let s = &mut checks.status;
        for (key, slot) in [
            ("queued", &mut s.queued),
            ("agent_joined", &mut s.agent_joined),
            ("transferred", &mut s.transferred),
            ("agent_left", &mut s.agent_left),
            ("ended", &mut s.ended),
            ("cancelled", &mut s.cancelled),
        ] {
            if let Some(n) = f.optional(key) {
                *slot = words(n, key)?;
            }
        }
    }

    if let Some((path, message)) = checks.problems().into_iter().next() {
        return Err(error(
            locate(key_at, node, path),
            format!("{}: {message}", snake_path(path)),
        ));
    }
    Ok(checks)
}

/// A text as written, trimmed; `""` is an empty text (a silent status message), unlike a
/// key with nothing after it, which keeps the default.
fn words(node: &Node, what: &str) -> Result<String> {
    match node {
        Node::Scalar { value, .. } => Ok(value.trim().to_string()),
        // `message: {waiting} waiting` is YAML for a mapping.
        Node::Map { .. } => Err(error(
            node.at(),
            format!(
                "{what} must be a text, not {}; a text that starts with {{ needs quotes, e.g. \"{{waiting}} waiting\"",
                node.describe()
            ),
        )),
        _ => Err(error(
            node.at(),
            format!("{what} must be a text, not {}", node.describe()),
        )),
    }
}

fn number(node: &Node, key: &str) -> Result<u32> {
    let parsed = match node {
        Node::Scalar { value, .. } => value.trim().parse::<u32>().map_err(|_| value.as_str()),
        other => Err(other.describe()),
    };
    parsed.map_err(|found| {
        error(
            node.at(),
            format!("{key} must be a whole number, not \"{found}\""),
        )
    })
}

fn one_of<T: Copy>(node: &Node, key: &str, names: &[(&str, T)]) -> Result<T> {
    let found = match node {
        Node::Scalar { value, .. } => value.trim(),
        other => other.describe(),
    };
    names
        .iter()
        .find(|(name, _)| *name == found)
        .map(|(_, v)| *v)
        .ok_or_else(|| {
            let all: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
            error(
                node.at(),
                format!("{key} must be one of {}, not \"{found}\"", all.join(", ")),
            )
        })
}

/// `['Choice #2', 3]` or one choice alone. A number stands for its choice, which spares
/// the quotes that `Choice #2` needs in YAML (a `#` after a space starts a comment).
fn closed_choices(node: &Node) -> Result<Vec<String>> {
    let items: Vec<&Node> = match node {
        Node::Scalar { .. } => vec![node],
        _ => list(node, "closed_choices")?.iter().collect(),
    };
    items
        .into_iter()
        .map(|item| {
            let Node::Scalar { value, quoted, .. } = item else {
                return Err(error(
                    item.at(),
                    format!("a closed choice must be a text, not {}", item.describe()),
                ));
            };
            let value = value.trim();
            if !quoted {
                if let Ok(n) = value.parse::<usize>() {
                    if let Some(choice) = n.checked_sub(1).and_then(|i| SCHEDULE_CHOICES.get(i)) {
                        return Ok(choice.to_string());
                    }
                    return Err(error(
                        item.at(),
                        format!("{n} is not one of 8x8's schedule choices: use a number from 1 to 6, or 'Choice #1' to 'Choice #6' in quotes"),
                    ));
                }
            }
            if let Some(problem) = closed_choice_problem(value) {
                let hint = if value == "Choice" && !quoted {
                    "; write it in quotes, 'Choice #2', since a # after a space starts a YAML comment, or just its number"
                } else {
                    ""
                };
                return Err(error(item.at(), format!("{problem}{hint}")));
            }
            Ok(value.to_string())
        })
        .collect()
}

/// Where the problem at `path` (camelCase, as [`ContactCenterChecks::problems`] names
/// it) is in the block: the value of its key when that is a text, else the key; a key
/// left out points at the nearest section that is there.
fn locate(block_key: Pos, block: &Node, path: &str) -> Pos {
    let mut at = block_key;
    let mut node = block;
    for segment in path.split('.') {
        let key = snake(segment);
        let Node::Map { entries, .. } = node else {
            break;
        };
        let Some((k, v)) = entries
            .iter()
            .find(|(k, _)| matches!(k, Node::Scalar { value, .. } if *value == key))
        else {
            break;
        };
        at = match v {
            Node::Scalar { .. } if !v.is_null() => v.at(),
            _ => k.at(),
        };
        node = v;
    }
    at
}

fn snake(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    for c in camel.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn snake_path(path: &str) -> String {
    path.split('.').map(snake).collect::<Vec<_>>().join(".")
}

#[cfg(test)]
mod tests {
    use super::super::{parse as parse_flow, FlowError};
    use super::*;
    use crate::{Bot, BotKind, BotSettings};
    use switchboard_types::contact_center::StatusMessages;

    /// Every key, one per line, so that a case below can change one line by its number.
    const FULL: &str = r#"greeting: Hi
fallback: Sorry?
handover:
  reply: Connecting you.
  contact_center:
    opening_hours:
      schedule_id: sched-1
      closed_choices: ['Choice #2', 5]
      message: We are closed.
    availability:
      states: logged_in
      message: Nobody is in.
      offer_wait: false
    queue_limit:
      max_waiting: 7
      max_longest_wait_seconds: 600
      message: "{waiting} waiting, the longest {longest_wait}."
    on_error: treat_as_closed
    queue_update_seconds: 30
    queue_update_message: "{waiting} ahead; typical wait {typical_wait}."
    cancel_word: stop
    status:
      queued: You are in the queue.
      agent_joined: "{agent} is here."
      transferred: Passing you on.
      agent_left: The agent left.
      ended: Bye.
      cancelled: ""
"#;

    /// FULL with line `line` (1-based) replaced.
    fn with(line: usize, text: &str) -> String {
        let mut lines: Vec<&str> = FULL.lines().collect();
        lines[line - 1] = text;
        lines.join("\n") + "\n"
    }

    fn checks(text: &str) -> Option<ContactCenterChecks> {
        parse_flow(text).unwrap().handover.contact_center
    }

    fn err(text: &str) -> FlowError {
        parse_flow(text).expect_err("the flow should be refused")
    }

    #[test]
    fn every_key_is_parsed() {
        assert_eq!(
            checks(FULL),
            Some(ContactCenterChecks {
                opening_hours: Some(OpeningHours {
                    schedule_id: "sched-1".into(),
                    closed_choices: vec!["Choice #2".into(), "Choice #5".into()],
                    message: "We are closed.".into(),
                }),
                availability: Some(Availability {
                    states: AgentStates::LoggedIn,
                    message: "Nobody is in.".into(),
                    offer_wait: false,
                }),
                queue_limit: Some(QueueLimit {
                    max_waiting: Some(7),
                    max_longest_wait_seconds: Some(600),
                    message: "{waiting} waiting, the longest {longest_wait}.".into(),
                }),
                on_error: OnCheckError::TreatAsClosed,
                queue_update_seconds: 30,
                queue_update_message: "{waiting} ahead; typical wait {typical_wait}.".into(),
                cancel_word: "stop".into(),
                status: StatusMessages {
                    queued: "You are in the queue.".into(),
                    agent_joined: "{agent} is here.".into(),
                    transferred: "Passing you on.".into(),
                    agent_left: "The agent left.".into(),
                    ended: "Bye.".into(),
                    cancelled: String::new(),
                },
            })
        );
    }

    #[test]
    fn every_state_name_and_fallback_is_read() {
        for (name, states) in STATES {
            let c = checks(&with(11, &format!("      states: {name}"))).unwrap();
            assert_eq!(c.availability.unwrap().states, *states, "{name}");
        }
        let c = checks(&with(18, "    on_error: hand_over")).unwrap();
        assert_eq!(c.on_error, OnCheckError::HandOver);
    }

    #[test]
    fn left_out_keys_take_the_defaults_and_a_left_out_section_is_off() {
        let minimal = "greeting: Hi\nfallback: f\nhandover:\n  reply: h\n";
        assert_eq!(
            checks(minimal),
            None,
            "no block: the settings' block applies"
        );
        assert_eq!(checks(&format!("{minimal}  contact_center:\n")), None);
        assert_eq!(
            checks(&format!("{minimal}  contact_center: {{}}\n")),
            Some(ContactCenterChecks::default()),
            "an empty block turns every check off"
        );
        let c = checks(&format!(
            "{minimal}  contact_center:\n    availability:\n    queue_limit: {{max_waiting: 3}}\n    opening_hours: {{schedule_id: s}}\n"
        ))
        .unwrap();
        assert_eq!(
            c.availability, None,
            "a section with nothing after it is off"
        );
        assert_eq!(
            c.queue_limit,
            Some(QueueLimit {
                max_waiting: Some(3),
                ..QueueLimit::default()
            })
        );
        assert_eq!(
            c.opening_hours.unwrap().message,
            OpeningHours::default().message
        );
        assert_eq!(c.status, StatusMessages::default());
        assert_eq!(c.queue_update_seconds, 0);

        let e = err(&format!(
            "{minimal}  contact_center:\n    opening_hours: weekdays\n"
        ));
        assert_eq!((e.line, e.column), (6, 20), "{e}");
        assert!(e.message.starts_with("opening_hours must be key: value lines (schedule_id, closed_choices, message), not a text"), "{e}");
        let e = err(&format!("{minimal}  contact_center: on\n"));
        assert_eq!((e.line, e.column), (5, 19), "{e}");
        assert!(
            e.message
                .starts_with("the contact_center block must be key: value lines"),
            "{e}"
        );
    }

    #[test]
    fn each_mistake_is_named_at_its_line() {
        let cases: &[(usize, &str, (usize, usize), &str)] = &[
            // An unknown key, in a section and in the block.
            (11, "      statez: logged_in", (11, 7), "unknown key \"statez\" in availability; the keys are states, message, offer_wait"),
            (21, "    cancel: stop", (21, 5), "unknown key \"cancel\" in the contact_center block"),
            (26, "      agent_gone: x", (26, 7), "unknown key \"agent_gone\" in status"),
            // A bad state name or fallback.
            (11, "      states: everyone", (11, 15), "states must be one of available, available_or_busy, available_busy_or_offline, available_busy_offline_or_break, logged_in, not \"everyone\""),
            (18, "    on_error: retry", (18, 15), "on_error must be one of hand_over, treat_as_closed, not \"retry\""),
            // A bad number, and one out of bounds.
            (15, "      max_waiting: lots", (15, 20), "max_waiting must be a whole number, not \"lots\""),
            (16, "      max_longest_wait_seconds: -5", (16, 33), "whole number, not \"-5\""),
            (15, "      max_waiting: 10001", (15, 20), "queue_limit.max_waiting: The most waiting is a number from 0"),
            (19, "    queue_update_seconds: 5", (19, 27), "queue_update_seconds: Queue updates are every 15 to 3,600 seconds"),
            (19, "    queue_update_seconds: [30]", (19, 27), "whole number, not \"a list\""),
            // An unknown placeholder.
            (20, "    queue_update_message: \"You are number {position}.\"", (20, 27), "queue_update_message: {position} is not filled in here; this message can use {waiting} and {typical_wait}."),
            (27, "      ended: Bye {agent}.", (27, 14), "status.ended: {agent} is not filled in here"),
            (24, "      agent_joined: {agent}", (24, 22), "needs quotes, e.g. \"{waiting} waiting\""),
            // A missing or empty schedule id: the key to fix, or its section.
            (7, "      # no schedule", (6, 5), "opening_hours.schedule_id: Opening hours need the 8x8 schedule"),
            (7, "      schedule_id: ''", (7, 20), "opening_hours.schedule_id: Opening hours need the 8x8 schedule"),
            (7, "      schedule_id:", (7, 7), "opening_hours.schedule_id: Opening hours need the 8x8 schedule"),
            (7, "      schedule_id: week days", (7, 20), "no spaces"),
            // Other rules.
            (8, "      closed_choices: ['Choice #2', 7]", (8, 37), "7 is not one of 8x8's schedule choices: use a number from 1 to 6"),
            (8, "      closed_choices: ['Choice #9']", (8, 24), "\"Choice #9\" is not one of 8x8's schedule choices; the choices are Choice #1 to Choice #6"),
            (8, "      closed_choices: [2, 'Choice #2']", (8, 7), "closed_choices: \"Choice #2\" is listed twice"),
            (9, "      message: ''", (9, 16), "opening_hours.message: Say something while you are closed"),
            (21, "    cancel_word: \"stop\\nnow\"", (21, 18), "cancel_word: The cancel word is one line"),
            (13, "      offer_wait: sometimes", (13, 19), "offer_wait must be true or false"),
            (21, "    cancel_word: [stop]", (21, 18), "cancel_word must be a text, not a list"),
        ];
        for (line, text, at, needle) in cases {
            let e = err(&with(*line, text));
            assert_eq!((e.line, e.column), *at, "{text:?}: {e}");
            assert!(e.message.contains(needle), "{text:?}: {e}");
        }
    }

    #[test]
    fn a_queue_limit_without_a_limit_points_at_the_section() {
        let flow = with(15, "      # none").replace("max_longest_wait_seconds: 600", "# none");
        let e = err(&flow);
        assert_eq!((e.line, e.column), (14, 5), "{e}");
        assert!(
            e.message.starts_with(
                "queue_limit: A queue limit needs the most waiting, the longest wait, or both"
            ),
            "{e}"
        );
    }

    #[test]
    fn an_unquoted_choice_is_explained_on_its_own_line() {
        let flow = with(
            8,
            "      closed_choices:\n        - 'Choice #1'\n        - Choice #2",
        );
        let e = err(&flow);
        assert_eq!((e.line, e.column), (10, 11), "{e}");
        assert!(e.message.contains("\"Choice\" is not one of"), "{e}");
        assert!(e.message.contains("write it in quotes"), "{e}");
    }

    /// The examples the admin copies from: the default flow's commented-out block, with
    /// its `#` signs removed, and the format's doc.
    #[test]
    fn the_documented_examples_parse() {
        let default = crate::DEFAULT_FLOW;
        let start = default
            .find("  # contact_center:")
            .expect("the default flow shows the block");
        let uncommented: String = default[start..]
            .lines()
            .map(|l| format!("  {}\n", &l[4..]))
            .collect();
        let flow = format!("{}{uncommented}", &default[..start]);
        let c = checks(&flow).expect("the uncommented block is read");
        assert_eq!(c.availability.unwrap().states, AgentStates::LoggedIn);
        assert_eq!(c.opening_hours.unwrap().closed_choices, ["Choice #2"]);
        assert_eq!(c.queue_update_seconds, 60);
        assert_eq!(c.status.agent_joined, "{agent} joined the chat.");
        // …and commented out, it changes nothing.
        assert_eq!(checks(default), None);

        let doc = include_str!("../flow.rs");
        let start = doc
            .find("//! contact_center:\n")
            .expect("the format shows the block");
        let end = start + doc[start..].find("//! ```").unwrap();
        let block: String = doc[start..end]
            .lines()
            .map(|l| format!("  {}\n", l.strip_prefix("//! ").unwrap_or("")))
            .collect();
        let flow = format!("greeting: Hi\nfallback: f\nhandover:\n  reply: h\n{block}");
        let c = checks(&flow).unwrap_or_else(|| panic!("{flow}"));
        assert_eq!(
            c.opening_hours.unwrap().closed_choices,
            ["Choice #2", "Choice #3"]
        );
        assert_eq!(c.queue_limit.unwrap().max_longest_wait_seconds, Some(600));
        assert_eq!(c.status.cancelled, "You left the queue.");
    }

    #[test]
    fn the_bot_gives_the_flows_block_and_none_otherwise() {
        let bot = |flow: &str, kind| {
            Bot::from_settings(&BotSettings {
                kind,
                flow: flow.into(),
                external_url: Some("http://localhost:5005/webhooks/rest/webhook".into()),
                ..BotSettings::default()
            })
            .unwrap()
        };
        let with_block = bot(FULL, BotKind::Builtin);
        assert_eq!(with_block.contact_center(), checks(FULL).as_ref());
        assert!(with_block.contact_center().is_some());
        assert_eq!(
            bot(crate::DEFAULT_FLOW, BotKind::Builtin).contact_center(),
            None
        );
        #[cfg(feature = "external")]
        assert_eq!(bot(FULL, BotKind::External).contact_center(), None);
    }
}
