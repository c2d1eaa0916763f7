//! The case's state machine: stages, the case as a fold over its events, and the checked
//! transition for each event.
//!
//! ```text
//! apply ─► Applied ─accept─► Accepted ─start_investigation─► Investigation
//!   Investigation ─complete_investigation─► TownshipReview
//!   TownshipReview ─township_opinion(eligible)─► Publicity ─end_publicity─► CountyReview
//!   TownshipReview ─township_opinion(not eligible)─► CountyReview
//!   Publicity ─objection(reinvestigation)─► Investigation
//!   Publicity ─objection(democratic_appraisal)─► DemocraticAppraisal ─record_appraisal─► TownshipReview
//!   CountyReview ─county_decision(approved)─► Receiving   (not approved: Rejected)
//!   Receiving ─review─► Receiving        Receiving ─start_gradual_exit─► GradualExit
//!   GradualExit ─review─► Receiving      Receiving | GradualExit ─exit─► Exited
//!   any stage before the decision ─withdraw─► Withdrawn
//! ```
//!
//! `supply_materials` and `mark_special` keep the stage (before the decision only).

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::error::CaseError;
use super::event::{
    CaseEvent, ExitCause, ObjectionResolution, Proposal, RecordedEvent, MAX_MATERIALS,
    MAX_MONTHLY_FEN, MAX_TEXT_CHARS,
};
use super::CaseContext;
use crate::household::Program;

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStage {
    /// Application received (申请).
    Applied,
    /// Accepted (受理); the investigation must start.
    Accepted,
    /// Investigation: home visit and scoring (入户调查, 综合测评).
    Investigation,
    /// Waiting for the township's opinion (乡镇审核).
    TownshipReview,
    /// Publicity in the village (公示).
    Publicity,
    /// An objection went to a democratic appraisal (民主评议).
    DemocraticAppraisal,
    /// Waiting for the county's decision (县级审批).
    CountyReview,
    /// Receiving the benefit; periodic reviews due.
    Receiving,
    /// In the gradual-exit period (渐退期).
    GradualExit,
    /// The county did not approve (closed).
    Rejected,
    /// The applicant withdrew (closed).
    Withdrawn,
    /// Left the programme (closed).
    Exited,
}

impl CaseStage {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStage::Applied => "applied",
            CaseStage::Accepted => "accepted",
            CaseStage::Investigation => "investigation",
            CaseStage::TownshipReview => "township_review",
            CaseStage::Publicity => "publicity",
            CaseStage::DemocraticAppraisal => "democratic_appraisal",
            CaseStage::CountyReview => "county_review",
            CaseStage::Receiving => "receiving",
            CaseStage::GradualExit => "gradual_exit",
            CaseStage::Rejected => "rejected",
            CaseStage::Withdrawn => "withdrawn",
            CaseStage::Exited => "exited",
        }
    }

    /// Whether the county has not decided yet (the application is in progress).
    pub fn is_before_decision(self) -> bool {
        matches!(
            self,
            CaseStage::Applied
                | CaseStage::Accepted
                | CaseStage::Investigation
                | CaseStage::TownshipReview
                | CaseStage::Publicity
                | CaseStage::DemocraticAppraisal
                | CaseStage::CountyReview
        )
    }

    /// Whether the case is closed.
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            CaseStage::Rejected | CaseStage::Withdrawn | CaseStage::Exited
        )
    }
}

/// One applied event: what it moved the case from and to, who recorded it and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub event_id: String,
    pub kind: &'static str,
    /// `None` for the application that opened the case.
    pub from: Option<CaseStage>,
    pub to: CaseStage,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// A gradual-exit period: the benefit continues until `ends_on` (exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GradualExitPeriod {
    pub cause: ExitCause,
    pub started_on: NaiveDate,
    pub ends_on: NaiveDate,
}

/// A case as its events made it. Dates are local dates in the county's time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub stage: CaseStage,
    pub program: Program,
    pub applied_on: NaiveDate,
    pub accepted_on: Option<NaiveDate>,
    /// Materials still missing (listed at acceptance, removed as handed in).
    pub missing_materials: Vec<String>,
    /// Marked special: the total limit is the special one.
    pub special: bool,
    /// When the current stage was entered.
    pub stage_since: DateTime<Utc>,
    /// The day publicity was posted (the latest round).
    pub publicity_posted_on: Option<NaiveDate>,
    /// The day the county received the case (the decision's clock starts).
    pub county_received_on: Option<NaiveDate>,
    /// The township's proposal (shown in publicity).
    pub proposal: Option<Proposal>,
    pub decided_on: Option<NaiveDate>,
    /// The benefit being paid (approved, or as changed by a review).
    pub benefit: Option<Proposal>,
    /// First day of the first month paid.
    pub benefit_start: Option<NaiveDate>,
    pub income_stable: bool,
    /// Date of the next periodic review.
    pub next_review: Option<NaiveDate>,
    pub gradual_exit: Option<GradualExitPeriod>,
    pub exit: Option<(ExitCause, NaiveDate)>,
    /// Every applied event, in order.
    pub history: Vec<Transition>,
}

fn check_text(field: &'static str, text: &str, required: bool) -> Result<(), CaseError> {
    if required && text.trim().is_empty() {
        return Err(CaseError::InvalidField {
            field,
            reason: "must not be empty",
        });
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(CaseError::InvalidField {
            field,
            reason: "too long",
        });
    }
    Ok(())
}

fn check_items(field: &'static str, items: &[String]) -> Result<(), CaseError> {
    if items.len() > MAX_MATERIALS {
        return Err(CaseError::InvalidField {
            field,
            reason: "too many items",
        });
    }
    items.iter().try_for_each(|i| check_text(field, i, true))
}

fn check_proposal(field: &'static str, p: Option<&Proposal>) -> Result<Proposal, CaseError> {
    let p = p.ok_or(CaseError::InvalidField {
        field,
        reason: "required",
    })?;
    let bad = |reason| Err(CaseError::InvalidField { field, reason });
    if !(0..=MAX_MONTHLY_FEN).contains(&p.monthly_fen) {
        return bad("monthly amount out of range");
    }
    if !(1..=100).contains(&p.household_size) {
        return bad("household size out of range");
    }
    if p.class.is_some_and(|c| !(1..=4).contains(&c)) {
        return bad("class must be 1 to 4");
    }
    Ok(p.clone())
}

fn first_of_month(date: NaiveDate) -> Option<NaiveDate> {
    date.with_day(1)
}

fn add_months(date: NaiveDate, months: u32) -> Result<NaiveDate, CaseError> {
    date.checked_add_months(Months::new(months))
        .ok_or(CaseError::InvalidField {
            field: "at",
            reason: "date out of range",
        })
}

impl Case {
    /// Opens a case with an application.
    pub fn open(recorded: &RecordedEvent, ctx: &CaseContext<'_>) -> Result<Case, CaseError> {
        let CaseEvent::Apply { program } = &recorded.event else {
            return Err(CaseError::NoCase {
                event: recorded.event.kind(),
            });
        };
        if *program == Program::None {
            return Err(CaseError::InvalidField {
                field: "program",
                reason: "an application names a programme",
            });
        }
        Ok(Case {
            stage: CaseStage::Applied,
            program: *program,
            applied_on: ctx.clock.local_date(recorded.at),
            accepted_on: None,
            missing_materials: Vec::new(),
            special: false,
            stage_since: recorded.at,
            publicity_posted_on: None,
            county_received_on: None,
            proposal: None,
            decided_on: None,
            benefit: None,
            benefit_start: None,
            income_stable: true,
            next_review: None,
            gradual_exit: None,
            exit: None,
            history: vec![Transition {
                event_id: recorded.id.clone(),
                kind: recorded.event.kind(),
                from: None,
                to: CaseStage::Applied,
                by: recorded.by.clone(),
                at: recorded.at,
            }],
        })
    }

    /// When the latest event happened.
    pub fn latest_at(&self) -> DateTime<Utc> {
        self.history.last().map_or(self.stage_since, |t| t.at)
    }

    /// Applies an event; on error the case is unchanged.
    pub fn apply(
        &mut self,
        recorded: &RecordedEvent,
        ctx: &CaseContext<'_>,
    ) -> Result<(), CaseError> {
        if recorded.at < self.latest_at() {
            return Err(CaseError::BeforeLatest {
                at: recorded.at,
                latest: self.latest_at(),
            });
        }
        let mut next = self.clone();
        let from = self.stage;
        let to = next.transition(recorded, ctx)?;
        if to != from {
            next.stage_since = recorded.at;
        }
        next.stage = to;
        next.history.push(Transition {
            event_id: recorded.id.clone(),
            kind: recorded.event.kind(),
            from: Some(from),
            to,
            by: recorded.by.clone(),
            at: recorded.at,
        });
        *self = next;
        Ok(())
    }

    /// The last day of the current publicity (counting from the day after posting).
    pub fn publicity_last_day(
        &self,
        ctx: &CaseContext<'_>,
    ) -> Result<Option<NaiveDate>, CaseError> {
        let Some(posted) = self.publicity_posted_on else {
            return Ok(None);
        };
        let days = ctx.policy.publicity_days;
        let last = if ctx.policy.publicity_in_working_days {
            ctx.calendar.add_working_days(posted, days)?
        } else {
            posted
                .checked_add_days(chrono::Days::new(u64::from(days)))
                .ok_or(CaseError::InvalidField {
                    field: "at",
                    reason: "date out of range",
                })?
        };
        Ok(Some(last))
    }

    fn review_months(&self, ctx: &CaseContext<'_>) -> u32 {
        if self.income_stable {
            ctx.policy.review_months_stable
        } else {
            ctx.policy.review_months_unstable
        }
    }

    /// Checks the event against the stage, updates the case's fields, returns the new stage.
    fn transition(
        &mut self,
        recorded: &RecordedEvent,
        ctx: &CaseContext<'_>,
    ) -> Result<CaseStage, CaseError> {
        use CaseStage as S;
        let today = ctx.clock.local_date(recorded.at);
        let stage = self.stage;
        let not_allowed = CaseError::NotAllowed {
            stage,
            event: recorded.event.kind(),
        };
        match (&recorded.event, stage) {
            (CaseEvent::Apply { .. }, _) => Err(CaseError::AlreadyOpen),
            (CaseEvent::Accept { missing_materials }, S::Applied) => {
                check_items("missing_materials", missing_materials)?;
                self.accepted_on = Some(today);
                self.missing_materials = missing_materials.clone();
                Ok(S::Accepted)
            }
            (CaseEvent::SupplyMaterials { items }, s) if s.is_before_decision() => {
                check_items("items", items)?;
                self.missing_materials.retain(|m| !items.contains(m));
                Ok(s)
            }
            (CaseEvent::MarkSpecial { reason }, s) if s.is_before_decision() => {
                check_text("reason", reason, true)?;
                self.special = true;
                Ok(s)
            }
            (CaseEvent::StartInvestigation, S::Accepted) => Ok(S::Investigation),
            (CaseEvent::CompleteInvestigation { visit_id }, S::Investigation) => {
                check_text("visit_id", visit_id.as_deref().unwrap_or_default(), false)?;
                Ok(S::TownshipReview)
            }
            (
                CaseEvent::TownshipOpinion {
                    eligible,
                    proposal,
                    reason,
                },
                S::TownshipReview,
            ) => {
                check_text("reason", reason, !eligible)?;
                if *eligible {
                    self.proposal = Some(check_proposal("proposal", proposal.as_ref())?);
                    self.publicity_posted_on = Some(today);
                    Ok(S::Publicity)
                } else {
                    self.proposal = None;
                    self.county_received_on = Some(today);
                    Ok(S::CountyReview)
                }
            }
            (CaseEvent::Objection { note, resolution }, S::Publicity) => {
                check_text("note", note, true)?;
                Ok(match resolution {
                    ObjectionResolution::Reinvestigation => S::Investigation,
                    ObjectionResolution::DemocraticAppraisal => S::DemocraticAppraisal,
                })
            }
            (CaseEvent::RecordAppraisal { note }, S::DemocraticAppraisal) => {
                check_text("note", note, true)?;
                Ok(S::TownshipReview)
            }
            (CaseEvent::EndPublicity, S::Publicity) => {
                if let Some(last_day) = self.publicity_last_day(ctx)? {
                    if today <= last_day {
                        return Err(CaseError::PublicityNotOver { last_day });
                    }
                }
                self.county_received_on = Some(today);
                Ok(S::CountyReview)
            }
            (
                CaseEvent::CountyDecision {
                    approved,
                    benefit,
                    income_stable,
                    reason,
                },
                S::CountyReview,
            ) => {
                check_text("reason", reason, !approved)?;
                self.decided_on = Some(today);
                if !approved {
                    return Ok(S::Rejected);
                }
                self.benefit = Some(check_proposal("benefit", benefit.as_ref())?);
                self.income_stable = *income_stable;
                let start = add_months(today, ctx.policy.benefit_start_months_after_decision)?;
                let start = first_of_month(start).ok_or(CaseError::InvalidField {
                    field: "at",
                    reason: "date out of range",
                })?;
                self.benefit_start = Some(start);
                self.next_review = Some(add_months(start, self.review_months(ctx))?);
                Ok(S::Receiving)
            }
            (
                CaseEvent::Review {
                    income_stable,
                    benefit,
                },
                S::Receiving | S::GradualExit,
            ) => {
                if benefit.is_some() {
                    self.benefit = Some(check_proposal("benefit", benefit.as_ref())?);
                }
                self.income_stable = *income_stable;
                self.gradual_exit = None;
                self.next_review = Some(add_months(today, self.review_months(ctx))?);
                Ok(S::Receiving)
            }
            (CaseEvent::StartGradualExit { cause, months }, S::Receiving) => {
                let p = ctx.policy;
                let (min, max) = match cause {
                    ExitCause::Employment => (1, p.gradual_exit_employment_max_months),
                    ExitCause::IndustrySupport => (
                        p.gradual_exit_industry_min_months,
                        p.gradual_exit_industry_max_months,
                    ),
                    other => return Err(CaseError::NoGradualExit { cause: *other }),
                };
                if *months < min || *months > max {
                    return Err(CaseError::GradualExitLength {
                        cause: *cause,
                        months: *months,
                        min,
                        max,
                    });
                }
                self.gradual_exit = Some(GradualExitPeriod {
                    cause: *cause,
                    started_on: today,
                    ends_on: add_months(today, *months)?,
                });
                self.next_review = None;
                Ok(S::GradualExit)
            }
            (CaseEvent::Exit { cause }, S::Receiving | S::GradualExit) => {
                self.exit = Some((*cause, today));
                self.next_review = None;
                Ok(S::Exited)
            }
            (CaseEvent::Withdraw { reason }, s) if s.is_before_decision() => {
                check_text("reason", reason, false)?;
                Ok(S::Withdrawn)
            }
            _ => Err(not_allowed),
        }
    }
}
