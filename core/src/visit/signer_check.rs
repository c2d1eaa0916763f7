//! The verdict on one signature entry: the certificate under the county authority key, the
//! signature under the certificate's key, the record it names, role, validity, village and
//! revocation, then the entry's key and the signer's place on the team.
//!
//! Verified certificates are cached (keyed by authority key, body hash and authority
//! signature), so verifying many visits checks each worker's certificate once; the checks,
//! their order and their verdicts are those of `signing::attestation`, the reference.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use crate::signing::attestation::{
    verify_with_certificate, Expected, RecordRef, SignatureVerdict, Trust, VerifiedSignature,
    VisitSignature,
};
use crate::signing::certificate::{SignedCertificate, WorkerCertificate};
use crate::signing::keys::SIGNATURE_LEN;
use crate::visit::content::{ContentHash, SealedContent};
use crate::visit::entry::{signature_key, SignatureEntry};
use crate::visit::verify::SignerVerdict;

/// The expected record of a signature on `content`.
pub fn expected_for(content: &SealedContent, content_hash: &ContentHash) -> Expected {
    Expected {
        record: RecordRef {
            household_id: content.household_id.clone(),
            visit_id: content.visit_id.clone(),
            revision: content.revision,
            content_hash: content_hash.0,
        },
        village_code: content.place.village_code.clone(),
    }
}

type CertCacheKey = ([u8; 32], [u8; 32], [u8; SIGNATURE_LEN]);

/// Certificates already verified, keyed by authority key, body hash and authority
/// signature: the same bytes under the same key always verify the same way, so checking
/// many visits verifies each worker's certificate once. Bounded; cleared when full.
fn verified_certificate(
    cert: &SignedCertificate,
    certificate_hash: [u8; 32],
    trust: &Trust,
) -> std::result::Result<WorkerCertificate, SignatureVerdict> {
    static CACHE: OnceLock<Mutex<HashMap<CertCacheKey, WorkerCertificate>>> = OnceLock::new();
    const CAPACITY: usize = 4096;
    let key = (trust.authority_key.0, certificate_hash, cert.signature);
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(hit) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return Ok(hit);
    }
    let verified = cert
        .verify(&trust.authority_key)
        .map_err(|e| SignatureVerdict::UnknownSigner(format!("certificate not accepted: {e}")))?;
    if let Ok(mut c) = cache.lock() {
        if c.len() >= CAPACITY {
            c.clear();
        }
        c.insert(key, verified.clone());
    }
    Ok(verified)
}

/// [`verify_signature`] with the certificate check cached (same checks, same order, same
/// verdicts: the rest is `signing::attestation::verify_with_certificate`).
fn verify_signature_cached(
    sig: &VisitSignature,
    cert: &SignedCertificate,
    trust: &Trust,
    expected: &Expected,
) -> std::result::Result<VerifiedSignature, SignatureVerdict> {
    let certificate_hash = cert.hash();
    let certificate = verified_certificate(cert, certificate_hash, trust)?;
    verify_with_certificate(sig, certificate, certificate_hash, trust, expected)
}

/// The verdict on one signature entry for `content` stored under `key`.
pub fn check_signer(
    key: &str,
    entry: &SignatureEntry,
    content: &SealedContent,
    content_hash: &ContentHash,
    trust: &Trust,
) -> (SignerVerdict, Option<String>) {
    let verified = match verify_signature_cached(
        &entry.signature,
        &entry.certificate,
        trust,
        &expected_for(content, content_hash),
    ) {
        Ok(v) => v,
        Err(v) => return (SignerVerdict::from_signature(v), None),
    };
    let p = &verified.payload;
    let name = Some(verified.certificate.name.clone());
    if key != signature_key(content_hash, &p.signer_worker_id, p.role) {
        return (
            SignerVerdict::Malformed("stored under a key that does not match the signature".into()),
            name,
        );
    }
    let verdict = match content.role_of(&p.signer_worker_id) {
        Some(role) if role == p.role => SignerVerdict::Valid,
        Some(team_role) => SignerVerdict::DuplicatePerson {
            worker_id: p.signer_worker_id.clone(),
            team_role,
        },
        None => SignerVerdict::NotOnTeam,
    };
    (verdict, name)
}
