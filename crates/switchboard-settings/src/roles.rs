//! The two roles the relay plays towards 8x8, the endpoint and the handover, and which
//! connection settings and API key each uses (the handover may share the endpoint's).

use serde::Serialize;

use crate::{
    secrets::SecretName,
    settings::{ConnectionSettings, Settings},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub enum Role {
    Endpoint,
    Handover,
}

impl Role {
    /// The key this role uses, given whether the handover shares the endpoint's connection.
    pub fn key_name(self, settings: &Settings) -> SecretName {
        match self {
            Role::Handover if !settings.handover.use_endpoint_connection => {
                SecretName::HandoverApiKey
            }
            _ => SecretName::EndpointApiKey,
        }
    }

    pub fn connection(self, settings: &Settings) -> &ConnectionSettings {
        match self {
            Role::Handover if !settings.handover.use_endpoint_connection => {
                &settings.handover.connection
            }
            _ => &settings.connection,
        }
    }
}
