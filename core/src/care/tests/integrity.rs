//! The append-only import rule on changes made by other tablets.

use automerge::transaction::Transactable;
use automerge::{AutoCommit, Change, ObjType, ReadDoc, ROOT};

use super::*;
use crate::care::document::{event_maps, CARE_KEY};
use crate::care::integrity::append_only_violation;

/// A document with an enrolment, and a fork of it another tablet edits.
fn two_tablets() -> (AutoCommit, AutoCommit) {
    let mut doc = enrolled_doc(d(2025, 1, 6));
    let other = doc.fork();
    (doc, other)
}

fn new_changes(before: &mut AutoCommit, after: &mut AutoCommit) -> Vec<Change> {
    after.get_changes(&before.get_heads())
}

fn violation(before: &mut AutoCommit, after: &mut AutoCommit) -> Option<String> {
    let changes = new_changes(before, after);
    append_only_violation(before, &changes.iter().collect::<Vec<_>>())
}

fn first_entry(doc: &AutoCommit) -> automerge::ObjId {
    let events = event_maps(doc).unwrap()[0].clone();
    doc.map_range(&events, ..).next().unwrap().id()
}

#[test]
fn adding_events_on_another_tablet_passes() {
    let (mut doc, mut other) = two_tablets();
    let at = local_ten(d(2025, 1, 7));
    record(&mut other, "w2", at, vec![done("clean_home", at)]).unwrap();
    assert_eq!(violation(&mut doc, &mut other), None);
    // Care sections created concurrently on two tablets pass too (readers unite them).
    let mut fresh = AutoCommit::new();
    fresh.put(ROOT, "id", "h1").unwrap();
    fresh.commit();
    let (mut a, mut b) = (fresh.fork(), fresh.fork());
    record(
        &mut a,
        "w1",
        local_ten(d(2025, 1, 6)),
        vec![enrolled(d(2025, 1, 6))],
    )
    .unwrap();
    record(
        &mut b,
        "w2",
        local_ten(d(2025, 1, 6)),
        vec![enrolled(d(2025, 1, 6))],
    )
    .unwrap();
    assert_eq!(violation(&mut a, &mut b), None);
    a.merge(&mut b).unwrap();
    assert_eq!(event_maps(&a).unwrap().len(), 2);
    assert_eq!(person(&a).set_aside[0].code, "care.already_enrolled");
}

#[test]
fn changing_a_field_of_an_event_is_refused() {
    let (mut doc, mut other) = two_tablets();
    let entry = first_entry(&other);
    other.put(&entry, "payload", "{}").unwrap();
    other.commit();
    let why = violation(&mut doc, &mut other).unwrap();
    assert!(why.contains("payload"), "{why}");
    // Adding a field to an existing event is a change of it too.
    let (mut doc, mut other) = two_tablets();
    let entry = first_entry(&other);
    other.put(&entry, "note", "x").unwrap();
    other.commit();
    assert!(violation(&mut doc, &mut other).is_some());
}

#[test]
fn deleting_an_event_or_replacing_the_section_is_refused() {
    let (mut doc, mut other) = two_tablets();
    let events = event_maps(&other).unwrap()[0].clone();
    let key = other.map_range(&events, ..).next().unwrap().key.to_string();
    other.delete(&events, key.as_str()).unwrap();
    other.commit();
    assert!(violation(&mut doc, &mut other).unwrap().contains(&key));

    let (mut doc, mut other) = two_tablets();
    other.put_object(ROOT, CARE_KEY, ObjType::Map).unwrap();
    other.commit();
    assert!(violation(&mut doc, &mut other)
        .unwrap()
        .contains("care section"));

    let (mut doc, mut other) = two_tablets();
    other.delete(ROOT, CARE_KEY).unwrap();
    other.commit();
    assert!(violation(&mut doc, &mut other).is_some());
}

#[test]
fn a_second_value_under_an_existing_event_id_is_refused() {
    let (mut doc, mut other) = two_tablets();
    let at = local_ten(d(2025, 1, 7));
    record(&mut doc, "w1", at, vec![done("clean_home", at)]).unwrap();
    // The other tablet, not having seen that event, writes under its id.
    let events = event_maps(&doc).unwrap()[0].clone();
    let known: Vec<String> = other
        .map_range(&events, ..)
        .map(|i| i.key.to_string())
        .collect();
    let key = doc
        .map_range(&events, ..)
        .map(|i| i.key.to_string())
        .find(|k| !known.contains(k))
        .unwrap();
    let entry = other
        .put_object(&events, key.as_str(), ObjType::Map)
        .unwrap();
    other.put(&entry, "kind", "task_done").unwrap();
    other.commit();
    let why = violation(&mut doc, &mut other).unwrap();
    assert!(why.contains(&key) && why.contains("written again"), "{why}");
}

#[test]
fn a_store_refuses_an_import_that_alters_an_event_and_keeps_what_it_had() {
    let dir = tempfile::tempdir().unwrap();
    let (mut a, id, person_id) = super::store::tablet(dir.path(), "a");
    let at = local_ten(d(2025, 1, 7));
    a.record_care_events(
        &id,
        vec![
            CareEvent::Enrolled {
                person_id: person_id.clone(),
                since: d(2025, 1, 6),
            },
            super::store::done_by(&person_id, "clean_home", at),
        ],
    )
    .unwrap();
    let (mut b, _, _) = super::store::tablet(&dir.path().join("b"), "b");
    b.import_changes(&id, &a.changes_since(&id, &[]).unwrap())
        .unwrap();
    // Importing the same changes again passes and changes nothing.
    b.import_changes(&id, &a.changes_since(&id, &[]).unwrap())
        .unwrap();
    let heads = b.household(&id).unwrap().heads;
    // Tablet a rewrites the event's payload directly in its document.
    let mut altered = a.changes_since(&id, &[]).unwrap();
    let mut doc = AutoCommit::new();
    for c in &altered {
        doc.apply_changes([Change::from_bytes(c.clone()).unwrap()])
            .unwrap();
    }
    let entry = {
        let events = event_maps(&doc).unwrap()[0].clone();
        let done_key = doc
            .map_range(&events, ..)
            .map(|i| (i.key.to_string(), i.id()))
            .find(|(_, obj)| match doc.get(obj, "kind") {
                Ok(Some((automerge::Value::Scalar(s), _))) => {
                    matches!(s.as_ref(), automerge::ScalarValue::Str(k) if k.as_str() == "task_done")
                }
                _ => false,
            })
            .unwrap();
        done_key.1
    };
    doc.put(&entry, "payload", "{}").unwrap();
    doc.commit();
    altered = doc
        .get_changes(&heads)
        .into_iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect();
    let e = b.import_changes(&id, &altered).unwrap_err();
    assert_eq!(codes(&e), vec!["care.event_altered"]);
    assert_eq!(b.household(&id).unwrap().heads, heads);
    assert_eq!(b.care_record(&id, &person_id).unwrap().log.len(), 1);
    assert!(b.care_record(&id, &person_id).unwrap().set_aside.is_empty());
}
