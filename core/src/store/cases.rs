//! Cases in the tablet's store: recording case events in household documents and listing
//! what is due and overdue in a village. The case rules are in [`crate::case`].

use chrono::{DateTime, Utc};

use super::{ListFilter, Store};
use crate::calendar::WorkingCalendar;
use crate::case::{
    document, due_and_overdue, CaseContext, CaseEvent, CaseLog, CasePolicy, DueList,
};
use crate::error::Result;

impl Store {
    fn case_context<'a>(
        &self,
        policy: &'a CasePolicy,
        calendar: &'a WorkingCalendar,
    ) -> Result<CaseContext<'a>> {
        CaseContext::new(policy, calendar, self.county_clock()?)
    }

    /// Records a case event for a household (by this store's worker, now). Refused —
    /// nothing written — when the case's stage does not allow it (`case.*` codes).
    pub fn case_event(
        &mut self,
        household_id: &str,
        event: CaseEvent,
        policy: &CasePolicy,
        calendar: &WorkingCalendar,
    ) -> Result<CaseLog> {
        self.case_event_at(household_id, event, None, policy, calendar)
    }

    /// [`Store::case_event`] for an event that happened at `happened_at` (`None`: now),
    /// recorded now by this store's worker. Refused when dated in the future or before the
    /// case's current stage began.
    pub fn case_event_at(
        &mut self,
        household_id: &str,
        event: CaseEvent,
        happened_at: Option<DateTime<Utc>>,
        policy: &CasePolicy,
        calendar: &WorkingCalendar,
    ) -> Result<CaseLog> {
        let ctx = self.case_context(policy, calendar)?;
        let by = self.authorship();
        let cached = self.load(household_id)?;
        let log = match happened_at {
            None => document::append_event(cached.doc.automerge(), event, &by, &ctx)?,
            Some(at) => document::append_event_at(cached.doc.automerge(), event, at, &by, &ctx)?,
        };
        self.persist(household_id, None)?;
        Ok(log)
    }

    /// The household's case as its event log makes it.
    pub fn case(
        &mut self,
        household_id: &str,
        policy: &CasePolicy,
        calendar: &WorkingCalendar,
    ) -> Result<CaseLog> {
        let ctx = self.case_context(policy, calendar)?;
        let cached = self.load(household_id)?;
        document::read_case(cached.doc.automerge(), &ctx)
    }

    /// What is due and overdue at `now` for the cases of one village.
    pub fn cases_due(
        &mut self,
        village_code: &str,
        now: DateTime<Utc>,
        policy: &CasePolicy,
        calendar: &WorkingCalendar,
    ) -> Result<DueList> {
        let ctx = self.case_context(policy, calendar)?;
        let households = self.list_village(village_code, &ListFilter::default())?;
        let mut cases = Vec::new();
        for summary in households {
            let cached = self.load(&summary.id)?;
            if let Some(case) = document::read_case(cached.doc.automerge(), &ctx)?.case {
                cases.push((summary.id, case));
            }
        }
        Ok(due_and_overdue(
            cases.iter().map(|(id, c)| (id.as_str(), c)),
            now,
            &ctx,
        ))
    }
}
