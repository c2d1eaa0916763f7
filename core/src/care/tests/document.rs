//! The log in the household document: what `Enrolled` plans, local dates of logged work,
//! entries logged twice, synced twice, refused or unreadable.

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjType, ReadDoc, ROOT};

use super::*;
use crate::care::document::{event_maps, CARE_KEY};
use crate::care::{DueState, Frequency};

fn status(doc: &AutoCommit, task_id: &str, on: NaiveDate) -> DueState {
    person(doc)
        .task_status(&CarePolicy::default(), on)
        .into_iter()
        .find(|s| s.task.task_id == task_id)
        .map(|s| s.status.state)
        .unwrap()
}

#[test]
fn enrolment_plans_the_four_ones_from_the_same_day() {
    let mut doc = AutoCommit::new();
    let log = record(
        &mut doc,
        "w1",
        local_ten(d(2025, 1, 8)),
        vec![enrolled(d(2025, 1, 8))],
    )
    .unwrap();
    let record = log.record(PERSON);
    assert!(record.in_care_on(d(2025, 1, 8)) && !record.in_care_on(d(2025, 1, 7)));
    let plan: Vec<(&str, Frequency, NaiveDate)> = record
        .plan
        .iter()
        .map(|p| (p.task.task_id.as_str(), p.task.frequency, p.from))
        .collect();
    assert_eq!(
        plan,
        vec![
            ("clean_home", Frequency::Week, d(2025, 1, 8)),
            ("wash_clothes_bedding", Frequency::HalfMonth, d(2025, 1, 8)),
            ("haircut", Frequency::Month, d(2025, 1, 8)),
            ("buy_daily_necessities", Frequency::HalfYear, d(2025, 1, 8)),
        ]
    );
    // Read back from the document, the same.
    assert_eq!(person(&doc), record);
    // One event map with five entries: the enrolment and four tasks.
    let maps = event_maps(&doc).unwrap();
    assert_eq!(maps.len(), 1);
    assert_eq!(doc.length(&maps[0]), 5);
}

#[test]
fn a_task_done_after_16_00_utc_is_done_on_the_next_local_day() {
    let mut doc = enrolled_doc(d(2025, 1, 1));
    // 2025-01-31T16:30Z is 00:30 on 1 February in UTC+8.
    let late = utc(2025, 1, 31, 16, 30);
    let log = record(&mut doc, "w1", late, vec![done("haircut", late)]).unwrap();
    assert_eq!(log.record(PERSON).log[0].done_on, d(2025, 2, 1));
    assert_eq!(status(&doc, "haircut", d(2025, 1, 31)), DueState::DueSoon);
    assert_eq!(status(&doc, "haircut", d(2025, 2, 1)), DueState::Done);
    assert_eq!(status(&doc, "haircut", d(2025, 2, 28)), DueState::Done);

    // One minute before local midnight it is still 31 January: January is done, February not.
    let mut doc = enrolled_doc(d(2025, 1, 1));
    let before = utc(2025, 1, 31, 15, 59);
    record(&mut doc, "w1", before, vec![done("haircut", before)]).unwrap();
    assert_eq!(status(&doc, "haircut", d(2025, 1, 31)), DueState::Done);
    assert_eq!(status(&doc, "haircut", d(2025, 2, 1)), DueState::Due);
}

#[test]
fn a_task_logged_twice_in_one_period_counts_once() {
    let mut doc = enrolled_doc(d(2025, 1, 6));
    let (monday, friday) = (local_ten(d(2025, 1, 6)), local_ten(d(2025, 1, 10)));
    record(
        &mut doc,
        "w1",
        friday,
        vec![done("clean_home", monday), done("clean_home", friday)],
    )
    .unwrap();
    assert_eq!(person(&doc).log.len(), 2);
    assert_eq!(status(&doc, "clean_home", d(2025, 1, 12)), DueState::Done);
    // The second entry does not carry over into the next week...
    assert_eq!(status(&doc, "clean_home", d(2025, 1, 14)), DueState::Due);
    // ...so missing that week makes it overdue, one period missed.
    let s = person(&doc)
        .task_status(&CarePolicy::default(), d(2025, 1, 20))
        .into_iter()
        .find(|s| s.task.task_id == "clean_home")
        .unwrap()
        .status;
    assert_eq!(
        (s.state, s.overdue_since, s.missed_periods),
        (DueState::Overdue, Some(d(2025, 1, 20)), 1)
    );
}

#[test]
fn half_months_around_29_february_2024() {
    let mut doc = enrolled_doc(d(2024, 2, 1));
    let leap_day = local_ten(d(2024, 2, 29));
    record(
        &mut doc,
        "w1",
        leap_day,
        vec![done("wash_clothes_bedding", leap_day)],
    )
    .unwrap();
    assert_eq!(
        status(&doc, "wash_clothes_bedding", d(2024, 2, 29)),
        DueState::Done
    );
    // 1–15 February was owed and missed: overdue on the 16th, until the 29th's entry.
    assert_eq!(
        status(&doc, "wash_clothes_bedding", d(2024, 2, 16)),
        DueState::Overdue
    );
    assert_eq!(
        status(&doc, "wash_clothes_bedding", d(2024, 3, 1)),
        DueState::Due
    );
    assert_eq!(
        status(&doc, "wash_clothes_bedding", d(2024, 3, 16)),
        DueState::Overdue
    );
}

#[test]
fn an_entry_synced_twice_is_one_entry() {
    let mut a = enrolled_doc(d(2025, 1, 6));
    let mut b = a.fork();
    let at = local_ten(d(2025, 1, 7));
    record(&mut b, "w2", at, vec![done("clean_home", at)]).unwrap();
    let changes: Vec<automerge::Change> = b.get_changes(&a.get_heads());
    a.apply_changes(changes.clone()).unwrap();
    a.apply_changes(changes).unwrap();
    a.merge(&mut b.clone()).unwrap();
    assert_eq!(person(&a).log.len(), 1);
    assert_eq!(person(&a), person(&b));
}

#[test]
fn refused_events_name_the_reason_and_write_nothing() {
    let mut doc = AutoCommit::new();
    let now = local_ten(d(2025, 1, 8));
    record(&mut doc, "w1", now, vec![enrolled(d(2025, 1, 6))]).unwrap();
    let heads = doc.get_heads();
    let refusals = [
        (
            done("clean_home", now + chrono::Duration::minutes(1)),
            "care.date_order",
        ),
        (
            done("clean_home", local_ten(d(2025, 1, 5))),
            "care.task_not_planned",
        ),
        (done("water_plants", now), "care.task_not_planned"),
        (enrolled(d(2025, 1, 7)), "care.already_enrolled"),
        (
            CareEvent::TaskRemoved {
                person_id: PERSON.into(),
                task_id: "haircut".into(),
                on: d(2025, 1, 5),
            },
            "care.date_order",
        ),
    ];
    for (event, code) in refusals {
        let e = record(&mut doc, "w1", now, vec![event.clone()]).unwrap_err();
        assert_eq!(codes(&e), vec![code], "{event:?}");
        assert_eq!(doc.get_heads(), heads);
    }
    // A batch is all or nothing; fields name the event's position.
    let e = record(
        &mut doc,
        "w1",
        now,
        vec![
            done("clean_home", now),
            done("clean_home", now + chrono::Duration::hours(1)),
        ],
    )
    .unwrap_err();
    assert_eq!(e.field_errors()[0].field, "[1].done_at");
    assert_eq!(doc.get_heads(), heads);
    assert!(person(&doc).log.is_empty());
}

#[test]
fn an_unreadable_entry_is_set_aside_and_the_rest_still_applies() {
    let mut doc = AutoCommit::new();
    let now = local_ten(d(2025, 1, 8));
    record(&mut doc, "w1", now, vec![enrolled(d(2025, 1, 6))]).unwrap();
    let events = event_maps(&doc).unwrap()[0].clone();
    let entry = doc
        .put_object(&events, "ffff0000ffff0000ffff0000ffff0000", ObjType::Map)
        .unwrap();
    doc.put(&entry, "kind", "task_done").unwrap();
    doc.put(&entry, "person", PERSON).unwrap();
    doc.put(&entry, "seq", 2).unwrap();
    doc.put(&entry, "at", now.timestamp()).unwrap();
    doc.put(&entry, "by", "w9").unwrap();
    doc.put(&entry, "payload", r#"{"kind":"task_done","mood":"good"}"#)
        .unwrap();
    doc.commit();
    let record = person(&doc);
    assert_eq!(record.plan.len(), 4);
    assert_eq!(record.set_aside.len(), 1);
    assert_eq!(record.set_aside[0].code, "care.unreadable_event");
    assert_eq!(record.set_aside[0].by.as_deref(), Some("w9"));
    assert!(doc.get(ROOT, CARE_KEY).unwrap().is_some());
}
