//! A person's care record as the household's care log makes it: periods in care,
//! assessments, agreements, the plan, the task log, the problem ledger, the leader and the
//! leader's visits.
//!
//! The log is folded in a fixed order (`seq`, then time, then event id — the same on every
//! tablet once they hold the same events): first every event except logged work (task done,
//! leader visited), then the logged work. An event the record does not allow at its place in
//! the order (two tablets both enrolled the person; a rectification of a problem another
//! tablet already closed; a task done for a task never planned) is **set aside**: kept in the
//! document, listed with why, never applied.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::error::CareError;
use super::event::{
    CareAgreement, CareEvent, CareTaskDefinition, ProblemArea, Rectification, SelfCareActivities,
};
use super::policy::CarePolicy;
use super::status::{PeriodStatus, Schedule};
use crate::calendar::CountyClock;
use crate::standards::SelfCareLevel;

/// An event as recorded: its id, who recorded it and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedCareEvent {
    /// Unique id of the entry in the household document (random, 128-bit hex).
    pub id: String,
    /// Worker id of whoever recorded it.
    pub by: String,
    /// When it was recorded (device time).
    pub at: DateTime<Utc>,
    pub event: CareEvent,
}

/// An event the merged log does not allow, kept but not applied (as a case's are), with a
/// `care.*` code such as `care.problem_closed` or `care.unreadable_event`.
pub use crate::case::SetAside;

/// A time in care: from `since` until the day before `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CareSpan {
    pub since: NaiveDate,
    /// The first day no longer in care.
    pub until: Option<NaiveDate>,
}

/// A self-care assessment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    pub event_id: String,
    pub on: NaiveDate,
    pub activities: SelfCareActivities,
    pub level: SelfCareLevel,
    pub by: String,
}

/// A care agreement as recorded (its id is the event id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgreementRecord {
    pub event_id: String,
    pub agreement: CareAgreement,
    pub by: String,
    pub recorded_at: DateTime<Utc>,
}

/// One planned stretch of a task: from `from` until the day before `until`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedTask {
    pub task: CareTaskDefinition,
    pub from: NaiveDate,
    /// The first day no longer planned.
    pub until: Option<NaiveDate>,
}

impl PlannedTask {
    /// Whether the task is planned on `date`.
    pub fn covers(&self, date: NaiveDate) -> bool {
        self.from <= date && self.until.is_none_or(|u| date < u)
    }
}

/// A task done, from the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub event_id: String,
    pub task_id: String,
    pub done_at: DateTime<Utc>,
    /// `done_at` in the county's local date.
    pub done_on: NaiveDate,
    pub by: String,
    pub note: String,
    pub photos: Vec<String>,
}

/// What happened to a problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemChange {
    Opened,
    Assigned {
        assignee: String,
        due_on: Option<NaiveDate>,
    },
    Rectified(Rectification),
    Reopened {
        reason: String,
    },
}

/// One step of a problem's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProblemStep {
    pub event_id: String,
    pub by: String,
    pub at: DateTime<Utc>,
    pub change: ProblemChange,
}

/// A problem of the ledger (问题台账) with its history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CareProblem {
    pub problem_id: String,
    pub area: ProblemArea,
    pub description: String,
    pub evidence: Vec<String>,
    pub opened_at: DateTime<Utc>,
    pub opened_by: String,
    /// Who must put it right (the latest assignment).
    pub assignee: Option<String>,
    pub due_on: Option<NaiveDate>,
    /// Open until rectified; open again when reopened.
    pub open: bool,
    /// Every step, oldest first (a reopened problem keeps its rectifications).
    pub history: Vec<ProblemStep>,
}

/// A township leader's assignment to the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderAssignment {
    pub event_id: String,
    pub leader_id: String,
    pub leader_name: String,
    pub from: NaiveDate,
    pub by: String,
}

/// A stretch of days one leader is assigned while the person is in care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaderStretch<'a> {
    pub leader: &'a LeaderAssignment,
    pub from: NaiveDate,
    /// The first day no longer assigned (a new leader, or the person left care).
    pub until: Option<NaiveDate>,
}

/// A leader's visit, from the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderVisit {
    pub event_id: String,
    pub leader_id: String,
    pub visited_on: NaiveDate,
    pub note: String,
    pub photos: Vec<String>,
    pub by: String,
}

/// Where a person's care agreement stands on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgreementStatus {
    /// No agreement was ever recorded.
    None,
    /// In force until `valid_until`, beyond the warning window.
    InForce { valid_until: NaiveDate },
    /// In force, ending within the policy's warning window.
    Expiring {
        valid_until: NaiveDate,
        days_left: i64,
    },
    /// The last agreement ended on `ended_on` and none is in force.
    Expired { ended_on: NaiveDate },
}

/// A task's status on a date, with the task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskStatus {
    pub task: CareTaskDefinition,
    /// The first day of the planned stretch the date is in.
    pub planned_from: NaiveDate,
    pub status: PeriodStatus,
}

/// Everything recorded about one person in care.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CareRecord {
    pub person_id: String,
    /// Times in care, oldest first.
    pub care: Vec<CareSpan>,
    /// Assessments by date (the last is the current one).
    pub assessments: Vec<Assessment>,
    pub agreements: Vec<AgreementRecord>,
    /// Every planned stretch of every task, in the order they were planned.
    pub plan: Vec<PlannedTask>,
    /// Tasks done, by time then id; an entry synced twice is one entry.
    pub log: Vec<LogEntry>,
    pub problems: Vec<CareProblem>,
    /// Leader assignments, oldest first (the last one starting on or before a date holds).
    pub leaders: Vec<LeaderAssignment>,
    /// Leader visits by date.
    pub leader_visits: Vec<LeaderVisit>,
    /// Events of this person the log does not allow.
    pub set_aside: Vec<SetAside>,
}

impl CareRecord {
    /// An empty record of a person.
    pub fn new(person_id: &str) -> Self {
        Self {
            person_id: person_id.to_owned(),
            ..Self::default()
        }
    }

    /// Whether the person is in care on `date`.
    pub fn in_care_on(&self, date: NaiveDate) -> bool {
        self.care
            .iter()
            .any(|s| s.since <= date && s.until.is_none_or(|u| date < u))
    }

    /// The current self-care level (of the latest assessment).
    pub fn level(&self) -> Option<SelfCareLevel> {
        self.assessments.last().map(|a| a.level)
    }

    /// The tasks planned on `date`.
    pub fn planned_on(&self, date: NaiveDate) -> impl Iterator<Item = &PlannedTask> {
        self.plan.iter().filter(move |p| p.covers(date))
    }

    /// The last local date `task_id` was done on or before `on`.
    pub fn last_done_on(&self, task_id: &str, on: NaiveDate) -> Option<NaiveDate> {
        self.log
            .iter()
            .filter(|e| e.task_id == task_id && e.done_on <= on)
            .map(|e| e.done_on)
            .max()
    }

    /// The status on `on` of every task planned that day (see [`super::status`]).
    pub fn task_status(&self, policy: &CarePolicy, on: NaiveDate) -> Vec<TaskStatus> {
        self.planned_on(on)
            .filter_map(|planned| {
                let status = schedule_of(policy, planned)
                    .status_on(self.last_done_on(&planned.task.task_id, on), on)?;
                Some(TaskStatus {
                    task: planned.task.clone(),
                    planned_from: planned.from,
                    status,
                })
            })
            .collect()
    }

    /// The leader assigned on `date`.
    pub fn leader_on(&self, date: NaiveDate) -> Option<&LeaderAssignment> {
        self.leaders.iter().rev().find(|l| l.from <= date)
    }

    /// The stretches of days a leader is assigned to the person while in care: each
    /// assignment runs until the next one starts, cut to the times in care.
    pub fn leader_stretches(&self) -> Vec<LeaderStretch<'_>> {
        let mut out = Vec::new();
        for (i, leader) in self.leaders.iter().enumerate() {
            let next = self.leaders.get(i + 1).map(|l| l.from);
            for span in &self.care {
                let from = leader.from.max(span.since);
                let until = match (next, span.until) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                if until.is_none_or(|u| from < u) {
                    out.push(LeaderStretch {
                        leader,
                        from,
                        until,
                    });
                }
            }
        }
        out
    }

    /// The last day of a leader visit on or before `on`.
    pub fn last_leader_visit_on(&self, on: NaiveDate) -> Option<NaiveDate> {
        self.leader_visits
            .iter()
            .filter(|v| v.visited_on <= on)
            .map(|v| v.visited_on)
            .max()
    }

    /// The status of the leader's visits on `on` under the policy's frequency, counted from
    /// the start of the current stretch (`None` when no leader is assigned or the person is
    /// not in care that day).
    pub fn leader_visit_status(&self, policy: &CarePolicy, on: NaiveDate) -> Option<PeriodStatus> {
        let stretch = self
            .leader_stretches()
            .into_iter()
            .find(|s| s.from <= on && s.until.is_none_or(|u| on < u))?;
        leader_schedule(policy, stretch.from).status_on(self.last_leader_visit_on(on), on)
    }

    /// Where the care agreement stands on `on`: the agreement in force ending last decides;
    /// it is expiring when it ends within the policy's warning window.
    pub fn agreement_status(&self, policy: &CarePolicy, on: NaiveDate) -> AgreementStatus {
        let in_force = self
            .agreements
            .iter()
            .map(|a| &a.agreement)
            .filter(|a| a.valid_from <= on && on <= a.valid_until)
            .map(|a| a.valid_until)
            .max();
        if let Some(valid_until) = in_force {
            let days_left = (valid_until - on).num_days();
            return if days_left <= i64::from(policy.agreement_expiry_warning_days) {
                AgreementStatus::Expiring {
                    valid_until,
                    days_left,
                }
            } else {
                AgreementStatus::InForce { valid_until }
            };
        }
        match self
            .agreements
            .iter()
            .map(|a| a.agreement.valid_until)
            .filter(|u| *u < on)
            .max()
        {
            Some(ended_on) => AgreementStatus::Expired { ended_on },
            None => AgreementStatus::None,
        }
    }

    /// The problems still open.
    pub fn open_problems(&self) -> impl Iterator<Item = &CareProblem> {
        self.problems.iter().filter(|p| p.open)
    }

    fn open_span(&self) -> Option<&CareSpan> {
        self.care.last().filter(|s| s.until.is_none())
    }

    fn problem_mut(&mut self, problem_id: &str) -> Result<&mut CareProblem, CareError> {
        self.problems
            .iter_mut()
            .find(|p| p.problem_id == problem_id)
            .ok_or_else(|| CareError::UnknownProblem {
                problem_id: problem_id.to_owned(),
            })
    }

    /// Applies one event to the record, or says why the record does not allow it.
    pub(crate) fn apply(
        &mut self,
        r: &RecordedCareEvent,
        clock: CountyClock,
    ) -> Result<(), CareError> {
        let errors = r.event.validate();
        if !errors.is_empty() {
            return Err(CareError::Invalid(errors));
        }
        let step = |change| ProblemStep {
            event_id: r.id.clone(),
            by: r.by.clone(),
            at: r.at,
            change,
        };
        match &r.event {
            CareEvent::Enrolled { since, .. } => {
                if let Some(open) = self.open_span() {
                    return Err(CareError::AlreadyEnrolled { since: open.since });
                }
                if self
                    .care
                    .last()
                    .and_then(|s| s.until)
                    .is_some_and(|u| *since < u)
                {
                    return Err(CareError::DateOrder {
                        field: "since",
                        reason: "a new time in care cannot start before the last one ended",
                    });
                }
                self.care.push(CareSpan {
                    since: *since,
                    until: None,
                });
            }
            CareEvent::Left { on, .. } => {
                let open = *self.open_span().ok_or(CareError::NotInCare {
                    event: "left",
                    on: *on,
                })?;
                if *on <= open.since {
                    return Err(CareError::DateOrder {
                        field: "on",
                        reason: "the person cannot leave care on or before the day they entered it",
                    });
                }
                if let Some(span) = self.care.last_mut() {
                    span.until = Some(*on);
                }
                for planned in self.plan.iter_mut().filter(|p| p.until.is_none()) {
                    planned.until = Some((*on).max(planned.from));
                }
            }
            CareEvent::Assessed { on, activities, .. } => {
                let assessment = Assessment {
                    event_id: r.id.clone(),
                    on: *on,
                    activities: *activities,
                    level: activities.level(),
                    by: r.by.clone(),
                };
                let at = self.assessments.partition_point(|a| a.on <= *on);
                self.assessments.insert(at, assessment);
            }
            CareEvent::AgreementSigned { agreement, .. } => self.agreements.push(AgreementRecord {
                event_id: r.id.clone(),
                agreement: agreement.clone(),
                by: r.by.clone(),
                recorded_at: r.at,
            }),
            CareEvent::TaskAdded { task, from, .. } => {
                let open = self.open_span().ok_or(CareError::NotInCare {
                    event: "task_added",
                    on: *from,
                })?;
                if *from < open.since {
                    return Err(CareError::DateOrder {
                        field: "from",
                        reason: "a task cannot be planned before the person entered care",
                    });
                }
                if self
                    .plan
                    .iter()
                    .any(|p| p.task.task_id == task.task_id && p.until.is_none())
                {
                    return Err(CareError::TaskAlreadyPlanned {
                        task_id: task.task_id.clone(),
                    });
                }
                if self
                    .plan
                    .iter()
                    .any(|p| p.task.task_id == task.task_id && p.until.is_some_and(|u| *from < u))
                {
                    return Err(CareError::DateOrder {
                        field: "from",
                        reason: "a task cannot be planned again before its last plan ended",
                    });
                }
                self.plan.push(PlannedTask {
                    task: task.clone(),
                    from: *from,
                    until: None,
                });
            }
            CareEvent::TaskRemoved { task_id, on, .. } => {
                let planned = self
                    .plan
                    .iter_mut()
                    .find(|p| p.task.task_id == *task_id && p.until.is_none())
                    .ok_or_else(|| CareError::TaskNotPlanned {
                        task_id: task_id.clone(),
                    })?;
                if *on < planned.from {
                    return Err(CareError::DateOrder {
                        field: "on",
                        reason: "a task cannot be removed before it was planned",
                    });
                }
                planned.until = Some(*on);
            }
            CareEvent::ProblemOpened {
                problem_id,
                area,
                description,
                evidence,
                ..
            } => {
                if self.problems.iter().any(|p| p.problem_id == *problem_id) {
                    return Err(CareError::ProblemExists {
                        problem_id: problem_id.clone(),
                    });
                }
                self.problems.push(CareProblem {
                    problem_id: problem_id.clone(),
                    area: *area,
                    description: description.clone(),
                    evidence: evidence.clone(),
                    opened_at: r.at,
                    opened_by: r.by.clone(),
                    assignee: None,
                    due_on: None,
                    open: true,
                    history: vec![step(ProblemChange::Opened)],
                });
            }
            CareEvent::ProblemAssigned {
                problem_id,
                assignee,
                due_on,
                ..
            } => {
                let problem = self.problem_mut(problem_id)?;
                if !problem.open {
                    return Err(CareError::ProblemClosed {
                        problem_id: problem_id.clone(),
                    });
                }
                problem.assignee = Some(assignee.clone());
                problem.due_on = *due_on;
                problem.history.push(step(ProblemChange::Assigned {
                    assignee: assignee.clone(),
                    due_on: *due_on,
                }));
            }
            CareEvent::ProblemRectified {
                problem_id,
                rectification,
                ..
            } => {
                let problem = self.problem_mut(problem_id)?;
                if !problem.open {
                    return Err(CareError::ProblemClosed {
                        problem_id: problem_id.clone(),
                    });
                }
                problem.open = false;
                problem
                    .history
                    .push(step(ProblemChange::Rectified(rectification.clone())));
            }
            CareEvent::ProblemReopened {
                problem_id, reason, ..
            } => {
                let problem = self.problem_mut(problem_id)?;
                if problem.open {
                    return Err(CareError::ProblemOpen {
                        problem_id: problem_id.clone(),
                    });
                }
                problem.open = true;
                problem.history.push(step(ProblemChange::Reopened {
                    reason: reason.clone(),
                }));
            }
            CareEvent::LeaderAssigned {
                leader_id,
                leader_name,
                from,
                ..
            } => {
                let assignment = LeaderAssignment {
                    event_id: r.id.clone(),
                    leader_id: leader_id.clone(),
                    leader_name: leader_name.clone(),
                    from: *from,
                    by: r.by.clone(),
                };
                let at = self.leaders.partition_point(|l| l.from <= *from);
                self.leaders.insert(at, assignment);
            }
            // Logged work: a task done must be of a task the plan has held (at any time: the
            // fold applies logged work after the plan); a leader's visit is always kept.
            CareEvent::TaskDone {
                task_id,
                done_at,
                note,
                photos,
                ..
            } => {
                if !self.plan.iter().any(|p| p.task.task_id == *task_id) {
                    return Err(CareError::TaskNotPlanned {
                        task_id: task_id.clone(),
                    });
                }
                self.log.push(LogEntry {
                    event_id: r.id.clone(),
                    task_id: task_id.clone(),
                    done_at: *done_at,
                    done_on: clock.local_date(*done_at),
                    by: r.by.clone(),
                    note: note.clone(),
                    photos: photos.clone(),
                });
            }
            CareEvent::LeaderVisited {
                leader_id,
                visited_on,
                note,
                photos,
                ..
            } => self.leader_visits.push(LeaderVisit {
                event_id: r.id.clone(),
                leader_id: leader_id.clone(),
                visited_on: *visited_on,
                note: note.clone(),
                photos: photos.clone(),
                by: r.by.clone(),
            }),
        }
        Ok(())
    }

    /// Puts the log and the visits in their order (time, then id).
    pub(crate) fn sort_logged_work(&mut self) {
        self.log
            .sort_by(|a, b| (a.done_at, &a.event_id).cmp(&(b.done_at, &b.event_id)));
        self.leader_visits
            .sort_by(|a, b| (a.visited_on, &a.event_id).cmp(&(b.visited_on, &b.event_id)));
    }
}

/// Whether an event is logged work, applied in the fold's second pass.
pub(crate) fn is_logged_work(event: &CareEvent) -> bool {
    matches!(
        event,
        CareEvent::TaskDone { .. } | CareEvent::LeaderVisited { .. }
    )
}

/// Every person's record, folded from the household's events (any order; they are sorted by
/// `(seq, at, id)` here).
pub fn fold(
    mut events: Vec<(i64, RecordedCareEvent)>,
    clock: CountyClock,
) -> BTreeMap<String, CareRecord> {
    events.sort_by(|(sa, a), (sb, b)| (sa, a.at, &a.id).cmp(&(sb, b.at, &b.id)));
    let mut records: BTreeMap<String, CareRecord> = BTreeMap::new();
    for pass_logged_work in [false, true] {
        for (_, r) in events
            .iter()
            .filter(|(_, r)| is_logged_work(&r.event) == pass_logged_work)
        {
            let person = r.event.person_id();
            let record = records
                .entry(person.to_owned())
                .or_insert_with(|| CareRecord::new(person));
            if let Err(e) = record.apply(r, clock) {
                record.set_aside.push(SetAside {
                    event_id: r.id.clone(),
                    by: Some(r.by.clone()),
                    code: e.code().to_owned(),
                    reason: e.to_string(),
                });
            }
        }
    }
    for record in records.values_mut() {
        record.sort_logged_work();
    }
    records
}

/// The schedule of a planned task under a policy (its own due-soon window, else the
/// policy's): what the record and the store's lists compute status with.
pub(crate) fn schedule_of(policy: &CarePolicy, planned: &PlannedTask) -> Schedule {
    Schedule {
        frequency: planned.task.frequency,
        planned_from: planned.from,
        due_soon_days: policy.due_soon_days_of(&planned.task),
    }
}

/// The schedule of a leader's visits from `from` under a policy.
pub(crate) fn leader_schedule(policy: &CarePolicy, from: NaiveDate) -> Schedule {
    Schedule {
        frequency: policy.leader_visit_frequency,
        planned_from: from,
        due_soon_days: policy.due_soon_days,
    }
}
