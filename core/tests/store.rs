//! The tablet store through its public API: create, list, search, edit, validation,
//! persistence, compaction and actor ids.

#![allow(clippy::unwrap_used)]

use ruhu_core::fixtures;
use ruhu_core::store::{FileKeyStore, ListFilter};
use ruhu_core::{Error, Store, StoreConfig};

fn open(dir: &std::path::Path, worker: &str) -> Store {
    let keys = FileKeyStore::new(dir.join("keys"));
    Store::open(
        StoreConfig::new(dir.join("tablet.db"), "tablet", worker),
        &keys,
    )
    .unwrap()
}

#[test]
fn created_households_are_listed_searched_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path(), "worker-a");
    let v1 = fixtures::village(1);
    let v2 = fixtures::village(2);
    let a = store
        .create_household(fixtures::household(1, &v1, 3))
        .unwrap();
    let b = store
        .create_household(fixtures::household(2, &v1, 5))
        .unwrap();
    let c = store
        .create_household(fixtures::household(3, &v2, 1))
        .unwrap();

    let listed = store.list_village(&v1, &ListFilter::default()).unwrap();
    let ids: Vec<_> = listed.iter().map(|s| s.id.clone()).collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&a.id) && ids.contains(&b.id));
    let b_summary = listed.iter().find(|s| s.id == b.id).unwrap();
    assert_eq!(b_summary.member_count, 5);
    assert_eq!(b_summary.head_name, b.head().unwrap().name);
    assert_eq!(b_summary.program, "rural_dibao");

    let filtered = store
        .list_village(
            &v1,
            &ListFilter {
                status: Some("exited".into()),
                program: None,
            },
        )
        .unwrap();
    assert!(filtered.is_empty());

    // Name search finds any member, only within the given villages.
    let member_name = c.members.values().next().unwrap().name.clone();
    let found = store
        .search_by_name(std::slice::from_ref(&v2), &member_name)
        .unwrap();
    assert_eq!(
        found.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        vec![c.id.as_str()]
    );
    assert!(store
        .search_by_name(std::slice::from_ref(&v1), &member_name)
        .unwrap()
        .iter()
        .all(|s| s.id != c.id));

    // ID search, lower-case x accepted; outside my villages nothing.
    let id_number = a.members.values().nth(1).unwrap().id_number.to_lowercase();
    assert_eq!(
        store
            .find_by_id_number(std::slice::from_ref(&v1), &id_number)
            .unwrap()[0]
            .id,
        a.id
    );
    assert!(store
        .find_by_id_number(std::slice::from_ref(&v2), &id_number)
        .unwrap()
        .is_empty());

    let record = store.household(&a.id).unwrap();
    assert_eq!(record.household, a);
    assert!(record.conflicts.is_empty() && record.problems.is_empty());
}

#[test]
fn an_invalid_household_is_refused_with_field_errors_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path(), "worker-a");
    let v = fixtures::village(1);
    let mut bad = fixtures::household(1, &v, 2);
    bad.members[1].id_number.replace_range(17..18, "0");
    if bad.members[1].id_number == fixtures::household(1, &v, 2).members[1].id_number {
        bad.members[1].id_number.replace_range(17..18, "1");
    }
    bad.enrollment.dibao_class = None;
    bad.village_code = "620199001001".into();
    let good = fixtures::household(2, &v, 2);
    let err = store.create_households(vec![good, bad]).unwrap_err();
    assert_eq!(err.code(), "validation");
    let codes: Vec<(&str, &str)> = err
        .field_errors()
        .iter()
        .map(|e| (e.field.as_str(), e.code))
        .collect();
    assert!(
        codes.iter().any(|(f, c)| f.starts_with("[1].members.")
            && f.ends_with(".id_number")
            && *c == "resident_id.check_digit"),
        "{codes:?}"
    );
    assert!(
        codes.contains(&("[1].enrollment.dibao_class", "required")),
        "{codes:?}"
    );
    assert!(
        codes.contains(&("[1].profile.village_code", "address.not_in_township")),
        "{codes:?}"
    );
    // All or nothing: the valid first household was not written either.
    assert!(store
        .list_village(&v, &ListFilter::default())
        .unwrap()
        .is_empty());
}

#[test]
fn an_invalid_edit_changes_nothing_and_a_valid_one_is_a_diff() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path(), "worker-a");
    let h = store
        .create_household(fixtures::household(4, &fixtures::village(1), 3))
        .unwrap();
    let before = store.household(&h.id).unwrap();
    let chunks_before = store.stored_chunk_count(&h.id).unwrap();

    let err = store
        .edit_household(&h.id, |h| {
            let m = h.members.values_mut().next().unwrap();
            m.birth_date = chrono::NaiveDate::from_ymd_opt(1999, 9, 9).unwrap();
            m.disability_grade = Some(9);
        })
        .unwrap_err();
    let fields: Vec<_> = err.field_errors().iter().map(|e| e.code).collect();
    assert!(fields.contains(&"member.birth_date_mismatch"), "{fields:?}");
    assert_eq!(store.household(&h.id).unwrap(), before);
    assert_eq!(store.stored_chunk_count(&h.id).unwrap(), chunks_before);

    let edited = store
        .edit_household(&h.id, |h| h.profile.address = "二组 3 号".into())
        .unwrap();
    assert_eq!(edited.household.profile.address, "二组 3 号");
    assert_eq!(store.stored_chunk_count(&h.id).unwrap(), chunks_before + 1);
    // The id cannot change.
    assert!(store
        .edit_household(&h.id, |h| h.id = "0".repeat(32))
        .is_err());
    // An edit from a stale read keeps the newer value of fields it did not touch.
    let stale = before;
    let mut from_stale = stale.household.clone();
    from_stale.profile.phone = Some("13800000000".into());
    let merged = store.update_household(&from_stale, &stale.heads).unwrap();
    assert_eq!(merged.household.profile.address, "二组 3 号");
    assert_eq!(
        merged.household.profile.phone.as_deref(),
        Some("13800000000")
    );
}

#[test]
fn households_survive_reopening_and_compaction_keeps_chunks_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let id;
    let first_actor;
    {
        let mut store = open(dir.path(), "worker-a");
        first_actor = store.actor_id();
        id = store
            .create_household(fixtures::household(5, &fixtures::village(1), 4))
            .unwrap()
            .id;
        for i in 0..25 {
            store
                .edit_household(&id, |h| h.profile.address = format!("{i}组"))
                .unwrap();
            assert!(store.stored_chunk_count(&id).unwrap() <= 10);
        }
    }
    let mut store = open(dir.path(), "worker-a");
    assert_ne!(store.actor_id(), first_actor);
    assert_eq!(
        store.household(&id).unwrap().household.profile.address,
        "24组"
    );
    store.clear_cache();
    store
        .edit_household(&id, |h| h.profile.address = "final".into())
        .unwrap();
    store.clear_cache();
    assert_eq!(
        store.household(&id).unwrap().household.profile.address,
        "final"
    );
    assert_eq!(store.integrity_check().unwrap(), "ok");
}

#[test]
fn a_store_restored_from_a_copy_never_reuses_an_actor_id() {
    let dir = tempfile::tempdir().unwrap();
    let mut seen = Vec::new();
    let id;
    {
        let mut store = open(dir.path(), "worker-a");
        seen.push(store.actor_id());
        id = store
            .create_household(fixtures::household(6, &fixtures::village(1), 2))
            .unwrap()
            .id;
    }
    // Back up the files, keep working, then restore the backup.
    let backup = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), backup.path().join(entry.file_name())).unwrap();
        }
    }
    {
        let mut store = open(dir.path(), "worker-a");
        seen.push(store.actor_id());
        store
            .edit_household(&id, |h| h.profile.address = "after backup".into())
            .unwrap();
    }
    for entry in std::fs::read_dir(backup.path()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    let mut restored = open(dir.path(), "worker-a");
    assert!(!seen.contains(&restored.actor_id()));
    restored
        .edit_household(&id, |h| h.profile.address = "on restored copy".into())
        .unwrap();
    let changes = restored.changes_since(&id, &[]).unwrap();
    let actors: std::collections::HashSet<String> = changes
        .into_iter()
        .map(|c| {
            automerge::Change::from_bytes(c)
                .unwrap()
                .actor_id()
                .to_hex_string()
        })
        .collect();
    assert!(actors.contains(&restored.actor_id()));
}

#[test]
fn an_unknown_household_is_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path(), "worker-a");
    let err = store.household(&"a".repeat(32)).unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }));
    assert_eq!(err.code(), "not_found");
}
