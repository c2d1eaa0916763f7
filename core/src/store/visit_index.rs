//! The visit lists the tablet shows — waiting for my signature, incomplete, complete,
//! needing attention — read from the `visits` and `visit_team` index tables without loading
//! documents.
//!
//! The index is rewritten from the document in the same transaction as every write of a
//! household (see `Store::persist`), so it never disagrees with the documents.

use chrono::Utc;
use rusqlite::{params, Connection, Transaction};

use super::trust::{load_policy, load_trust};
use super::Store;
use crate::error::{Error, Result};
use crate::household::HouseholdDocument;
use crate::signing::certificate::Role;
use crate::visit::content::TeamMember;
use crate::visit::document;
use crate::visit::policy::Purpose;
use crate::visit::verify::{self, VisitStatus};

/// One line of a visit list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitSummary {
    /// The visit.
    pub visit_id: String,
    /// Its household.
    pub household_id: String,
    /// The household's village.
    pub village_code: String,
    /// Why the team visits.
    pub purpose: Purpose,
    /// `draft`, `incomplete`, `complete`, `diverged`, `invalid` or `unverified` (no authority key).
    pub status: String,
    /// The latest sealed revision.
    pub revision: Option<u32>,
    /// Its content hash (hex).
    pub latest_hash: Option<String>,
    /// Required roles without a valid signature on the latest revision.
    pub missing_roles: Vec<Role>,
    /// The team, sorted by role.
    pub team: Vec<TeamMember>,
    /// Team members whose signature is missing (for required roles).
    pub missing_signers: Vec<TeamMember>,
}

fn role_from_str(text: &str) -> Option<Role> {
    Role::ALL.into_iter().find(|r| r.as_str() == text)
}

/// Rewrites the visit index rows of one household from its document.
pub(crate) fn write_index(
    tx: &Transaction<'_>,
    household_id: &str,
    doc: &mut HouseholdDocument,
    now: i64,
) -> Result<()> {
    let doc = doc.automerge();
    tx.prepare_cached("DELETE FROM visit_team WHERE household_id = ?1")?
        .execute([household_id])?;
    tx.prepare_cached("DELETE FROM visits WHERE household_id = ?1")?
        .execute([household_id])?;
    let ids = document::visit_ids(doc)?;
    if ids.is_empty() {
        return Ok(());
    }
    let trust = load_trust(tx)?;
    let policy = load_policy(tx)?;
    for visit_id in ids {
        let Ok(record) = document::read_visit(doc, &visit_id) else {
            continue;
        };
        let (status, revision, latest, missing) = match &trust {
            None if record.revisions.is_empty() => {
                ("draft", None, None, policy.required_roles(record.purpose))
            }
            None => (
                "unverified",
                None,
                None,
                policy.required_roles(record.purpose),
            ),
            Some(trust) => match verify::verify_visit(doc, &visit_id, &policy, trust)?.status {
                VisitStatus::Draft => ("draft", None, None, policy.required_roles(record.purpose)),
                VisitStatus::Complete {
                    revision,
                    content_hash,
                } => ("complete", Some(revision), Some(content_hash), Vec::new()),
                VisitStatus::Incomplete {
                    revision,
                    content_hash,
                    missing_roles,
                } => (
                    "incomplete",
                    Some(revision),
                    Some(content_hash),
                    missing_roles,
                ),
                VisitStatus::Diverged { .. } => ("diverged", None, None, Vec::new()),
                VisitStatus::Invalid { .. } => ("invalid", None, None, Vec::new()),
            },
        };
        let missing_text: Vec<&str> = missing.iter().map(|r| r.as_str()).collect();
        tx.prepare_cached(
            "INSERT OR REPLACE INTO visits (visit_id, household_id, village_code, purpose, status, revision,
                 latest_hash, missing_roles, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute(params![
            visit_id,
            household_id,
            record.village_code,
            record.purpose.as_str(),
            status,
            revision,
            latest.map(|h| h.to_hex()),
            missing_text.join(","),
            now
        ])?;
        let mut insert = tx.prepare_cached(
            "INSERT OR REPLACE INTO visit_team (household_id, visit_id, role, worker_id, signed) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for m in &record.team {
            let signed =
                status == "complete" || (status == "incomplete" && !missing.contains(&m.role));
            insert.execute(params![
                household_id,
                visit_id,
                m.role.as_str(),
                m.worker_id,
                signed
            ])?;
        }
    }
    Ok(())
}

fn summaries(conn: &Connection, where_sql: &str, args: &[&str]) -> Result<Vec<VisitSummary>> {
    let sql = format!(
        "SELECT v.visit_id, v.household_id, v.village_code, v.purpose, v.status, v.revision, v.latest_hash,
                v.missing_roles FROM visits v WHERE {where_sql} ORDER BY v.updated_at DESC, v.visit_id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args), |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, Option<u32>>(5)?,
            r.get::<_, Option<String>>(6)?,
            r.get::<_, String>(7)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (visit_id, household_id, village_code, purpose, status, revision, latest_hash, missing) =
            row?;
        let mut team_stmt = conn.prepare_cached(
            "SELECT role, worker_id FROM visit_team WHERE household_id = ?1 AND visit_id = ?2",
        )?;
        let mut team: Vec<TeamMember> = team_stmt
            .query_map([&household_id, &visit_id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?
            .filter_map(|row| row.ok())
            .filter_map(|(role, worker_id)| {
                role_from_str(&role).map(|role| TeamMember { role, worker_id })
            })
            .collect();
        team.sort();
        let missing_roles: Vec<Role> = missing.split(',').filter_map(role_from_str).collect();
        let missing_signers = team
            .iter()
            .filter(|m| missing_roles.contains(&m.role))
            .cloned()
            .collect();
        out.push(VisitSummary {
            purpose: Purpose::parse(&purpose).ok_or_else(|| Error::CorruptDocument {
                id: visit_id.clone(),
                reason: "unknown purpose".into(),
            })?,
            visit_id,
            household_id,
            village_code,
            status,
            revision,
            latest_hash,
            missing_roles,
            team,
            missing_signers,
        });
    }
    Ok(out)
}

impl Store {
    pub(super) fn reindex_all_visits(&mut self) -> Result<()> {
        let ids: Vec<String> = self
            .conn
            .prepare("SELECT DISTINCT household_id FROM visits")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let now = Utc::now().timestamp();
        for id in ids {
            self.load(&id)?;
            let tx = self.conn.transaction()?;
            if let Some(cached) = self.cache.get(&id) {
                write_index(&tx, &id, &mut cached.doc, now)?;
            }
            tx.commit()?;
        }
        Ok(())
    }

    /// Visits of `village` whose latest revision still waits for `worker_id`'s signature.
    pub fn visits_awaiting_signature(
        &self,
        worker_id: &str,
        village_code: &str,
    ) -> Result<Vec<VisitSummary>> {
        summaries(
            &self.conn,
            "v.village_code = ?1 AND v.status = 'incomplete' AND EXISTS (SELECT 1 FROM visit_team t
                 WHERE t.household_id = v.household_id AND t.visit_id = v.visit_id AND t.worker_id = ?2 AND t.signed = 0)",
            &[village_code, worker_id],
        )
    }

    /// Sealed visits of `village` still missing signatures (see `missing_signers`).
    pub fn visits_incomplete(&self, village_code: &str) -> Result<Vec<VisitSummary>> {
        summaries(
            &self.conn,
            "v.village_code = ?1 AND v.status = 'incomplete'",
            &[village_code],
        )
    }

    /// Sealed visits still missing signatures, in every village this tablet holds.
    pub fn visits_incomplete_everywhere(&self) -> Result<Vec<VisitSummary>> {
        summaries(&self.conn, "v.status = 'incomplete'", &[])
    }

    /// Complete visits of `village`.
    pub fn visits_complete(&self, village_code: &str) -> Result<Vec<VisitSummary>> {
        summaries(
            &self.conn,
            "v.village_code = ?1 AND v.status = 'complete'",
            &[village_code],
        )
    }

    /// Visits of `village` a person must look at: invalid (altered, bad signatures) or
    /// diverged (concurrent corrections).
    pub fn visits_needing_attention(&self, village_code: &str) -> Result<Vec<VisitSummary>> {
        summaries(
            &self.conn,
            "v.village_code = ?1 AND v.status IN ('invalid', 'diverged')",
            &[village_code],
        )
    }
}
