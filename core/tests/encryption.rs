//! Encryption at rest: nothing personal is readable from any file the store writes, a wrong
//! key is a clear error, a locked key store is a distinct error.

#![allow(clippy::unwrap_used)]

use ruhu_core::fixtures;
use ruhu_core::store::{FileKeyStore, KeyStore, KeyStoreError};
use ruhu_core::{Error, Store, StoreConfig};

struct FixedKey(Vec<u8>);
impl KeyStore for FixedKey {
    fn database_key(&self, _: &str) -> Result<Vec<u8>, KeyStoreError> {
        Ok(self.0.clone())
    }
}

struct LockedKeyStore;
impl KeyStore for LockedKeyStore {
    fn database_key(&self, _: &str) -> Result<Vec<u8>, KeyStoreError> {
        Err(KeyStoreError::Locked)
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every file under `dir` (database, WAL, shared memory, journals, anything else).
fn all_files(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            out.push((
                entry.file_name().to_string_lossy().into_owned(),
                std::fs::read(entry.path()).unwrap(),
            ));
        }
    }
    out
}

#[test]
fn no_id_number_or_name_appears_in_any_file_the_store_writes() {
    let dir = tempfile::tempdir().unwrap();
    let db_dir = dir.path().join("db");
    std::fs::create_dir_all(&db_dir).unwrap();
    let keys = FileKeyStore::new(dir.path().join("keys"));
    let mut new = fixtures::household(42, &fixtures::village(3), 4);
    new.members[0].name = "欧阳明珠".into();
    let id_number = new.members[1].id_number.clone();
    let name = new.members[0].name.clone();
    let mut store = Store::open(
        StoreConfig::new(db_dir.join("tablet.db"), "tablet", "w"),
        &keys,
    )
    .unwrap();
    let h = store.create_household(new).unwrap();
    for i in 0..30 {
        store
            .edit_household(&h.id, |h| h.profile.address = format!("{i} 组 欧阳明珠家"))
            .unwrap();
    }
    // Checked while open (WAL and shared memory present) and after closing.
    let mut checked = 0;
    for (file, bytes) in all_files(&db_dir) {
        assert!(
            !contains(&bytes, id_number.as_bytes()),
            "ID number found in {file}"
        );
        assert!(!contains(&bytes, name.as_bytes()), "name found in {file}");
        checked += 1;
    }
    assert!(
        checked >= 2,
        "expected the database and its WAL, saw {checked} files"
    );
    assert!(all_files(&db_dir)
        .iter()
        .any(|(f, b)| f.ends_with("-wal") && !b.is_empty()));
    // Sanity: the store does hold them.
    assert_eq!(
        store
            .find_by_id_number(&[fixtures::village(3)], &id_number)
            .unwrap()
            .len(),
        1
    );
    drop(store);
    for (file, bytes) in all_files(&db_dir) {
        assert!(
            !contains(&bytes, id_number.as_bytes()),
            "ID number found in {file} after close"
        );
        assert!(
            !contains(&bytes, name.as_bytes()),
            "name found in {file} after close"
        );
    }
}

#[test]
fn a_wrong_key_is_a_clear_error_and_the_right_key_still_opens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tablet.db");
    let right = FixedKey(vec![7; 32]);
    let id = {
        let mut store = Store::open(StoreConfig::new(&path, "t", "w"), &right).unwrap();
        store
            .create_household(fixtures::household(1, &fixtures::village(1), 2))
            .unwrap()
            .id
    };
    let err = Store::open(StoreConfig::new(&path, "t", "w"), &FixedKey(vec![8; 32])).unwrap_err();
    assert!(matches!(err, Error::WrongKey), "{err:?}");
    assert_eq!(err.code(), "store.wrong_key");
    let err = Store::open(StoreConfig::new(&path, "t", "w"), &FixedKey(vec![7; 16])).unwrap_err();
    assert_eq!(err.code(), "key_store.unavailable");
    let mut store = Store::open(StoreConfig::new(&path, "t", "w"), &right).unwrap();
    assert!(store.household(&id).is_ok());
}

#[test]
fn a_file_that_is_not_a_store_is_refused_like_a_wrong_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("photo.jpg");
    std::fs::write(&path, vec![0xFFu8; 8192]).unwrap();
    let err = Store::open(StoreConfig::new(&path, "t", "w"), &FixedKey(vec![1; 32])).unwrap_err();
    assert!(matches!(err, Error::WrongKey), "{err:?}");
}

#[test]
fn a_locked_key_store_is_its_own_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = Store::open(
        StoreConfig::new(dir.path().join("t.db"), "t", "w"),
        &LockedKeyStore,
    )
    .unwrap_err();
    assert!(matches!(err, Error::KeyStoreLocked));
    assert_eq!(err.code(), "key_store.locked");
    assert!(
        !dir.path().join("t.db").exists(),
        "nothing is created before the key is known"
    );
}
