//! Before a handover the bot asks the contact center (docs/contact-center.md §5): is the
//! schedule open, is anyone there to take the chat, is the queue too long. A "no" is
//! said to the customer and the bot carries on; a long queue or an empty one may be
//! offered anyway (wait / keep talking to the bot). 8x8 failing to answer falls back as
//! configured, so a conversation is never stuck on a check. Each decision is a system
//! line with the figures it used.

use std::sync::Arc;

use serde_json::{json, Value};

use switchboard_bot::{BotReply, QuickReply};
use switchboard_settings::Settings;
use switchboard_types::{
    contact_center::{AgentStates, ContactCenterChecks, OnCheckError, QueueFigures, ScheduleState},
    Direction, Lane,
};

use crate::{bot_turn, note, Conversation, Engine, EngineError, Mode};

/// The quick replies' payloads the engine answers itself, never the bot.
pub(crate) const WAIT: &str = "switchboard:wait";
pub(crate) const KEEP_BOT: &str = "switchboard:bot";
pub(crate) const CANCEL: &str = "switchboard:cancel";

const WAIT_TITLE: &str = "Wait for an agent";
const KEEP_BOT_TITLE: &str = "Keep talking to the bot";

/// The checks in force: the flow's own block when the built-in flow has one (it replaces
/// the form's), else the Handover settings'.
pub(crate) fn checks(engine: &Engine, settings: &Arc<Settings>) -> ContactCenterChecks {
    engine
        .bot
        .contact_center(settings)
        .unwrap_or_else(|| settings.handover.contact_center.clone())
}

/// What the checks decided.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    HandOver,
    /// The customer was told why not; the bot carries on.
    Declined,
    /// The customer was told and asked: wait, or keep talking to the bot.
    Offered,
}

/// Runs the checks that are on. `waited` is set when the customer already chose to wait
/// after an offer: the queue is not asked again (the schedule still is).
pub(crate) async fn before_handover(
    engine: &Arc<Engine>,
    conv: &mut Conversation,
    reason: &str,
    waited: bool,
) -> Result<Verdict, EngineError> {
    let settings = engine.settings();
    let checks = checks(engine, &settings);
    if let Some(hours) = &checks.opening_hours {
        let answer = engine.connections.schedule_state(&hours.schedule_id).await;
        let closed = match &answer {
            Ok(ScheduleState::Open) => false,
            Ok(ScheduleState::Closed) => true,
            Ok(ScheduleState::Choice(c)) => hours
                .closed_choices
                .iter()
                .any(|x| x.trim().eq_ignore_ascii_case(c.trim())),
            Err(_) => checks.on_error == OnCheckError::TreatAsClosed,
        };
        let what = match &answer {
            Ok(state) => format!(
                "Opening hours: schedule {} is {}",
                hours.schedule_id,
                state.label()
            ),
            Err(e) => format!(
                "Opening hours could not be checked ({e}); {}",
                fallback_words(checks.on_error)
            ),
        };
        let payload = json!({ "check": "openingHours", "scheduleId": hours.schedule_id,
            "state": answer.as_ref().ok().map(ScheduleState::label), "error": answer.as_ref().err() });
        if closed {
            system(engine, conv, &format!("{what}: no handover."), payload).await?;
            bot_turn::say(engine, conv, &hours.message).await?;
            return Ok(Verdict::Declined);
        }
        system(engine, conv, &format!("{what}."), payload).await?;
    }
    let queue_checks = checks.availability.is_some() || checks.queue_limit.is_some();
    if waited || !queue_checks {
        return Ok(Verdict::HandOver);
    }
    let (_, queue) = engine.connections.handover_route(&settings);
    let Some(queue) = queue else {
        // handover::start says that no queue is set.
        return Ok(Verdict::HandOver);
    };
    let figures = match engine.connections.queue_figures(&queue).await {
        Ok(f) => f,
        Err(e) => {
            let payload = json!({ "check": "queue", "queueId": queue, "error": e });
            let text = format!(
                "Queue {queue}'s figures could not be read ({e}); {}.",
                fallback_words(checks.on_error)
            );
            system(engine, conv, &text, payload).await?;
            if checks.on_error == OnCheckError::TreatAsClosed {
                bot_turn::say(engine, conv, &closed_message(&checks)).await?;
                return Ok(Verdict::Declined);
            }
            return Ok(Verdict::HandOver);
        }
    };
    let summary = figures_words(&figures);
    let payload = json!({ "check": "queue", "queueId": queue, "figures": figures });
    if let Some(a) = &checks.availability {
        let able = figures.agents_in(a.states);
        if able == 0 {
            let text = format!(
                "Availability: no agent {} in queue {} ({summary}).",
                states_words(a.states),
                queue_label(&figures)
            );
            system(engine, conv, &text, payload).await?;
            return offer_or_decline(engine, conv, reason, &a.message, a.offer_wait).await;
        }
    }
    if let Some(limit) = &checks.queue_limit {
        let too_many = limit.max_waiting.is_some_and(|n| figures.waiting > n);
        let too_long = limit
            .max_longest_wait_seconds
            .is_some_and(|s| figures.longest_wait_seconds > s);
        if too_many || too_long {
            let why = match (too_many, too_long) {
                (true, true) => "too many waiting and waiting too long",
                (true, false) => "too many waiting",
                _ => "waiting too long",
            };
            let text = format!(
                "Queue too long: {why} in queue {} ({summary}).",
                queue_label(&figures)
            );
            system(engine, conv, &text, payload).await?;
            let message = limit
                .message
                .replace("{waiting}", &figures.waiting.to_string())
                .replace(
                    "{longest_wait}",
                    &duration_words(figures.longest_wait_seconds),
                );
            return offer_or_decline(engine, conv, reason, &message, true).await;
        }
    }
    let text = format!(
        "Queue {} checked before the handover ({summary}).",
        queue_label(&figures)
    );
    system(engine, conv, &text, payload).await?;
    Ok(Verdict::HandOver)
}

/// Says why not, and asks whether to wait anyway when `offer` is set.
async fn offer_or_decline(
    engine: &Arc<Engine>,
    conv: &mut Conversation,
    reason: &str,
    message: &str,
    offer: bool,
) -> Result<Verdict, EngineError> {
    if !offer {
        bot_turn::say(engine, conv, message).await?;
        return Ok(Verdict::Declined);
    }
    conv.handover_offer = Some(reason.to_string());
    bot_turn::send_reply(
        engine,
        conv,
        &BotReply {
            text: message.to_string(),
            quick_replies: vec![
                QuickReply {
                    title: WAIT_TITLE.into(),
                    payload: WAIT.into(),
                },
                QuickReply {
                    title: KEEP_BOT_TITLE.into(),
                    payload: KEEP_BOT.into(),
                },
            ],
        },
    )
    .await?;
    Ok(Verdict::Offered)
}

/// The customer's answer to an offer: `Some(true)` waits, `Some(false)` stays with the
/// bot, `None` is something else (the offer lapses and the bot answers it).
pub(crate) fn answer_to_offer(payload: Option<&str>, text: &str) -> Option<bool> {
    match payload {
        Some(WAIT) => return Some(true),
        Some(KEEP_BOT) => return Some(false),
        _ => {}
    }
    let text = text.trim();
    if text.eq_ignore_ascii_case(WAIT_TITLE) || text.eq_ignore_ascii_case("wait") {
        Some(true)
    } else if text.eq_ignore_ascii_case(KEEP_BOT_TITLE) {
        Some(false)
    } else {
        None
    }
}

/// Whether the customer's input asks to leave the queue: the cancel quick reply, or the
/// cancel word as the whole message.
pub(crate) fn is_cancel(checks: &ContactCenterChecks, payload: Option<&str>, text: &str) -> bool {
    payload == Some(CANCEL)
        || (!checks.cancel_word.trim().is_empty()
            && text.trim().eq_ignore_ascii_case(checks.cancel_word.trim()))
}

/// The queued status message, with the cancel word offered as a quick reply when there
/// is one.
pub(crate) fn queued_reply(checks: &ContactCenterChecks, mode: Mode) -> Option<BotReply> {
    let text = checks.status.queued.trim();
    if text.is_empty() {
        return None;
    }
    Some(BotReply {
        text: text.to_string(),
        quick_replies: cancel_offer(checks, mode),
    })
}

/// The cancel word as a quick reply, on every line said while queued (only the newest
/// line's buttons can be tapped). Only the relay's own user can leave the queue and come
/// back to the bot: 8x8 has no assignment back to a webhook (P33).
pub(crate) fn cancel_offer(checks: &ContactCenterChecks, mode: Mode) -> Vec<QuickReply> {
    let word = checks.cancel_word.trim();
    if mode == Mode::Endpoint || word.is_empty() {
        return Vec::new();
    }
    vec![QuickReply {
        title: word.to_string(),
        payload: CANCEL.into(),
    }]
}

/// The queue update the waiting customer gets: the queue's figures, worded as such.
pub(crate) fn update_text(checks: &ContactCenterChecks, f: &QueueFigures) -> String {
    checks
        .queue_update_message
        .replace("{waiting}", &f.waiting.to_string())
        .replace(
            "{typical_wait}",
            &typical_wait_words(f.average_wait_seconds),
        )
}

/// The 30-minute average as the customer is told it. 0 is what 8x8 reports when no chat
/// was answered in the last 30 minutes: "under a minute" would then be a promise nobody
/// measured.
fn typical_wait_words(seconds: u32) -> String {
    match seconds {
        0 => "not known yet (no chat answered in the last 30 minutes)".into(),
        s => duration_words(s),
    }
}

/// What "treat as closed" says when the queue could not be read.
fn closed_message(checks: &ContactCenterChecks) -> String {
    checks
        .opening_hours
        .as_ref()
        .map(|h| h.message.clone())
        .or_else(|| checks.availability.as_ref().map(|a| a.message.clone()))
        .unwrap_or_else(|| switchboard_types::contact_center::OpeningHours::default().message)
}

async fn system(
    engine: &Engine,
    conv: &mut Conversation,
    text: &str,
    payload: Value,
) -> Result<(), EngineError> {
    note(engine, conv, Lane::System, Direction::Local, text, payload).await?;
    Ok(())
}

fn fallback_words(on_error: OnCheckError) -> &'static str {
    match on_error {
        OnCheckError::HandOver => "handing over anyway (fallback)",
        OnCheckError::TreatAsClosed => "treated as closed (fallback)",
    }
}

fn states_words(states: AgentStates) -> &'static str {
    match states {
        AgentStates::Available => "available",
        AgentStates::AvailableOrBusy => "available or busy",
        AgentStates::AvailableBusyOrOffline => "available, busy or working offline",
        AgentStates::AvailableBusyOfflineOrBreak => "available, busy, working offline or on break",
        AgentStates::LoggedIn => "logged in",
    }
}

fn queue_label(f: &QueueFigures) -> String {
    match &f.queue_name {
        Some(name) if !name.is_empty() => format!("{name} ({})", f.queue_id),
        _ => f.queue_id.clone(),
    }
}

/// The figures a decision used, in one line.
pub(crate) fn figures_words(f: &QueueFigures) -> String {
    let typical = match f.average_wait_seconds {
        0 => "no recent waits".to_string(),
        s => format!("typical {}", duration_words(s)),
    };
    format!(
        "{} waiting, longest {}, {typical}; agents: {} available, {} busy, {} working offline, {} on break, {} wrap-up, {} logged out",
        f.waiting,
        duration_words(f.longest_wait_seconds),
        f.agents_available,
        f.agents_busy,
        f.agents_working_offline,
        f.agents_on_break,
        f.agents_wrap_up,
        f.agents_logged_out
    )
}

/// A wait as a person says it: "under a minute", "4 min", "1 h 5 min".
pub(crate) fn duration_words(seconds: u32) -> String {
    match seconds {
        0..=59 => "under a minute".into(),
        60..=3599 => format!("{} min", (seconds + 30) / 60),
        _ => {
            let minutes = (seconds + 30) / 60;
            match minutes % 60 {
                0 => format!("{} h", minutes / 60),
                m => format!("{} h {m} min", minutes / 60),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_said_as_a_person_would() {
        assert_eq!(duration_words(0), "under a minute");
        assert_eq!(duration_words(59), "under a minute");
        assert_eq!(duration_words(60), "1 min");
        assert_eq!(duration_words(149), "2 min");
        assert_eq!(duration_words(3600), "1 h");
        assert_eq!(duration_words(3900), "1 h 5 min");
    }

    #[test]
    fn no_recent_waits_is_not_a_short_wait() {
        let checks = ContactCenterChecks::default();
        let f = QueueFigures {
            waiting: 2,
            ..QueueFigures::default()
        };
        assert_eq!(
            update_text(&checks, &f),
            "2 waiting in this queue; its typical wait is not known yet (no chat answered in the last 30 minutes). Thank you for your patience."
        );
    }

    #[test]
    fn an_offer_is_answered_by_its_buttons_or_their_words() {
        assert_eq!(answer_to_offer(Some(WAIT), "whatever"), Some(true));
        assert_eq!(answer_to_offer(None, " wait for an agent "), Some(true));
        assert_eq!(answer_to_offer(Some(KEEP_BOT), ""), Some(false));
        assert_eq!(
            answer_to_offer(None, "Keep talking to the bot"),
            Some(false)
        );
        assert_eq!(answer_to_offer(None, "where is my parcel"), None);
    }

    #[test]
    fn the_cancel_word_is_the_whole_message() {
        let mut c = ContactCenterChecks::default();
        assert!(!is_cancel(&c, None, "cancel"));
        c.cancel_word = "Cancel".into();
        assert!(is_cancel(&c, None, " cancel "));
        assert!(!is_cancel(&c, None, "please cancel my order"));
        assert!(is_cancel(&c, Some(CANCEL), "anything"));
    }
}
