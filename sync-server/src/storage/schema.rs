//! Schema migrations, keyed on `PRAGMA user_version`. Each step runs in one transaction with
//! its version bump, so a database is always at exactly one version.

use rusqlite::{Connection, OptionalExtension, Transaction};

use crate::ServerError;

/// Schema version written by this code.
pub const SCHEMA_VERSION: i64 = 5;

/// Version 1: the server's metadata (its epoch).
const V1: &str =
    "CREATE TABLE server_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;";

/// Version 2: the change feed and everything around it.
const V2: &str = "
CREATE TABLE households (
    id TEXT PRIMARY KEY,
    village_code TEXT NOT NULL,
    county_code TEXT NOT NULL,
    -- feed position of the household's newest change (optimistic concurrency of pushes)
    last_seq INTEGER NOT NULL,
    change_count INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX households_village ON households (village_code);
CREATE INDEX households_county ON households (county_code);

-- The collection-level change feed: one row per Automerge change hash, ever.
-- seq is the feed cursor; it only grows (AUTOINCREMENT: never reused after a delete).
CREATE TABLE feed (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    household_id TEXT NOT NULL REFERENCES households (id),
    change_hash BLOB NOT NULL UNIQUE,
    change BLOB NOT NULL,
    signer BLOB NOT NULL,
    signature BLOB NOT NULL,
    author TEXT NOT NULL,
    received_at INTEGER NOT NULL
);
CREATE INDEX feed_household ON feed (household_id, seq);

-- An occasional save() of a household, covering its feed rows up to upto_seq.
CREATE TABLE snapshots (
    household_id TEXT PRIMARY KEY REFERENCES households (id),
    upto_seq INTEGER NOT NULL,
    bytes BLOB NOT NULL
) WITHOUT ROWID;

-- Which worker an Automerge actor id belongs to (bound by its first accepted change).
CREATE TABLE actor_bindings (
    actor BLOB PRIMARY KEY,
    worker_id TEXT NOT NULL,
    first_seq INTEGER NOT NULL
) WITHOUT ROWID;

-- The current signed county configuration, and what it certifies and revokes.
CREATE TABLE county_config (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    serial INTEGER NOT NULL,
    signed_json TEXT NOT NULL,
    installed_at INTEGER NOT NULL
);
CREATE TABLE certificates (
    hash BLOB PRIMARY KEY,
    worker_id TEXT NOT NULL,
    body BLOB NOT NULL,
    config_serial INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE revocations (
    certificate_hash BLOB NOT NULL,
    worker_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    effective_at INTEGER NOT NULL,
    config_serial INTEGER NOT NULL,
    PRIMARY KEY (certificate_hash, effective_at)
) WITHOUT ROWID;

-- Request nonces seen, kept until the request timestamps they could replay have expired.
CREATE TABLE request_nonces (
    nonce BLOB PRIMARY KEY,
    signer BLOB NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX request_nonces_expiry ON request_nonces (expires_at);

-- Who pushed or pulled which household, when (server clock).
CREATE TABLE access_log (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    worker_id TEXT NOT NULL,
    certificate_hash BLOB NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('push', 'pull', 'push_refused')),
    household_id TEXT NOT NULL,
    changes INTEGER NOT NULL
);
CREATE INDEX access_log_household ON access_log (household_id, at);

-- Resident ID numbers of the current household states, for duplicate detection.
CREATE TABLE resident_ids (
    id_number TEXT NOT NULL,
    household_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    PRIMARY KEY (id_number, household_id, member_id)
) WITHOUT ROWID;
CREATE INDEX resident_ids_household ON resident_ids (household_id);

-- The same resident ID number found in two households: flagged for the team and the county.
CREATE TABLE resident_id_flags (
    id_number TEXT NOT NULL,
    household_id TEXT NOT NULL,
    other_household_id TEXT NOT NULL,
    county_code TEXT NOT NULL,
    flagged_at INTEGER NOT NULL,
    PRIMARY KEY (id_number, household_id, other_household_id)
) WITHOUT ROWID;
";

type Step = fn(&Transaction<'_>) -> rusqlite::Result<()>;

/// Version 3: every feed entry carries the chain hash of the feed up to it,
/// `chain(n) = SHA-256(chain(n-1) || change_hash(n))` with `chain(0)` = 32 zero bytes. A
/// cursor names its position by this hash, so a feed that differs anywhere before the cursor
/// (restored from a backup and refilled in another order) cannot continue it.
fn v3(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch("ALTER TABLE feed ADD COLUMN chain BLOB;")?;
    let rows: Vec<(i64, Vec<u8>)> = tx
        .prepare("SELECT seq, change_hash FROM feed ORDER BY seq")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut chain = [0u8; 32];
    for (seq, hash) in rows {
        chain = super::feed::next_chain(&chain, &hash);
        tx.execute(
            "UPDATE feed SET chain = ?1 WHERE seq = ?2",
            rusqlite::params![&chain[..], seq],
        )?;
    }
    Ok(())
}

/// Version 4: which households reference which attachments (photos, signature images) by
/// their sealed visits; a worker may fetch an attachment only through a household in scope.
/// The attachment bytes are files beside the database (`attachments/`).
const V4: &str = "
CREATE TABLE attachment_refs (
    hash BLOB NOT NULL,
    household_id TEXT NOT NULL REFERENCES households (id),
    PRIMARY KEY (hash, household_id)
) WITHOUT ROWID;
CREATE INDEX attachment_refs_household ON attachment_refs (household_id);
";

/// Version 5: a change hash is unique within its household's feed, not across the whole
/// feed. An index on the hash alone put every new entry on a random page of an index as large
/// as the feed, so a push of 11,000 changes rewrote most of that index; keyed by household
/// first, a household's new entries share a page. A change belongs to one household's
/// history (its dependencies and its operations name that household), and ingest already
/// drops changes the household holds, so nothing that was refused before is accepted now.
/// The feed table is rebuilt (SQLite cannot drop a column's UNIQUE), keeping every `seq`.
fn v5(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    let next: Option<i64> = tx
        .query_row(
            "SELECT seq FROM sqlite_sequence WHERE name = 'feed'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    tx.execute_batch(
        "CREATE TABLE feed_v5 (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            household_id TEXT NOT NULL REFERENCES households (id),
            change_hash BLOB NOT NULL,
            change BLOB NOT NULL,
            signer BLOB NOT NULL,
            signature BLOB NOT NULL,
            author TEXT NOT NULL,
            received_at INTEGER NOT NULL,
            chain BLOB,
            UNIQUE (household_id, change_hash)
        );
        INSERT INTO feed_v5
            (seq, household_id, change_hash, change, signer, signature, author, received_at, chain)
            SELECT seq, household_id, change_hash, change, signer, signature, author, received_at, chain
            FROM feed ORDER BY seq;
        DROP TABLE feed;
        ALTER TABLE feed_v5 RENAME TO feed;
        CREATE INDEX feed_household ON feed (household_id, seq);",
    )?;
    // AUTOINCREMENT: a position once given is never given again.
    if let Some(next) = next {
        tx.execute(
            "UPDATE sqlite_sequence SET seq = max(seq, ?1) WHERE name = 'feed'",
            [next],
        )?;
    }
    Ok(())
}

const STEPS: [Step; 5] = [
    |tx| tx.execute_batch(V1),
    |tx| tx.execute_batch(V2),
    v3,
    |tx| tx.execute_batch(V4),
    v5,
];

/// Brings the database to [`SCHEMA_VERSION`] (refusing a newer one).
pub fn migrate(conn: &mut Connection) -> Result<(), ServerError> {
    migrate_to(conn, SCHEMA_VERSION)
}

/// Brings the database to `target` (tests use this to build an old schema).
pub fn migrate_to(conn: &mut Connection, target: i64) -> Result<(), ServerError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(ServerError::Config(format!(
            "database schema {version} is newer than this server ({SCHEMA_VERSION})"
        )));
    }
    for (index, step) in STEPS.iter().enumerate() {
        let step_version = index as i64 + 1;
        if step_version <= version || step_version > target {
            continue;
        }
        let tx = conn.transaction()?;
        step(&tx)?;
        tx.pragma_update(None, "user_version", step_version)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(conn: &Connection) -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
            .unwrap();
        let rows = stmt.query_map([], |r| r.get(0)).unwrap();
        rows.map(Result::unwrap).collect()
    }

    #[test]
    fn upgrading_an_old_database_equals_a_new_one() {
        let mut fresh = Connection::open_in_memory().unwrap();
        migrate(&mut fresh).unwrap();
        let mut old = Connection::open_in_memory().unwrap();
        migrate_to(&mut old, 1).unwrap();
        old.execute(
            "INSERT INTO server_meta (key, value) VALUES ('epoch', 'abc')",
            [],
        )
        .unwrap();
        migrate(&mut old).unwrap();
        assert_eq!(schema(&old), schema(&fresh));
        let version: i64 = old
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        let epoch: String = old
            .query_row(
                "SELECT value FROM server_meta WHERE key = 'epoch'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(epoch, "abc", "data survives the upgrade");
        old.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        assert!(migrate(&mut old).is_err(), "a newer schema is refused");
    }

    #[test]
    fn version_5_keeps_every_feed_entry_and_its_position() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate_to(&mut conn, 4).unwrap();
        conn.execute_batch(
            "INSERT INTO households VALUES ('h1', 'v', 'c', 0, 0), ('h2', 'v', 'c', 0, 0);
             INSERT INTO feed (household_id, change_hash, change, signer, signature, author, received_at, chain)
               VALUES ('h1', x'01', x'aa', x'00', x'00', 'w', 1, x'11'),
                      ('h2', x'02', x'bb', x'00', x'00', 'w', 2, x'12'),
                      ('h1', x'03', x'cc', x'00', x'00', 'w', 3, x'13');
             DELETE FROM feed WHERE seq = 3;",
        )
        .unwrap();
        let rows = |conn: &Connection| -> Vec<(i64, String, Vec<u8>, Vec<u8>)> {
            let mut stmt = conn
                .prepare("SELECT seq, household_id, change_hash, chain FROM feed ORDER BY seq")
                .unwrap();
            let rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .unwrap();
            rows.map(Result::unwrap).collect()
        };
        let before = rows(&conn);
        migrate(&mut conn).unwrap();
        assert_eq!(rows(&conn), before);
        // Positions are never given twice: the next entry follows the deleted one.
        conn.execute(
            "INSERT INTO feed (household_id, change_hash, change, signer, signature, author, received_at)
             VALUES ('h2', x'04', x'dd', x'00', x'00', 'w', 4)",
            [],
        )
        .unwrap();
        assert_eq!(conn.last_insert_rowid(), 4);
        // A hash is unique within its household.
        let again = conn.execute(
            "INSERT OR IGNORE INTO feed (household_id, change_hash, change, signer, signature, author, received_at)
             VALUES ('h1', x'01', x'aa', x'00', x'00', 'w', 5)",
            [],
        );
        assert_eq!(
            again.unwrap(),
            0,
            "the same change of the same household is one entry"
        );
    }
}
