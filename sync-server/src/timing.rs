//! Where a sync request's server time goes, phase by phase: sent back in the standard
//! `Server-Timing` response header (durations only, no data) and logged at debug level.

use std::time::{Duration, Instant};

/// The phases of one request, in the order they ran.
#[derive(Debug, Default, Clone)]
pub struct ServerTiming {
    phases: Vec<(&'static str, Duration)>,
}

impl ServerTiming {
    /// Runs `work` as phase `name` (a token: letters, digits, `_`).
    pub fn time<T>(&mut self, name: &'static str, work: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let out = work();
        self.record(name, start.elapsed());
        out
    }

    /// Adds `elapsed` to phase `name`.
    pub fn record(&mut self, name: &'static str, elapsed: Duration) {
        match self.phases.iter_mut().find(|(n, _)| *n == name) {
            Some((_, d)) => *d += elapsed,
            None => self.phases.push((name, elapsed)),
        }
    }

    /// The `Server-Timing` header value: `validate;dur=812.4, commit;dur=301.0`.
    pub fn header(&self) -> String {
        self.phases
            .iter()
            .map(|(name, d)| format!("{name};dur={:.1}", d.as_secs_f64() * 1000.0))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_add_up_in_order() {
        let mut t = ServerTiming::default();
        t.record("validate", Duration::from_micros(1500));
        t.record("commit", Duration::from_millis(2));
        t.record("validate", Duration::from_micros(500));
        assert_eq!(t.header(), "validate;dur=2.0, commit;dur=2.0");
        let v = t.time("pull", || 7);
        assert_eq!(v, 7);
        assert!(t
            .header()
            .starts_with("validate;dur=2.0, commit;dur=2.0, pull;dur="));
    }
}
