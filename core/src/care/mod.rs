//! Dispersed care of extreme-poverty persons (分散供养特困人员): who looks after them, what
//! must be done how often, what was done, what is wrong and whether it was put right.
//!
//! - [`event`]: what is recorded — enrolment, self-care assessments (six activities → level
//!   by the national rule), care agreements, the care plan and its log, the problem ledger
//!   (问题台账, closed only with a rectification record), leader assignments and visits
//!   (包户包人).
//! - [`frequency`] and [`status`]: calendar-aligned periods in the county's local date and the
//!   rule for done / due / due soon / overdue on any date.
//! - [`policy`]: the default plan ("四个一"), due-soon and expiry windows and the leader-visit
//!   frequency as configuration ([`CarePolicy`], in the signed county configuration).
//! - [`record`]: a person's record folded from the log, with events the merged log does not
//!   allow set aside; [`document`]: the log inside the household's Automerge document;
//!   [`integrity`]: the append-only import rule.
//! - [`lists`]: the lines of the store's care lists (overdue tasks, open problems, overdue
//!   leader visits, expiring agreements).
//!
//! Rules and formats: `docs/care.md`.

mod checks;
pub mod document;
pub mod error;
pub mod event;
pub mod frequency;
pub mod integrity;
pub mod lists;
mod photos;
pub mod policy;
pub mod record;
pub mod status;
#[cfg(test)]
mod tests;

pub use document::{read_care_log, CareLog, CARE_KEY};
pub use error::CareError;
pub use event::{
    CareAgreement, CareEvent, CareTaskDefinition, CaregiverKind, ProblemArea, Rectification,
    SelfCareActivities,
};
pub use frequency::{Frequency, Period};
pub use lists::{CareTaskDue, ExpiringAgreement, LeaderVisitDue, OpenCareProblem};
pub use policy::CarePolicy;
pub use record::{
    AgreementRecord, AgreementStatus, Assessment, CareProblem, CareRecord, CareSpan,
    LeaderAssignment, LeaderVisit, LogEntry, PlannedTask, ProblemChange, ProblemStep,
    RecordedCareEvent, SetAside, TaskStatus,
};
pub use status::{DueState, PeriodStatus, Schedule};

use crate::error::{Error, FieldError, Result};
use crate::standards::{Amount, SelfCareLevel, Standards};

/// A new random id (128 bits, hex) for a problem or any other care record the caller names.
pub fn new_id() -> Result<String> {
    crate::store::random_hex(16)
}

/// The nursing (care) subsidy of a self-care level in a county and year, from the published
/// standards (the county's own entry, else its city's or province's).
pub fn nursing_subsidy(
    standards: &Standards,
    county_code: &str,
    year: i32,
    level: SelfCareLevel,
) -> Result<Amount> {
    let region = standards.find(county_code, year)?;
    let subsidy = region.care_subsidy.ok_or_else(|| {
        Error::invalid(
            FieldError::new(
                "care_subsidy",
                "standards.missing",
                "not published for this year",
            )
            .with("region", &region.region_code)
            .with("year", year),
        )
    })?;
    Ok(subsidy.for_level(level))
}
