//! The headless server's configuration: defaults, then a JSON file, then environment
//! variables, then flags (clap handles the last two). Every field of the file is
//! optional and unknown fields are refused, so a typo is reported, not ignored.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use serde::Deserialize;

use crate::relay::SandboxMode;

pub const DEFAULT_ENDPOINT_BIND: &str = "127.0.0.1:8787";

#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfigFile {
    pub data_dir: Option<PathBuf>,
    pub endpoint_bind: Option<String>,
    pub admin_port: Option<u16>,
    pub public_base_url: Option<String>,
    pub sandbox: Option<String>,
    pub secrets: Option<String>,
    pub log: Option<String>,
    /// An extra listener that serves `/metrics` alone, to the scrape token (scrape.rs).
    pub metrics_bind: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the config file {path} is invalid: {source}")]
    Parse {
        path: String,
        source: serde_json::Error,
    },
    #[error("{field} is invalid: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
}

impl ConfigFile {
    pub fn read(path: &Path) -> Result<Self, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: shown.clone(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|source| ConfigError::Parse {
            path: shown,
            source,
        })
    }
}

/// Where secrets come from in server mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretsSource {
    /// The OS keychain, with environment variables taking precedence.
    Keychain,
    /// Environment variables only (servers without a keychain).
    Env,
}

impl std::str::FromStr for SecretsSource {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "keychain" => Ok(Self::Keychain),
            "env" => Ok(Self::Env),
            other => Err(format!("secrets must be keychain or env, not {other:?}")),
        }
    }
}

pub fn parse_endpoint_bind(raw: &str) -> Result<SocketAddr, ConfigError> {
    raw.parse().map_err(|_| ConfigError::Invalid {
        field: "endpointBind",
        message: format!("{raw:?} is not an address like 127.0.0.1:8787 or 0.0.0.0:8787"),
    })
}

pub fn parse_metrics_bind(raw: &str) -> Result<SocketAddr, ConfigError> {
    raw.parse().map_err(|_| ConfigError::Invalid {
        field: "metricsBind",
        message: format!("{raw:?} is not an address like 0.0.0.0:9787 or 10.0.0.5:9787"),
    })
}

pub fn parse_sandbox(raw: &str) -> Result<SandboxMode, ConfigError> {
    raw.parse().map_err(|message| ConfigError::Invalid {
        field: "sandbox",
        message,
    })
}

pub fn parse_secrets(raw: &str) -> Result<SecretsSource, ConfigError> {
    raw.parse().map_err(|message| ConfigError::Invalid {
        field: "secrets",
        message,
    })
}

/// A PostgreSQL URL in the form the relay takes (the server checks the rest when it
/// connects, naming the server without the password).
pub fn check_database_url(raw: &str) -> Result<(), ConfigError> {
    let scheme_ok = raw.starts_with("postgres://") || raw.starts_with("postgresql://");
    if scheme_ok && raw.len() > "postgres://".len() {
        return Ok(());
    }
    let shown = switchboard_store::pg::DatabaseUrl::new(raw);
    Err(ConfigError::Invalid {
        field: "database",
        message: format!(
            "{shown} is not a PostgreSQL URL; give one like \
             postgres://switchboard:PASSWORD@db.example.com:5432/switchboard?sslmode=verify-full \
             (leave it out to keep the SQLite file in the data directory)"
        ),
    })
}

/// `$XDG_DATA_HOME/switchboard`, else `~/.local/share/switchboard`.
pub fn default_data_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("switchboard");
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| ".".into());
    PathBuf::from(home).join(".local/share/switchboard")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_are_refused_with_their_name() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.json");
        std::fs::write(&p, r#"{"endpointBnd": "1.2.3.4:5"}"#).unwrap();
        let err = ConfigFile::read(&p).unwrap_err().to_string();
        assert!(err.contains("endpointBnd"), "{err}");
    }

    #[test]
    fn values_are_checked() {
        assert!(parse_endpoint_bind("0.0.0.0:8787").is_ok());
        assert!(parse_endpoint_bind("8787")
            .unwrap_err()
            .to_string()
            .contains("endpointBind"));
        assert_eq!(parse_sandbox("off").unwrap(), SandboxMode::Off);
        assert!(parse_sandbox("maybe").is_err());
        assert!(parse_secrets("vault").is_err());
        assert!(check_database_url("postgres://u:p@db:5432/sb").is_ok());
        assert!(check_database_url("postgresql://db/sb?sslmode=require").is_ok());
        let err = check_database_url("mysql://u:hunter2@db/sb")
            .unwrap_err()
            .to_string();
        assert!(err.contains("database is invalid"), "{err}");
        assert!(!err.contains("hunter2"), "the password never shows: {err}");
    }
}
