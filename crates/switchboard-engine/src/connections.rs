//! Which 8x8 the engine talks to is not the engine's business: the relay decides per use
//! (the embedded sandbox while a role uses it, otherwise the role's Base URL, tenant and
//! key from the keychain). The engine asks through this trait, so a test can hand it a
//! fixed answer and the engine never learns about listeners, keychains or the sandbox.

use chat_gateway_client::{ClientError, Connection};
use futures_util::future::BoxFuture;
use switchboard_settings::{Role, Settings};

pub trait Connections: Send + Sync {
    /// A role's connection now, key included; an error when none is usable (no key
    /// outside the sandbox), which callers treat as "not now".
    fn resolve(&self, role: Role) -> BoxFuture<'_, Result<Connection, ClientError>>;

    /// The channel and queue a handover goes to: the settings', or the sandbox's while
    /// the handover role is on the sandbox and the settings name none.
    fn handover_route(&self, settings: &Settings) -> (Option<String>, Option<String>);

    /// The id of this relay's webhook in the 8x8 the handover role talks to, when it is
    /// registered and points here: what a handback (post-agent assignment) names.
    fn handback_webhook(&self) -> BoxFuture<'_, Option<String>>;
}
