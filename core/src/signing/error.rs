//! Errors of the signing layer, one small enum per concern.
//!
//! Every variant's `Display` says in plain English what is wrong (for logs and
//! developers), and every variant has a stable [`code`](CanonicalError::code) string
//! such as `"signature.bad"` that apps map to a localized message for the worker.
//! Codes never change once shipped; new variants get new codes.

use chrono::{DateTime, Utc};
use thiserror::Error;

use crate::signing::certificate::Role;
use crate::signing::revocation::RevocationReason;

/// Why bytes are not acceptable RFC 8785 canonical JSON, or a value cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CanonicalError {
    /// The input is longer than the caller's size limit.
    #[error("input is {len} bytes, over the limit of {limit} bytes")]
    TooLarge {
        /// Length of the refused input.
        len: usize,
        /// The caller's limit.
        limit: usize,
    },
    /// The bytes are not JSON at all (or not UTF-8, or a lone surrogate escape).
    #[error("not valid JSON: {0}")]
    Syntax(String),
    /// A number has a fraction or exponent; amounts are integers (fen, not yuan).
    #[error("floating-point numbers are not allowed (amounts are integers in fen)")]
    FloatNotAllowed,
    /// An integer outside ±(2^53 − 1), which JavaScript and JCS cannot represent exactly.
    #[error("integer {0} is outside the safe range ±(2^53 - 1)")]
    IntegerOutOfRange(String),
    /// The same key appears twice in one object.
    #[error("duplicate key {0:?} in a JSON object")]
    DuplicateKey(String),
    /// The JSON is valid but is not byte-identical to its canonical re-encoding.
    #[error("non-canonical encoding: the bytes differ from their RFC 8785 re-encoding")]
    NonCanonical,
    /// Arrays and objects are nested deeper than the encoder allows.
    #[error("JSON nested deeper than {0} levels")]
    TooDeep(usize),
    /// Canonical JSON that does not have the shape of the expected document.
    #[error("JSON does not have the expected shape: {0}")]
    Schema(String),
}

impl CanonicalError {
    /// Stable machine-readable code for localized messages.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "canonical.too_large",
            Self::Syntax(_) => "canonical.syntax",
            Self::FloatNotAllowed => "canonical.float",
            Self::IntegerOutOfRange(_) => "canonical.integer_range",
            Self::DuplicateKey(_) => "canonical.duplicate_key",
            Self::NonCanonical => "canonical.non_canonical",
            Self::TooDeep(_) => "canonical.too_deep",
            Self::Schema(_) => "canonical.schema",
        }
    }
}

/// Failure of the host's secret key store (Android Keystore / iOS Keychain wrapper, file).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KeyStoreError {
    /// The store exists but is locked (device not unlocked since boot, user must authenticate).
    #[error("the key store is locked; unlock the device and try again")]
    Locked,
    /// The store cannot be used at all (I/O error, hardware key missing, bad permissions).
    #[error("the key store is unavailable: {0}")]
    Unavailable(String),
    /// A key id that does not match `[A-Za-z0-9_-]{1,64}`.
    #[error("invalid key id {0:?}: use 1 to 64 of A-Z a-z 0-9 _ -")]
    InvalidKeyId(String),
}

impl KeyStoreError {
    /// Stable machine-readable code for localized messages.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Locked => "keystore.locked",
            Self::Unavailable(_) => "keystore.unavailable",
            Self::InvalidKeyId(_) => "keystore.invalid_key_id",
        }
    }
}

/// Failure to create, load or use a signing key.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KeyError {
    /// The key store failed.
    #[error(transparent)]
    Store(#[from] KeyStoreError),
    /// Stored bytes are not an Ed25519 PKCS#8 (v2) document.
    #[error("stored key is not a valid Ed25519 PKCS#8 key")]
    InvalidKey,
    /// The system random generator failed while generating a key.
    #[error("could not generate a key: the system random generator failed")]
    Generation,
    /// `create` was asked for a key id that already holds a key.
    #[error("a signing key with id {0:?} already exists")]
    AlreadyExists(String),
}

impl KeyError {
    /// Stable machine-readable code for localized messages.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Store(e) => e.code(),
            Self::InvalidKey => "key.invalid",
            Self::Generation => "key.generation",
            Self::AlreadyExists(_) => "key.exists",
        }
    }
}

/// Why a worker certificate cannot be issued or accepted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CertError {
    /// The body is not canonical JSON of a certificate.
    #[error("certificate body is malformed: {0}")]
    Malformed(CanonicalError),
    /// The authority's signature does not verify with the given authority key.
    #[error("certificate signature does not verify with the county authority key")]
    BadSignature,
    /// A format version this code does not understand.
    #[error("unsupported certificate format {0}")]
    UnsupportedFormat(u64),
    /// A field breaks the certificate rules (empty roles, bad village code, …).
    #[error("invalid certificate: {0}")]
    Invalid(String),
    /// `valid_until` is not after `valid_from`.
    #[error("certificate validity period is empty (valid_until must be after valid_from)")]
    EmptyValidity,
    /// The certificate is used outside its validity period.
    #[error("certificate is expired or not yet valid at {0}")]
    Expired(DateTime<Utc>),
}

impl CertError {
    /// Stable machine-readable code for localized messages.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "certificate.malformed",
            Self::BadSignature => "certificate.bad_signature",
            Self::UnsupportedFormat(_) => "certificate.format",
            Self::Invalid(_) => "certificate.invalid",
            Self::EmptyValidity => "certificate.empty_validity",
            Self::Expired(_) => "certificate.expired",
        }
    }
}

/// Why a revocation list cannot be issued, accepted, or used to replace the current one.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RevocationError {
    /// The body is not canonical JSON of a revocation list.
    #[error("revocation list is malformed: {0}")]
    Malformed(CanonicalError),
    /// The authority's signature does not verify.
    #[error("revocation list signature does not verify with the county authority key")]
    BadSignature,
    /// A format version this code does not understand.
    #[error("unsupported revocation list format {0}")]
    UnsupportedFormat(u64),
    /// A field breaks the list's rules (bad county code, serial too large, …).
    #[error("invalid revocation list: {0}")]
    Invalid(String),
    /// The candidate's serial is not greater than the current list's serial.
    #[error("revocation list serial {candidate} does not replace current serial {current}")]
    NotNewer {
        /// Serial of the list offered as a replacement.
        candidate: u64,
        /// Serial of the list in force.
        current: u64,
    },
    /// The candidate list is for another county.
    #[error("revocation list is for county {candidate}, not {current}")]
    CountyMismatch {
        /// County of the list offered as a replacement.
        candidate: String,
        /// County of the list in force.
        current: String,
    },
}

impl RevocationError {
    /// Stable machine-readable code for localized messages.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "revocation.malformed",
            Self::BadSignature => "revocation.bad_signature",
            Self::UnsupportedFormat(_) => "revocation.format",
            Self::Invalid(_) => "revocation.invalid",
            Self::NotNewer { .. } => "revocation.not_newer",
            Self::CountyMismatch { .. } => "revocation.county_mismatch",
        }
    }
}

/// Why a team member's signature on a visit record is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SignatureVerdict {
    /// The Ed25519 signature does not verify with the certificate's public key.
    #[error("signature does not verify: the signed data was altered or signed by another key")]
    BadSignature,
    /// Signed payload bytes are not a canonical visit-signature payload.
    #[error("signed payload is malformed: {0}")]
    MalformedPayload(String),
    /// The certificate is not from the trusted authority, or does not belong to the signer.
    #[error("signer is unknown: {0}")]
    UnknownSigner(String),
    /// The signer's certificate was revoked before the signature was made.
    #[error("signer's certificate was revoked from {effective_at} ({reason:?})")]
    Revoked {
        /// When the revocation took effect.
        effective_at: DateTime<Utc>,
        /// Why the authority revoked it.
        reason: RevocationReason,
    },
    /// The certificate does not grant the role the signature claims.
    #[error("signer's certificate does not grant the role {0:?}")]
    WrongRole(Role),
    /// The household's village is outside the signer's assigned villages.
    #[error("village {0} is not among the signer's assigned villages")]
    VillageNotCovered(String),
    /// The signature was made outside the certificate's validity period.
    #[error("certificate was not valid at the signing time {0}")]
    CertificateNotValidAtSigningTime(DateTime<Utc>),
    /// The signature is for another record (household, visit, revision or content).
    #[error("signature is for another record: {0} differs")]
    WrongRecord(&'static str),
}

impl SignatureVerdict {
    /// Stable machine-readable code for localized messages.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadSignature => "signature.bad",
            Self::MalformedPayload(_) => "signature.malformed",
            Self::UnknownSigner(_) => "signature.unknown_signer",
            Self::Revoked { .. } => "signature.revoked",
            Self::WrongRole(_) => "signature.wrong_role",
            Self::VillageNotCovered(_) => "signature.village_not_covered",
            Self::CertificateNotValidAtSigningTime(_) => "signature.certificate_not_valid",
            Self::WrongRecord(_) => "signature.wrong_record",
        }
    }
}

/// Why a visit signature cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SignError {
    /// The payload cannot be encoded canonically.
    #[error("cannot encode the signature payload: {0}")]
    Encoding(CanonicalError),
    /// The payload breaks the rules (wrong context, empty id, id too long, …).
    #[error("invalid signature payload: {0}")]
    InvalidPayload(String),
}

impl SignError {
    /// Stable machine-readable code for localized messages.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Encoding(_) => "sign.encoding",
            Self::InvalidPayload(_) => "sign.invalid_payload",
        }
    }
}

/// Why a scanned signature response (the one-QR-code answer) is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ResponseError {
    /// The first byte is not the response tag: this QR code is something else.
    #[error("not a signature response (wrong tag byte)")]
    NotAResponse,
    /// A response version this code does not understand.
    #[error("unsupported signature response version {0}")]
    UnsupportedVersion(u8),
    /// The bytes end before all fields were read.
    #[error("signature response is truncated")]
    Truncated,
    /// Bytes left over after the last field.
    #[error("signature response has {0} unexpected trailing bytes")]
    TrailingBytes(usize),
    /// A field holds a value that is not allowed (bad UTF-8, unknown role, bad time).
    #[error("signature response field {0} is invalid")]
    InvalidField(&'static str),
    /// The signature to encode is itself malformed.
    #[error("cannot encode the signature response: {0}")]
    Payload(String),
}

impl ResponseError {
    /// Stable machine-readable code for localized messages.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotAResponse => "response.not_response",
            Self::UnsupportedVersion(_) => "response.version",
            Self::Truncated => "response.truncated",
            Self::TrailingBytes(_) => "response.trailing",
            Self::InvalidField(_) => "response.invalid_field",
            Self::Payload(_) => "response.payload",
        }
    }
}

/// Why sealed content cannot be split into, or reassembled from, QR chunks.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ChunkError {
    /// The scanned bytes are not a chunk (wrong tag, too short).
    #[error("not a content chunk")]
    NotAChunk,
    /// A chunk version this code does not understand.
    #[error("unsupported chunk version {0}")]
    UnsupportedVersion(u8),
    /// The chunk's own checksum does not match: it was misread; scan it again.
    #[error("chunk is corrupted (checksum mismatch); scan it again")]
    Corrupted,
    /// The chunk belongs to another sealed content.
    #[error("chunk belongs to other content")]
    OtherContent,
    /// The chunk's index/total contradict the header or earlier chunks.
    #[error("chunk {index} of {total} is inconsistent with the chunks already received")]
    InconsistentTotal {
        /// Index carried by the refused chunk.
        index: u16,
        /// Total carried by the refused chunk.
        total: u16,
    },
    /// The same index arrived again with different bytes.
    #[error("chunk {0} arrived twice with different contents")]
    ConflictingDuplicate(u16),
    /// More chunks than the limit, or a chunk larger than the limit.
    #[error("chunk limits exceeded: {0}")]
    LimitExceeded(String),
    /// `finish` was called before every chunk arrived (`total` 0: no chunk received yet).
    #[error("{missing} of {total} chunks are still missing")]
    Incomplete {
        /// How many chunks are missing.
        missing: usize,
        /// How many chunks the content has.
        total: u16,
    },
    /// Decompressed content is larger than the allowed size (a zip bomb, or wrong limit).
    #[error("decompressed content exceeds the limit of {0} bytes")]
    TooLarge(usize),
    /// The compressed stream is damaged.
    #[error("compressed content is damaged: {0}")]
    Decompress(String),
    /// The reassembled content's SHA-256 is not the announced hash.
    #[error("reassembled content does not match its announced SHA-256")]
    HashMismatch,
    /// Content cannot be split (chunk size zero, or too many chunks needed).
    #[error("cannot split content: {0}")]
    Split(String),
}

impl ChunkError {
    /// Stable machine-readable code for localized messages.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotAChunk => "chunk.not_chunk",
            Self::UnsupportedVersion(_) => "chunk.version",
            Self::Corrupted => "chunk.corrupted",
            Self::OtherContent => "chunk.other_content",
            Self::InconsistentTotal { .. } => "chunk.inconsistent_total",
            Self::ConflictingDuplicate(_) => "chunk.conflicting_duplicate",
            Self::LimitExceeded(_) => "chunk.limit",
            Self::Incomplete { .. } => "chunk.incomplete",
            Self::TooLarge(_) => "chunk.too_large",
            Self::Decompress(_) => "chunk.decompress",
            Self::HashMismatch => "chunk.hash_mismatch",
            Self::Split(_) => "chunk.split",
        }
    }
}

#[cfg(test)]
#[path = "error_tests.rs"]
mod tests;
