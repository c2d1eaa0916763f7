//! The county's working data inside the signed configuration: form templates, standards, the
//! scoring rubrics, the working-day calendar, the county's time zone, the case policy and the care policy. Provinces and counties differ, so all of it is data the county
//! authority signs and every tablet receives with its certificates — never code. A tablet
//! refuses a configuration whose data does not validate, exactly as it refuses a bad
//! signature, so a worker never fills a form or computes a benefit from broken data.

use serde::{Deserialize, Serialize};

use crate::calendar::{CalendarData, CountyClock, WorkingCalendar};
use crate::care::CarePolicy;
use crate::case::CasePolicy;
use crate::error::Error;
use crate::forms::{FormTemplate, TemplateDefinition};
use crate::scoring::{Rubric, RubricDefinition};
use crate::standards::Standards;

/// Largest UTC offset a county may name (UTC−12 … UTC+14).
const UTC_OFFSET_RANGE: std::ops::RangeInclusive<i32> = -12 * 3600..=14 * 3600;

/// Data published with the county configuration (every part optional; absent parts fall
/// back to the tablet's built-ins or are simply not available).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountyData {
    /// Form templates in use (every version a visit may still be filled with; the built-in
    /// minimal and default home-visit templates need not be listed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub form_templates: Vec<TemplateDefinition>,
    /// Scoring rubrics ("3+1" sheets) in use, every version a decision may still name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rubrics: Vec<RubricDefinition>,
    /// Dibao standards, class amounts, extreme-poverty standards and care subsidies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standards: Option<Standards>,
    /// Public holidays and exchanged working weekends, per year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar: Option<CalendarData>,
    /// The county's time zone as seconds east of UTC (China: 28,800).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utc_offset_seconds: Option<i32>,
    /// Deadlines and review intervals of a case (national defaults when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_policy: Option<CasePolicy>,
    /// Dispersed care: the default plan, due-soon and expiry windows, the leader-visit
    /// frequency (defaults when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub care_policy: Option<CarePolicy>,
}

fn problems(part: &str, e: Error) -> String {
    match e {
        Error::Invalid(errors) => errors
            .iter()
            .map(|f| format!("{part}.{}: {} ({})", f.field, f.message, f.code))
            .collect::<Vec<_>>()
            .join("; "),
        other => format!("{part}: {other}"),
    }
}

impl CountyData {
    /// Whether nothing is published (the field is then left out of the configuration).
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    /// Every part validated; the text names the part and field of each problem.
    pub fn check(&self) -> Result<(), String> {
        let mut seen = std::collections::BTreeSet::new();
        for (i, definition) in self.form_templates.iter().enumerate() {
            if !seen.insert((definition.id.clone(), definition.version)) {
                return Err(format!(
                    "form_templates[{i}]: template {} version {} is listed twice",
                    definition.id, definition.version
                ));
            }
            FormTemplate::from_definition(definition.clone())
                .map_err(|e| problems(&format!("form_templates[{i}]"), e))?;
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, definition) in self.rubrics.iter().enumerate() {
            if !seen.insert((definition.id.clone(), definition.version)) {
                return Err(format!(
                    "rubrics[{i}]: rubric {} version {} is listed twice",
                    definition.id, definition.version
                ));
            }
            Rubric::from_definition(definition.clone())
                .map_err(|e| problems(&format!("rubrics[{i}]"), e))?;
        }
        if let Some(standards) = &self.standards {
            let errors = crate::standards::validate::validate(standards);
            if !errors.is_empty() {
                return Err(problems("standards", Error::Invalid(errors)));
            }
        }
        if let Some(calendar) = &self.calendar {
            WorkingCalendar::new(calendar.clone()).map_err(|e| problems("calendar", e))?;
        }
        if let Some(policy) = &self.case_policy {
            let errors = policy.validate();
            if !errors.is_empty() {
                return Err(problems("case_policy", Error::Invalid(errors)));
            }
        }
        if let Some(policy) = &self.care_policy {
            let errors = policy.validate();
            if !errors.is_empty() {
                return Err(problems("care_policy", Error::Invalid(errors)));
            }
        }
        if let Some(offset) = self.utc_offset_seconds {
            if !UTC_OFFSET_RANGE.contains(&offset) {
                return Err(format!(
                    "utc_offset_seconds: {offset} is outside UTC-12..UTC+14"
                ));
            }
        }
        Ok(())
    }

    /// The published templates, compiled.
    pub fn templates(&self) -> crate::error::Result<Vec<FormTemplate>> {
        self.form_templates
            .iter()
            .map(|d| FormTemplate::from_definition(d.clone()))
            .collect()
    }

    /// The published rubrics, compiled.
    pub fn compiled_rubrics(&self) -> crate::error::Result<Vec<Rubric>> {
        self.rubrics
            .iter()
            .map(|d| Rubric::from_definition(d.clone()))
            .collect()
    }

    /// The published calendar, ready for queries.
    pub fn working_calendar(&self) -> crate::error::Result<Option<WorkingCalendar>> {
        self.calendar
            .as_ref()
            .map(|c| WorkingCalendar::new(c.clone()))
            .transpose()
    }

    /// The county's clock, if it names its time zone.
    pub fn clock(&self) -> Option<CountyClock> {
        self.utc_offset_seconds
            .and_then(|s| CountyClock::new(s).ok())
    }
}
