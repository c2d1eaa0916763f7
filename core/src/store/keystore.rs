//! The host's key store: where the database key comes from.
//!
//! On a tablet the platform key store (Android Keystore, iOS Keychain) wraps a random 256-bit
//! key; the core asks for it each time a store is opened. The raw key is used directly by
//! SQLCipher (no passphrase derivation), so opening stays fast. [`FileKeyStore`] keeps keys in
//! files for desktop use and tests; it protects nothing against someone who can read the
//! folder, so never point it at a shared location.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use ring::rand::{SecureRandom, SystemRandom};

/// Why a key store could not give a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyStoreError {
    /// The device wants the user (PIN, biometrics) before it releases keys.
    #[error("the key store is locked")]
    Locked,
    /// Anything else: hardware failure, key invalidated, …
    #[error("key store unavailable: {0}")]
    Unavailable(String),
}

/// Supplies the 256-bit key of an encrypted store, creating it on first use.
pub trait KeyStore: Send + Sync {
    /// The key of the store named `store_id`; the same id always yields the same key.
    fn database_key(&self, store_id: &str) -> Result<Vec<u8>, KeyStoreError>;
}

/// Keys in files named `<store_id>.key` under one folder (desktop and tests).
#[derive(Debug, Clone)]
pub struct FileKeyStore {
    dir: PathBuf,
}

impl FileKeyStore {
    /// A key store keeping its files in `dir` (created if missing).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    fn path(&self, store_id: &str) -> Result<PathBuf, KeyStoreError> {
        let ok = !store_id.is_empty()
            && store_id.len() <= 64
            && store_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok {
            return Err(KeyStoreError::Unavailable(format!(
                "invalid store id {store_id:?}"
            )));
        }
        Ok(self.dir.join(format!("{store_id}.key")))
    }
}

impl KeyStore for FileKeyStore {
    fn database_key(&self, store_id: &str) -> Result<Vec<u8>, KeyStoreError> {
        let path = self.path(store_id)?;
        let unavailable =
            |e: std::io::Error| KeyStoreError::Unavailable(format!("{}: {e}", path.display()));
        match fs::read_to_string(&path) {
            Ok(text) => hex::decode(text.trim()).map_err(|_| {
                KeyStoreError::Unavailable(format!("{} is not a hex key", path.display()))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = vec![0u8; 32];
                SystemRandom::new()
                    .fill(&mut key)
                    .map_err(|_| KeyStoreError::Unavailable("no system randomness".into()))?;
                fs::create_dir_all(&self.dir).map_err(unavailable)?;
                write_private(&path, hex::encode(&key).as_bytes()).map_err(unavailable)?;
                Ok(key)
            }
            Err(e) => Err(unavailable(e)),
        }
    }
}

/// Writes a file readable only by its owner, atomically (temp file + rename).
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    fs::rename(tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_once_then_returns_the_same_key() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let keys = FileKeyStore::new(dir.path());
        let first = keys.database_key("tablet-1")?;
        assert_eq!(first.len(), 32);
        assert_eq!(keys.database_key("tablet-1")?, first);
        assert_ne!(keys.database_key("tablet-2")?, first);
        assert!(matches!(
            keys.database_key("../etc/passwd"),
            Err(KeyStoreError::Unavailable(_))
        ));
        Ok(())
    }
}
