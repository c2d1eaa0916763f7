//! The store's schema and its migrations, keyed on `PRAGMA user_version`.
//!
//! Each migration moves the schema from version `n` to `n + 1` inside the open transaction.
//! A store is never left between versions: [`init`] runs all pending migrations and the
//! version bump in one transaction. `tests::upgrading_every_old_version_equals_a_fresh_store`
//! checks that upgrading from any older version gives exactly the schema of a new store.

use rusqlite::{Connection, Transaction};

use crate::error::{Error, Result};

/// The schema version this code writes.
pub const VERSION: i64 = 9;

/// Brings the database to [`VERSION`], or refuses a newer one.
pub fn init(conn: &mut Connection) -> Result<()> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > VERSION {
        return Err(Error::SchemaTooNew {
            found,
            supported: VERSION,
        });
    }
    if found == VERSION {
        return Ok(());
    }
    let tx = conn.transaction()?;
    upgrade(&tx, found, VERSION)?;
    tx.commit()?;
    Ok(())
}

/// Runs migrations `from` → `to` in `tx`.
pub(crate) fn upgrade(tx: &Transaction<'_>, from: i64, to: i64) -> Result<()> {
    for version in from..to {
        match version {
            0 => tx.execute_batch(V1_DOCUMENTS)?,
            1 => {
                tx.execute_batch(V2_MEMBER_SEARCH)?;
                super::index::rebuild_member_index(tx)?;
            }
            2 => tx.execute_batch(V3_ACTORS)?,
            // Stores before version 4 hold no visits, so the new index starts empty.
            3 => tx.execute_batch(V4_VISITS)?,
            // Changes written before version 5 were never signed; they are queued unsigned
            // and signed when a signing identity is set.
            4 => {
                tx.execute_batch(V5_SYNC)?;
                super::outbox::queue_existing_local_changes(tx)?;
            }
            // Rows queued before version 6 carry no bytes: a push reads those changes from
            // their documents.
            5 => tx.execute_batch(V6_OUTBOX_BYTES)?,
            6 => tx.execute_batch(V7_ATTACHMENTS)?,
            // Stores before version 8 hold no care events, so the care index starts empty.
            7 => tx.execute_batch(V8_CARE)?,
            8 => tx.execute_batch(V9_OUTBOX_SIGNATURES)?,
            _ => {
                return Err(Error::SchemaTooNew {
                    found: version,
                    supported: VERSION,
                })
            }
        }
    }
    tx.pragma_update(None, "user_version", to)?;
    Ok(())
}

/// Version 1: household documents as chunks, and the household list index.
const V1_DOCUMENTS: &str = "
CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- One row per household: what lists show without loading the document.
CREATE TABLE households (
    id            TEXT PRIMARY KEY,
    county_code   TEXT NOT NULL,
    township_code TEXT NOT NULL,
    village_code  TEXT NOT NULL,
    program       TEXT NOT NULL,
    dibao_class   INTEGER,
    status        TEXT NOT NULL,
    head_name     TEXT NOT NULL,
    member_count  INTEGER NOT NULL,
    has_conflicts INTEGER NOT NULL DEFAULT 0,
    updated_at    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX households_by_village ON households (village_code, status, program);

-- The document bytes: a snapshot (save()) followed by change chunks, in id order.
CREATE TABLE document_chunks (
    id           INTEGER PRIMARY KEY,
    household_id TEXT NOT NULL,
    is_snapshot  INTEGER NOT NULL,
    bytes        BLOB NOT NULL
);
CREATE INDEX document_chunks_by_household ON document_chunks (household_id, id);
";

/// Version 2: members by name and ID number, for searches within villages.
const V2_MEMBER_SEARCH: &str = "
CREATE TABLE members (
    household_id TEXT NOT NULL,
    member_id    TEXT NOT NULL,
    village_code TEXT NOT NULL,
    name         TEXT NOT NULL,
    id_number    TEXT NOT NULL,
    relation     TEXT NOT NULL,
    PRIMARY KEY (household_id, member_id)
) WITHOUT ROWID;
CREATE INDEX members_by_id_number ON members (id_number);
CREATE INDEX members_by_village_name ON members (village_code, name);
";

/// Version 3: every actor id this store has used (one per opening; never reused).
const V3_ACTORS: &str = "
CREATE TABLE actors (
    actor_id  BLOB PRIMARY KEY,
    opened_at INTEGER NOT NULL
);
";

/// Version 4: signed home visits — the visit list index, certificates, the trust anchor and
/// revocation list, and sealed contents received for co-signing.
const V4_VISITS: &str = "
-- One row per visit: what the visit lists show without loading documents.
CREATE TABLE visits (
    household_id  TEXT NOT NULL,
    visit_id      TEXT NOT NULL,
    village_code  TEXT NOT NULL,
    purpose       TEXT NOT NULL,
    status        TEXT NOT NULL,   -- draft | incomplete | complete | diverged | invalid
    revision      INTEGER,
    latest_hash   TEXT,
    missing_roles TEXT NOT NULL,   -- comma-separated role names
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (household_id, visit_id)
) WITHOUT ROWID;
CREATE INDEX visits_by_village ON visits (village_code, status);
CREATE INDEX visits_by_hash ON visits (latest_hash);

-- The team of each visit, and whether each member has a valid signature on the latest revision.
CREATE TABLE visit_team (
    household_id TEXT NOT NULL,
    visit_id     TEXT NOT NULL,
    role         TEXT NOT NULL,
    worker_id    TEXT NOT NULL,
    signed       INTEGER NOT NULL,
    PRIMARY KEY (household_id, visit_id, role)
) WITHOUT ROWID;
CREATE INDEX visit_team_by_worker ON visit_team (worker_id);

-- Worker certificates (verified under the authority key before they are stored).
CREATE TABLE certificates (
    hash      BLOB PRIMARY KEY,
    worker_id TEXT NOT NULL,
    body      BLOB NOT NULL,
    signature BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX certificates_by_worker ON certificates (worker_id);

-- The county authority key and the newest signed revocation list.
CREATE TABLE trust (
    id                   INTEGER PRIMARY KEY CHECK (id = 1),
    authority_key_id     TEXT NOT NULL,
    authority_key        BLOB NOT NULL,
    revocation_body      BLOB,
    revocation_signature BLOB
);

-- Sealed contents received (QR codes or a local link) on a co-signer's tablet.
CREATE TABLE received_contents (
    hash         BLOB PRIMARY KEY,
    household_id TEXT NOT NULL,
    visit_id     TEXT NOT NULL,
    bytes        BLOB NOT NULL,
    received_at  INTEGER NOT NULL
) WITHOUT ROWID;
";

/// Version 7: attachments (photos, signature images), content-addressed; each file is
/// encrypted with its own key kept here (ADR 11).
const V7_ATTACHMENTS: &str = "
CREATE TABLE attachments (
    hash       BLOB PRIMARY KEY,
    size       INTEGER NOT NULL,
    file       TEXT NOT NULL,
    key        BLOB NOT NULL,
    -- the server holds these bytes
    uploaded   INTEGER NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
-- Which households reference which attachments (one attachment may serve several).
CREATE TABLE attachment_refs (
    household_id TEXT NOT NULL,
    hash         BLOB NOT NULL,
    PRIMARY KEY (household_id, hash)
) WITHOUT ROWID;
CREATE INDEX attachment_refs_by_hash ON attachment_refs (hash);
";

/// Version 8: the dispersed-care lists (rewritten from the household's care log with every
/// write of the household, like the visit index). Dates are local day numbers (days since
/// 1970-01-01 in the county's calendar), times unix seconds.
const V8_CARE: &str = "
-- One row per planned stretch of a task of a person in care.
CREATE TABLE care_tasks (
    household_id  TEXT NOT NULL,
    person_id     TEXT NOT NULL,
    task_id       TEXT NOT NULL,
    planned_from  INTEGER NOT NULL,
    -- the first day no longer planned (removed, or the person left care)
    planned_until INTEGER,
    village_code  TEXT NOT NULL,
    frequency     TEXT NOT NULL,   -- week | half_month | month | quarter | half_year | year | every_days
    every_days    INTEGER NOT NULL,
    due_soon_days INTEGER,         -- NULL: the policy's
    label_zh      TEXT NOT NULL,
    label_en      TEXT NOT NULL,
    -- the latest time the task was done (any date); older ones are in care_task_log
    last_done_at  INTEGER,
    PRIMARY KEY (household_id, person_id, task_id, planned_from)
) WITHOUT ROWID;
CREATE INDEX care_tasks_by_village ON care_tasks (village_code, planned_from);

-- Every time a task was done (for lists asked about an earlier date).
CREATE TABLE care_task_log (
    household_id TEXT NOT NULL,
    person_id    TEXT NOT NULL,
    task_id      TEXT NOT NULL,
    done_at      INTEGER NOT NULL,
    PRIMARY KEY (household_id, person_id, task_id, done_at)
) WITHOUT ROWID;

-- Open problems of the ledger.
CREATE TABLE care_problems (
    household_id TEXT NOT NULL,
    problem_id   TEXT NOT NULL,
    person_id    TEXT NOT NULL,
    village_code TEXT NOT NULL,
    area         TEXT NOT NULL,
    description  TEXT NOT NULL,
    opened_at    INTEGER NOT NULL,
    opened_by    TEXT NOT NULL,
    assignee     TEXT,
    due_on       INTEGER,
    reopened     INTEGER NOT NULL,
    PRIMARY KEY (household_id, problem_id)
) WITHOUT ROWID;
CREATE INDEX care_problems_by_village ON care_problems (village_code);

-- One row per stretch a township leader is assigned to a person in care.
CREATE TABLE care_leaders (
    household_id   TEXT NOT NULL,
    person_id      TEXT NOT NULL,
    assigned_from  INTEGER NOT NULL,
    assigned_until INTEGER,
    village_code   TEXT NOT NULL,
    leader_id      TEXT NOT NULL,
    leader_name    TEXT NOT NULL,
    -- the latest leader visit of the person (any date); older ones are in care_leader_visits
    last_visit_on  INTEGER,
    PRIMARY KEY (household_id, person_id, assigned_from)
) WITHOUT ROWID;
CREATE INDEX care_leaders_by_village ON care_leaders (village_code);

-- Every leader visit day of a person.
CREATE TABLE care_leader_visits (
    household_id TEXT NOT NULL,
    person_id    TEXT NOT NULL,
    visited_on   INTEGER NOT NULL,
    PRIMARY KEY (household_id, person_id, visited_on)
) WITHOUT ROWID;

-- Which care log (digest of its event ids) and village each household's rows were built from.
CREATE TABLE care_indexed (
    household_id TEXT PRIMARY KEY,
    log_digest   BLOB NOT NULL,
    village_code TEXT NOT NULL
) WITHOUT ROWID;

-- Care agreements.
CREATE TABLE care_agreements (
    household_id   TEXT NOT NULL,
    agreement_id   TEXT NOT NULL,
    person_id      TEXT NOT NULL,
    village_code   TEXT NOT NULL,
    caregiver_name TEXT NOT NULL,
    valid_from     INTEGER NOT NULL,
    valid_until    INTEGER NOT NULL,
    PRIMARY KEY (household_id, agreement_id)
) WITHOUT ROWID;
CREATE INDEX care_agreements_by_village ON care_agreements (village_code, valid_until);
";

/// Version 9: a queued change keeps its signature beside its bytes, so a push reads the
/// outbox alone (looking each one up among all the store's signatures read a random page of
/// that table per change: half a second for a day's 11,000 changes on a township's tablet).
const V9_OUTBOX_SIGNATURES: &str = "
ALTER TABLE outbox ADD COLUMN signer BLOB;
ALTER TABLE outbox ADD COLUMN signature BLOB;
UPDATE outbox SET signer = s.signer, signature = s.signature
FROM change_signatures s WHERE s.hash = outbox.hash;
";

/// Version 6: a queued change keeps its bytes, so a push reads the outbox alone instead of
/// loading every changed household's document.
const V6_OUTBOX_BYTES: &str = "
ALTER TABLE outbox ADD COLUMN change BLOB;
";

/// Version 5: what sync needs on the tablet.
const V5_SYNC: &str = "
-- The author's signature of every change this store holds (own changes once signed, and
-- received ones), so changes can be passed along and pushed again after a server reset.
CREATE TABLE change_signatures (
    hash         BLOB PRIMARY KEY,
    household_id TEXT NOT NULL,
    signer       BLOB NOT NULL,
    signature    BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX change_signatures_by_household ON change_signatures (household_id);

-- Local changes the server has not accepted yet, in the order they were made.
CREATE TABLE outbox (
    seq          INTEGER PRIMARY KEY,
    household_id TEXT NOT NULL,
    hash         BLOB NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL
);
CREATE INDEX outbox_by_household ON outbox (household_id, seq);

-- Which worker each Automerge actor id belongs to (from verified change signatures).
CREATE TABLE actor_workers (
    actor     BLOB PRIMARY KEY,
    worker_id TEXT NOT NULL
) WITHOUT ROWID;

-- Cursor, cursor villages, county configuration.
CREATE TABLE sync_state (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;

-- Local changes set aside by a rebase, with the server's reason (nothing is silently lost).
CREATE TABLE rejected_changes (
    hash         BLOB PRIMARY KEY,
    household_id TEXT NOT NULL,
    bytes        BLOB NOT NULL,
    code         TEXT NOT NULL,
    detail       TEXT NOT NULL,
    archived_at  INTEGER NOT NULL
) WITHOUT ROWID;

-- Households the server rejected or held, with its reason (until rebased or accepted).
CREATE TABLE household_sync (
    household_id TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,   -- rejected | held | flagged
    code         TEXT NOT NULL,
    detail       TEXT NOT NULL,
    updated_at   INTEGER NOT NULL
) WITHOUT ROWID;
";

#[cfg(test)]
mod tests {
    use super::*;

    fn schema_of(conn: &Connection) -> Vec<(String, String)> {
        let mut stmt = conn
            .prepare("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
            .expect("prepare");
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    }

    #[test]
    fn upgrading_every_old_version_equals_a_fresh_store() {
        let mut fresh = Connection::open_in_memory().expect("open");
        init(&mut fresh).expect("init");
        let fresh_schema = schema_of(&fresh);
        assert!(fresh_schema.iter().any(|(name, _)| name == "actors"));
        for start in 0..VERSION {
            let mut conn = Connection::open_in_memory().expect("open");
            let tx = conn.transaction().expect("tx");
            upgrade(&tx, 0, start).expect("old schema");
            tx.commit().expect("commit");
            init(&mut conn).expect("upgrade");
            assert_eq!(
                schema_of(&conn),
                fresh_schema,
                "upgrade from version {start}"
            );
            let version: i64 = conn
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .expect("version");
            assert_eq!(version, VERSION);
        }
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let mut conn = Connection::open_in_memory().expect("open");
        conn.pragma_update(None, "user_version", VERSION + 1)
            .expect("set");
        assert!(
            matches!(init(&mut conn), Err(Error::SchemaTooNew { found, .. }) if found == VERSION + 1)
        );
    }
}
