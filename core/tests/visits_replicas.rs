//! Three replicas: the three team members sign the same sealed visit on three tablets,
//! offline, then merge in every order; every replica sees a complete, valid visit, and
//! the visit lists follow (waiting for my signature → incomplete → complete).
#![allow(clippy::unwrap_used)]

mod visits_common;

use ruhu_core::household::Household;
use ruhu_core::signing::certificate::Role;
use ruhu_core::visit::verify::VisitStatus;
use ruhu_core::visit::Purpose;
use ruhu_core::Store;
use visits_common::*;

fn permutations() -> Vec<[usize; 3]> {
    vec![
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ]
}

#[test]
fn three_tablets_sign_offline_and_merge_in_every_order() {
    let c = county();
    let dir = tempfile::tempdir().unwrap();
    let mut handler = open_store(dir.path(), "handler", &c.handler.id, &c);
    let h: Household = handler
        .create_household(ruhu_core::fixtures::household(3, VILLAGE, 4))
        .unwrap();
    let visit = handler
        .start_visit(&h.id, Purpose::NewApplication, c.team())
        .unwrap();
    handler.edit_visit_draft(&h.id, &visit, &answers()).unwrap();
    assert_eq!(
        handler
            .visits_awaiting_signature(&c.handler.id, VILLAGE)
            .unwrap()
            .len(),
        0,
        "a draft waits for no one"
    );
    let sealed = handler.seal_visit(&h.id, &visit, &details(None)).unwrap();
    assert_eq!(sealed.content.revision, 1);

    // The sealed household goes to the two other tablets (any local link), before anyone signs.
    let base = handler.changes_since(&h.id, &[]).unwrap();
    let mut leader = open_store(dir.path(), "leader", &c.leader.id, &c);
    let mut cadre = open_store(dir.path(), "cadre", &c.cadre.id, &c);
    leader.import_changes(&h.id, &base).unwrap();
    cadre.import_changes(&h.id, &base).unwrap();
    for (store, w) in [
        (&leader, &c.leader),
        (&cadre, &c.cadre),
        (&handler, &c.handler),
    ] {
        let waiting = store.visits_awaiting_signature(&w.id, VILLAGE).unwrap();
        assert_eq!(waiting.len(), 1, "{} sees the visit waiting", w.id);
        assert_eq!(waiting[0].missing_roles.len(), 3);
    }

    // Offline, each signs on their own tablet.
    let mut stores: Vec<(&mut Store, &Worker)> = vec![
        (&mut leader, &c.leader),
        (&mut cadre, &c.cadre),
        (&mut handler, &c.handler),
    ];
    for (store, w) in stores.iter_mut() {
        store
            .sign_visit(
                &h.id,
                &visit,
                &sealed.content_hash,
                w.role,
                &w.keys,
                "tablet",
            )
            .unwrap();
        assert!(store
            .visits_awaiting_signature(&w.id, VILLAGE)
            .unwrap()
            .is_empty());
        let incomplete = store.visits_incomplete(VILLAGE).unwrap();
        assert_eq!(incomplete.len(), 1);
        assert_eq!(
            incomplete[0].missing_signers.len(),
            2,
            "whose signature is missing"
        );
    }
    let changes: Vec<Vec<Vec<u8>>> = stores
        .iter_mut()
        .map(|(s, _)| s.changes_since(&h.id, &[]).unwrap())
        .collect();

    // Every order of merging, on a fresh tablet.
    for (n, order) in permutations().into_iter().enumerate() {
        let mut fresh = open_store(dir.path(), &format!("fresh{n}"), "w-supervisor", &c);
        for i in order {
            fresh.import_changes(&h.id, &changes[i]).unwrap();
        }
        let v = fresh.verify_visit(&h.id, &visit).unwrap();
        assert!(
            matches!(v.status, VisitStatus::Complete { revision: 1, .. }),
            "order {order:?}: {:?}",
            v.status
        );
        assert_eq!(fresh.visits_complete(VILLAGE).unwrap().len(), 1);
    }
    // And each of the three tablets merges the other two, in both orders.
    for (i, (store, _)) in stores.iter_mut().enumerate() {
        let others: Vec<usize> = (0..3).filter(|j| *j != i).collect();
        for j in [others[1], others[0]] {
            store.import_changes(&h.id, &changes[j]).unwrap();
        }
        let v = store.verify_visit(&h.id, &visit).unwrap();
        assert!(v.is_complete(), "{:?}", v.status);
        assert_eq!(v.signers().count(), 3);
        assert!(v.signers().all(|s| s.name.is_some()));
        assert_eq!(store.visits_complete(VILLAGE).unwrap().len(), 1);
        assert!(store.visits_incomplete(VILLAGE).unwrap().is_empty());
        assert!(store.visits_complete(OTHER_VILLAGE).unwrap().is_empty());
    }
}

#[test]
fn corrections_and_draft_after_seal() {
    let c = county();
    let dir = tempfile::tempdir().unwrap();
    let mut handler = open_store(dir.path(), "handler", &c.handler.id, &c);
    let h = handler
        .create_household(ruhu_core::fixtures::household(4, VILLAGE, 4))
        .unwrap();
    let visit = handler
        .start_visit(&h.id, Purpose::PeriodicReview, c.team())
        .unwrap();
    handler.edit_visit_draft(&h.id, &visit, &answers()).unwrap();
    let r1 = handler.seal_visit(&h.id, &visit, &details(None)).unwrap();
    let err = handler
        .seal_visit(&h.id, &visit, &details(None))
        .unwrap_err();
    assert_eq!(err.code(), "visit.already_sealed");

    // A draft edit after sealing leaves the sealed entry alone and says it differs.
    let record = handler
        .edit_visit_draft(
            &h.id,
            &visit,
            &[(
                "income_wages_fen".into(),
                Some(serde_json::json!(1_900_000)),
            )],
        )
        .unwrap();
    assert_eq!(record.draft_differs_from, Some(1));
    assert_eq!(record.revisions.len(), 1);
    assert_eq!(record.revisions[0].bytes, r1.bytes);

    // Two tablets correct revision 1 concurrently: both corrections stay visible.
    let mut other = open_store(dir.path(), "cadre", &c.cadre.id, &c);
    other
        .import_changes(&h.id, &handler.changes_since(&h.id, &[]).unwrap())
        .unwrap();
    other
        .edit_visit_draft(
            &h.id,
            &visit,
            &[("reason".into(), Some(serde_json::json!("复核后收入有变化")))],
        )
        .unwrap();
    let r2a = handler
        .seal_visit(&h.id, &visit, &details(Some(r1.content_hash)))
        .unwrap();
    let r2b = other
        .seal_visit(&h.id, &visit, &details(Some(r1.content_hash)))
        .unwrap();
    assert_eq!((r2a.content.revision, r2b.content.revision), (2, 2));
    assert_eq!(r2a.content.previous, Some(r1.content_hash));
    handler
        .import_changes(&h.id, &other.changes_since(&h.id, &[]).unwrap())
        .unwrap();
    let record = handler.visit(&h.id, &visit).unwrap();
    assert_eq!(record.revisions.len(), 3, "the history stays readable");
    assert_eq!(record.latest.len(), 2);
    let v = handler.verify_visit(&h.id, &visit).unwrap();
    assert!(matches!(v.status, VisitStatus::Diverged { ref latest } if latest.len() == 2));
    assert_eq!(handler.visits_needing_attention(VILLAGE).unwrap().len(), 1);
    // Correcting a superseded revision is refused.
    let err = handler
        .seal_visit(&h.id, &visit, &details(Some(r1.content_hash)))
        .unwrap_err();
    assert_eq!(err.code(), "visit.not_latest");
    // Signing works on either; the correction must be signed again.
    handler
        .sign_visit(
            &h.id,
            &visit,
            &r2a.content_hash,
            Role::CaseHandler,
            &c.handler.keys,
            "tablet",
        )
        .unwrap();
}

#[test]
fn profile_edits_never_touch_visits() {
    let c = county();
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_store(dir.path(), "handler", &c.handler.id, &c);
    let h = store
        .create_household(ruhu_core::fixtures::household(5, VILLAGE, 4))
        .unwrap();
    let visit = store
        .start_visit(&h.id, Purpose::CareVisit, c.team())
        .unwrap();
    store.edit_visit_draft(&h.id, &visit, &answers()).unwrap();
    let sealed = store.seal_visit(&h.id, &visit, &details(None)).unwrap();
    store
        .sign_visit(
            &h.id,
            &visit,
            &sealed.content_hash,
            Role::CaseHandler,
            &c.handler.keys,
            "tablet",
        )
        .unwrap();
    let before = store.visit(&h.id, &visit).unwrap();
    let heads = store.household(&h.id).unwrap().heads;

    store
        .edit_household(&h.id, |h| h.profile.address = "二组 3 号".into())
        .unwrap();
    assert_eq!(store.visit(&h.id, &visit).unwrap(), before);
    // The profile edit is one change that writes only the address.
    let changes = store.changes_since(&h.id, &heads).unwrap();
    assert_eq!(changes.len(), 1);
    let change = automerge::Change::from_bytes(changes[0].clone()).unwrap();
    assert_eq!(change.len(), 1, "one operation");

    // Writing visits through the household model is refused.
    let err = store
        .edit_household(&h.id, |h| {
            h.extra.insert("visits".into(), serde_json::json!({}));
        })
        .unwrap_err();
    assert_eq!(err.field_errors()[0].field, "visits");
    let err = store
        .resolve_conflict(
            &h.id,
            &format!("visits.{visit}.sealed"),
            serde_json::json!(1),
        )
        .unwrap_err();
    assert_eq!(err.field_errors()[0].code, "read_only");
    let v = store.verify_visit(&h.id, &visit).unwrap();
    assert!(matches!(v.status, VisitStatus::Incomplete { .. }));
    assert_eq!(
        store.visits_incomplete(VILLAGE).unwrap()[0].missing_roles,
        vec![Role::TownshipLeader, Role::VillageCadre]
    );
}

#[test]
fn visits_received_before_the_authority_is_set_are_listed_once_it_is() {
    let c = county();
    let dir = tempfile::tempdir().unwrap();
    let mut handler = open_store(dir.path(), "handler", &c.handler.id, &c);
    let h = handler
        .create_household(ruhu_core::fixtures::household(5, VILLAGE, 4))
        .unwrap();
    let visit = handler
        .start_visit(&h.id, Purpose::NewApplication, c.team())
        .unwrap();
    handler.edit_visit_draft(&h.id, &visit, &answers()).unwrap();
    let sealed = handler.seal_visit(&h.id, &visit, &details(None)).unwrap();
    let mut stores = vec![handler];
    for (name, w) in [("leader", &c.leader), ("cadre", &c.cadre)] {
        let mut s = open_store(dir.path(), name, &w.id, &c);
        s.import_changes(&h.id, &stores[0].changes_since(&h.id, &[]).unwrap())
            .unwrap();
        stores.push(s);
    }
    for (s, w) in stores.iter_mut().zip([&c.handler, &c.leader, &c.cadre]) {
        s.sign_visit(
            &h.id,
            &visit,
            &sealed.content_hash,
            w.role,
            &w.keys,
            "tablet",
        )
        .unwrap();
    }
    let keys = ruhu_core::store::FileKeyStore::new(dir.path().join("fresh-dbkeys"));
    let mut fresh = Store::open(
        ruhu_core::StoreConfig::new(dir.path().join("fresh.db"), "tablet", "w-supervisor"),
        &keys,
    )
    .unwrap();
    for s in stores.iter_mut() {
        fresh
            .import_changes(&h.id, &s.changes_since(&h.id, &[]).unwrap())
            .unwrap();
    }
    assert!(
        fresh.visits_complete(VILLAGE).unwrap().is_empty(),
        "unverified"
    );
    fresh
        .set_authority(AUTHORITY_ID, c.authority.public_key())
        .unwrap();
    let complete = fresh.visits_complete(VILLAGE).unwrap();
    assert_eq!(complete.len(), 1);
    assert_eq!(complete[0].visit_id, visit);
    assert_eq!(complete[0].revision, Some(1));
}
