//! Dispersed care on [`TabletStore`]: care events recorded as JSON (as case events are),
//! a person's care record with the status of each task on any date, and the lists for the
//! tablet and the team lead (tasks due and overdue, open problems, overdue leader visits,
//! expiring agreements), read from the store's index. Dates are `YYYY-MM-DD` in the county's
//! time zone; `None` means today there. Rules: `docs/care.md`.

use chrono::{NaiveDate, Utc};
use ruhu_core::care::{
    AgreementStatus, CareEvent, CareProblem, CareRecord, CareTaskDue, ExpiringAgreement,
    LeaderVisitDue, LogEntry, OpenCareProblem, PeriodStatus, TaskStatus,
};

use ruhu_core::standards::SelfCareLevel;

use crate::error::FfiError;
use crate::store::TabletStore;
use crate::visit_records::json;

/// Where a recurring obligation stands on a date.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PeriodStatusData {
    /// `done`, `due`, `due_soon` or `overdue`.
    pub state: String,
    pub period_start: String,
    /// The last day to do it in the current period.
    pub deadline: String,
    pub last_done_on: Option<String>,
    pub overdue_since: Option<String>,
    /// Owed periods that ended without it since it was last done.
    pub missed_periods: u32,
}

/// One task of a person's plan, with its status.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CareTaskStatusData {
    pub task_id: String,
    pub label_zh: String,
    pub label_en: String,
    /// e.g. `week`, `half_month`, `month`, `half_year`, `every_days`.
    pub frequency: String,
    pub planned_from: String,
    pub status: PeriodStatusData,
}

/// One done task in the log.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CareLogEntryData {
    pub event_id: String,
    pub task_id: String,
    pub done_at_unix: i64,
    pub done_on: String,
    pub by: String,
    pub note: String,
    pub photo_hashes_hex: Vec<String>,
}

/// One problem of the ledger (问题台账) with how many steps its history has.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CareProblemData {
    pub problem_id: String,
    /// `food`, `clothing`, `heating`, `water`, `electricity`, `hygiene` or `living_environment`.
    pub area: String,
    pub description: String,
    pub open: bool,
    pub assignee: Option<String>,
    pub due_on: Option<String>,
    pub opened_by: String,
    pub opened_at_unix: i64,
    /// Opened, assigned, rectified, reopened… in order.
    pub history_steps: u32,
}

/// A person's care record as the tablet shows it, with statuses on `on`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CareRecordData {
    pub household_id: String,
    pub person_id: String,
    /// The date the statuses are for.
    pub on: String,
    pub in_care: bool,
    /// `self_care`, `partial_loss` or `complete_loss` by the latest assessment.
    pub self_care_level: Option<String>,
    pub assessments: u32,
    /// `none`, `in_force`, `expiring` or `expired`.
    pub agreement: String,
    pub agreement_until: Option<String>,
    pub tasks: Vec<CareTaskStatusData>,
    pub log: Vec<CareLogEntryData>,
    pub problems: Vec<CareProblemData>,
    pub leader_id: Option<String>,
    pub leader_visits: u32,
    pub leader_visit_status: Option<PeriodStatusData>,
    /// Events the merged log does not allow, with why (`code: reason`).
    pub set_aside: Vec<String>,
}

/// A line of the due and overdue task lists.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CareTaskDueData {
    pub household_id: String,
    pub village_code: String,
    pub person_id: String,
    pub person_name: String,
    pub task_id: String,
    pub label_zh: String,
    pub label_en: String,
    pub frequency: String,
    pub status: PeriodStatusData,
}

/// A line of the open-problems list.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OpenCareProblemData {
    pub household_id: String,
    pub village_code: String,
    pub person_id: String,
    pub person_name: String,
    pub problem_id: String,
    pub area: String,
    pub description: String,
    pub opened_at_unix: i64,
    pub opened_by: String,
    pub assignee: Option<String>,
    pub due_on: Option<String>,
    pub reopened: bool,
}

/// A line of the overdue leader-visit list (包户包人).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LeaderVisitDueData {
    pub household_id: String,
    pub village_code: String,
    pub person_id: String,
    pub person_name: String,
    pub leader_id: String,
    pub leader_name: String,
    pub status: PeriodStatusData,
}

/// A care agreement ending within the county's warning window.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ExpiringAgreementData {
    pub household_id: String,
    pub village_code: String,
    pub person_id: String,
    pub person_name: String,
    pub agreement_id: String,
    pub caregiver_name: String,
    pub valid_until: String,
    pub days_left: i64,
}

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn period(s: &PeriodStatus) -> PeriodStatusData {
    PeriodStatusData {
        state: s.state.as_str().to_owned(),
        period_start: day(s.period_start),
        deadline: day(s.deadline),
        last_done_on: s.last_done_on.map(day),
        overdue_since: s.overdue_since.map(day),
        missed_periods: s.missed_periods,
    }
}

fn task(t: &TaskStatus) -> CareTaskStatusData {
    CareTaskStatusData {
        task_id: t.task.task_id.clone(),
        label_zh: t.task.label_zh.clone(),
        label_en: t.task.label_en.clone(),
        frequency: t.task.frequency.as_str().to_owned(),
        planned_from: day(t.planned_from),
        status: period(&t.status),
    }
}

fn entry(e: &LogEntry) -> CareLogEntryData {
    CareLogEntryData {
        event_id: e.event_id.clone(),
        task_id: e.task_id.clone(),
        done_at_unix: e.done_at.timestamp(),
        done_on: day(e.done_on),
        by: e.by.clone(),
        note: e.note.clone(),
        photo_hashes_hex: e.photos.clone(),
    }
}

fn problem(p: &CareProblem) -> CareProblemData {
    CareProblemData {
        problem_id: p.problem_id.clone(),
        area: p.area.as_str().to_owned(),
        description: p.description.clone(),
        open: p.open,
        assignee: p.assignee.clone(),
        due_on: p.due_on.map(day),
        opened_by: p.opened_by.clone(),
        opened_at_unix: p.opened_at.timestamp(),
        history_steps: u32::try_from(p.history.len()).unwrap_or(u32::MAX),
    }
}

fn level_name(level: SelfCareLevel) -> String {
    match level {
        SelfCareLevel::SelfCare => "self_care",
        SelfCareLevel::PartialLoss => "partial_loss",
        SelfCareLevel::CompleteLoss => "complete_loss",
    }
    .to_owned()
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl TabletStore {
    /// `on`, or today in the county's time zone.
    fn care_day(&self, on: Option<String>) -> Result<NaiveDate, FfiError> {
        match on {
            Some(text) => NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|_| {
                FfiError::invalid(
                    "on",
                    "care.date",
                    format!("{text:?} is not a YYYY-MM-DD date"),
                )
            }),
            None => Ok(self.store()?.county_clock()?.local_date(Utc::now())),
        }
    }

    fn record_data(
        &self,
        household_id: String,
        record: CareRecord,
        on: NaiveDate,
    ) -> Result<CareRecordData, FfiError> {
        let policy = self.store()?.care_policy()?;
        let (agreement, agreement_until) = match record.agreement_status(&policy, on) {
            AgreementStatus::None => ("none", None),
            AgreementStatus::InForce { valid_until } => ("in_force", Some(day(valid_until))),
            AgreementStatus::Expiring { valid_until, .. } => ("expiring", Some(day(valid_until))),
            AgreementStatus::Expired { ended_on } => ("expired", Some(day(ended_on))),
        };
        Ok(CareRecordData {
            household_id,
            person_id: record.person_id.clone(),
            on: day(on),
            in_care: record.in_care_on(on),
            self_care_level: record.level().map(level_name),
            assessments: count(record.assessments.len()),
            agreement: agreement.to_owned(),
            agreement_until,
            tasks: record.task_status(&policy, on).iter().map(task).collect(),
            log: record.log.iter().map(entry).collect(),
            problems: record.problems.iter().map(problem).collect(),
            leader_id: record.leader_on(on).map(|l| l.leader_id.clone()),
            leader_visits: count(record.leader_visits.len()),
            leader_visit_status: record.leader_visit_status(&policy, on).as_ref().map(period),
            set_aside: record
                .set_aside
                .iter()
                .map(|s| format!("{}: {}", s.code, s.reason))
                .collect(),
        })
    }
}

#[uniffi::export]
impl TabletStore {
    /// Records a care event (JSON), e.g. `{"kind": "enrolled", "person_id": "…", "since":
    /// "2026-01-01"}` or `{"kind": "task_done", "person_id": "…", "task_id": "clean",
    /// "done_at": "2026-11-23T02:00:00Z", "note": "…", "photos": []}`, by this tablet's worker.
    /// Refused, nothing written, when invalid or not allowed (a problem closed without a
    /// rectification record, say). Returns the person's record with today's statuses.
    pub fn record_care_event(
        &self,
        household_id: String,
        event_json: String,
    ) -> Result<CareRecordData, FfiError> {
        let event: CareEvent = json("event_json", &event_json)?;
        let record = self.store()?.record_care_event(&household_id, event)?;
        let today = self.care_day(None)?;
        self.record_data(household_id, record, today)
    }

    /// A person's care record with the status of every task on `on` (`None`: today).
    pub fn care_record(
        &self,
        household_id: String,
        person_id: String,
        on: Option<String>,
    ) -> Result<CareRecordData, FfiError> {
        let on = self.care_day(on)?;
        let record = self.store()?.care_record(&household_id, &person_id)?;
        self.record_data(household_id, record, on)
    }

    /// The nursing subsidy of a person in `year`, per year in fen, by their latest
    /// assessment and the county's published standards.
    pub fn nursing_subsidy_fen(
        &self,
        household_id: String,
        person_id: String,
        year: i32,
    ) -> Result<i64, FfiError> {
        let amount = self
            .store()?
            .nursing_subsidy(&household_id, &person_id, year)?;
        amount.yearly_fen().ok_or_else(|| {
            FfiError::invalid("year", "standards.amount_range", "amount out of range")
        })
    }

    /// A new id for a problem (or any care record the caller names).
    pub fn new_care_id(&self) -> Result<String, FfiError> {
        Ok(ruhu_core::care::new_id()?)
    }

    /// Tasks not done on `on` (due, due soon, overdue) in a village (`None`: every village of
    /// this tablet).
    pub fn care_tasks_due(
        &self,
        village_code: Option<String>,
        on: Option<String>,
    ) -> Result<Vec<CareTaskDueData>, FfiError> {
        let on = self.care_day(on)?;
        let rows = self.store()?.care_tasks_due(village_code.as_deref(), on)?;
        Ok(rows.iter().map(due_data).collect())
    }

    /// Tasks overdue on `on` in a village (`None`: every village of this tablet).
    pub fn overdue_care_tasks(
        &self,
        village_code: Option<String>,
        on: Option<String>,
    ) -> Result<Vec<CareTaskDueData>, FfiError> {
        let on = self.care_day(on)?;
        let rows = self
            .store()?
            .overdue_care_tasks(village_code.as_deref(), on)?;
        Ok(rows.iter().map(due_data).collect())
    }

    /// Problems of the ledger still open in a village (`None`: all).
    pub fn open_care_problems(
        &self,
        village_code: Option<String>,
    ) -> Result<Vec<OpenCareProblemData>, FfiError> {
        let rows = self.store()?.open_care_problems(village_code.as_deref())?;
        Ok(rows.into_iter().map(open_problem_data).collect())
    }

    /// People whose township leader's visits are overdue on `on`.
    pub fn overdue_leader_visits(
        &self,
        village_code: Option<String>,
        on: Option<String>,
    ) -> Result<Vec<LeaderVisitDueData>, FfiError> {
        let on = self.care_day(on)?;
        let rows = self
            .store()?
            .overdue_leader_visits(village_code.as_deref(), on)?;
        Ok(rows.into_iter().map(leader_data).collect())
    }

    /// Care agreements ending within the county's warning window after `on`.
    pub fn expiring_care_agreements(
        &self,
        village_code: Option<String>,
        on: Option<String>,
    ) -> Result<Vec<ExpiringAgreementData>, FfiError> {
        let on = self.care_day(on)?;
        let rows = self
            .store()?
            .expiring_care_agreements(village_code.as_deref(), on)?;
        Ok(rows.into_iter().map(agreement_data).collect())
    }
}

fn due_data(r: &CareTaskDue) -> CareTaskDueData {
    CareTaskDueData {
        household_id: r.household_id.clone(),
        village_code: r.village_code.clone(),
        person_id: r.person_id.clone(),
        person_name: r.person_name.clone(),
        task_id: r.task_id.clone(),
        label_zh: r.label_zh.clone(),
        label_en: r.label_en.clone(),
        frequency: r.frequency.as_str().to_owned(),
        status: period(&r.status),
    }
}

fn open_problem_data(r: OpenCareProblem) -> OpenCareProblemData {
    OpenCareProblemData {
        household_id: r.household_id,
        village_code: r.village_code,
        person_id: r.person_id,
        person_name: r.person_name,
        problem_id: r.problem_id,
        area: r.area.as_str().to_owned(),
        description: r.description,
        opened_at_unix: r.opened_at.timestamp(),
        opened_by: r.opened_by,
        assignee: r.assignee,
        due_on: r.due_on.map(day),
        reopened: r.reopened,
    }
}

fn leader_data(r: LeaderVisitDue) -> LeaderVisitDueData {
    LeaderVisitDueData {
        household_id: r.household_id,
        village_code: r.village_code,
        person_id: r.person_id,
        person_name: r.person_name,
        leader_id: r.leader_id,
        leader_name: r.leader_name,
        status: period(&r.status),
    }
}

fn agreement_data(r: ExpiringAgreement) -> ExpiringAgreementData {
    ExpiringAgreementData {
        household_id: r.household_id,
        village_code: r.village_code,
        person_id: r.person_id,
        person_name: r.person_name,
        agreement_id: r.agreement_id,
        caregiver_name: r.caregiver_name,
        valid_until: day(r.valid_until),
        days_left: r.days_left,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::key_store::FixedTestKeys as Keys;

    #[test]
    fn a_bad_date_or_event_is_named_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db").to_string_lossy().into_owned();
        let tablet =
            TabletStore::open(path, "tablet".into(), "w-h".into(), Arc::new(Keys)).unwrap();
        let err = tablet
            .care_tasks_due(None, Some("2026-13-01".into()))
            .unwrap_err();
        let FfiError::InvalidInput { problems, .. } = &err else {
            panic!("expected invalid input, got {err}");
        };
        assert_eq!(
            (problems[0].field.as_str(), problems[0].code.as_str()),
            ("on", "care.date")
        );
        assert!(tablet
            .care_tasks_due(None, Some("2026-11-23".into()))
            .unwrap()
            .is_empty());
        let err = tablet
            .record_care_event("no-such-household".into(), r#"{"kind": "enrolled"}"#.into())
            .unwrap_err();
        assert!(matches!(err, FfiError::InvalidInput { .. }), "{err}");
        assert!(tablet.open_care_problems(None).unwrap().is_empty());
    }
}
