//! Concurrent offline edits on two tablets: merges, visible conflicts, explicit resolution, and
//! fields written by a newer app version surviving a round trip.

#![allow(clippy::unwrap_used)]

use automerge::transaction::Transactable;
use automerge::{ObjType, ReadDoc, ROOT};
use ruhu_core::fixtures;
use ruhu_core::store::FileKeyStore;
use ruhu_core::{Error, Store, StoreConfig};
use serde_json::json;

fn tablet(dir: &std::path::Path, name: &str) -> Store {
    let keys = FileKeyStore::new(dir.join("keys"));
    Store::open(
        StoreConfig::new(dir.join(format!("{name}.db")), name, name),
        &keys,
    )
    .unwrap()
}

/// An Automerge document made of raw changes.
fn to_doc(changes: &[Vec<u8>]) -> automerge::AutoCommit {
    let mut doc = automerge::AutoCommit::new();
    let decoded: Vec<automerge::Change> = changes
        .iter()
        .map(|c| automerge::Change::from_bytes(c.clone()).unwrap())
        .collect();
    doc.apply_changes(decoded).unwrap();
    doc
}

/// Sends everything `from` has of the household to `to`.
fn sync(from: &mut Store, to: &mut Store, id: &str) {
    let bytes = from.changes_since(id, &[]).unwrap();
    to.import_changes(id, &bytes).unwrap();
}

#[test]
fn two_tablets_merge_edits_of_different_fields_without_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let (mut a, mut b) = (
        tablet(dir.path(), "worker-a"),
        tablet(dir.path(), "worker-b"),
    );
    let id = a
        .create_household(fixtures::household(1, &fixtures::village(1), 3))
        .unwrap()
        .id;
    sync(&mut a, &mut b, &id);
    a.edit_household(&id, |h| h.profile.address = "三组 8 号".into())
        .unwrap();
    b.edit_household(&id, |h| h.profile.phone = Some("13912345678".into()))
        .unwrap();
    sync(&mut a, &mut b, &id);
    sync(&mut b, &mut a, &id);
    let (ra, rb) = (a.household(&id).unwrap(), b.household(&id).unwrap());
    assert_eq!(ra.household, rb.household);
    assert_eq!(ra.household.profile.address, "三组 8 号");
    assert_eq!(ra.household.profile.phone.as_deref(), Some("13912345678"));
    assert!(ra.conflicts.is_empty());
}

#[test]
fn the_same_field_set_on_two_tablets_stays_visible_until_resolved() {
    let dir = tempfile::tempdir().unwrap();
    let (mut a, mut b) = (
        tablet(dir.path(), "worker-a"),
        tablet(dir.path(), "worker-b"),
    );
    let mut c = tablet(dir.path(), "worker-c");
    let id = a
        .create_household(fixtures::household(2, &fixtures::village(1), 2))
        .unwrap()
        .id;
    sync(&mut a, &mut b, &id);
    sync(&mut a, &mut c, &id);
    a.edit_household(&id, |h| h.profile.address = "A 写的地址".into())
        .unwrap();
    b.edit_household(&id, |h| h.profile.address = "B 写的地址".into())
        .unwrap();
    sync(&mut b, &mut a, &id);
    sync(&mut a, &mut c, &id);

    for store in [&mut a, &mut c] {
        let record = store.household(&id).unwrap();
        assert_eq!(record.conflicts.len(), 1);
        let conflict = &record.conflicts[0];
        assert_eq!(conflict.field, "profile.address");
        let mut seen: Vec<(String, String)> = conflict
            .values
            .iter()
            .map(|v| {
                (
                    v.value.as_str().unwrap().to_owned(),
                    v.author.clone().unwrap(),
                )
            })
            .collect();
        seen.sort();
        assert_eq!(
            seen,
            vec![
                ("A 写的地址".into(), "worker-a".into()),
                ("B 写的地址".into(), "worker-b".into())
            ]
        );
        assert!(conflict.values.iter().all(|v| v.time_unix > 1_700_000_000));
        assert!(store.summary(&id).unwrap().has_conflicts);
    }

    // A plain write to the conflicted field is refused and points at the resolve operation.
    let err = a
        .edit_household(&id, |h| h.profile.address = "C".into())
        .unwrap_err();
    assert!(matches!(&err, Error::FieldConflicted { field } if field == "profile.address"));
    assert_eq!(err.code(), "household.field_conflicted");
    assert!(err.to_string().contains("resolve_conflict"));
    // Other fields can still be edited.
    a.edit_household(&id, |h| h.profile.phone = Some("13700000000".into()))
        .unwrap();
    // Resolving a field with no conflict, or with an invalid value, is refused.
    assert!(matches!(
        a.resolve_conflict(&id, "profile.phone", json!("1")),
        Err(Error::NoConflict { .. })
    ));
    let err = a
        .resolve_conflict(&id, "profile.address", json!(""))
        .unwrap_err();
    assert_eq!(err.field_errors()[0].field, "profile.address");

    let resolved = a
        .resolve_conflict(&id, "profile.address", json!("B 写的地址"))
        .unwrap();
    assert!(resolved.conflicts.is_empty());
    assert!(!a.summary(&id).unwrap().has_conflicts);
    // The resolution is a change that syncs: the conflict disappears on the other tablets.
    sync(&mut a, &mut c, &id);
    sync(&mut a, &mut b, &id);
    for store in [&mut b, &mut c] {
        let record = store.household(&id).unwrap();
        assert!(record.conflicts.is_empty());
        assert_eq!(record.household.profile.address, "B 写的地址");
        assert!(!store.summary(&id).unwrap().has_conflicts);
    }
}

#[test]
fn fields_from_a_newer_app_version_survive_edits() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = tablet(dir.path(), "worker-a");
    let id = a
        .create_household(fixtures::household(3, &fixtures::village(1), 2))
        .unwrap()
        .id;

    // A newer app adds a profile field and a whole new section.
    let mut newer = to_doc(&a.changes_since(&id, &[]).unwrap());
    let heads = newer.get_heads();
    let profile = match newer.get(ROOT, "profile").unwrap() {
        Some((_, obj)) => obj,
        None => panic!("no profile"),
    };
    newer.put(&profile, "toilet_type", "flush").unwrap();
    let housing = newer.put_object(ROOT, "housing", ObjType::Map).unwrap();
    newer.put(&housing, "area_m2", 64).unwrap();
    newer.commit();
    let added: Vec<Vec<u8>> = newer
        .get_changes(&heads)
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect();
    a.import_changes(&id, &added).unwrap();

    let record = a.household(&id).unwrap();
    assert_eq!(
        record.household.profile.extra["toilet_type"],
        json!("flush")
    );
    assert_eq!(record.household.extra["housing"], json!({"area_m2": 64}));
    a.edit_household(&id, |h| {
        h.profile.address = "edited by the older app".into()
    })
    .unwrap();
    a.clear_cache();

    let doc = to_doc(&a.changes_since(&id, &[]).unwrap());
    let profile = doc.get(ROOT, "profile").unwrap().unwrap().1;
    assert_eq!(
        doc.get(&profile, "toilet_type")
            .unwrap()
            .unwrap()
            .0
            .as_str(),
        Some("flush")
    );
    assert_eq!(
        doc.get(&profile, "address").unwrap().unwrap().0.as_str(),
        Some("edited by the older app")
    );
    let housing = doc.get(ROOT, "housing").unwrap().unwrap().1;
    assert_eq!(
        doc.get(&housing, "area_m2").unwrap().unwrap().0.as_i64(),
        Some(64)
    );
}

#[test]
fn garbage_and_foreign_documents_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = tablet(dir.path(), "worker-a");
    let id = a
        .create_household(fixtures::household(4, &fixtures::village(1), 2))
        .unwrap()
        .id;
    let other = a
        .create_household(fixtures::household(5, &fixtures::village(1), 2))
        .unwrap()
        .id;
    let before = a.household(&id).unwrap();

    let err = a
        .import_changes(&id, &[b"not an automerge change".to_vec()])
        .unwrap_err();
    assert_eq!(err.code(), "document.corrupt");
    // Another household's document is not this household.
    let foreign = a.changes_since(&other, &[]).unwrap();
    assert!(a.import_changes(&id, &foreign).is_err());
    a.clear_cache();
    assert_eq!(a.household(&id).unwrap().household, before.household);
    // A document that is not a household at all is refused for a new id too.
    let mut junk = automerge::AutoCommit::new();
    junk.put(ROOT, "hello", "world").unwrap();
    let new_id = "b".repeat(32);
    let junk_changes: Vec<Vec<u8>> = junk
        .get_changes(&[])
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect();
    assert_eq!(
        a.import_changes(&new_id, &junk_changes).unwrap_err().code(),
        "document.corrupt"
    );
    // A change whose dependencies are missing is refused, not queued.
    let all = a.changes_since(&id, &[]).unwrap();
    a.edit_household(&id, |h| h.profile.address = "x".into())
        .unwrap();
    let mut b = tablet(dir.path(), "worker-b");
    let later = a.changes_since(&id, &[]).unwrap()[all.len()..].to_vec();
    assert_eq!(
        b.import_changes(&id, &later).unwrap_err().code(),
        "document.missing_dependencies"
    );
    assert!(b.household(&id).is_err());
    assert!(a.household(&new_id).is_err());
}

#[test]
fn own_fields_read_skips_other_sections_and_names_every_model_key() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = tablet(dir.path(), "a");
    let created = store
        .create_household(fixtures::household(7, &fixtures::village(1), 3))
        .unwrap();
    let mut doc = to_doc(&store.changes_since(&created.id, &[]).unwrap());
    let section = doc.put_object(ROOT, "care_log", ObjType::Map).unwrap();
    doc.put(&section, "entry", "cleaned the room").unwrap();
    doc.commit();

    // Every top-level key of the typed model is one of HOUSEHOLD_KEYS.
    let tree = serde_json::to_value(&created).unwrap();
    let mut keys: Vec<&str> = tree
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    let mut expected = ruhu_core::household::HOUSEHOLD_KEYS.to_vec();
    expected.sort_unstable();
    assert_eq!(keys, expected);

    let full = ruhu_core::household::HouseholdDocument::from_automerge(doc.clone())
        .household()
        .unwrap();
    assert!(full.extra.contains_key("care_log"));
    let own = ruhu_core::household::read_own_fields(&doc).unwrap();
    assert!(own.extra.is_empty());
    assert_eq!(own.profile, full.profile);
    assert_eq!(own.members, full.members);
    assert_eq!(own, created);
}
