//! Why a care event was refused (nothing is written), or set aside when a merged log holds it.

use chrono::NaiveDate;

use crate::error::{Error, FieldError};

/// A refused care event, with a stable [`CareError::code`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CareError {
    /// The event's own fields are invalid (each problem names its field).
    #[error("invalid care event: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// The person is not a member of the household.
    #[error("{person_id} is not a member of the household")]
    UnknownPerson { person_id: String },
    /// The event needs the person to be in care (enrolled and not left).
    #[error("{event} needs the person to be in care on {on}")]
    NotInCare { event: &'static str, on: NaiveDate },
    /// The person is already in care.
    #[error("the person is already in care (since {since})")]
    AlreadyEnrolled { since: NaiveDate },
    /// The task is already planned.
    #[error("task {task_id} is already planned")]
    TaskAlreadyPlanned { task_id: String },
    /// The task is not planned (on that day, when recorded; at all, when merged).
    #[error("task {task_id} is not planned for the person")]
    TaskNotPlanned { task_id: String },
    /// A problem with this id exists already.
    #[error("problem {problem_id} exists already")]
    ProblemExists { problem_id: String },
    /// No problem with this id.
    #[error("problem {problem_id} is not in the ledger")]
    UnknownProblem { problem_id: String },
    /// The problem is closed (rectified): reopen it first.
    #[error("problem {problem_id} is closed; reopen it first")]
    ProblemClosed { problem_id: String },
    /// The problem is open: only a closed problem can be reopened.
    #[error("problem {problem_id} is open")]
    ProblemOpen { problem_id: String },
    /// A date is out of order (before the start of what it ends, or in the future).
    #[error("{field}: {reason}")]
    DateOrder {
        field: &'static str,
        reason: &'static str,
    },
}

impl CareError {
    /// Stable code for localized messages.
    pub fn code(&self) -> &'static str {
        match self {
            CareError::Invalid(_) => "care.invalid_event",
            CareError::UnknownPerson { .. } => "care.unknown_person",
            CareError::NotInCare { .. } => "care.not_in_care",
            CareError::AlreadyEnrolled { .. } => "care.already_enrolled",
            CareError::TaskAlreadyPlanned { .. } => "care.task_already_planned",
            CareError::TaskNotPlanned { .. } => "care.task_not_planned",
            CareError::ProblemExists { .. } => "care.problem_exists",
            CareError::UnknownProblem { .. } => "care.unknown_problem",
            CareError::ProblemClosed { .. } => "care.problem_closed",
            CareError::ProblemOpen { .. } => "care.problem_open",
            CareError::DateOrder { .. } => "care.date_order",
        }
    }

    /// The field errors of the refusal.
    pub fn field_errors(&self) -> Vec<FieldError> {
        let message = self.to_string();
        let base = |field: &str| FieldError::new(field, self.code(), message.clone());
        match self {
            CareError::Invalid(errors) => errors.clone(),
            CareError::UnknownPerson { person_id } => {
                vec![base("person_id").with("person_id", person_id)]
            }
            CareError::NotInCare { event, on } => {
                vec![base("person_id").with("event", event).with("on", on)]
            }
            CareError::AlreadyEnrolled { since } => vec![base("since").with("since", since)],
            CareError::TaskAlreadyPlanned { task_id } | CareError::TaskNotPlanned { task_id } => {
                vec![base("task_id").with("task_id", task_id)]
            }
            CareError::ProblemExists { problem_id }
            | CareError::UnknownProblem { problem_id }
            | CareError::ProblemClosed { problem_id }
            | CareError::ProblemOpen { problem_id } => {
                vec![base("problem_id").with("problem_id", problem_id)]
            }
            CareError::DateOrder { field, .. } => vec![base(field)],
        }
    }
}

impl From<CareError> for Error {
    fn from(e: CareError) -> Self {
        Error::Invalid(e.field_errors())
    }
}
