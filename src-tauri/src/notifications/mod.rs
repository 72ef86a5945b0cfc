//! Native desktop notifications (through tauri-plugin-notification; on Linux the
//! freedesktop `org.freedesktop.Notifications` service): when a conversation is handed
//! over, and when an agent's message reaches the user. The shell watches the embedded
//! relay's event bus, the same events the admin UI's live stream carries. The setting
//! (Handover settings, `desktopNotifications`) is read for each event, so a save applies
//! at once. A click brings the window forward on that conversation.

mod compose;
mod transitions;
mod without_script;

use std::sync::Arc;

use serde_json::Value;
use switchboard_relay::{RelayHandle, RelayState};
use switchboard_store::db::DbError;
use switchboard_types::events::{now_ms, Envelope, RelayEvent};
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_notification::{ActionPerformed, NotificationExt};
use tokio::sync::broadcast::{error::RecvError, Receiver};

use compose::Notice;
use transitions::{Entered, Transitions};
pub use without_script::WithoutScript;

/// The key of the conversation id in a notification's extra data (read back on a click).
const CONVERSATION: &str = "conversationId";

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("the conversation could not be read: {0}")]
    Store(#[from] DbError),
    #[error("the notification could not be shown: {0}")]
    Show(#[from] tauri_plugin_notification::Error),
}

/// Starts watching the relay for as long as it runs, and answers clicks.
pub fn start<R: Runtime>(app: &AppHandle<R>, relay: &RelayHandle) {
    let clicked = app.clone();
    // Registered before the first notification: only then does the plugin ask the
    // notification server to report clicks.
    let _ = app
        .notification()
        .on_action(move |action| on_click(&clicked, action));
    tauri::async_runtime::spawn(watch(app.clone(), relay.state.clone(), relay.subscribe()));
}

async fn watch<R: Runtime>(
    app: AppHandle<R>,
    state: Arc<RelayState>,
    mut events: Receiver<Envelope>,
) {
    let started_ms = now_ms();
    let mut transitions = Transitions::default();
    let mut stopping = state.stopping.clone();
    loop {
        let envelope = tokio::select! {
            // The guard `wait_for` returns is not Send: dropped inside.
            _ = async { let _ = stopping.wait_for(|s| *s).await; } => return,
            next = events.recv() => match next {
                Ok(envelope) => envelope,
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "notifications fell behind the relay; some events were skipped");
                    continue;
                }
                Err(RecvError::Closed) => return,
            },
        };
        match notice_for(&state, &mut transitions, envelope.event, started_ms).await {
            Ok(Some(notice)) => {
                if let Err(e) = show(&app, &notice) {
                    tracing::warn!(error = %e, "desktop notification failed");
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "desktop notification skipped"),
        }
    }
}

/// What to notify for one relay event, if anything.
async fn notice_for(
    state: &RelayState,
    transitions: &mut Transitions,
    event: RelayEvent,
    started_ms: i64,
) -> Result<Option<Notice>, NotifyError> {
    match event {
        RelayEvent::ConversationChanged {
            conversation_id,
            phase,
        } => {
            // Tracked even while notifications are off, so turning them on does not
            // announce handovers that happened meanwhile.
            let entered = transitions.observe(&conversation_id, phase);
            if entered == Entered::No || !enabled(state).await {
                return Ok(None);
            }
            let Some(conv) = state.engine.store.get(&conversation_id).await? else {
                return Ok(None);
            };
            if entered == Entered::Unseen && !transitions::new_since(&conv, started_ms) {
                return Ok(None);
            }
            Ok(Some(compose::handed_over(&conv)))
        }
        RelayEvent::TranscriptEntry { entry } => {
            let from_agent = entry["lane"] == "agent" && entry["direction"] == "in";
            let Some(id) = entry["conversationId"].as_str().filter(|_| from_agent) else {
                return Ok(None);
            };
            if !enabled(state).await {
                return Ok(None);
            }
            let conv = state.engine.store.get(id).await?;
            let text = entry["text"].as_str().unwrap_or_default();
            Ok(Some(compose::agent_replied(conv.as_ref(), id, text)))
        }
        _ => Ok(None),
    }
}

async fn enabled(state: &RelayState) -> bool {
    state.settings().handover.desktop_notifications
}

fn show<R: Runtime>(app: &AppHandle<R>, notice: &Notice) -> Result<(), NotifyError> {
    app.notification()
        .builder()
        .title(&notice.title)
        .body(&notice.body)
        .extra(CONVERSATION, &notice.conversation_id)
        .show()?;
    tracing::debug!(conversation = %notice.conversation_id, "desktop notification shown");
    Ok(())
}

/// A click on a notification (`tap`): the window comes forward on the conversation.
fn on_click<R: Runtime>(app: &AppHandle<R>, action: &ActionPerformed) {
    if action.action_id() != "tap" {
        return;
    }
    let Some(window) = app.get_webview_window("main") else {
        return;
    };
    let _ = window.unminimize();
    let _ = window.show();
    let _ = window.set_focus();
    let id = action
        .notification()
        .and_then(|n| n.extra().get(CONVERSATION))
        .and_then(Value::as_str);
    if let Some(id) = id {
        let _ = window.eval(open_conversation_script(id));
    }
}

/// Opens the conversation in the UI as an in-app link would: the router's unsaved-changes
/// guard still asks before leaving a form. The conversations page reads `?c=` when it
/// opens, so on that page the address is loaded anew.
fn open_conversation_script(id: &str) -> String {
    let to = serde_json::to_string(&format!("/conversations?c={}", crate::encode_fragment(id)))
        .expect("a string serializes");
    format!(
        "(() => {{ const to = {to};
          if (location.pathname === '/conversations') {{
            if (location.pathname + location.search !== to) location.assign(to);
            return;
          }}
          history.pushState(null, '', to);
          dispatchEvent(new PopStateEvent('popstate'));
        }})();"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_click_script_carries_the_id_encoded_inside_a_string() {
        let script = open_conversation_script("hc-abc_1");
        assert!(
            script.contains(r#"const to = "/conversations?c=hc-abc_1";"#),
            "{script}"
        );
        let hostile = open_conversation_script("x\"; alert(1); //</script>");
        assert!(
            hostile.contains(
                r#""/conversations?c=x%22%3B%20alert%281%29%3B%20%2F%2F%3C%2Fscript%3E""#
            ),
            "{hostile}"
        );
    }
}
