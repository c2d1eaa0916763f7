//! Care lists benchmark (issue 8): today's overdue care tasks from the store's index vs the
//! best plain SQL over a flat table of the same log rows.
//!
//! Full size: `cargo bench -p ruhu-core --bench care_lists -- --households 5000 --persons 300 --years 3`
//! CI size:   `cargo bench -p ruhu-core --bench care_lists -- --households 1000 --persons 60 --years 1`
//!
//! A township of N households over 20 villages; P of them hold one person in dispersed care,
//! enrolled Y years before "today" with the default "四个一" plan, Y years of task logs with
//! misses (some tasks overdue today), a few problems and leader visits, all written through
//! the real store (SQLCipher file, signed Automerge changes). The workload is written down in
//! `docs/benchmarks/care-lists.md`. Prints, for one village and for the township, the median
//! of `Store::overdue_care_tasks` beside the floor (the same answer from one flat table with a
//! covering index), their ratio and the goals; fails if the two answers differ. Also prints
//! the seeding time and the write side: one task entry logged (acknowledged) vs one row
//! inserted into the flat table.

#[path = "care_lists/floor.rs"]
mod floor;
#[path = "care_lists/workload.rs"]
mod workload;

use std::collections::{BTreeMap, BTreeSet};
use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use chrono::{Duration as Days, TimeZone, Utc};
use floor::{FlatRow, Floor, Pair, Shape};
use ruhu_core::care::CareEvent;
use ruhu_core::fixtures;
use ruhu_core::household::NewHousehold;
use ruhu_core::signing::certificate::{Role, Scope, WorkerCertificate, CERTIFICATE_FORMAT};
use ruhu_core::signing::keys::{MemoryKeyStore, SigningKeyPair, WorkerSigner};
use ruhu_core::store::FileKeyStore;
use ruhu_core::{Store, StoreConfig};
use workload::PLAN;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

const VILLAGES: usize = 20;
const RUNS: usize = 200;
const BATCH: usize = 250;
/// "Today" of the workload (a Wednesday: every frequency is part way through a period).
const TODAY: (i32, u32, u32) = (2026, 11, 18);
/// The village listed on its own.
const VILLAGE: u32 = 3;
/// Goal: the township's overdue list within this many milliseconds.
const TOWNSHIP_GOAL_MS: f64 = 10.0;
/// Goal: within this many times the floor.
const RATIO_GOAL: f64 = 3.0;
/// Task entries logged one by one to time the write side.
const WRITES: usize = 20;
/// The worker whose tablet this is.
const WORKER: &str = "w-bench";

fn flag(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The median of `RUNS` timed calls of `f` (after one untimed warm-up call).
fn median<T>(mut f: impl FnMut() -> Res<T>) -> Res<Duration> {
    black_box(f()?);
    let mut samples = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let started = Instant::now();
        black_box(f()?);
        samples.push(started.elapsed());
    }
    samples.sort();
    Ok(samples[samples.len() / 2])
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-12)
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "PASS"
    } else {
        "MISS"
    }
}

/// Gives the store a county authority and a certified worker key, as enrolment does: every
/// change written from then on is signed by the worker (Ed25519 over the change hash).
fn sign_as_worker(store: &mut Store) -> Res<()> {
    let authority = SigningKeyPair::generate()?;
    store.set_authority("county-620102", authority.public_key())?;
    let signer = WorkerSigner::create(&MemoryKeyStore::default(), "tablet")?;
    // Signed timestamps are whole seconds.
    let now = Utc
        .timestamp_opt(Utc::now().timestamp(), 0)
        .single()
        .ok_or("time")?;
    let certificate = WorkerCertificate {
        format: CERTIFICATE_FORMAT,
        worker_id: WORKER.into(),
        name: "工作人员".into(),
        roles: vec![Role::CaseHandler],
        scope: Scope::Villages((0..VILLAGES as u32).map(fixtures::village).collect()),
        public_key: signer.public_key(),
        valid_from: now - Days::days(1),
        valid_until: now + Days::days(365),
        issued_at: now - Days::days(1),
        authority_key_id: "county-620102".into(),
    }
    .sign(&authority)?;
    store.set_signing_identity(signer, certificate)?;
    Ok(())
}

/// The seeded township: the store, its households, who is in care, and the flat rows.
struct Seeded {
    store: Store,
    created: Vec<ruhu_core::household::Household>,
    /// Household index → care person index.
    in_care: BTreeMap<usize, usize>,
    rows: Vec<FlatRow>,
    events: usize,
    households_time: Duration,
    care_time: Duration,
}

/// Creates the households (batches of [`BATCH`]), then writes each person's history with one
/// `record_care_events` call, keeping the task entries as flat rows.
fn seed(
    dir: &std::path::Path,
    households: usize,
    persons: usize,
    years: u32,
    today: NaiveDate,
) -> Res<Seeded> {
    let keys = FileKeyStore::new(dir.join("keys"));
    let mut store = Store::open(
        StoreConfig::new(dir.join("care.db"), "bench", WORKER),
        &keys,
    )?;
    sign_as_worker(&mut store)?;
    let in_care: BTreeMap<usize, usize> = (0..persons)
        .map(|i| (workload::household_of(i, households, persons, VILLAGES), i))
        .collect();
    if in_care.len() != persons || in_care.keys().any(|h| *h >= households) {
        return Err("care persons do not fit in the households: raise --households".into());
    }
    let inputs: Vec<NewHousehold> = (0..households as u64)
        .map(|seed| {
            let village = fixtures::village((seed % VILLAGES as u64) as u32);
            // People in dispersed care live alone.
            let members = if in_care.contains_key(&(seed as usize)) {
                1
            } else {
                3 + (seed % 4) as usize
            };
            fixtures::household(seed, &village, members)
        })
        .collect();
    let started = Instant::now();
    let mut created = Vec::with_capacity(households);
    for batch in inputs.chunks(BATCH) {
        created.extend(store.create_households(batch.to_vec())?);
    }
    let households_time = started.elapsed();

    let started = Instant::now();
    let mut rows: Vec<FlatRow> = Vec::new();
    let mut events_written = 0usize;
    for (&h, &i) in &in_care {
        let household = &created[h];
        let person = household.profile.head_member_id.clone();
        let photo = store
            .add_attachment(
                &household.id,
                format!("JPEG stand-in of person {i}").as_bytes(),
            )?
            .to_hex();
        let events = workload::events(i, &person, today, years, &photo);
        events_written += events.len();
        let before = rows.len();
        for e in &events {
            if let CareEvent::TaskDone {
                task_id, done_at, ..
            } = e
            {
                rows.push(flat_row(
                    &household.profile.village_code,
                    &person,
                    task_id,
                    *done_at,
                )?);
            }
        }
        let record = store.record_care_events(&household.id, events)?;
        if record.log.len() != rows.len() - before || !record.set_aside.is_empty() {
            return Err(format!(
                "person {i}: {} log entries and {} set aside, {} written",
                record.log.len(),
                record.set_aside.len(),
                rows.len() - before
            )
            .into());
        }
    }
    Ok(Seeded {
        store,
        created,
        in_care,
        rows,
        events: events_written,
        households_time,
        care_time: started.elapsed(),
    })
}

fn flat_row(
    village: &str,
    person: &str,
    task_id: &str,
    done_at: chrono::DateTime<Utc>,
) -> Res<FlatRow> {
    let every = PLAN
        .iter()
        .find(|(id, _)| *id == task_id)
        .map(|(_, f)| *f)
        .ok_or("task")?;
    Ok(FlatRow {
        village_code: village.to_owned(),
        person_id: person.to_owned(),
        task_id: task_id.to_owned(),
        frequency: every.name(),
        done_on: workload::local_date(done_at),
    })
}

/// The store's overdue (person, task) pairs; an error if a pair is listed twice.
fn ours(store: &Store, scope: Option<&str>, today: NaiveDate) -> Res<BTreeSet<Pair>> {
    let listed = store.overdue_care_tasks(scope, today)?;
    let pairs: BTreeSet<Pair> = listed
        .iter()
        .map(|t| (t.person_id.clone(), t.task_id.clone()))
        .collect();
    if pairs.len() != listed.len() {
        return Err("a (person, task) pair listed twice".into());
    }
    Ok(pairs)
}

/// Fails unless every floor shape answers exactly `expected`.
fn check_floor(
    floor: &Floor,
    scope: Option<&str>,
    today: NaiveDate,
    expected: &BTreeSet<Pair>,
) -> Res<()> {
    for shape in Shape::ALL {
        let answer = floor.overdue(shape, scope, today)?;
        if &answer != expected {
            let only_ours: Vec<_> = expected.difference(&answer).take(5).collect();
            let only_floor: Vec<_> = answer.difference(expected).take(5).collect();
            return Err(format!(
                "{shape:?} {scope:?}: the store lists {} overdue pairs, the floor {}; \
                 only the store: {only_ours:?}; only the floor: {only_floor:?}",
                expected.len(),
                answer.len()
            )
            .into());
        }
    }
    Ok(())
}

/// The median time of one task entry logged on a person with the full history (an
/// acknowledged write: document, signed change, care index) and of one row inserted into
/// the flat table (autocommit, same durability).
fn write_side(s: &mut Seeded, floor: &Floor, today: NaiveDate) -> Res<(Duration, Duration)> {
    let (&h, _) = s.in_care.iter().next().ok_or("nobody in care")?;
    let household = s.created[h].clone();
    let person = household.profile.head_member_id.clone();
    let mut ours = Vec::with_capacity(WRITES);
    let mut flat = Vec::with_capacity(WRITES);
    for k in 0..WRITES {
        let local_noon = today.and_hms_opt(12, 0, 0).ok_or("time")? + Days::seconds(k as i64);
        let done_at =
            Utc.from_utc_datetime(&(local_noon - Days::hours(workload::UTC_OFFSET_HOURS)));
        let event = CareEvent::TaskDone {
            person_id: person.clone(),
            task_id: PLAN[0].0.to_owned(),
            done_at,
            note: "已完成".into(),
            photos: Vec::new(),
        };
        let started = Instant::now();
        s.store.record_care_event(&household.id, event)?;
        ours.push(started.elapsed());
        let row = flat_row(&household.profile.village_code, &person, PLAN[0].0, done_at)?;
        let started = Instant::now();
        floor.insert(&row)?;
        flat.push(started.elapsed());
    }
    ours.sort();
    flat.sort();
    Ok((ours[WRITES / 2], flat[WRITES / 2]))
}

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    let households = flag(&args, "--households", 5000);
    let persons = flag(&args, "--persons", 300).min(households);
    let years = u32::try_from(flag(&args, "--years", 3))?;
    if years == 0 || persons == 0 {
        return Err("--years and --persons must be at least 1".into());
    }
    let today = NaiveDate::from_ymd_opt(TODAY.0, TODAY.1, TODAY.2).ok_or("date")?;
    println!(
        "care_lists benchmark: {households} households in {VILLAGES} villages, {persons} in dispersed care \
         with {years} year(s) of the \"四个一\" task log, today = {today}; medians of {RUNS} runs"
    );
    let dir = tempfile::tempdir()?;
    let mut s = seed(dir.path(), households, persons, years, today)?;
    let started = Instant::now();
    let floor = Floor::build(&dir.path().join("flat.db"), &s.rows)?;
    let floor_build = started.elapsed();
    println!();
    println!(
        "seeding: {households} households in {:.1} s; {persons} care histories ({} events, {} task entries) \
         in {:.1} s ({:.1} ms per person, one commit each); flat table + index: {:.2} s",
        s.households_time.as_secs_f64(),
        s.events,
        s.rows.len(),
        s.care_time.as_secs_f64(),
        ms(s.care_time) / persons as f64,
        floor_build.as_secs_f64()
    );

    println!(
        "changes written and queued for sync, each signed by {WORKER} when written: {}",
        s.store.unsynced_changes()?.0
    );

    // --- answers: ours must equal the floor's, for every shape
    let village = fixtures::village(VILLAGE);
    let ours_village = ours(&s.store, Some(&village), today)?;
    let ours_township = ours(&s.store, None, today)?;
    check_floor(&floor, Some(&village), today, &ours_village)?;
    check_floor(&floor, None, today, &ours_township)?;
    let mut by_task: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, task) in &ours_township {
        *by_task.entry(task.as_str()).or_default() += 1;
    }
    let persons_village = s
        .in_care
        .keys()
        .filter(|h| s.created[**h].profile.village_code == village)
        .count();
    println!(
        "answers: identical (store vs every floor shape); overdue today: {} pairs in village {village} \
         ({persons_village} persons), {} in the township ({by_task:?})",
        ours_village.len(),
        ours_township.len()
    );
    println!(
        "also in the store: {} open problems, {} overdue leader visits",
        s.store.open_care_problems(None)?.len(),
        s.store.overdue_leader_visits(None, today)?.len()
    );

    // --- timings
    let ours_v = median(|| Ok(s.store.overdue_care_tasks(Some(&village), today)?))?;
    let ours_t = median(|| Ok(s.store.overdue_care_tasks(None, today)?))?;
    let mut shapes = Vec::new();
    for shape in Shape::ALL {
        let v = median(|| floor.overdue(shape, Some(&village), today))?;
        let t = median(|| floor.overdue(shape, None, today))?;
        shapes.push((shape, v, t));
    }
    let floor_v = shapes.iter().map(|s| s.1).min().ok_or("no shape")?;
    let floor_t = shapes.iter().map(|s| s.2).min().ok_or("no shape")?;
    let (write_ours, write_flat) = write_side(&mut s, &floor, today)?;

    println!();
    println!("| overdue care tasks today | ours: `Store::overdue_care_tasks` | floor: flat SQL | ours / floor | goals |");
    println!("|---|---|---|---|---|");
    let rv = ratio(ours_v, floor_v);
    println!(
        "| one village ({} pairs) | {:.3} ms | {:.3} ms | {rv:.2}x | <= {RATIO_GOAL}x floor: {} |",
        ours_village.len(),
        ms(ours_v),
        ms(floor_v),
        verdict(rv <= RATIO_GOAL)
    );
    let rt = ratio(ours_t, floor_t);
    println!(
        "| township, {VILLAGES} villages ({} pairs) | {:.3} ms | {:.3} ms | {rt:.2}x | \
         <= {TOWNSHIP_GOAL_MS} ms: {}; <= {RATIO_GOAL}x floor: {} |",
        ours_township.len(),
        ms(ours_t),
        ms(floor_t),
        verdict(ms(ours_t) <= TOWNSHIP_GOAL_MS),
        verdict(rt <= RATIO_GOAL)
    );
    println!(
        "| the write side: one task entry logged (median of {WRITES}) | {:.2} ms | {:.2} ms (one row) | {:.1}x | - |",
        ms(write_ours),
        ms(write_flat),
        ratio(write_ours, write_flat)
    );
    println!();
    println!("floor shapes (the faster of each column is the floor):");
    for (shape, v, t) in &shapes {
        println!(
            "  {:<48} village {:.3} ms, township {:.3} ms",
            shape.describe(),
            ms(*v),
            ms(*t)
        );
    }
    for shape in Shape::ALL {
        println!(
            "  plan of {shape:?} (township): {}",
            floor.plan(shape, false)?.join(" / ")
        );
    }
    Ok(())
}
