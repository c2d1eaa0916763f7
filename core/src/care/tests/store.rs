//! Care through the store: recording, reading, and the lists from the care index agreeing
//! with the records they are built from.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::*;
use crate::care::{DueState, PeriodStatus, ProblemArea, Rectification};
use crate::store::FileKeyStore;
use crate::{fixtures, Store, StoreConfig};

/// A store with one household of three members in village 1; the first member's id.
pub(super) fn tablet(dir: &Path, worker: &str) -> (Store, String, String) {
    std::fs::create_dir_all(dir).unwrap();
    let keys = FileKeyStore::new(dir.join("keys"));
    let mut store = Store::open(
        StoreConfig::new(dir.join("tablet.db"), "tablet", worker),
        &keys,
    )
    .unwrap();
    let h = store
        .create_household(fixtures::household(1, &fixtures::village(1), 3))
        .unwrap();
    let person = h.members.keys().next().unwrap().clone();
    for n in 0..10 {
        store.add_attachment(&h.id, &photo_bytes(n)).unwrap();
    }
    (store, h.id, person)
}

pub(super) fn done_by(person_id: &str, task_id: &str, done_at: DateTime<Utc>) -> CareEvent {
    CareEvent::TaskDone {
        person_id: person_id.into(),
        task_id: task_id.into(),
        done_at,
        note: "打扫了厨房".into(),
        photos: vec![photo(7)],
    }
}

fn enrol(person_id: &str, since: NaiveDate) -> CareEvent {
    CareEvent::Enrolled {
        person_id: person_id.into(),
        since,
    }
}

type Key = (String, String, String);

/// The status of every task the records list on `on` whose state `keep` accepts.
fn from_records(
    store: &mut Store,
    people: &[(String, String)],
    on: NaiveDate,
    keep: impl Fn(DueState) -> bool,
) -> BTreeMap<Key, PeriodStatus> {
    let policy = store.care_policy().unwrap();
    let mut out = BTreeMap::new();
    for (h, p) in people {
        for s in store.care_record(h, p).unwrap().task_status(&policy, on) {
            if keep(s.status.state) {
                out.insert((h.clone(), p.clone(), s.task.task_id), s.status);
            }
        }
    }
    out
}

fn statuses(rows: &[crate::care::CareTaskDue]) -> BTreeMap<Key, PeriodStatus> {
    rows.iter()
        .map(|r| {
            let key = (
                r.household_id.clone(),
                r.person_id.clone(),
                r.task_id.clone(),
            );
            (key, r.status)
        })
        .collect()
}

fn listed(rows: &[crate::care::CareTaskDue]) -> BTreeSet<Key> {
    statuses(rows).into_keys().collect()
}

#[test]
fn the_lists_agree_with_the_records_for_a_village_the_township_and_any_date() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, h1, p1) = tablet(dir.path(), "w1");
    let v2 = fixtures::village(2);
    let h2 = store
        .create_household(fixtures::household(2, &v2, 2))
        .unwrap();
    let p2 = h2.members.keys().next().unwrap().clone();
    let h2 = h2.id;
    store
        .record_care_event(&h1, enrol(&p1, d(2024, 1, 1)))
        .unwrap();
    store
        .record_care_event(&h2, enrol(&p2, d(2024, 1, 1)))
        .unwrap();
    // p1: cleaned every week of January 2024 but the last; haircut in January.
    let mut events = Vec::new();
    for day in [2, 9, 16] {
        events.push(done_by(&p1, "clean_home", local_ten(d(2024, 1, day))));
    }
    events.push(done_by(&p1, "haircut", local_ten(d(2024, 1, 20))));
    // A custom task every 10 days from 5 January, done on the 12th; haircuts stop in March.
    events.push(CareEvent::TaskAdded {
        person_id: p1.clone(),
        task: crate::care::CareTaskDefinition {
            task_id: "check_stove".into(),
            label_zh: "检查炉具".into(),
            label_en: "Check the stove".into(),
            frequency: crate::care::Frequency::EveryDays(10),
            due_soon_days: Some(3),
        },
        from: d(2024, 1, 5),
    });
    events.push(done_by(&p1, "check_stove", local_ten(d(2024, 1, 12))));
    events.push(CareEvent::TaskRemoved {
        person_id: p1.clone(),
        task_id: "haircut".into(),
        on: d(2024, 3, 1),
    });
    let record = store.record_care_events(&h1, events).unwrap();
    assert_eq!(record.log.len(), 5);
    // p2: cleaned once, late in February.
    store
        .record_care_event(&h2, done_by(&p2, "clean_home", local_ten(d(2024, 2, 28))))
        .unwrap();

    let people = vec![(h1.clone(), p1.clone()), (h2.clone(), p2.clone())];
    for on in [
        d(2024, 1, 10),
        d(2024, 1, 19),
        d(2024, 1, 24),
        d(2024, 1, 31),
        d(2024, 2, 1),
        d(2024, 2, 20),
        d(2024, 3, 4),
        d(2024, 7, 1),
    ] {
        let township = store.overdue_care_tasks(None, on).unwrap();
        assert_eq!(
            statuses(&township),
            from_records(&mut store, &people, on, |s| s == DueState::Overdue),
            "{on}"
        );
        let due = store.care_tasks_due(None, on).unwrap();
        assert_eq!(
            statuses(&due),
            from_records(&mut store, &people, on, |s| s != DueState::Done),
            "{on}"
        );
        let village = store
            .overdue_care_tasks(Some(&fixtures::village(1)), on)
            .unwrap();
        assert!(village.iter().all(|r| r.household_id == h1));
        assert_eq!(
            listed(&village),
            listed(&township)
                .into_iter()
                .filter(|(h, _, _)| *h == h1)
                .collect()
        );
    }
    // On 24 January 2024 only p1's cleaning (nothing in the week of 15–21? no: the 16th)...
    let on = d(2024, 1, 30);
    let rows = store
        .overdue_care_tasks(Some(&fixtures::village(1)), on)
        .unwrap();
    // ...by the 30th, the week of 22–28 January passed without cleaning; haircut is done.
    let clean = rows.iter().find(|r| r.task_id == "clean_home").unwrap();
    assert_eq!(clean.status.overdue_since, Some(d(2024, 1, 29)));
    assert_eq!(clean.status.last_done_on, Some(d(2024, 1, 16)));
    assert!(!clean.person_name.is_empty());
    assert!(rows.iter().all(|r| r.task_id != "haircut"));
    // Every 10 days from the entry of the 12th: overdue from the 23rd; due soon the 19th.
    let stove = |on| {
        store
            .care_tasks_due(None, on)
            .unwrap()
            .into_iter()
            .find(|r| r.task_id == "check_stove")
            .map(|r| (r.status.state, r.status.overdue_since))
    };
    assert_eq!(stove(d(2024, 1, 19)), Some((DueState::DueSoon, None)));
    assert_eq!(
        stove(d(2024, 1, 24)),
        Some((DueState::Overdue, Some(d(2024, 1, 23))))
    );
    // Haircuts stopped on 1 March: no longer listed.
    let july = store.care_tasks_due(None, d(2024, 7, 1)).unwrap();
    let of_p1: Vec<&str> = july
        .iter()
        .filter(|r| r.person_id == p1)
        .map(|r| r.task_id.as_str())
        .collect();
    assert!(!of_p1.contains(&"haircut") && of_p1.contains(&"clean_home"));
    assert!(july
        .iter()
        .any(|r| r.person_id == p2 && r.task_id == "haircut"));
    // Asked about 10 January, the entries of the 16th and 20th do not count yet.
    // p2 did not clean in the week of 1–7 January (owed: enrolled on its Monday).
    let early = store.overdue_care_tasks(None, d(2024, 1, 10)).unwrap();
    assert_eq!(
        listed(&early),
        [(h2.clone(), p2.clone(), "clean_home".to_owned())]
            .into_iter()
            .collect()
    );
    let due = store
        .care_tasks_due(Some(&fixtures::village(1)), d(2024, 1, 10))
        .unwrap();
    let due_tasks: BTreeSet<&str> = due.iter().map(|r| r.task_id.as_str()).collect();
    assert_eq!(
        due_tasks,
        [
            "buy_daily_necessities",
            "check_stove",
            "haircut",
            "wash_clothes_bedding"
        ]
        .into_iter()
        .collect()
    );
    // The index survives reopening the store.
    let before = store.overdue_care_tasks(None, d(2024, 3, 4)).unwrap();
    drop(store);
    let keys = FileKeyStore::new(dir.path().join("keys"));
    let store = Store::open(
        StoreConfig::new(dir.path().join("tablet.db"), "tablet", "w1"),
        &keys,
    )
    .unwrap();
    assert_eq!(
        store.overdue_care_tasks(None, d(2024, 3, 4)).unwrap(),
        before
    );
}

#[test]
fn open_problems_leave_the_list_when_rectified_and_return_when_reopened() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, h, p) = tablet(dir.path(), "w1");
    let problem_id = crate::care::new_id().unwrap();
    store
        .record_care_event(
            &h,
            CareEvent::ProblemOpened {
                person_id: p.clone(),
                problem_id: problem_id.clone(),
                area: ProblemArea::Water,
                description: "水管冻裂".into(),
                evidence: vec![],
            },
        )
        .unwrap();
    let open = store.open_care_problems(None).unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(
        (open[0].area, open[0].reopened),
        (ProblemArea::Water, false)
    );
    assert!(store
        .open_care_problems(Some(&fixtures::village(2)))
        .unwrap()
        .is_empty());
    let rectify = CareEvent::ProblemRectified {
        person_id: p.clone(),
        problem_id: problem_id.clone(),
        rectification: Rectification {
            rectified_by: "李强".into(),
            rectified_on: d(2025, 1, 2),
            action: "换了水管".into(),
            evidence: vec![photo(3)],
        },
    };
    store.record_care_event(&h, rectify).unwrap();
    assert!(store
        .open_care_problems(Some(&fixtures::village(1)))
        .unwrap()
        .is_empty());
    store
        .record_care_event(
            &h,
            CareEvent::ProblemReopened {
                person_id: p.clone(),
                problem_id,
                reason: "又漏水".into(),
            },
        )
        .unwrap();
    let open = store
        .open_care_problems(Some(&fixtures::village(1)))
        .unwrap();
    assert!(open[0].reopened);
}

#[test]
fn leader_visits_and_agreements_are_listed_when_overdue_or_expiring() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, h, p) = tablet(dir.path(), "w1");
    store
        .record_care_events(
            &h,
            vec![
                enrol(&p, d(2024, 1, 1)),
                CareEvent::LeaderAssigned {
                    person_id: p.clone(),
                    leader_id: "leader-zhang".into(),
                    leader_name: "张书记".into(),
                    from: d(2024, 1, 1),
                },
                CareEvent::LeaderVisited {
                    person_id: p.clone(),
                    leader_id: "leader-zhang".into(),
                    visited_on: d(2024, 3, 3),
                    note: String::new(),
                    photos: vec![],
                },
                CareEvent::AgreementSigned {
                    person_id: p.clone(),
                    agreement: crate::care::CareAgreement {
                        caregiver_kind: crate::care::CaregiverKind::VillageCommittee,
                        caregiver_name: "村委会".into(),
                        caregiver_phone: "0931-0000000".into(),
                        care_content: "每日探视".into(),
                        care_frequency: "每日".into(),
                        subsidy_monthly_fen: 30_000,
                        valid_from: d(2024, 1, 1),
                        valid_until: d(2024, 6, 30),
                    },
                },
            ],
        )
        .unwrap();
    let overdue = |on| store.overdue_leader_visits(None, on).unwrap();
    assert_eq!(overdue(d(2024, 1, 20)).len(), 0);
    let february = overdue(d(2024, 2, 10));
    assert_eq!(february.len(), 1);
    assert_eq!(february[0].status.overdue_since, Some(d(2024, 2, 1)));
    assert_eq!(february[0].leader_name, "张书记");
    assert!(overdue(d(2024, 4, 10)).is_empty(), "visited in March");
    assert_eq!(overdue(d(2024, 5, 1))[0].status.missed_periods, 1);
    // Asked about a date before the March visit, it does not count.
    assert_eq!(overdue(d(2024, 3, 2)).len(), 1);

    let expiring = |on| store.expiring_care_agreements(None, on).unwrap();
    assert!(expiring(d(2024, 5, 30)).is_empty(), "31 days left");
    let june = expiring(d(2024, 6, 1));
    assert_eq!((june.len(), june[0].days_left), (1, 29));
    assert!(
        expiring(d(2024, 7, 1)).is_empty(),
        "ended, no longer in force"
    );
}

#[test]
fn bad_input_is_refused_with_a_code_and_nothing_written() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, h, p) = tablet(dir.path(), "w1");
    let heads = store.household(&h).unwrap().heads;
    let e = store
        .record_care_event(&h, enrol("0000000000000000", d(2024, 1, 1)))
        .unwrap_err();
    assert_eq!(codes(&e), vec!["care.unknown_person"]);
    assert_eq!(e.field_errors()[0].field, "[0].person_id");
    let e = store.record_care_events(&h, vec![]).unwrap_err();
    assert_eq!(codes(&e), vec!["care.required"]);
    let e = store
        .record_care_events(
            &h,
            vec![
                enrol(&p, d(2024, 1, 1)),
                done_by(&p, "clean_home", local_ten(d(2023, 12, 30))),
            ],
        )
        .unwrap_err();
    assert_eq!(codes(&e), vec!["care.task_not_planned"]);
    assert_eq!(store.household(&h).unwrap().heads, heads);
    assert!(store
        .care_tasks_due(None, d(2024, 1, 10))
        .unwrap()
        .is_empty());
    assert!(matches!(
        store.care_record(&h, "ffffffffffffffff").unwrap_err(),
        crate::Error::NotFound { .. }
    ));
    assert_eq!(store.care_record(&h, &p).unwrap(), CareRecord::new(&p));
    let e = store.nursing_subsidy(&h, &p, 2022).unwrap_err();
    assert_eq!(codes(&e), vec!["care.not_assessed"]);
}

#[test]
fn profile_edits_keep_the_care_log_and_it_cannot_be_resolved_as_a_field() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, h, p) = tablet(dir.path(), "w1");
    store
        .record_care_event(&h, enrol(&p, d(2024, 1, 1)))
        .unwrap();
    let plan = store.care_record(&h, &p).unwrap().plan;
    store
        .edit_household(&h, |household| {
            household.profile.address = "新地址 1 号".into();
            household.extra.remove(crate::care::CARE_KEY);
        })
        .unwrap();
    assert_eq!(store.care_record(&h, &p).unwrap().plan, plan);
    assert!(store.household(&h).unwrap().conflicts.is_empty());
    // Moving the household to another village moves its care rows with it (on 4 March 2024
    // the weekly, half-monthly and monthly tasks are overdue; the half-yearly is not yet).
    let on = d(2024, 3, 4);
    assert_eq!(
        store
            .overdue_care_tasks(Some(&fixtures::village(1)), on)
            .unwrap()
            .len(),
        3
    );
    store
        .edit_household(&h, |household| {
            household.profile.village_code = fixtures::village(2)
        })
        .unwrap();
    assert!(store
        .overdue_care_tasks(Some(&fixtures::village(1)), on)
        .unwrap()
        .is_empty());
    assert_eq!(
        store
            .overdue_care_tasks(Some(&fixtures::village(2)), on)
            .unwrap()
            .len(),
        3
    );
    let e = store
        .resolve_conflict(&h, "care.events", serde_json::json!({}))
        .unwrap_err();
    assert_eq!(codes(&e), vec!["read_only"]);
}

#[test]
fn the_nursing_subsidy_follows_the_level_in_the_published_standards() {
    use crate::standards::{Amount, SelfCareLevel, Standards, SAMPLE_STANDARDS_JSON};
    let standards = Standards::from_json(SAMPLE_STANDARDS_JSON).unwrap();
    // A Lanzhou county falls back to the city's 2022 figures: 1800 / 3612 / 5412 yuan a year.
    let subsidy = |level| crate::care::nursing_subsidy(&standards, "620102", 2022, level).unwrap();
    assert_eq!(subsidy(SelfCareLevel::SelfCare), Amount::yearly(180_000));
    assert_eq!(subsidy(SelfCareLevel::PartialLoss), Amount::yearly(361_200));
    assert_eq!(
        subsidy(SelfCareLevel::CompleteLoss),
        Amount::yearly(541_200)
    );
    // Gansu 2017 publishes no care subsidy: the error says so.
    let e = crate::care::nursing_subsidy(&standards, "621102", 2017, SelfCareLevel::SelfCare)
        .unwrap_err();
    assert_eq!(codes(&e), vec!["standards.missing"]);
}
