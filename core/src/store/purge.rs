//! Purging (ADR 0009): households that have left this tablet's scope — their village is no
//! longer covered by the certificate the tablet signs with — and whose every local change the
//! server has accepted are removed with everything derived from them: document chunks, index
//! rows (households, members, visits, visit teams, care lists), queued changes, change signatures, the
//! server's verdict, archived rejected changes, received sealed contents and the in-memory
//! copy.
//!
//! The store runs with `PRAGMA secure_delete = ON` (SQLCipher forces it on every keyed
//! database; the store also sets it at every opening), so deleted cells and freed pages are
//! overwritten with zeros before they are encrypted and written. After the delete, a
//! truncating WAL checkpoint copies the scrubbed pages into the database file and leaves no
//! older page versions in the WAL. No `VACUUM`: free pages already hold only zeros, and it
//! would copy the whole database in memory (`temp_store = MEMORY`). A household with unsynced
//! or refused changes is never purged: it is reported as kept, with why.

use rusqlite::params;

use super::Store;
use crate::error::{Error, Result};
use crate::signing::certificate::Scope;
use crate::visit::VisitError;

/// What a purge did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgeReport {
    /// Households removed from this tablet.
    pub purged: Vec<String>,
    /// Households outside the scope that were kept, with why.
    pub kept: Vec<KeptHousehold>,
    /// Archived rejected changes (see `rebase_household`) removed with the purged households.
    pub archived_changes_removed: u64,
    /// Whether the WAL was checkpointed into the database and truncated to zero bytes (false
    /// only if another connection was reading; the next purge or erase retries).
    pub wal_truncated: bool,
}

/// A household outside the scope that stays on the tablet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptHousehold {
    pub household_id: String,
    pub village_code: String,
    /// `purge.unsynced_changes` (sync first) or `purge.not_accepted` (the server rejected or
    /// held its changes: rebase, or wait for the held ones).
    pub reason: String,
    /// English text for logs.
    pub detail: String,
    /// This device's changes of the household not accepted by the server.
    pub unsynced_changes: u64,
}

/// Every table holding rows of one household, and its household column.
const HOUSEHOLD_TABLES: [(&str, &str); 18] = [
    ("document_chunks", "household_id"),
    ("members", "household_id"),
    ("visit_team", "household_id"),
    ("visits", "household_id"),
    ("received_contents", "household_id"),
    ("outbox", "household_id"),
    ("change_signatures", "household_id"),
    ("household_sync", "household_id"),
    ("rejected_changes", "household_id"),
    ("attachment_refs", "household_id"),
    ("care_tasks", "household_id"),
    ("care_task_log", "household_id"),
    ("care_problems", "household_id"),
    ("care_leaders", "household_id"),
    ("care_leader_visits", "household_id"),
    ("care_agreements", "household_id"),
    ("care_indexed", "household_id"),
    ("households", "id"),
];

impl Store {
    /// The villages this tablet may hold: the scope of the certificate it signs with (`None`
    /// before enrollment).
    pub fn scope(&self) -> Result<Option<Scope>> {
        let Some(identity) = &self.identity else {
            return Ok(None);
        };
        let trust = self.trust()?;
        let certificate = identity
            .certificate
            .verify(&trust.authority_key)
            .map_err(VisitError::Certificate)?;
        Ok(Some(certificate.scope))
    }

    /// Removes every household outside [`Self::scope`] whose local changes the server has all
    /// accepted, so that nothing of it can be recovered from the database files; keeps (and
    /// reports) the ones with unsynced, rejected or held changes. Refused before enrollment
    /// (`sync.not_enrolled`): without a scope nothing is known to be out of it.
    pub fn purge_out_of_scope(&mut self) -> Result<PurgeReport> {
        let scope = self.scope()?.ok_or_else(|| Error::Sync {
            code: "sync.not_enrolled".into(),
            detail: "purging needs the enrolled certificate's villages: enroll first".into(),
            retry_after_seconds: None,
        })?;
        type Candidate = (String, String, i64, Option<String>);
        let all: Vec<Candidate> = self
            .conn
            .prepare(
                "SELECT h.id, h.village_code,
                        (SELECT count(*) FROM outbox o WHERE o.household_id = h.id),
                        (SELECT s.kind FROM household_sync s WHERE s.household_id = h.id)
                 FROM households h ORDER BY h.village_code, h.id",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut report = PurgeReport::default();
        for (household_id, village_code, pending, verdict) in all {
            if scope.covers_village(&village_code) {
                continue;
            }
            let unsynced_changes = pending.max(0) as u64;
            let kept = |reason: &str, detail: String| KeptHousehold {
                household_id: household_id.clone(),
                village_code: village_code.clone(),
                reason: reason.to_owned(),
                detail,
                unsynced_changes,
            };
            match verdict.as_deref() {
                Some(kind @ ("rejected" | "held")) => report.kept.push(kept(
                    "purge.not_accepted",
                    format!("the server {kind} its changes: rebase or sync first"),
                )),
                _ if unsynced_changes > 0 => report.kept.push(kept(
                    "purge.unsynced_changes",
                    format!("{unsynced_changes} local change(s) have not reached the server"),
                )),
                _ => report.purged.push(household_id),
            }
        }
        if !report.purged.is_empty() {
            self.delete_households(&mut report)?;
        }
        report.wal_truncated = self.checkpoint_truncate()?;
        Ok(report)
    }

    /// Deletes every row of `report.purged` in one transaction (secure_delete is on).
    fn delete_households(&mut self, report: &mut PurgeReport) -> Result<()> {
        let tx = self.conn.transaction()?;
        for id in &report.purged {
            report.archived_changes_removed += tx
                .query_row(
                    "SELECT count(*) FROM rejected_changes WHERE household_id = ?1",
                    [id],
                    |r| r.get::<_, i64>(0),
                )?
                .max(0) as u64;
            for (table, column) in HOUSEHOLD_TABLES {
                tx.prepare_cached(&format!("DELETE FROM {table} WHERE {column} = ?1"))?
                    .execute(params![id])?;
            }
        }
        // Attachments no remaining household references: the row and its key go now (the
        // file is unreadable from this commit on), the file right after.
        tx.execute(
            "DELETE FROM attachments WHERE hash NOT IN (SELECT hash FROM attachment_refs)",
            [],
        )?;
        tx.commit()?;
        for id in &report.purged {
            self.cache.evict(id);
        }
        self.remove_unreferenced_attachment_files()?;
        Ok(())
    }

    /// `PRAGMA wal_checkpoint(TRUNCATE)`: true when every WAL frame was copied into the
    /// database and the WAL truncated to zero bytes.
    pub(crate) fn checkpoint_truncate(&self) -> Result<bool> {
        let (busy, _log, _checkpointed): (i64, i64, i64) =
            self.conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?;
        Ok(busy == 0)
    }

    /// Whether deleted content is overwritten (`PRAGMA secure_delete`), for checks.
    pub fn secure_delete_enabled(&self) -> Result<bool> {
        Ok(self
            .conn
            .query_row("PRAGMA secure_delete", [], |r| r.get::<_, i64>(0))?
            == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table added later with a `household_id` column (attachments, for example) must be
    /// purged too: this fails until it is listed in [`HOUSEHOLD_TABLES`].
    #[test]
    fn every_table_with_household_rows_is_purged() {
        let mut conn = rusqlite::Connection::open_in_memory().expect("open");
        super::super::schema::init(&mut conn).expect("schema");
        let tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .expect("prepare")
            .query_map([], |r| r.get(0))
            .expect("query")
            .collect::<rusqlite::Result<_>>()
            .expect("rows");
        let mut with_household_rows = vec![("households".to_owned(), "id".to_owned())];
        for table in &tables {
            let columns: Vec<String> = conn
                .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
                .expect("prepare")
                .query_map([], |r| r.get(0))
                .expect("query")
                .collect::<rusqlite::Result<_>>()
                .expect("rows");
            if columns.iter().any(|c| c == "household_id") {
                with_household_rows.push((table.clone(), "household_id".to_owned()));
            }
        }
        with_household_rows.sort();
        let mut purged: Vec<(String, String)> = HOUSEHOLD_TABLES
            .iter()
            .map(|(t, c)| ((*t).to_owned(), (*c).to_owned()))
            .collect();
        purged.sort();
        assert_eq!(
            purged, with_household_rows,
            "a table holds household rows that purge_out_of_scope does not delete: list it in \
             HOUSEHOLD_TABLES (for attachments, also delete the blobs no remaining household \
             references, their keys and files: ADR 9)"
        );
    }
}
