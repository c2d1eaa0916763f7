//! Offline signatures for sealed home-visit records (入户调查表).
//!
//! A three-person team — township leader, village-stationed cadre, case handler —
//! visits a household; the record is sealed (its canonical JSON is hashed), and every
//! member signs that exact revision on their own tablet, offline. Everything verifies
//! offline against the county authority's key.
//!
//! | module | what it is |
//! |---|---|
//! | [`canonical`] | RFC 8785 canonical JSON (integers only) and SHA-256: one byte form per document |
//! | [`keys`] | Ed25519 keys, the host's secret key store, the tablet's signer |
//! | [`certificate`] | the county's worker certificates: who, which roles, which villages, when |
//! | [`revocation`] | the county's signed list of revoked certificates |
//! | [`attestation`] | a team member's signature on one record revision, and its verification |
//! | [`response`] | that signature packed into one QR code |
//! | [`qr_chunks`] | sealed content split into QR-sized chunks and reassembled |
//! | [`error`] | every error, with a stable `code()` for localized messages |
//! | [`wire`] | strict encodings of hashes, keys and timestamps inside signed documents |
//!
//! ```
//! use ruhu_core::signing::attestation::{sign_visit, verify_signature, Expected, RecordRef, Trust, VisitSignaturePayload};
//! use ruhu_core::signing::canonical::{sha256, to_canonical_bytes};
//! use ruhu_core::signing::certificate::{Role, Scope, WorkerCertificate, CERTIFICATE_FORMAT};
//! use ruhu_core::signing::keys::{MemoryKeyStore, SigningKeyPair, WorkerSigner};
//! use chrono::{TimeZone, Utc};
//!
//! let t = |y, m, d| Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).single().expect("date");
//! // The county authority certifies the case handler's tablet key.
//! let authority = SigningKeyPair::generate()?;
//! let tablet = WorkerSigner::create(&MemoryKeyStore::default(), "case-handler")?;
//! let cert = WorkerCertificate {
//!     format: CERTIFICATE_FORMAT,
//!     worker_id: "w-0042".into(),
//!     name: "刘洋".into(),
//!     roles: vec![Role::CaseHandler],
//!     scope: Scope::Villages(vec!["620102001001".into()]),
//!     public_key: tablet.public_key(),
//!     valid_from: t(2024, 1, 1),
//!     valid_until: t(2025, 1, 1),
//!     issued_at: t(2023, 12, 20),
//!     authority_key_id: "county-620102".into(),
//! }
//! .sign(&authority)?;
//!
//! // The sealed record revision and the case handler's signature on it.
//! let content = to_canonical_bytes(&serde_json::json!({"conclusion": "eligible", "income_fen": 120000}))?;
//! let record = RecordRef { household_id: "hh-7".into(), visit_id: "v-1".into(), revision: 1, content_hash: sha256(&content) };
//! let payload = VisitSignaturePayload::new(&record, &cert, "w-0042", Role::CaseHandler, t(2024, 5, 6));
//! let sig = sign_visit(&tablet, &payload)?;
//!
//! // Any tablet or the county office verifies it offline.
//! let trust = Trust { authority_key_id: "county-620102".into(), authority_key: authority.public_key(), revocations: None };
//! let expected = Expected { record, village_code: "620102001001".into() };
//! let verified = verify_signature(&sig, &cert, &trust, &expected).map_err(|v| v.code())?;
//! assert_eq!(verified.certificate.name, "刘洋");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod attestation;
pub mod canonical;
pub mod certificate;
pub mod error;
pub mod keys;
pub mod qr_chunks;
pub mod response;
pub mod revocation;
pub mod wire;
