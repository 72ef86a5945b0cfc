//! What 8x8 posts to the Endpoint URL: the event envelope and its kinds ([`event`]), the
//! JWS signature over it ([`signature`]) and the public keys that verify it ([`jwk`]).

pub mod event;
#[cfg(feature = "http")]
pub mod jwk;
pub mod request;
pub mod signature;

pub use event::{EventKind, WebhookEvent};
