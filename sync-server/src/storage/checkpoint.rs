//! WAL checkpoints off the request path.
//!
//! SQLite's automatic checkpoint runs inside the `COMMIT` that takes the write-ahead log past
//! 1,000 pages: the push that happens to cross it copies the whole log into the database file
//! and syncs it before its tablet gets an answer. The writer therefore runs with
//! `wal_autocheckpoint = 0`, and this thread, on its own connection, runs a `PASSIVE`
//! checkpoint after each commit (nudges coalesce) and every half minute. A passive checkpoint
//! never blocks readers or the writer; durability does not depend on it (a commit is durable
//! once its WAL frames are synced, `synchronous = FULL`).

use std::sync::mpsc::{sync_channel, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

/// Checkpoint at least this often even without commits.
const EVERY: Duration = Duration::from_secs(30);

/// The handle that asks for a checkpoint. When the last clone is dropped the thread runs a
/// final checkpoint, closes its connection and is joined, so the database files are settled
/// once the storage is gone (a backup copied after the server stopped sees no WAL in motion).
#[derive(Debug, Clone)]
pub(super) struct Checkpointer {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    nudge: Mutex<Option<SyncSender<()>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Ok(mut nudge) = self.nudge.lock() {
            nudge.take(); // the thread sees the channel closed
        }
        if let Some(thread) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = thread.join();
        }
    }
}

impl Checkpointer {
    /// Starts the checkpoint thread on `conn` (a connection of its own).
    pub(super) fn start(conn: Connection) -> std::io::Result<Self> {
        let (nudge, nudged) = sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("wal-checkpoint".into())
            .spawn(move || loop {
                match nudged.recv_timeout(EVERY) {
                    Ok(()) | Err(RecvTimeoutError::Timeout) => checkpoint(&conn),
                    Err(RecvTimeoutError::Disconnected) => {
                        checkpoint(&conn);
                        break;
                    }
                }
            })?;
        Ok(Self {
            inner: Arc::new(Inner {
                nudge: Mutex::new(Some(nudge)),
                thread: Mutex::new(Some(thread)),
            }),
        })
    }

    /// Asks for a checkpoint soon (a no-op when one is already asked for).
    pub(super) fn nudge(&self) {
        if let Some(nudge) = self.inner.nudge.lock().ok().and_then(|n| n.clone()) {
            let _ = nudge.try_send(());
        }
    }
}

fn checkpoint(conn: &Connection) {
    let result = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
    });
    match result {
        Ok((log, copied)) => tracing::trace!(log, copied, "wal checkpoint"),
        Err(e) => tracing::warn!(error = %e, "wal checkpoint failed; the next one retries"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A WAL database without automatic checkpoints, its writer and a checkpoint thread.
    fn database(dir: &std::path::Path) -> (Connection, Checkpointer) {
        let path = dir.join("db");
        let writer = Connection::open(&path).unwrap();
        writer
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;
                 CREATE TABLE t (v BLOB);",
            )
            .unwrap();
        let checkpointer = Checkpointer::start(Connection::open(&path).unwrap()).unwrap();
        (writer, checkpointer)
    }

    #[test]
    fn commits_leave_the_checkpoint_to_the_thread() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, checkpointer) = database(dir.path());
        // Well past the 1,000 pages at which SQLite would checkpoint inside the commit.
        let blob = vec![7u8; 4000];
        let tx = writer.unchecked_transaction().unwrap();
        for _ in 0..1500 {
            tx.execute("INSERT INTO t VALUES (?1)", [&blob]).unwrap();
        }
        tx.commit().unwrap();
        let size = |name: &str| std::fs::metadata(dir.path().join(name)).map_or(0, |m| m.len());
        assert!(
            size("db-wal") > 6_000_000,
            "the commit wrote its frames to the log"
        );
        assert!(
            size("db") < 1_000_000,
            "the commit itself copied nothing into the database"
        );
        checkpointer.nudge();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while size("db") < 6_000_000 {
            assert!(
                std::time::Instant::now() < deadline,
                "the checkpoint thread did not copy the log into the database"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn dropping_the_last_handle_checkpoints_and_joins_the_thread() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, checkpointer) = database(dir.path());
        let other = checkpointer.clone();
        writer
            .execute("INSERT INTO t VALUES (?1)", [vec![1u8; 100_000]])
            .unwrap();
        drop(other);
        drop(checkpointer);
        // Synchronously: the rows are in the database file once the handle is gone.
        assert!(std::fs::metadata(dir.path().join("db")).unwrap().len() > 100_000);
    }
}
