//! What a notification says. Only what the admin needs to decide whether to look: who,
//! which queue, the start of the agent's words. Never a key, token or URL: the texts are
//! built from the conversation's user name, queue and the agent's message alone.

use switchboard_engine::Conversation;

/// The longest agent text shown; a notification is a glance, the transcript has the rest.
pub const MAX_TEXT_CHARS: usize = 140;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub title: String,
    pub body: String,
    /// Where a click on the notification leads.
    pub conversation_id: String,
}

/// A conversation entered the handover: someone is waiting for an agent.
pub fn handed_over(conv: &Conversation) -> Notice {
    let who = user_name(conv).unwrap_or_else(|| "A user".into());
    let body = match queue(conv) {
        Some(queue) => format!("{who} is waiting for an agent in queue {queue}."),
        None => format!("{who} is waiting for an agent."),
    };
    Notice {
        title: "Conversation handed over".into(),
        body: escape_markup(&body),
        conversation_id: conv.id.clone(),
    }
}

/// An agent's message reached the user. `conv` is `None` if the conversation could not be
/// read, which still deserves the notification, only without the name.
pub fn agent_replied(conv: Option<&Conversation>, conversation_id: &str, text: &str) -> Notice {
    let title = match conv.and_then(user_name) {
        Some(name) => format!("Agent replied to {name}"),
        None => "Agent replied".into(),
    };
    let text = one_line(text, MAX_TEXT_CHARS);
    Notice {
        title,
        body: if text.is_empty() {
            "The agent sent an attachment or a card.".into()
        } else {
            escape_markup(&text)
        },
        conversation_id: conversation_id.to_string(),
    }
}

/// Notification servers may read the body as markup (the freedesktop spec's
/// `body-markup`); a user's or agent's `<` or `&` must show as typed, not as a tag.
fn escape_markup(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn user_name(conv: &Conversation) -> Option<String> {
    conv.user["name"]
        .as_str()
        .map(|n| one_line(n, 60))
        .filter(|n| !n.is_empty())
}

/// The queue's name once 8x8 reported it, else its id (what the admin typed, or the
/// assignment the handover was created with).
fn queue(conv: &Conversation) -> Option<String> {
    let assigned = conv
        .handover
        .as_ref()
        .and_then(|h| h.request.assignment.as_ref())
        .map(|a| a.id.clone());
    [conv.queue_name.clone(), conv.queue_id.clone(), assigned]
        .into_iter()
        .flatten()
        .map(|q| one_line(&q, 60))
        .find(|q| !q.is_empty())
}

/// Whitespace (line breaks included) collapsed to single spaces, cut at `max` characters
/// (not bytes: names and messages are any language) with an ellipsis.
pub fn one_line(text: &str, max: usize) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let line = words.join(" ");
    if line.chars().count() <= max {
        return line;
    }
    let cut: String = line.chars().take(max.saturating_sub(1)).collect();
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use chat_gateway_client::types::{Assignment, CreateConversation};
    use serde_json::json;
    use switchboard_engine::{Conversation, Mode};
    use switchboard_store::HandoverRecord;

    use super::*;

    fn conv(user: serde_json::Value) -> Conversation {
        let mut c = Conversation::new("hc-1".into(), Mode::Handover, 0);
        c.user = user;
        c
    }

    #[test]
    fn markup_in_what_people_typed_is_shown_as_typed() {
        let n = agent_replied(None, "hc-1", "Use <b>Settings</b> & save");
        assert_eq!(n.body, "Use &lt;b&gt;Settings&lt;/b&gt; &amp; save");
        let c = conv(json!({ "name": "<i>Eve</i>" }));
        assert_eq!(
            handed_over(&c).body,
            "&lt;i&gt;Eve&lt;/i&gt; is waiting for an agent."
        );
    }

    #[test]
    fn a_handover_names_the_user_and_the_queue() {
        let mut c = conv(json!({ "name": "Ada  Lovelace", "email": "ada@example.com" }));
        c.handover = Some(HandoverRecord {
            request: CreateConversation {
                assignment: Some(Assignment::queue("101")),
                ..CreateConversation::default()
            },
            ..HandoverRecord::default()
        });
        let n = handed_over(&c);
        assert_eq!(n.title, "Conversation handed over");
        assert_eq!(n.body, "Ada Lovelace is waiting for an agent in queue 101.");
        assert_eq!(n.conversation_id, "hc-1");
        assert!(!n.body.contains("ada@example.com"));

        // Once 8x8 queued it, the queue's name is known and wins.
        c.queue_id = Some("101".into());
        c.queue_name = Some("Sandbox support".into());
        assert_eq!(
            handed_over(&c).body,
            "Ada Lovelace is waiting for an agent in queue Sandbox support."
        );
    }

    #[test]
    fn a_handover_without_a_name_or_a_queue_still_reads_well() {
        let c = conv(json!({ "name": "  ", "channel": "WebChat" }));
        assert_eq!(handed_over(&c).body, "A user is waiting for an agent.");
    }

    #[test]
    fn an_agent_reply_shows_the_text_on_one_line_cut_to_length() {
        let c = conv(json!({ "name": "Ada" }));
        let n = agent_replied(Some(&c), "hc-1", "Hello Ada,\n\nyour parcel\tleft today.");
        assert_eq!(n.title, "Agent replied to Ada");
        assert_eq!(n.body, "Hello Ada, your parcel left today.");

        let long = "é".repeat(MAX_TEXT_CHARS + 20);
        let body = agent_replied(Some(&c), "hc-1", &long).body;
        assert_eq!(body.chars().count(), MAX_TEXT_CHARS);
        assert!(body.ends_with('…'));

        let exact = "x".repeat(MAX_TEXT_CHARS);
        assert_eq!(agent_replied(None, "hc-1", &exact).body, exact);
    }

    #[test]
    fn an_agent_reply_without_text_or_conversation() {
        let n = agent_replied(None, "hc-9", "   ");
        assert_eq!(n.title, "Agent replied");
        assert_eq!(n.body, "The agent sent an attachment or a card.");
        assert_eq!(n.conversation_id, "hc-9");
    }
}
