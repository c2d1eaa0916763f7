//! Amounts and dates of a case on a tablet configured by a real server: benefits in both
//! national modes from the county's published standards, the publicity list showing only
//! name, household size and amount, and events recorded after the day they happened.
#![allow(clippy::unwrap_used)]

use chrono::{Duration, Utc};
use ruhu_core::case::{publicity_csv, CaseEvent, CaseStage, Proposal};
use ruhu_core::error::Error;
use ruhu_core::household::Program;
use ruhu_core::standards::{Amount, Area, BenefitMode, Standards};
use ruhu_core::store::BenefitBasis;
use ruhu_core::sync::CountyData;
use ruhu_tests::*;

/// A tablet of village V1 whose county publishes the sample standards and a calendar
/// around today, with one household of `members` persons.
fn configured_tablet(dir: &std::path::Path, members: usize) -> (Server, Tablet, String) {
    let data = CountyData {
        standards: Some(Standards::from_json(&core_sample("standards.sample.json")).unwrap()),
        calendar: Some(calendar_around_now()),
        ..CountyData::default()
    };
    let (_county, server, mut tablet) = case_handler(dir, data);
    let id = tablet
        .store
        .create_household(ruhu_core::fixtures::household(5, V1, members))
        .unwrap()
        .id;
    (server, tablet, id)
}

#[test]
fn benefits_in_both_modes_come_from_the_published_standards() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, mut tablet, id) = configured_tablet(dir.path(), 3);
    let members = tablet.store.household(&id).unwrap().household.members.len() as i64;
    assert_eq!(members, 3);

    // Lanzhou 2022 (the city's entry serves the county): rural standard 5,268 yuan a year =
    // 439 yuan a month. Income 3,600 yuan a year for 3 persons = 100 yuan a month each.
    let gap = tablet
        .store
        .household_benefit(
            &id,
            2022,
            BenefitBasis::GapToStandard {
                area: Area::Rural,
                household_income: Amount::yearly(360_000),
            },
        )
        .unwrap();
    assert_eq!(gap.mode, BenefitMode::GapToStandard);
    assert_eq!(gap.standard_monthly_fen, 43_900);
    assert_eq!(gap.per_capita_income_monthly_fen, Some(10_000));
    assert_eq!(gap.monthly_fen, (43_900 - 10_000) * members);

    // Gansu 2017 class 1: 3,500 yuan a year per person = 291.666… → 291.67 yuan a month
    // (half up, to the fen).
    let class = tablet
        .store
        .household_benefit(&id, 2017, BenefitBasis::FixedByClass { class: 1 })
        .unwrap();
    assert_eq!(class.per_person_monthly_fen, 29_167);
    assert_eq!(class.monthly_fen, 29_167 * members);

    // What is not published is named; a class outside 1–4 is refused.
    let Error::Invalid(errors) = tablet
        .store
        .household_benefit(
            &id,
            2017,
            BenefitBasis::GapToStandard {
                area: Area::Rural,
                household_income: Amount::yearly(0),
            },
        )
        .unwrap_err()
    else {
        panic!("expected field errors")
    };
    assert_eq!(errors[0].code, "standards.missing");
    assert_eq!(errors[0].field, "rural_dibao");
    let Error::Invalid(errors) = tablet
        .store
        .household_benefit(&id, 2017, BenefitBasis::FixedByClass { class: 5 })
        .unwrap_err()
    else {
        panic!("expected field errors")
    };
    assert_eq!(errors[0].code, "benefit.class");
    assert!(tablet
        .store
        .household_benefit(&id, 1999, BenefitBasis::FixedByClass { class: 1 })
        .is_err());
}

#[test]
fn the_publicity_list_shows_name_size_and_amount_of_households_in_publicity() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, mut tablet, id) = configured_tablet(dir.path(), 3);
    let household = tablet.store.household(&id).unwrap().household;
    let steps = [
        CaseEvent::Apply {
            program: Program::RuralDibao,
        },
        CaseEvent::Accept {
            missing_materials: Vec::new(),
        },
        CaseEvent::StartInvestigation,
        CaseEvent::CompleteInvestigation { visit_id: None },
    ];
    for step in steps {
        tablet.store.record_case_event(&id, step).unwrap();
    }
    assert!(
        tablet.store.publicity_list(V1).unwrap().is_empty(),
        "not yet in publicity"
    );
    let log = tablet
        .store
        .record_case_event(
            &id,
            CaseEvent::TownshipOpinion {
                eligible: true,
                proposal: Some(Proposal {
                    monthly_fen: 101_700,
                    household_size: 3,
                    class: None,
                }),
                reason: "人均收入低于标准".into(),
            },
        )
        .unwrap();
    assert_eq!(log.case.unwrap().stage, CaseStage::Publicity);

    let list = tablet.store.publicity_list(V1).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].name, household.head().unwrap().name);
    assert_eq!((list[0].household_size, list[0].monthly_fen), (3, 101_700));
    let csv = publicity_csv(&list);
    assert_eq!(
        csv,
        format!(
            "户主姓名,保障人数,月保障金额(元)\n{},3,1017.00\n",
            list[0].name
        )
    );
    for member in household.members.values() {
        assert!(
            !csv.contains(&member.id_number),
            "no ID number is published"
        );
    }
    assert!(!csv.contains(&household.profile.address));
    assert!(tablet.store.publicity_list(V2).unwrap().is_empty());
}

#[test]
fn an_event_recorded_later_counts_from_the_day_it_happened() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, mut tablet, id) = configured_tablet(dir.path(), 2);
    let now = Utc::now();
    let applied = now - Duration::days(9);
    let accepted = now - Duration::days(8);
    tablet
        .store
        .record_case_event_at(
            &id,
            CaseEvent::Apply {
                program: Program::RuralDibao,
            },
            Some(applied),
        )
        .unwrap();
    // Not before the stage it follows, not in the future; nothing is written when refused.
    for at in [applied - Duration::days(1), now + Duration::hours(1)] {
        let refused = tablet
            .store
            .record_case_event_at(
                &id,
                CaseEvent::Accept {
                    missing_materials: Vec::new(),
                },
                Some(at),
            )
            .unwrap_err();
        assert!(refused.to_string().contains("dated"), "{refused}");
        assert_eq!(
            tablet.store.county_case(&id).unwrap().case.unwrap().stage,
            CaseStage::Applied
        );
    }
    let log = tablet
        .store
        .record_case_event_at(
            &id,
            CaseEvent::Accept {
                missing_materials: Vec::new(),
            },
            Some(accepted),
        )
        .unwrap();
    let case = log.case.unwrap();
    assert_eq!(case.stage, CaseStage::Accepted);
    let clock = tablet.store.county_clock().unwrap();
    assert_eq!(case.accepted_on, Some(clock.local_date(accepted)));

    // The investigation is due 3 working days (the national default) after the day of
    // acceptance, not after the day it was recorded.
    let due = tablet.store.county_cases_due(V1, now).unwrap();
    let item = due.items.iter().find(|i| i.household_id == id).unwrap();
    let expected = tablet
        .store
        .working_calendar()
        .unwrap()
        .unwrap()
        .add_working_days(clock.local_date(accepted), 3)
        .unwrap();
    assert_eq!(item.duty.due_on, expected, "{item:?}");
}
