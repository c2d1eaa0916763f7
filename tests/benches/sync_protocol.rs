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

#[path = "sync_protocol/bytes.rs"]
mod bytes;
#[path = "sync_protocol/measure.rs"]
mod measure;
#[path = "sync_protocol/peers.rs"]
mod peers;
#[path = "sync_protocol/report.rs"]
mod report;
#[path = "sync_protocol/township.rs"]
mod township;

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

use bytes::*;
use measure::*;
use peers::*;
use report::*;
use township::*;

pub(crate) type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// Villages of the township.
pub(crate) const VILLAGES: u32 = 20;
/// Households created, seeded and pushed per batch while seeding.
pub(crate) const BATCH: usize = 250;
/// Care-log entries of the three years of history, and of the day's work.
pub(crate) const CARE_HISTORY: usize = 36;
pub(crate) const CARE_TODAY: usize = 4;

/// `VmHWM` of this process, or why it is unknown.
fn peak_memory() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.trim_start_matches("VmHWM:").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown (no /proc)".into())
}

pub(crate) fn arg(args: &[String], name: &str, default: usize) -> usize {
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

    // The server's document cache: its default, or `--server-cache N` (a county server sized
    // to hold every household a sync touches avoids reloading documents from storage).
    let server_cache = arg(
        &args,
        "--server-cache",
        sync_server::DEFAULT_CACHED_HOUSEHOLDS,
    )
    .max(1);
    println!("server document cache: {server_cache} households");
    let mut town = Township::start(server_cache)?;
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
    // Server, tablets and the document cache share this process.
    println!(
        "peak resident memory of the bench process (tablets + server + its document cache): {}",
        peak_memory()
    );
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
