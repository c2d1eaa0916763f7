//! Unit tests of [`crate::signing::error`]: every code is unique, well formed, and explained.

use super::*;
use std::collections::BTreeSet;

/// One (code, message) per variant of every enum above.
fn all() -> Vec<(&'static str, String)> {
    let t = DateTime::<Utc>::UNIX_EPOCH;
    let c = CanonicalError::NonCanonical;
    let mut out = Vec::new();
    let mut push = |code: &'static str, msg: String| out.push((code, msg));
    for e in [
        CanonicalError::TooLarge { len: 2, limit: 1 },
        CanonicalError::Syntax("x".into()),
        CanonicalError::FloatNotAllowed,
        CanonicalError::IntegerOutOfRange("1".into()),
        CanonicalError::DuplicateKey("k".into()),
        CanonicalError::NonCanonical,
        CanonicalError::TooDeep(3),
        CanonicalError::Schema("s".into()),
    ] {
        push(e.code(), e.to_string());
    }
    for e in [
        KeyError::Store(KeyStoreError::Locked),
        KeyError::Store(KeyStoreError::Unavailable("io".into())),
        KeyError::Store(KeyStoreError::InvalidKeyId("../x".into())),
        KeyError::InvalidKey,
        KeyError::Generation,
        KeyError::AlreadyExists("k".into()),
    ] {
        push(e.code(), e.to_string());
    }
    for e in [
        CertError::Malformed(c.clone()),
        CertError::BadSignature,
        CertError::UnsupportedFormat(2),
        CertError::Invalid("x".into()),
        CertError::EmptyValidity,
        CertError::Expired(t),
    ] {
        push(e.code(), e.to_string());
    }
    for e in [
        RevocationError::Malformed(c.clone()),
        RevocationError::BadSignature,
        RevocationError::UnsupportedFormat(2),
        RevocationError::Invalid("x".into()),
        RevocationError::NotNewer {
            candidate: 1,
            current: 2,
        },
        RevocationError::CountyMismatch {
            candidate: "1".into(),
            current: "2".into(),
        },
    ] {
        push(e.code(), e.to_string());
    }
    for e in [
        SignatureVerdict::BadSignature,
        SignatureVerdict::MalformedPayload("x".into()),
        SignatureVerdict::UnknownSigner("x".into()),
        SignatureVerdict::Revoked {
            effective_at: t,
            reason: RevocationReason::KeyCompromised,
        },
        SignatureVerdict::WrongRole(Role::CaseHandler),
        SignatureVerdict::VillageNotCovered("620102001001".into()),
        SignatureVerdict::CertificateNotValidAtSigningTime(t),
        SignatureVerdict::WrongRecord("visit_id"),
    ] {
        push(e.code(), e.to_string());
    }
    for e in [
        SignError::Encoding(c),
        SignError::InvalidPayload("x".into()),
    ] {
        push(e.code(), e.to_string());
    }
    for e in [
        ResponseError::NotAResponse,
        ResponseError::UnsupportedVersion(9),
        ResponseError::Truncated,
        ResponseError::TrailingBytes(1),
        ResponseError::InvalidField("role"),
        ResponseError::Payload("x".into()),
    ] {
        push(e.code(), e.to_string());
    }
    for e in [
        ChunkError::NotAChunk,
        ChunkError::UnsupportedVersion(9),
        ChunkError::Corrupted,
        ChunkError::OtherContent,
        ChunkError::InconsistentTotal { index: 3, total: 2 },
        ChunkError::ConflictingDuplicate(1),
        ChunkError::LimitExceeded("x".into()),
        ChunkError::Incomplete {
            missing: 1,
            total: 2,
        },
        ChunkError::TooLarge(10),
        ChunkError::Decompress("x".into()),
        ChunkError::HashMismatch,
        ChunkError::Split("x".into()),
    ] {
        push(e.code(), e.to_string());
    }
    out
}

#[test]
fn codes_are_unique_and_well_formed() {
    let all = all();
    let codes: BTreeSet<_> = all.iter().map(|(c, _)| *c).collect();
    assert_eq!(codes.len(), all.len(), "duplicate error code");
    for code in codes {
        let (area, rest) = code.split_once('.').unwrap_or(("", ""));
        assert!(!area.is_empty() && !rest.is_empty(), "{code}");
        assert!(
            code.chars()
                .all(|ch| ch.is_ascii_lowercase() || ch == '_' || ch == '.'),
            "{code}"
        );
    }
}

#[test]
fn messages_are_not_empty() {
    for (code, msg) in all() {
        assert!(msg.len() > 8, "{code}: {msg}");
    }
}
