//! Purging households that left the tablet's scope (ADR 0009).
//!
//! The store is encrypted (SQLCipher), so its raw bytes never show an ID number whether or not
//! a purge scrubbed it. These tests therefore decrypt every page of the database file and
//! every frame of its WAL with the store's key (SQLCipher 4 page format: AES-256-CBC with the
//! raw key, a 16-byte IV in each page's reserved tail) and search the plaintext — including
//! free pages, which SQL cannot see. The check is shown to find the household before the
//! purge, and to find the households that were kept after it.
#![allow(clippy::unwrap_used)]

mod visits_common;

use aes::cipher::{generic_array::GenericArray, BlockDecrypt, KeyInit};
use chrono::{Duration, Utc};
use ruhu_core::signing::certificate::Scope;
use ruhu_core::signing::keys::WorkerSigner;
use ruhu_core::store::{KeyStore, KeyStoreError};
use ruhu_core::visit::Purpose;
use ruhu_core::{Error, Store};
use visits_common::*;

const KEY: [u8; 32] = [0x5a; 32];
const PAGE: usize = 4096;
/// SQLCipher 4's reserved bytes at the end of each page: a 16-byte IV, then a 64-byte HMAC.
const RESERVE: usize = 80;

struct FixedKey;
impl KeyStore for FixedKey {
    fn database_key(&self, _: &str) -> Result<Vec<u8>, KeyStoreError> {
        Ok(KEY.to_vec())
    }
}

/// Decrypts one SQLCipher page (`number` 1 keeps its 16-byte salt in the clear).
fn decrypt_page(number: u32, page: &[u8]) -> Vec<u8> {
    let cipher = aes::Aes256::new(GenericArray::from_slice(&KEY));
    let start = if number == 1 { 16 } else { 0 };
    let body = &page[start..PAGE - RESERVE];
    let mut previous: [u8; 16] = page[PAGE - RESERVE..PAGE - RESERVE + 16]
        .try_into()
        .unwrap();
    let mut plain = Vec::with_capacity(body.len());
    for block in body.chunks_exact(16) {
        let mut b = GenericArray::clone_from_slice(block);
        cipher.decrypt_block(&mut b);
        plain.extend(b.iter().zip(previous).map(|(x, p)| x ^ p));
        previous = block.try_into().unwrap();
    }
    plain
}

/// The plaintext of every page in the database file and every frame in its WAL.
fn plaintext_of_files(db: &std::path::Path) -> (Vec<u8>, Vec<u8>) {
    let file = std::fs::read(db).unwrap();
    assert_eq!(file.len() % PAGE, 0);
    let mut main = Vec::new();
    for (i, page) in file.chunks_exact(PAGE).enumerate() {
        main.extend(decrypt_page(i as u32 + 1, page));
    }
    let wal = std::fs::read(db.with_extension("db-wal")).unwrap_or_default();
    let mut log = Vec::new();
    if wal.len() > 32 {
        for frame in wal[32..].chunks_exact(24 + PAGE) {
            let number = u32::from_be_bytes(frame[..4].try_into().unwrap());
            log.extend(decrypt_page(number, &frame[24..]));
        }
    }
    (main, log)
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Where `needle` appears in the decrypted database and WAL.
fn found_in(db: &std::path::Path, needle: &str) -> Vec<&'static str> {
    let (main, wal) = plaintext_of_files(db);
    let mut places = Vec::new();
    if contains(&main, needle) {
        places.push("database");
    }
    if contains(&wal, needle) {
        places.push("WAL");
    }
    places
}

fn open(path: &std::path::Path, worker_id: &str, c: &County) -> Store {
    open_store_at(path, worker_id, &FixedKey, c)
}

/// The handler's certificate re-issued for `villages` (same key), as a reassignment does.
fn reassign(store: &mut Store, c: &County, villages: &[&str]) {
    let w = &c.handler;
    let cert = issue(
        &c.authority,
        &w.id,
        vec![w.role],
        Scope::Villages(villages.iter().map(|v| (*v).to_owned()).collect()),
        w.signer.public_key(),
        t(2024, 1, 1, 0),
        Utc::now() + Duration::days(365),
    );
    store.add_certificate(&cert).unwrap();
    let signer = WorkerSigner::open(&w.keys, "tablet").unwrap().unwrap();
    store.set_signing_identity(signer, cert).unwrap();
}

#[test]
fn a_purged_household_leaves_no_id_number_or_name_in_the_decrypted_database_or_wal() {
    let c = county();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tablet.db");
    let mut store = open(&db, &c.handler.id, &c);
    reassign(&mut store, &c, &[VILLAGE, OTHER_VILLAGE]);
    assert!(
        store.secure_delete_enabled().unwrap(),
        "SQLCipher honours secure_delete"
    );

    // Leaving: a household in the other village, with a visit and many edits (compactions
    // free pages that held earlier versions of it).
    let mut leaving = ruhu_core::fixtures::household(61, OTHER_VILLAGE, 4);
    leaving.members[0].name = "欧阳明珠".into();
    leaving.members[1].name = "司马春燕".into();
    let leaving_ids: Vec<String> = leaving
        .members
        .iter()
        .map(|m| m.id_number.clone())
        .collect();
    let leaving = store.create_household(leaving).unwrap().id;
    for i in 0..25 {
        store
            .edit_household(&leaving, |h| {
                h.profile.address = format!("{i} 组 欧阳明珠家")
            })
            .unwrap();
    }
    let visit = store
        .start_visit(&leaving, Purpose::PeriodicReview, c.team())
        .unwrap();
    store
        .edit_visit_draft(&leaving, &visit, &answers())
        .unwrap();
    // Kept: one in the other village with work the server has not seen, one in scope.
    let mut unsynced = ruhu_core::fixtures::household(62, OTHER_VILLAGE, 2);
    unsynced.members[0].name = "诸葛晓东".into();
    let unsynced_id_number = unsynced.members[1].id_number.clone();
    let unsynced = store.create_household(unsynced).unwrap().id;
    let mut staying = ruhu_core::fixtures::household(63, VILLAGE, 2);
    staying.members[0].name = "上官文静".into();
    let staying = store.create_household(staying).unwrap().id;
    server_accepts_all(&mut store);
    store
        .edit_household(&unsynced, |h| h.profile.address = "五组 2 号".into())
        .unwrap();

    // The check finds what is there: the leaving household before the purge.
    for needle in leaving_ids
        .iter()
        .map(String::as_str)
        .chain(["欧阳明珠", "司马春燕"])
    {
        assert!(
            !found_in(&db, needle).is_empty(),
            "{needle} before the purge"
        );
    }

    // Reassigned to one village, then purged.
    reassign(&mut store, &c, &[VILLAGE]);
    assert_eq!(
        store.scope().unwrap(),
        Some(Scope::Villages(vec![VILLAGE.to_owned()]))
    );
    let report = store.purge_out_of_scope().unwrap();
    assert_eq!(report.purged, vec![leaving.clone()]);
    assert_eq!(report.kept.len(), 1, "{:?}", report.kept);
    assert_eq!(report.kept[0].household_id, unsynced);
    assert_eq!(report.kept[0].reason, "purge.unsynced_changes");
    assert_eq!(report.kept[0].unsynced_changes, 1);
    assert!(report.wal_truncated);
    assert_eq!(
        std::fs::metadata(db.with_extension("db-wal"))
            .unwrap()
            .len(),
        0,
        "the WAL is truncated"
    );

    for needle in leaving_ids
        .iter()
        .map(String::as_str)
        .chain(["欧阳明珠", "司马春燕"])
    {
        assert_eq!(
            found_in(&db, needle),
            Vec::<&str>::new(),
            "{needle} after the purge"
        );
    }
    // The kept households are still there, in the same decrypted pages.
    assert_eq!(found_in(&db, "诸葛晓东"), vec!["database"]);
    assert_eq!(found_in(&db, &unsynced_id_number), vec!["database"]);
    assert_eq!(found_in(&db, "上官文静"), vec!["database"]);

    // Nothing of it answers through the API either.
    assert!(matches!(
        store.household(&leaving),
        Err(Error::NotFound { .. })
    ));
    assert!(store
        .find_by_id_number(&[OTHER_VILLAGE.into()], &leaving_ids[0])
        .unwrap()
        .is_empty());
    let left: Vec<String> = store
        .list_village(OTHER_VILLAGE, &Default::default())
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(left, vec![unsynced.clone()]);
    assert_eq!(store.stored_chunk_count(&leaving).unwrap(), 0);

    // Reopened: intact, and the kept households read back.
    drop(store);
    let mut store = open(&db, &c.handler.id, &c);
    assert_eq!(store.integrity_check().unwrap(), "ok");
    assert_eq!(store.household(&staying).unwrap().household.id, staying);
    assert_eq!(
        store
            .household(&unsynced)
            .unwrap()
            .household
            .profile
            .address,
        "五组 2 号"
    );
    assert_eq!(store.unsynced_changes().unwrap().0, 1);
}

#[test]
fn unsynced_and_rejected_households_survive_and_say_why() {
    let c = county();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tablet.db");
    let mut store = open(&db, &c.handler.id, &c);
    reassign(&mut store, &c, &[VILLAGE, OTHER_VILLAGE]);
    let never_pushed = store
        .create_household(ruhu_core::fixtures::household(71, OTHER_VILLAGE, 2))
        .unwrap()
        .id;
    let pushed = store.pending_push(usize::MAX).unwrap();
    let rejected = store
        .create_household(ruhu_core::fixtures::household(72, OTHER_VILLAGE, 2))
        .unwrap()
        .id;
    let all = store.pending_push(usize::MAX).unwrap();
    assert!(all.len() > pushed.len());
    let refused = rejection(
        &all,
        &rejected,
        "sync.out_of_scope",
        "not in the sender's villages",
    );
    // Only the rejected one is pushed; the other was never pushed at all.
    let only: Vec<_> = all
        .into_iter()
        .filter(|g| g.household_id == rejected)
        .collect();
    store.acknowledge_push(&only, &[refused]).unwrap();

    reassign(&mut store, &c, &[VILLAGE]);
    let report = store.purge_out_of_scope().unwrap();
    assert!(report.purged.is_empty());
    let mut kept: Vec<(String, String)> = report
        .kept
        .iter()
        .map(|k| (k.household_id.clone(), k.reason.clone()))
        .collect();
    kept.sort();
    let mut expected = vec![
        (never_pushed.clone(), "purge.unsynced_changes".to_owned()),
        (rejected.clone(), "purge.not_accepted".to_owned()),
    ];
    expected.sort();
    assert_eq!(kept, expected);
    assert!(report.kept.iter().all(|k| k.unsynced_changes >= 1));
    for id in [&never_pushed, &rejected] {
        assert_eq!(store.household(id).unwrap().household.id, *id);
    }
    // Once the never-pushed one is accepted, the next purge removes it (and only it).
    let rest: Vec<_> = store
        .pending_push(usize::MAX)
        .unwrap()
        .into_iter()
        .filter(|g| g.household_id == never_pushed)
        .collect();
    store.acknowledge_push(&rest, &[]).unwrap();
    let report = store.purge_out_of_scope().unwrap();
    assert_eq!(report.purged, vec![never_pushed]);
    assert_eq!(report.kept.len(), 1);
    assert_eq!(report.kept[0].household_id, rejected);
}

#[test]
fn households_in_scope_stay_and_purging_needs_enrollment() {
    let c = county();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tablet.db");
    let mut store = open(&db, &c.handler.id, &c);
    let id = store
        .create_household(ruhu_core::fixtures::household(81, VILLAGE, 2))
        .unwrap()
        .id;
    let err = store.purge_out_of_scope().unwrap_err();
    assert_eq!(err.code(), "sync.not_enrolled");
    assert_eq!(store.scope().unwrap(), None);

    reassign(&mut store, &c, &[VILLAGE]);
    server_accepts_all(&mut store);
    let report = store.purge_out_of_scope().unwrap();
    assert!(report.purged.is_empty() && report.kept.is_empty());
    assert!(report.wal_truncated);
    assert_eq!(store.household(&id).unwrap().household.id, id);
}

/// The control: rows deleted with `secure_delete` off stay readable in the decrypted file, so
/// the check above would catch a purge that only deleted rows; with it on they do not.
#[test]
fn the_check_finds_deleted_rows_unless_secure_delete_scrubs_them() {
    for secure_delete in [false, true] {
        let c = county();
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("tablet.db");
        let mut store = open(&db, &c.handler.id, &c);
        let mut ids = Vec::new();
        let mut households = Vec::new();
        for seed in [91, 92] {
            let new = ruhu_core::fixtures::household(seed, VILLAGE, 2);
            ids.push(new.members[1].id_number.clone());
            households.push(store.create_household(new).unwrap().id);
        }
        drop(store);
        let conn = rusqlite::Connection::open(&db).unwrap();
        ruhu_core::store::keying::key_and_probe(&conn, &KEY).unwrap();
        let forced: i64 = conn
            .query_row("PRAGMA secure_delete", [], |r| r.get(0))
            .unwrap();
        assert_eq!(
            forced, 1,
            "SQLCipher turns secure_delete on for a keyed database"
        );
        conn.execute_batch(&format!("PRAGMA secure_delete = {};", secure_delete as u8))
            .unwrap();
        for table in ["members", "document_chunks", "outbox", "change_signatures"] {
            conn.execute(
                &format!("DELETE FROM {table} WHERE household_id = ?1"),
                [&households[0]],
            )
            .unwrap();
        }
        conn.execute("DELETE FROM households WHERE id = ?1", [&households[0]])
            .unwrap();
        let _: (i64, i64, i64) = conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap();
        let gone: i64 = conn
            .query_row(
                "SELECT count(*) FROM members WHERE id_number = ?1",
                [&ids[0]],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(gone, 0, "deleted as far as SQL can see");
        let expected: Vec<&str> = if secure_delete {
            vec![]
        } else {
            vec!["database"]
        };
        assert_eq!(
            found_in(&db, &ids[0]),
            expected,
            "secure_delete {secure_delete}"
        );
        assert_eq!(
            found_in(&db, &ids[1]),
            vec!["database"],
            "the other household"
        );
    }
}

fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn a_purged_households_photos_leave_no_file_no_key_and_no_bytes() {
    let c = county();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tablet.db");
    let mut store = open(&db, &c.handler.id, &c);
    reassign(&mut store, &c, &[VILLAGE, OTHER_VILLAGE]);
    let leaving = store
        .create_household(ruhu_core::fixtures::household(71, OTHER_VILLAGE, 2))
        .unwrap()
        .id;
    let staying = store
        .create_household(ruhu_core::fixtures::household(72, VILLAGE, 2))
        .unwrap()
        .id;
    let own: Vec<u8> = (0..200_000u32).map(|i| (i * 31 % 253) as u8).collect();
    let shared: Vec<u8> = (0..50_000u32).map(|i| (i * 17 % 241) as u8).collect();
    let own_hash = store.add_attachment(&leaving, &own).unwrap();
    let shared_hash = store.add_attachment(&leaving, &shared).unwrap();
    assert_eq!(
        store.add_attachment(&staying, &shared).unwrap(),
        shared_hash
    );
    server_accepts_all(&mut store);
    for hash in [own_hash, shared_hash] {
        store.mark_uploaded(&hash).unwrap();
    }

    // At rest the photo is nowhere in the clear: not in its file, not in the database.
    let files = dir.path().join("tablet.db-attachments");
    let fragment = &own[1000..1064];
    let mut listed: Vec<_> = std::fs::read_dir(&files).unwrap().flatten().collect();
    assert_eq!(listed.len(), 2, "one file per distinct photo");
    for f in &listed {
        assert!(!contains_bytes(&std::fs::read(f.path()).unwrap(), fragment));
    }
    let (main, wal) = plaintext_of_files(&db);
    assert!(!contains_bytes(&main, fragment) && !contains_bytes(&wal, fragment));
    let conn = rusqlite::Connection::open(&db).unwrap();
    ruhu_core::store::keying::key_and_probe(&conn, &KEY).unwrap();
    let own_key: Vec<u8> = conn
        .query_row(
            "SELECT key FROM attachments WHERE hash = ?1",
            [&own_hash.0[..]],
            |r| r.get(0),
        )
        .unwrap();
    drop(conn);
    let (main, wal) = plaintext_of_files(&db);
    assert!(
        contains_bytes(&main, &own_key) || contains_bytes(&wal, &own_key),
        "the check finds the per-photo key before the purge"
    );

    reassign(&mut store, &c, &[VILLAGE]);
    let report = store.purge_out_of_scope().unwrap();
    assert_eq!(report.purged, vec![leaving]);
    listed = std::fs::read_dir(&files).unwrap().flatten().collect();
    assert_eq!(
        listed.len(),
        1,
        "only the photo a kept household references"
    );
    assert!(matches!(
        store.attachment(&own_hash),
        Err(Error::NotFound { .. })
    ));
    assert_eq!(store.attachment(&shared_hash).unwrap(), shared);
    let (main, wal) = plaintext_of_files(&db);
    assert!(
        !contains_bytes(&main, &own_key) && !contains_bytes(&wal, &own_key),
        "the key of the purged photo is scrubbed"
    );
}

#[test]
fn an_attachment_file_altered_on_the_tablet_is_refused_not_returned() {
    let c = county();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tablet.db");
    let mut store = open(&db, &c.handler.id, &c);
    let id = store
        .create_household(ruhu_core::fixtures::household(73, VILLAGE, 2))
        .unwrap()
        .id;
    let hash = store.add_attachment(&id, b"a thumbprint image").unwrap();
    let file = std::fs::read_dir(dir.path().join("tablet.db-attachments"))
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    let mut bytes = std::fs::read(&file).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&file, bytes).unwrap();
    let err = store.attachment(&hash).unwrap_err();
    assert!(err.to_string().contains("altered"), "{err}");
}
