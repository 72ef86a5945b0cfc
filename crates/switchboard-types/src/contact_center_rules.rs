//! What a contact-center block must be to be saved: one set of rules for the Handover
//! settings form and the flow's `handover.contact_center` block, so that the two refuse
//! the same values with the same words. Paths are the block's camelCase field paths
//! (`queueLimit.maxWaiting`); the settings prefix them with `handover.contactCenter.`, the
//! flow turns them into the line of its snake_case key.

use std::ops::RangeInclusive;

use crate::contact_center::ContactCenterChecks;

/// 8x8's schedule ids are short; this is the settings' bound for any 8x8 id.
pub const MAX_SCHEDULE_ID: usize = 256;
/// The longest text the customer is told (the same as the handover message's bound).
pub const MAX_MESSAGE: usize = 2_000;
/// More waiting than this is no limit at all: no contact-center queue holds that many.
pub const MAX_WAITING: u32 = 10_000;
/// A longest wait of one second up to a day.
pub const LONGEST_WAIT_SECONDS: RangeInclusive<u32> = 1..=86_400;
/// Queue updates, when on. 8x8 refreshes a queue's real-time figures every few seconds,
/// so updates more often would repeat the same numbers; more than an hour apart they
/// no longer reassure anyone.
pub const QUEUE_UPDATE_SECONDS: RangeInclusive<u32> = 15..=3_600;
/// The customer types the cancel word as a whole message.
pub const MAX_CANCEL_WORD: usize = 40;
/// The custom choices of an 8x8 schedule, as 8x8 names them.
pub const SCHEDULE_CHOICES: [&str; 6] = [
    "Choice #1",
    "Choice #2",
    "Choice #3",
    "Choice #4",
    "Choice #5",
    "Choice #6",
];

/// What each message may have filled in (`{waiting}` …); the others take none.
pub const QUEUE_UPDATE_PLACEHOLDERS: &[&str] = &["waiting", "typical_wait"];
pub const QUEUE_LIMIT_PLACEHOLDERS: &[&str] = &["waiting", "longest_wait"];
pub const AGENT_JOINED_PLACEHOLDERS: &[&str] = &["agent"];

impl ContactCenterChecks {
    /// Every problem at once, as (camelCase path inside the block, what is wrong and how
    /// to fix it). At most one problem per path, in the block's order.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out: Vec<(&'static str, String)> = Vec::new();
        let mut bad = |path: &'static str, problem: Option<String>| {
            if let Some(message) = problem {
                out.push((path, message));
            }
        };

        if let Some(hours) = &self.opening_hours {
            bad(
                "openingHours.scheduleId",
                schedule_id_problem(&hours.schedule_id),
            );
            bad(
                "openingHours.closedChoices",
                closed_choices_problem(&hours.closed_choices),
            );
            bad(
                "openingHours.message",
                said_message_problem(
                    &hours.message,
                    &[],
                    "Say something while you are closed, e.g. \"We are closed right now; we open at 9.\" The bot carries on after it.",
                ),
            );
        }

        if let Some(availability) = &self.availability {
            bad(
                "availability.message",
                said_message_problem(
                    &availability.message,
                    &[],
                    "Say something when no agent can take the chat, e.g. \"No agent is available right now.\"",
                ),
            );
        }

        if let Some(limit) = &self.queue_limit {
            bad(
                "queueLimit",
                (limit.max_waiting.is_none() && limit.max_longest_wait_seconds.is_none()).then(|| {
                    "A queue limit needs the most waiting, the longest wait, or both; set one, or turn the queue limit off.".to_string()
                }),
            );
            bad(
                "queueLimit.maxWaiting",
                limit.max_waiting.filter(|n| *n > MAX_WAITING).map(|n| {
                    format!(
                        "The most waiting is a number from 0 (anyone waiting is too many) to {}; {} is outside that.",
                        thousands(MAX_WAITING),
                        thousands(n)
                    )
                }),
            );
            bad(
                "queueLimit.maxLongestWaitSeconds",
                limit
                    .max_longest_wait_seconds
                    .filter(|s| !LONGEST_WAIT_SECONDS.contains(s))
                    .map(|s| {
                        format!(
                            "The longest wait is from {} second to {} seconds (24 hours); {} is outside that.",
                            LONGEST_WAIT_SECONDS.start(),
                            thousands(*LONGEST_WAIT_SECONDS.end()),
                            thousands(s)
                        )
                    }),
            );
            bad(
                "queueLimit.message",
                said_message_problem(
                    &limit.message,
                    QUEUE_LIMIT_PLACEHOLDERS,
                    "Say something when the queue is too long, e.g. \"Our agents are busy: {waiting} waiting. Would you like to wait?\"",
                ),
            );
        }

        let updates_on = self.queue_update_seconds != 0;
        bad(
            "queueUpdateSeconds",
            (updates_on && !QUEUE_UPDATE_SECONDS.contains(&self.queue_update_seconds)).then(|| {
                format!(
                    "Queue updates are every {} to {} seconds (an hour), or 0 for none; 8x8 refreshes a queue's figures only every few seconds, so more often would repeat the same numbers. {} is outside that.",
                    QUEUE_UPDATE_SECONDS.start(),
                    thousands(*QUEUE_UPDATE_SECONDS.end()),
                    thousands(self.queue_update_seconds)
                )
            }),
        );
        bad(
            "queueUpdateMessage",
            if updates_on {
                said_message_problem(
                    &self.queue_update_message,
                    QUEUE_UPDATE_PLACEHOLDERS,
                    "Queue updates are on: write the update, e.g. \"{waiting} waiting; the typical wait is {typical_wait}.\", or set their interval to 0.",
                )
            } else {
                message_problem(&self.queue_update_message, QUEUE_UPDATE_PLACEHOLDERS)
            },
        );

        bad("cancelWord", cancel_word_problem(&self.cancel_word));

        let s = &self.status;
        for (path, text, placeholders) in [
            ("status.queued", &s.queued, &[][..]),
            (
                "status.agentJoined",
                &s.agent_joined,
                AGENT_JOINED_PLACEHOLDERS,
            ),
            ("status.transferred", &s.transferred, &[]),
            ("status.agentLeft", &s.agent_left, &[]),
            ("status.ended", &s.ended, &[]),
            ("status.cancelled", &s.cancelled, &[]),
        ] {
            bad(path, message_problem(text, placeholders));
        }
        out
    }
}

fn schedule_id_problem(id: &str) -> Option<String> {
    if id.trim().is_empty() {
        return Some(
            "Opening hours need the 8x8 schedule to follow: choose one, or turn opening hours off."
                .into(),
        );
    }
    if id.chars().any(char::is_whitespace) {
        return Some(
            "An 8x8 schedule id has no spaces; choose the schedule from 8x8's list.".into(),
        );
    }
    too_long(id, MAX_SCHEDULE_ID, "An 8x8 schedule id")
}

/// Why one entry of the closed choices is not one of 8x8's custom choices, if it is not.
/// The flow checks each entry with this on its own line; the settings name the first.
pub fn closed_choice_problem(choice: &str) -> Option<String> {
    if SCHEDULE_CHOICES.contains(&choice) {
        return None;
    }
    let hint = match choice.trim() {
        c if c.eq_ignore_ascii_case("closed") => {
            " (Closed always counts as closed: list only the custom choices)"
        }
        c if c.eq_ignore_ascii_case("open") => " (Open never counts as closed)",
        _ => "",
    };
    Some(format!(
        "\"{choice}\" is not one of 8x8's schedule choices{hint}; the choices are Choice #1 to Choice #6, written as 8x8 names them."
    ))
}

fn closed_choices_problem(choices: &[String]) -> Option<String> {
    for (i, choice) in choices.iter().enumerate() {
        if let Some(problem) = closed_choice_problem(choice) {
            return Some(problem);
        }
        if choices[..i].contains(choice) {
            return Some(format!("\"{choice}\" is listed twice; keep one."));
        }
    }
    None
}

/// A message the customer is told whenever its check is on: it must say something.
fn said_message_problem(text: &str, placeholders: &[&str], empty: &str) -> Option<String> {
    if text.trim().is_empty() {
        return Some(empty.into());
    }
    message_problem(text, placeholders)
}

/// Any message: bounded, and only the placeholders the relay fills in for it (an unknown
/// one would reach the customer as `{position}`).
fn message_problem(text: &str, placeholders: &[&str]) -> Option<String> {
    too_long(text, MAX_MESSAGE, "This message").or_else(|| {
        let unknown = unknown_placeholder(text, placeholders)?;
        let known = match placeholders {
            [] => {
                "this message has none; write the text as the customer should read it".to_string()
            }
            [one] => format!("this message can use {{{one}}}"),
            many => {
                let names: Vec<String> = many.iter().map(|p| format!("{{{p}}}")).collect();
                format!(
                    "this message can use {} and {}",
                    names[..names.len() - 1].join(", "),
                    names[names.len() - 1]
                )
            }
        };
        Some(format!("{{{unknown}}} is not filled in here; {known}."))
    })
}

/// The first `{name}` in `text` that is not one of `known`.
pub fn unknown_placeholder<'a>(text: &'a str, known: &[&str]) -> Option<&'a str> {
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after.find('}')?;
        let name = &after[..close];
        // `{{` is a brace and the next one may open a placeholder.
        if name.contains('{') {
            rest = after;
            continue;
        }
        if !known.contains(&name) {
            return Some(name);
        }
        rest = &after[close + 1..];
    }
    None
}

fn cancel_word_problem(word: &str) -> Option<String> {
    if word.is_empty() {
        return None;
    }
    if word.contains(['\n', '\r']) {
        return Some(
            "The cancel word is one line that the customer types; remove the line break.".into(),
        );
    }
    if word.trim().is_empty() {
        return Some(
            "The cancel word is only spaces; type a word such as \"cancel\", or leave it empty for none."
                .into(),
        );
    }
    too_long(word, MAX_CANCEL_WORD, "The cancel word")
}

fn too_long(text: &str, max: usize, what: &str) -> Option<String> {
    let length = text.chars().count();
    (length > max).then(|| {
        format!(
            "{what} takes at most {} characters; it has {}.",
            thousands(max as u32),
            thousands(length as u32)
        )
    })
}

/// 10000 as "10,000", as the admin reads a number.
fn thousands(n: u32) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contact_center::{Availability, OpeningHours, QueueLimit};

    fn paths(c: &ContactCenterChecks) -> Vec<&'static str> {
        c.problems().into_iter().map(|(p, _)| p).collect()
    }

    fn message(c: &ContactCenterChecks, path: &str) -> String {
        c.problems()
            .into_iter()
            .find(|(p, _)| *p == path)
            .unwrap_or_else(|| panic!("no problem at {path}: {:?}", c.problems()))
            .1
    }

    /// Every check on, with sensible values.
    fn all_on() -> ContactCenterChecks {
        ContactCenterChecks {
            opening_hours: Some(OpeningHours {
                schedule_id: "sched-1".into(),
                closed_choices: vec!["Choice #2".into(), "Choice #6".into()],
                ..OpeningHours::default()
            }),
            availability: Some(Availability::default()),
            queue_limit: Some(QueueLimit {
                max_waiting: Some(5),
                ..QueueLimit::default()
            }),
            queue_update_seconds: 60,
            cancel_word: "cancel".into(),
            ..ContactCenterChecks::default()
        }
    }

    #[test]
    fn the_defaults_and_every_check_on_with_its_default_texts_are_fine() {
        assert_eq!(ContactCenterChecks::default().problems(), vec![]);
        assert_eq!(all_on().problems(), vec![]);
    }

    #[test]
    fn opening_hours_need_a_schedule_id_without_spaces() {
        let mut c = all_on();
        let hours = c.opening_hours.as_mut().unwrap();
        hours.schedule_id = " ".into();
        assert_eq!(paths(&c), ["openingHours.scheduleId"]);
        assert!(message(&c, "openingHours.scheduleId").contains("need the 8x8 schedule"));
        c.opening_hours.as_mut().unwrap().schedule_id = "week days".into();
        assert!(message(&c, "openingHours.scheduleId").contains("no spaces"));
        c.opening_hours.as_mut().unwrap().schedule_id = "s".repeat(MAX_SCHEDULE_ID + 1);
        assert_eq!(
            message(&c, "openingHours.scheduleId"),
            "An 8x8 schedule id takes at most 256 characters; it has 257."
        );
        c.opening_hours.as_mut().unwrap().schedule_id = "s".repeat(MAX_SCHEDULE_ID);
        assert_eq!(c.problems(), vec![]);
    }

    #[test]
    fn closed_choices_are_8x8s_six_choices_once_each() {
        let mut c = all_on();
        let set = |c: &mut ContactCenterChecks, choices: &[&str]| {
            c.opening_hours.as_mut().unwrap().closed_choices =
                choices.iter().map(|s| s.to_string()).collect();
        };
        set(&mut c, &SCHEDULE_CHOICES);
        assert_eq!(c.problems(), vec![]);
        set(&mut c, &["Choice #1", "Choice #7", "choice #2"]);
        assert_eq!(
            message(&c, "openingHours.closedChoices"),
            "\"Choice #7\" is not one of 8x8's schedule choices; the choices are Choice #1 to Choice #6, written as 8x8 names them."
        );
        set(&mut c, &["Closed"]);
        assert!(message(&c, "openingHours.closedChoices").contains("Closed always counts"));
        set(&mut c, &["Choice #3", "Choice #3"]);
        assert_eq!(
            message(&c, "openingHours.closedChoices"),
            "\"Choice #3\" is listed twice; keep one."
        );
    }

    #[test]
    fn messages_that_are_said_must_say_something_and_stay_bounded() {
        let mut c = all_on();
        c.opening_hours.as_mut().unwrap().message = "  ".into();
        c.availability.as_mut().unwrap().message = String::new();
        c.queue_limit.as_mut().unwrap().message = "\n".into();
        c.queue_update_message = String::new();
        assert_eq!(
            paths(&c),
            [
                "openingHours.message",
                "availability.message",
                "queueLimit.message",
                "queueUpdateMessage"
            ]
        );
        // With the updates off their message may be empty; a check that is off is not
        // looked at.
        c.queue_update_seconds = 0;
        c.opening_hours = None;
        c.availability = None;
        c.queue_limit = None;
        assert_eq!(c.problems(), vec![]);
        // Status messages may be empty (silent) but not endless; characters, not bytes.
        c.status.ended = "é".repeat(MAX_MESSAGE);
        assert_eq!(c.problems(), vec![]);
        c.status.ended.push('x');
        assert_eq!(
            c.problems(),
            vec![(
                "status.ended",
                "This message takes at most 2,000 characters; it has 2,001.".to_string()
            )]
        );
    }

    #[test]
    fn only_the_placeholders_a_message_gets_are_allowed_and_an_unknown_one_is_named() {
        let mut c = all_on();
        c.queue_update_message = "{waiting} ahead, {typical_wait} typical".into();
        c.queue_limit.as_mut().unwrap().message = "{waiting}, the longest {longest_wait}".into();
        c.status.agent_joined = "{agent} is here".into();
        assert_eq!(c.problems(), vec![]);

        c.queue_update_message = "You are number {position}; {waiting} waiting".into();
        assert_eq!(
            message(&c, "queueUpdateMessage"),
            "{position} is not filled in here; this message can use {waiting} and {typical_wait}."
        );
        c.queue_update_message = "{longest_wait}".into();
        assert!(message(&c, "queueUpdateMessage").starts_with("{longest_wait} is not"));
        c.queue_limit.as_mut().unwrap().message = "{typical_wait}".into();
        assert!(message(&c, "queueLimit.message").contains("{waiting} and {longest_wait}"));
        c.status.agent_joined = "{Agent} joined".into();
        assert_eq!(
            message(&c, "status.agentJoined"),
            "{Agent} is not filled in here; this message can use {agent}."
        );
        c.status.agent_left = "{agent} left".into();
        assert_eq!(
            message(&c, "status.agentLeft"),
            "{agent} is not filled in here; this message has none; write the text as the customer should read it."
        );
        c.opening_hours.as_mut().unwrap().message = "Closed until {opening}".into();
        assert!(message(&c, "openingHours.message").starts_with("{opening} is not"));
    }

    #[test]
    fn braces_that_are_not_placeholders_pass() {
        assert_eq!(unknown_placeholder("a { b", &[]), None);
        assert_eq!(unknown_placeholder("a } b {", &[]), None);
        assert_eq!(unknown_placeholder("{{waiting}", &["waiting"]), None);
        assert_eq!(unknown_placeholder("{}", &["waiting"]), Some(""));
    }

    #[test]
    fn a_queue_limit_needs_a_limit_within_bounds() {
        let mut c = all_on();
        let limit = c.queue_limit.as_mut().unwrap();
        limit.max_waiting = None;
        assert_eq!(paths(&c), ["queueLimit"]);
        let limit = c.queue_limit.as_mut().unwrap();
        limit.max_waiting = Some(MAX_WAITING + 1);
        limit.max_longest_wait_seconds = Some(0);
        assert_eq!(
            paths(&c),
            ["queueLimit.maxWaiting", "queueLimit.maxLongestWaitSeconds"]
        );
        assert_eq!(
            message(&c, "queueLimit.maxWaiting"),
            "The most waiting is a number from 0 (anyone waiting is too many) to 10,000; 10,001 is outside that."
        );
        assert!(message(&c, "queueLimit.maxLongestWaitSeconds").contains("86,400"));
        let limit = c.queue_limit.as_mut().unwrap();
        limit.max_waiting = Some(0);
        limit.max_longest_wait_seconds = Some(86_400);
        assert_eq!(c.problems(), vec![]);
        c.queue_limit.as_mut().unwrap().max_longest_wait_seconds = Some(86_401);
        assert_eq!(paths(&c), ["queueLimit.maxLongestWaitSeconds"]);
        c.queue_limit.as_mut().unwrap().max_longest_wait_seconds = Some(1);
        c.queue_limit.as_mut().unwrap().max_waiting = None;
        assert_eq!(c.problems(), vec![]);
    }

    #[test]
    fn queue_updates_are_off_or_every_15_seconds_to_an_hour() {
        let mut c = all_on();
        for (seconds, fine) in [
            (0, true),
            (1, false),
            (14, false),
            (15, true),
            (3_600, true),
            (3_601, false),
        ] {
            c.queue_update_seconds = seconds;
            assert_eq!(c.problems().is_empty(), fine, "{seconds} s");
        }
        c.queue_update_seconds = 5;
        let m = message(&c, "queueUpdateSeconds");
        assert!(m.contains("15 to 3,600 seconds"), "{m}");
        assert!(m.contains("8x8 refreshes"), "{m}");
    }

    #[test]
    fn the_cancel_word_is_one_short_line() {
        let mut c = all_on();
        for (word, problem) in [
            ("", None),
            ("stop", None),
            ("leave the queue", None),
            ("stop\nnow", Some("line break")),
            ("   ", Some("only spaces")),
        ] {
            c.cancel_word = word.into();
            match problem {
                None => assert_eq!(c.problems(), vec![], "{word:?}"),
                Some(needle) => assert!(message(&c, "cancelWord").contains(needle), "{word:?}"),
            }
        }
        c.cancel_word = "x".repeat(MAX_CANCEL_WORD);
        assert_eq!(c.problems(), vec![]);
        c.cancel_word.push('x');
        assert_eq!(
            message(&c, "cancelWord"),
            "The cancel word takes at most 40 characters; it has 41."
        );
    }
}
