//! **Desktop and test tooling ONLY. Never ship this in a tablet app.**
//!
//! `TestAuthority` plays the county authority in binding tests, so a Kotlin or Swift test can
//! certify the keys its tablets just made without leaving the JVM: it holds the authority's
//! private key in memory and issues worker certificates and revocation lists. A real county
//! authority key lives in the `county-authority` command's key file (sync-server crate), off
//! every tablet and off the server. Compiled only with the `test-support` feature (on by
//! default for desktop builds and CI); mobile release builds use `--no-default-features`.

use std::sync::{Arc, Mutex};

use chrono::{Duration, SubsecRound, Utc};
use ruhu_core::signing::certificate::{
    is_county_code, Role, Scope, SignedCertificate, WorkerCertificate, CERTIFICATE_FORMAT,
};
use ruhu_core::signing::keys::SigningKeyPair;
use ruhu_core::signing::revocation::{
    Revocation, RevocationList, RevocationReason, REVOCATION_FORMAT,
};
use ruhu_core::visit::VisitError;

use crate::error::FfiError;
use crate::records::code;
use crate::visit_records::{json, public_key, role};

/// A county authority for tests: an in-memory key pair that certifies and revokes.
#[derive(Debug, uniffi::Object)]
pub struct TestAuthority {
    county_code: String,
    pair: SigningKeyPair,
    /// Every revocation so far and the serial of the last list issued.
    revoked: Mutex<(Vec<Revocation>, u64)>,
}

fn json_text<T: serde::Serialize>(value: &T) -> Result<String, FfiError> {
    serde_json::to_string(value).map_err(|e| FfiError::Storage {
        code: "json".into(),
        detail: e.to_string(),
    })
}

#[uniffi::export]
impl TestAuthority {
    /// A fresh authority key for the 6-digit county `county_code`.
    #[uniffi::constructor]
    pub fn new(county_code: String) -> Result<Arc<Self>, FfiError> {
        if !is_county_code(&county_code) {
            return Err(FfiError::invalid(
                "county_code",
                "county_code",
                "not a 6-digit county code",
            ));
        }
        Ok(Arc::new(Self {
            county_code,
            pair: SigningKeyPair::generate().map_err(VisitError::Key)?,
            revoked: Mutex::new((Vec::new(), 0)),
        }))
    }

    /// The key id certificates name (`county-<county code>`).
    pub fn key_id(&self) -> String {
        format!("county-{}", self.county_code)
    }

    /// The authority's public key as hex (for `TabletStore.setAuthority`).
    pub fn public_key_hex(&self) -> String {
        self.pair.public_key().to_hex()
    }

    /// Certifies `public_key_hex` as `worker_id` in `roles` for `villages` (the whole county
    /// when empty), valid from a day ago for `valid_days` days. Returns the
    /// `SignedCertificate` JSON that `TabletStore.addCertificate` takes.
    pub fn certify(
        &self,
        worker_id: String,
        name: String,
        roles: Vec<String>,
        villages: Vec<String>,
        public_key_hex: String,
        valid_days: u32,
    ) -> Result<String, FfiError> {
        let now = Utc::now().trunc_subsecs(0);
        let roles = roles
            .iter()
            .enumerate()
            .map(|(i, r)| role(&format!("roles[{i}]"), r))
            .collect::<Result<Vec<Role>, _>>()?;
        let scope = if villages.is_empty() {
            Scope::County(self.county_code.clone())
        } else {
            Scope::Villages(villages)
        };
        let cert = WorkerCertificate {
            format: CERTIFICATE_FORMAT,
            worker_id,
            name,
            roles,
            scope,
            public_key: public_key("public_key_hex", &public_key_hex)?,
            valid_from: now - Duration::days(1),
            valid_until: now + Duration::days(i64::from(valid_days)),
            issued_at: now,
            authority_key_id: self.key_id(),
        }
        .sign(&self.pair)
        .map_err(VisitError::Certificate)?;
        json_text(&cert)
    }

    /// Revokes the certificate `cert_json` from `effective_at_unix` for `reason`
    /// (`key_compromised`, `device_lost`, `left_post`, `superseded`, `other`). Returns the
    /// whole signed revocation list, with the next serial, as the JSON that
    /// `TabletStore.setRevocations` takes.
    pub fn revoke(
        &self,
        cert_json: String,
        reason: String,
        effective_at_unix: i64,
    ) -> Result<String, FfiError> {
        let cert: SignedCertificate = json("cert_json", &cert_json)?;
        let body = cert
            .verify(&self.pair.public_key())
            .map_err(VisitError::Certificate)?;
        let reason: RevocationReason = code("reason", &reason)?;
        let effective_at = chrono::DateTime::from_timestamp(effective_at_unix, 0)
            .ok_or_else(|| FfiError::invalid("effective_at_unix", "time", "out of range"))?;
        let mut revoked = self.revoked.lock().map_err(|_| FfiError::Storage {
            code: "authority.poisoned".into(),
            detail: "an earlier call failed mid-way".into(),
        })?;
        revoked.0.push(Revocation {
            worker_id: body.worker_id,
            certificate_hash: cert.hash(),
            reason,
            effective_at,
        });
        revoked.1 += 1;
        let list = RevocationList {
            format: REVOCATION_FORMAT,
            county_code: self.county_code.clone(),
            serial: revoked.1,
            issued_at: Utc::now().trunc_subsecs(0),
            entries: revoked.0.clone(),
        }
        .sign(&self.pair)
        .map_err(VisitError::Revocation)?;
        json_text(&list)
    }
}
