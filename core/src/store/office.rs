//! The team lead's office view: what needs a person when the team is back in the office —
//! unresolved field conflicts (every value, who wrote it and when), how much of this device's
//! work has not reached the server (a count and the age of the oldest), households the server
//! did not accept (with its reason), and sealed visits still waiting for signatures (and from
//! whom).
//!
//! Everything comes from what the store already keeps: the `has_conflicts` flag of the
//! household index and each flagged document's conflicts, the outbox, the server's verdicts in
//! `household_sync`, and the visit index. The actions are the existing ones:
//! [`Store::resolve_conflict`] and [`Store::rebase_household`].
//!
//! Privacy (domain.md §5): the backlog is a count and one age per device, never a list of who
//! did what when; the only authors and times shown are those recorded on the competing values
//! of a conflict, which the lead needs to pick one.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{Store, VisitSummary};
use crate::error::{Error, FieldError, Result};
use crate::household::FieldConflict;
use crate::signing::certificate::is_village_code;

/// Everything the office view shows, for one village or for every village on this tablet.
#[derive(Debug, Clone, PartialEq)]
pub struct OfficeView {
    /// Households with fields holding concurrent values (resolve with
    /// [`Store::resolve_conflict`]).
    pub conflicts: Vec<HouseholdConflicts>,
    /// This device's changes not yet accepted by the server (the whole device, whatever the
    /// village filter: a sync pushes them all).
    pub backlog: DeviceBacklog,
    /// Households the server rejected, held or flagged (rebase the rejected ones with
    /// [`Store::rebase_household`]).
    pub not_accepted: Vec<NotAcceptedHousehold>,
    /// Sealed visits whose latest revision still misses signatures; `missing_signers` says
    /// from whom.
    pub awaiting_signatures: Vec<VisitSummary>,
}

/// One household's unresolved conflicts.
#[derive(Debug, Clone, PartialEq)]
pub struct HouseholdConflicts {
    pub household_id: String,
    pub village_code: String,
    pub head_name: String,
    /// Each field with every competing value, its author (worker id) and device time.
    pub conflicts: Vec<FieldConflict>,
}

/// How much of this device's work is still waiting for the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceBacklog {
    /// The worker this store writes as.
    pub worker_id: String,
    /// Local changes not accepted yet.
    pub unsynced_changes: u64,
    /// Households with at least one of them.
    pub households: u64,
    /// Device time (Unix seconds) the oldest of them was written.
    pub oldest_unsynced_at: Option<i64>,
    /// Its age at the time the view was made (0 if the device clock went back).
    pub oldest_age_seconds: Option<i64>,
}

/// A household the server did not simply accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotAcceptedHousehold {
    pub household_id: String,
    pub village_code: String,
    pub head_name: String,
    /// `rejected` (rebase it), `held` (retried by the next sync) or `flagged` (accepted; the
    /// county checks it).
    pub kind: String,
    /// The server's stable code, e.g. `sync.out_of_scope`.
    pub code: String,
    /// The server's reason.
    pub detail: String,
    /// When this tablet recorded the verdict (Unix seconds).
    pub since: i64,
    /// This device's changes of the household still waiting (kept until rebased or accepted).
    pub unsynced_changes: u64,
    /// Whether [`Store::rebase_household`] applies (rejected households only).
    pub can_rebase: bool,
}

/// Checks an optional village filter given by the app.
fn check_village(village_code: Option<&str>) -> Result<()> {
    match village_code {
        Some(code) if !is_village_code(code) => Err(Error::invalid(
            FieldError::new("village_code", "code.format", "must be 12 digits").with("length", 12),
        )),
        _ => Ok(()),
    }
}

impl Store {
    /// The office view of `village_code` (`None`: every village on this tablet), with ages
    /// counted up to `now`.
    pub fn office_view(
        &mut self,
        village_code: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<OfficeView> {
        check_village(village_code)?;
        Ok(OfficeView {
            conflicts: self.households_in_conflict(village_code)?,
            backlog: self.device_backlog(now)?,
            not_accepted: self.not_accepted(village_code)?,
            awaiting_signatures: match village_code {
                Some(village) => self.visits_incomplete(village)?,
                None => self.visits_incomplete_everywhere()?,
            },
        })
    }

    /// Households of `village_code` (or all) with unresolved conflicts, each with every
    /// competing value, who wrote it and when.
    pub fn households_in_conflict(
        &mut self,
        village_code: Option<&str>,
    ) -> Result<Vec<HouseholdConflicts>> {
        check_village(village_code)?;
        let flagged: Vec<(String, String, String)> = self
            .conn
            .prepare(
                "SELECT id, village_code, head_name FROM households
                 WHERE has_conflicts = 1 AND (?1 IS NULL OR village_code = ?1)
                 ORDER BY village_code, head_name, id",
            )?
            .query_map(params![village_code], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut out = Vec::with_capacity(flagged.len());
        for (household_id, village_code, head_name) in flagged {
            let conflicts = self.load(&household_id)?.doc.conflicts()?;
            if !conflicts.is_empty() {
                out.push(HouseholdConflicts {
                    household_id,
                    village_code,
                    head_name,
                    conflicts,
                });
            }
        }
        Ok(out)
    }

    /// This device's unsynced changes: how many, in how many households, and the age of the
    /// oldest at `now`.
    pub fn device_backlog(&self, now: DateTime<Utc>) -> Result<DeviceBacklog> {
        let (changes, households, oldest): (i64, i64, Option<i64>) = self.conn.query_row(
            "SELECT count(*), count(DISTINCT household_id), min(created_at) FROM outbox",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        Ok(DeviceBacklog {
            worker_id: self.config.worker_id.clone(),
            unsynced_changes: changes.max(0) as u64,
            households: households.max(0) as u64,
            oldest_unsynced_at: oldest,
            oldest_age_seconds: oldest.map(|t| (now.timestamp() - t).max(0)),
        })
    }

    /// Households of `village_code` (or all) the server rejected, held or flagged, with its
    /// reason, oldest verdict first.
    pub fn not_accepted(&self, village_code: Option<&str>) -> Result<Vec<NotAcceptedHousehold>> {
        check_village(village_code)?;
        let mut stmt = self.conn.prepare(
            "SELECT s.household_id, coalesce(h.village_code, ''), coalesce(h.head_name, ''),
                    s.kind, s.code, s.detail, s.updated_at,
                    (SELECT count(*) FROM outbox o WHERE o.household_id = s.household_id)
             FROM household_sync s LEFT JOIN households h ON h.id = s.household_id
             WHERE ?1 IS NULL OR h.village_code = ?1
             ORDER BY s.updated_at, s.household_id",
        )?;
        let rows = stmt.query_map(params![village_code], |r| {
            let kind: String = r.get(3)?;
            Ok(NotAcceptedHousehold {
                household_id: r.get(0)?,
                village_code: r.get(1)?,
                head_name: r.get(2)?,
                can_rebase: kind == "rejected",
                kind,
                code: r.get(4)?,
                detail: r.get(5)?,
                since: r.get(6)?,
                unsynced_changes: r.get::<_, i64>(7)?.max(0) as u64,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
