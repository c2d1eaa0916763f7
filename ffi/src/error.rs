//! The public error enum: a few variants an app can act on, each with a stable `code` for a
//! localized (Chinese) message.
//!
//! ## Signed visits
//!
//! A refused visit operation (`ruhu_core::Error::Visit`) keeps the core's code and is
//! raised as the variant the app acts on:
//!
//! | core `VisitError` | raised as | codes |
//! |---|---|---|
//! | `NotPermitted`, verdict bad signature, unknown signer, malformed entry, content altered, wrong record | `SignatureProblem` | `signer.bad_signature`, `signer.unknown`, `signer.malformed`, `signer.content_altered`, `signer.wrong_record` |
//! | `NotPermitted`, any other verdict | `NotPermitted` | `signer.not_on_team`, `signer.wrong_role`, `signer.duplicate_person`, `signer.village_not_covered`, `signer.revoked`, `signer.certificate_not_valid` |
//! | `ContentNotHeld`, `NoAuthority` | `NotPermitted` | `visit.content_not_held` (receive the content first), `visit.no_authority` (set the county authority first) |
//! | `ContentAltered`, `ImportRefused`, `Certificate`, `Revocation` (signature, format, rules), `Sign` | `SignatureProblem` | `visit.content_altered`, `visit.import_refused`, `certificate.*`, `revocation.bad_signature`, `revocation.malformed`, `revocation.format`, `revocation.invalid`, `sign.*` |
//! | `Revocation` older than the list in force, or of another county | `InvalidInput` | `revocation.not_newer`, `revocation.county_mismatch` |
//! | `ResponseRefused` (a response for another visit or revision), `Response` (the scanned code is not a readable response), `Chunk`, `AlreadySealed`, `NotLatest`, `UnsupportedFormat`, `MalformedContent`, `Canonical` | `InvalidInput` (no field problems) | `visit.response_refused`, `response.*`, `chunk.*`, `visit.already_sealed`, `visit.not_latest`, `visit.unsupported_format`, `visit.malformed_content`, `canonical.*` |
//! | `Key`, key store locked | `KeyStoreLocked` | `keystore.locked` |
//! | `Key`, bad key id | `InvalidInput` naming `key_id` | `keystore.invalid_key_id` |
//! | `Key`, otherwise | `Storage` | `keystore.unavailable`, `key.invalid`, `key.generation`, `key.exists` |
//!
//! Hex and JSON the app passes in (content hashes, public keys, certificates, revocation
//! lists, policies, answers) that cannot be read raise `InvalidInput` naming the argument,
//! with code `hex` or `json`; an unknown role, purpose or remote mode raises `code.unknown`.

use std::collections::HashMap;

use ruhu_core::signing::keys::{KeyError, KeyStoreError};
use ruhu_core::signing::revocation::RevocationError;
use ruhu_core::visit::{SignerVerdict, VisitError};
use ruhu_core::Error;

/// One problem with one field of input, as shown next to that field in the app.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FieldProblem {
    /// Field path, e.g. `members.<member id>.id_number`.
    pub field: String,
    /// Stable code, e.g. `resident_id.check_digit`.
    pub code: String,
    /// Parameters for the message, e.g. `expected` → `X`.
    pub params: HashMap<String, String>,
    /// English text for logs.
    pub detail: String,
}

/// Errors raised to Kotlin (`FfiException`) and Swift (`FfiError`).
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum FfiError {
    /// Input from the worker or from another device is invalid; nothing was changed.
    #[error("invalid input ({code}): {detail}")]
    InvalidInput {
        code: String,
        detail: String,
        problems: Vec<FieldProblem>,
    },
    /// The worker may not do this.
    #[error("not permitted ({code}): {detail}")]
    NotPermitted { code: String, detail: String },
    /// A signature or certificate does not verify.
    #[error("signature problem ({code}): {detail}")]
    SignatureProblem { code: String, detail: String },
    /// The platform key store wants the user first (unlock the device, then retry).
    #[error("the key store is locked")]
    KeyStoreLocked { code: String },
    /// The encrypted store cannot be opened or written (wrong key, disk, corruption).
    #[error("storage problem ({code}): {detail}")]
    Storage { code: String, detail: String },
    /// Talking to the sync server failed; retry after the given delay if there is one.
    #[error("network problem ({code}): {detail}")]
    Network {
        code: String,
        detail: String,
        retry_after_seconds: Option<u32>,
    },
    /// A field holds values from different tablets: resolve it first.
    #[error("conflict ({code}) on {field}: {detail}")]
    Conflict {
        code: String,
        field: String,
        detail: String,
    },
    /// The household (or other record) is not in this store.
    #[error("not found ({code}): {detail}")]
    NotFound { code: String, detail: String },
}

impl FfiError {
    pub(crate) fn invalid(field: &str, code: &str, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        FfiError::InvalidInput {
            code: "validation".into(),
            detail: format!("{field}: {detail}"),
            problems: vec![FieldProblem {
                field: field.into(),
                code: code.into(),
                params: HashMap::new(),
                detail,
            }],
        }
    }
}

impl From<Error> for FfiError {
    fn from(e: Error) -> Self {
        let code = e.code().to_owned();
        let detail = e.to_string();
        match e {
            Error::Invalid(problems) => FfiError::InvalidInput {
                code,
                detail,
                problems: problems
                    .into_iter()
                    .map(|p| FieldProblem {
                        field: p.field,
                        code: p.code.to_owned(),
                        params: p.params.into_iter().collect(),
                        detail: p.message,
                    })
                    .collect(),
            },
            Error::FieldConflicted { field } => FfiError::Conflict {
                code,
                field,
                detail,
            },
            Error::NotFound { .. } => FfiError::NotFound { code, detail },
            Error::KeyStoreLocked => FfiError::KeyStoreLocked { code },
            Error::Visit(v) => from_visit(v, code, detail),
            Error::Sync {
                retry_after_seconds,
                ..
            } => from_sync(code, detail, retry_after_seconds),
            Error::NoConflict { .. }
            | Error::CorruptDocument { .. }
            | Error::MissingDependencies { .. } => FfiError::InvalidInput {
                code,
                detail,
                problems: Vec::new(),
            },
            _ => FfiError::Storage { code, detail },
        }
    }
}

impl From<VisitError> for FfiError {
    fn from(e: VisitError) -> Self {
        Error::Visit(e).into()
    }
}

/// Sync failures: refusals the worker must act on (`auth.*`, an app too old, not enrolled,
/// a configuration that does not verify) are `NotPermitted`; everything else — the server
/// unreachable or failing, a malformed answer — is `Network`, with retry advice.
fn from_sync(code: String, detail: String, retry_after_seconds: Option<u32>) -> FfiError {
    let refused = code.starts_with("auth.")
        || code.starts_with("config.")
        || matches!(
            code.as_str(),
            "sync.app_too_old"
                | "sync.not_enrolled"
                | "sync.not_signed"
                | "sync.read_only"
                | "sync.out_of_scope"
        );
    if refused {
        FfiError::NotPermitted { code, detail }
    } else {
        FfiError::Network {
            code,
            detail,
            retry_after_seconds,
        }
    }
}

/// The mapping documented in the module's table.
fn from_visit(e: VisitError, code: String, detail: String) -> FfiError {
    let invalid = |problems| FfiError::InvalidInput {
        code: code.clone(),
        detail: detail.clone(),
        problems,
    };
    match e {
        VisitError::NotPermitted(
            SignerVerdict::BadSignature
            | SignerVerdict::UnknownSigner(_)
            | SignerVerdict::Malformed(_)
            | SignerVerdict::ContentAltered(_)
            | SignerVerdict::WrongRecord(_),
        )
        | VisitError::ContentAltered { .. }
        | VisitError::ImportRefused { .. }
        | VisitError::Certificate(_)
        | VisitError::Sign(_) => FfiError::SignatureProblem { code, detail },
        VisitError::Revocation(RevocationError::NotNewer { .. })
        | VisitError::Revocation(RevocationError::CountyMismatch { .. }) => invalid(Vec::new()),
        VisitError::Revocation(_) => FfiError::SignatureProblem { code, detail },
        VisitError::NotPermitted(_)
        | VisitError::ContentNotHeld { .. }
        | VisitError::NoAuthority => FfiError::NotPermitted { code, detail },
        VisitError::ResponseRefused { .. }
        | VisitError::Response(_)
        | VisitError::Chunk(_)
        | VisitError::AlreadySealed { .. }
        | VisitError::NotLatest { .. }
        | VisitError::UnsupportedFormat(_)
        | VisitError::MalformedContent(_)
        | VisitError::Canonical(_) => invalid(Vec::new()),
        VisitError::Key(KeyError::Store(KeyStoreError::Locked)) => {
            FfiError::KeyStoreLocked { code }
        }
        VisitError::Key(KeyError::Store(KeyStoreError::InvalidKeyId(_))) => {
            invalid(vec![FieldProblem {
                field: "key_id".into(),
                code: code.clone(),
                params: HashMap::new(),
                detail: detail.clone(),
            }])
        }
        VisitError::Key(_) => FfiError::Storage { code, detail },
    }
}
