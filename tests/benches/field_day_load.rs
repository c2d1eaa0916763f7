//! Field-day load run (issue 6). The workload and the figures are in
//! `docs/benchmarks/field-day-load.md`; keep the two in step.
//!
//! CI size:   `cargo bench -p ruhu-tests --bench field_day_load -- --tablets 10,40`
//! Full size: `cargo bench -p ruhu-tests --bench field_day_load -- --tablets 50,200`
//!
//! For each size, a fresh county: the sync server in its own process (`county_server`,
//! embedded SQLite, loopback) and N field tablets — each a case handler with its own
//! encrypted store and certificate, two tablets per village, six per township — that come
//! back with a day's work: 5 households visited, each visit sealed with its photos and
//! signed by the case handler, the township leader and the village cadre (co-signatures
//! exchanged over QR and imported, as in the sync benchmark), 15 care-log entries and 3
//! profile edits. Enrollment, seeding and the day's work are untimed; then every tablet
//! syncs at once, each on its own thread. Afterwards the server's database and attachment
//! folder are checked for every household, change and photo of every tablet. One report
//! puts the sizes side by side; the run fails if any sync erred or anything was lost.
#![allow(missing_debug_implementations)]

#[path = "field_day_load/county.rs"]
mod county;
#[path = "field_day_load/measure.rs"]
mod measure;

use std::path::Path;
use std::time::Duration;

use county::{
    CountyRun, CARE_ENTRIES_PER_HOUSEHOLD, HOUSEHOLDS_PER_TABLET, PHOTOS_PER_VISIT, PHOTO_BYTES,
    PROFILE_EDITS, TABLETS_PER_TOWNSHIP, TABLETS_PER_VILLAGE,
};
use measure::{Timed, Verified};

pub type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// `--tablets 10,40`: the sizes, run one after the other.
fn sizes(args: &[String]) -> Res<Vec<usize>> {
    let list = args
        .iter()
        .position(|a| a == "--tablets")
        .and_then(|i| args.get(i + 1))
        .map_or("10,40", String::as_str);
    list.split(',')
        .map(|n| match n.trim().parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!("--tablets {list}: a comma-separated list of counts above 0").into()),
        })
        .collect()
}

/// One size's figures.
struct Run {
    tablets: usize,
    townships: usize,
    villages: usize,
    setup: Duration,
    seed: Duration,
    day: Duration,
    day_changes: u64,
    timed: Timed,
    verified: Verified,
}

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    let sizes = sizes(&args)?;
    let server = Path::new(env!("CARGO_BIN_EXE_county_server"));
    println!(
        "field_day_load: {} field tablets syncing a day's work at once against one sync server \
         process (embedded SQLite, loopback); {} cores, load average {}",
        sizes
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" then "),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        measure::load_average()
    );
    let mut runs = Vec::new();
    for &n in &sizes {
        runs.push(run(server, n)?);
    }
    report(&runs);
    let errors: usize = runs.iter().map(|r| errors(&r.timed)).sum();
    let lost: u64 = runs.iter().map(|r| r.verified.lost()).sum();
    if errors > 0 || lost > 0 {
        for r in &runs {
            for (i, t) in r.timed.tablets.iter().enumerate() {
                if let Some(e) = &t.error {
                    eprintln!("  {} tablets: tablet {i}: {e}", r.tablets);
                }
            }
        }
        return Err(format!("{errors} sync errors and {lost} lost records").into());
    }
    Ok(())
}

fn run(server: &Path, tablets: usize) -> Res<Run> {
    eprintln!("[{tablets} tablets] enrolling and starting the server process ...");
    let mut county = CountyRun::start(server, tablets)?;
    eprintln!(
        "[{tablets} tablets] seeding ({:.1} s so far) ...",
        county.setup.as_secs_f64()
    );
    county.seed()?;
    eprintln!(
        "[{tablets} tablets] the day's work on the tablets ({:.1} s seeding) ...",
        county.seed.as_secs_f64()
    );
    county.day_of_work()?;
    eprintln!(
        "[{tablets} tablets] {} changes written in {:.1} s; all tablets sync at once ...",
        county.day_changes,
        county.day.as_secs_f64()
    );
    let timed = measure::timed_syncs(&mut county)?;
    let verified = measure::verify(&mut county)?;
    let villages = county
        .tablets()
        .map(|f| f.village.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    Ok(Run {
        tablets,
        townships: county.townships.len(),
        villages,
        setup: county.setup,
        seed: county.seed,
        day: county.day,
        day_changes: county.day_changes,
        timed,
        verified,
    })
}

fn errors(timed: &Timed) -> usize {
    timed.tablets.iter().filter(|t| t.error.is_some()).count()
}

/// Nearest-rank percentile of the per-tablet sync times.
fn percentile(timed: &Timed, p: f64) -> Duration {
    let mut times: Vec<Duration> = timed.tablets.iter().map(|t| t.elapsed).collect();
    times.sort();
    let rank = ((p * times.len() as f64).ceil() as usize).clamp(1, times.len().max(1));
    times.get(rank - 1).copied().unwrap_or_default()
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

fn mib_kb(kb: u64) -> String {
    format!("{:.1} MiB", kb as f64 / 1024.0)
}

fn report(runs: &[Run]) {
    println!();
    println!(
        "day's work per tablet: {HOUSEHOLDS_PER_TABLET} households, each with 1 visit (6 \
         changes: started, answers, sealed, 3 signatures — leader and cadre co-signed over QR), \
         {} care-log entries in all ({CARE_ENTRIES_PER_HOUSEHOLD} per household), \
         {PROFILE_EDITS} profile edits",
        HOUSEHOLDS_PER_TABLET * CARE_ENTRIES_PER_HOUSEHOLD
    );
    println!(
        "photos: {PHOTOS_PER_VISIT} per visit, {PHOTO_BYTES} bytes each (incompressible), \
         uploaded by the sync before the push that references them"
    );
    println!(
        "tablets: {TABLETS_PER_VILLAGE} per village (both hold the village's households), \
         {TABLETS_PER_TOWNSHIP} per township"
    );
    println!();
    let mut rows: Vec<(&str, Vec<String>)> = Vec::new();
    let mut row = |name: &'static str, f: &dyn Fn(&Run) -> String| {
        rows.push((name, runs.iter().map(f).collect()));
    };
    row("field tablets syncing at once", &|r| r.tablets.to_string());
    row("townships / villages", &|r| {
        format!("{} / {}", r.townships, r.villages)
    });
    row("prep (untimed): enroll / seed / day", &|r| {
        format!(
            "{:.0} / {:.0} / {:.0} s",
            r.setup.as_secs_f64(),
            r.seed.as_secs_f64(),
            r.day.as_secs_f64()
        )
    });
    row("changes written for the day", &|r| {
        r.day_changes.to_string()
    });
    row("load average before the syncs", &|r| {
        r.timed.load_before.clone()
    });
    let sum = |r: &Run, f: &dyn Fn(&ruhu_core::sync::client::SyncReport) -> u64| -> u64 {
        r.timed.tablets.iter().map(|t| f(&t.report)).sum()
    };
    row("households pushed", &|r| {
        (r.tablets * HOUSEHOLDS_PER_TABLET).to_string()
    });
    row("changes pushed / pulled", &|r| {
        format!(
            "{} / {}",
            sum(r, &|s| s.pushed_changes),
            sum(r, &|s| s.pulled_changes)
        )
    });
    row("photos uploaded / fetched", &|r| {
        format!(
            "{} / {}",
            sum(r, &|s| s.attachments_uploaded),
            sum(r, &|s| s.attachments_fetched)
        )
    });
    row("HTTP round trips", &|r| {
        sum(r, &|s| u64::from(s.round_trips)).to_string()
    });
    row("bodies up / down", &|r| {
        format!(
            "{:.2} / {:.2} MB",
            mb(sum(r, &|s| s.bytes_sent)),
            mb(sum(r, &|s| s.bytes_received))
        )
    });
    row("wall time (first start to last end)", &|r| {
        format!("{:.2} s", r.timed.wall.as_secs_f64())
    });
    row("throughput: households/s", &|r| {
        format!(
            "{:.1}",
            (r.tablets * HOUSEHOLDS_PER_TABLET) as f64 / r.timed.wall.as_secs_f64()
        )
    });
    row("throughput: MB/s (bodies up + down)", &|r| {
        format!(
            "{:.2}",
            mb(sum(r, &|s| s.bytes_sent + s.bytes_received)) / r.timed.wall.as_secs_f64()
        )
    });
    for (name, p) in [
        ("per-tablet sync p50", 0.50),
        ("per-tablet sync p99", 0.99),
        ("per-tablet sync max", 1.0),
    ] {
        row(name, &move |r| {
            format!("{:.0} ms", percentile(&r.timed, p).as_secs_f64() * 1e3)
        });
    }
    row("server peak RSS during the syncs", &|r| {
        let peak = mib_kb(r.timed.peak_kb);
        if r.timed.peak_reset {
            peak
        } else {
            format!("{peak} (whole life)")
        }
    });
    row("server RSS before / peak before", &|r| {
        format!(
            "{} / {}",
            mib_kb(r.timed.rss_before_kb),
            mib_kb(r.timed.peak_before_kb)
        )
    });
    row("server CPU during the syncs", &|r| {
        format!("{:.1} s", r.timed.server_cpu.as_secs_f64())
    });
    row("ERRORS (tablets)", &|r| errors(&r.timed).to_string());
    row("LOST: households", &|r| {
        format!(
            "{} of {}",
            r.verified.households_lost, r.verified.households
        )
    });
    row("LOST: changes", &|r| {
        format!(
            "{} of {} (feed rows {})",
            r.verified.changes_lost, r.verified.changes, r.verified.feed_rows
        )
    });
    row("LOST: photos", &|r| {
        format!("{} of {}", r.verified.photos_lost, r.verified.photos)
    });
    let width = rows
        .iter()
        .map(|(n, _)| n.chars().count())
        .max()
        .unwrap_or(0);
    let col = rows
        .iter()
        .flat_map(|(_, v)| v.iter().map(|s| s.chars().count()))
        .max()
        .unwrap_or(0)
        .max(12);
    print!("{:width$}", "");
    for r in runs {
        print!("  {:>col$}", format!("{} tablets", r.tablets));
    }
    println!();
    for (name, values) in rows {
        print!("{name:width$}");
        for v in values {
            print!("  {v:>col$}");
        }
        println!();
    }
}
