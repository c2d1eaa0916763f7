//! Stores opened at the same moment on many threads, first thing in a process (this test
//! binary holds only this test, so these are the process's first keyed connections).
//!
//! Without the process-wide keying lock (`ruhu_core::store::keying`), SQLCipher's provider
//! set-up failed in about 1 % of processes keying 16 connections at once, with "An error
//! occurred with PRAGMA key or rekey"; this test then fails with that error.
#![allow(clippy::unwrap_used)]

use ruhu_core::store::FileKeyStore;
use ruhu_core::{Store, StoreConfig};

#[test]
fn sixteen_stores_opened_at_once_all_open_and_write() {
    let dir = tempfile::tempdir().unwrap();
    let results: Vec<Result<usize, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..16)
            .map(|i| {
                let dir = dir.path().to_owned();
                scope.spawn(move || {
                    let keys = FileKeyStore::new(dir.join(format!("keys-{i}")));
                    let config =
                        StoreConfig::new(dir.join(format!("tablet-{i}.db")), "tablet", "w");
                    let mut store = Store::open(config, &keys).map_err(|e| e.to_string())?;
                    let new = ruhu_core::fixtures::household(i as u64 + 1, "620102001000", 3);
                    store.create_household(new).map_err(|e| e.to_string())?;
                    Ok(store
                        .list_village("620102001000", &Default::default())
                        .map_err(|e| e.to_string())?
                        .len())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r, &Ok(1), "store {i}");
    }
}
