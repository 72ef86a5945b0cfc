//! Who an 8x8 `typing` activity says is typing (chat-gateway.md §5.6): `value.users`
//! lists the current typists, each with a `type`, and an empty list means nobody. The
//! endpoint's customer typing arrives this way too, so a typist is an agent only when
//! 8x8 says so — a bot or the customer must never show as "Agent is typing…".

use serde_json::Value;

/// Who is typing now, by the lanes the UI shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Typists {
    pub agent: bool,
    pub user: bool,
}

pub(crate) fn typists(value: &Value) -> Typists {
    let mut now = Typists::default();
    for typist in value["users"].as_array().into_iter().flatten() {
        match typist["type"].as_str() {
            Some("agent") => now.agent = true,
            // 8x8 names its customer "user"; "customer" is taken as the same.
            Some("user" | "customer") => now.user = true,
            // A bot (this relay's own pulse) or a kind 8x8 may add later: not shown.
            _ => {}
        }
    }
    now
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_customer_typing_is_not_an_agent() {
        let t = typists(&json!({"users": [{"type": "user", "id": "user"}]}));
        assert_eq!(
            t,
            Typists {
                agent: false,
                user: true
            }
        );
    }

    #[test]
    fn an_agent_is_one_when_8x8_says_so() {
        let t = typists(&json!({"users": [{"type": "agent", "id": "agent-abc-123"}]}));
        assert_eq!(
            t,
            Typists {
                agent: true,
                user: false
            }
        );
    }

    #[test]
    fn a_bot_or_nobody_types_for_no_one_shown() {
        assert_eq!(
            typists(&json!({"users": [{"type": "bot", "id": "b"}]})),
            Typists::default()
        );
        assert_eq!(typists(&json!({"users": []})), Typists::default());
        assert_eq!(typists(&json!({})), Typists::default());
    }
}
