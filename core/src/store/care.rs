//! Dispersed care in the tablet's store: recording care events in household documents under
//! the county's care policy and clock, reading a person's record, and the lists — overdue
//! and due tasks, open problems, overdue leader visits, expiring agreements — answered from
//! the care index (`care_index.rs`) without loading documents. The rules are in
//! [`crate::care`].

use chrono::NaiveDate;

use super::care_index::{self, ListQuery};
use super::Store;
use crate::calendar::CountyClock;
use crate::care::{
    document, CareError, CareEvent, CarePolicy, CareRecord, CareTaskDue, DueState,
    ExpiringAgreement, LeaderVisitDue, OpenCareProblem,
};
use crate::error::{Error, FieldError, Result};
use crate::household::read_own_fields;
use crate::standards::Amount;
use crate::visit::content::ContentHash;

impl Store {
    /// The county's care policy: the one its configuration publishes, else the defaults.
    pub fn care_policy(&self) -> Result<CarePolicy> {
        Ok(self.care_rules()?.0)
    }

    /// The care policy and the county's clock, read from one configuration.
    fn care_rules(&self) -> Result<(CarePolicy, CountyClock)> {
        let data = self.county_data()?;
        let clock = match data.clock() {
            Some(clock) => clock,
            None => CountyClock::new(self.config.utc_offset_seconds)?,
        };
        Ok((data.care_policy.unwrap_or_default(), clock))
    }

    /// A list query under the county's care rules.
    fn care_list_query<'a>(
        &self,
        village_code: Option<&'a str>,
        on: NaiveDate,
    ) -> Result<ListQuery<'a>> {
        let (policy, clock) = self.care_rules()?;
        Ok(ListQuery {
            village_code,
            on,
            clock,
            policy,
        })
    }

    /// Records one care event for a person of a household (by this store's worker, now).
    /// Refused — nothing written — with a validation error naming what is wrong (`care.*`
    /// codes). Returns the person's record.
    pub fn record_care_event(
        &mut self,
        household_id: &str,
        event: CareEvent,
    ) -> Result<CareRecord> {
        self.record_care_events(household_id, vec![event])
    }

    /// Records care events as one change (each checked against the record as the events
    /// before it leave it); all or nothing, fields prefixed by the event's position
    /// (`[2].task_id`). An `Enrolled` event also plans the policy's default tasks. Returns the
    /// record of the person the last event names.
    pub fn record_care_events(
        &mut self,
        household_id: &str,
        events: Vec<CareEvent>,
    ) -> Result<CareRecord> {
        let Some(person_id) = events.last().map(|e| e.person_id().to_owned()) else {
            return Err(Error::invalid(FieldError::new(
                "events",
                "care.required",
                "no event to record",
            )));
        };
        // A change never names a photo this tablet cannot send (as a sealed visit, ADR 11):
        // the server would hold the household's changes until it arrived.
        let mut missing = Vec::new();
        for (i, event) in events.iter().enumerate() {
            for hash in event.photo_hashes() {
                let stored = match ContentHash::from_hex(hash) {
                    Some(h) => self.has_attachment(&h)?,
                    None => true, // malformed: the event's own validation names it
                };
                if !stored {
                    missing.push(
                        FieldError::new(
                            format!("[{i}].photos"),
                            "attachment.missing",
                            format!("photo {hash} is not stored on this tablet: add it first"),
                        )
                        .with("hash", hash),
                    );
                }
            }
        }
        if !missing.is_empty() {
            return Err(Error::Invalid(missing));
        }
        let (policy, clock) = self.care_rules()?;
        let by = self.authorship();
        let cached = self.load(household_id)?;
        let household = read_own_fields(cached.doc.automerge())?;
        for (i, event) in events.iter().enumerate() {
            if !household.members.contains_key(event.person_id()) {
                let e = CareError::UnknownPerson {
                    person_id: event.person_id().to_owned(),
                };
                return Err(Error::Invalid(
                    e.field_errors()
                        .into_iter()
                        .map(|f| f.under(&format!("[{i}]")))
                        .collect(),
                ));
            }
        }
        let photos: Vec<ContentHash> = events
            .iter()
            .flat_map(CareEvent::photo_hashes)
            .filter_map(ContentHash::from_hex)
            .collect();
        let log = document::append_events(cached.doc.automerge(), events, &by, &policy, clock)?;
        // The photos travel with the change (uploaded before it is pushed, ADR 11): referenced
        // in the transaction that writes it, so neither is kept without the other.
        self.persist_with(household_id, None, |tx| {
            super::attachments::insert_refs(tx, household_id, &photos)
        })?;
        Ok(log.record(&person_id))
    }

    /// A person's care record (assessments, agreements, plan, log, problems, leader and
    /// visits, set-aside events). `NotFound` when the person is neither a member of the
    /// household nor named by any care event.
    pub fn care_record(&mut self, household_id: &str, person_id: &str) -> Result<CareRecord> {
        let (_, clock) = self.care_rules()?;
        let cached = self.load(household_id)?;
        let doc = cached.doc.automerge();
        let mut log = document::read_care_log(doc, clock)?;
        match log.records.remove(person_id) {
            Some(record) => Ok(record),
            None if read_own_fields(doc)?.members.contains_key(person_id) => {
                Ok(CareRecord::new(person_id))
            }
            None => Err(Error::NotFound {
                what: "household member",
                id: person_id.to_owned(),
            }),
        }
    }

    /// The nursing subsidy of a person in `year`, by the level of their latest assessment and
    /// the county's published standards.
    pub fn nursing_subsidy(
        &mut self,
        household_id: &str,
        person_id: &str,
        year: i32,
    ) -> Result<Amount> {
        let level = self
            .care_record(household_id, person_id)?
            .level()
            .ok_or_else(|| {
                Error::invalid(FieldError::new(
                    "person_id",
                    "care.not_assessed",
                    "the person has no self-care assessment",
                ))
            })?;
        let county = {
            let cached = self.load(household_id)?;
            read_own_fields(cached.doc.automerge())?.profile.county_code
        };
        let standards = self.standards()?.ok_or_else(|| Error::NotFound {
            what: "standards of the county configuration",
            id: county.clone(),
        })?;
        crate::care::nursing_subsidy(&standards, &county, year, level)
    }

    /// Tasks overdue on `on` in a village (`None`: every village of this store — the
    /// township), one indexed query.
    pub fn overdue_care_tasks(
        &self,
        village_code: Option<&str>,
        on: NaiveDate,
    ) -> Result<Vec<CareTaskDue>> {
        self.care_task_list(village_code, on, true)
    }

    /// Tasks not done on `on` — due, due soon and overdue — in a village (`None`: all).
    pub fn care_tasks_due(
        &self,
        village_code: Option<&str>,
        on: NaiveDate,
    ) -> Result<Vec<CareTaskDue>> {
        self.care_task_list(village_code, on, false)
    }

    fn care_task_list(
        &self,
        village_code: Option<&str>,
        on: NaiveDate,
        overdue_only: bool,
    ) -> Result<Vec<CareTaskDue>> {
        let q = self.care_list_query(village_code, on)?;
        let mut rows = care_index::task_rows(&self.conn, &q, overdue_only)?;
        rows.retain(|r| match r.status.state {
            DueState::Overdue => true,
            DueState::Done => false,
            DueState::Due | DueState::DueSoon => !overdue_only,
        });
        Ok(rows)
    }

    /// Problems of the ledger still open, in a village (`None`: all).
    pub fn open_care_problems(&self, village_code: Option<&str>) -> Result<Vec<OpenCareProblem>> {
        care_index::open_problems(&self.conn, village_code)
    }

    /// People in care whose township leader's visits are overdue on `on` (the policy's
    /// leader-visit frequency), in a village (`None`: all).
    pub fn overdue_leader_visits(
        &self,
        village_code: Option<&str>,
        on: NaiveDate,
    ) -> Result<Vec<LeaderVisitDue>> {
        let q = self.care_list_query(village_code, on)?;
        care_index::overdue_leader_visits(&self.conn, &q)
    }

    /// Care agreements in force on `on` that end within the policy's warning window (for each
    /// person, the agreement in force ending last), in a village (`None`: all).
    pub fn expiring_care_agreements(
        &self,
        village_code: Option<&str>,
        on: NaiveDate,
    ) -> Result<Vec<ExpiringAgreement>> {
        let (policy, _) = self.care_rules()?;
        care_index::expiring_agreements(
            &self.conn,
            village_code,
            on,
            policy.agreement_expiry_warning_days,
        )
    }
}
