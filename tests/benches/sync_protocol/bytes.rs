//! Where the bytes of (a) go, and what compression would change (diagnostics, not what the
//! protocol sends today).

use super::*;

/// The day's changes of one household, in the order they are written.
pub(crate) const DAY_CHANGES: [&str; 11] = [
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

pub(crate) struct Bytes {
    /// Per position of DAY_CHANGES: count, raw bytes, Automerge-deflated bytes.
    pub(crate) by_kind: Option<Vec<(u64, u64, u64)>>,
    /// Sum over the pushed changes of Automerge's own compressed form (`Change::bytes()`).
    pub(crate) automerge_compressed: u64,
    /// The request messages before the compressed envelope.
    pub(crate) encoded: u64,
    /// The request bodies as sent.
    pub(crate) body: u64,
}

impl Bytes {
    pub(crate) fn of(ours: &Measured) -> Res<Self> {
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

    pub(crate) fn print(&self, ours: &Measured, naive: &Naive) {
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
