//! Counting working days with a [`WorkingCalendar`].
//!
//! A day is a working day unless it is a listed holiday, or a weekend day that is not listed
//! as an exchanged working day (调休). Periods are counted the way the Civil Code counts
//! them (Art. 201: the day an act happens is not counted, counting starts the next day):
//! "within 3 working days of acceptance on day A" ends on `add_working_days(A, 3)`, the
//! third working day after A, and `working_days_between(A, B)` counts the working days
//! after A up to and including B, so `working_days_between(a, add_working_days(a, n)) == n`.

use chrono::{Datelike, NaiveDate};

use super::WorkingCalendar;
use crate::error::{Error, FieldError};

/// The most working days one call may count (ten years): a guard against runaway input.
pub const MAX_WORKING_DAYS: u32 = 2_600;

/// Why a working-day question cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The calendar does not list the year of a date the question needs.
    #[error("the working-day calendar does not cover {year}; load the calendar for that year")]
    YearNotCovered { year: i32 },
    /// More working days than [`MAX_WORKING_DAYS`] were asked for.
    #[error("{requested} working days is more than the {max} one call counts")]
    TooManyDays { requested: u32, max: u32 },
    /// A date past the end of the calendar type.
    #[error("date out of range")]
    DateOutOfRange,
}

impl CalendarError {
    /// Stable code for localized messages.
    pub fn code(&self) -> &'static str {
        match self {
            CalendarError::YearNotCovered { .. } => "calendar.year_missing",
            CalendarError::TooManyDays { .. } => "calendar.too_many_days",
            CalendarError::DateOutOfRange => "calendar.date_range",
        }
    }
}

impl From<CalendarError> for Error {
    fn from(e: CalendarError) -> Self {
        let mut field = FieldError::new("calendar", e.code(), e.to_string());
        match &e {
            CalendarError::YearNotCovered { year } => field = field.with("year", year),
            CalendarError::TooManyDays { requested, max } => {
                field = field.with("requested", requested).with("max", max)
            }
            CalendarError::DateOutOfRange => {}
        }
        Error::invalid(field)
    }
}

impl WorkingCalendar {
    /// Whether `date` is a working day.
    pub fn is_working_day(&self, date: NaiveDate) -> Result<bool, CalendarError> {
        if !self.covers(date.year()) {
            return Err(CalendarError::YearNotCovered { year: date.year() });
        }
        if self.is_holiday(date) {
            return Ok(false);
        }
        Ok(!self.weekend().contains(&date.weekday()) || self.is_working_weekend(date))
    }

    /// The `n`-th working day after `date` (`date` itself is not counted; `n = 0` gives
    /// `date`).
    pub fn add_working_days(&self, date: NaiveDate, n: u32) -> Result<NaiveDate, CalendarError> {
        if n > MAX_WORKING_DAYS {
            return Err(CalendarError::TooManyDays {
                requested: n,
                max: MAX_WORKING_DAYS,
            });
        }
        let mut day = date;
        let mut left = n;
        while left > 0 {
            day = day.succ_opt().ok_or(CalendarError::DateOutOfRange)?;
            if self.is_working_day(day)? {
                left -= 1;
            }
        }
        Ok(day)
    }

    /// The working days after `from` up to and including `to` (0 when `to <= from`).
    pub fn working_days_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<u32, CalendarError> {
        let mut count = 0u32;
        let mut day = from;
        while day < to {
            day = day.succ_opt().ok_or(CalendarError::DateOutOfRange)?;
            if self.is_working_day(day)? {
                count += 1;
                if count > MAX_WORKING_DAYS {
                    return Err(CalendarError::TooManyDays {
                        requested: count,
                        max: MAX_WORKING_DAYS,
                    });
                }
            }
        }
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::super::SAMPLE_CALENDAR_JSON;
    use super::*;

    fn cal() -> WorkingCalendar {
        WorkingCalendar::from_json(SAMPLE_CALENDAR_JSON).unwrap()
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn weekdays_weekends_holidays_and_exchanged_saturdays() {
        let c = cal();
        assert!(c.is_working_day(d(2024, 10, 9)).unwrap()); // Wednesday
        assert!(!c.is_working_day(d(2024, 10, 19)).unwrap()); // Saturday
        assert!(!c.is_working_day(d(2024, 10, 3)).unwrap()); // National Day, Thursday
        assert!(c.is_working_day(d(2024, 10, 12)).unwrap()); // 调休 Saturday
        assert!(c.is_working_day(d(2024, 9, 29)).unwrap()); // 调休 Sunday
        assert!(!c.is_working_day(d(2025, 10, 8)).unwrap()); // 2025 holiday, Wednesday
    }

    #[test]
    fn a_national_day_week_pushes_a_three_working_day_deadline_past_it() {
        let c = cal();
        // Accepted Friday 27 September 2024: Sun 29 (调休) is day 1, Mon 30 day 2,
        // 1–7 October off, Tue 8 October day 3.
        assert_eq!(
            c.add_working_days(d(2024, 9, 27), 3).unwrap(),
            d(2024, 10, 8)
        );
        // Accepted Monday 30 September: 1–7 off, 8, 9, 10.
        assert_eq!(
            c.add_working_days(d(2024, 9, 30), 3).unwrap(),
            d(2024, 10, 10)
        );
        assert_eq!(
            c.working_days_between(d(2024, 9, 30), d(2024, 10, 7))
                .unwrap(),
            0
        );
        assert_eq!(
            c.working_days_between(d(2024, 9, 30), d(2024, 10, 10))
                .unwrap(),
            3
        );
    }

    #[test]
    fn a_deadline_counted_from_friday_lands_on_the_exchanged_saturday() {
        let c = cal();
        // Fri 11 October 2024 + 1 working day = Sat 12 October (调休 working day).
        assert_eq!(
            c.add_working_days(d(2024, 10, 11), 1).unwrap(),
            d(2024, 10, 12)
        );
        // An ordinary Friday + 1 is the Monday.
        assert_eq!(
            c.add_working_days(d(2024, 10, 18), 1).unwrap(),
            d(2024, 10, 21)
        );
    }

    #[test]
    fn counting_and_adding_agree_across_the_year_end() {
        let c = cal();
        let start = d(2024, 12, 2);
        for n in [0, 1, 5, 10, 20, 30, 45, 60] {
            let end = c.add_working_days(start, n).unwrap();
            assert_eq!(c.working_days_between(start, end).unwrap(), n, "n = {n}");
        }
        // 1 January 2025 is a holiday: Tue 31 Dec + 1 = Thu 2 Jan.
        assert_eq!(
            c.add_working_days(d(2024, 12, 31), 1).unwrap(),
            d(2025, 1, 2)
        );
        assert_eq!(
            c.working_days_between(d(2024, 12, 5), d(2024, 12, 1))
                .unwrap(),
            0
        );
    }

    #[test]
    fn the_sample_years_have_the_announced_number_of_working_days() {
        let c = cal();
        assert_eq!(
            c.working_days_between(d(2023, 12, 31), d(2024, 12, 31))
                .unwrap(),
            251
        );
        assert_eq!(
            c.working_days_between(d(2024, 12, 31), d(2025, 12, 31))
                .unwrap(),
            248
        );
    }

    #[test]
    fn a_year_the_calendar_lacks_is_an_error_not_a_guess() {
        let c = cal();
        assert_eq!(
            c.is_working_day(d(2026, 1, 5)),
            Err(CalendarError::YearNotCovered { year: 2026 })
        );
        assert_eq!(
            c.add_working_days(d(2025, 12, 20), 30),
            Err(CalendarError::YearNotCovered { year: 2026 })
        );
        assert_eq!(
            c.add_working_days(d(2024, 1, 1), MAX_WORKING_DAYS + 1),
            Err(CalendarError::TooManyDays {
                requested: MAX_WORKING_DAYS + 1,
                max: MAX_WORKING_DAYS
            })
        );
        let e: Error = CalendarError::YearNotCovered { year: 2026 }.into();
        assert_eq!(e.field_errors()[0].code, "calendar.year_missing");
        assert_eq!(e.field_errors()[0].params["year"], "2026");
    }

    #[test]
    fn invalid_calendars_name_the_field() {
        let json = r#"{"format": 1, "years": [{"year": 2024,
            "holidays": [{"name": "x", "first": "2024-10-07", "last": "2024-10-01"},
                         {"name": "y", "first": "2025-01-01", "last": "2025-01-01"},
                         {"name": "z", "first": "2024-05-01", "last": "2024-05-05"}],
            "working_weekends": [{"date": "2024-10-09"}, {"date": "2024-05-04"}]},
            {"year": 2024}]}"#;
        let err = WorkingCalendar::from_json(json).unwrap_err();
        let found: Vec<(String, &str)> = err
            .field_errors()
            .iter()
            .map(|e| (e.field.clone(), e.code))
            .collect();
        for expected in [
            ("years[0].holidays[0].last", "calendar.range_order"),
            ("years[0].holidays[1].first", "calendar.outside_year"),
            ("years[0].working_weekends[0].date", "calendar.not_weekend"),
            (
                "years[0].working_weekends[1].date",
                "calendar.holiday_and_working",
            ),
            ("years[1].year", "calendar.duplicate_year"),
        ] {
            assert!(
                found.contains(&(expected.0.to_owned(), expected.1)),
                "{expected:?} in {found:?}"
            );
        }
        let all_week = r#"{"format": 1, "weekend": ["Mon","Tue","Wed","Thu","Fri","Sat","Sun"], "years": [{"year": 2024}]}"#;
        assert_eq!(
            WorkingCalendar::from_json(all_week)
                .unwrap_err()
                .field_errors()[0]
                .code,
            "calendar.weekend"
        );
        assert_eq!(
            WorkingCalendar::from_json(r#"{"format": 1, "years": [], "extra": 1}"#)
                .unwrap_err()
                .field_errors()[0]
                .code,
            "calendar.json"
        );
    }
}
