//! The emulator's signing key kept in a file between starts. Generating a 2048-bit RSA key
//! takes 50–400 ms on a small machine, and the sandbox sits on the desktop app's start
//! path: the window cannot show the relay before the sandbox is up. 8x8 itself keeps
//! its signing keys for a long time and rotates them now and then, so a key that
//! survives a restart is also the more faithful emulation.
//!
//! The key signs sandbox deliveries only, which a relay trusts only while it talks to
//! this emulator; it is still a private key, so the file is the owner's alone (0600,
//! written whole and renamed into place so a crash never leaves half a key). A file that
//! cannot be read as a key (damaged, edited, another size) is replaced by a new key with
//! a warning: nothing else depends on it, and a relay fetches the new key's JWK as it
//! does after a rotation.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde::{Deserialize, Serialize};

use crate::signing::{Keyring, SigningError};

/// 8x8 signs with 2048-bit keys; a kept key of another size is replaced.
const BITS: usize = 2048;

#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("cannot write the sandbox's signing key to {path}: {source} — check that the data directory is writable")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Generate(#[from] SigningError),
}

#[derive(Serialize, Deserialize)]
struct Stored {
    kid: String,
    /// PKCS#8, PEM.
    key: String,
}

/// The keyring with the key kept at `path`, or with a new key written there.
pub fn load_or_create(path: &Path) -> Result<Keyring, KeyFileError> {
    match read(path) {
        Ok(Some(ring)) => return Ok(ring),
        Ok(None) => {}
        Err(reason) => tracing::warn!(
            path = %path.display(),
            "the sandbox's signing key file is not usable ({reason}); writing a new key"
        ),
    }
    let ring = Keyring::with_bits(BITS)?;
    write(path, &ring)?;
    Ok(ring)
}

/// `Ok(None)` when there is no file yet; `Err` says why an existing file is not a key.
fn read(path: &Path) -> Result<Option<Keyring>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let stored: Stored = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    if stored.kid.is_empty() || stored.kid.len() > 64 {
        return Err("its key id is empty or too long".into());
    }
    let key = RsaPrivateKey::from_pkcs8_pem(&stored.key).map_err(|e| e.to_string())?;
    if key.size() * 8 != BITS {
        return Err(format!("its key has {} bits, not {BITS}", key.size() * 8));
    }
    key.validate().map_err(|e| e.to_string())?;
    Ok(Some(Keyring::from_key(stored.kid, key)))
}

fn write(path: &Path, ring: &Keyring) -> Result<(), KeyFileError> {
    let failed = |source| KeyFileError::Write {
        path: path.to_path_buf(),
        source,
    };
    let (kid, key) = ring.current();
    let pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| failed(std::io::Error::other(e.to_string())))?;
    let text = serde_json::to_string_pretty(&Stored {
        kid,
        key: pem.to_string(),
    })
    .map_err(|e| failed(e.into()))?;
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp).map_err(failed)?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(failed)?;
    std::fs::rename(&tmp, path).map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_key_signs_under_the_same_kid_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sandbox-signing-key.json");
        let first = load_or_create(&path).unwrap();
        let again = load_or_create(&path).unwrap();
        assert_eq!(first.current_kid(), again.current_kid());
        assert_eq!(
            first.jwk(&first.current_kid()),
            again.jwk(&again.current_kid())
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "only the owner may read the key");
        }
    }

    #[test]
    fn a_damaged_file_is_replaced_by_a_new_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sandbox-signing-key.json");
        let first = load_or_create(&path).unwrap();
        std::fs::write(&path, "{\"kid\":\"x\",\"key\":\"not a key\"}").unwrap();
        let replaced = load_or_create(&path).unwrap();
        assert_ne!(first.current_kid(), replaced.current_kid());
        // And the replacement is kept.
        assert_eq!(
            load_or_create(&path).unwrap().current_kid(),
            replaced.current_kid()
        );
    }

    #[test]
    fn a_key_of_another_size_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sandbox-signing-key.json");
        let small = Keyring::with_bits(1024).unwrap();
        write(&path, &small).unwrap();
        let kept = load_or_create(&path).unwrap();
        assert_ne!(kept.current_kid(), small.current_kid());
        assert_eq!(kept.current().1.size() * 8, BITS);
    }

    #[test]
    fn an_unwritable_place_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-dir").join("key.json");
        let err = load_or_create(&path).unwrap_err().to_string();
        assert!(err.contains("missing-dir"), "{err}");
    }
}
