//! Shared helpers of the case tests: the sample calendar, local dates and times, and a
//! runner that records events with ids, authors and times.
#![allow(dead_code, unused_imports, clippy::unwrap_used)]

pub use chrono::{DateTime, NaiveDate, TimeZone, Utc};
pub use ruhu_core::calendar::{CalendarError, CountyClock, WorkingCalendar, SAMPLE_CALENDAR_JSON};
pub use ruhu_core::case::*;
pub use ruhu_core::household::Program;

pub fn cal() -> WorkingCalendar {
    WorkingCalendar::from_json(SAMPLE_CALENDAR_JSON).unwrap()
}

pub fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// 10:00 local (UTC+8) on a day.
pub fn at(y: i32, m: u32, day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, day, 2, 0, 0).unwrap()
}

pub struct Run {
    pub policy: CasePolicy,
    pub calendar: WorkingCalendar,
    pub n: u32,
}

impl Run {
    pub fn new() -> Self {
        Self::with(CasePolicy::default())
    }
    pub fn with(policy: CasePolicy) -> Self {
        Self {
            policy,
            calendar: cal(),
            n: 0,
        }
    }
    pub fn ctx(&self) -> CaseContext<'_> {
        CaseContext::new(&self.policy, &self.calendar, CountyClock::default()).unwrap()
    }
    pub fn rec(&mut self, when: DateTime<Utc>, event: CaseEvent) -> RecordedEvent {
        self.n += 1;
        RecordedEvent {
            id: format!("e{}", self.n),
            by: format!("worker-{}", self.n % 3),
            at: when,
            event,
        }
    }
    pub fn open(&mut self, when: DateTime<Utc>) -> Case {
        let r = self.rec(
            when,
            CaseEvent::Apply {
                program: Program::RuralDibao,
            },
        );
        Case::open(&r, &self.ctx()).unwrap()
    }
    pub fn apply(
        &mut self,
        case: &mut Case,
        when: DateTime<Utc>,
        event: CaseEvent,
    ) -> Result<(), CaseError> {
        let r = self.rec(when, event);
        let ctx = self.ctx();
        case.apply(&r, &ctx)
    }
    pub fn ok(&mut self, case: &mut Case, when: DateTime<Utc>, event: CaseEvent) {
        self.apply(case, when, event).unwrap();
    }
    /// A case accepted on `day` at 10:00 local.
    pub fn accepted(&mut self, day: DateTime<Utc>) -> Case {
        let mut c = self.open(day);
        self.ok(&mut c, day, accept(&["户口簿复印件"]));
        c
    }
    /// A case at county review, received on `day`.
    pub fn at_county(&mut self, day: DateTime<Utc>) -> Case {
        let mut c = self.accepted(day);
        self.ok(&mut c, day, CaseEvent::StartInvestigation);
        self.ok(
            &mut c,
            day,
            CaseEvent::CompleteInvestigation { visit_id: None },
        );
        self.ok(&mut c, day, opinion(false));
        c
    }
    pub fn receiving(&mut self, day: DateTime<Utc>, stable: bool) -> Case {
        let mut c = self.at_county(day);
        self.ok(&mut c, day, decision(true, stable));
        c
    }
}

pub fn accept(missing: &[&str]) -> CaseEvent {
    CaseEvent::Accept {
        missing_materials: missing.iter().map(|s| s.to_string()).collect(),
    }
}

pub fn proposal() -> Proposal {
    Proposal {
        monthly_fen: 56_700,
        household_size: 3,
        class: Some(2),
    }
}

pub fn opinion(eligible: bool) -> CaseEvent {
    CaseEvent::TownshipOpinion {
        eligible,
        proposal: eligible.then(proposal),
        reason: if eligible {
            String::new()
        } else {
            "收入高于标准".into()
        },
    }
}

pub fn decision(approved: bool, income_stable: bool) -> CaseEvent {
    CaseEvent::CountyDecision {
        approved,
        benefit: approved.then(proposal),
        income_stable,
        reason: if approved {
            String::new()
        } else {
            "不符合条件".into()
        },
    }
}

pub fn not_allowed(stage: CaseStage, event: &'static str) -> Result<(), CaseError> {
    Err(CaseError::NotAllowed { stage, event })
}

pub fn duty(c: &Case, r: &Run, kind: DutyKind) -> Duty {
    c.duties(&r.ctx())
        .unwrap()
        .into_iter()
        .find(|d| d.kind == kind)
        .unwrap()
}

pub fn due_status(c: &Case, r: &Run, now: DateTime<Utc>, kind: DutyKind) -> Option<DueStatus> {
    due_and_overdue([("h1", c)], now, &r.ctx())
        .items
        .into_iter()
        .find(|i| i.duty.kind == kind)
        .map(|i| i.status)
}
