//! Switchboard's durable state, in SQLite (WAL): the schema and its migrations ([`db`]),
//! every webhook delivery and the restart-surviving queue to the engine
//! ([`deliveries`], [`inbox_queue`]), the outbox of calls bound for 8x8 ([`outbox`]), the
//! conversations and their transcripts ([`conversations`]), the folded text a search
//! looks through ([`search_text`]), and the write units that commit everything one event
//! causes together with its "processed" mark ([`write_unit`]).
//!
//! The engine sees the store through these types only; nothing above this crate writes
//! SQL. A second backend (PostgreSQL) slots in behind the same types: the SQL lives in
//! this crate and each write is a closure over one connection inside a unit.

pub mod conversations;
pub mod db;
pub mod deliveries;
pub mod inbox_queue;
pub mod outbox;
pub mod search_text;
pub mod write_unit;

pub use conversations::{
    Conversation, ConversationStore, Entry, HandoverBookkeeping, HandoverRecord, Mode, Phase,
};
pub use db::{Db, DbError};
pub use deliveries::{DeliveryRecord, DeliveryStore, Recorded};
pub use inbox_queue::{InboxQueue, QueuedEvent};
pub use outbox::{Outbox, OutboxEntry, OutboxError};
