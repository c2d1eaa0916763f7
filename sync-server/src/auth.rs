//! Request authentication: the `Ruhu-Auth` header, checked against the sender's certificate
//! in the county configuration, the server's clock and the nonces already seen.

use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use ruhu_core::signing::certificate::{Role, WorkerCertificate};
use ruhu_core::sync::signatures::{RequestAuth, REQUEST_CLOCK_SKEW_SECONDS};

use crate::county::CountyState;
use crate::error::ApiError;
use crate::storage::FeedStore;

/// The request header carrying the signature.
pub const AUTH_HEADER: &str = "ruhu-auth";

/// An authenticated sender.
#[derive(Debug, Clone)]
pub struct Requester {
    pub certificate_hash: [u8; 32],
    pub certificate: WorkerCertificate,
}

impl Requester {
    /// Whether the sender may push: a certificate with a team role. A certificate whose only
    /// role is county supervisor reads its county but writes nothing (ADR 0007).
    pub fn may_push(&self) -> bool {
        self.certificate
            .roles
            .iter()
            .any(|r| *r != Role::CountySupervisor)
    }
}

/// Checks the request's signature, certificate, time and nonce (recording the nonce).
pub fn authenticate(
    store: &dyn FeedStore,
    county: &CountyState,
    headers: &HeaderMap,
    method: &str,
    path: &str,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<Requester, ApiError> {
    let header = headers
        .get(AUTH_HEADER)
        .ok_or_else(|| ApiError::unauthorized("auth.missing", "the Ruhu-Auth header is missing"))?;
    let auth = header
        .to_str()
        .ok()
        .and_then(RequestAuth::from_header)
        .ok_or_else(|| {
            ApiError::unauthorized("auth.malformed", "the Ruhu-Auth header cannot be read")
        })?;
    let certificate = county.certificates.get(&auth.signer).ok_or_else(|| {
        ApiError::unauthorized(
            "auth.unknown_certificate",
            "the signing certificate is not in the county configuration",
        )
    })?;
    if !auth.verify(method, path, body, &certificate.public_key) {
        return Err(ApiError::unauthorized(
            "auth.bad_signature",
            "the request signature does not verify",
        ));
    }
    if let Some(revocation) = county
        .trust
        .revocations
        .as_ref()
        .and_then(|list| list.is_revoked_at(&auth.signer, now))
    {
        let mut error = ApiError::new(
            StatusCode::FORBIDDEN,
            "auth.device_revoked",
            format!(
                "the certificate of {} was revoked from {}; erase this device's data",
                certificate.worker_id, revocation.effective_at
            ),
        );
        error.erase = true;
        return Err(error);
    }
    if !certificate.valid_at(now) {
        return Err(ApiError::unauthorized(
            "auth.certificate_not_valid",
            format!(
                "the certificate of {} is valid from {} until {}",
                certificate.worker_id, certificate.valid_from, certificate.valid_until
            ),
        ));
    }
    if (now.timestamp() - auth.timestamp).abs() > REQUEST_CLOCK_SKEW_SECONDS {
        return Err(ApiError::conflict(
            "auth.stale_request",
            format!(
                "the request time is more than {REQUEST_CLOCK_SKEW_SECONDS} s from the server's clock; check the device clock"
            ),
        ));
    }
    let fresh = store.remember_nonce(
        &auth.nonce,
        &auth.signer,
        auth.timestamp + REQUEST_CLOCK_SKEW_SECONDS,
        now.timestamp(),
    )?;
    if !fresh {
        return Err(ApiError::conflict(
            "auth.replayed_nonce",
            "this request nonce was already used",
        ));
    }
    Ok(Requester {
        certificate_hash: auth.signer,
        certificate: certificate.clone(),
    })
}
