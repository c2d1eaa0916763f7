//! Household store benchmark (issue: foundation).
//!
//! Full size: `cargo bench -p ruhu-core --bench household_store -- --households 5000`
//! CI size:   `cargo bench -p ruhu-core --bench household_store -- --households 500`
//!
//! Prints, side by side from one run:
//! - batch creation per household vs (a) the same Automerge documents built and saved in
//!   memory (the floor of this design) and (b) the same content as JSON rows in a plain
//!   SQLite table;
//! - one acknowledged (durable) single-household write;
//! - listing one village, a name search over the township, loading one household with
//!   ~2,000 operations of history in 10 uncompacted chunks, and a cold open with the key.

use std::time::{Duration, Instant};

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjId, ObjType, ReadDoc, ROOT};
use ruhu_core::fixtures;
use ruhu_core::household::NewHousehold;
use ruhu_core::store::{FileKeyStore, ListFilter};
use ruhu_core::{Store, StoreConfig};
use serde_json::{Map, Value};

const VILLAGES: u32 = 20;
const BATCH: usize = 250;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let households: usize = args
        .iter()
        .position(|a| a == "--households")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    println!(
        "household_store benchmark: {households} households of 3-6 members in {VILLAGES} villages"
    );
    let inputs: Vec<NewHousehold> = (0..households as u64)
        .map(|seed| {
            fixtures::household(
                seed,
                &fixtures::village((seed % VILLAGES as u64) as u32),
                3 + (seed % 4) as usize,
            )
        })
        .collect();

    let dir = tempfile::tempdir()?;
    let keys = FileKeyStore::new(dir.path().join("keys"));
    let db = dir.path().join("bench.db");

    // --- batch creation through the store
    let mut store = Store::open(StoreConfig::new(&db, "bench", "bench-worker"), &keys)?;
    let started = Instant::now();
    let mut created = Vec::with_capacity(households);
    for batch in inputs.chunks(BATCH) {
        created.extend(store.create_households(batch.to_vec())?);
    }
    let store_per = started.elapsed() / households as u32;

    // --- (a) the floor: the same documents built and saved in memory, nothing else
    let trees: Vec<Map<String, Value>> = created
        .iter()
        .map(|h| match serde_json::to_value(h) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        })
        .collect();
    let started = Instant::now();
    let mut saved_bytes = 0usize;
    for tree in &trees {
        let mut doc = AutoCommit::new();
        put_map(&mut doc, &ROOT, tree)?;
        doc.commit();
        saved_bytes += doc.save().len();
    }
    let floor_per = started.elapsed() / households as u32;

    // --- (b) plain JSON rows in a plain SQLite table
    let plain = rusqlite::Connection::open(dir.path().join("plain.db"))?;
    plain.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
         CREATE TABLE households (id TEXT PRIMARY KEY, village TEXT NOT NULL, json TEXT NOT NULL);",
    )?;
    let started = Instant::now();
    for batch in created.chunks(BATCH) {
        let tx = plain.unchecked_transaction()?;
        for h in batch {
            tx.execute(
                "INSERT INTO households VALUES (?1, ?2, ?3)",
                (&h.id, &h.profile.village_code, serde_json::to_string(h)?),
            )?;
        }
        tx.commit()?;
    }
    let json_per = started.elapsed() / households as u32;

    println!();
    println!("batch creation, per household (batches of {BATCH}):");
    println!(
        "  this store (automerge + SQLCipher + indexes) {:>9.1} µs",
        us(store_per)
    );
    println!("  (a) automerge build + save in memory (floor) {:>9.1} µs   store / (a) = {:.2}x  (goal <= 1.5x)", us(floor_per), ratio(store_per, floor_per));
    println!(
        "  (b) JSON rows in plain SQLite                {:>9.1} µs   store / (b) = {:.2}x",
        us(json_per),
        ratio(store_per, json_per)
    );
    println!(
        "  automerge snapshot size: {:.0} bytes per household",
        saved_bytes as f64 / households as f64
    );

    // --- one acknowledged durable write
    let target = created[0].id.clone();
    let mut writes = Vec::new();
    for i in 0..40 {
        let t = Instant::now();
        store.edit_household(&target, |h| h.profile.address = format!("{i}组"))?;
        writes.push(t.elapsed());
    }
    println!();
    println!(
        "one acknowledged single-household write (synchronous=FULL): p50 {:.2} ms, p90 {:.2} ms",
        ms(pct(&mut writes, 50)),
        ms(pct(&mut writes, 90))
    );

    // --- list one village, search a name over the township
    let village = fixtures::village(3);
    let mut lists = Vec::new();
    let mut listed = 0;
    for _ in 0..30 {
        let t = Instant::now();
        listed = store.list_village(&village, &ListFilter::default())?.len();
        lists.push(t.elapsed());
    }
    let all_villages: Vec<String> = (0..VILLAGES).map(fixtures::village).collect();
    let needle = created[households / 2]
        .members
        .values()
        .next()
        .map(|m| m.name.clone())
        .unwrap_or_default();
    let mut searches = Vec::new();
    let mut found = 0;
    for _ in 0..30 {
        let t = Instant::now();
        found = store.search_by_name(&all_villages, &needle)?.len();
        searches.push(t.elapsed());
    }
    println!(
        "list one village ({listed} households): p50 {:.2} ms (goal <= 5 ms)",
        ms(pct(&mut lists, 50))
    );
    println!("name search over {VILLAGES} villages for {needle:?} ({found} households): p50 {:.2} ms (goal <= 10 ms)", ms(pct(&mut searches, 50)));

    // --- load a household with ~2,000 operations of history in 10 uncompacted chunks
    drop(store);
    let mut config = StoreConfig::new(&db, "bench", "bench-worker");
    config.compact_after_chunks = 1000;
    let mut store = Store::open(config, &keys)?;
    let heavy = store
        .create_household(fixtures::household(999_999, &village, 6))?
        .id;
    // Ten imports from another tablet, each rewriting ~195 fields (most of them fields of a
    // newer app version), stored as ten uncompacted change chunks.
    for round in 0..10 {
        let changes = store.changes_since(&heavy, &[])?;
        let decoded = changes
            .into_iter()
            .map(automerge::Change::from_bytes)
            .collect::<Result<Vec<_>, _>>()?;
        let mut other = AutoCommit::new();
        other.apply_changes(decoded)?;
        let heads = other.get_heads();
        let profile = match other.get(ROOT, "profile")? {
            Some((_, id)) => id,
            None => return Err("no profile".into()),
        };
        other.put(&profile, "address", format!("{round}组"))?;
        for k in 0..194 {
            other.put(
                &profile,
                format!("note_{k}").as_str(),
                format!("r{round}k{k}"),
            )?;
        }
        other.commit();
        let added: Vec<Vec<u8>> = other
            .get_changes(&heads)
            .iter()
            .map(|c| c.raw_bytes().to_vec())
            .collect();
        store.import_changes(&heavy, &added)?;
    }
    let ops: usize = store
        .changes_since(&heavy, &[])?
        .into_iter()
        .map(|c| {
            automerge::Change::from_bytes(c)
                .map(|c| c.len())
                .unwrap_or(0)
        })
        .sum();
    let chunks = store.stored_chunk_count(&heavy)?;
    let mut loads = Vec::new();
    for _ in 0..20 {
        store.clear_cache();
        let t = Instant::now();
        let record = store.household(&heavy)?;
        loads.push(t.elapsed());
        assert_eq!(record.household.members.len(), 6);
        assert_eq!(record.household.profile.extra.len(), 194);
    }
    println!("load one household ({ops} ops) from {chunks} chunks (snapshot + {} change chunks): p50 {:.2} ms (goal <= 3 ms)", chunks - 1, ms(pct(&mut loads, 50)));
    drop(store);

    // --- cold open with its key
    let mut opens = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        let store = Store::open(StoreConfig::new(&db, "bench", "bench-worker"), &keys)?;
        opens.push(t.elapsed());
        drop(store);
    }
    println!(
        "cold open of the store with its key ({} households): p50 {:.1} ms (goal <= 200 ms)",
        households + 1,
        ms(pct(&mut opens, 50))
    );
    Ok(())
}

fn put_map(
    doc: &mut AutoCommit,
    obj: &ObjId,
    map: &Map<String, Value>,
) -> Result<(), automerge::AutomergeError> {
    for (key, value) in map {
        match value {
            Value::Object(child) => {
                let id = doc.put_object(obj, key.as_str(), ObjType::Map)?;
                put_map(doc, &id, child)?;
            }
            Value::String(s) => doc.put(obj, key.as_str(), s.as_str())?,
            Value::Number(n) => doc.put(obj, key.as_str(), n.as_i64().unwrap_or_default())?,
            Value::Bool(b) => doc.put(obj, key.as_str(), *b)?,
            Value::Null | Value::Array(_) => doc.put(obj, key.as_str(), ())?,
        }
    }
    Ok(())
}

fn pct(samples: &mut [Duration], p: usize) -> Duration {
    samples.sort();
    samples[(samples.len() * p / 100).min(samples.len() - 1)]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-12)
}
