//! The desktop app's log: what the terminal shows (when there is one) and a file a user
//! can send with a bug report, since a desktop app is usually started without a terminal.
//! A new file each day, the newest [`KEEP`] kept, in the app's log directory, which only
//! its user may read (the log names conversations; it never holds a key or a token).

use std::path::Path;

use switchboard_relay::log_destination::{self, LogDestination};
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::{fmt, layer::SubscriberExt, util::SubscriberInitExt, EnvFilter};

/// Days of logs kept.
pub const KEEP: u32 = 7;
const PREFIX: &str = "switchboard";
const SUFFIX: &str = "log";

/// Logs to stderr and to a daily file in `dir`. When there is no directory or the file
/// cannot be opened the app still runs, logging to stderr only, and the Status page says so.
pub fn init(dir: Result<&Path, String>) {
    let filter = || {
        let wanted = std::env::var("SWITCHBOARD_LOG").unwrap_or_else(|_| "info".into());
        EnvFilter::try_new(wanted).unwrap_or_else(|_| EnvFilter::new("info"))
    };
    let stderr = fmt::layer().with_writer(std::io::stderr);
    match dir.and_then(|dir| open(dir).map(|file| (dir, file)).map_err(|e| e.to_string())) {
        Ok((dir, file)) => {
            let _ = tracing_subscriber::registry()
                .with(filter())
                .with(stderr)
                // Blocking writes: a desktop relay logs little, and no line is lost
                // when the app is killed.
                .with(fmt::layer().with_ansi(false).with_writer(file))
                .try_init();
            log_destination::set(LogDestination::Files {
                directory: dir.display().to_string(),
                pattern: format!("{PREFIX}.YYYY-MM-DD.{SUFFIX}"),
                keep: KEEP,
            });
        }
        Err(e) => {
            let _ = tracing_subscriber::registry()
                .with(filter())
                .with(stderr)
                .try_init();
            tracing::warn!(error = %e, "no log file: logging to stderr only");
        }
    }
}

fn open(dir: &Path) -> std::io::Result<RollingFileAppender> {
    private_dir(dir)?;
    RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix(PREFIX)
        .filename_suffix(SUFFIX)
        .max_log_files(KEEP as usize)
        .build(dir)
        .map_err(std::io::Error::other)
}

/// Creates the directory for this user only, and narrows an existing one.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_directory_is_private_and_a_line_lands_in_todays_file() {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("logs");
        let appender = open(&logs).unwrap();
        {
            use std::io::Write;
            let mut w = tracing_subscriber::fmt::MakeWriter::make_writer(&appender);
            w.write_all(b"hello\n").unwrap();
            w.flush().unwrap();
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&logs).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700);
        }
        let files: Vec<_> = std::fs::read_dir(&logs)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(files.len(), 1, "{files:?}");
        let name = &files[0];
        assert!(
            name.starts_with("switchboard.") && name.ends_with(".log"),
            "{name}"
        );
        assert_eq!(std::fs::read_to_string(logs.join(name)).unwrap(), "hello\n");
    }
}
