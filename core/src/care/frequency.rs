//! How often a care task (or a leader's visit) is owed, and the periods it is owed in.
//!
//! Calendar frequencies divide the county's **local** calendar into aligned periods:
//!
//! | frequency    | periods                                              |
//! |--------------|------------------------------------------------------|
//! | `week`       | Monday – Sunday                                      |
//! | `half_month` | the 1st – 15th, and the 16th – last day of the month |
//! | `month`      | the 1st – last day of the month                      |
//! | `quarter`    | January–March, April–June, July–September, October–December |
//! | `half_year`  | January–June, July–December                          |
//! | `year`       | January – December                                   |
//!
//! A half month is therefore 15 days, then 13 to 16 days (February of a leap year: 1st–15th
//! and 16th–29th). `every_days` (`{"every_days": n}`) is not calendar-aligned: the task is
//! owed within `n` days of the last time it was done (see [`super::status`]).
//!
//! Every calendar period has an ordinal ([`Frequency::index_of`]): consecutive periods have
//! consecutive ordinals, so "how many periods between" is a subtraction.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// The longest `every_days` interval, in days (ten years).
pub const MAX_EVERY_DAYS: u32 = 3660;

/// How often something is owed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    /// Once a week (Monday–Sunday).
    Week,
    /// Once every half month (1st–15th, 16th–last day).
    HalfMonth,
    /// Once a calendar month.
    Month,
    /// Once a calendar quarter.
    Quarter,
    /// Once every half year (January–June, July–December).
    HalfYear,
    /// Once a calendar year.
    Year,
    /// Within this many days of the last time it was done (1 to [`MAX_EVERY_DAYS`]).
    EveryDays(u32),
}

/// One calendar period: its first and last local date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// 1970-01-01 as days from the Common Era (chrono's day numbering).
const UNIX_EPOCH_CE_DAYS: i64 = 719_163;

/// Days since 1970-01-01 (negative before): how the care index stores local dates.
pub fn day_number(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce()) - UNIX_EPOCH_CE_DAYS
}

/// The date of a [`day_number`] (`None` out of chrono's range).
pub fn from_day_number(day: i64) -> Option<NaiveDate> {
    let ce = i32::try_from(day.checked_add(UNIX_EPOCH_CE_DAYS)?).ok()?;
    NaiveDate::from_num_days_from_ce_opt(ce)
}

fn month_ordinal(date: NaiveDate) -> i64 {
    i64::from(date.year()) * 12 + i64::from(date.month0())
}

fn first_of_month(ordinal: i64) -> Option<NaiveDate> {
    let year = i32::try_from(ordinal.div_euclid(12)).ok()?;
    let month = u32::try_from(ordinal.rem_euclid(12)).ok()? + 1;
    NaiveDate::from_ymd_opt(year, month, 1)
}

impl Frequency {
    /// The stored name: `week`, `half_month`, `month`, `quarter`, `half_year`, `year` or
    /// `every_days`.
    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Week => "week",
            Frequency::HalfMonth => "half_month",
            Frequency::Month => "month",
            Frequency::Quarter => "quarter",
            Frequency::HalfYear => "half_year",
            Frequency::Year => "year",
            Frequency::EveryDays(_) => "every_days",
        }
    }

    /// The frequency of a stored name (`every_days` takes its number of days).
    pub fn parse(name: &str, every_days: u32) -> Option<Self> {
        Some(match name {
            "week" => Frequency::Week,
            "half_month" => Frequency::HalfMonth,
            "month" => Frequency::Month,
            "quarter" => Frequency::Quarter,
            "half_year" => Frequency::HalfYear,
            "year" => Frequency::Year,
            "every_days" => Frequency::EveryDays(every_days),
            _ => return None,
        })
    }

    /// Whether the frequency is valid (an `every_days` interval of 1 to [`MAX_EVERY_DAYS`]).
    pub fn is_valid(self) -> bool {
        match self {
            Frequency::EveryDays(n) => (1..=MAX_EVERY_DAYS).contains(&n),
            _ => true,
        }
    }

    /// The ordinal of the calendar period holding `date` (`None` for `every_days`).
    pub fn index_of(self, date: NaiveDate) -> Option<i64> {
        Some(match self {
            // 1970-01-05 was a Monday.
            Frequency::Week => (day_number(date) - 4).div_euclid(7),
            Frequency::HalfMonth => month_ordinal(date) * 2 + i64::from(date.day() > 15),
            Frequency::Month => month_ordinal(date),
            Frequency::Quarter => month_ordinal(date).div_euclid(3),
            Frequency::HalfYear => month_ordinal(date).div_euclid(6),
            Frequency::Year => i64::from(date.year()),
            Frequency::EveryDays(_) => return None,
        })
    }

    /// The first local date of the calendar period with ordinal `index`.
    pub fn start_of_index(self, index: i64) -> Option<NaiveDate> {
        match self {
            Frequency::Week => from_day_number(index.checked_mul(7)?.checked_add(4)?),
            Frequency::HalfMonth => {
                let first = first_of_month(index.div_euclid(2))?;
                if index.rem_euclid(2) == 0 {
                    Some(first)
                } else {
                    first.with_day(16)
                }
            }
            Frequency::Month => first_of_month(index),
            Frequency::Quarter => first_of_month(index.checked_mul(3)?),
            Frequency::HalfYear => first_of_month(index.checked_mul(6)?),
            Frequency::Year => NaiveDate::from_ymd_opt(i32::try_from(index).ok()?, 1, 1),
            Frequency::EveryDays(_) => None,
        }
    }

    /// The calendar period with ordinal `index`.
    pub fn period_of_index(self, index: i64) -> Option<Period> {
        let start = self.start_of_index(index)?;
        let end = self.start_of_index(index.checked_add(1)?)?.pred_opt()?;
        Some(Period { start, end })
    }

    /// The calendar period holding `date` (`None` for `every_days`).
    pub fn period_of(self, date: NaiveDate) -> Option<Period> {
        self.period_of_index(self.index_of(date)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn period(f: Frequency, date: NaiveDate) -> (NaiveDate, NaiveDate) {
        let p = f.period_of(date).unwrap();
        (p.start, p.end)
    }

    #[test]
    fn weeks_run_monday_to_sunday_across_month_and_year_ends() {
        // 2025-01-01 is a Wednesday.
        assert_eq!(
            period(Frequency::Week, d(2025, 1, 1)),
            (d(2024, 12, 30), d(2025, 1, 5))
        );
        assert_eq!(
            period(Frequency::Week, d(2025, 1, 5)),
            (d(2024, 12, 30), d(2025, 1, 5))
        );
        assert_eq!(
            period(Frequency::Week, d(2025, 1, 6)),
            (d(2025, 1, 6), d(2025, 1, 12))
        );
        // Before 1970 the ordinal stays aligned on Mondays.
        assert_eq!(
            period(Frequency::Week, d(1969, 12, 31)),
            (d(1969, 12, 29), d(1970, 1, 4))
        );
    }

    #[test]
    fn half_months_split_on_the_fifteenth_whatever_the_month_length() {
        let f = Frequency::HalfMonth;
        assert_eq!(period(f, d(2025, 1, 15)), (d(2025, 1, 1), d(2025, 1, 15)));
        assert_eq!(period(f, d(2025, 1, 16)), (d(2025, 1, 16), d(2025, 1, 31)));
        assert_eq!(period(f, d(2025, 2, 28)), (d(2025, 2, 16), d(2025, 2, 28)));
        assert_eq!(period(f, d(2024, 2, 29)), (d(2024, 2, 16), d(2024, 2, 29)));
        assert_eq!(period(f, d(2025, 4, 30)), (d(2025, 4, 16), d(2025, 4, 30)));
        assert_eq!(
            period(f, d(2025, 12, 31)),
            (d(2025, 12, 16), d(2025, 12, 31))
        );
        let next = f.index_of(d(2025, 12, 31)).unwrap() + 1;
        assert_eq!(f.start_of_index(next), Some(d(2026, 1, 1)));
    }

    #[test]
    fn months_quarters_half_years_and_years_end_on_their_last_day() {
        assert_eq!(
            period(Frequency::Month, d(2024, 2, 10)),
            (d(2024, 2, 1), d(2024, 2, 29))
        );
        assert_eq!(
            period(Frequency::Month, d(2023, 2, 10)),
            (d(2023, 2, 1), d(2023, 2, 28))
        );
        assert_eq!(
            period(Frequency::Month, d(2025, 1, 31)),
            (d(2025, 1, 1), d(2025, 1, 31))
        );
        assert_eq!(
            period(Frequency::Quarter, d(2025, 5, 5)),
            (d(2025, 4, 1), d(2025, 6, 30))
        );
        assert_eq!(
            period(Frequency::HalfYear, d(2025, 6, 30)),
            (d(2025, 1, 1), d(2025, 6, 30))
        );
        assert_eq!(
            period(Frequency::HalfYear, d(2025, 7, 1)),
            (d(2025, 7, 1), d(2025, 12, 31))
        );
        assert_eq!(
            period(Frequency::Year, d(2024, 2, 29)),
            (d(2024, 1, 1), d(2024, 12, 31))
        );
        assert_eq!(Frequency::EveryDays(3).period_of(d(2025, 1, 1)), None);
    }

    #[test]
    fn consecutive_periods_have_consecutive_ordinals() {
        for f in [
            Frequency::Week,
            Frequency::HalfMonth,
            Frequency::Month,
            Frequency::Quarter,
            Frequency::HalfYear,
            Frequency::Year,
        ] {
            let mut day = d(2023, 12, 1);
            while day < d(2025, 3, 1) {
                let p = f.period_of(day).unwrap();
                assert!(p.start <= day && day <= p.end, "{f:?} {day}");
                let next = p.end.succ_opt().unwrap();
                assert_eq!(f.index_of(next), Some(f.index_of(day).unwrap() + 1));
                day = day.succ_opt().unwrap();
            }
        }
    }

    #[test]
    fn names_and_day_numbers_round_trip() {
        for f in [
            Frequency::Week,
            Frequency::HalfMonth,
            Frequency::Month,
            Frequency::Quarter,
            Frequency::HalfYear,
            Frequency::Year,
            Frequency::EveryDays(10),
        ] {
            let n = if let Frequency::EveryDays(n) = f {
                n
            } else {
                0
            };
            assert_eq!(Frequency::parse(f.as_str(), n), Some(f));
        }
        assert_eq!(Frequency::parse("fortnight", 0), None);
        assert_eq!(day_number(d(1970, 1, 1)), 0);
        assert_eq!(
            from_day_number(day_number(d(2024, 2, 29))),
            Some(d(2024, 2, 29))
        );
        assert!(!Frequency::EveryDays(0).is_valid());
        assert_eq!(
            serde_json::to_string(&Frequency::EveryDays(3)).unwrap(),
            r#"{"every_days":3}"#
        );
        assert_eq!(
            serde_json::from_str::<Frequency>(r#""half_month""#).unwrap(),
            Frequency::HalfMonth
        );
    }
}
