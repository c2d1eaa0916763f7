//! Binding overhead benchmark (issue 5), the Rust side.
//!
//! Run by `scripts/bench-bindings.sh`, which also runs the same calls from Kotlin
//! (`ffi/benchmarks/binding_overhead.kts`) and prints the ratios:
//!
//! CI size:   `cargo bench -p ruhu-ffi --bench binding_overhead -- --households 300 --iterations 200`
//! Full size: `cargo bench -p ruhu-ffi --bench binding_overhead -- --households 5000 --iterations 2000`
//!
//! Workload (identical in the Kotlin script; both print the same `fingerprint` of the inputs):
//! a fresh encrypted store with N households, 50 of them in the listed village and the rest
//! spread over 19 other villages; every household is created with `create_household`. Then,
//! per operation, W warm-up calls (default: the larger of K and 5000) and K timed calls, each
//! timed on its own:
//!
//! - cheap read: `summary(id)`, cycling over the listed village's households;
//! - list: `list_village(village, null, null)` (50 households);
//! - durable write: `update_household` changing the address of the village's first household,
//!   with the heads returned by the previous write (`synchronous = FULL`).
//!
//! Measured twice from Rust: through `ruhu_ffi::TabletStore` (the very methods Kotlin calls,
//! with their record conversions, minus the FFI boundary) and, for reference, through the
//! plain core `ruhu_core::Store`. Each run prints `result …` lines that the script parses.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ruhu_core::household::{Member, NewHousehold};
use ruhu_core::store::{KeyStore, KeyStoreError as CoreKeyStoreError, ListFilter};
use ruhu_core::{fixtures, Store, StoreConfig};
use ruhu_ffi::{HostKeyStore, HouseholdData, KeyStoreError, MemberData, TabletStore};

type BoxError = Box<dyn std::error::Error>;

/// Villages of the township; village 0 is the listed one.
const VILLAGES: u64 = 20;
/// Households of the listed village.
const LISTED: u64 = 50;
const WORKER: &str = "bench-worker";

/// The fixed database key (the Kotlin key store returns the same bytes).
fn key() -> Vec<u8> {
    (0..32u32).map(|i| (i * 7) as u8).collect()
}

/// The host key store of the `TabletStore` run: a fixed key, no signing key.
#[derive(Debug)]
struct FixedHostKeys;

impl HostKeyStore for FixedHostKeys {
    fn database_key(&self, _store_id: String) -> Result<Vec<u8>, KeyStoreError> {
        Ok(key())
    }
    fn load_signing_key(&self, _key_id: String) -> Result<Option<Vec<u8>>, KeyStoreError> {
        Ok(None)
    }
    fn save_signing_key(&self, _key_id: String, _pkcs8: Vec<u8>) -> Result<(), KeyStoreError> {
        Ok(())
    }
}

/// The key store of the core `Store` run: the same fixed key.
struct FixedCoreKeys;

impl KeyStore for FixedCoreKeys {
    fn database_key(&self, _store_id: &str) -> Result<Vec<u8>, CoreKeyStoreError> {
        Ok(key())
    }
}

struct Args {
    households: u64,
    iterations: usize,
    warmup: usize,
}

/// `--households N --iterations K [--warmup W]` (W defaults to the larger of K and 5000, so
/// the JVM side runs JIT-compiled code). Other arguments (cargo passes `--bench`) are ignored.
fn parse_args() -> Result<Args, BoxError> {
    let args: Vec<String> = std::env::args().collect();
    let value = |name: &str| -> Result<Option<usize>, BoxError> {
        match args.iter().position(|a| a == name) {
            None => Ok(None),
            Some(i) => {
                let v = args.get(i + 1).ok_or(format!("{name} needs a value"))?;
                Ok(Some(
                    v.parse().map_err(|_| format!("{name}: bad number {v:?}"))?,
                ))
            }
        }
    };
    let households = value("--households")?.unwrap_or(300) as u64;
    let iterations = value("--iterations")?.unwrap_or(200);
    let warmup = value("--warmup")?.unwrap_or(iterations.max(5000));
    if households < LISTED || iterations == 0 {
        return Err(format!("need --households >= {LISTED} and --iterations >= 1").into());
    }
    Ok(Args {
        households,
        iterations,
        warmup,
    })
}

/// Household `seed` of the workload: the first 50 in village 0, the rest round-robin over
/// villages 1–19; 3–6 members.
fn input(seed: u64) -> NewHousehold {
    let village = if seed < LISTED {
        0
    } else {
        1 + (seed - LISTED) % (VILLAGES - 1)
    };
    fixtures::household(
        seed,
        &fixtures::village(village as u32),
        3 + (seed % 4) as usize,
    )
}

/// A code (enum) as its stable string, the form it crosses the boundary in.
fn code<T: serde::Serialize>(value: &T) -> Result<String, BoxError> {
    match serde_json::to_value(value)? {
        serde_json::Value::String(s) => Ok(s),
        other => Err(format!("not a code: {other}").into()),
    }
}

fn member_data(m: &Member) -> Result<MemberData, BoxError> {
    Ok(MemberData {
        member_id: String::new(),
        name: m.name.clone(),
        id_number: m.id_number.clone(),
        relation: code(&m.relation)?,
        birth_date: m.birth_date.to_string(),
        health: code(&m.health)?,
        disability: code(&m.disability)?,
        disability_grade: m.disability_grade,
        labour_ability: code(&m.labour_ability)?,
    })
}

/// The same household as the record apps pass to `create_household`.
fn household_data(h: &NewHousehold) -> Result<HouseholdData, BoxError> {
    Ok(HouseholdData {
        id: String::new(),
        county_code: h.county_code.clone(),
        township_code: h.township_code.clone(),
        village_code: h.village_code.clone(),
        address: h.address.clone(),
        head_member_id: String::new(),
        status: code(&h.status)?,
        status_since: h.status_since.to_string(),
        phone: h.phone.clone(),
        program: code(&h.enrollment.program)?,
        dibao_class: h.enrollment.dibao_class,
        enrollment_start: h.enrollment.start_date.map(|d| d.to_string()),
        enrollment_end: h.enrollment.end_date.map(|d| d.to_string()),
        members: h
            .members
            .iter()
            .map(member_data)
            .collect::<Result<_, _>>()?,
    })
}

/// FNV-1a (64 bit) over one line per household and member; the Kotlin script computes the
/// same over its own records, so equal fingerprints mean equal workloads.
fn fingerprint(households: &[HouseholdData]) -> String {
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let num = |v: Option<u8>| v.map_or_else(|| "-".into(), |n| n.to_string());
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |line: String| {
        for b in line.bytes().chain([b'\n']) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for h in households {
        feed(format!(
            "{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}",
            h.county_code,
            h.township_code,
            h.village_code,
            h.address,
            h.status,
            h.status_since,
            opt(&h.phone),
            h.program,
            num(h.dibao_class),
            opt(&h.enrollment_start),
            opt(&h.enrollment_end)
        ));
        for m in &h.members {
            feed(format!(
                "  {}|{}|{}|{}|{}|{}|{}|{}",
                m.name,
                m.id_number,
                m.relation,
                m.birth_date,
                m.health,
                m.disability,
                num(m.disability_grade),
                m.labour_ability
            ));
        }
    }
    format!("{hash:016x}")
}

/// The address written by call `i` (warm-up calls included), the same on both sides.
fn address(i: usize) -> String {
    format!("{}组{}号", i % 9 + 1, i)
}

struct Stats {
    mean: Duration,
    p50: Duration,
    p90: Duration,
    p99: Duration,
    max: Duration,
}

/// Runs `call(i)` for `warmup` calls untimed, then `iterations` calls timed one by one.
fn measure(
    warmup: usize,
    iterations: usize,
    mut call: impl FnMut(usize) -> Result<(), BoxError>,
) -> Result<Stats, BoxError> {
    for i in 0..warmup {
        call(i)?;
    }
    let mut samples = Vec::with_capacity(iterations);
    for i in warmup..warmup + iterations {
        let t = Instant::now();
        call(i)?;
        samples.push(t.elapsed());
    }
    let total: Duration = samples.iter().sum();
    samples.sort();
    let pct = |p: usize| samples[(samples.len() * p / 100).min(samples.len() - 1)];
    Ok(Stats {
        mean: total / iterations as u32,
        p50: pct(50),
        p90: pct(90),
        p99: pct(99),
        max: samples[samples.len() - 1],
    })
}

fn report(side: &str, op: &str, stats: &Stats) {
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "result side={side} op={op} mean_us={:.2} p50_us={:.2} p90_us={:.2} p99_us={:.2} max_us={:.2}",
        us(stats.mean),
        us(stats.p50),
        us(stats.p90),
        us(stats.p99),
        us(stats.max)
    );
}

/// The three operations through `ruhu_ffi::TabletStore` — the methods Kotlin calls.
fn run_tablet_store(args: &Args, inputs: &[HouseholdData]) -> Result<(), BoxError> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("tablet.db").to_string_lossy().into_owned();
    let keys: Arc<dyn HostKeyStore> = Arc::new(FixedHostKeys);
    let store = TabletStore::open(path, "bench".into(), WORKER.into(), keys)?;
    let started = Instant::now();
    let mut village_ids = Vec::new();
    for h in inputs {
        let created = store.create_household(h.clone())?;
        if village_ids.len() < LISTED as usize {
            village_ids.push(created.household.id);
        }
    }
    println!(
        "setup side=rust-ffi created={} seconds={:.1}",
        inputs.len(),
        started.elapsed().as_secs_f64()
    );
    let village = fixtures::village(0);

    let stats = measure(args.warmup, args.iterations, |i| {
        let id = &village_ids[i % village_ids.len()];
        let summary = black_box(store.summary(id.clone())?);
        check(&summary.id == id, "summary of another household")
    })?;
    report("rust-ffi", "summary", &stats);

    let stats = measure(args.warmup, args.iterations, |_| {
        let listed = black_box(store.list_village(village.clone(), None, None)?);
        check(listed.len() == LISTED as usize, "wrong village size")
    })?;
    report("rust-ffi", "list_village", &stats);

    let mut view = Some(store.household(village_ids[0].clone())?);
    let stats = measure(args.warmup, args.iterations, |i| {
        let current = view.take().ok_or("no view")?;
        let mut edited = current.household;
        edited.address = address(i);
        let saved = black_box(store.update_household(edited, current.heads)?);
        check(saved.household.address == address(i), "address not saved")?;
        view = Some(saved);
        Ok(())
    })?;
    report("rust-ffi", "update_household", &stats);
    Ok(())
}

/// The same operations on the plain core store (reference: no record conversion at all).
fn run_core_store(args: &Args, inputs: &[NewHousehold]) -> Result<(), BoxError> {
    let dir = tempfile::tempdir()?;
    let mut store = Store::open(
        StoreConfig::new(dir.path().join("core.db"), "bench", WORKER),
        &FixedCoreKeys,
    )?;
    let started = Instant::now();
    let mut village_ids = Vec::new();
    for h in inputs {
        let created = store.create_household(h.clone())?;
        if village_ids.len() < LISTED as usize {
            village_ids.push(created.id);
        }
    }
    println!(
        "setup side=core created={} seconds={:.1}",
        inputs.len(),
        started.elapsed().as_secs_f64()
    );
    let village = fixtures::village(0);

    let stats = measure(args.warmup, args.iterations, |i| {
        let id = &village_ids[i % village_ids.len()];
        let summary = black_box(store.summary(id)?);
        check(&summary.id == id, "summary of another household")
    })?;
    report("core", "summary", &stats);

    let stats = measure(args.warmup, args.iterations, |_| {
        let listed = black_box(store.list_village(&village, &ListFilter::default())?);
        check(listed.len() == LISTED as usize, "wrong village size")
    })?;
    report("core", "list_village", &stats);

    let mut record = Some(store.household(&village_ids[0])?);
    let stats = measure(args.warmup, args.iterations, |i| {
        let current = record.take().ok_or("no record")?;
        let mut edited = current.household;
        edited.profile.address = address(i);
        let saved = black_box(store.update_household(&edited, &current.heads)?);
        check(
            saved.household.profile.address == address(i),
            "address not saved",
        )?;
        record = Some(saved);
        Ok(())
    })?;
    report("core", "update_household", &stats);
    Ok(())
}

fn check(ok: bool, what: &str) -> Result<(), BoxError> {
    if ok {
        Ok(())
    } else {
        Err(what.into())
    }
}

fn main() -> Result<(), BoxError> {
    let args = parse_args()?;
    let inputs: Vec<NewHousehold> = (0..args.households).map(input).collect();
    let records = inputs
        .iter()
        .map(household_data)
        .collect::<Result<Vec<_>, _>>()?;
    println!(
        "workload households={} listed={LISTED} villages={VILLAGES} warmup={} iterations={} fingerprint={}",
        args.households,
        args.warmup,
        args.iterations,
        fingerprint(&records)
    );
    run_core_store(&args, &inputs)?;
    run_tablet_store(&args, &records)?;
    Ok(())
}
