//! What each stage owes and by when, and the list of what is due and overdue.
//!
//! | stage | duty | opens | due (local date) |
//! |---|---|---|---|
//! | applied | accept (only if the policy sets a limit) | application day | + `acceptance_working_days` |
//! | accepted | start the investigation | acceptance day | + `investigation_start_working_days` (3) |
//! | accepted … county review | decide the application | acceptance day | + `total_working_days` (30; 45 if special) |
//! | publicity | close publicity and pass the case on | day after the last publicity day | the total deadline |
//! | county review | county decision | day the county received it | + `county_decision_working_days` (10) |
//! | receiving | periodic review | `review_notice_days` before the review date | the review date |
//! | gradual exit | review before the period ends | `gradual_exit_review_months` before the end | the day before the end |
//!
//! A duty is listed once its opening day has come; it is overdue from 00:00 local on the
//! day after its due date.

use chrono::{DateTime, Days, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::error::CaseError;
use super::state::{Case, CaseStage};
use super::CaseContext;

/// What has to be done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DutyKind {
    Accept,
    StartInvestigation,
    DecideApplication,
    ClosePublicity,
    CountyDecision,
    PeriodicReview,
    GradualExitReview,
}

/// One duty of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Duty {
    pub kind: DutyKind,
    /// From this local day the duty is listed.
    pub opens_on: NaiveDate,
    /// The last local day to do it.
    pub due_on: NaiveDate,
}

/// Due (in time) or overdue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DueStatus {
    Due,
    Overdue,
}

/// One line of the due list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueItem {
    pub household_id: String,
    pub stage: CaseStage,
    pub duty: Duty,
    pub status: DueStatus,
}

/// What is due and overdue, and the cases whose duties could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DueList {
    /// Overdue first, then by due date.
    pub items: Vec<DueItem>,
    /// `(household id, why)`, e.g. the calendar lacks a year.
    pub problems: Vec<(String, CaseError)>,
}

fn out_of_range() -> CaseError {
    CaseError::InvalidField {
        field: "at",
        reason: "date out of range",
    }
}

impl Case {
    /// The limit in working days from acceptance to decision (normal or special).
    pub fn total_limit(&self, ctx: &CaseContext<'_>) -> u32 {
        if self.special {
            ctx.policy.total_working_days_special
        } else {
            ctx.policy.total_working_days
        }
    }

    /// Working days used from acceptance to the decision (or to `today` while undecided);
    /// `None` before acceptance.
    pub fn working_days_used(
        &self,
        today: NaiveDate,
        ctx: &CaseContext<'_>,
    ) -> Result<Option<u32>, CaseError> {
        let Some(accepted) = self.accepted_on else {
            return Ok(None);
        };
        let end = self.decided_on.unwrap_or(today);
        Ok(Some(ctx.calendar.working_days_between(accepted, end)?))
    }

    /// The open duties of the case in its current stage.
    pub fn duties(&self, ctx: &CaseContext<'_>) -> Result<Vec<Duty>, CaseError> {
        let cal = ctx.calendar;
        let p = ctx.policy;
        let mut duties = Vec::new();
        let mut push = |kind, opens_on, due_on| {
            duties.push(Duty {
                kind,
                opens_on,
                due_on,
            })
        };
        if self.stage == CaseStage::Applied {
            if let Some(days) = p.acceptance_working_days {
                push(
                    DutyKind::Accept,
                    self.applied_on,
                    cal.add_working_days(self.applied_on, days)?,
                );
            }
        }
        let total_due = match self.accepted_on {
            Some(accepted) if self.stage.is_before_decision() => {
                let due = cal.add_working_days(accepted, self.total_limit(ctx))?;
                if self.stage == CaseStage::Accepted {
                    let start =
                        cal.add_working_days(accepted, p.investigation_start_working_days)?;
                    push(DutyKind::StartInvestigation, accepted, start);
                }
                push(DutyKind::DecideApplication, accepted, due);
                Some(due)
            }
            _ => None,
        };
        match self.stage {
            CaseStage::Publicity => {
                if let (Some(last), Some(due)) = (self.publicity_last_day(ctx)?, total_due) {
                    push(
                        DutyKind::ClosePublicity,
                        last.succ_opt().ok_or_else(out_of_range)?,
                        due,
                    );
                }
            }
            CaseStage::CountyReview => {
                if let Some(received) = self.county_received_on {
                    let due = cal.add_working_days(received, p.county_decision_working_days)?;
                    push(DutyKind::CountyDecision, received, due);
                }
            }
            CaseStage::Receiving => {
                if let Some(review) = self.next_review {
                    let opens = review
                        .checked_sub_days(Days::new(u64::from(p.review_notice_days)))
                        .ok_or_else(out_of_range)?;
                    push(DutyKind::PeriodicReview, opens, review);
                }
            }
            CaseStage::GradualExit => {
                if let Some(period) = self.gradual_exit {
                    let opens = period
                        .ends_on
                        .checked_sub_months(Months::new(p.gradual_exit_review_months))
                        .ok_or_else(out_of_range)?;
                    let due = period.ends_on.pred_opt().ok_or_else(out_of_range)?;
                    push(
                        DutyKind::GradualExitReview,
                        opens.max(period.started_on),
                        due,
                    );
                }
            }
            _ => {}
        }
        Ok(duties)
    }
}

/// What is due and overdue at `now` for a set of cases `(household id, case)`. Pure: the
/// same cases, instant and rules give the same list.
pub fn due_and_overdue<'a>(
    cases: impl IntoIterator<Item = (&'a str, &'a Case)>,
    now: DateTime<Utc>,
    ctx: &CaseContext<'_>,
) -> DueList {
    let today = ctx.clock.local_date(now);
    let mut list = DueList::default();
    for (household_id, case) in cases {
        match case.duties(ctx) {
            Ok(duties) => list.items.extend(
                duties
                    .into_iter()
                    .filter(|d| d.opens_on <= today)
                    .map(|duty| DueItem {
                        household_id: household_id.to_owned(),
                        stage: case.stage,
                        duty,
                        status: if ctx.clock.is_past(duty.due_on, now) {
                            DueStatus::Overdue
                        } else {
                            DueStatus::Due
                        },
                    }),
            ),
            Err(e) => list.problems.push((household_id.to_owned(), e)),
        }
    }
    list.items.sort_by(|a, b| {
        (
            a.status != DueStatus::Overdue,
            a.duty.due_on,
            &a.household_id,
        )
            .cmp(&(
                b.status != DueStatus::Overdue,
                b.duty.due_on,
                &b.household_id,
            ))
    });
    list
}
