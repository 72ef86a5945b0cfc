//! The built-in bot's flow: data the admin edits as YAML in the settings, not code. This
//! module turns that text into a checked [`Flow`] — regexes compiled, replies non-empty,
//! keys known — or into one error that names the line and column to fix, because the
//! admin edits it in a plain text box and "invalid flow" alone would leave them guessing.
//!
//! The format (see `default_flow.yaml` for a full example):
//!
//! ```yaml
//! greeting:                  # required; a text, or reply + quick_replies
//!   reply: Hello! How can I help?
//!   quick_replies:           # a title alone, or title + payload
//!     - Opening hours
//!     - title: Talk to a person
//!       payload: agent
//! rules:                     # optional; checked in order, the first match answers
//!   - name: opening_hours    # optional; a quick reply with this payload picks the rule
//!     keywords: [opening hours, open]   # whole words, any letter case
//!     regex: '\bhours?\b'    # Rust regex syntax, any letter case; keywords or regex or both
//!     reply: We are open 9 to 5.        # required unless the rule hands over
//!     quick_replies: [Something else]   # optional
//!     handover: false        # optional; true says the reply (if any), then hands over
//! fallback: Sorry, I did not get that.  # required; a text, or reply + quick_replies
//! handover:                  # required
//!   keywords: [agent, human] # optional (and/or regex): these hand over at once
//!   after_fallbacks: 2       # optional; misunderstood messages in a row, 0 (default) = never
//!   reply: Connecting you to an agent.  # required; the last thing the bot says
//!   contact_center:          # optional; the contact-center checks, below
//! ```
//!
//! `handover.contact_center` is what the handover checks in the contact center first and
//! what the customer is told while they wait: the Handover settings' contact-center
//! block, in snake_case and held to the same rules. When the flow has it, it **replaces
//! the settings' block whole**: a key left out here takes the default below, not the
//! settings' value, and `contact_center: {}` turns every check off whatever the settings
//! say. Without it (or with `contact_center:` and nothing after it) the settings' block
//! applies. Each section is optional; a section left out is off.
//!
//! ```yaml
//! contact_center:
//!   opening_hours:             # hand over only while 8x8's schedule is open
//!     schedule_id: sched-1     # required; the schedule's id in 8x8
//!     closed_choices: ['Choice #2', 3]  # optional; choices that count as closed too: 1 to 6,
//!                              # or 'Choice #1' to 'Choice #6' in quotes (" #" starts a comment)
//!     message: We are closed right now.  # said instead; the bot carries on
//!   availability:              # hand over only when an agent is in these states
//!     states: available        # available (default), available_or_busy, available_busy_or_offline,
//!                              # available_busy_offline_or_break, logged_in
//!     message: No agent is available right now.
//!     offer_wait: true         # default true: offer to wait anyway
//!   queue_limit:               # ask first when the queue is long; one limit or both
//!     max_waiting: 10          # more than this many waiting (0 to 10000)
//!     max_longest_wait_seconds: 600  # someone waiting longer than this (1 to 86400)
//!     message: "Our agents are busy: {waiting} waiting, the longest for {longest_wait}."
//!   on_error: hand_over        # when 8x8 cannot answer a check: hand_over (default) or treat_as_closed
//!   queue_update_seconds: 60   # tell the waiting customer the queue's figures; 0 (default) = never,
//!                              # else 15 to 3600 (8x8 refreshes them every few seconds)
//!   queue_update_message: "{waiting} waiting; the typical wait is {typical_wait}."
//!   cancel_word: cancel        # typed while queued, leaves the queue (at most 40 characters)
//!   status:                    # what the customer is told; "" is silent
//!     queued: You are in the queue.
//!     agent_joined: "{agent} joined the chat."
//!     transferred: I am passing you to a colleague.
//!     agent_left: The agent left the chat.
//!     ended: The chat has ended.
//!     cancelled: You left the queue.
//! ```
//!
//! A text that starts with `{` needs quotes (YAML reads `{waiting}` as a mapping). The
//! placeholders are only the ones shown: `{waiting}` and `{typical_wait}` in the queue
//! update, `{waiting}` and `{longest_wait}` in the queue limit's message, `{agent}` in
//! `agent_joined`. Messages are at most 2,000 characters.

use std::fmt;

use regex::{Regex, RegexBuilder};

use switchboard_types::contact_center::ContactCenterChecks;

use super::yaml::{self, Node, Pos};
use super::QuickReply;

mod contact_center;

/// The most consecutive misunderstandings a flow may wait for before handing over; more
/// would only frustrate the user.
pub const MAX_FALLBACKS: u32 = 10;

#[derive(Debug, Clone)]
pub struct Flow {
    pub greeting: Message,
    pub rules: Vec<Rule>,
    pub fallback: Message,
    pub handover: Handover,
}

/// Something the bot says: one text, maybe with buttons.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub text: String,
    pub quick_replies: Vec<QuickReply>,
}

#[derive(Debug, Clone)]
pub struct Rule {
    /// Lets a quick reply pick this rule by payload, and names it in handover reasons.
    pub name: Option<String>,
    /// Where the rule starts, to name it when it has no name.
    pub line: usize,
    pub matcher: Matcher,
    /// `None` only for a rule that just hands over.
    pub reply: Option<Message>,
    pub handover: bool,
}

#[derive(Debug, Clone)]
pub struct Handover {
    pub matcher: Option<Matcher>,
    /// Hand over after this many misunderstood messages in a row; 0 never does.
    pub after_fallbacks: u32,
    pub message: String,
    /// The flow's `contact_center` block; when present it replaces the Handover
    /// settings' block whole. `None` when the flow has none.
    pub contact_center: Option<ContactCenterChecks>,
}

/// Keywords and a regex, compiled once when the flow is parsed.
#[derive(Debug, Clone)]
pub struct Matcher {
    keywords: Option<Regex>,
    regex: Option<Regex>,
}

impl Matcher {
    pub fn matches(&self, text: &str) -> bool {
        self.keywords.as_ref().is_some_and(|r| r.is_match(text))
            || self.regex.as_ref().is_some_and(|r| r.is_match(text))
    }
}

/// A flow that cannot be used, and where to look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for FlowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for FlowError {}

fn error(at: Pos, message: impl Into<String>) -> FlowError {
    FlowError {
        line: at.line,
        column: at.column,
        message: message.into(),
    }
}

type Result<T> = std::result::Result<T, FlowError>;

/// Parses and checks the admin's flow text.
pub fn parse(text: &str) -> Result<Flow> {
    let root = yaml::parse(text)
        .map_err(|e| syntax_error(text, e))?
        .ok_or_else(|| {
            error(
                Pos { line: 1, column: 1 },
                "the flow is empty; it needs at least a greeting, a fallback and a handover (the default flow is a good start)",
            )
        })?;
    let top = Fields::of(&root, "the flow", TOP_KEYS)?;
    let greeting = message(top.required("greeting")?, "the greeting", true)?;
    let rules = match top.optional("rules") {
        None => Vec::new(),
        Some(node) => {
            let mut rules: Vec<Rule> = Vec::new();
            for item in list(node, "rules")? {
                let rule = rule(item)?;
                // A quick reply picks a rule by name: two rules of one name would leave
                // the second unreachable.
                if let Some(name) = &rule.name {
                    let taken = rules.iter().find(|r| {
                        r.name
                            .as_deref()
                            .is_some_and(|n| n.eq_ignore_ascii_case(name))
                    });
                    if let Some(first) = taken {
                        return Err(error(
                            item.at(),
                            format!(
                                "the rule name \"{name}\" is already used on line {}; names must differ",
                                first.line
                            ),
                        ));
                    }
                }
                rules.push(rule);
            }
            rules
        }
    };
    let fallback = message(top.required("fallback")?, "the fallback", true)?;
    let handover = handover(top.required("handover")?)?;
    Ok(Flow {
        greeting,
        rules,
        fallback,
        handover,
    })
}

/// YAML's own messages, with the two mistakes admins make most often said plainly.
fn syntax_error(text: &str, e: yaml::SyntaxError) -> FlowError {
    // The parser notices a tab indent only later, on another line; the tab is the news.
    // Lines end where YAML ends them (\n, \r\n or a lone \r) and columns count
    // characters, as in every other position the parser gives.
    let unix = text.replace("\r\n", "\n");
    let tab = unix.split(['\n', '\r']).enumerate().find_map(|(i, line)| {
        let indent = &line[..line.len() - line.trim_start().len()];
        indent.chars().position(|c| c == '\t').map(|col| Pos {
            line: i + 1,
            column: col + 1,
        })
    });
    if let Some(at) = tab {
        return error(at, "indent with spaces; YAML does not allow tabs here");
    }
    let mut message = format!("this is not valid YAML: {}", e.message);
    if e.message.contains("mapping values are not allowed") {
        message.push_str(
            "; a text with \": \" in it needs quotes, e.g. reply: \"Note: we are closed\"",
        );
    }
    error(e.at, message)
}

const TOP_KEYS: &[&str] = &["greeting", "rules", "fallback", "handover"];
const MESSAGE_KEYS: &[&str] = &["reply", "quick_replies"];
const RULE_KEYS: &[&str] = &[
    "name",
    "keywords",
    "regex",
    "reply",
    "quick_replies",
    "handover",
];
const HANDOVER_KEYS: &[&str] = &[
    "keywords",
    "regex",
    "after_fallbacks",
    "reply",
    "contact_center",
];
const QUICK_REPLY_KEYS: &[&str] = &["title", "payload"];

/// The entries of one mapping, checked for unknown and repeated keys up front so that a
/// typo such as `quick_reply:` is reported instead of silently ignored.
struct Fields<'a> {
    at: Pos,
    what: &'static str,
    /// Name, where the key is, value.
    entries: Vec<(&'a str, Pos, &'a Node)>,
}

impl<'a> Fields<'a> {
    fn of(node: &'a Node, what: &'static str, allowed: &[&str]) -> Result<Self> {
        let Node::Map { entries, at } = node else {
            return Err(error(
                node.at(),
                format!(
                    "{what} must be key: value lines ({}), not {}",
                    allowed.join(", "),
                    node.describe()
                ),
            ));
        };
        let mut seen: Vec<(&str, Pos, &Node)> = Vec::new();
        for (key, value) in entries {
            let Node::Scalar { value: name, .. } = key else {
                return Err(error(key.at(), format!("a key in {what} must be a word")));
            };
            if !allowed.contains(&name.as_str()) {
                return Err(error(
                    key.at(),
                    format!(
                        "unknown key \"{name}\" in {what}; the keys are {}",
                        allowed.join(", ")
                    ),
                ));
            }
            if seen.iter().any(|(n, _, _)| n == name) {
                return Err(error(
                    key.at(),
                    format!("\"{name}\" appears twice in {what}; keep one"),
                ));
            }
            seen.push((name, key.at(), value));
        }
        Ok(Self {
            at: *at,
            what,
            entries: seen,
        })
    }

    /// A key that is absent or has no value counts as not given.
    fn optional(&self, key: &str) -> Option<&'a Node> {
        self.entries
            .iter()
            .find(|(k, _, v)| *k == key && !v.is_null())
            .map(|(_, _, v)| *v)
    }

    fn required(&self, key: &str) -> Result<&'a Node> {
        self.optional(key).ok_or_else(|| {
            // `reply:` with nothing after it: the key's line is the one to fix (an empty
            // value's own position is wherever the next token happens to be).
            let at = self
                .entries
                .iter()
                .find(|(k, _, _)| *k == key)
                .map_or(self.at, |(_, at, _)| *at);
            error(at, format!("{} needs \"{key}\"", self.what))
        })
    }
}

fn text(node: &Node, what: &str) -> Result<String> {
    match node {
        Node::Scalar { value, .. } if !node.is_null() && !value.trim().is_empty() => {
            Ok(value.trim().to_string())
        }
        Node::Scalar { .. } => Err(error(node.at(), format!("{what} is empty"))),
        _ => Err(error(
            node.at(),
            format!("{what} must be a text, not {}", node.describe()),
        )),
    }
}

fn list<'a>(node: &'a Node, what: &str) -> Result<&'a [Node]> {
    match node {
        Node::Seq { items, .. } => Ok(items),
        _ => Err(error(
            node.at(),
            format!(
                "{what} must be a list (lines starting with \"- \", or [a, b]), not {}",
                node.describe()
            ),
        )),
    }
}

/// A message is either a text (`greeting: Hello!`) or `reply:` with `quick_replies:`.
fn message(node: &Node, what: &'static str, quick_replies_allowed: bool) -> Result<Message> {
    if let Node::Scalar { .. } = node {
        return Ok(Message {
            text: text(node, what)?,
            quick_replies: Vec::new(),
        });
    }
    let keys: &[&str] = if quick_replies_allowed {
        MESSAGE_KEYS
    } else {
        &MESSAGE_KEYS[..1]
    };
    let fields = Fields::of(node, what, keys)?;
    let text = text(fields.required("reply")?, &format!("the reply of {what}"))?;
    let quick_replies = match fields.optional("quick_replies") {
        Some(node) => quick_replies(node)?,
        None => Vec::new(),
    };
    Ok(Message {
        text,
        quick_replies,
    })
}

fn quick_replies(node: &Node) -> Result<Vec<QuickReply>> {
    list(node, "quick_replies")?
        .iter()
        .map(|item| {
            if let Node::Scalar { .. } = item {
                let title = text(item, "a quick reply")?;
                return Ok(QuickReply {
                    payload: title.clone(),
                    title,
                });
            }
            let fields = Fields::of(item, "a quick reply", QUICK_REPLY_KEYS)?;
            let title = text(fields.required("title")?, "the quick reply's title")?;
            let payload = match fields.optional("payload") {
                Some(p) => text(p, "the quick reply's payload")?,
                None => title.clone(),
            };
            Ok(QuickReply { title, payload })
        })
        .collect()
}

fn rule(node: &Node) -> Result<Rule> {
    let at = node.at();
    let fields = Fields::of(node, "a rule", RULE_KEYS)?;
    let name = fields
        .optional("name")
        .map(|n| text(n, "the rule's name"))
        .transpose()?;
    let matcher = matcher(&fields)?.ok_or_else(|| {
        error(
            at,
            "this rule needs \"keywords\" or \"regex\" to say which messages it answers",
        )
    })?;
    let handover = match fields.optional("handover") {
        None => false,
        Some(node) => boolean(node, "handover")?,
    };
    let reply = if handover && fields.optional("reply").is_none() {
        if fields.optional("quick_replies").is_some() {
            return Err(error(at, "quick_replies need a reply to go with"));
        }
        None
    } else {
        let text = text(fields.required("reply")?, "the rule's reply")?;
        let quick_replies = match fields.optional("quick_replies") {
            Some(node) => quick_replies(node)?,
            None => Vec::new(),
        };
        Some(Message {
            text,
            quick_replies,
        })
    };
    Ok(Rule {
        name,
        line: at.line,
        matcher,
        reply,
        handover,
    })
}

fn handover(node: &Node) -> Result<Handover> {
    let fields = Fields::of(node, "the handover", HANDOVER_KEYS)?;
    let matcher = matcher(&fields)?;
    let after_fallbacks = match fields.optional("after_fallbacks") {
        None => 0,
        Some(n) => {
            let Node::Scalar { value, .. } = n else {
                return Err(error(n.at(), "after_fallbacks must be a whole number"));
            };
            match value.trim().parse::<u32>() {
                Ok(v) if v <= MAX_FALLBACKS => v,
                _ => {
                    return Err(error(
                        n.at(),
                        format!(
                            "after_fallbacks must be a whole number from 0 (never) to {MAX_FALLBACKS}, not \"{value}\""
                        ),
                    ))
                }
            }
        }
    };
    let message = text(fields.required("reply")?, "the handover's reply")?;
    let contact_center = fields
        .entries
        .iter()
        .find(|(k, _, v)| *k == "contact_center" && !v.is_null())
        .map(|(_, at, node)| contact_center::parse(*at, node))
        .transpose()?;
    Ok(Handover {
        matcher,
        after_fallbacks,
        message,
        contact_center,
    })
}

fn boolean(node: &Node, key: &str) -> Result<bool> {
    match node {
        Node::Scalar { value, .. } if matches!(value.as_str(), "true" | "yes") => Ok(true),
        Node::Scalar { value, .. } if matches!(value.as_str(), "false" | "no") => Ok(false),
        _ => Err(error(node.at(), format!("{key} must be true or false"))),
    }
}

/// `keywords` and `regex` of a rule or of the handover; `None` when neither is given.
fn matcher(fields: &Fields) -> Result<Option<Matcher>> {
    let keywords = match fields.optional("keywords") {
        None => None,
        Some(node) => {
            let words = match node {
                // `keywords: agent` is as natural to type as a one-item list.
                Node::Scalar { .. } => vec![text(node, "keywords")?],
                _ => list(node, "keywords")?
                    .iter()
                    .map(|k| text(k, "a keyword"))
                    .collect::<Result<_>>()?,
            };
            if words.is_empty() {
                return Err(error(node.at(), "keywords is an empty list"));
            }
            let compiled = keyword_regex(&words).map_err(|_| {
                error(
                    node.at(),
                    format!(
                        "these {} keywords are too many to match at once; shorten the list or spread it over several rules",
                        words.len()
                    ),
                )
            })?;
            Some(compiled)
        }
    };
    let regex = match fields.optional("regex") {
        None => None,
        Some(node) => {
            let pattern = text(node, "the regex")?;
            let compiled = RegexBuilder::new(&pattern)
                .case_insensitive(true)
                .size_limit(REGEX_SIZE_LIMIT)
                .build()
                .map_err(|e| error(node.at(), regex_message(&e)))?;
            Some(compiled)
        }
    };
    Ok((keywords.is_some() || regex.is_some()).then_some(Matcher { keywords, regex }))
}

/// The most memory one compiled regex of a flow may take. It bounds what a flow costs to
/// compile and keep, and a list of keywords long enough to pass it fails with an error
/// the admin can act on instead of taking the save down.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Whole words in any letter case; the spaces inside a phrase match any run of spaces.
/// Word edges are "not a letter or digit" rather than `\b`, so that a keyword such as
/// `c++` or `24/7` still matches. Escaped keywords always make a valid pattern; the only
/// error is a list too large for [`REGEX_SIZE_LIMIT`].
fn keyword_regex(words: &[String]) -> std::result::Result<Regex, regex::Error> {
    let alternatives: Vec<String> = words
        .iter()
        .map(|w| {
            w.split_whitespace()
                .map(regex::escape)
                .collect::<Vec<_>>()
                .join(r"\s+")
        })
        .collect();
    let pattern = format!(r"(?:^|[^\w])(?:{})(?:[^\w]|$)", alternatives.join("|"));
    RegexBuilder::new(&pattern)
        .case_insensitive(true)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
}

/// The regex crate's message spans several lines with a caret; the admin needs its last
/// line, which says what is wrong.
fn regex_message(e: &regex::Error) -> String {
    let detail = match e {
        regex::Error::Syntax(text) => text
            .lines()
            .rev()
            .find(|l| l.trim_start().starts_with("error:"))
            .map(|l| {
                l.trim_start()
                    .trim_start_matches("error:")
                    .trim()
                    .to_string()
            })
            .unwrap_or_else(|| text.trim().to_string()),
        regex::Error::CompiledTooBig(_) => "it is too large".into(),
        other => other.to_string(),
    };
    format!("the regex is not valid: {detail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "greeting: Hi\nfallback: Sorry?\nhandover:\n  reply: Connecting you.\n";

    fn err(text: &str) -> FlowError {
        parse(text).expect_err("the flow should be refused")
    }

    #[test]
    fn the_default_flow_parses() {
        let flow = parse(super::super::DEFAULT_FLOW).unwrap();
        assert!(!flow.greeting.quick_replies.is_empty());
        assert!(flow.rules.len() >= 3);
        assert_eq!(flow.handover.after_fallbacks, 2);
        assert!(flow
            .handover
            .matcher
            .as_ref()
            .unwrap()
            .matches("AGENT please"));
    }

    #[test]
    fn a_minimal_flow_needs_only_three_keys() {
        let flow = parse(MINIMAL).unwrap();
        assert_eq!(flow.greeting.text, "Hi");
        assert!(flow.rules.is_empty());
        assert!(flow.handover.matcher.is_none());
        assert_eq!(flow.handover.after_fallbacks, 0);
    }

    #[test]
    fn quick_replies_take_a_title_alone_or_a_title_and_payload() {
        let flow = parse(
            "greeting:\n  reply: Hi\n  quick_replies:\n    - Hours\n    - title: Talk to a person\n      payload: agent\nfallback: x\nhandover: {reply: y}\n",
        )
        .unwrap();
        assert_eq!(
            flow.greeting.quick_replies,
            [
                QuickReply {
                    title: "Hours".into(),
                    payload: "Hours".into()
                },
                QuickReply {
                    title: "Talk to a person".into(),
                    payload: "agent".into()
                }
            ]
        );
    }

    #[test]
    fn keywords_match_whole_words_in_any_case() {
        let flow = parse(
            "greeting: Hi\nrules:\n  - keywords: [opening hours, c++]\n    reply: x\nfallback: f\nhandover: {reply: h}\n",
        )
        .unwrap();
        let m = &flow.rules[0].matcher;
        assert!(m.matches("What are your Opening   Hours?"));
        assert!(m.matches("c++ course"));
        assert!(!m.matches("reopening hoursly"));
        assert!(!m.matches("opening"));
    }

    #[test]
    fn a_bad_regex_points_at_its_line() {
        let e = err(
            "greeting: Hi\nrules:\n  - keywords: [a]\n    reply: x\n  - regex: 'order (\\d+'\n    reply: y\nfallback: f\nhandover: {reply: h}\n",
        );
        assert_eq!((e.line, e.column), (5, 12), "{e}");
        assert!(e.message.starts_with("the regex is not valid: "), "{e}");
        assert!(e.message.contains("unclosed group"), "{e}");
        assert!(!e.message.contains('\n'), "{e}");
    }

    #[test]
    fn an_empty_reply_points_at_its_line() {
        let e = err("greeting: Hi\nrules:\n  - keywords: [a]\n    reply: \"  \"\nfallback: f\nhandover: {reply: h}\n");
        assert_eq!((e.line, e.column), (4, 12), "{e}");
        assert_eq!(e.message, "the rule's reply is empty");
        let e = err("greeting: Hi\nrules:\n  - keywords: [a]\n    reply:\nfallback: f\nhandover: {reply: h}\n");
        assert_eq!(e.line, 4, "{e}");
        assert!(e.message.contains("needs \"reply\""), "{e}");
    }

    #[test]
    fn an_unknown_key_is_named_with_the_ones_allowed() {
        let e = err("greeting: Hi\nrules:\n  - keywords: [a]\n    reply: x\n    quick_reply: [b]\nfallback: f\nhandover: {reply: h}\n");
        assert_eq!((e.line, e.column), (5, 5), "{e}");
        assert!(e.message.contains("unknown key \"quick_reply\""), "{e}");
        assert!(e.message.contains("quick_replies"), "{e}");
    }

    #[test]
    fn a_missing_greeting_is_reported() {
        let e = err("fallback: f\nhandover: {reply: h}\n");
        assert_eq!((e.line, e.column), (1, 1), "{e}");
        assert_eq!(e.message, "the flow needs \"greeting\"");
        let e = err("greeting:\nfallback: f\nhandover: {reply: h}\n");
        assert_eq!(e.line, 1, "{e}");
    }

    #[test]
    fn other_mistakes_say_what_and_where() {
        let cases: &[(&str, usize, &str)] = &[
            ("", 1, "the flow is empty"),
            ("greeting: [unclosed\n", 2, "not valid YAML"),
            ("greeting: Hi\n\tfallback: f\n", 2, "indent with spaces"),
            ("greeting: Note: hi\n", 1, "needs quotes"),
            ("- a\n- b\n", 1, "the flow must be key: value lines"),
            ("greeting: Hi\ngreeting: Ho\n", 2, "appears twice"),
            ("greeting: Hi\nrules:\n  - {name: a, keywords: x, reply: y}\n  - {name: A, keywords: z, reply: w}\nfallback: f\nhandover: {reply: h}\n", 4, "already used on line 3"),
            ("greeting: Hi\nrules:\n  - reply: x\nfallback: f\nhandover: {reply: h}\n", 3, "needs \"keywords\" or \"regex\""),
            ("greeting: Hi\nrules: x\nfallback: f\nhandover: {reply: h}\n", 2, "rules must be a list"),
            ("greeting: Hi\nfallback: f\nhandover:\n  reply: h\n  after_fallbacks: -1\n", 5, "from 0 (never) to 10"),
            ("greeting: Hi\nfallback: f\nhandover:\n  reply: h\n  keywords: []\n", 5, "empty list"),
            ("greeting: Hi\nfallback: f\nhandover:\n  reply: h\n  quick_replies: [a]\n", 5, "unknown key \"quick_replies\""),
            ("greeting: Hi\nrules:\n  - keywords: a\n    handover: maybe\nfallback: f\nhandover: {reply: h}\n", 4, "true or false"),
        ];
        for (text, line, needle) in cases {
            let e = err(text);
            assert_eq!(e.line, *line, "{text:?}: {e}");
            assert!(e.message.contains(needle), "{text:?}: {e}");
        }
    }

    #[test]
    fn a_handover_rule_may_go_without_a_reply() {
        let flow = parse("greeting: Hi\nrules:\n  - name: complaint\n    keywords: [complaint]\n    handover: true\nfallback: f\nhandover: {reply: h}\n").unwrap();
        assert!(flow.rules[0].handover);
        assert!(flow.rules[0].reply.is_none());
    }

    /// Found with the flow fuzz target fed a long keyword list (longer than its mutations
    /// reach): the keywords' regex overflowed the size limit, and the `expect` on it
    /// panicked the settings save (and the relay's start, once such a flow was saved).
    #[test]
    fn too_many_keywords_are_an_error_not_a_panic() {
        let words: Vec<String> = (0..3000).map(|i| format!("word{i}abcdefgh")).collect();
        let text = format!(
            "greeting: Hi\nfallback: f\nhandover:\n  reply: h\n  keywords: [{}]\n",
            words.join(", ")
        );
        let e = err(&text);
        assert_eq!((e.line, e.column), (5, 13), "{e}");
        assert!(e.message.contains("3000 keywords are too many"), "{e}");

        // A long but reasonable list still works.
        let words: Vec<String> = (0..200).map(|i| format!("word{i}")).collect();
        let text = format!(
            "greeting: Hi\nfallback: f\nhandover:\n  reply: h\n  keywords: [{}]\n",
            words.join(", ")
        );
        let flow = parse(&text).unwrap();
        assert!(flow
            .handover
            .matcher
            .unwrap()
            .matches("about word199, please"));
    }

    /// Found by the flow fuzz target's check that a tab error points at a tab, given
    /// these inputs: the column counted bytes (wrong after a multi-byte space such as
    /// U+3000), and the lines did not end at a lone \r as YAML's do.
    #[test]
    fn a_tab_error_points_at_the_tab() {
        let e = err("greeting: Hi\n\u{3000}\tfallback: f\nx: [\n");
        assert_eq!((e.line, e.column), (2, 2), "{e}");
        assert!(e.message.contains("indent with spaces"), "{e}");
        let e = err("greeting: Hi\r\r  \tfallback: [\r");
        assert_eq!((e.line, e.column), (3, 3), "{e}");
        assert!(e.message.contains("indent with spaces"), "{e}");
    }

    #[test]
    fn the_error_reads_line_then_column() {
        let e = err("greeting: Hi\nfallback: \"\"\nhandover: {reply: h}\n");
        assert_eq!(e.to_string(), "line 2, column 11: the fallback is empty");
    }
}
