//! The report.

use super::*;

pub(crate) fn verdict(met: bool) -> &'static str {
    if met {
        "PASS"
    } else {
        "MISS"
    }
}

pub(crate) fn kb(bytes: u64) -> String {
    format!("{:.1} KB", bytes as f64 / 1000.0)
}

pub(crate) fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

pub(crate) fn report(
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
    if !s.server_phases.is_empty() {
        println!("  the server's phases (its Server-Timing headers):");
        for (name, d) in &s.server_phases {
            println!(
                "    {:>9.1} ms  {:>5.1}%  {name}",
                d,
                100.0 * d / 1000.0 / total
            );
        }
    }
    println!(
        "  (not in the sync) Ed25519 signatures of the {} pushed changes, made at write time by \
         the store: {} ({:.1} us each)",
        signing.0,
        ms(signing.1),
        signing.1.as_secs_f64() * 1e6 / signing.0.max(1) as f64
    );
}
