//! Signing a sealed revision on this tablet. The core refuses to sign a hash unless it holds
//! the content that hashes to it, and refuses any signature a verifier would not accept.

use chrono::{DateTime, Utc};

use crate::signing::attestation::{sign_visit, Trust, VisitSignaturePayload};
use crate::signing::certificate::{Role, SignedCertificate};
use crate::signing::keys::WorkerSigner;
use crate::visit::content::{parse_content, ContentHash};
use crate::visit::entry::{signature_key, SignatureEntry};
use crate::visit::error::VisitError;
use crate::visit::signer_check::{check_signer, expected_for};
use crate::visit::verify::SignerVerdict;

/// Signs `content_bytes` as `role` — refused unless the tablet holds content that hashes to
/// `content_hash` and the result is a valid signature (the same checks a verifier makes).
#[allow(clippy::too_many_arguments)]
pub fn sign_content(
    content_bytes: &[u8],
    content_hash: &ContentHash,
    role: Role,
    signer: &WorkerSigner,
    certificate: &SignedCertificate,
    trust: &Trust,
    signed_at: DateTime<Utc>,
) -> std::result::Result<SignatureEntry, VisitError> {
    if ContentHash::of(content_bytes) != *content_hash {
        return Err(VisitError::ContentNotHeld {
            content_hash: content_hash.to_hex(),
        });
    }
    let content = parse_content(content_bytes)?;
    let cert = certificate.verify(&trust.authority_key).map_err(|e| {
        VisitError::NotPermitted(SignerVerdict::UnknownSigner(format!(
            "certificate not accepted: {e}"
        )))
    })?;
    let expected = expected_for(&content, content_hash);
    let payload = VisitSignaturePayload::new(
        &expected.record,
        certificate,
        &cert.worker_id,
        role,
        signed_at,
    );
    let signature = sign_visit(signer, &payload).map_err(VisitError::Sign)?;
    let entry = SignatureEntry {
        signature,
        certificate: certificate.clone(),
    };
    let key = signature_key(content_hash, &cert.worker_id, role);
    match check_signer(&key, &entry, &content, content_hash, trust).0 {
        SignerVerdict::Valid => Ok(entry),
        verdict => Err(VisitError::NotPermitted(verdict)),
    }
}
