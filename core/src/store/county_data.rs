//! The county's working data on the tablet, read from the installed signed configuration
//! (verified again on every read): form templates (with the built-ins), standards, the
//! working-day calendar and the county's clock.

use chrono::{DateTime, Utc};

use super::Store;
use crate::calendar::{CountyClock, WorkingCalendar};
use crate::case::{CaseEvent, CaseLog, CasePolicy, DueList};
use crate::error::{Error, Result};
use crate::forms::TemplateCatalog;
use crate::scoring::{sample_rubric, RubricCatalog};
use crate::standards::Standards;
use crate::sync::{CountyConfig, CountyData};

impl Store {
    /// The installed county configuration, verified with the county authority's key (`None`
    /// before the first one arrives).
    pub fn county_configuration(&self) -> Result<Option<CountyConfig>> {
        let Some(signed) = self.county_config()? else {
            return Ok(None);
        };
        let trust = self.trust()?;
        signed
            .verify(&trust.authority_key)
            .map(Some)
            .map_err(|e| Error::Document(format!("the installed configuration: {e}")))
    }

    /// The county's working data (empty before a configuration arrives).
    pub fn county_data(&self) -> Result<CountyData> {
        Ok(self
            .county_configuration()?
            .map(|c| c.data)
            .unwrap_or_default())
    }

    /// Every form template this tablet can fill or check: the built-ins and the county's.
    pub fn form_catalog(&self) -> Result<TemplateCatalog> {
        let mut catalog = TemplateCatalog::with_built_ins()?;
        for template in self.county_data()?.templates()? {
            catalog.publish(template)?;
        }
        Ok(catalog)
    }

    /// Every scoring rubric this tablet can score with: the built-in SAMPLE and the county's.
    pub fn rubric_catalog(&self) -> Result<RubricCatalog> {
        let mut catalog = RubricCatalog::default();
        catalog.publish(sample_rubric()?.clone())?;
        for rubric in self.county_data()?.compiled_rubrics()? {
            catalog.publish(rubric)?;
        }
        Ok(catalog)
    }

    /// The county's standards, if published.
    pub fn standards(&self) -> Result<Option<Standards>> {
        Ok(self.county_data()?.standards)
    }

    /// The county's working-day calendar, if published.
    pub fn working_calendar(&self) -> Result<Option<WorkingCalendar>> {
        self.county_data()?.working_calendar()
    }

    /// The county's clock: its published time zone, else this store's configured offset.
    pub fn county_clock(&self) -> Result<CountyClock> {
        match self.county_data()?.clock() {
            Some(clock) => Ok(clock),
            None => CountyClock::new(self.config.utc_offset_seconds),
        }
    }

    /// The county's case policy (the national defaults when it publishes none) and its
    /// calendar (required: deadlines are counted in working days).
    fn case_rules(&self) -> Result<(CasePolicy, WorkingCalendar)> {
        let data = self.county_data()?;
        let calendar = data.working_calendar()?.ok_or_else(|| Error::NotFound {
            what: "working-day calendar of the county configuration",
            id: self.county_code().ok().flatten().unwrap_or_default(),
        })?;
        Ok((data.case_policy.unwrap_or_default(), calendar))
    }

    /// Records a case event under the county's policy and calendar.
    pub fn record_case_event(&mut self, household_id: &str, event: CaseEvent) -> Result<CaseLog> {
        self.record_case_event_at(household_id, event, None)
    }

    /// Records a case event that happened at `happened_at` (`None`: now) under the county's
    /// policy and calendar: deadlines count from that day.
    pub fn record_case_event_at(
        &mut self,
        household_id: &str,
        event: CaseEvent,
        happened_at: Option<DateTime<Utc>>,
    ) -> Result<CaseLog> {
        let (policy, calendar) = self.case_rules()?;
        self.case_event_at(household_id, event, happened_at, &policy, &calendar)
    }

    /// A household's case under the county's policy and calendar.
    pub fn county_case(&mut self, household_id: &str) -> Result<CaseLog> {
        let (policy, calendar) = self.case_rules()?;
        self.case(household_id, &policy, &calendar)
    }

    /// What is due and overdue at `now` in a village, under the county's policy and calendar.
    pub fn county_cases_due(&mut self, village_code: &str, now: DateTime<Utc>) -> Result<DueList> {
        let (policy, calendar) = self.case_rules()?;
        self.cases_due(village_code, now, &policy, &calendar)
    }
}
