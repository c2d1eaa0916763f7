//! Enrollment, sync with the county server (followed by a purge of synced households outside
//! the enrolled villages, ADR 9), what the server refused, rebase, and the local link between
//! tablets — on `TabletStore`.
//!
//! The transport is the app's: pass a `HostTransport` (platform networking, TLS with the
//! enrollment bundle's certificate pin, proxies). Without one, a plain-HTTP client is used,
//! which the core allows only for a loopback server (desktop tools and tests).

use std::fmt;
use std::sync::Arc;

use ruhu_core::signing::keys::WorkerSigner;
use ruhu_core::sync::client::{self, HttpResponse, HttpTransport, SyncSettings, Transport};
use ruhu_core::sync::enrollment::EnrollmentBundle;
use ruhu_core::sync::HouseholdChanges;

use crate::error::FfiError;
use crate::office::PurgeReportData;
use crate::records::{parse_heads, HouseholdView};
use crate::store::TabletStore;

/// One HTTP header.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpHeader {
    pub name: String,
    pub value: String,
}

/// An HTTP response as the app's transport returns it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpResponseData {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Why the app's transport got no HTTP response.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum TransportError {
    #[error("unreachable: {reason}")]
    Unreachable { reason: String },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for TransportError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        TransportError::Unreachable { reason: e.reason }
    }
}

/// Implemented by the app: sends one request to the enrolled server (base URL and TLS pin
/// from the enrollment bundle) and returns the response, whatever its status.
#[uniffi::export(with_foreign)]
pub trait HostTransport: Send + Sync + fmt::Debug {
    fn request(
        &self,
        method: String,
        path: String,
        headers: Vec<HttpHeader>,
        body: Vec<u8>,
    ) -> Result<HttpResponseData, TransportError>;
}

struct ForeignTransport(Arc<dyn HostTransport>);

impl Transport for ForeignTransport {
    fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> Result<HttpResponse, String> {
        let headers = headers
            .iter()
            .map(|(n, v)| HttpHeader {
                name: (*n).to_owned(),
                value: v.clone(),
            })
            .collect();
        self.0
            .request(method.to_owned(), path.to_owned(), headers, body.to_vec())
            .map(|r| HttpResponse {
                status: r.status,
                body: r.body,
            })
            .map_err(|e| e.to_string())
    }
}

/// What enrollment set up.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EnrollmentData {
    pub worker_id: String,
    pub county_code: String,
    pub server_url: String,
    /// SHA-256 (hex) of the server's TLS certificate for the app's transport to pin, or
    /// `loopback-plain`.
    pub server_tls_pin: String,
}

/// What one sync did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncReportData {
    pub round_trips: u32,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub pushed_changes: u64,
    pub pulled_changes: u64,
    /// Pulled changes this tablet's own checks refused (should be none).
    pub refused_pulled: u64,
    /// Households the server did not simply accept in this sync.
    pub not_accepted: Vec<HouseholdSyncStatusData>,
    pub reset: bool,
    pub config_serial: u64,
    /// The worker left the post: the final push went through and this tablet was erased.
    pub erased: bool,
    /// The purge that follows every successful sync (ADR 9): synced households outside the
    /// enrolled villages removed, others outside them kept with why. `None` when erased.
    pub purge: Option<PurgeReportData>,
    /// Attachments uploaded in full, attachment bytes sent, attachments fetched for pulled
    /// visits, and those the server could not give now (asked again next sync).
    pub attachments_uploaded: u64,
    pub attachment_bytes_sent: u64,
    pub attachments_fetched: u64,
    pub attachments_unavailable: u64,
}

/// A household the server rejected, held or flagged, with its reason.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HouseholdSyncStatusData {
    pub household_id: String,
    /// `rejected` (rebase it), `held` (retried automatically) or `flagged` (accepted; check it).
    pub kind: String,
    pub code: String,
    pub detail: String,
}

/// Local changes the server has not accepted yet.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct UnsyncedData {
    pub changes: u64,
    /// Device time of the oldest, Unix seconds.
    pub oldest_unix: Option<i64>,
}

/// What a rebase did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RebaseData {
    pub archived_changes: u64,
    pub replayed: bool,
}

#[uniffi::export]
impl TabletStore {
    /// Imports an enrollment bundle: trusts the county authority, records the server, and signs
    /// from now on with the device key `key_id` (created in the host key store if missing;
    /// the bundle's certificate must certify it).
    pub fn enroll(&self, bundle_json: String, key_id: String) -> Result<EnrollmentData, FfiError> {
        let bundle = EnrollmentBundle::parse(&bundle_json)?;
        let signer = WorkerSigner::open_or_create(&self.signing_keys(), &key_id)
            .map_err(ruhu_core::visit::VisitError::Key)?;
        let mut store = self.store()?;
        store.enroll(&bundle, signer)?;
        Ok(EnrollmentData {
            worker_id: store.worker_id().to_owned(),
            county_code: bundle.authority.county_code,
            server_url: bundle.server_url,
            server_tls_pin: bundle.server_tls_pin,
        })
    }

    /// After an app restart: sign again as the enrolled worker (false: never enrolled).
    pub fn resume_signing(&self) -> Result<bool, FfiError> {
        let keys = self.signing_keys();
        Ok(self.store()?.resume_signing(&keys)?)
    }

    /// Pushes this tablet's unsynced changes and pulls everyone else's in its villages.
    /// Blocking; call it off the main thread. `transport`: the app's networking; `None` uses
    /// the built-in plain-HTTP client (loopback servers only).
    pub fn sync(
        &self,
        app_version: String,
        transport: Option<Arc<dyn HostTransport>>,
    ) -> Result<SyncReportData, FfiError> {
        let mut store = self.store()?;
        let settings = SyncSettings {
            app_version,
            ..SyncSettings::default()
        };
        let report = match transport {
            Some(t) => client::sync(&mut store, &ForeignTransport(t), &settings)?,
            None => {
                let (url, pin) = store.server()?.ok_or_else(|| FfiError::NotPermitted {
                    code: "sync.not_enrolled".into(),
                    detail: "import an enrollment bundle first".into(),
                })?;
                if pin != "loopback-plain" {
                    return Err(FfiError::NotPermitted {
                        code: "sync.transport_required".into(),
                        detail: "this server needs TLS with its certificate pin: pass the app's transport".into(),
                    });
                }
                client::sync(&mut store, &HttpTransport::new(&url), &settings)?
            }
        };
        let purge = if report.erased {
            None
        } else {
            Some(store.purge_out_of_scope()?.into())
        };
        Ok(SyncReportData {
            round_trips: report.round_trips,
            bytes_sent: report.bytes_sent,
            bytes_received: report.bytes_received,
            pushed_changes: report.pushed_changes,
            pulled_changes: report.pulled_changes,
            refused_pulled: report.refused_pulled,
            not_accepted: report
                .not_accepted
                .into_iter()
                .map(|(household_id, kind, code)| HouseholdSyncStatusData {
                    household_id,
                    kind,
                    code,
                    detail: String::new(),
                })
                .collect(),
            reset: report.reset,
            config_serial: report.config_serial,
            erased: report.erased,
            purge,
            attachments_uploaded: report.attachments_uploaded,
            attachment_bytes_sent: report.attachment_bytes_sent,
            attachments_fetched: report.attachments_fetched,
            attachments_unavailable: report.attachments_unavailable,
        })
    }

    /// Households the server rejected, held or flagged, with its reasons.
    pub fn sync_statuses(&self) -> Result<Vec<HouseholdSyncStatusData>, FfiError> {
        Ok(self
            .store()?
            .household_sync_statuses()?
            .into_iter()
            .map(|s| HouseholdSyncStatusData {
                household_id: s.household_id,
                kind: s.kind,
                code: s.code,
                detail: s.detail,
            })
            .collect())
    }

    /// Local changes waiting for the server.
    pub fn unsynced_changes(&self) -> Result<UnsyncedData, FfiError> {
        let (changes, oldest_unix) = self.store()?.unsynced_changes()?;
        Ok(UnsyncedData {
            changes,
            oldest_unix,
        })
    }

    /// Replays this tablet's work on a rejected household over the server's state.
    pub fn rebase_household(&self, household_id: String) -> Result<RebaseData, FfiError> {
        let outcome = self.store()?.rebase_household(&household_id)?;
        Ok(RebaseData {
            archived_changes: outcome.archived_changes as u64,
            replayed: outcome.replayed,
        })
    }

    /// A household's signed changes not covered by `heads`, for a colleague's tablet over any
    /// local link (Bluetooth, Wi-Fi Direct, a cable).
    pub fn export_household(
        &self,
        household_id: String,
        heads: Vec<String>,
    ) -> Result<Vec<u8>, FfiError> {
        Ok(self
            .store()?
            .export_signed(&household_id, &parse_heads(&heads)?)?
            .encode())
    }

    /// Takes in a colleague's export, checked exactly as the server checks a push.
    pub fn import_household(&self, payload: Vec<u8>) -> Result<HouseholdView, FfiError> {
        let group = HouseholdChanges::decode(&payload).map_err(|e| FfiError::InvalidInput {
            code: e.code().into(),
            detail: e.to_string(),
            problems: Vec::new(),
        })?;
        let id = group.household_id.clone();
        let mut store = self.store()?;
        let inputs = store.ingest_inputs()?;
        let result = store.ingest_signed(&inputs, group, chrono::Utc::now())?;
        if let Some((code, detail)) = result.rejection {
            return Err(FfiError::SignatureProblem {
                code: code.into(),
                detail,
            });
        }
        if let Some(refused) = result.refused.first() {
            return Err(FfiError::SignatureProblem {
                code: refused.code.into(),
                detail: refused.detail.clone(),
            });
        }
        if result.held {
            return Err(FfiError::InvalidInput {
                code: "sync.missing_dependencies".into(),
                detail:
                    "the export depends on changes this tablet does not have; export from the start"
                        .into(),
                problems: Vec::new(),
            });
        }
        Ok(store.household(&id)?.into())
    }
}
