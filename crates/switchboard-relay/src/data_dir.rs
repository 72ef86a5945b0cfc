//! The data directory holds the Endpoint URL token (settings.json) and transcripts with
//! customers' names and emails (the database): it is the owner's alone, whatever the
//! umask — the directory 0700, its files 0600. An installation made before this rule is
//! brought in line at start.

use std::{fs, io, path::Path};

/// Creates `dir` (and its parents) if needed, then makes it and the files directly in it
/// private to their owner.
pub fn make_private(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
        for entry in fs::read_dir(dir)? {
            let entry = entry?;
            // Other start work writes into the directory meanwhile (the sandbox key is
            // saved through a temporary file renamed into place, SQLite drops its
            // journal): a file gone between the listing and its chmod needs none.
            let made_private = match entry.file_type() {
                Ok(kind) if kind.is_file() => {
                    fs::set_permissions(entry.path(), fs::Permissions::from_mode(0o600))
                }
                other => other.map(drop),
            };
            match made_private {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(p: &Path) -> u32 {
        fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn an_existing_readable_installation_is_made_private() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("data");
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        let db = dir.join("switchboard.db");
        fs::write(&db, b"x").unwrap();
        fs::set_permissions(&db, fs::Permissions::from_mode(0o644)).unwrap();
        make_private(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&db), 0o600);
    }

    #[test]
    fn files_that_go_away_meanwhile_do_not_fail_the_start() {
        // As at start, where the sandbox key's temporary file is renamed away while the
        // directory is being made private. Many files, removed from the end of the
        // listing backwards, so the chmods are sure to reach some that are gone.
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().to_path_buf();
        for round in 0..5 {
            for i in 0..2_000 {
                fs::write(dir.join(format!("{round}-{i}.tmp")), b"k").unwrap();
            }
            let listed: Vec<_> = fs::read_dir(&dir)
                .unwrap()
                .map(|entry| entry.unwrap().path())
                .collect();
            let remover = std::thread::spawn(move || {
                for path in listed.iter().rev() {
                    let _ = fs::remove_file(path);
                }
            });
            let outcome = make_private(&dir);
            remover.join().unwrap();
            outcome.unwrap();
        }
    }

    #[tokio::test]
    async fn a_started_relay_keeps_its_files_private() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("data");
        let mut config = crate::RelayConfig::for_tests(dir.clone());
        config.sandbox = crate::SandboxMode::Off;
        config.settings_store = std::sync::Arc::new(
            switchboard_settings::settings::JsonFileSettings::new(dir.join("settings.json")),
        );
        let relay = crate::start(config).await.unwrap();
        assert_eq!(mode(&dir), 0o700, "the data directory");
        for name in ["settings.json", "switchboard.db", "switchboard.db-wal"] {
            let path = dir.join(name);
            assert!(path.exists(), "{name} exists");
            assert_eq!(mode(&path), 0o600, "{name}");
        }
        relay.shutdown().await;
    }
}
