//! The photos a care event names (task done, problem opened or rectified, leader visit):
//! attachments, stored once by hash, uploaded before the change that names them and fetched
//! by the tablets that pull it, as the photos of a sealed visit are (ADR 11).

use super::event::CareEvent;

impl CareEvent {
    /// The SHA-256 (hex) of every photo the event names.
    pub fn photo_hashes(&self) -> Vec<&str> {
        let list: &[String] = match self {
            CareEvent::TaskDone { photos, .. } | CareEvent::LeaderVisited { photos, .. } => photos,
            CareEvent::ProblemOpened { evidence, .. } => evidence,
            CareEvent::ProblemRectified { rectification, .. } => &rectification.evidence,
            _ => &[],
        };
        list.iter().map(String::as_str).collect()
    }
}
