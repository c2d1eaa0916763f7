//! The feed's cursor rules: epochs and resets, paging that resumes to the same end state, a
//! newly added village bringing its whole history, duplicate resident IDs flagged, documents
//! rebuilt from snapshots after a restart.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use ruhu_core::signing::certificate::{Role, Scope};
use ruhu_core::sync::{Cursor, OutcomeKind};

#[test]
fn a_cursor_of_another_epoch_resets_and_pulls_everything() {
    let county = County::new();
    let data = tempfile::tempdir().unwrap();
    let alice = county.handler("w-alice", &[V1]);
    let server = Server::with_config(data.path(), &county, &[&alice]);
    let mut a = Tablet::new();
    let ids: Vec<_> = (1..=3)
        .map(|s| a.create(&alice, &household(s, V1)))
        .collect();
    let push = ids.iter().map(|id| a.unpushed(&alice, id)).collect();
    let first = server.sync(&alice, &request(push, None)).unwrap();
    assert!(!first.reset);

    // The tablet last spoke to a server that was restored from a backup or replaced.
    let mut stale = request(vec![], Some(&first));
    stale.cursor = Some(Cursor {
        epoch: [9; 16],
        seq: 1000,
        last_hash: [0; 32],
    });
    let r = server.sync(&alice, &stale).unwrap();
    assert!(r.reset);
    assert_eq!(r.pulled.len(), 3, "everything from the start");
    assert_eq!(r.cursor, first.cursor);
    // The same epoch, but the feed does not hold the cursor's entry (a server restored from
    // a backup keeps its epoch): reset as well, never a silent skip.
    for cursor in [
        Cursor {
            seq: first.cursor.seq + 5,
            ..first.cursor
        },
        Cursor {
            last_hash: [7; 32],
            ..first.cursor
        },
    ] {
        let mut restored = request(vec![], Some(&first));
        restored.cursor = Some(cursor);
        let r = server.sync(&alice, &restored).unwrap();
        assert!(r.reset, "cursor {cursor:?}");
        assert_eq!(r.pulled.len(), 3, "everything from the start");
    }
    // The same cursor with the right epoch: nothing.
    let r = server.sync(&alice, &request(vec![], Some(&first))).unwrap();
    assert!(!r.reset && r.pulled.is_empty());
}

#[test]
fn pages_resume_to_the_same_end_state() {
    let county = County::new();
    let data = tempfile::tempdir().unwrap();
    let alice = county.handler("w-alice", &[V1]);
    let bob = county.handler("w-bob", &[V1]);
    let server = Server::with_config(data.path(), &county, &[&alice, &bob]);
    let mut a = Tablet::new();
    let ids: Vec<_> = (1..=20)
        .map(|s| a.create(&alice, &household(s, V1)))
        .collect();
    for id in &ids[..5] {
        a.edit(&alice, id, |h| h.profile.address = "新址".into());
    }
    let push = ids.iter().map(|id| a.unpushed(&alice, id)).collect();
    assert!(server
        .sync(&alice, &request(push, None))
        .unwrap()
        .outcomes
        .is_empty());

    let whole = server.sync(&bob, &request(vec![], None)).unwrap();
    assert!(!whole.more);
    let mut one = Tablet::new();
    one.receive(&whole);

    let mut paged = Tablet::new();
    let mut req = request(vec![], None);
    req.pull_limit_bytes = 2048;
    let mut pages = 0;
    let mut last_seq = 0;
    loop {
        let r = server.sync(&bob, &req).unwrap();
        pages += 1;
        assert!(r.cursor.seq > last_seq, "every page moves the cursor");
        last_seq = r.cursor.seq;
        paged.receive(&r);
        let size: usize = r
            .pulled
            .iter()
            .flat_map(|g| &g.changes)
            .map(|c| c.change.len())
            .sum();
        assert!(size <= 2048 || r.pulled.iter().map(|g| g.changes.len()).sum::<usize>() == 1);
        req = request(vec![], Some(&r));
        req.pull_limit_bytes = 2048;
        if !r.more {
            assert_eq!(r.cursor, whole.cursor);
            break;
        }
    }
    assert!(pages > 3, "{pages} pages");
    assert_eq!(paged.docs.len(), 20);
    for id in &ids {
        assert_eq!(paged.household(id), one.household(id));
        assert_eq!(paged.household(id), a.household(id));
    }
}

#[test]
fn a_newly_added_village_brings_its_whole_history() {
    let county = County::new();
    let data = tempfile::tempdir().unwrap();
    let alice = county.handler("w-alice", &[V1]);
    let carol = county.handler("w-carol", &[V2]);
    // Alice's new certificate adds V2.
    let alice2 = county.worker(
        "w-alice",
        &[Role::CaseHandler],
        Scope::Villages(vec![V1.into(), V2.into()]),
    );
    let server = Server::with_config(data.path(), &county, &[&alice, &carol, &alice2]);
    let (mut a, mut c) = (Tablet::new(), Tablet::new());
    let a_id = a.create(&alice, &household(1, V1));
    let c_id = c.create(&carol, &household(2, V2));
    server
        .sync(&carol, &request(vec![c.unpushed(&carol, &c_id)], None))
        .unwrap();
    let r1 = server
        .sync(&alice, &request(vec![a.unpushed(&alice, &a_id)], None))
        .unwrap();
    assert_eq!(r1.cursor_villages, vec![V1.to_string()]);
    assert!(r1.pulled.is_empty());

    let r2 = server.sync(&alice2, &request(vec![], Some(&r1))).unwrap();
    assert_eq!(r2.cursor_villages, vec![V1.to_string(), V2.to_string()]);
    let pulled: Vec<_> = r2.pulled.iter().map(|g| g.household_id.clone()).collect();
    assert!(pulled.contains(&c_id), "V2's history arrives");
    let r3 = server.sync(&alice2, &request(vec![], Some(&r2))).unwrap();
    assert!(r3.pulled.is_empty(), "and only once");
}

#[test]
fn a_resident_id_in_two_households_is_flagged_not_rejected() {
    let county = County::new();
    let data = tempfile::tempdir().unwrap();
    let alice = county.handler("w-alice", &[V1]);
    let server = Server::with_config(data.path(), &county, &[&alice]);
    let mut a = Tablet::new();
    let first = household(1, V1);
    let mut second = household(2, V1);
    let shared = first.head().unwrap().id_number.clone();
    let member = second.members.keys().nth(1).unwrap().clone();
    second.members.get_mut(&member).unwrap().id_number = shared.clone();
    let id1 = a.create(&alice, &first);
    let r = server
        .sync(&alice, &request(vec![a.unpushed(&alice, &id1)], None))
        .unwrap();
    assert!(r.outcomes.is_empty());
    let id2 = a.create(&alice, &second);
    let r = server
        .sync(&alice, &request(vec![a.unpushed(&alice, &id2)], None))
        .unwrap();
    assert_eq!(r.outcomes.len(), 1);
    assert_eq!(r.outcomes[0].kind, OutcomeKind::Flagged);
    assert_eq!(r.outcomes[0].household_id, id2);
    assert_eq!(r.outcomes[0].code, "sync.duplicate_resident_id");
    assert!(r.outcomes[0].detail.contains(&member));
    assert!(
        !r.outcomes[0].detail.contains(&shared),
        "the ID number itself is not echoed"
    );
    assert_eq!(
        count(data.path(), "SELECT count(*) FROM feed"),
        2,
        "accepted"
    );
    let flags = dump(data.path(), &["resident_id_flags"])["resident_id_flags"].clone();
    assert_eq!(flags.len(), 1);
    assert!(flags[0].contains(&id1) && flags[0].contains(&id2) && flags[0].contains("620102"));

    // The team corrects the number: the index follows the household's current members, and
    // a push that leaves the members alone keeps it as it is.
    let ids_of = |household: &str| {
        dump(data.path(), &["resident_ids"])["resident_ids"]
            .iter()
            .filter(|row| row.contains(household))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert!(ids_of(&id2).iter().any(|row| row.contains(&shared)));
    a.mark_pushed(&id2);
    let corrected = household(3, V1).head().unwrap().id_number.clone();
    a.edit(&alice, &id2, |h| {
        h.members.get_mut(&member).unwrap().id_number = corrected.clone();
    });
    let r = server
        .sync(&alice, &request(vec![a.unpushed(&alice, &id2)], None))
        .unwrap();
    assert!(r.outcomes.is_empty(), "{:?}", r.outcomes);
    let after = ids_of(&id2);
    assert_eq!(after.len(), second.members.len());
    assert!(after.iter().all(|row| !row.contains(&shared)));
    assert!(after.iter().any(|row| row.contains(&corrected)));
    a.mark_pushed(&id2);
    a.edit(&alice, &id2, |h| h.profile.address = "三组 9 号".into());
    let r = server
        .sync(&alice, &request(vec![a.unpushed(&alice, &id2)], None))
        .unwrap();
    assert!(r.outcomes.is_empty(), "{:?}", r.outcomes);
    assert_eq!(ids_of(&id2), after);
}

#[test]
fn documents_are_rebuilt_from_snapshots_and_the_feed_after_a_restart() {
    let county = County::new();
    let data = tempfile::tempdir().unwrap();
    let alice = county.handler("w-alice", &[V1]);
    let server = Server::with_config(data.path(), &county, &[&alice]);
    let mut a = Tablet::new();
    let id = a.create(&alice, &household(1, V1));
    // 70 edits in separate pushes: a snapshot is written past 64 changes.
    for i in 0..70 {
        a.edit(&alice, &id, |h| h.profile.address = format!("{i} 号"));
        let r = server
            .sync(&alice, &request(vec![a.unpushed(&alice, &id)], None))
            .unwrap();
        assert!(r.outcomes.is_empty());
        a.mark_pushed(&id);
    }
    assert_eq!(count(data.path(), "SELECT count(*) FROM snapshots"), 1);
    server.stop();

    // After a restart the document is rebuilt (snapshot + later changes) and validates the
    // next push against the full history.
    let server = Server::start(data.path(), &county);
    a.edit(&alice, &id, |h| h.profile.address = "最后".into());
    let r = server
        .sync(&alice, &request(vec![a.unpushed(&alice, &id)], None))
        .unwrap();
    assert!(r.outcomes.is_empty(), "{:?}", r.outcomes);
    let bob = Tablet::new();
    let mut bob = bob;
    let pulled = server.sync(&alice, &request(vec![], None)).unwrap();
    bob.receive(&pulled);
    assert_eq!(bob.household(&id).profile.address, "最后");
    assert_eq!(count(data.path(), "SELECT count(*) FROM feed"), 72);
}

/// Push throughput (ignored by default): `PUSH_HOUSEHOLDS=400 cargo test -p sync-server
/// --test sync_feed push_throughput -- --ignored --nocapture`.
#[test]
#[ignore]
fn push_throughput() {
    let n: u64 = std::env::var("PUSH_HOUSEHOLDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    let county = County::new();
    let data = tempfile::tempdir().unwrap();
    let alice = county.handler("w-alice", &[V1]);
    let server = Server::with_config(data.path(), &county, &[&alice]);
    let mut a = Tablet::new();
    let ids: Vec<_> = (1..=n)
        .map(|s| a.create(&alice, &household(s, V1)))
        .collect();
    for id in &ids {
        a.mark_pushed(id);
    }
    // Seed, then time a push of one edit per household against documents the server holds.
    let seed: Vec<_> = ids
        .iter()
        .map(|id| {
            a.pushed.remove(id);
            a.unpushed(&alice, id)
        })
        .collect();
    server.sync(&alice, &request(seed, None)).unwrap();
    for id in &ids {
        a.mark_pushed(id);
        a.edit(&alice, id, |h| h.profile.address = "新址".into());
    }
    let push: Vec<_> = ids.iter().map(|id| a.unpushed(&alice, id)).collect();
    let started = std::time::Instant::now();
    let r = server.sync(&alice, &request(push, None)).unwrap();
    assert!(r.outcomes.is_empty());
    println!(
        "push of {n} households with one edit each: {:?}",
        started.elapsed()
    );
}

/// A push's own new entries are passed by range in the pull of the same request: the feed is
/// read before and after them, never through them.
#[test]
fn a_pull_jumps_over_the_pushers_own_new_entries() {
    use std::collections::HashSet;
    use sync_server::storage::{
        DatabaseKey, FeedEntry, FeedStore, HouseholdCommit, PullScope, ServerStorage, Skip,
    };

    let data = tempfile::tempdir().unwrap();
    let keys = tempfile::tempdir().unwrap();
    let key = DatabaseKey::load_or_create(&keys.path().join("db.key"), data.path()).unwrap();
    let storage = ServerStorage::open(data.path(), &key).unwrap();
    let push = |n: u8| {
        let entries = (0..3u8)
            .map(|i| FeedEntry {
                hash: [n * 16 + i; 32],
                signed: ruhu_core::sync::SignedChange {
                    change: vec![n, i, 7, 7],
                    signer: [1; 32],
                    signature: [2; 64],
                    received_at: 0,
                },
                author: "w-1".into(),
                actor: vec![n],
            })
            .collect();
        let commit = HouseholdCommit {
            household_id: format!("{n:032x}"),
            village_code: V1.into(),
            county_code: "620102".into(),
            expected_last_seq: None,
            entries,
            resident_ids: Vec::new(),
            snapshot: None,
            attachments: Vec::new(),
        };
        storage.commit_push(&[commit], &[], 1_700_000_000).unwrap()
    };
    let before = push(1);
    let ours = push(2);
    let after = push(3);
    assert_eq!(before.appended, Some((1, 3)));
    assert_eq!(ours.appended, Some((4, 6)));
    assert_eq!(after.appended, Some((7, 9)));

    let scope = PullScope::County("620102".into());
    let seqs = |skip: &Skip| {
        let pulled = storage.pull(&scope, 0, u64::MAX, skip).unwrap();
        assert_eq!(pulled.cursor, 9, "the cursor passes every entry");
        assert!(!pulled.more);
        pulled.entries.iter().map(|e| e.seq).collect::<Vec<_>>()
    };
    // By range alone: entries 4-6 are not even read.
    let by_range = Skip {
        hashes: HashSet::new(),
        range: ours.appended,
    };
    assert_eq!(seqs(&by_range), vec![1, 2, 3, 7, 8, 9]);
    // By hashes alone (entries of several writers interleaved): the same result.
    let by_hash = Skip {
        hashes: (0..3u8).map(|i| [32 + i; 32]).collect(),
        range: None,
    };
    assert_eq!(seqs(&by_hash), vec![1, 2, 3, 7, 8, 9]);
    // Nothing skipped: everything.
    assert_eq!(seqs(&Skip::default()), (1..=9).collect::<Vec<u64>>());
    // A page limit inside the first part resumes before the skipped range.
    let page = storage.pull(&scope, 0, 1, &by_range).unwrap();
    assert_eq!(page.entries.len(), 1);
    assert!(page.more);
    assert_eq!(page.cursor, 1);
}
