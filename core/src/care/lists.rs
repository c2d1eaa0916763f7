//! The lines of the care lists the tablet and the team lead see: tasks due and overdue,
//! open problems, leader visits overdue and agreements expiring — answered by the store
//! from its index tables (`Store::overdue_care_tasks` and the others).

use chrono::{DateTime, NaiveDate, Utc};

use super::event::ProblemArea;
use super::frequency::Frequency;
use super::status::PeriodStatus;

/// A task of a person in care with its status on the date asked about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CareTaskDue {
    pub household_id: String,
    pub village_code: String,
    /// The person (household member id).
    pub person_id: String,
    /// The person's name, as the household index holds it.
    pub person_name: String,
    pub task_id: String,
    pub label_zh: String,
    pub label_en: String,
    pub frequency: Frequency,
    /// The first day of the planned stretch.
    pub planned_from: NaiveDate,
    pub status: PeriodStatus,
}

/// A problem of the ledger still open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenCareProblem {
    pub household_id: String,
    pub village_code: String,
    pub person_id: String,
    pub person_name: String,
    pub problem_id: String,
    pub area: ProblemArea,
    pub description: String,
    pub opened_at: DateTime<Utc>,
    pub opened_by: String,
    /// Who must put it right, if assigned.
    pub assignee: Option<String>,
    pub due_on: Option<NaiveDate>,
    /// Whether it was closed and opened again.
    pub reopened: bool,
}

/// A person whose township leader's visits are overdue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderVisitDue {
    pub household_id: String,
    pub village_code: String,
    pub person_id: String,
    pub person_name: String,
    pub leader_id: String,
    pub leader_name: String,
    /// The day the current assignment started.
    pub assigned_from: NaiveDate,
    pub status: PeriodStatus,
}

/// A care agreement in force that ends within the warning window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiringAgreement {
    pub household_id: String,
    pub village_code: String,
    pub person_id: String,
    pub person_name: String,
    /// The agreement (its event id).
    pub agreement_id: String,
    pub caregiver_name: String,
    pub valid_until: NaiveDate,
    pub days_left: i64,
}
