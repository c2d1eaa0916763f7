//! The public error enum: a few variants an app can act on, each with a stable `code` for a
//! localized (Chinese) message.

use std::collections::HashMap;

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
