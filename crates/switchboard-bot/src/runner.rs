//! One turn of the built-in flow. Kept apart from the parser so that what the bot does
//! with a message can be read (and tested) without the YAML around it.

use super::flow::{Flow, Message, Rule};
use super::{card_text, BotInput, BotReply, BotSession, BotTurn};

enum Outcome<'a> {
    Handover,
    Rule(&'a Rule),
}

pub(crate) fn respond(flow: &Flow, session: &mut BotSession, input: BotInput) -> BotTurn {
    let outcome = match input {
        BotInput::Start => {
            session.fallbacks = 0;
            return BotTurn {
                replies: vec![reply(&flow.greeting)],
                handover: None,
                rule: Some("greeting".into()),
            };
        }
        BotInput::Text(text) => find(flow, &text, false),
        // The payload is what the flow's author chose for the button, so it speaks first;
        // the title covers buttons from elsewhere, e.g. an older greeting.
        BotInput::QuickReply { title, payload } => {
            find(flow, &payload, true).or_else(|| find(flow, &title, false))
        }
        BotInput::CardSubmit(value) => find(flow, &card_text(&value), false),
    };
    match outcome {
        Some(Outcome::Handover) => handover(flow, session, Vec::new(), "asked for an agent"),
        Some(Outcome::Rule(rule)) => {
            session.fallbacks = 0;
            let replies: Vec<BotReply> = rule.reply.iter().map(reply).collect();
            let name = match &rule.name {
                Some(name) => name.clone(),
                None => format!("rule at line {}", rule.line),
            };
            if rule.handover {
                let reason = match &rule.name {
                    Some(name) => format!("the rule \"{name}\" hands over"),
                    None => format!("the rule on line {} hands over", rule.line),
                };
                BotTurn {
                    rule: Some(name),
                    ..handover(flow, session, replies, &reason)
                }
            } else {
                BotTurn {
                    replies,
                    handover: None,
                    rule: Some(name),
                }
            }
        }
        None => {
            session.fallbacks += 1;
            let limit = flow.handover.after_fallbacks;
            if limit > 0 && session.fallbacks >= limit {
                // The fallback reply asks to rephrase; after handing over that would
                // contradict the handover message, so only the latter is said.
                let reason = if limit == 1 {
                    "the bot did not understand the message".to_string()
                } else {
                    format!("the bot did not understand {limit} messages in a row")
                };
                handover(flow, session, Vec::new(), &reason)
            } else {
                BotTurn {
                    replies: vec![reply(&flow.fallback)],
                    handover: None,
                    rule: Some("fallback".into()),
                }
            }
        }
    }
}

fn find<'a>(flow: &'a Flow, text: &str, payload: bool) -> Option<Outcome<'a>> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if payload {
        let named = flow.rules.iter().find(|r| {
            r.name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(text))
        });
        if let Some(rule) = named {
            return Some(Outcome::Rule(rule));
        }
    }
    // Handover words first: "a person about my bill" wants the person, not the billing FAQ.
    if flow
        .handover
        .matcher
        .as_ref()
        .is_some_and(|m| m.matches(text))
    {
        return Some(Outcome::Handover);
    }
    flow.rules
        .iter()
        .find(|r| r.matcher.matches(text))
        .map(Outcome::Rule)
}

fn handover(
    flow: &Flow,
    session: &mut BotSession,
    mut replies: Vec<BotReply>,
    reason: &str,
) -> BotTurn {
    // When the agent hands the conversation back, the bot starts with a clean slate.
    session.fallbacks = 0;
    replies.push(BotReply {
        text: flow.handover.message.clone(),
        quick_replies: Vec::new(),
    });
    BotTurn {
        replies,
        handover: Some(reason.to_string()),
        rule: Some("handover".into()),
    }
}

fn reply(message: &Message) -> BotReply {
    BotReply {
        text: message.text.clone(),
        quick_replies: message.quick_replies.clone(),
    }
}
