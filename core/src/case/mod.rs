//! The life of a case (低保/特困 审核确认): from application to exit, as a checked state
//! machine over an event log stored in the household document.
//!
//! - [`state`]: stages and transitions; every refused event is a [`CaseError`] naming the
//!   stage and the event; every applied one is a [`state::Transition`] with who and when.
//! - [`deadlines`]: what each stage owes by when, with the working-day calendar, and the
//!   pure [`due_and_overdue`] list.
//! - [`policy`]: the numbers (3, 7, 10, 30/45 working days; 12/6 months; gradual-exit
//!   periods) as configuration with national defaults.
//! - [`document`]: the log inside the household's Automerge document.
//! - [`publicity`]: the village publicity list — head's name, household size, amount only.
//!
//! Rules and formats: `docs/standards-and-calendars.md`.

pub mod deadlines;
pub mod document;
pub mod error;
pub mod event;
pub mod policy;
pub mod publicity;
pub mod state;

use crate::calendar::{CountyClock, WorkingCalendar};

pub use deadlines::{due_and_overdue, DueItem, DueList, DueStatus, Duty, DutyKind};
pub use document::{CaseLog, SetAside, CASE_KEY};
pub use error::CaseError;
pub use event::{CaseEvent, ExitCause, ObjectionResolution, Proposal, RecordedEvent};
pub use policy::CasePolicy;
pub use publicity::{publicity_csv, publicity_entry, PublicityEntry};
pub use state::{Case, CaseStage, GradualExitPeriod, Transition};

/// What case rules are applied with: the county's policy, its working-day calendar and its
/// clock (time zone).
#[derive(Debug, Clone, Copy)]
pub struct CaseContext<'a> {
    pub policy: &'a CasePolicy,
    pub calendar: &'a WorkingCalendar,
    pub clock: CountyClock,
}

impl<'a> CaseContext<'a> {
    /// A context whose policy is checked (errors name the policy field).
    pub fn new(
        policy: &'a CasePolicy,
        calendar: &'a WorkingCalendar,
        clock: CountyClock,
    ) -> crate::Result<Self> {
        let errors = policy.validate();
        if !errors.is_empty() {
            return Err(crate::Error::Invalid(errors));
        }
        Ok(Self {
            policy,
            calendar,
            clock,
        })
    }
}
