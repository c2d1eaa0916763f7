//! The server accepts care sections and refuses a change that alters a care event
//! (`care.event_altered`): care events are append-only on every device.
#![allow(clippy::unwrap_used)]
mod common;

use automerge::transaction::Transactable;
use automerge::ReadDoc;
use chrono::{Duration, Utc};
use common::*;
use ruhu_core::calendar::CountyClock;
use ruhu_core::care::document::{append_events, read_care_log};
use ruhu_core::care::{CareEvent, CarePolicy};
use ruhu_core::signing::certificate::{Role, Scope};
use ruhu_core::sync::OutcomeKind;

#[test]
fn care_sections_sync_and_altered_events_are_refused() {
    let county = County::new();
    let data = tempfile::tempdir().unwrap();
    let alice = county.handler("w-alice", &[V1]);
    let bob = county.worker(
        "w-bob",
        &[Role::VillageCadre],
        Scope::Villages(vec![V1.into()]),
    );
    let server = Server::with_config(data.path(), &county, &[&alice, &bob]);
    let mut a = Tablet::new();
    let id = a.create(&alice, &household(1, V1));
    let person = format!("{:08x}{:08x}", 1, 1);
    let now = Utc::now();
    let doc = a.docs.get_mut(&id).unwrap();
    doc.set_actor(a.actor.clone());
    append_events(
        doc,
        vec![
            CareEvent::Enrolled {
                person_id: person.clone(),
                since: (now - Duration::days(30)).date_naive(),
            },
            CareEvent::TaskDone {
                person_id: person.clone(),
                task_id: "clean_home".into(),
                done_at: now - Duration::days(1),
                note: "ok".into(),
                photos: vec![],
            },
        ],
        &by(&alice),
        &CarePolicy::default(),
        CountyClock::default(),
    )
    .unwrap();
    let r = server
        .sync(&alice, &request(vec![a.unpushed(&alice, &id)], None))
        .unwrap();
    assert!(r.outcomes.is_empty(), "{:?}", r.outcomes);
    a.mark_pushed(&id);
    let mut b = Tablet::new();
    let rb = server.sync(&bob, &request(vec![], None)).unwrap();
    b.receive(&rb);
    let ca = read_care_log(&a.docs[&id], CountyClock::default())
        .unwrap()
        .record(&person);
    let cb = read_care_log(&b.docs[&id], CountyClock::default())
        .unwrap()
        .record(&person);
    assert_eq!(ca, cb);
    assert_eq!(cb.log.len(), 1);
    assert_eq!(cb.plan.len(), 4);

    // Alice's tablet rewrites the done entry.
    let doc = a.docs.get_mut(&id).unwrap();
    let (_, care) = doc.get(automerge::ROOT, "care").unwrap().unwrap();
    let (_, events) = doc.get(&care, "events").unwrap().unwrap();
    let entry = doc.map_range(&events, ..).map(|i| i.id()).next().unwrap();
    doc.put(&entry, "payload", "{}").unwrap();
    doc.commit();
    let r = server
        .sync(&alice, &request(vec![a.unpushed(&alice, &id)], Some(&r)))
        .unwrap();
    assert_eq!(r.outcomes.len(), 1);
    assert_eq!(r.outcomes[0].kind, OutcomeKind::Rejected);
    assert_eq!(r.outcomes[0].code, "care.event_altered");
    // The server kept the entry as it was: a colleague pulling now sees the original.
    let again = server.sync(&bob, &request(vec![], Some(&rb))).unwrap();
    b.receive(&again);
    let cb = read_care_log(&b.docs[&id], CountyClock::default())
        .unwrap()
        .record(&person);
    assert_eq!(cb.log.len(), 1);
    assert_eq!(cb.log[0].note, "ok");
}
