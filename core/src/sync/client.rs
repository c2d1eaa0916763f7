//! The tablet's side of a sync: push what the server lacks, pull what the tablet lacks, in
//! one round trip when nothing else is needed (a newer county configuration adds one; more
//! than `pull_limit_bytes` waiting adds bounded pages, each resumable).
//!
//! The transport is an interface: apps pass the platform's networking (certificate pinning,
//! proxies); [`HttpTransport`] is the plain-HTTP client for desktop tools and loopback tests.

use std::time::Duration;

use chrono::Utc;

use super::messages::{OutcomeKind, SyncRequest, SyncResponse, PROTOCOL_VERSION};
use super::signatures::RequestAuth;
use super::SignedCountyConfig;
use super::{attachments, envelope};
use crate::error::{Error, Result};
use crate::signing::revocation::RevocationReason;
use crate::store::{Store, SyncCursor};

/// An HTTP response as the sync client needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

/// How the tablet reaches the server.
pub trait Transport: Send + Sync {
    /// Sends one request; `Err` only when no HTTP response arrived (the text says why).
    fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> std::result::Result<HttpResponse, String>;
}

/// Largest response message accepted (after inflating).
pub const MAX_RESPONSE_BYTES: usize = 256 << 20;

/// Settings of a sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncSettings {
    /// This app's version, checked against the county's minimum.
    pub app_version: String,
    /// Most change bytes one response may carry.
    pub pull_limit_bytes: u64,
    /// Most change bytes one request may carry.
    pub push_limit_bytes: usize,
    /// Stop after this many round trips (the next sync resumes from the stored cursor).
    pub max_round_trips: u32,
    /// Send requests compressed (see [`envelope`]); the server then compresses its answer.
    pub compress: bool,
    /// Attachment bytes per upload request (an upload cut off resumes from the last chunk the
    /// server acknowledged).
    pub attachment_chunk_bytes: usize,
}

impl Default for SyncSettings {
    fn default() -> Self {
        Self {
            app_version: env!("CARGO_PKG_VERSION").to_owned(),
            pull_limit_bytes: 8 << 20,
            push_limit_bytes: 8 << 20,
            max_round_trips: 64,
            compress: true,
            attachment_chunk_bytes: 1 << 20,
        }
    }
}

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub round_trips: u32,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub pushed_changes: u64,
    pub pulled_changes: u64,
    /// Pulled changes this tablet's own checks refused (should be none).
    pub refused_pulled: u64,
    /// Households the server rejected, held or flagged in this sync.
    pub not_accepted: Vec<(String, String, String)>,
    pub reset: bool,
    pub config_serial: u64,
    /// The worker left the post: the final push went through and the tablet erased its data.
    pub erased: bool,
    /// Attachments uploaded in full in this sync, and the attachment bytes sent.
    pub attachments_uploaded: u64,
    pub attachment_bytes_sent: u64,
    /// Attachments fetched for pulled visits, and those the server could not give now.
    pub attachments_fetched: u64,
    pub attachments_unavailable: u64,
}

pub(super) fn sync_error(code: &str, detail: impl Into<String>, retry: Option<u32>) -> Error {
    Error::Sync {
        code: code.to_owned(),
        detail: detail.into(),
        retry_after_seconds: retry,
    }
}

/// Pushes and pulls until the tablet and the server hold the same changes for its scope.
pub fn sync(
    store: &mut Store,
    transport: &dyn Transport,
    settings: &SyncSettings,
) -> Result<SyncReport> {
    let mut report = SyncReport::default();
    // Attachments first: the server holds changes whose sealed visits list bytes it lacks.
    attachments::upload_pending(store, transport, settings, &mut report)?;
    let mut push = store.pending_push(settings.push_limit_bytes)?;
    let inputs = store.ingest_inputs()?;
    let mut inputs_serial = store.config_serial()?;
    let mut inputs = inputs;
    loop {
        if report.round_trips >= settings.max_round_trips {
            break;
        }
        let cursor = store.sync_cursor()?;
        let request = SyncRequest {
            app_version: settings.app_version.clone(),
            config_serial: store.config_serial()?,
            cursor: cursor.as_ref().map(|c| c.cursor),
            cursor_villages: cursor.map(|c| c.villages).unwrap_or_default(),
            push: push.clone(),
            pull_limit_bytes: settings.pull_limit_bytes,
        };
        let body = envelope::seal(request.encode(), settings.compress);
        let response = send(store, transport, "POST", "/v1/sync", &body, &mut report)?;
        let response = envelope::open(&response, MAX_RESPONSE_BYTES)
            .and_then(|message| SyncResponse::decode(&message))
            .map_err(|e| sync_error("sync.bad_response", e.to_string(), Some(60)))?;
        report.pushed_changes += push.iter().map(|g| g.changes.len() as u64).sum::<u64>();
        store.acknowledge_push(&push, &response.outcomes)?;
        for o in &response.outcomes {
            if o.code == "sync.missing_attachments" {
                store.requeue_attachments(&o.household_id)?;
            }
            let kind = match o.kind {
                OutcomeKind::Rejected => "rejected",
                OutcomeKind::Held => "held",
                OutcomeKind::Flagged => "flagged",
            };
            report
                .not_accepted
                .push((o.household_id.clone(), kind.to_owned(), o.code.clone()));
        }
        if response.reset {
            report.reset = true;
            store.reset_sync()?;
        }
        if response.config_serial > store.config_serial()? {
            let config = send(store, transport, "GET", "/v1/config", &[], &mut report)?;
            let signed: SignedCountyConfig = serde_json::from_slice(&config)
                .map_err(|e| sync_error("sync.bad_response", e.to_string(), Some(60)))?;
            store.install_county_config(&signed, Utc::now())?;
        }
        if store.config_serial()? != inputs_serial {
            inputs = store.ingest_inputs()?;
            inputs_serial = store.config_serial()?;
        }
        let now = Utc::now();
        for group in response.pulled {
            report.pulled_changes += group.changes.len() as u64;
            let result = store.ingest_signed(&inputs, group, now)?;
            report.refused_pulled +=
                result.refused.len() as u64 + u64::from(result.rejection.is_some());
        }
        // The cursor advances only now that everything it covers is durable.
        store.set_sync_cursor(&SyncCursor {
            cursor: response.cursor,
            villages: response.cursor_villages,
        })?;
        push = store.pending_push(settings.push_limit_bytes)?;
        let pushable_left = push.iter().any(|g| {
            !report
                .not_accepted
                .iter()
                .any(|(id, _, _)| *id == g.household_id)
        });
        if !response.more && !pushable_left {
            break;
        }
        if !pushable_left {
            push.clear();
        }
    }
    attachments::fetch_wanted(store, transport, &mut report)?;
    report.config_serial = store.config_serial()?;
    report.erased = erase_if_left_post(store)?;
    Ok(report)
}

/// A worker who was transferred or retired (their certificate is revoked as `left_post`) gets
/// a final push of unsynced work; once nothing is left unsynced, the tablet erases its data.
fn erase_if_left_post(store: &mut Store) -> Result<bool> {
    let Some(hash) = store.signing_identity().map(|i| i.certificate_hash) else {
        return Ok(false);
    };
    let left = store.trust()?.revocations.is_some_and(|list| {
        list.entries
            .iter()
            .any(|r| r.certificate_hash == hash && r.reason == RevocationReason::LeftPost)
    });
    if left && store.unsynced_changes()?.0 == 0 {
        store.erase_all()?;
        return Ok(true);
    }
    Ok(false)
}

/// Fetches and installs the county configuration (enrollment, or when told it is newer).
pub fn fetch_config(store: &mut Store, transport: &dyn Transport) -> Result<u64> {
    let mut report = SyncReport::default();
    let config = send(store, transport, "GET", "/v1/config", &[], &mut report)?;
    let signed: SignedCountyConfig = serde_json::from_slice(&config)
        .map_err(|e| sync_error("sync.bad_response", e.to_string(), Some(60)))?;
    store.install_county_config(&signed, Utc::now())
}

pub(super) fn send(
    store: &mut Store,
    transport: &dyn Transport,
    method: &str,
    path: &str,
    body: &[u8],
    report: &mut SyncReport,
) -> Result<Vec<u8>> {
    let identity = store.signing_identity().ok_or_else(|| {
        sync_error(
            "sync.not_enrolled",
            "set the signing identity (enrollment) first",
            None,
        )
    })?;
    let auth = RequestAuth::sign(
        &identity.signer,
        identity.certificate_hash,
        method,
        path,
        body,
        Utc::now().timestamp(),
    )
    .ok_or_else(|| sync_error("sync.no_randomness", "no system randomness", None))?;
    let headers = [
        ("Ruhu-Auth", auth.to_header()),
        ("Ruhu-Protocol", PROTOCOL_VERSION.to_string()),
        ("Content-Type", "application/octet-stream".to_owned()),
    ];
    report.round_trips += 1;
    report.bytes_sent += body.len() as u64;
    let response = transport
        .request(method, path, &headers, body)
        .map_err(|why| sync_error("sync.unreachable", why, Some(30)))?;
    report.bytes_received += response.body.len() as u64;
    if response.status == 200 {
        return Ok(response.body);
    }
    let json: serde_json::Value = serde_json::from_slice(&response.body).unwrap_or_default();
    let code = json["code"]
        .as_str()
        .unwrap_or("sync.http_error")
        .to_owned();
    let detail = json["detail"]
        .as_str()
        .map_or_else(|| format!("HTTP {}", response.status), str::to_owned);
    if json["erase"].as_bool() == Some(true) {
        store.erase_all()?;
    }
    let retry = match response.status {
        500..=599 | 408 | 429 => Some(30),
        _ => None,
    };
    Err(Error::Sync {
        code,
        detail,
        retry_after_seconds: retry,
    })
}

/// Plain HTTP to a base URL such as `http://127.0.0.1:8707` (desktop tools and loopback tests;
/// tablets pass their platform's TLS networking as a [`Transport`]).
#[derive(Debug)]
pub struct HttpTransport {
    base: String,
    agent: ureq::Agent,
}

impl HttpTransport {
    pub fn new(base_url: &str) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .build();
        Self {
            base: base_url.trim_end_matches('/').to_owned(),
            agent: ureq::Agent::new_with_config(config),
        }
    }
}

impl Transport for HttpTransport {
    fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> std::result::Result<HttpResponse, String> {
        let url = format!("{}{path}", self.base);
        let result = match method {
            "GET" => {
                let mut req = self.agent.get(&url);
                for (k, v) in headers {
                    req = req.header(*k, v.as_str());
                }
                req.call()
            }
            _ => {
                let mut req = self.agent.post(&url);
                for (k, v) in headers {
                    req = req.header(*k, v.as_str());
                }
                req.send(body)
            }
        };
        let mut response = result.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(256 << 20)
            .read_to_vec()
            .map_err(|e| e.to_string())?;
        Ok(HttpResponse { status, body })
    }
}
