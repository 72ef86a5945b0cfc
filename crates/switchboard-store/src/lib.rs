//! Switchboard's durable state, in SQLite (WAL): the schema and its migrations ([`db`]),
//! every webhook delivery and the restart-surviving queue to the engine
//! ([`deliveries`], [`inbox_queue`]), the outbox of calls bound for 8x8 ([`outbox`]), the
//! conversations and their transcripts ([`conversations`]), the folded text a search
//! looks through ([`search_text`]) and the index of every transcript line
//! ([`transcript_search`]), the write units that commit everything one event
//! causes together with its "processed" mark ([`write_unit`]), and the retention that
//! deletes finished records past their age and shrinks the file ([`retention`]).
//!
//! The seam for a second backend (PostgreSQL, for several relays): the engine and the
//! relay see the store through these types' methods only — no crate above this one
//! depends on rusqlite or writes SQL (`cargo tree -p switchboard-engine` shows no
//! database driver of its own). A backend is chosen when [`Db`] is opened, and each
//! store type keeps its public methods while its SQL gains a PostgreSQL twin behind
//! them; the one SQLite-shaped part of the interface is [`write_unit::Write`] (a closure
//! over a SQLite connection), which becomes a backend-neutral write (statement and
//! parameters) when the second backend arrives. Types rather than traits: the engine
//! never needs two stores at once, and a test uses the real SQLite store on disk.

pub mod analytics;
pub mod conversation_store;
pub mod conversations;
pub mod copilot;
pub mod database;
pub mod db;
pub mod deliveries;
pub mod delivery_store;
pub mod inbox_queue;
pub mod outbox;
pub mod pg;
pub mod retention;
pub mod search_text;
pub mod transcript_search;
pub mod write_unit;

pub use conversation_store::ConversationStore;
pub use conversations::{Conversation, Entry, HandoverBookkeeping, HandoverRecord, Mode, Phase};
pub use copilot::{CopilotSession, CopilotSessions};
pub use database::Database;
pub use db::{Db, DbError};
pub use deliveries::{DeliveryRecord, DeliveryStore, Recorded};
pub use inbox_queue::{InboxQueue, QueuedEvent};
pub use outbox::{Outbox, OutboxEntry, OutboxError};
pub use retention::{DatabaseSize, Retention, RetentionPass};
