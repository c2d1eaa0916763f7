//! Cases inside household documents: recorded through the store, kept by profile edits,
//! merged from two tablets, listed as due per village, and published with only the head's
//! name, the household size and the amount.
#![allow(clippy::unwrap_used)]

use automerge::AutoCommit;
use chrono::{Duration, Utc};
use ruhu_core::calendar::{CountyClock, WorkingCalendar, SAMPLE_CALENDAR_JSON};
use ruhu_core::case::document::{append_event, read_case};
use ruhu_core::case::*;
use ruhu_core::household::{Authorship, Program};
use ruhu_core::store::{FileKeyStore, Store, StoreConfig};

const VILLAGE: &str = "620102001001";

/// The sample calendar with the current year and the next listed too (with no holidays),
/// so the store tests, which use the real clock, can count working days.
fn calendar() -> WorkingCalendar {
    let mut data = WorkingCalendar::from_json(SAMPLE_CALENDAR_JSON)
        .unwrap()
        .data()
        .clone();
    let this_year = chrono::Datelike::year(&Utc::now());
    for year in this_year - 1..=this_year + 2 {
        if !data.years.iter().any(|y| y.year == year) {
            data.years.push(ruhu_core::calendar::CalendarYear {
                year,
                holidays: vec![],
                working_weekends: vec![],
            });
        }
    }
    WorkingCalendar::new(data).unwrap()
}

fn by(worker: &str, time_unix: i64) -> Authorship {
    Authorship {
        worker_id: worker.into(),
        time_unix,
    }
}

fn apply() -> CaseEvent {
    CaseEvent::Apply {
        program: Program::RuralDibao,
    }
}

#[test]
fn the_store_records_a_case_that_profile_edits_keep_and_lists_it_as_due() {
    let (policy, cal) = (CasePolicy::default(), calendar());
    let dir = tempfile::tempdir().unwrap();
    let keys = FileKeyStore::new(dir.path().join("keys"));
    let mut store = Store::open(
        StoreConfig::new(dir.path().join("t.db"), "t", "handler-1"),
        &keys,
    )
    .unwrap();
    let id = store
        .create_household(ruhu_core::fixtures::household(3, VILLAGE, 3))
        .unwrap()
        .id;
    assert_eq!(store.case(&id, &policy, &cal).unwrap().case, None);
    store.case_event(&id, apply(), &policy, &cal).unwrap();
    let log = store
        .case_event(
            &id,
            CaseEvent::Accept {
                missing_materials: vec!["收入证明".into()],
            },
            &policy,
            &cal,
        )
        .unwrap();
    assert_eq!(log.case.as_ref().unwrap().stage, CaseStage::Accepted);
    // A refused event writes nothing.
    let err = store
        .case_event(&id, CaseEvent::EndPublicity, &policy, &cal)
        .unwrap_err();
    assert_eq!(err.field_errors()[0].code, "case.transition_not_allowed");
    assert_eq!(err.field_errors()[0].params["stage"], "accepted");
    // Profile edits keep the case section; it survives a reload from disk.
    store
        .edit_household(&id, |h| h.profile.address = "二组 3 号".into())
        .unwrap();
    store.clear_cache();
    assert!(store
        .household(&id)
        .unwrap()
        .household
        .extra
        .contains_key(CASE_KEY));
    let case = store.case(&id, &policy, &cal).unwrap().case.unwrap();
    assert_eq!((case.stage, case.history.len()), (CaseStage::Accepted, 2));
    assert_eq!(case.history[1].by, "handler-1");
    // The village's due list shows the investigation to start, overdue after a month.
    let due = store.cases_due(VILLAGE, Utc::now(), &policy, &cal).unwrap();
    assert!(due.items.iter().any(|i| i.household_id == id
        && i.duty.kind == DutyKind::StartInvestigation
        && i.status == DueStatus::Due));
    let later = store
        .cases_due(VILLAGE, Utc::now() + Duration::days(40), &policy, &cal)
        .unwrap();
    assert!(later
        .items
        .iter()
        .any(|i| i.duty.kind == DutyKind::StartInvestigation && i.status == DueStatus::Overdue));
    assert!(store
        .cases_due("620102001002", Utc::now(), &policy, &cal)
        .unwrap()
        .items
        .is_empty());
}

#[test]
fn events_from_two_tablets_merge_and_a_duplicate_transition_is_set_aside() {
    let (policy, cal) = (CasePolicy::default(), calendar());
    let ctx = CaseContext::new(&policy, &cal, CountyClock::default()).unwrap();
    let t0 = chrono::TimeZone::with_ymd_and_hms(&Utc, 2024, 9, 2, 2, 0, 0)
        .unwrap()
        .timestamp();
    let mut a = AutoCommit::new();
    append_event(&mut a, apply(), &by("handler", t0), &ctx).unwrap();
    let mut b = a.fork();
    // Offline, both tablets accept; one also marks the case special, the other adds material.
    let accept = CaseEvent::Accept {
        missing_materials: vec![],
    };
    append_event(&mut a, accept.clone(), &by("handler", t0 + 60), &ctx).unwrap();
    append_event(
        &mut a,
        CaseEvent::MarkSpecial {
            reason: "跨省核对".into(),
        },
        &by("handler", t0 + 120),
        &ctx,
    )
    .unwrap();
    append_event(&mut b, accept, &by("cadre", t0 + 90), &ctx).unwrap();
    append_event(
        &mut b,
        CaseEvent::StartInvestigation,
        &by("cadre", t0 + 100),
        &ctx,
    )
    .unwrap();
    a.merge(&mut b).unwrap();
    b.merge(&mut a).unwrap();
    let (la, lb) = (read_case(&a, &ctx).unwrap(), read_case(&b, &ctx).unwrap());
    assert_eq!(la, lb, "both tablets see the same case");
    let case = la.case.unwrap();
    assert!(case.special);
    assert_eq!(case.stage, CaseStage::Investigation);
    assert_eq!(la.set_aside.len(), 1);
    assert_eq!(la.set_aside[0].code, "case.transition_not_allowed");
    assert_eq!(la.set_aside[0].by.as_deref(), Some("cadre"));
}

#[test]
fn publicity_shows_only_the_heads_name_the_household_size_and_the_amount() {
    let (policy, cal) = (CasePolicy::default(), calendar());
    let dir = tempfile::tempdir().unwrap();
    let keys = FileKeyStore::new(dir.path().join("keys"));
    let mut store = Store::open(
        StoreConfig::new(dir.path().join("t.db"), "t", "handler-1"),
        &keys,
    )
    .unwrap();
    let mut new = ruhu_core::fixtures::household(7, VILLAGE, 4);
    new.phone = Some("13800138000".into());
    let id = store.create_household(new).unwrap().id;
    for event in [
        apply(),
        CaseEvent::Accept {
            missing_materials: vec![],
        },
        CaseEvent::StartInvestigation,
        CaseEvent::CompleteInvestigation { visit_id: None },
        CaseEvent::TownshipOpinion {
            eligible: true,
            proposal: Some(Proposal {
                monthly_fen: 131_700,
                household_size: 4,
                class: Some(1),
            }),
            reason: String::new(),
        },
    ] {
        store.case_event(&id, event, &policy, &cal).unwrap();
    }
    let household = store.household(&id).unwrap().household;
    let case = store.case(&id, &policy, &cal).unwrap().case.unwrap();
    let entry = publicity_entry(&household, &case).unwrap();
    let head = household.head().unwrap();
    assert_eq!(
        entry,
        PublicityEntry {
            name: head.name.clone(),
            household_size: 4,
            monthly_fen: 131_700
        }
    );
    // Exactly three fields leave, in JSON and in CSV.
    let json = serde_json::to_value(&entry).unwrap();
    let mut keys: Vec<&String> = json.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["household_size", "monthly_fen", "name"]);
    let csv = publicity_csv(&[entry]);
    assert_eq!(csv.lines().count(), 2);
    assert_eq!(csv.lines().nth(1).unwrap().split(',').count(), 3);
    let exported = format!("{csv}{json}");
    let mut secrets = vec![
        household.id.clone(),
        household.profile.address.clone(),
        household.profile.village_code.clone(),
        "13800138000".into(),
    ];
    for (member_id, m) in &household.members {
        secrets.push(m.id_number.clone());
        secrets.push(m.birth_date.to_string());
        secrets.push(m.health.code().into());
        secrets.push(m.disability.code().into());
        secrets.push(m.labour_ability.code().into());
        secrets.push(member_id.clone());
        // Other members' names (the fixture may repeat the head's name; that one is public).
        if member_id != &household.profile.head_member_id && m.name != head.name {
            secrets.push(m.name.clone());
        }
    }
    for secret in secrets {
        assert!(
            !exported.contains(&secret),
            "{secret:?} must not be published"
        );
    }
}

#[test]
fn a_case_opened_on_two_tablets_at_once_is_not_a_conflict_to_resolve() {
    let (policy, cal) = (CasePolicy::default(), calendar());
    let ctx = CaseContext::new(&policy, &cal, CountyClock::default()).unwrap();
    let t0 = chrono::TimeZone::with_ymd_and_hms(&Utc, 2024, 9, 2, 2, 0, 0)
        .unwrap()
        .timestamp();
    let mut base = AutoCommit::new();
    let (mut a, mut b) = (base.fork(), base.fork());
    // Both tablets record the application before either has seen a case section.
    append_event(&mut a, apply(), &by("handler", t0), &ctx).unwrap();
    append_event(&mut b, apply(), &by("cadre", t0 + 5), &ctx).unwrap();
    a.merge(&mut b).unwrap();
    let log = read_case(&a, &ctx).unwrap();
    assert_eq!(log.case.unwrap().stage, CaseStage::Applied);
    assert_eq!(
        log.set_aside.len(),
        1,
        "the second application is set aside"
    );
    let mut doc = ruhu_core::household::HouseholdDocument::from_automerge(a);
    let conflicts = doc.conflicts().unwrap();
    assert!(
        conflicts.iter().all(|c| !c.field.starts_with("case")),
        "{conflicts:?}"
    );
}
