//! The server's embedded SQLite database.
//!
//! One file in the data folder, WAL mode, `synchronous = FULL`. The database has an **epoch**:
//! a random id made when the database is created. Feed cursors will carry it, so a server
//! restored from a backup (same epoch file, older content) or replaced (new epoch) can be told
//! apart from the one a tablet last spoke to.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ring::rand::{SecureRandom, SystemRandom};
use rusqlite::{Connection, OptionalExtension};

use crate::ServerError;

/// Schema version written by this code.
pub const SCHEMA_VERSION: i64 = 1;

/// Handle to the server database (one writer connection).
#[derive(Debug, Clone)]
pub struct ServerStorage {
    conn: Arc<Mutex<Connection>>,
    path: PathBuf,
    epoch: String,
}

impl ServerStorage {
    /// Opens or creates `server.db` in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Self, ServerError> {
        std::fs::create_dir_all(data_dir)?;
        let path = data_dir.join("server.db");
        let mut conn = Connection::open(&path)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
        )?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(ServerError::Config(format!(
                "database schema {version} is newer than this server ({SCHEMA_VERSION})"
            )));
        }
        if version < 1 {
            let tx = conn.transaction()?;
            tx.execute_batch("CREATE TABLE server_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;")?;
            tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
            tx.commit()?;
        }
        let existing: Option<String> = conn
            .query_row(
                "SELECT value FROM server_meta WHERE key = 'epoch'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        let epoch = match existing {
            Some(epoch) => epoch,
            None => {
                let mut bytes = [0u8; 16];
                SystemRandom::new()
                    .fill(&mut bytes)
                    .map_err(|_| ServerError::Config("no system randomness".into()))?;
                let epoch = hex::encode(bytes);
                conn.execute(
                    "INSERT INTO server_meta (key, value) VALUES ('epoch', ?1)",
                    [&epoch],
                )?;
                epoch
            }
        };
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            path,
            epoch,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The database's epoch (random, fixed at creation).
    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    /// Runs `PRAGMA quick_check` (used by the health endpoint).
    pub fn check(&self) -> Result<bool, ServerError> {
        let conn = self
            .conn
            .lock()
            .map_err(|_| ServerError::Config("storage lock poisoned".into()))?;
        let result: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
        Ok(result == "ok")
    }
}
