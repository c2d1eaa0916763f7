//! The outbox keeps each queued change's bytes (schema version 6), so a push reads the outbox
//! alone; a change queued before version 6 (no bytes) is still pushed, read from its document.
#![allow(clippy::unwrap_used)]

mod visits_common;

use ruhu_core::store::{FileKeyStore, KeyStore};
use visits_common::*;

fn raw_connection(dir: &std::path::Path, name: &str) -> rusqlite::Connection {
    let keys = FileKeyStore::new(dir.join(format!("{name}-dbkeys")));
    let key = keys.database_key("tablet").unwrap();
    let conn = rusqlite::Connection::open(dir.join(format!("{name}.db"))).unwrap();
    ruhu_core::store::keying::key_and_probe(&conn, &key).unwrap();
    conn
}

#[test]
fn queued_changes_push_the_same_bytes_with_or_without_stored_bytes() {
    let c = county();
    let dir = tempfile::tempdir().unwrap();
    let mut store = enrolled_store(dir.path(), "t", &c.handler, &c);
    for seed in 0..3 {
        let created = store
            .create_household(ruhu_core::fixtures::household(seed, VILLAGE, 2))
            .unwrap();
        let record = store.household(&created.id).unwrap();
        let mut edited = record.household.clone();
        edited.profile.address = format!("{seed}组 8 号");
        store.update_household(&edited, &record.heads).unwrap();
    }
    let with_bytes = store.pending_push(usize::MAX).unwrap();
    assert_eq!(with_bytes.len(), 3);
    assert!(with_bytes.iter().all(|g| g.changes.len() == 2));
    drop(store);

    let conn = raw_connection(dir.path(), "t");
    let stored: i64 = conn
        .query_row(
            "SELECT count(*) FROM outbox WHERE change IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, 6, "every queued change keeps its bytes");
    // As if queued by a version-5 store.
    conn.execute("UPDATE outbox SET change = NULL", []).unwrap();
    drop(conn);

    let mut store = enrolled_store(dir.path(), "t", &c.handler, &c);
    let from_documents = store.pending_push(usize::MAX).unwrap();
    assert_eq!(from_documents, with_bytes);
    assert_eq!(server_accepts_all(&mut store), 6);
    assert!(store.pending_push(usize::MAX).unwrap().is_empty());
}

#[test]
fn queued_changes_push_the_same_signatures_when_the_outbox_holds_none() {
    let c = county();
    let dir = tempfile::tempdir().unwrap();
    let mut store = enrolled_store(dir.path(), "t", &c.handler, &c);
    for seed in 0..3 {
        store
            .create_household(ruhu_core::fixtures::household(seed, VILLAGE, 2))
            .unwrap();
    }
    let signed_in_outbox = store.pending_push(usize::MAX).unwrap();
    assert_eq!(signed_in_outbox.len(), 3);
    drop(store);

    let conn = raw_connection(dir.path(), "t");
    let (in_outbox, held): (i64, i64) = conn
        .query_row(
            "SELECT (SELECT count(*) FROM outbox WHERE signature IS NOT NULL),
                    (SELECT count(*) FROM change_signatures)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (in_outbox, held),
        (3, 3),
        "signed once, kept in both places"
    );
    // As if queued by a version-8 store (signatures only among the store's signatures), and
    // as a server reset re-queues changes.
    conn.execute("UPDATE outbox SET signer = NULL, signature = NULL", [])
        .unwrap();
    drop(conn);

    let mut store = enrolled_store(dir.path(), "t", &c.handler, &c);
    assert_eq!(store.pending_push(usize::MAX).unwrap(), signed_in_outbox);
    assert_eq!(server_accepts_all(&mut store), 3);
}

#[test]
fn upgrading_a_version_8_store_moves_the_signatures_of_queued_changes_into_the_outbox() {
    let c = county();
    let dir = tempfile::tempdir().unwrap();
    let mut store = enrolled_store(dir.path(), "t", &c.handler, &c);
    store
        .create_household(ruhu_core::fixtures::household(7, VILLAGE, 3))
        .unwrap();
    let before = store.pending_push(usize::MAX).unwrap();
    drop(store);

    // Back to the version-8 outbox: no signature columns.
    let conn = raw_connection(dir.path(), "t");
    conn.execute_batch(
        "ALTER TABLE outbox DROP COLUMN signer;
         ALTER TABLE outbox DROP COLUMN signature;
         PRAGMA user_version = 8;",
    )
    .unwrap();
    drop(conn);

    let store = ruhu_core::Store::open(
        ruhu_core::StoreConfig::new(dir.path().join("t.db"), "tablet", &c.handler.id),
        &ruhu_core::store::FileKeyStore::new(dir.path().join("t-dbkeys")),
    )
    .unwrap();
    drop(store);
    let conn = raw_connection(dir.path(), "t");
    let moved: i64 = conn
        .query_row(
            "SELECT count(*) FROM outbox o JOIN change_signatures s
             ON s.hash = o.hash AND s.signature = o.signature AND s.signer = o.signer",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(moved, 1);
    drop(conn);
    let mut store = enrolled_store(dir.path(), "t", &c.handler, &c);
    assert_eq!(store.pending_push(usize::MAX).unwrap(), before);
}
