//! The team lead's office view and purging, on `TabletStore`.
//!
//! The view lists what needs a person: conflicts (act with `resolve_conflict`), this device's
//! unsynced backlog (act by syncing), households the server did not accept (act with
//! `rebase_household` where `can_rebase`), and visits waiting for signatures (the co-signing
//! calls). Purging removes synced households that left this tablet's villages (ADR 9); it also
//! runs after every successful `sync`.

use ruhu_core::store::{
    DeviceBacklog, HouseholdConflicts, KeptHousehold, NotAcceptedHousehold, OfficeView, PurgeReport,
};

use crate::error::FfiError;
use crate::records::FieldConflictData;
use crate::store::TabletStore;
use crate::visit_records::VisitSummaryData;

/// One household's unresolved conflicts: every competing value, who wrote it and when.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HouseholdConflictsData {
    pub household_id: String,
    pub village_code: String,
    pub head_name: String,
    pub conflicts: Vec<FieldConflictData>,
}

/// This device's changes the server has not accepted yet (a count and one age, never a
/// timeline).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DeviceBacklogData {
    pub worker_id: String,
    pub unsynced_changes: u64,
    /// Households with at least one unsynced change.
    pub households: u64,
    /// Device time the oldest was written, Unix seconds.
    pub oldest_unsynced_unix: Option<i64>,
    pub oldest_age_seconds: Option<i64>,
}

/// A household the server rejected, held or flagged, with its reason.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NotAcceptedHouseholdData {
    pub household_id: String,
    pub village_code: String,
    pub head_name: String,
    /// `rejected`, `held` or `flagged`.
    pub kind: String,
    pub code: String,
    pub detail: String,
    /// When this tablet recorded the verdict, Unix seconds.
    pub since_unix: i64,
    /// This device's changes of the household still waiting.
    pub unsynced_changes: u64,
    /// `rebase_household` applies (rejected households).
    pub can_rebase: bool,
}

/// The office view of one village or of every village on this tablet.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OfficeViewData {
    pub conflicts: Vec<HouseholdConflictsData>,
    /// The whole device, whatever the village filter.
    pub backlog: DeviceBacklogData,
    pub not_accepted: Vec<NotAcceptedHouseholdData>,
    /// Sealed visits missing signatures; `missing_signers` says from whom.
    pub awaiting_signatures: Vec<VisitSummaryData>,
}

/// A household outside this tablet's villages that was kept.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct KeptHouseholdData {
    pub household_id: String,
    pub village_code: String,
    /// `purge.unsynced_changes` (sync first) or `purge.not_accepted` (rebase, or wait).
    pub reason: String,
    pub detail: String,
    pub unsynced_changes: u64,
}

/// What a purge did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PurgeReportData {
    pub purged: Vec<String>,
    pub kept: Vec<KeptHouseholdData>,
    pub archived_changes_removed: u64,
    /// The WAL was checkpointed and truncated to zero bytes.
    pub wal_truncated: bool,
}

impl From<HouseholdConflicts> for HouseholdConflictsData {
    fn from(h: HouseholdConflicts) -> Self {
        Self {
            household_id: h.household_id,
            village_code: h.village_code,
            head_name: h.head_name,
            conflicts: h.conflicts.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<DeviceBacklog> for DeviceBacklogData {
    fn from(b: DeviceBacklog) -> Self {
        Self {
            worker_id: b.worker_id,
            unsynced_changes: b.unsynced_changes,
            households: b.households,
            oldest_unsynced_unix: b.oldest_unsynced_at,
            oldest_age_seconds: b.oldest_age_seconds,
        }
    }
}

impl From<NotAcceptedHousehold> for NotAcceptedHouseholdData {
    fn from(n: NotAcceptedHousehold) -> Self {
        Self {
            household_id: n.household_id,
            village_code: n.village_code,
            head_name: n.head_name,
            kind: n.kind,
            code: n.code,
            detail: n.detail,
            since_unix: n.since,
            unsynced_changes: n.unsynced_changes,
            can_rebase: n.can_rebase,
        }
    }
}

impl From<OfficeView> for OfficeViewData {
    fn from(v: OfficeView) -> Self {
        Self {
            conflicts: v.conflicts.into_iter().map(Into::into).collect(),
            backlog: v.backlog.into(),
            not_accepted: v.not_accepted.into_iter().map(Into::into).collect(),
            awaiting_signatures: v.awaiting_signatures.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<KeptHousehold> for KeptHouseholdData {
    fn from(k: KeptHousehold) -> Self {
        Self {
            household_id: k.household_id,
            village_code: k.village_code,
            reason: k.reason,
            detail: k.detail,
            unsynced_changes: k.unsynced_changes,
        }
    }
}

impl From<PurgeReport> for PurgeReportData {
    fn from(r: PurgeReport) -> Self {
        Self {
            purged: r.purged,
            kept: r.kept.into_iter().map(Into::into).collect(),
            archived_changes_removed: r.archived_changes_removed,
            wal_truncated: r.wal_truncated,
        }
    }
}

#[uniffi::export]
impl TabletStore {
    /// The office view of `village_code` (12 digits), or of every village on this tablet
    /// when `None`.
    pub fn office_view(&self, village_code: Option<String>) -> Result<OfficeViewData, FfiError> {
        Ok(self
            .store()?
            .office_view(village_code.as_deref(), chrono::Utc::now())?
            .into())
    }

    /// Removes the synced households outside the enrolled certificate's villages so nothing
    /// of them can be recovered from the database files; households with unsynced or refused
    /// changes are kept and listed with why.
    pub fn purge_out_of_scope(&self) -> Result<PurgeReportData, FfiError> {
        Ok(self.store()?.purge_out_of_scope()?.into())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::key_store::FixedTestKeys as Keys;

    fn open(dir: &std::path::Path, worker: &str) -> Arc<TabletStore> {
        let path = dir
            .join(format!("{worker}.db"))
            .to_string_lossy()
            .into_owned();
        TabletStore::open(path, "tablet".into(), worker.into(), Arc::new(Keys)).unwrap()
    }

    fn set_address(tablet: &TabletStore, id: &str, address: &str) {
        let view = tablet.household(id.into()).unwrap();
        let mut household = view.household;
        household.address = address.into();
        tablet.update_household(household, view.heads).unwrap();
    }

    #[test]
    fn a_conflict_shows_both_values_and_who_wrote_them_until_resolved() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (open(dir.path(), "w-a"), open(dir.path(), "w-b"));
        let village = ruhu_core::fixtures::village(1);
        let id = a
            .store()
            .unwrap()
            .create_household(ruhu_core::fixtures::household(1, &village, 2))
            .unwrap()
            .id;
        b.import_changes(id.clone(), a.changes_since(id.clone(), vec![]).unwrap())
            .unwrap();
        set_address(&a, &id, "一组 1 号");
        set_address(&b, &id, "二组 2 号");
        a.import_changes(id.clone(), b.changes_since(id.clone(), vec![]).unwrap())
            .unwrap();

        let view = a.office_view(Some(village.clone())).unwrap();
        assert_eq!(view.conflicts.len(), 1);
        assert_eq!(view.conflicts[0].household_id, id);
        let conflict = &view.conflicts[0].conflicts[0];
        assert_eq!(conflict.field, "profile.address");
        let mut values: Vec<(Option<String>, String)> = conflict
            .values
            .iter()
            .map(|v| (v.author.clone(), v.value_json.clone()))
            .collect();
        values.sort();
        assert_eq!(
            values,
            vec![
                (Some("w-a".into()), "\"一组 1 号\"".into()),
                (Some("w-b".into()), "\"二组 2 号\"".into())
            ]
        );
        assert!(conflict.values.iter().all(|v| v.time_unix > 1_700_000_000));
        assert_eq!(view.backlog.worker_id, "w-a");
        assert_eq!(view.backlog.households, 1);
        assert!(view.backlog.unsynced_changes >= 2, "{:?}", view.backlog);
        assert!(view.backlog.oldest_age_seconds.is_some_and(|s| s >= 0));
        assert!(view.not_accepted.is_empty() && view.awaiting_signatures.is_empty());

        a.resolve_conflict(id.clone(), "profile.address".into(), "\"二组 2 号\"".into())
            .unwrap();
        assert!(a.office_view(None).unwrap().conflicts.is_empty());
    }

    #[test]
    fn a_bad_village_and_a_purge_before_enrollment_are_typed_errors() {
        let dir = tempfile::tempdir().unwrap();
        let tablet = open(dir.path(), "w-a");
        match tablet.office_view(Some("6201".into())) {
            Err(FfiError::InvalidInput { problems, .. }) => {
                assert_eq!(problems[0].field, "village_code");
                assert_eq!(problems[0].code, "code.format");
            }
            other => panic!("{other:?}"),
        }
        match tablet.purge_out_of_scope() {
            Err(FfiError::NotPermitted { code, .. }) => assert_eq!(code, "sync.not_enrolled"),
            other => panic!("{other:?}"),
        }
    }
}
