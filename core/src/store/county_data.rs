//! The county's working data on the tablet, read from the installed signed configuration
//! (verified again on every read): form templates (with the built-ins), standards, the
//! working-day calendar and the county's clock.

use super::Store;
use crate::calendar::{CountyClock, WorkingCalendar};
use crate::error::{Error, Result};
use crate::forms::TemplateCatalog;
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
}
