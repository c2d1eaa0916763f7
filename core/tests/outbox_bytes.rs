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
