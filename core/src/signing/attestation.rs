//! A team member's signature on one revision of a sealed home-visit record
//! ("whoever visits, signs": 谁入户、谁签字、谁负责).
//!
//! The signer's tablet signs the canonical JSON of a [`VisitSignaturePayload`]: a
//! context string, the household, visit, revision and SHA-256 of the sealed content,
//! and the signer's id, role and certificate hash. Each signature is a separate,
//! additive entry next to the immutable sealed content, so three tablets can sign
//! offline and a CRDT merge simply unites the signatures. Because the record's identity
//! and content hash are inside the signed bytes, a signature cannot be moved to another
//! household, visit, revision or content.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::signing::canonical::{from_canonical_bytes, to_canonical_bytes_of};
use crate::signing::certificate::{Role, SignedCertificate, WorkerCertificate};
use crate::signing::keys::{verify, PublicKey, WorkerSigner, SIGNATURE_LEN};
use crate::signing::revocation::RevocationList;
use crate::signing::wire::{check_identifier, whole_seconds};

pub use crate::signing::error::{SignError, SignatureVerdict};

/// The context string inside every visit-signature payload.
pub const VISIT_SIGNATURE_CONTEXT: &str = "ruhu/visit-signature/v1";
/// Largest accepted payload, in bytes.
pub const MAX_PAYLOAD_BYTES: usize = 4096;

/// Which record revision is signed: the household, the visit, the revision number and
/// the SHA-256 of the sealed content's canonical bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordRef {
    /// The household's id.
    pub household_id: String,
    /// The home visit's id.
    pub visit_id: String,
    /// Revision of the visit record; a correction is a new revision signed again.
    pub revision: u32,
    /// SHA-256 of the sealed content (canonical JSON) of this revision.
    pub content_hash: [u8; 32],
}

/// What the verifier knows independently of the signature: the record it is checking
/// and the village the household lives in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The record revision the signature must be for.
    pub record: RecordRef,
    /// 12-digit code of the household's village; the signer must be assigned to it.
    pub village_code: String,
}

/// The exact statement a team member signs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisitSignaturePayload {
    /// Always [`VISIT_SIGNATURE_CONTEXT`]; separates these signatures from any other use.
    pub context: String,
    /// The household's id.
    pub household_id: String,
    /// The home visit's id.
    pub visit_id: String,
    /// The record revision.
    pub revision: u32,
    /// SHA-256 of the sealed content, lowercase hex.
    #[serde(with = "crate::signing::wire::hex_bytes")]
    pub content_hash: [u8; 32],
    /// The signer's worker id (must equal the certificate's `worker_id`).
    pub signer_worker_id: String,
    /// The role the signer signs in (must be granted by the certificate).
    pub role: Role,
    /// SHA-256 of the signer's certificate body, lowercase hex.
    #[serde(with = "crate::signing::wire::hex_bytes")]
    pub certificate_hash: [u8; 32],
    /// When the signer signed, as claimed by their tablet clock (whole seconds, UTC).
    #[serde(with = "crate::signing::wire::timestamp")]
    pub signed_at: DateTime<Utc>,
}

impl VisitSignaturePayload {
    /// A payload for `record`, signed by the holder of `certificate` in `role` at
    /// `signed_at` (truncated to whole seconds).
    pub fn new(
        record: &RecordRef,
        certificate: &SignedCertificate,
        signer_worker_id: &str,
        role: Role,
        signed_at: DateTime<Utc>,
    ) -> Self {
        Self {
            context: VISIT_SIGNATURE_CONTEXT.to_owned(),
            household_id: record.household_id.clone(),
            visit_id: record.visit_id.clone(),
            revision: record.revision,
            content_hash: record.content_hash,
            signer_worker_id: signer_worker_id.to_owned(),
            role,
            certificate_hash: certificate.hash(),
            signed_at: whole_seconds(signed_at),
        }
    }

    /// The record revision this payload is about.
    pub fn record(&self) -> RecordRef {
        RecordRef {
            household_id: self.household_id.clone(),
            visit_id: self.visit_id.clone(),
            revision: self.revision,
            content_hash: self.content_hash,
        }
    }

    /// Checks the payload rules: the context string and the identifiers.
    pub fn validate(&self) -> Result<(), String> {
        if self.context != VISIT_SIGNATURE_CONTEXT {
            return Err(format!("context must be {VISIT_SIGNATURE_CONTEXT:?}"));
        }
        check_identifier("household_id", &self.household_id)?;
        check_identifier("visit_id", &self.visit_id)?;
        check_identifier("signer_worker_id", &self.signer_worker_id)
    }

    /// The canonical bytes that are signed.
    pub fn to_bytes(&self) -> Result<Vec<u8>, SignError> {
        self.validate().map_err(SignError::InvalidPayload)?;
        to_canonical_bytes_of(self).map_err(SignError::Encoding)
    }
}

/// One team member's signature, stored next to the sealed content: the exact signed
/// payload bytes and the Ed25519 signature over them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisitSignature {
    /// Canonical JSON of a [`VisitSignaturePayload`].
    #[serde(with = "crate::signing::wire::base64_bytes")]
    pub payload_bytes: Vec<u8>,
    /// The signer's signature over `payload_bytes`.
    #[serde(with = "crate::signing::wire::base64_signature")]
    pub signature: [u8; SIGNATURE_LEN],
}

impl VisitSignature {
    /// Decodes the payload WITHOUT checking the signature (for display and routing only).
    pub fn unverified_payload(&self) -> Result<VisitSignaturePayload, SignatureVerdict> {
        let payload: VisitSignaturePayload =
            from_canonical_bytes(&self.payload_bytes, MAX_PAYLOAD_BYTES)
                .map_err(|e| SignatureVerdict::MalformedPayload(e.to_string()))?;
        payload
            .validate()
            .map_err(SignatureVerdict::MalformedPayload)?;
        Ok(payload)
    }
}

/// Signs `payload` with the worker's tablet key.
pub fn sign_visit(
    signer: &WorkerSigner,
    payload: &VisitSignaturePayload,
) -> Result<VisitSignature, SignError> {
    let payload_bytes = payload.to_bytes()?;
    let signature = signer.sign(&payload_bytes);
    Ok(VisitSignature {
        payload_bytes,
        signature,
    })
}

/// What a verifier trusts: the county authority key and the revocation list in force
/// (already verified with [`crate::signing::revocation::SignedRevocationList::verify`]).
#[derive(Debug, Clone)]
pub struct Trust {
    /// Id of the authority key, as named in certificates.
    pub authority_key_id: String,
    /// The authority's public key.
    pub authority_key: PublicKey,
    /// The newest revocation list, if one has been received.
    pub revocations: Option<RevocationList>,
}

/// A signature that passed every check, with what it proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSignature {
    /// The signed statement.
    pub payload: VisitSignaturePayload,
    /// The signer's verified certificate.
    pub certificate: WorkerCertificate,
    /// SHA-256 of the certificate body.
    pub certificate_hash: [u8; 32],
}

/// Checks one team member's signature on the record revision described by `expected`.
///
/// Order: the certificate must verify under the trusted authority; the signature must
/// verify under the certificate's key; the payload must name that certificate and
/// signer, and the expected record; then role, validity at signing time, village and
/// revocation are checked.
pub fn verify_signature(
    sig: &VisitSignature,
    cert: &SignedCertificate,
    trust: &Trust,
    expected: &Expected,
) -> Result<VerifiedSignature, SignatureVerdict> {
    let certificate = cert
        .verify(&trust.authority_key)
        .map_err(|e| SignatureVerdict::UnknownSigner(format!("certificate not accepted: {e}")))?;
    verify_with_certificate(sig, certificate, cert.hash(), trust, expected)
}

/// [`verify_signature`] after the certificate itself was verified under the authority key
/// (`certificate` is its decoded body, `certificate_hash` the hash of its body bytes): the
/// rest of the checks, in the same order. Callers that cache verified certificates use this.
pub fn verify_with_certificate(
    sig: &VisitSignature,
    certificate: WorkerCertificate,
    certificate_hash: [u8; 32],
    trust: &Trust,
    expected: &Expected,
) -> Result<VerifiedSignature, SignatureVerdict> {
    if certificate.authority_key_id != trust.authority_key_id {
        return Err(SignatureVerdict::UnknownSigner(
            "certificate names another authority key".into(),
        ));
    }
    if sig.payload_bytes.len() > MAX_PAYLOAD_BYTES
        || !verify(&certificate.public_key, &sig.payload_bytes, &sig.signature)
    {
        return Err(SignatureVerdict::BadSignature);
    }
    let payload = sig.unverified_payload()?;
    if payload.certificate_hash != certificate_hash {
        return Err(SignatureVerdict::UnknownSigner(
            "signature names another certificate".into(),
        ));
    }
    if payload.signer_worker_id != certificate.worker_id {
        return Err(SignatureVerdict::UnknownSigner(
            "signer id differs from the certificate's worker".into(),
        ));
    }
    let want = &expected.record;
    let differs = if payload.household_id != want.household_id {
        Some("household_id")
    } else if payload.visit_id != want.visit_id {
        Some("visit_id")
    } else if payload.revision != want.revision {
        Some("revision")
    } else if payload.content_hash != want.content_hash {
        Some("content_hash")
    } else {
        None
    };
    if let Some(field) = differs {
        return Err(SignatureVerdict::WrongRecord(field));
    }
    if !certificate.has_role(payload.role) {
        return Err(SignatureVerdict::WrongRole(payload.role));
    }
    if !certificate.valid_at(payload.signed_at) {
        return Err(SignatureVerdict::CertificateNotValidAtSigningTime(
            payload.signed_at,
        ));
    }
    if !certificate.covers_village(&expected.village_code) {
        return Err(SignatureVerdict::VillageNotCovered(
            expected.village_code.clone(),
        ));
    }
    if let Some(revoked) = trust
        .revocations
        .as_ref()
        .and_then(|l| l.is_revoked_at(&certificate_hash, payload.signed_at))
    {
        return Err(SignatureVerdict::Revoked {
            effective_at: revoked.effective_at,
            reason: revoked.reason,
        });
    }
    Ok(VerifiedSignature {
        payload,
        certificate,
        certificate_hash,
    })
}

#[cfg(test)]
#[path = "attestation_tests.rs"]
pub(crate) mod tests;
