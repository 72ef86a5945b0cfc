//! The conversation engine's state machine, on its own: 8x8's webhook events
//! (chat-gateway.md §5) through the real inbox queue, the tester's input, and the
//! inactivity clock in; phases, transcript lines and outbox calls out (§6, P5, P6, P12,
//! P13, P27, P28). No HTTP, no relay, no emulator, no outbox worker: a case plays 8x8
//! itself, answering outbox entries by writing their outcome.
//!
//! Every case is a table of steps (script.rs) on a fresh engine over its own SQLite file
//! (harness.rs):
//! - endpoint.rs — 8x8 routes a customer to the bot: greeting, replies, echoes,
//!   duplicates, escalation to a queue;
//! - handover.rs — the tester's user is handed to an agent: the create, held-back
//!   messages, the agent, handback, leaving;
//! - lifecycle.rs — agent left, transfer, endings, re-opening, the inactivity timeout
//!   and events out of order;
//! - tester_timeout.rs — the inactivity timeout for a user still with the bot;
//! - contact_center.rs — the checks before a handover (opening hours, agents, queue
//!   length, 8x8 failing), the offer to wait, queue updates, status messages, cancel.

mod harness;
mod script;

/// Two `#[tokio::test]`s per row, `<name>::sqlite` and `<name>::postgres`: every case on
/// both backends. `name: [step, …];`, attributes (an `#[ignore]`) first.
macro_rules! cases {
    ($( $(#[$meta:meta])* $name:ident: [$($step:expr),* $(,)?]; )*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                $(#[$meta])*
                #[tokio::test]
                async fn sqlite() {
                    $crate::script::run(
                        stringify!($name),
                        $crate::harness::Backend::Sqlite,
                        vec![$($step),*],
                    )
                    .await;
                }

                $(#[$meta])*
                #[tokio::test]
                async fn postgres() {
                    $crate::script::run(
                        stringify!($name),
                        $crate::harness::Backend::Postgres,
                        vec![$($step),*],
                    )
                    .await;
                }
            }
        )*
    };
}

mod contact_center;
mod copilot;
mod endpoint;
mod handover;
mod lifecycle;
mod tester_timeout;
