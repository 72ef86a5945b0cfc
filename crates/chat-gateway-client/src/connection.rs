//! Where a call goes and with which key: 8x8's Base URL, the tenant (sent as
//! `X-8x8-Tenant`, P16) and the API key (sent as `x-api-key`, never printed).

use crate::Secret;

/// Everything a call needs, key included.
#[derive(Debug, Clone)]
pub struct Connection {
    pub base_url: String,
    pub tenant: Option<String>,
    pub api_key: Secret,
}
