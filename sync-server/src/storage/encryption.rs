//! The server database encrypted at rest (SQLCipher, AES-256), with its key in a file
//! **outside** the data folder: a copy or backup of the data folder alone reveals nothing,
//! and the operator backs up the key separately (ADR 0012).
//!
//! - The key is 32 random bytes, written as 64 hex characters to `database.key` in a keys
//!   folder (mode 0700, the file 0600) on the first start. By default the folder is
//!   `ruhu-server-keys` beside the data folder; `--database-key-file` names another file.
//! - A key file inside the data folder is refused, like the authority's key.
//! - The raw key is given to SQLCipher (`PRAGMA key = "x'…'"`), so opening costs no key
//!   derivation; a wrong key is reported as such, not as a corrupt database.
//! - A database written by an earlier version in plain SQLite is encrypted in place on the
//!   first start with a key (`sqlcipher_export` into a new file, then an atomic rename).

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use ring::rand::{SecureRandom, SystemRandom};
use rusqlite::Connection;

use crate::ServerError;

/// File name of the database key.
pub const DATABASE_KEY_FILE: &str = "database.key";
/// Folder of the database key, beside the data folder, when no key file is given.
pub const DEFAULT_KEYS_FOLDER: &str = "ruhu-server-keys";

/// The first 16 bytes of every plain (unencrypted) SQLite database.
const PLAIN_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// The database encryption key.
#[derive(Clone)]
pub struct DatabaseKey([u8; 32]);

impl std::fmt::Debug for DatabaseKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DatabaseKey(…)")
    }
}

/// Where the key of the database in `data_dir` is kept when no file is named.
pub fn default_key_file(data_dir: &Path) -> PathBuf {
    let parent = data_dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    parent.join(DEFAULT_KEYS_FOLDER).join(DATABASE_KEY_FILE)
}

fn config_error(message: String) -> ServerError {
    ServerError::Config(message)
}

impl DatabaseKey {
    /// Reads the key file, or creates it with a new random key. Refused when the file lies
    /// inside `data_dir` or does not hold 64 hex characters.
    pub fn load_or_create(path: &Path, data_dir: &Path) -> Result<Self, ServerError> {
        let inside = |p: &Path| {
            let (Ok(p), Ok(d)) = (absolute(p), absolute(data_dir)) else {
                return false;
            };
            p.starts_with(d)
        };
        if inside(path) {
            return Err(config_error(format!(
                "refusing the database key file {}: it is inside the data folder {} (a copy of the folder would carry its own key); keep it elsewhere",
                path.display(),
                data_dir.display()
            )));
        }
        match fs::read_to_string(path) {
            Ok(text) => Self::parse(text.trim()).ok_or_else(|| {
                config_error(format!(
                    "the database key file {} does not hold 64 hex characters",
                    path.display()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Self::create(path),
            Err(e) => Err(config_error(format!(
                "cannot read the database key file {}: {e}",
                path.display()
            ))),
        }
    }

    fn parse(text: &str) -> Option<Self> {
        let bytes = hex::decode(text).ok()?;
        <[u8; 32]>::try_from(bytes).ok().map(Self)
    }

    /// Writes a new key: to a temporary file first, then linked into place, so a second
    /// process starting at the same moment reads the same complete key.
    fn create(path: &Path) -> Result<Self, ServerError> {
        let mut bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| config_error("no system randomness".into()))?;
        let folder = path.parent().unwrap_or_else(|| Path::new("."));
        fs::create_dir_all(folder)?;
        restrict(folder, 0o700)?;
        let mut suffix = [0u8; 8];
        SystemRandom::new()
            .fill(&mut suffix)
            .map_err(|_| config_error("no system randomness".into()))?;
        let temp = folder.join(format!(".{}.{}", DATABASE_KEY_FILE, hex::encode(suffix)));
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        restrict(&temp, 0o600)?;
        file.write_all(hex::encode(bytes).as_bytes())?;
        file.sync_all()?;
        drop(file);
        let linked = fs::hard_link(&temp, path);
        let _ = fs::remove_file(&temp);
        match linked {
            Ok(()) => Ok(Self(bytes)),
            // Another process made the key first: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let text = fs::read_to_string(path)?;
                Self::parse(text.trim()).ok_or_else(|| {
                    config_error(format!("the key file {} is malformed", path.display()))
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// A key from its bytes (tests and tools).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw key, for deriving the attachment keys.
    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Unlocks a connection to an encrypted database; refused with a clear error when the key
    /// is not this database's.
    pub fn unlock(&self, conn: &Connection, path: &Path) -> Result<(), ServerError> {
        ruhu_core::store::keying::key_and_probe(conn, &self.0).map_err(|_| {
            config_error(format!(
                "the database {} cannot be read with the database key: wrong key file, or not a server database",
                path.display()
            ))
        })?;
        Ok(())
    }

    /// Encrypts a plain SQLite database written by an earlier version, in place. Does
    /// nothing when the file is absent or already encrypted.
    pub fn encrypt_plain_database(&self, path: &Path) -> Result<bool, ServerError> {
        let mut header = [0u8; 16];
        match fs::File::open(path) {
            Ok(mut f) => {
                if std::io::Read::read_exact(&mut f, &mut header).is_err() {
                    return Ok(false);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e.into()),
        }
        if &header != PLAIN_HEADER {
            return Ok(false);
        }
        let encrypted = path.with_extension("db.encrypting");
        let _ = fs::remove_file(&encrypted);
        {
            let plain = Connection::open(path)?;
            plain.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
            let target = encrypted
                .to_str()
                .ok_or_else(|| config_error("the data folder path is not UTF-8".into()))?
                .replace('\'', "''");
            let version = plain.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))?;
            ruhu_core::store::keying::one_at_a_time(|| {
                plain.execute_batch(&format!(
                    "ATTACH DATABASE '{target}' AS encrypted KEY \"x'{}'\";
                     SELECT sqlcipher_export('encrypted');
                     PRAGMA encrypted.user_version = {version};
                     DETACH DATABASE encrypted;",
                    hex::encode(self.0),
                ))
            })?;
        }
        fs::File::open(&encrypted)?.sync_all()?;
        fs::rename(&encrypted, path)?;
        for suffix in ["-wal", "-shm"] {
            let mut side = path.as_os_str().to_owned();
            side.push(suffix);
            let _ = fs::remove_file(PathBuf::from(side));
        }
        Ok(true)
    }
}

fn absolute(path: &Path) -> std::io::Result<PathBuf> {
    let existing = path
        .ancestors()
        .find(|p| !p.as_os_str().is_empty() && p.exists())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let rest = path.strip_prefix(&existing).unwrap_or(Path::new(""));
    Ok(fs::canonicalize(existing)?.join(rest))
}

#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn restrict(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_made_once_outside_the_data_folder_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let path = default_key_file(&data);
        assert_eq!(path, dir.path().join("ruhu-server-keys/database.key"));
        let made = DatabaseKey::load_or_create(&path, &data).unwrap();
        let read = DatabaseKey::load_or_create(&path, &data).unwrap();
        assert_eq!(made.0, read.0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let inside = DatabaseKey::load_or_create(&data.join("k/database.key"), &data);
        assert!(inside
            .unwrap_err()
            .to_string()
            .contains("inside the data folder"));
        fs::write(&path, "not hex").unwrap();
        let bad = DatabaseKey::load_or_create(&path, &data).unwrap_err();
        assert!(bad.to_string().contains("64 hex"), "{bad}");
    }

    #[test]
    fn a_plain_database_is_encrypted_in_place_and_a_wrong_key_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.db");
        {
            let plain = Connection::open(&path).unwrap();
            plain
                .execute_batch(
                    "PRAGMA journal_mode = WAL; PRAGMA user_version = 4;
                     CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('620102195001011234');",
                )
                .unwrap();
        }
        let key = DatabaseKey([7; 32]);
        assert!(key.encrypt_plain_database(&path).unwrap());
        assert!(!key.encrypt_plain_database(&path).unwrap(), "once");
        let bytes = fs::read(&path).unwrap();
        assert!(!bytes.starts_with(PLAIN_HEADER));
        assert!(!bytes.windows(18).any(|w| w == b"620102195001011234"));
        let conn = Connection::open(&path).unwrap();
        key.unlock(&conn, &path).unwrap();
        let v: String = conn.query_row("SELECT v FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(v, "620102195001011234");
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, 4);
        let other = Connection::open(&path).unwrap();
        let wrong = DatabaseKey([8; 32]).unlock(&other, &path).unwrap_err();
        assert!(wrong.to_string().contains("wrong key"), "{wrong}");
    }
}
