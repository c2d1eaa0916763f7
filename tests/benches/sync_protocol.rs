//! Sync protocol benchmark (issue 4). The workload is written down in
//! `docs/benchmarks/sync-workload.md`; keep the two in step.
//!
//! CI size:   `cargo bench -p ruhu-tests --bench sync_protocol -- --households 300 --changed 60`
//! Full size: `cargo bench -p ruhu-tests --bench sync_protocol -- --households 5000 --changed 1000`
//!
//! A township of N households (20 villages), each seeded with three years of history on the
//! case handler's tablet (3 visits co-signed by the three-person team, 36 care-log entries, 3
//! profile edits) and pushed to a real sync server on loopback. The tablet then comes back
//! with M households changed (1 new co-signed visit, 4 care-log entries, 1 profile edit each).
//! In one run it prints, side by side, for the sync of the changed households:
//!
//! - (a) this protocol: one `sync` of the tablet through a byte-counting TCP proxy;
//! - (b) naive full-document exchange: every changed household's full Automerge `save()`
//!   up, and the same bytes back down (an HTTP echo endpoint behind the same kind of proxy);
//! - (c) PouchDB → pouchdb-server replication of the same workload (`bench/pouchdb`);
//!
//! then the ratios against their bars (PASS/MISS computed in the run), a reconnect with
//! nothing changed, where the time of (a) goes and where its bytes go. Seeding and the day's
//! edits are timed apart from the comparison.
#![allow(missing_debug_implementations)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use automerge::{AutoCommit, Change};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use ruhu_core::fixtures;
use ruhu_core::household::NewHousehold;
use ruhu_core::resident_id::with_check_char;
use ruhu_core::signing::certificate::Role;
use ruhu_core::signing::keys::{FileKeyStore as SigningKeys, WorkerSigner};
use ruhu_core::sync::client::{HttpResponse, HttpTransport, SyncReport, Transport};
use ruhu_core::sync::signatures::sign_change;
use ruhu_core::sync::{envelope, SyncRequest};
use ruhu_core::visit::cosign::ContentReceiver;
use ruhu_core::visit::{Purpose, TeamMember};
use ruhu_tests::{install_config, seal_details, visit_answers, County, Server, Tablet};
use serde_json::{json, Value as Json};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// Villages of the township.
const VILLAGES: u32 = 20;
/// Households created, seeded and pushed per batch while seeding.
const BATCH: usize = 250;
/// Care-log entries of the three years of history, and of the day's work.
const CARE_HISTORY: usize = 36;
const CARE_TODAY: usize = 4;

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    let households = arg(&args, "--households", 300).max(1);
    let changed = arg(&args, "--changed", 60).clamp(1, households);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("no repository root")?
        .to_path_buf();
    // Fail loudly before the long seeding if the PouchDB peer cannot run.
    let pouch = PouchPeer::prepare(&root)?;

    println!(
        "sync_protocol benchmark: a township of {households} households in {VILLAGES} villages, \
         {changed} changed; tablet and server on loopback, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    let mut town = Township::start()?;
    let seeded = town.seed(households)?;
    seeded.print();

    let picks: Vec<usize> = (0..changed).map(|i| i * households / changed).collect();
    let day = town.day_of_work(&picks)?;
    println!(
        "day's work on the case handler's tablet (untimed for the comparison): {} households, \
         {} new changes (each signed by its author at write time) in {:.2} s",
        picks.len(),
        day.changes,
        day.elapsed.as_secs_f64()
    );

    if let Some(seconds) = std::env::var("SYNC_BENCH_PAUSE")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        // Time to attach a profiler (`perf record -p PID`) to the timed sync.
        println!(
            "pausing {seconds} s before the timed sync (pid {})",
            std::process::id()
        );
        std::thread::sleep(Duration::from_secs(seconds));
    }
    println!("load average before the timed sync: {}", load_average());
    let ours = town.timed_sync()?;
    let reconnect = town.reconnect()?;
    let changed_ids: Vec<String> = picks.iter().map(|&i| town.ids[i].clone()).collect();
    let naive = town.naive_exchange(&changed_ids)?;
    let signing = town.signing_cost(&ours.pushed)?;
    let bytes = Bytes::of(&ours)?;
    drop(town);

    println!(
        "(c) running bench/pouchdb/replicate.js {households} {changed} (load average {}) ...",
        load_average()
    );
    let pouchdb = pouch.run(households, changed)?;

    report(
        &ours, &naive, &pouchdb, &reconnect, signing, households, changed,
    );
    bytes.print(&ours, &naive);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The township: a server, the three-person team's tablets, the households.

struct Township {
    _county: County,
    _data: tempfile::TempDir,
    _server: Server,
    handler: Tablet,
    leader: Tablet,
    cadre: Tablet,
    proxy: Proxy,
    /// Household ids, in seeding order.
    ids: Vec<String>,
    /// The open care visit holding each household's care log.
    care_visits: Vec<String>,
}

struct Seeded {
    households: usize,
    elapsed: Duration,
    local: Duration,
    syncs: Duration,
    sync_round_trips: u32,
    pushed_changes: u64,
    pushed_bytes: u64,
}

impl Seeded {
    fn print(&self) {
        println!(
            "seed (untimed for the comparison): {} households, {} changes ({:.1} per household, \
             {:.1} MB of request bodies) in {:.1} s = {:.1} s local writes and co-signing + {:.1} s \
             pushes ({} round trips)",
            self.households,
            self.pushed_changes,
            self.pushed_changes as f64 / self.households as f64,
            self.pushed_bytes as f64 / 1e6,
            self.elapsed.as_secs_f64(),
            self.local.as_secs_f64(),
            self.syncs.as_secs_f64(),
            self.sync_round_trips
        );
    }
}

struct Day {
    changes: u64,
    elapsed: Duration,
}

impl Township {
    fn start() -> Res<Self> {
        let county = County::new();
        let data = tempfile::tempdir()?;
        let server = Server::start(data.path(), &county);
        let url = server.url();
        let villages: Vec<String> = (0..VILLAGES).map(fixtures::village).collect();
        let scope: Vec<&str> = villages.iter().map(String::as_str).collect();
        let handler = Tablet::enroll(&county, &url, "w-handler", &[Role::CaseHandler], &scope);
        let leader = Tablet::enroll(&county, &url, "w-leader", &[Role::TownshipLeader], &scope);
        let cadre = Tablet::enroll(&county, &url, "w-cadre", &[Role::VillageCadre], &scope);
        install_config(
            &url,
            &county.config_json(
                vec![
                    handler.certificate.clone(),
                    leader.certificate.clone(),
                    cadre.certificate.clone(),
                ],
                None,
            ),
        );
        let proxy = Proxy::start(server.addr.port())?;
        let mut town = Self {
            _county: county,
            _data: data,
            _server: server,
            handler,
            leader,
            cadre,
            proxy,
            ids: Vec::new(),
            care_visits: Vec::new(),
        };
        for t in [&mut town.handler, &mut town.leader, &mut town.cadre] {
            t.sync()?;
        }
        Ok(town)
    }

    fn team(&self) -> Vec<TeamMember> {
        [
            (Role::TownshipLeader, &self.leader),
            (Role::VillageCadre, &self.cadre),
            (Role::CaseHandler, &self.handler),
        ]
        .into_iter()
        .map(|(role, t)| TeamMember {
            role,
            worker_id: t.worker_id.clone(),
        })
        .collect()
    }

    /// Creates and seeds the households in batches, pushing each batch.
    fn seed(&mut self, n: usize) -> Res<Seeded> {
        let started = Instant::now();
        let inputs = new_households(n);
        let mut seeded = Seeded {
            households: n,
            elapsed: Duration::ZERO,
            local: Duration::ZERO,
            syncs: Duration::ZERO,
            sync_round_trips: 0,
            pushed_changes: 0,
            pushed_bytes: 0,
        };
        let history = [
            (Purpose::NewApplication, at(2024, 1, 15)),
            (Purpose::PeriodicReview, at(2025, 1, 20)),
            (Purpose::PeriodicReview, at(2026, 1, 18)),
        ];
        for (b, batch) in inputs.chunks(BATCH).enumerate() {
            let local = Instant::now();
            let created = self.handler.store.create_households(batch.to_vec())?;
            for (j, household) in created.iter().enumerate() {
                let k = b * BATCH + j;
                let id = household.id.clone();
                let village = household.profile.village_code.clone();
                self.handler.store.edit_household(&id, |h| {
                    h.profile.phone = Some(format!("138{:08}", k));
                })?;
                for (purpose, when) in history {
                    self.signed_visit(&id, &village, purpose, when)?;
                }
                let care = self
                    .handler
                    .store
                    .start_visit(&id, Purpose::CareVisit, self.team())?;
                for entry in 0..CARE_HISTORY {
                    self.handler
                        .store
                        .edit_visit_draft(&id, &care, &care_entry(k, entry))?;
                }
                self.handler.store.edit_household(&id, |h| {
                    h.profile.address = format!("{}组{}号（翻修后）", k % 9 + 1, k % 97 + 1);
                })?;
                self.handler.store.edit_household(&id, |h| {
                    h.enrollment.dibao_class = Some(1 + ((k + 2) % 4) as u8);
                })?;
                self.ids.push(id);
                self.care_visits.push(care);
            }
            seeded.local += local.elapsed();
            let pushing = Instant::now();
            let report = self.handler.sync()?;
            seeded.syncs += pushing.elapsed();
            check_accepted(&report, "seed")?;
            seeded.sync_round_trips += report.round_trips;
            seeded.pushed_changes += report.pushed_changes;
            seeded.pushed_bytes += report.bytes_sent;
            eprintln!(
                "  seeded {}/{n} households ({:.0} s)",
                self.ids.len(),
                started.elapsed().as_secs_f64()
            );
        }
        let (left, _) = self.handler.store.unsynced_changes()?;
        if left != 0 {
            return Err(format!("{left} seeded changes were not accepted").into());
        }
        seeded.elapsed = started.elapsed();
        Ok(seeded)
    }

    /// A visit started, answered and sealed on the case handler's tablet, signed there, and
    /// co-signed in the household by the leader and the cadre: their tablets scan the sealed
    /// content's QR codes, sign with their own keys and answer with one QR code each, which
    /// the case handler's tablet imports (the signature entries then travel with its push).
    fn signed_visit(
        &mut self,
        id: &str,
        village: &str,
        purpose: Purpose,
        visited_at: DateTime<Utc>,
    ) -> Res<()> {
        let team = self.team();
        let store = &mut self.handler.store;
        let visit = store.start_visit(id, purpose, team)?;
        store.edit_visit_draft(id, &visit, &visit_answers())?;
        let mut details = seal_details(village);
        details.visited_at = visited_at;
        let sealed = store.seal_visit(id, &visit, &details)?;
        let hash = sealed.content_hash;
        self.handler
            .sign_visit(id, &visit, &hash, Role::CaseHandler);
        let chunks = self.handler.store.visit_content_chunks(id, &visit, &hash)?;
        for (cosigner, role) in [
            (&mut self.leader, Role::TownshipLeader),
            (&mut self.cadre, Role::VillageCadre),
        ] {
            let mut scanner = ContentReceiver::expecting(hash);
            for chunk in &chunks {
                scanner.accept(chunk)?;
            }
            cosigner.store.receive_content(&scanner.finish()?)?;
            let keys = SigningKeys::new(cosigner.dir.path().join("signing-keys"));
            let response = cosigner.store.cosign(&hash, role, &keys, "device")?;
            let verdict = self
                .handler
                .store
                .import_signature_response(id, &visit, &hash, &response)?;
            if role == Role::VillageCadre && !verdict.is_complete() {
                return Err(format!("visit {visit} not complete: {:?}", verdict.status).into());
            }
        }
        Ok(())
    }

    /// The day's work on the changed households, offline.
    fn day_of_work(&mut self, picks: &[usize]) -> Res<Day> {
        let before = self.handler.store.unsynced_changes()?.0;
        let started = Instant::now();
        for &k in picks {
            let id = self.ids[k].clone();
            let village = self.handler.store.summary(&id)?.village_code;
            self.signed_visit(&id, &village, Purpose::PeriodicReview, at(2026, 11, 20))?;
            let care = self.care_visits[k].clone();
            for entry in CARE_HISTORY..CARE_HISTORY + CARE_TODAY {
                self.handler
                    .store
                    .edit_visit_draft(&id, &care, &care_entry(k, entry))?;
            }
            self.handler.store.edit_household(&id, |h| {
                h.profile.phone = Some(format!("137{:08}", k));
            })?;
        }
        Ok(Day {
            changes: self.handler.store.unsynced_changes()?.0 - before,
            elapsed: started.elapsed(),
        })
    }

    /// (a): one sync of the tablet, through the counting proxy, from a cold document cache.
    fn timed_sync(&mut self) -> Res<Measured> {
        self.handler.store.clear_cache();
        let transport = Timed::new(&self.proxy.url());
        self.proxy.reset();
        let started = Instant::now();
        let report = self.handler.sync_with(&transport)?;
        let elapsed = started.elapsed();
        check_accepted(&report, "timed sync")?;
        let (left, _) = self.handler.store.unsynced_changes()?;
        if left != 0 {
            return Err(format!("{left} changes left unsynced after the timed sync").into());
        }
        let calls = transport.calls.into_inner().map_err(|_| "poisoned")?;
        let mut pushed = Vec::new();
        let mut request_bodies = Vec::new();
        for call in &calls {
            if call.path == "/v1/sync" {
                pushed.extend(SyncRequest::decode(&envelope::open(&call.body, usize::MAX)?)?.push);
                request_bodies.push(call.body.clone());
            }
        }
        let raw_bytes: u64 = pushed
            .iter()
            .flat_map(|g| &g.changes)
            .map(|c| c.change.len() as u64)
            .sum();
        let proxy = self.proxy.snapshot();
        let split = Split::of(started, started + elapsed, &calls, &proxy);
        Ok(Measured {
            report,
            elapsed,
            wire_up: proxy.up,
            wire_down: proxy.down,
            raw_bytes,
            pushed,
            request_bodies,
            split,
        })
    }

    /// A reconnect with nothing changed.
    fn reconnect(&mut self) -> Res<Measured> {
        let transport = Timed::new(&self.proxy.url());
        self.proxy.reset();
        let started = Instant::now();
        let report = self.handler.sync_with(&transport)?;
        let elapsed = started.elapsed();
        let calls = transport.calls.into_inner().map_err(|_| "poisoned")?;
        let proxy = self.proxy.snapshot();
        let split = Split::of(started, started + elapsed, &calls, &proxy);
        Ok(Measured {
            report,
            elapsed,
            wire_up: proxy.up,
            wire_down: proxy.down,
            raw_bytes: 0,
            pushed: Vec::new(),
            request_bodies: Vec::new(),
            split,
        })
    }

    /// (b): every changed household's full document up, the same volume back down.
    fn naive_exchange(&mut self, ids: &[String]) -> Res<Naive> {
        // The documents as the tablet holds them (rebuilding them from the store's changes is
        // not timed: a naive tablet would save the document it loaded).
        self.handler.store.clear_cache();
        let mut load = Duration::ZERO;
        let mut save = Duration::ZERO;
        let mut docs = Vec::with_capacity(ids.len());
        let mut saves = Vec::with_capacity(ids.len());
        for id in ids {
            let t = Instant::now();
            let changes = self.handler.store.changes_since(id, &[])?;
            load += t.elapsed();
            let mut doc = AutoCommit::new();
            doc.apply_changes(
                changes
                    .into_iter()
                    .map(Change::from_bytes)
                    .collect::<Result<Vec<_>, _>>()?,
            )?;
            let t = Instant::now();
            saves.push(doc.save());
            save += t.elapsed();
            docs.push(doc);
        }
        let doc_bytes: u64 = saves.iter().map(|s| s.len() as u64).sum();
        let mut body = Vec::with_capacity(doc_bytes as usize + 4 * saves.len());
        for s in &saves {
            body.extend_from_slice(&(s.len() as u32).to_be_bytes());
            body.extend_from_slice(s);
        }
        let echo = EchoServer::start()?;
        let proxy = Proxy::start(echo.port)?;
        let transport = HttpTransport::new(&proxy.url());
        let t = Instant::now();
        let response = transport.request(
            "POST",
            "/documents",
            &[("Content-Type", "application/octet-stream".into())],
            &body,
        )?;
        let transfer = t.elapsed();
        if response.status != 200 || response.body != body {
            return Err("the echo endpoint did not return the documents".into());
        }
        // The tablet loads what came back and merges it into its documents.
        let t = Instant::now();
        let mut at = 0usize;
        for doc in &mut docs {
            let len = u32::from_be_bytes(response.body[at..at + 4].try_into()?) as usize;
            let mut theirs = AutoCommit::load(&response.body[at + 4..at + 4 + len])?;
            doc.merge(&mut theirs)?;
            at += 4 + len;
        }
        let merge = t.elapsed();
        let wire = proxy.snapshot();
        Ok(Naive {
            doc_bytes,
            wire_up: wire.up,
            wire_down: wire.down,
            load,
            save,
            transfer,
            merge,
        })
    }

    /// Ed25519 signatures of the pushed changes (made at write time, not during the sync).
    fn signing_cost(&self, pushed: &[ruhu_core::sync::HouseholdChanges]) -> Res<(usize, Duration)> {
        let keys = SigningKeys::new(self.handler.dir.path().join("signing-keys"));
        let signer = WorkerSigner::open(&keys, "device")?.ok_or("no handler key")?;
        let cert = self.handler.certificate.hash();
        let mut hashes = Vec::new();
        for g in pushed {
            for c in &g.changes {
                hashes.push((
                    g.household_id.as_str(),
                    Change::from_bytes(c.change.clone())?.hash().0,
                ));
            }
        }
        let t = Instant::now();
        for (id, hash) in &hashes {
            std::hint::black_box(sign_change(&signer, cert, id, hash, Vec::new()));
        }
        Ok((hashes.len(), t.elapsed()))
    }
}

/// The 1-, 5- and 15-minute load averages (Linux), to judge how busy the 2 cores were.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 2, 30, 0)
        .single()
        .unwrap_or_default()
}

fn check_accepted(report: &SyncReport, what: &str) -> Res<()> {
    if report.not_accepted.is_empty() && report.refused_pulled == 0 {
        Ok(())
    } else {
        Err(format!(
            "{what}: not accepted {:?}, refused pulled {}",
            report.not_accepted, report.refused_pulled
        )
        .into())
    }
}

/// N sample households of 3–6 members spread over the villages, with resident ID numbers
/// unique in the township (the fixtures repeat them beyond a few thousand members).
fn new_households(n: usize) -> Vec<NewHousehold> {
    let mut per_birth_date: HashMap<NaiveDate, u32> = HashMap::new();
    (0..n)
        .map(|i| {
            let mut h = fixtures::household(
                i as u64 + 1,
                &fixtures::village(i as u32 % VILLAGES),
                3 + i % 4,
            );
            for m in &mut h.members {
                let seq = per_birth_date.entry(m.birth_date).or_insert(0);
                *seq += 1;
                m.id_number = with_check_char(&format!(
                    "{}{}{:03}",
                    fixtures::COUNTY,
                    m.birth_date.format("%Y%m%d"),
                    *seq % 1000
                ));
            }
            h
        })
        .collect()
}

/// One care-log entry: task, done by, done at + note, elder present — written as one edit of
/// the open care visit's draft (4 answer keys, one signed change; see the workload document).
fn care_entry(household: usize, entry: usize) -> Vec<(String, Option<Json>)> {
    const TASKS: [&str; 4] = ["打扫卫生", "清洗衣物", "理发", "代购生活必需品"];
    const CAREGIVERS: [&str; 3] = ["护理员 马桂兰", "护理员 周德福", "护理员 何淑芬"];
    let done_at = format!(
        "{}-{:02}-{:02}",
        2024 + (entry / 12).min(2),
        entry % 12 + 1,
        (household + entry) % 28 + 1
    );
    [
        ("hardship_cause", json!(TASKS[entry % TASKS.len()])),
        ("supporters", json!(CAREGIVERS[(household + entry) % 3])),
        ("reason", json!(format!("{done_at} 已完成"))),
        ("member_present_signed", json!(entry & 1 == 0)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), Some(v)))
    .collect()
}

// ---------------------------------------------------------------------------------------
// Measurements.

struct Measured {
    report: SyncReport,
    elapsed: Duration,
    wire_up: u64,
    wire_down: u64,
    raw_bytes: u64,
    pushed: Vec<ruhu_core::sync::HouseholdChanges>,
    request_bodies: Vec<Vec<u8>>,
    split: Split,
}

impl Measured {
    fn wire(&self) -> u64 {
        self.wire_up + self.wire_down
    }
    fn bodies(&self) -> u64 {
        self.report.bytes_sent + self.report.bytes_received
    }
}

struct Naive {
    doc_bytes: u64,
    wire_up: u64,
    wire_down: u64,
    load: Duration,
    save: Duration,
    transfer: Duration,
    merge: Duration,
}

impl Naive {
    fn wire(&self) -> u64 {
        self.wire_up + self.wire_down
    }
    fn elapsed(&self) -> Duration {
        self.load + self.save + self.transfer + self.merge
    }
}

/// Where one sync's wall time went.
#[derive(Default)]
struct Split {
    /// Before the first request: queued changes and signatures read from the store, encoded,
    /// the request signed.
    client_before: Duration,
    /// Between round trips and after the last response: decode, acknowledge the push, ingest
    /// pulled changes, store the cursor.
    client_after: Duration,
    /// Request bytes on the way (from the transport call to the proxy's last request byte).
    upload: Duration,
    /// Last request byte to first response byte, seen at the proxy: the server's work.
    server: Duration,
    /// First response byte to the transport call's return.
    download: Duration,
}

impl Split {
    fn of(start: Instant, end: Instant, calls: &[Call], proxy: &ProxySnapshot) -> Self {
        let mut split = Split::default();
        let Some(first) = calls.first() else {
            split.client_before = end - start;
            return split;
        };
        split.client_before = first.start - start;
        let mut previous_end = None;
        for call in calls {
            if let Some(prev) = previous_end {
                split.client_after += call.start.saturating_duration_since(prev);
            }
            previous_end = Some(call.end);
            // The proxy's events inside this call (connections are used one call at a time).
            let events: Vec<&Event> = proxy
                .events
                .iter()
                .filter(|e| e.at >= call.start && e.at <= call.end)
                .collect();
            let last_up = events.iter().filter(|e| e.up).map(|e| e.at).max();
            let first_down = events
                .iter()
                .filter(|e| !e.up && last_up.is_some_and(|u| e.at >= u))
                .map(|e| e.at)
                .min();
            match (last_up, first_down) {
                (Some(u), Some(d)) => {
                    split.upload += u - call.start;
                    split.server += d - u;
                    split.download += call.end - d;
                }
                _ => split.server += call.end - call.start,
            }
        }
        if let Some(prev) = previous_end {
            split.client_after += end.saturating_duration_since(prev);
        }
        split
    }
}

struct Call {
    path: String,
    start: Instant,
    end: Instant,
    body: Vec<u8>,
}

/// The plain HTTP transport, with the start and end of every call recorded.
struct Timed {
    inner: HttpTransport,
    calls: Mutex<Vec<Call>>,
}

impl Timed {
    fn new(url: &str) -> Self {
        Self {
            inner: HttpTransport::new(url),
            calls: Mutex::new(Vec::new()),
        }
    }
}

impl Transport for Timed {
    fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> Result<HttpResponse, String> {
        let start = Instant::now();
        let response = self.inner.request(method, path, headers, body);
        let end = Instant::now();
        self.calls
            .lock()
            .map_err(|_| "poisoned".to_owned())?
            .push(Call {
                path: path.to_owned(),
                start,
                end,
                body: body.to_vec(),
            });
        response
    }
}

// ---------------------------------------------------------------------------------------
// A byte-counting TCP proxy (the same measurement bench/pouchdb/replicate.js makes for (c):
// every byte of HTTP, headers and bodies, both ways) and an HTTP echo endpoint for (b).

struct Event {
    at: Instant,
    up: bool,
}

#[derive(Default)]
struct ProxyCounters {
    up: AtomicU64,
    down: AtomicU64,
    events: Mutex<Vec<Event>>,
}

struct ProxySnapshot {
    up: u64,
    down: u64,
    events: Vec<Event>,
}

struct Proxy {
    port: u16,
    counters: Arc<ProxyCounters>,
}

impl Proxy {
    fn start(target: u16) -> Res<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let counters = Arc::new(ProxyCounters::default());
        let shared = counters.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(upstream) = TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = upstream.set_nodelay(true);
                let (Ok(c2), Ok(u2)) = (client.try_clone(), upstream.try_clone()) else {
                    continue;
                };
                let (a, b) = (shared.clone(), shared.clone());
                std::thread::spawn(move || pump(client, upstream, true, &a));
                std::thread::spawn(move || pump(u2, c2, false, &b));
            }
        });
        Ok(Self { port, counters })
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn reset(&self) {
        self.counters.up.store(0, Ordering::SeqCst);
        self.counters.down.store(0, Ordering::SeqCst);
        if let Ok(mut e) = self.counters.events.lock() {
            e.clear();
        }
    }

    fn snapshot(&self) -> ProxySnapshot {
        let events = self
            .counters
            .events
            .lock()
            .map(|mut e| std::mem::take(&mut *e))
            .unwrap_or_default();
        ProxySnapshot {
            up: self.counters.up.load(Ordering::SeqCst),
            down: self.counters.down.load(Ordering::SeqCst),
            events,
        }
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream, up: bool, counters: &ProxyCounters) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let at = Instant::now();
                let counter = if up { &counters.up } else { &counters.down };
                counter.fetch_add(n as u64, Ordering::SeqCst);
                if let Ok(mut events) = counters.events.lock() {
                    events.push(Event { at, up });
                }
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// HTTP/1.1 endpoint answering every request with its own body.
struct EchoServer {
    port: u16,
}

impl EchoServer {
    fn start() -> Res<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || {
                    let _ = echo(stream);
                });
            }
        });
        Ok(Self { port })
    }
}

fn echo(stream: TcpStream) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut length = 0usize;
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 || line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body)?;
        write!(
            out,
            "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: {}\r\n\r\n",
            body.len()
        )?;
        out.write_all(&body)?;
        out.flush()?;
    }
}

// ---------------------------------------------------------------------------------------
// (c) PouchDB -> pouchdb-server.

struct PouchPeer {
    root: PathBuf,
}

struct Pouch {
    seconds: f64,
    up: u64,
    down: u64,
    requests: u64,
    docs_written: u64,
}

impl PouchPeer {
    fn prepare(root: &Path) -> Res<Self> {
        let node = Command::new("node").arg("--version").output();
        if !node.as_ref().is_ok_and(|o| o.status.success()) {
            return Err(
                "(c) needs Node.js (`node`) and npm for the PouchDB comparison; install \
                 them (Node 18 or newer) — the benchmark does not skip (c)"
                    .into(),
            );
        }
        let modules = root.join(".tools/pouchdb/node_modules");
        if !modules.join("pouchdb").is_dir() || !modules.join("pouchdb-server").is_dir() {
            println!("(c) installing pouchdb + pouchdb-server: bash bench/pouchdb/install.sh");
            let status = Command::new("bash")
                .arg(root.join("bench/pouchdb/install.sh"))
                .status()?;
            if !status.success() {
                return Err(format!("bench/pouchdb/install.sh failed: {status}").into());
            }
        }
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    fn run(&self, households: usize, changed: usize) -> Res<Pouch> {
        let output = Command::new("node")
            .arg(self.root.join("bench/pouchdb/replicate.js"))
            .arg(households.to_string())
            .arg(changed.to_string())
            .env("NODE_PATH", self.root.join(".tools/pouchdb/node_modules"))
            .current_dir(&self.root)
            .output()?;
        if !output.status.success() {
            return Err(format!(
                "bench/pouchdb/replicate.js failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            )
            .into());
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        let line = stdout
            .lines()
            .rev()
            .find(|l| l.trim_start().starts_with('{'))
            .ok_or_else(|| format!("replicate.js printed no JSON: {stdout}"))?;
        let v: Json = serde_json::from_str(line)?;
        let num = |k: &str| v[k].as_u64().ok_or_else(|| format!("replicate.js: no {k}"));
        Ok(Pouch {
            seconds: v["seconds"].as_f64().ok_or("replicate.js: no seconds")?,
            up: num("bytes_up")?,
            down: num("bytes_down")?,
            requests: num("requests")?,
            docs_written: num("docs_written")?,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Where the bytes of (a) go, and what compression would change (diagnostics, not what the
// protocol sends today).

/// The day's changes of one household, in the order they are written.
const DAY_CHANGES: [&str; 11] = [
    "visit started (team, purpose)",
    "visit draft answers (15)",
    "visit sealed (canonical content)",
    "case handler's signature",
    "leader's co-signature (imported)",
    "cadre's co-signature (imported)",
    "care-log entry 1",
    "care-log entry 2",
    "care-log entry 3",
    "care-log entry 4",
    "profile edit",
];

struct Bytes {
    /// Per position of DAY_CHANGES: count, raw bytes, Automerge-deflated bytes.
    by_kind: Option<Vec<(u64, u64, u64)>>,
    /// Sum over the pushed changes of Automerge's own compressed form (`Change::bytes()`).
    automerge_compressed: u64,
    /// The request messages before the compressed envelope.
    encoded: u64,
    /// The request bodies as sent.
    body: u64,
}

impl Bytes {
    fn of(ours: &Measured) -> Res<Self> {
        let mut by_kind = vec![(0u64, 0u64, 0u64); DAY_CHANGES.len()];
        let mut regular = true;
        let mut automerge_compressed = 0;
        for group in &ours.pushed {
            regular &= group.changes.len() == DAY_CHANGES.len();
            for (i, c) in group.changes.iter().enumerate() {
                let mut change = Change::from_bytes(c.change.clone())?;
                let compressed = change.bytes().len() as u64;
                automerge_compressed += compressed;
                if let Some(k) = by_kind.get_mut(i) {
                    k.0 += 1;
                    k.1 += c.change.len() as u64;
                    k.2 += compressed;
                }
            }
        }
        let mut encoded = 0;
        for body in &ours.request_bodies {
            encoded += envelope::open(body, usize::MAX)?.len() as u64;
        }
        Ok(Self {
            by_kind: regular.then_some(by_kind),
            automerge_compressed,
            encoded,
            body: ours.request_bodies.iter().map(|b| b.len() as u64).sum(),
        })
    }

    fn print(&self, ours: &Measured, naive: &Naive) {
        println!();
        println!(
            "where the bytes of (a) go: {} of raw change bytes in {} changes ({:.0} B each), encoded as a {} request message, sent as {} of compressed request body (envelope RHZ1, DEFLATE fast: {:.2}x smaller)",
            kb(ours.raw_bytes),
            ours.report.pushed_changes,
            ours.raw_bytes as f64 / ours.report.pushed_changes.max(1) as f64,
            kb(self.encoded),
            kb(self.body),
            self.encoded as f64 / self.body.max(1) as f64,
        );
        if let Some(kinds) = &self.by_kind {
            println!(
                "  {:<36}{:>12}{:>22}",
                "change of the day (per household)", "raw bytes", "Automerge-deflated"
            );
            for (name, (n, raw, z)) in DAY_CHANGES.iter().zip(kinds) {
                let n = (*n).max(1) as f64;
                println!(
                    "  {name:<36}{:>12.0}{:>22.0}",
                    *raw as f64 / n,
                    *z as f64 / n
                );
            }
        }
        let per_change = self.encoded.saturating_sub(ours.raw_bytes) as f64
            / ours.report.pushed_changes.max(1) as f64;
        println!(
            "  framing + signatures before compression: {per_change:.0} B per change (64-byte Ed25519 signature, signer index, length), household ids and message header"
        );
        println!(
            "  for comparison, Automerge's own per-change compression would send {} of changes -> (b)/(a) ratio = {:.2}",
            kb(self.automerge_compressed),
            naive.wire() as f64
                / (ours.wire() - self.body + self.encoded - ours.raw_bytes
                    + self.automerge_compressed)
                    .max(1) as f64,
        );
    }
}

// ---------------------------------------------------------------------------------------
// The report.

fn verdict(met: bool) -> &'static str {
    if met {
        "PASS"
    } else {
        "MISS"
    }
}

fn kb(bytes: u64) -> String {
    format!("{:.1} KB", bytes as f64 / 1000.0)
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn report(
    ours: &Measured,
    naive: &Naive,
    pouch: &Pouch,
    reconnect: &Measured,
    signing: (usize, Duration),
    households: usize,
    changed: usize,
) {
    let a = &ours.report;
    let pouch_wall = Duration::from_secs_f64(pouch.seconds);
    println!();
    println!(
        "sync of the {changed} changed households of {households} (wire = every TCP byte of HTTP \
         both ways, headers included, counted by a proxy):"
    );
    println!(
        "{:<34}{:>22}{:>24}{:>24}",
        "", "(a) this protocol", "(b) naive full docs", "(c) PouchDB"
    );
    let row = |name: &str, x: String, y: String, z: String| {
        println!("{name:<34}{x:>22}{y:>24}{z:>24}");
    };
    row(
        "bytes up (wire)",
        kb(ours.wire_up),
        kb(naive.wire_up),
        kb(pouch.up),
    );
    row(
        "bytes down (wire)",
        kb(ours.wire_down),
        kb(naive.wire_down),
        kb(pouch.down),
    );
    row(
        "bytes total (wire)",
        kb(ours.wire()),
        kb(naive.wire()),
        kb(pouch.up + pouch.down),
    );
    row(
        "HTTP bodies up + down",
        format!("{} + {}", kb(a.bytes_sent), kb(a.bytes_received)),
        format!("{} + {}", kb(naive.doc_bytes), kb(naive.doc_bytes)),
        "-".into(),
    );
    row(
        "HTTP round trips",
        a.round_trips.to_string(),
        "1 (batched)".into(),
        pouch.requests.to_string(),
    );
    row(
        "wall time",
        ms(ours.elapsed),
        ms(naive.elapsed()),
        ms(pouch_wall),
    );
    row(
        "changes / documents sent",
        format!("{} changes", a.pushed_changes),
        format!("{changed} documents"),
        format!("{} docs", pouch.docs_written),
    );
    println!(
        "(a) header overhead: {} of {} on the wire are HTTP request/response lines and headers \
         (incl. the Ruhu-Auth request signature), measured as wire - bodies",
        kb(ours.wire().saturating_sub(ours.bodies())),
        kb(ours.wire())
    );
    println!(
        "(b) measured for real: each changed household's document loaded from the tablet's \
         store ({}) and saved ({}), {} of saves POSTed in one request to an HTTP echo endpoint \
         on loopback that answers the same bytes ({}), loaded and merged back on the tablet ({}); \
         no server-side merge is counted, so (b)'s time is a lower bound",
        ms(naive.load),
        ms(naive.save),
        kb(naive.doc_bytes),
        ms(naive.transfer),
        ms(naive.merge)
    );

    println!();
    let wire_raw = ours.wire() as f64 / ours.raw_bytes.max(1) as f64;
    let bodies_raw = ours.bodies() as f64 / ours.raw_bytes.max(1) as f64;
    println!(
        "(a) wire / raw change bytes: {} / {} ({} changes): ratio = {wire_raw:.2} \
         (bar <= 1.50) {} [HTTP bodies only: ratio = {bodies_raw:.2}]",
        kb(ours.wire()),
        kb(ours.raw_bytes),
        a.pushed_changes,
        verdict(wire_raw <= 1.5)
    );
    let b_over_a = naive.wire() as f64 / ours.wire().max(1) as f64;
    println!(
        "(b)/(a) wire bytes: ratio = {b_over_a:.2} (bar >= 3.00) {}",
        verdict(b_over_a >= 3.0)
    );
    let c_over_a_bytes = (pouch.up + pouch.down) as f64 / ours.wire().max(1) as f64;
    println!("(c)/(a) wire bytes: ratio = {c_over_a_bytes:.2} (no bar)");
    let c_over_a = pouch.seconds / ours.elapsed.as_secs_f64().max(1e-9);
    println!(
        "(c)/(a) wall time: ratio = {c_over_a:.2} (bar > 1.00, ours faster) {}; \
         stretch >= 5.00 {}",
        verdict(c_over_a > 1.0),
        verdict(c_over_a >= 5.0)
    );
    let b_over_a_time = naive.elapsed().as_secs_f64() / ours.elapsed.as_secs_f64().max(1e-9);
    println!("(b)/(a) wall time: ratio = {b_over_a_time:.2} (no bar; (b) is a lower bound)");
    println!(
        "(a) HTTP round trips: {} (bar <= 3) {}",
        a.round_trips,
        verdict(a.round_trips <= 3)
    );
    let r = &reconnect.report;
    println!(
        "reconnect with nothing changed: {} round trip(s) (goal 1) {}, {} on the wire (bodies \
         {} up + {} down) (goal < 2 KB = 2048 B) {}, {}",
        r.round_trips,
        verdict(r.round_trips == 1),
        kb(reconnect.wire()),
        r.bytes_sent,
        r.bytes_received,
        verdict(reconnect.wire() < 2048),
        ms(reconnect.elapsed)
    );

    println!();
    let s = &ours.split;
    let total = ours.elapsed.as_secs_f64().max(1e-9);
    let pct = |d: Duration| 100.0 * d.as_secs_f64() / total;
    println!("where the time of (a) goes ({} wall):", ms(ours.elapsed));
    for (name, d) in [
        (
            "tablet before sending: queued changes + signatures read from the encrypted store (cold document cache), request encoded and signed",
            s.client_before,
        ),
        ("request upload (loopback HTTP)", s.upload),
        (
            "server: auth, decode, validate every change, commit, pull, encode (last request byte -> first response byte)",
            s.server,
        ),
        ("response download (loopback HTTP)", s.download),
        (
            "tablet after the response: decode, acknowledge the push, ingest pulled changes, store the cursor",
            s.client_after,
        ),
    ] {
        println!("  {:>9}  {:>5.1}%  {name}", ms(d), pct(d));
    }
    println!(
        "  (not in the sync) Ed25519 signatures of the {} pushed changes, made at write time by \
         the store: {} ({:.1} us each)",
        signing.0,
        ms(signing.1),
        signing.1.as_secs_f64() * 1e6 / signing.0.max(1) as f64
    );
}
