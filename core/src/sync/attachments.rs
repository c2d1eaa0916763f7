//! The tablet's side of attachment sync: before a push, upload the attachments the server
//! lacks (one status request, then chunks from wherever the server stopped); after a pull,
//! fetch the attachments that pulled sealed visits reference. See `docs/sync-protocol.md` §8.

use serde_json::json;

use super::client::{send, sync_error, SyncReport, SyncSettings, Transport};
use crate::error::Result;
use crate::store::Store;
use crate::visit::content::ContentHash;

/// Most hashes asked about in one status request (the server's limit).
const STATUS_BATCH: usize = 10_000;

/// Uploads every attachment the server does not hold yet; returns how many completed now.
pub(super) fn upload_pending(
    store: &mut Store,
    transport: &dyn Transport,
    settings: &SyncSettings,
    report: &mut SyncReport,
) -> Result<u64> {
    let pending = store.pending_uploads()?;
    let mut uploaded = 0;
    for batch in pending.chunks(STATUS_BATCH) {
        let request = json!({"hashes": batch.iter().map(|p| p.hash.to_hex()).collect::<Vec<_>>()});
        let body = serde_json::to_vec(&request)
            .map_err(|e| sync_error("sync.bad_request", e.to_string(), None))?;
        let answer = send(
            store,
            transport,
            "POST",
            "/v1/attachments/status",
            &body,
            report,
        )?;
        let status: serde_json::Value = serde_json::from_slice(&answer)
            .map_err(|e| sync_error("sync.bad_response", e.to_string(), Some(60)))?;
        let held = status["attachments"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for p in batch {
            let entry = held
                .iter()
                .find(|e| e["hash"].as_str() == Some(p.hash.to_hex().as_str()));
            let complete = entry.is_some_and(|e| e["complete"].as_bool() == Some(true));
            let same_size = entry.is_some_and(|e| e["size"].as_u64() == Some(p.size));
            let mut offset = match entry {
                Some(e) if same_size => e["received"].as_u64().unwrap_or(0),
                _ => 0,
            };
            if !complete {
                let bytes = store.attachment(&p.hash)?;
                let chunk = settings.attachment_chunk_bytes.max(1);
                while offset < p.size {
                    let start = usize::try_from(offset)
                        .unwrap_or(usize::MAX)
                        .min(bytes.len());
                    let end = start.saturating_add(chunk).min(bytes.len());
                    let path = format!(
                        "/v1/attachments/{}?size={}&offset={offset}",
                        p.hash.to_hex(),
                        p.size
                    );
                    let answer = send(store, transport, "POST", &path, &bytes[start..end], report)?;
                    let progress: serde_json::Value = serde_json::from_slice(&answer)
                        .map_err(|e| sync_error("sync.bad_response", e.to_string(), Some(60)))?;
                    report.attachment_bytes_sent += (end - start) as u64;
                    let received = progress["received"].as_u64().unwrap_or(0);
                    if progress["complete"].as_bool() == Some(true) {
                        break;
                    }
                    if received <= offset {
                        return Err(sync_error(
                            "sync.bad_response",
                            "the server did not take the attachment chunk",
                            Some(60),
                        ));
                    }
                    offset = received;
                }
                uploaded += 1;
            }
            store.mark_uploaded(&p.hash)?;
        }
    }
    report.attachments_uploaded += uploaded;
    Ok(uploaded)
}

/// Fetches the referenced attachments this tablet lacks; returns how many it stored.
pub(super) fn fetch_wanted(
    store: &mut Store,
    transport: &dyn Transport,
    report: &mut SyncReport,
) -> Result<u64> {
    let mut fetched = 0;
    for (hash, household_id) in store.wanted_attachments()? {
        let path = format!("/v1/attachments/{}", hash.to_hex());
        let bytes = match send(store, transport, "GET", &path, &[], report) {
            Ok(bytes) => bytes,
            // Not on the server (yet), not in this worker's villages, or altered on the
            // server's disk: the rest of the sync goes on; the next sync asks again.
            Err(crate::error::Error::Sync { code, .. }) if code.starts_with("attachment.") => {
                report.attachments_unavailable += 1;
                continue;
            }
            Err(e) => return Err(e),
        };
        if ContentHash::of(&bytes) != hash {
            return Err(sync_error(
                "sync.bad_response",
                format!("attachment {} arrived altered", hash.to_hex()),
                Some(60),
            ));
        }
        store.store_received_attachment(&household_id, &hash, &bytes)?;
        fetched += 1;
    }
    report.attachments_fetched += fetched;
    Ok(fetched)
}
