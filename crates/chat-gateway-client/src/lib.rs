//! The 8x8 Chat Gateway v1 protocol, as Switchboard speaks it in both directions:
//!
//! - outbound: [`ChatGatewayClient`] — typed operations ([`types`]), one error type for
//!   all of 8x8's error shapes ([`error`]), retry rules ([`retry`]), and the calls that
//!   change 8x8 state as data ([`call::OutboundCall`]) so they can be stored first;
//! - inbound: webhook events ([`webhook::event`]), their signatures ([`webhook::signature`])
//!   and the signing keys ([`webhook::jwk`]);
//! - the handover's JSON properties ([`json_properties`]).
//!
//! No database and no HTTP server: the store and the relay sit above this crate, and
//! the fuzz targets link it alone. Protocol facts are cited from docs/chat-gateway.md
//! (§ numbers) and docs/decisions.md (P numbers).

pub mod call;
mod client;
pub mod error;
pub mod json_properties;
pub mod retry;
mod secret;
pub mod types;
pub mod webhook;

pub use call::OutboundCall;
pub use client::{http_client, ChatGatewayClient, Connection, RequestObserver, SentRequest};
pub use error::{ApiError, ClientError};
pub use retry::RetryPolicy;
pub use secret::Secret;
