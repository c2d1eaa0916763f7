//! Co-signing in the household with no network.
//!
//! 1. The sealing tablet shows the sealed content as QR codes ([`content_chunks`]).
//! 2. Each co-signer's tablet scans them in any order, repeats ignored
//!    ([`ContentReceiver`]), checks the hash, parses the record, keeps the bytes and shows
//!    the record. It signs only a hash whose content it holds ([`cosign`]), and shows its
//!    signature as one QR code.
//! 3. The sealing tablet scans that code ([`accept_response`]): refused if it answers
//!    another visit, another revision or content this tablet does not hold, or if the
//!    signature is not valid (e.g. the signer is not on the team).

use chrono::{DateTime, Utc};

use crate::signing::attestation::Trust;
use crate::signing::certificate::{Role, SignedCertificate};
use crate::signing::keys::WorkerSigner;
use crate::signing::qr_chunks::{
    split_into_chunks, Accepted, Assembler, AssemblyLimits, ChunkConfig,
};
use crate::signing::response::{decode_response, encode_response};
use crate::visit::content::{parse_content, ContentHash, SealedContent, MAX_CONTENT_BYTES};
use crate::visit::entry::{signature_key, SignatureEntry};
use crate::visit::error::VisitError;
use crate::visit::verify::{check_signer, sign_content, SignerVerdict};

/// Sealed content as QR-code payloads (deflate-compressed, about 1,000 bytes each).
pub fn content_chunks(content: &[u8]) -> Result<Vec<Vec<u8>>, VisitError> {
    split_into_chunks(content, &ChunkConfig::default()).map_err(VisitError::Chunk)
}

/// Sealed content received on a co-signer's tablet: its hash, exact bytes and parsed form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedContent {
    /// SHA-256 of `bytes`.
    pub content_hash: ContentHash,
    /// The exact bytes.
    pub bytes: Vec<u8>,
    /// The record, for display.
    pub content: SealedContent,
}

impl ReceivedContent {
    /// Checks that `bytes` are a valid sealed record; computes their hash.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, VisitError> {
        let content = parse_content(&bytes)?;
        Ok(Self {
            content_hash: ContentHash::of(&bytes),
            bytes,
            content,
        })
    }
}

/// Collects scanned content chunks and rebuilds the sealed record.
#[derive(Debug, Clone)]
pub struct ContentReceiver {
    assembler: Assembler,
}

impl Default for ContentReceiver {
    fn default() -> Self {
        Self::new()
    }
}

impl ContentReceiver {
    fn limits() -> AssemblyLimits {
        AssemblyLimits {
            max_decompressed_bytes: MAX_CONTENT_BYTES,
            ..AssemblyLimits::default()
        }
    }

    /// A receiver that binds to the first chunk's content.
    pub fn new() -> Self {
        Self {
            assembler: Assembler::new(Self::limits()),
        }
    }

    /// A receiver that accepts only the content with this hash.
    pub fn expecting(content_hash: ContentHash) -> Self {
        Self {
            assembler: Assembler::expecting(content_hash.0, Self::limits()),
        }
    }

    /// Takes one scanned chunk (any order; exact repeats are ignored).
    pub fn accept(&mut self, chunk: &[u8]) -> Result<Accepted, VisitError> {
        self.assembler.accept(chunk).map_err(VisitError::Chunk)
    }

    /// `(received, total)` once the first chunk arrived.
    pub fn progress(&self) -> Option<(usize, usize)> {
        self.assembler.progress()
    }

    /// Rebuilds the content, checks its hash and parses it as a sealed record.
    pub fn finish(&self) -> Result<ReceivedContent, VisitError> {
        let bytes = self.assembler.finish().map_err(VisitError::Chunk)?;
        ReceivedContent::from_bytes(bytes)
    }
}

/// The co-signer signs content its tablet holds and packs the signature into one QR code.
/// `held` looks up content by hash; signing a hash whose content is not held is refused.
#[allow(clippy::too_many_arguments)]
pub fn cosign(
    held: impl Fn(&ContentHash) -> Option<Vec<u8>>,
    content_hash: &ContentHash,
    role: Role,
    signer: &WorkerSigner,
    certificate: &SignedCertificate,
    trust: &Trust,
    signed_at: DateTime<Utc>,
) -> Result<(SignatureEntry, Vec<u8>), VisitError> {
    let bytes = held(content_hash).ok_or_else(|| VisitError::ContentNotHeld {
        content_hash: content_hash.to_hex(),
    })?;
    let entry = sign_content(
        &bytes,
        content_hash,
        role,
        signer,
        certificate,
        trust,
        signed_at,
    )?;
    let response = encode_response(&entry.signature).map_err(VisitError::Response)?;
    Ok((entry, response))
}

/// The sealing tablet reads a co-signer's response for the revision it shows (`held`):
/// refused for another visit, another revision, content it does not hold, an unknown
/// certificate, or any signature that is not valid. Returns the entry's key and the entry.
pub fn accept_response(
    response: &[u8],
    held: &SealedContent,
    held_hash: &ContentHash,
    certificate: impl Fn(&[u8; 32]) -> Option<SignedCertificate>,
    trust: &Trust,
) -> Result<(String, SignatureEntry), VisitError> {
    let r = decode_response(response).map_err(VisitError::Response)?;
    let refuse = |reason: String| Err(VisitError::ResponseRefused { reason });
    if r.visit_id != held.visit_id {
        return refuse(format!(
            "the response is for visit {}, not {}",
            r.visit_id, held.visit_id
        ));
    }
    if r.revision != held.revision {
        return refuse(format!(
            "the response is for revision {}, not {}",
            r.revision, held.revision
        ));
    }
    if r.content_hash != held_hash.0 {
        return Err(VisitError::ContentNotHeld {
            content_hash: hex::encode(r.content_hash),
        });
    }
    let Some(cert) = certificate(&r.certificate_hash) else {
        return Err(VisitError::NotPermitted(SignerVerdict::UnknownSigner(
            "this tablet does not have the signer's certificate".into(),
        )));
    };
    let key = signature_key(held_hash, &r.signer_worker_id, r.role);
    let signature = r
        .into_visit_signature(&held.household_id)
        .map_err(VisitError::Response)?;
    let entry = SignatureEntry {
        signature,
        certificate: cert,
    };
    match check_signer(&key, &entry, held, held_hash, trust).0 {
        SignerVerdict::Valid => Ok((key, entry)),
        verdict => Err(VisitError::NotPermitted(verdict)),
    }
}
