//! The timed part — every field tablet syncing its day at once — the server process's memory
//! and CPU from `/proc`, and the check afterwards that nothing was lost.

use std::collections::BTreeSet;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use automerge::Change;
use ruhu_core::sync::client::SyncReport;
use ruhu_tests::server_feed;

use crate::county::{check_clean, CountyRun};
use crate::Res;

/// One tablet's timed sync.
pub struct TabletSync {
    pub elapsed: Duration,
    pub report: SyncReport,
    /// Why the sync counts as an error (failed, not accepted in full, work left unsynced).
    pub error: Option<String>,
}

/// The concurrent syncs of one run.
pub struct Timed {
    pub wall: Duration,
    pub tablets: Vec<TabletSync>,
    /// The server's resident memory (kB) just before the syncs, its peak during them, and
    /// its peak before them (enrollment and seeding).
    pub rss_before_kb: u64,
    pub peak_kb: u64,
    pub peak_before_kb: u64,
    /// Whether the peak could be reset before the syncs (`/proc/PID/clear_refs`); if not,
    /// `peak_kb` is the peak of the whole process life.
    pub peak_reset: bool,
    /// The server's CPU time (user + system) during the syncs.
    pub server_cpu: Duration,
    pub load_before: String,
}

/// Every field tablet syncs its day at once; each is timed alone, and the wall time runs
/// from the first start to the last end.
pub fn timed_syncs(run: &mut CountyRun) -> Res<Timed> {
    let pid = run.server_pid();
    let peak_before_kb = status_kb(pid, "VmHWM")?;
    // "5" resets the peak resident set size to the current one (Linux 4.0+).
    let peak_reset = std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok();
    let rss_before_kb = status_kb(pid, "VmRSS")?;
    let cpu_before = cpu_time(pid)?;
    let load_before = load_average();
    let mut fields: Vec<_> = run.tablets_mut().collect();
    let barrier = Barrier::new(fields.len());
    let results: Vec<(Instant, Instant, TabletSync)> = std::thread::scope(|s| {
        let handles: Vec<_> = fields
            .iter_mut()
            .map(|field| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    let start = Instant::now();
                    let result = field.tablet.sync();
                    let end = Instant::now();
                    let (report, mut error) = match result {
                        Ok(report) => {
                            let error = check_clean(&report, "sync").err().map(|e| e.to_string());
                            (report, error)
                        }
                        Err(e) => (SyncReport::default(), Some(e.to_string())),
                    };
                    match field.tablet.store.unsynced_changes() {
                        Ok((0, _)) => {}
                        Ok((left, _)) => {
                            error.get_or_insert(format!("{left} changes left unsynced"));
                        }
                        Err(e) => {
                            error.get_or_insert(e.to_string());
                        }
                    }
                    let elapsed = end - start;
                    (
                        start,
                        end,
                        TabletSync {
                            elapsed,
                            report,
                            error,
                        },
                    )
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().map_err(|_| "a tablet thread panicked".into()))
            .collect::<Res<Vec<_>>>()
    })?;
    let first = results.iter().map(|r| r.0).min().ok_or("no tablets")?;
    let last = results.iter().map(|r| r.1).max().ok_or("no tablets")?;
    let peak_kb = status_kb(pid, "VmHWM")?;
    let server_cpu = cpu_time(pid)?.saturating_sub(cpu_before);
    Ok(Timed {
        wall: last - first,
        tablets: results.into_iter().map(|r| r.2).collect(),
        rss_before_kb,
        peak_kb,
        peak_before_kb,
        peak_reset,
        server_cpu,
        load_before,
    })
}

/// What the server holds of the tablets' work, read from its database and attachment folder
/// after the syncs.
#[derive(Default)]
pub struct Verified {
    pub households: u64,
    pub households_lost: u64,
    pub changes: u64,
    pub changes_lost: u64,
    pub feed_rows: u64,
    pub photos: u64,
    pub photos_lost: u64,
}

impl Verified {
    pub fn lost(&self) -> u64 {
        self.households_lost + self.changes_lost + self.photos_lost
    }
}

/// Every household each field tablet created, every change it holds for them (its own
/// writes, the imported co-signatures and anything pulled) and every photo it attached must
/// be on the server: in the `households` table, in the change feed, and as a file in
/// `attachments/` that opens with the server's key into bytes hashing to its name.
pub fn verify(run: &mut CountyRun) -> Res<Verified> {
    let data = run.data_dir();
    let (feed, feed_rows) = server_feed(&data);
    let attachments = sync_server::attachments::files::AttachmentFiles::inspect(&data)?;
    let conn = sync_server::storage::ServerStorage::inspect(&data)?;
    let households: BTreeSet<String> = conn
        .prepare("SELECT id FROM households")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut v = Verified {
        feed_rows: feed_rows as u64,
        ..Verified::default()
    };
    for field in run.tablets_mut() {
        for id in &field.households {
            v.households += 1;
            if !households.contains(id) {
                v.households_lost += 1;
            }
            for bytes in field.tablet.store.changes_since(id, &[])? {
                v.changes += 1;
                if !feed.contains(Change::from_bytes(bytes)?.hash().0.as_slice()) {
                    v.changes_lost += 1;
                }
            }
        }
        for hash in &field.photos {
            v.photos += 1;
            // Opened with the server's key and checked against the hash.
            if !matches!(attachments.read(&hash.0), Ok(Some(_))) {
                v.photos_lost += 1;
            }
        }
    }
    Ok(v)
}

/// A `kB` line of `/proc/PID/status`.
fn status_kb(pid: u32, key: &str) -> Res<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("no {key} in /proc/{pid}/status").into())
}

/// User + system CPU time of a process (`/proc/PID/stat`, in USER_HZ = 100 ticks a second).
fn cpu_time(pid: u32) -> Res<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')').ok_or("malformed stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line; `rest` starts at field 3.
    let ticks: u64 = fields
        .get(11..13)
        .ok_or("short stat")?
        .iter()
        .map(|f| f.parse::<u64>().unwrap_or(0))
        .sum();
    Ok(Duration::from_millis(ticks * 10))
}

/// The 1-, 5- and 15-minute load averages, to judge how busy the cores were.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}
