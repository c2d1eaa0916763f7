//! The working-day calendar as data (工作日历): per year, the public holidays and the
//! weekend days made working days in exchange (调休), and which weekdays are the weekend.
//!
//! Holidays are announced every year by the State Council (and some regions add their
//! own), so the calendar is **configuration** loaded from JSON — never a table in code.
//! A date in a year the calendar does not cover is an error ([`CalendarError::YearNotCovered`]),
//! not a guess: a deadline computed without the year's holidays would be wrong.
//!
//! ```json
//! {
//!   "format": 1,
//!   "label": "what this calendar is",
//!   "weekend": ["Sat", "Sun"],
//!   "years": [{
//!     "year": 2024,
//!     "holidays": [{ "name": "国庆节", "first": "2024-10-01", "last": "2024-10-07" }],
//!     "working_weekends": [{ "date": "2024-10-12", "name": "国庆节调休" }]
//!   }]
//! }
//! ```
//!
//! Every date lies in the year it is listed under (a New Year holiday that starts in
//! December is listed in both years, each part under its own year). Counting rules are in
//! [`working_days`]; the county's time zone in [`clock`].

pub mod clock;
pub mod working_days;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use crate::error::{Error, FieldError, Result};

pub use clock::CountyClock;
pub use working_days::CalendarError;

/// The schema version this app reads.
pub const CALENDAR_FORMAT: u32 = 1;

/// The longest holiday range accepted, in days.
pub const MAX_HOLIDAY_DAYS: i64 = 31;

/// The sample calendar: national holidays and 调休 days of 2024 and 2025. A **sample**;
/// counties load the calendar of their configuration.
pub const SAMPLE_CALENDAR_JSON: &str = include_str!("../../samples/calendar.sample.json");

/// A public holiday: every day from `first` to `last` (inclusive) is a day off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Holiday {
    pub name: String,
    pub first: NaiveDate,
    pub last: NaiveDate,
}

/// A weekend day that is a working day in exchange for a holiday (调休上班).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkingWeekend {
    pub date: NaiveDate,
    #[serde(default)]
    pub name: String,
}

/// One year of the calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarYear {
    pub year: i32,
    #[serde(default)]
    pub holidays: Vec<Holiday>,
    #[serde(default)]
    pub working_weekends: Vec<WorkingWeekend>,
}

fn default_weekend() -> Vec<Weekday> {
    vec![Weekday::Sat, Weekday::Sun]
}

/// The calendar file as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarData {
    pub format: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Weekdays that are days off unless listed as working weekends (default Sat, Sun).
    #[serde(default = "default_weekend")]
    pub weekend: Vec<Weekday>,
    pub years: Vec<CalendarYear>,
}

/// A validated calendar, ready for queries (see [`working_days`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingCalendar {
    data: CalendarData,
    years: BTreeSet<i32>,
    days_off: BTreeSet<NaiveDate>,
    working_weekends: BTreeSet<NaiveDate>,
}

impl WorkingCalendar {
    /// Parses and validates a calendar file; every problem names its field.
    pub fn from_json(json: &str) -> Result<Self> {
        let data: CalendarData = serde_json::from_str(json).map_err(|e| {
            Error::invalid(
                FieldError::new("calendar", "calendar.json", e.to_string())
                    .with("line", e.line())
                    .with("column", e.column()),
            )
        })?;
        Self::new(data)
    }

    /// Validates calendar data.
    pub fn new(data: CalendarData) -> Result<Self> {
        let errors = validate(&data);
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let mut years = BTreeSet::new();
        let mut days_off = BTreeSet::new();
        let mut working_weekends = BTreeSet::new();
        for y in &data.years {
            years.insert(y.year);
            for h in &y.holidays {
                days_off.extend(h.first.iter_days().take_while(|d| *d <= h.last));
            }
            working_weekends.extend(y.working_weekends.iter().map(|w| w.date));
        }
        Ok(Self {
            data,
            years,
            days_off,
            working_weekends,
        })
    }

    /// The calendar as loaded.
    pub fn data(&self) -> &CalendarData {
        &self.data
    }

    /// Whether the calendar lists `year`.
    pub fn covers(&self, year: i32) -> bool {
        self.years.contains(&year)
    }

    pub(crate) fn weekend(&self) -> &[Weekday] {
        &self.data.weekend
    }

    pub(crate) fn is_holiday(&self, date: NaiveDate) -> bool {
        self.days_off.contains(&date)
    }

    pub(crate) fn is_working_weekend(&self, date: NaiveDate) -> bool {
        self.working_weekends.contains(&date)
    }
}

fn validate(data: &CalendarData) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if data.format != CALENDAR_FORMAT {
        errors.push(
            FieldError::new("format", "calendar.format", "unsupported calendar format")
                .with("found", data.format)
                .with("supported", CALENDAR_FORMAT),
        );
    }
    let distinct: BTreeSet<u32> = data
        .weekend
        .iter()
        .map(|d| d.num_days_from_monday())
        .collect();
    if distinct.len() != data.weekend.len() || distinct.len() >= 7 {
        errors.push(FieldError::new(
            "weekend",
            "calendar.weekend",
            "weekend days must be distinct and leave at least one working weekday",
        ));
    }
    if data.years.is_empty() {
        errors.push(FieldError::new(
            "years",
            "calendar.years_empty",
            "a calendar lists at least one year",
        ));
    }
    let mut seen = BTreeMap::new();
    for (i, y) in data.years.iter().enumerate() {
        let prefix = format!("years[{i}]");
        if !crate::standards::validate::YEARS.contains(&y.year) {
            errors.push(
                FieldError::new(
                    format!("{prefix}.year"),
                    "calendar.year",
                    "year out of range",
                )
                .with("value", y.year),
            );
        }
        if seen.insert(y.year, i).is_some() {
            errors.push(
                FieldError::new(
                    format!("{prefix}.year"),
                    "calendar.duplicate_year",
                    "year listed twice",
                )
                .with("value", y.year),
            );
        }
        errors.extend(validate_year(y, data).into_iter().map(|e| e.under(&prefix)));
    }
    errors
}

fn validate_year(y: &CalendarYear, data: &CalendarData) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let outside = |field: String, date: NaiveDate| {
        FieldError::new(
            field,
            "calendar.outside_year",
            "date is not in the year it is listed under",
        )
        .with("date", date)
        .with("year", y.year)
    };
    let mut off = BTreeSet::new();
    for (i, h) in y.holidays.iter().enumerate() {
        for (name, date) in [("first", h.first), ("last", h.last)] {
            if date.year() != y.year {
                errors.push(outside(format!("holidays[{i}].{name}"), date));
            }
        }
        let days = (h.last - h.first).num_days();
        if days < 0 {
            errors.push(
                FieldError::new(
                    format!("holidays[{i}].last"),
                    "calendar.range_order",
                    "last day before first day",
                )
                .with("first", h.first)
                .with("last", h.last),
            );
        } else if days >= MAX_HOLIDAY_DAYS {
            errors.push(
                FieldError::new(
                    format!("holidays[{i}].last"),
                    "calendar.range_length",
                    "holiday too long",
                )
                .with("days", days + 1)
                .with("max", MAX_HOLIDAY_DAYS),
            );
        } else {
            off.extend(h.first.iter_days().take_while(|d| *d <= h.last));
        }
        if h.name.trim().is_empty() {
            errors.push(FieldError::new(
                format!("holidays[{i}].name"),
                "calendar.name",
                "a holiday needs a name",
            ));
        }
    }
    for (i, w) in y.working_weekends.iter().enumerate() {
        let field = format!("working_weekends[{i}].date");
        if w.date.year() != y.year {
            errors.push(outside(field.clone(), w.date));
        }
        if !data.weekend.contains(&w.date.weekday()) {
            errors.push(
                FieldError::new(
                    field.clone(),
                    "calendar.not_weekend",
                    "an exchanged working day must fall on a weekend day",
                )
                .with("date", w.date),
            );
        }
        if off.contains(&w.date) {
            errors.push(
                FieldError::new(
                    field,
                    "calendar.holiday_and_working",
                    "the date is both a holiday and a working day",
                )
                .with("date", w.date),
            );
        }
    }
    errors
}
