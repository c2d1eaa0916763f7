//! The team lead's office view: conflicts with both values and who wrote each when, this
//! device's unsynced backlog, households the server rejected (and the rebase that clears
//! them), and visits waiting for signatures from named team members.
#![allow(clippy::unwrap_used)]

mod visits_common;

use chrono::{Duration, Utc};
use ruhu_core::signing::certificate::Role;
use ruhu_core::sync::{HouseholdOutcome, OutcomeKind};
use ruhu_core::visit::Purpose;
use ruhu_core::{Error, Store};
use serde_json::json;
use visits_common::*;

fn new_household(store: &mut Store, seed: u64, village: &str) -> String {
    store
        .create_household(ruhu_core::fixtures::household(seed, village, 3))
        .unwrap()
        .id
}

#[test]
fn a_conflict_shows_both_values_with_author_and_time_until_resolved() {
    let c = county();
    let dir = tempfile::tempdir().unwrap();
    let mut handler = open_store(dir.path(), "handler", &c.handler.id, &c);
    let mut cadre = open_store(dir.path(), "cadre", &c.cadre.id, &c);
    let before = Utc::now().timestamp();
    let id = new_household(&mut handler, 11, VILLAGE);
    let other = new_household(&mut handler, 12, VILLAGE);
    cadre
        .import_changes(&id, &handler.changes_since(&id, &[]).unwrap())
        .unwrap();
    assert!(handler
        .office_view(None, Utc::now())
        .unwrap()
        .conflicts
        .is_empty());

    // Offline, both change the address.
    handler
        .edit_household(&id, |h| h.profile.address = "一组 12 号".into())
        .unwrap();
    cadre
        .edit_household(&id, |h| h.profile.address = "二组 3 号".into())
        .unwrap();
    handler
        .import_changes(&id, &cadre.changes_since(&id, &[]).unwrap())
        .unwrap();
    let after = Utc::now().timestamp();

    let view = handler.office_view(Some(VILLAGE), Utc::now()).unwrap();
    assert_eq!(view.conflicts.len(), 1, "{:?}", view.conflicts);
    let household = &view.conflicts[0];
    assert_eq!(household.household_id, id);
    assert_eq!(household.village_code, VILLAGE);
    assert!(!household.head_name.is_empty());
    assert_eq!(household.conflicts.len(), 1);
    let conflict = &household.conflicts[0];
    assert_eq!(conflict.field, "profile.address");
    let mut written: Vec<(String, String)> = conflict
        .values
        .iter()
        .map(|v| {
            (
                v.author.clone().unwrap(),
                v.value.as_str().unwrap().to_owned(),
            )
        })
        .collect();
    written.sort();
    assert_eq!(
        written,
        vec![
            ("w-cadre".to_owned(), "二组 3 号".to_owned()),
            ("w-handler".to_owned(), "一组 12 号".to_owned())
        ]
    );
    assert!(conflict
        .values
        .iter()
        .all(|v| (before..=after).contains(&v.time_unix)));
    // The same list without a village filter; another village has none.
    assert_eq!(
        handler.households_in_conflict(None).unwrap(),
        view.conflicts
    );
    assert!(handler
        .households_in_conflict(Some(OTHER_VILLAGE))
        .unwrap()
        .is_empty());
    assert!(!view.conflicts.iter().any(|h| h.household_id == other));

    // The lead picks one value: the conflict is gone from the view and the list.
    handler
        .resolve_conflict(&id, "profile.address", json!("二组 3 号"))
        .unwrap();
    assert!(handler
        .office_view(None, Utc::now())
        .unwrap()
        .conflicts
        .is_empty());
    assert!(!handler.summary(&id).unwrap().has_conflicts);
    assert_eq!(
        handler.household(&id).unwrap().household.profile.address,
        "二组 3 号"
    );
}

#[test]
fn the_backlog_counts_unsynced_changes_and_ages_the_oldest() {
    let c = county();
    let dir = tempfile::tempdir().unwrap();
    let mut store = enrolled_store(dir.path(), "handler", &c.handler, &c);
    let empty = store.office_view(None, Utc::now()).unwrap().backlog;
    assert_eq!(empty.worker_id, "w-handler");
    assert_eq!((empty.unsynced_changes, empty.households), (0, 0));
    assert_eq!(
        (empty.oldest_unsynced_at, empty.oldest_age_seconds),
        (None, None)
    );

    let start = Utc::now().timestamp();
    let a = new_household(&mut store, 21, VILLAGE);
    new_household(&mut store, 22, OTHER_VILLAGE);
    store
        .edit_household(&a, |h| h.profile.address = "三组 1 号".into())
        .unwrap();
    let (queued, oldest) = store.unsynced_changes().unwrap();
    assert!(queued >= 3, "two creations and one edit: {queued}");

    let later = Utc::now() + Duration::hours(5);
    let backlog = store.office_view(Some(VILLAGE), later).unwrap().backlog;
    assert_eq!(backlog.unsynced_changes, queued, "the whole device");
    assert_eq!(backlog.households, 2);
    assert_eq!(backlog.oldest_unsynced_at, oldest);
    let written = backlog.oldest_unsynced_at.unwrap();
    assert!(written >= start && written <= Utc::now().timestamp());
    assert_eq!(
        backlog.oldest_age_seconds,
        Some(later.timestamp() - written)
    );
    assert!(backlog.oldest_age_seconds.unwrap() >= 5 * 3600);
    // A clock set back never shows a negative age.
    let earlier = Utc::now() - Duration::days(1);
    assert_eq!(
        store.device_backlog(earlier).unwrap().oldest_age_seconds,
        Some(0)
    );

    // The server accepts everything: nothing is left.
    assert_eq!(server_accepts_all(&mut store) as u64, queued);
    let synced = store.office_view(None, later).unwrap().backlog;
    assert_eq!((synced.unsynced_changes, synced.households), (0, 0));
    assert_eq!(synced.oldest_age_seconds, None);
}

#[test]
fn a_rejected_household_shows_the_reason_until_it_is_rebased() {
    let c = county();
    let dir = tempfile::tempdir().unwrap();
    let mut store = enrolled_store(dir.path(), "handler", &c.handler, &c);
    let id = new_household(&mut store, 31, VILLAGE);
    let fine = new_household(&mut store, 32, VILLAGE);
    server_accepts_all(&mut store);
    store
        .edit_household(&id, |h| h.profile.address = "四组 8 号".into())
        .unwrap();
    store
        .edit_household(&fine, |h| h.profile.address = "四组 9 号".into())
        .unwrap();
    let pushed = store.pending_push(usize::MAX).unwrap();
    let outcome = rejection(
        &pushed,
        &id,
        "sync.stale_certificate",
        "the change was signed with a certificate that had expired",
    );
    let refused = outcome.refused_changes.clone();
    store.acknowledge_push(&pushed, &[outcome]).unwrap();

    let view = store.office_view(Some(VILLAGE), Utc::now()).unwrap();
    assert_eq!(view.not_accepted.len(), 1, "{:?}", view.not_accepted);
    let rejected = &view.not_accepted[0];
    assert_eq!(rejected.household_id, id);
    assert_eq!(rejected.village_code, VILLAGE);
    assert!(!rejected.head_name.is_empty());
    assert_eq!(rejected.kind, "rejected");
    assert_eq!(rejected.code, "sync.stale_certificate");
    assert!(rejected.detail.contains("expired"));
    assert!(rejected.can_rebase);
    assert_eq!(rejected.unsynced_changes, refused.len() as u64);
    assert_eq!(view.backlog.unsynced_changes, refused.len() as u64);
    assert!(store
        .office_view(Some(OTHER_VILLAGE), Utc::now())
        .unwrap()
        .not_accepted
        .is_empty());

    // The rebase action clears it; the replayed edit waits in the backlog.
    let outcome = store.rebase_household(&id).unwrap();
    assert!(outcome.replayed);
    let view = store.office_view(None, Utc::now()).unwrap();
    assert!(view.not_accepted.is_empty());
    assert_eq!(view.backlog.unsynced_changes, 1);
    assert_eq!(
        store.household(&id).unwrap().household.profile.address,
        "四组 8 号"
    );
}

#[test]
fn a_held_household_is_listed_without_the_rebase_action() {
    let c = county();
    let dir = tempfile::tempdir().unwrap();
    let mut store = enrolled_store(dir.path(), "handler", &c.handler, &c);
    let id = new_household(&mut store, 41, OTHER_VILLAGE);
    let pushed = store.pending_push(usize::MAX).unwrap();
    let held = HouseholdOutcome {
        household_id: id.clone(),
        kind: OutcomeKind::Held,
        code: "sync.missing_dependencies".into(),
        detail: "waiting for changes it depends on".into(),
        refused_changes: Vec::new(),
    };
    store.acknowledge_push(&pushed, &[held]).unwrap();
    let listed = store.not_accepted(None).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].kind.as_str(), listed[0].can_rebase),
        ("held", false)
    );
    assert_eq!(listed[0].village_code, OTHER_VILLAGE);
    assert!(listed[0].unsynced_changes >= 1, "held changes stay queued");
}

#[test]
fn visits_waiting_for_signatures_name_who_has_not_signed() {
    let c = county();
    let dir = tempfile::tempdir().unwrap();
    let mut handler = open_store(dir.path(), "handler", &c.handler.id, &c);
    let id = new_household(&mut handler, 51, VILLAGE);
    let visit = handler
        .start_visit(&id, Purpose::NewApplication, c.team())
        .unwrap();
    handler.edit_visit_draft(&id, &visit, &answers()).unwrap();
    assert!(
        handler
            .office_view(None, Utc::now())
            .unwrap()
            .awaiting_signatures
            .is_empty(),
        "a draft waits for no signature"
    );
    let sealed = handler.seal_visit(&id, &visit, &details(None)).unwrap();
    handler
        .sign_visit(
            &id,
            &visit,
            &sealed.content_hash,
            Role::CaseHandler,
            &c.handler.keys,
            "tablet",
        )
        .unwrap();

    for village in [Some(VILLAGE), None] {
        let waiting = handler
            .office_view(village, Utc::now())
            .unwrap()
            .awaiting_signatures;
        assert_eq!(waiting.len(), 1, "{village:?}");
        assert_eq!(waiting[0].visit_id, visit);
        assert_eq!(waiting[0].household_id, id);
        assert_eq!(waiting[0].status, "incomplete");
        let mut from: Vec<(Role, &str)> = waiting[0]
            .missing_signers
            .iter()
            .map(|m| (m.role, m.worker_id.as_str()))
            .collect();
        from.sort();
        assert_eq!(
            from,
            vec![
                (Role::TownshipLeader, "w-leader"),
                (Role::VillageCadre, "w-cadre")
            ]
        );
    }
    assert!(handler
        .office_view(Some(OTHER_VILLAGE), Utc::now())
        .unwrap()
        .awaiting_signatures
        .is_empty());
}

#[test]
fn a_malformed_village_filter_is_a_field_error() {
    let c = county();
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_store(dir.path(), "handler", &c.handler.id, &c);
    for bad in ["62010200100", "62010200100x", ""] {
        match store.office_view(Some(bad), Utc::now()) {
            Err(Error::Invalid(problems)) => {
                assert_eq!(problems[0].field, "village_code");
                assert_eq!(problems[0].code, "code.format");
            }
            other => panic!("{bad:?}: {other:?}"),
        }
    }
}

#[test]
fn a_rejection_naming_no_change_keeps_every_change_queued() {
    let c = county();
    let dir = tempfile::tempdir().unwrap();
    let mut store = enrolled_store(dir.path(), "handler", &c.handler, &c);
    let id = new_household(&mut store, 61, VILLAGE);
    server_accepts_all(&mut store);
    for address in ["六组 1 号", "六组 2 号"] {
        store
            .edit_household(&id, |h| h.profile.address = address.into())
            .unwrap();
    }
    let pushed = store.pending_push(usize::MAX).unwrap();
    let mut whole = rejection(
        &pushed,
        &id,
        "sync.out_of_scope",
        "w-handler may not write households of village 620102001001",
    );
    whole.refused_changes.clear();
    store.acknowledge_push(&pushed, &[whole]).unwrap();
    let listed = store.not_accepted(None).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].unsynced_changes, 2, "nothing was accepted");
    assert_eq!(store.unsynced_changes().unwrap().0, 2);
    // The rebase therefore still has the edits to replay.
    let outcome = store.rebase_household(&id).unwrap();
    assert_eq!(outcome.archived_changes, 2);
    assert!(outcome.replayed);
    assert_eq!(
        store.household(&id).unwrap().household.profile.address,
        "六组 2 号"
    );
}
