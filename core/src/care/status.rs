//! Done, due, due soon or overdue: the status of a recurring task (or of a leader's visits)
//! on a local date `D`, from its frequency, the day it was planned from and the last local
//! date it was done on or before `D`.
//!
//! **Calendar frequencies** (week, half month, month, quarter, half year, year; periods in
//! [`super::frequency`]). Let `C` be the period holding `D` and `P` the one before.
//!
//! - A period is *owed* when the task was planned from its first day or earlier: the period
//!   in which a task starts (enrolment on a Wednesday, for a weekly task) is not owed — work
//!   done in it counts, but missing it makes nothing overdue.
//! - **done**: an entry dated (local date) in `C`, on or before `D`. Two entries in one period
//!   count once.
//! - **overdue**: no entry in `C` so far, and `P` was owed and ended without an entry.
//!   *Overdue since* is the day after the first missed owed period ended (the day after its
//!   deadline); *missed periods* counts the owed periods since the last entry that ended
//!   without one.
//! - **due soon**: neither, and `C`'s last day (the deadline) is at most `due_soon_days` days
//!   after `D` (0: the deadline is today).
//! - **due**: otherwise; the deadline is `C`'s last day.
//!
//! Equivalently, with `L` the last entry's local date on or before `D` and `start(P)` the
//! first day of `P`: overdue ⇔ `planned_from ≤ start(P)` and (`L` is none or
//! `L < start(P)`) — the rule the store's list query runs in SQL.
//!
//! **Every `n` days.** The task counts from `A` = the later of `L` and the day it was planned
//! from; its deadline is `A + n`. Overdue from `A + n + 1` (⇔ `L < D − n` and
//! `planned_from < D − n`); due soon within `due_soon_days` of the deadline; otherwise done
//! when it has been done since it was planned, due when not yet.
//!
//! Entry dates are the county's local dates ([`crate::calendar::CountyClock`]): a task done
//! at 2025-01-31T16:30Z is done on 2025-02-01 in UTC+8.

use chrono::{Duration, NaiveDate};
use serde::Serialize;

use super::frequency::Frequency;

/// Where a task stands on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DueState {
    /// Done in the current period (every `n` days: recently enough).
    Done,
    /// Not done yet; the deadline is not near.
    Due,
    /// Not done yet; the deadline is within the due-soon window.
    DueSoon,
    /// An owed period ended without it and it is not done since.
    Overdue,
}

impl DueState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            DueState::Done => "done",
            DueState::Due => "due",
            DueState::DueSoon => "due_soon",
            DueState::Overdue => "overdue",
        }
    }
}

/// The status of a recurring obligation on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeriodStatus {
    pub state: DueState,
    /// First day of the current period (every `n` days: the day the interval counts from).
    pub period_start: NaiveDate,
    /// The last day to do it in the current period (every `n` days: the anchor + `n`).
    pub deadline: NaiveDate,
    /// The last local date it was done on or before the date asked about.
    pub last_done_on: Option<NaiveDate>,
    /// When overdue: the first day it was overdue.
    pub overdue_since: Option<NaiveDate>,
    /// When overdue: how many owed periods ended without an entry since the last one.
    pub missed_periods: u32,
}

/// What the status of one obligation is computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub frequency: Frequency,
    /// The first day it is planned (the plan must still hold on the date asked about).
    pub planned_from: NaiveDate,
    /// The due-soon window in days.
    pub due_soon_days: u32,
}

impl Schedule {
    /// The status on `on`, given the last local date it was done on or before `on` (later
    /// dates are ignored). `None` before `planned_from` or for an invalid frequency.
    pub fn status_on(
        &self,
        last_done_on: Option<NaiveDate>,
        on: NaiveDate,
    ) -> Option<PeriodStatus> {
        if on < self.planned_from {
            return None;
        }
        let last = last_done_on.filter(|l| *l <= on);
        match self.frequency {
            Frequency::EveryDays(n) => self.every_days(n, last, on),
            f => self.calendar(f, last, on),
        }
    }

    fn calendar(
        &self,
        f: Frequency,
        last: Option<NaiveDate>,
        on: NaiveDate,
    ) -> Option<PeriodStatus> {
        let current = f.index_of(on)?;
        let period = f.period_of_index(current)?;
        let planned_index = f.index_of(self.planned_from)?;
        let first_owed = if f.start_of_index(planned_index)? == self.planned_from {
            planned_index
        } else {
            planned_index + 1
        };
        let done_index = last.and_then(|l| f.index_of(l));
        let mut status = PeriodStatus {
            state: DueState::Due,
            period_start: period.start,
            deadline: period.end,
            last_done_on: last,
            overdue_since: None,
            missed_periods: 0,
        };
        if done_index == Some(current) {
            status.state = DueState::Done;
            return Some(status);
        }
        let first_missed = done_index.map_or(first_owed, |i| first_owed.max(i + 1));
        if first_missed < current {
            status.state = DueState::Overdue;
            status.overdue_since = f.start_of_index(first_missed + 1);
            status.missed_periods = u32::try_from(current - first_missed).unwrap_or(u32::MAX);
        } else if (period.end - on).num_days() <= i64::from(self.due_soon_days) {
            status.state = DueState::DueSoon;
        }
        Some(status)
    }

    fn every_days(&self, n: u32, last: Option<NaiveDate>, on: NaiveDate) -> Option<PeriodStatus> {
        if n == 0 {
            return None;
        }
        let done_since_planned = last.filter(|l| *l >= self.planned_from);
        let anchor = done_since_planned.unwrap_or(self.planned_from);
        let deadline = anchor.checked_add_signed(Duration::days(i64::from(n)))?;
        let mut status = PeriodStatus {
            state: DueState::Due,
            period_start: anchor,
            deadline,
            last_done_on: last,
            overdue_since: None,
            missed_periods: 0,
        };
        if on > deadline {
            status.state = DueState::Overdue;
            status.overdue_since = deadline.succ_opt();
            let late = (on - anchor).num_days() - 1;
            status.missed_periods = u32::try_from(late / i64::from(n)).unwrap_or(u32::MAX);
        } else if (deadline - on).num_days() <= i64::from(self.due_soon_days) {
            status.state = DueState::DueSoon;
        } else if done_since_planned.is_some() {
            status.state = DueState::Done;
        }
        Some(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn schedule(frequency: Frequency, planned_from: NaiveDate) -> Schedule {
        Schedule {
            frequency,
            planned_from,
            due_soon_days: 2,
        }
    }

    fn state(s: &Schedule, last: Option<NaiveDate>, on: NaiveDate) -> DueState {
        s.status_on(last, on).unwrap().state
    }

    #[test]
    fn a_weekly_task_is_done_due_soon_then_overdue_from_the_monday_after_a_missed_week() {
        let s = schedule(Frequency::Week, d(2025, 1, 6)); // a Monday
        assert_eq!(state(&s, None, d(2025, 1, 8)), DueState::Due);
        assert_eq!(state(&s, None, d(2025, 1, 10)), DueState::DueSoon); // Friday: 2 days left
        assert_eq!(state(&s, None, d(2025, 1, 12)), DueState::DueSoon); // Sunday: the deadline
        let late = s.status_on(None, d(2025, 1, 13)).unwrap();
        assert_eq!(late.state, DueState::Overdue);
        assert_eq!(late.overdue_since, Some(d(2025, 1, 13)));
        assert_eq!(late.missed_periods, 1);
        // Done this week: done, whatever came before.
        assert_eq!(
            state(&s, Some(d(2025, 1, 13)), d(2025, 1, 13)),
            DueState::Done
        );
        // Done last week, not yet this week: due, not overdue.
        assert_eq!(
            state(&s, Some(d(2025, 1, 12)), d(2025, 1, 14)),
            DueState::Due
        );
        // Three weeks missed after the last entry.
        let long = s.status_on(Some(d(2025, 1, 7)), d(2025, 2, 5)).unwrap();
        assert_eq!(long.overdue_since, Some(d(2025, 1, 20)));
        assert_eq!(long.missed_periods, 3);
        // Not planned yet.
        assert!(s.status_on(None, d(2025, 1, 5)).is_none());
    }

    #[test]
    fn the_period_a_task_starts_in_is_not_owed() {
        let s = schedule(Frequency::Week, d(2025, 1, 8)); // a Wednesday
        assert_eq!(state(&s, None, d(2025, 1, 13)), DueState::Due);
        let late = s.status_on(None, d(2025, 1, 20)).unwrap();
        assert_eq!(late.state, DueState::Overdue);
        assert_eq!(late.overdue_since, Some(d(2025, 1, 20)));
        assert_eq!(late.missed_periods, 1);
    }

    #[test]
    fn half_months_in_february_of_a_leap_year_and_in_31_day_months() {
        let s = schedule(Frequency::HalfMonth, d(2024, 1, 1));
        // Done on 1 February: 1–15 February is done; 16–29 February is not.
        assert_eq!(
            state(&s, Some(d(2024, 2, 1)), d(2024, 2, 15)),
            DueState::Done
        );
        let second_half = s.status_on(Some(d(2024, 2, 1)), d(2024, 2, 27)).unwrap();
        assert_eq!(second_half.state, DueState::DueSoon);
        assert_eq!(second_half.deadline, d(2024, 2, 29));
        assert_eq!(
            state(&s, Some(d(2024, 2, 1)), d(2024, 2, 26)),
            DueState::Due
        );
        // Nothing in 16–29 February: overdue on 1 March, since 1 March.
        let march = s.status_on(Some(d(2024, 2, 1)), d(2024, 3, 1)).unwrap();
        assert_eq!(march.state, DueState::Overdue);
        assert_eq!(march.overdue_since, Some(d(2024, 3, 1)));
        // 16–31 January: the 31st is in it, the 1st of February is not.
        assert_eq!(
            state(&s, Some(d(2024, 1, 31)), d(2024, 2, 1)),
            DueState::Due
        );
        assert_eq!(
            state(&s, Some(d(2024, 1, 15)), d(2024, 2, 1)),
            DueState::Overdue
        );
    }

    #[test]
    fn months_end_on_their_last_day_and_half_years_in_june_and_december() {
        let monthly = schedule(Frequency::Month, d(2023, 1, 1));
        let feb = monthly.status_on(None, d(2023, 2, 27)).unwrap();
        assert_eq!(feb.deadline, d(2023, 2, 28));
        assert_eq!(feb.state, DueState::Overdue); // January was owed and missed
        assert_eq!(
            state(&monthly, Some(d(2023, 1, 31)), d(2023, 2, 25)),
            DueState::Due
        );
        assert_eq!(
            state(&monthly, Some(d(2023, 1, 31)), d(2023, 2, 28)),
            DueState::DueSoon
        );
        assert_eq!(
            state(&monthly, Some(d(2023, 1, 31)), d(2023, 3, 1)),
            DueState::Overdue
        );
        let half_year = schedule(Frequency::HalfYear, d(2024, 1, 1));
        assert_eq!(
            state(&half_year, Some(d(2024, 6, 30)), d(2024, 12, 31)),
            DueState::DueSoon
        );
        let next = half_year
            .status_on(Some(d(2024, 6, 30)), d(2025, 1, 1))
            .unwrap();
        assert_eq!(next.state, DueState::Overdue);
        assert_eq!(next.overdue_since, Some(d(2025, 1, 1)));
    }

    #[test]
    fn entries_after_the_date_asked_about_do_not_count() {
        let s = schedule(Frequency::Week, d(2025, 1, 6));
        // Asked about 14 January, the entry of the 20th is in the future: the week of
        // 6 January was missed.
        assert_eq!(
            state(&s, Some(d(2025, 1, 20)), d(2025, 1, 14)),
            DueState::Overdue
        );
        assert_eq!(
            state(&s, Some(d(2025, 1, 20)), d(2025, 1, 20)),
            DueState::Done
        );
    }

    #[test]
    fn every_n_days_counts_from_the_last_time_it_was_done() {
        let s = Schedule {
            frequency: Frequency::EveryDays(10),
            planned_from: d(2025, 3, 1),
            due_soon_days: 2,
        };
        assert_eq!(state(&s, None, d(2025, 3, 5)), DueState::Due);
        assert_eq!(state(&s, None, d(2025, 3, 9)), DueState::DueSoon);
        let late = s.status_on(None, d(2025, 3, 12)).unwrap();
        assert_eq!(
            (late.state, late.overdue_since),
            (DueState::Overdue, Some(d(2025, 3, 12)))
        );
        assert_eq!(late.missed_periods, 1);
        assert_eq!(
            state(&s, Some(d(2025, 3, 4)), d(2025, 3, 6)),
            DueState::Done
        );
        assert_eq!(
            state(&s, Some(d(2025, 3, 4)), d(2025, 3, 14)),
            DueState::DueSoon
        );
        assert_eq!(
            state(&s, Some(d(2025, 3, 4)), d(2025, 3, 15)),
            DueState::Overdue
        );
        // Done before it was planned: counts from the plan.
        assert_eq!(
            state(&s, Some(d(2025, 2, 27)), d(2025, 3, 5)),
            DueState::Due
        );
    }
}
