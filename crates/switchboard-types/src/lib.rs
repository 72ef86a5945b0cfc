//! The vocabulary every layer of Switchboard shares, from the store to the UI: the live
//! events the UI receives, the conversation's phases and transcript lanes, field errors
//! as the forms show them, and the random tokens that guard the listeners.

pub mod contact_center;
pub mod contact_center_rules;
pub mod conversation;
pub mod events;
mod field_error;
mod outbox_status;
pub mod token;

pub use conversation::{Direction, Lane, Mode, Phase};
pub use events::{now_ms, Envelope, EventBus, RelayEvent};
pub use field_error::FieldError;
pub use outbox_status::OutboxStatus;
