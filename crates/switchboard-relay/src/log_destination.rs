//! Where this process writes its log, for the Status page. The log subscriber is
//! process-wide, set up by the shell before the relay starts, so this is too: the shell
//! says where it pointed the log, the status reports it.

use std::sync::OnceLock;

use serde::Serialize;
use ts_rs::TS;

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum LogDestination {
    /// Standard error: a terminal, or journald when systemd runs the server.
    Stderr { format: String },
    /// Files in `directory`, a new one each day, the newest `keep` kept.
    Files {
        directory: String,
        /// How the files are named, e.g. `switchboard.YYYY-MM-DD.log`.
        pattern: String,
        keep: u32,
    },
}

static DESTINATION: OnceLock<LogDestination> = OnceLock::new();

/// Said once, by the shell, after it set up the log.
pub fn set(destination: LogDestination) {
    let _ = DESTINATION.set(destination);
}

/// Standard error as text unless the shell said otherwise.
pub fn get() -> LogDestination {
    DESTINATION
        .get()
        .cloned()
        .unwrap_or(LogDestination::Stderr {
            format: "text".into(),
        })
}
