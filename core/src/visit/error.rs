//! Errors of home visits: sealing, signing, co-signing and their refusals.
//!
//! Every variant has a stable [`VisitError::code`]; variants that wrap an error of the
//! signing layer pass its code through, and a refused signature carries the same
//! [`SignerVerdict`] a verifier would report for it.

use thiserror::Error;

use crate::signing::error::{
    CanonicalError, CertError, ChunkError, KeyError, ResponseError, RevocationError, SignError,
};
use crate::visit::verify::SignerVerdict;

/// Why a visit operation was refused. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VisitError {
    /// Sealed content of a format this app does not know (written by a newer app).
    #[error("sealed record format {0} is not supported by this app version")]
    UnsupportedFormat(u64),
    /// Sealed content that is canonical JSON but not a valid record of its format.
    #[error("sealed record is malformed: {0}")]
    MalformedContent(String),
    /// Sealed content that is not canonical JSON.
    #[error("sealed record is not canonical JSON: {0}")]
    Canonical(CanonicalError),
    /// The signature would not be valid; the verdict says why (wrong role, not on team, …).
    #[error("this signature is not permitted: {0}")]
    NotPermitted(SignerVerdict),
    /// The tablet does not hold content that hashes to the hash it was asked to sign.
    #[error("this tablet does not hold the content with hash {content_hash}; receive it first")]
    ContentNotHeld {
        /// Lowercase hex SHA-256 that was asked for.
        content_hash: String,
    },
    /// The visit already has a sealed revision; a change needs a correction.
    #[error("the visit is already sealed (revision {revision}); start a correction")]
    AlreadySealed {
        /// The latest sealed revision.
        revision: u32,
    },
    /// A correction must name a revision that no other correction supersedes yet.
    #[error("revision {revision} already has a correction; correct the latest revision")]
    NotLatest {
        /// The revision named as `previous`.
        revision: u32,
    },
    /// A sealed entry or signature entry was changed after it was written.
    #[error("sealed record {content_hash} was altered: {reason}")]
    ContentAltered {
        /// Lowercase hex key of the altered entry.
        content_hash: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A scanned signature response does not answer a record this tablet holds.
    #[error("signature response refused: {reason}")]
    ResponseRefused {
        /// Why (another visit, another revision, content not held, …).
        reason: String,
    },
    /// Received changes would break a visit record (altered sealed entry, malformed
    /// signature entry); nothing was imported.
    #[error("the received changes break visit records: {}", .problems.join("; "))]
    ImportRefused {
        /// What is wrong.
        problems: Vec<String>,
    },
    /// The store has no county authority key yet, so nothing can be verified.
    #[error("no county authority key is configured on this tablet")]
    NoAuthority,
    /// A certificate was refused.
    #[error(transparent)]
    Certificate(CertError),
    /// A revocation list was refused.
    #[error(transparent)]
    Revocation(RevocationError),
    /// The signing key could not be used.
    #[error(transparent)]
    Key(KeyError),
    /// The signature payload could not be made.
    #[error(transparent)]
    Sign(SignError),
    /// QR chunks could not be made or assembled.
    #[error(transparent)]
    Chunk(ChunkError),
    /// A scanned signature response is malformed.
    #[error(transparent)]
    Response(ResponseError),
}

impl VisitError {
    /// Stable machine-readable code for localized messages.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnsupportedFormat(_) => "visit.unsupported_format",
            Self::MalformedContent(_) => "visit.malformed_content",
            Self::Canonical(e) => e.code(),
            Self::NotPermitted(v) => v.code(),
            Self::ContentNotHeld { .. } => "visit.content_not_held",
            Self::AlreadySealed { .. } => "visit.already_sealed",
            Self::NotLatest { .. } => "visit.not_latest",
            Self::ContentAltered { .. } => "visit.content_altered",
            Self::ResponseRefused { .. } => "visit.response_refused",
            Self::ImportRefused { .. } => "visit.import_refused",
            Self::NoAuthority => "visit.no_authority",
            Self::Certificate(e) => e.code(),
            Self::Revocation(e) => e.code(),
            Self::Key(e) => e.code(),
            Self::Sign(e) => e.code(),
            Self::Chunk(e) => e.code(),
            Self::Response(e) => e.code(),
        }
    }
}
