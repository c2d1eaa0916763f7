//! Measurements.

use super::*;

pub(crate) struct Measured {
    pub(crate) report: SyncReport,
    pub(crate) elapsed: Duration,
    pub(crate) wire_up: u64,
    pub(crate) wire_down: u64,
    pub(crate) raw_bytes: u64,
    pub(crate) pushed: Vec<ruhu_core::sync::HouseholdChanges>,
    pub(crate) request_bodies: Vec<Vec<u8>>,
    pub(crate) split: Split,
}

impl Measured {
    pub(crate) fn wire(&self) -> u64 {
        self.wire_up + self.wire_down
    }
    pub(crate) fn bodies(&self) -> u64 {
        self.report.bytes_sent + self.report.bytes_received
    }
}

pub(crate) struct Naive {
    pub(crate) doc_bytes: u64,
    pub(crate) wire_up: u64,
    pub(crate) wire_down: u64,
    pub(crate) load: Duration,
    pub(crate) save: Duration,
    pub(crate) transfer: Duration,
    pub(crate) merge: Duration,
}

impl Naive {
    pub(crate) fn wire(&self) -> u64 {
        self.wire_up + self.wire_down
    }
    pub(crate) fn elapsed(&self) -> Duration {
        self.load + self.save + self.transfer + self.merge
    }
}

/// Where one sync's wall time went.
#[derive(Default)]
pub(crate) struct Split {
    /// Before the first request: queued changes and signatures read from the store, encoded,
    /// the request signed.
    pub(crate) client_before: Duration,
    /// Between round trips and after the last response: decode, acknowledge the push, ingest
    /// pulled changes, store the cursor.
    pub(crate) client_after: Duration,
    /// Request bytes on the way (from the transport call to the proxy's last request byte).
    pub(crate) upload: Duration,
    /// Last request byte to first response byte, seen at the proxy: the server's work.
    pub(crate) server: Duration,
    /// First response byte to the transport call's return.
    pub(crate) download: Duration,
    /// The server's own phases (its `Server-Timing` headers), summed over the round trips.
    pub(crate) server_phases: Vec<(String, f64)>,
}

impl Split {
    pub(crate) fn of(start: Instant, end: Instant, calls: &[Call], proxy: &ProxySnapshot) -> Self {
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
        for header in &proxy.server_timings {
            for (name, ms) in header.split(',').filter_map(|p| {
                let (name, dur) = p.trim().split_once(";dur=")?;
                Some((name.to_owned(), dur.parse::<f64>().ok()?))
            }) {
                match split.server_phases.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, total)) => *total += ms,
                    None => split.server_phases.push((name, ms)),
                }
            }
        }
        split
    }
}

pub(crate) struct Call {
    pub(crate) path: String,
    pub(crate) start: Instant,
    pub(crate) end: Instant,
    pub(crate) body: Vec<u8>,
}

/// The plain HTTP transport, with the start and end of every call recorded.
pub(crate) struct Timed {
    pub(crate) inner: HttpTransport,
    pub(crate) calls: Mutex<Vec<Call>>,
}

impl Timed {
    pub(crate) fn new(url: &str) -> Self {
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
