//! Every deadline rule of a case with the sample calendar: the National Day week, a 调休
//! Saturday, local midnight in UTC+8, the 10- and 30/45-working-day limits, reviews.
#![allow(clippy::unwrap_used)]

mod cases_common;

use cases_common::*;

#[test]
fn the_investigation_starts_within_three_working_days_across_the_national_day_week() {
    let mut r = Run::new();
    let c = r.accepted(at(2024, 9, 27)); // Friday
    let start = duty(&c, &r, DutyKind::StartInvestigation);
    // Sun 29 September (调休) 1, Mon 30 2, 1–7 October off, Tue 8 October 3.
    assert_eq!(
        (start.opens_on, start.due_on),
        (d(2024, 9, 27), d(2024, 10, 8))
    );
    // Due until local midnight at the end of 8 October, overdue from 00:00 on the 9th.
    let before = Utc.with_ymd_and_hms(2024, 10, 8, 15, 59, 59).unwrap();
    let after = Utc.with_ymd_and_hms(2024, 10, 8, 16, 0, 0).unwrap();
    assert_eq!(
        due_status(&c, &r, before, DutyKind::StartInvestigation),
        Some(DueStatus::Due)
    );
    assert_eq!(
        due_status(&c, &r, after, DutyKind::StartInvestigation),
        Some(DueStatus::Overdue)
    );
    // Started in time: the duty is gone.
    let mut c = c;
    r.ok(&mut c, before, CaseEvent::StartInvestigation);
    assert_eq!(
        due_status(&c, &r, after, DutyKind::StartInvestigation),
        None
    );
}

#[test]
fn a_deadline_can_fall_on_an_exchanged_saturday() {
    let mut r = Run::with(CasePolicy {
        investigation_start_working_days: 1,
        ..CasePolicy::default()
    });
    let c = r.accepted(at(2024, 10, 11)); // Friday; Saturday 12 October is a working day
    assert_eq!(
        duty(&c, &r, DutyKind::StartInvestigation).due_on,
        d(2024, 10, 12)
    );
    let r3 = Run::new();
    let mut r3 = r3;
    let c = r3.accepted(at(2024, 10, 11));
    assert_eq!(
        duty(&c, &r3, DutyKind::StartInvestigation).due_on,
        d(2024, 10, 15)
    ); // 12, 14, 15
}

#[test]
fn the_county_decides_within_ten_working_days_and_the_whole_within_thirty_or_forty_five() {
    let mut r = Run::new();
    let c = r.at_county(at(2024, 9, 23)); // accepted and at the county on Monday 23 September
    let county = duty(&c, &r, DutyKind::CountyDecision);
    // 24, 25, 26, 27, 29 (调休), 30, 8, 9, 10, 11 October.
    assert_eq!(
        (county.opens_on, county.due_on),
        (d(2024, 9, 23), d(2024, 10, 11))
    );
    let total = duty(&c, &r, DutyKind::DecideApplication);
    assert_eq!(
        total.due_on,
        r.calendar.add_working_days(d(2024, 9, 23), 30).unwrap()
    );
    assert_eq!(total.due_on, d(2024, 11, 7)); // 12 October (调休) counts
    assert_eq!(
        c.working_days_used(d(2024, 10, 12), &r.ctx()).unwrap(),
        Some(11)
    );
    let mut special = c.clone();
    r.ok(
        &mut special,
        at(2024, 9, 24),
        CaseEvent::MarkSpecial {
            reason: "需跨省核对".into(),
        },
    );
    assert!(special.special);
    assert_eq!(special.total_limit(&r.ctx()), 45);
    assert_eq!(
        duty(&special, &r, DutyKind::DecideApplication).due_on,
        d(2024, 11, 28)
    );
    // After the decision the application's deadlines are gone and the days used stop.
    let mut decided = c;
    r.ok(&mut decided, at(2024, 9, 30), decision(true, true));
    assert!(decided
        .duties(&r.ctx())
        .unwrap()
        .iter()
        .all(|d| d.kind == DutyKind::PeriodicReview));
    assert_eq!(
        decided.working_days_used(d(2025, 6, 1), &r.ctx()).unwrap(),
        Some(6)
    );
}

#[test]
fn publicity_must_be_closed_after_its_last_day_within_the_total() {
    let mut r = Run::new();
    let mut c = r.accepted(at(2024, 9, 2));
    r.ok(&mut c, at(2024, 9, 3), CaseEvent::StartInvestigation);
    r.ok(
        &mut c,
        at(2024, 9, 3),
        CaseEvent::CompleteInvestigation { visit_id: None },
    );
    r.ok(&mut c, at(2024, 9, 4), opinion(true));
    let close = duty(&c, &r, DutyKind::ClosePublicity);
    assert_eq!(close.opens_on, d(2024, 9, 12));
    assert_eq!(
        close.due_on,
        duty(&c, &r, DutyKind::DecideApplication).due_on
    );
    assert_eq!(
        due_status(&c, &r, at(2024, 9, 11), DutyKind::ClosePublicity),
        None
    ); // not yet listed
    assert_eq!(
        due_status(&c, &r, at(2024, 9, 12), DutyKind::ClosePublicity),
        Some(DueStatus::Due)
    );
}

#[test]
fn periodic_reviews_are_yearly_or_half_yearly_and_listed_thirty_days_ahead() {
    let mut r = Run::new();
    let stable = r.receiving(at(2024, 9, 20), true);
    let review = duty(&stable, &r, DutyKind::PeriodicReview);
    assert_eq!(
        (review.opens_on, review.due_on),
        (d(2025, 9, 1), d(2025, 10, 1))
    );
    let unstable = r.receiving(at(2024, 9, 20), false);
    assert_eq!(
        duty(&unstable, &r, DutyKind::PeriodicReview).due_on,
        d(2025, 4, 1)
    );
    assert_eq!(
        due_status(&stable, &r, at(2025, 8, 31), DutyKind::PeriodicReview),
        None
    );
    assert_eq!(
        due_status(&stable, &r, at(2025, 9, 1), DutyKind::PeriodicReview),
        Some(DueStatus::Due)
    );
    assert_eq!(
        due_status(&stable, &r, at(2025, 10, 2), DutyKind::PeriodicReview),
        Some(DueStatus::Overdue)
    );
}

#[test]
fn a_gradual_exit_is_reviewed_in_its_last_month() {
    let mut r = Run::new();
    let mut c = r.receiving(at(2024, 9, 20), true);
    r.ok(
        &mut c,
        at(2025, 1, 15),
        CaseEvent::StartGradualExit {
            cause: ExitCause::Employment,
            months: 6,
        },
    );
    let review = duty(&c, &r, DutyKind::GradualExitReview);
    assert_eq!(
        (review.opens_on, review.due_on),
        (d(2025, 6, 15), d(2025, 7, 14))
    );
    assert_eq!(
        due_status(&c, &r, at(2025, 6, 14), DutyKind::GradualExitReview),
        None
    );
    assert_eq!(
        due_status(&c, &r, at(2025, 6, 15), DutyKind::GradualExitReview),
        Some(DueStatus::Due)
    );
    assert_eq!(
        due_status(&c, &r, at(2025, 7, 15), DutyKind::GradualExitReview),
        Some(DueStatus::Overdue)
    );
}

#[test]
fn the_due_list_puts_overdue_first_and_reports_cases_the_calendar_cannot_date() {
    let mut r = Run::new();
    let late = r.accepted(at(2024, 9, 2));
    let fresh = r.accepted(at(2024, 11, 4));
    let next_year = r.receiving(at(2024, 9, 2), true); // review in 2025, covered
    let mut beyond = r.accepted(at(2025, 12, 1)); // 30 working days run into 2026
    r.ok(&mut beyond, at(2025, 12, 1), CaseEvent::StartInvestigation);
    let now = at(2024, 11, 5);
    let list = due_and_overdue(
        [
            ("late", &late),
            ("fresh", &fresh),
            ("review", &next_year),
            ("beyond", &beyond),
        ],
        now,
        &r.ctx(),
    );
    let lines: Vec<(&str, DutyKind, DueStatus)> = list
        .items
        .iter()
        .map(|i| (i.household_id.as_str(), i.duty.kind, i.status))
        .collect();
    assert_eq!(
        lines,
        vec![
            ("late", DutyKind::StartInvestigation, DueStatus::Overdue),
            ("late", DutyKind::DecideApplication, DueStatus::Overdue),
            ("fresh", DutyKind::StartInvestigation, DueStatus::Due),
            ("fresh", DutyKind::DecideApplication, DueStatus::Due),
        ]
    );
    assert_eq!(
        list.problems,
        vec![(
            "beyond".to_owned(),
            CaseError::Calendar(CalendarError::YearNotCovered { year: 2026 })
        )]
    );
}

#[test]
fn a_policy_with_an_acceptance_limit_lists_acceptance_and_bad_policies_are_refused() {
    let mut r = Run::with(CasePolicy {
        acceptance_working_days: Some(2),
        ..CasePolicy::default()
    });
    let c = r.open(at(2024, 9, 27));
    let accept = duty(&c, &r, DutyKind::Accept);
    assert_eq!(accept.due_on, d(2024, 9, 30));
    let bad = CasePolicy {
        total_working_days: 0,
        ..CasePolicy::default()
    };
    let e = CaseContext::new(&bad, &r.calendar, CountyClock::default()).unwrap_err();
    assert_eq!(e.field_errors()[0].field, "total_working_days");
}
