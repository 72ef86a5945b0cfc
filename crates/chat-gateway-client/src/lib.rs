//! The 8x8 Chat Gateway v1 protocol, as Switchboard speaks it in both directions:
//!
//! - outbound: [`ChatGatewayClient`] — typed operations ([`types`]), one error type for
//!   all of 8x8's error shapes ([`error`]), retry rules ([`retry`]), and the calls that
//!   change 8x8 state as data ([`call::OutboundCall`]) so they can be stored first;
//! - inbound: webhook events ([`webhook::event`]), their signatures ([`webhook::signature`])
//!   and the signing keys ([`webhook::jwk`]);
//! - the handover's JSON properties ([`json_properties`]);
//! - the Contact Center's queue statistics and schedules ([`contact_center`]), which the
//!   handover checks read (`/cc/v1`, outside the Chat Gateway).
//!
//! The HTTP parts (the client, the signing-key fetcher) are the `http` feature, on by
//! default: the engine uses only the types and leaves them out.
//!
//! No database and no HTTP server: the store and the relay sit above this crate, and
//! the fuzz targets link it alone. Protocol facts are cited from docs/chat-gateway.md
//! (§ numbers) and docs/decisions.md (P numbers).

pub mod call;
#[cfg(feature = "http")]
mod client;
mod connection;
pub mod contact_center;
pub mod error;
pub mod json_properties;
mod observe;
pub mod retry;
mod secret;
pub mod types;
pub mod webhook;

pub use call::OutboundCall;
#[cfg(feature = "http")]
pub use client::{http_client, ChatGatewayClient};
pub use connection::Connection;
pub use error::{ApiError, ClientError};
pub use observe::{ExchangeObserver, HttpExchange, RequestObserver, SentRequest};
pub use retry::RetryPolicy;
pub use secret::Secret;
