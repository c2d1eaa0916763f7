//! Dates in the county's time zone.
//!
//! Deadlines are local dates: a deadline on day D is met by anything done before local
//! midnight at the end of D, and missed from 00:00 local on D + 1. The zone is a fixed offset
//! from UTC in seconds, as the store's `utc_offset_seconds` (China: +8 h, no daylight
//! saving), so no time-zone database is needed.

use chrono::{DateTime, FixedOffset, NaiveDate, Offset, Utc};

use crate::error::{Error, FieldError, Result};

/// The default offset: China Standard Time, UTC+8.
pub const CHINA_UTC_OFFSET_SECONDS: i32 = 8 * 3600;

/// The county's clock: turns instants into local dates and back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountyClock {
    offset: FixedOffset,
}

impl Default for CountyClock {
    /// UTC+8 ([`CHINA_UTC_OFFSET_SECONDS`]).
    fn default() -> Self {
        Self {
            // +8 h is always a valid offset; UTC is an unreachable fallback.
            offset: FixedOffset::east_opt(CHINA_UTC_OFFSET_SECONDS).unwrap_or(Utc.fix()),
        }
    }
}

impl CountyClock {
    /// A clock `utc_offset_seconds` east of UTC (−12 h to +14 h).
    pub fn new(utc_offset_seconds: i32) -> Result<Self> {
        let in_range = (-12 * 3600..=14 * 3600).contains(&utc_offset_seconds);
        let offset = FixedOffset::east_opt(utc_offset_seconds).filter(|_| in_range);
        offset.map(|offset| Self { offset }).ok_or_else(|| {
            Error::invalid(
                FieldError::new(
                    "utc_offset_seconds",
                    "range",
                    "time zone offset out of range",
                )
                .with("value", utc_offset_seconds),
            )
        })
    }

    /// The offset in seconds east of UTC.
    pub fn utc_offset_seconds(&self) -> i32 {
        self.offset.local_minus_utc()
    }

    /// The local date of an instant.
    pub fn local_date(&self, instant: DateTime<Utc>) -> NaiveDate {
        instant.with_timezone(&self.offset).date_naive()
    }

    /// The instant local `date` begins (00:00 local).
    pub fn start_of_day(&self, date: NaiveDate) -> DateTime<Utc> {
        let local = date.and_time(chrono::NaiveTime::MIN);
        DateTime::<Utc>::from_naive_utc_and_offset(local - self.offset_duration(), Utc)
    }

    /// Whether a deadline on local day `deadline` has passed at `now`: true from 00:00
    /// local on the following day.
    pub fn is_past(&self, deadline: NaiveDate, now: DateTime<Utc>) -> bool {
        self.local_date(now) > deadline
    }

    fn offset_duration(&self) -> chrono::Duration {
        chrono::Duration::seconds(i64::from(self.offset.local_minus_utc()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn an_instant_either_side_of_local_midnight_falls_on_different_days() {
        let clock = CountyClock::default();
        assert_eq!(clock.utc_offset_seconds(), 8 * 3600);
        let before = Utc.with_ymd_and_hms(2024, 10, 8, 15, 59, 59).unwrap(); // 23:59:59 +08
        let after = Utc.with_ymd_and_hms(2024, 10, 8, 16, 0, 0).unwrap(); // 00:00:00 +08
        let day = NaiveDate::from_ymd_opt(2024, 10, 8).unwrap();
        assert_eq!(clock.local_date(before), day);
        assert_eq!(clock.local_date(after), day.succ_opt().unwrap());
        assert!(!clock.is_past(day, before));
        assert!(clock.is_past(day, after));
        assert_eq!(clock.start_of_day(day.succ_opt().unwrap()), after);
        // In UTC both instants are on 8 October.
        assert_eq!(CountyClock::new(0).unwrap().local_date(after), day);
    }

    #[test]
    fn offsets_out_of_range_are_refused() {
        assert!(CountyClock::new(15 * 3600).is_err());
        assert!(CountyClock::new(-13 * 3600).is_err());
        assert_eq!(
            CountyClock::new(-5 * 3600).unwrap().utc_offset_seconds(),
            -18_000
        );
    }
}
