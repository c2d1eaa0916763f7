//! The core's error type.
//!
//! Every error carries a stable [`Error::code`] (for example `"validation"` or
//! `"household.field_conflicted"`) so apps can look up a localized (Chinese) message, and a
//! [`Display`](std::fmt::Display) text in English for logs. Validation failures carry one
//! [`FieldError`] per problem, each naming the field, a stable code and its parameters.

use std::collections::BTreeMap;
use std::fmt;

/// One problem with one field of outside input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Path of the field, e.g. `members.3f2a….id_number` or `profile.village_code`.
    pub field: String,
    /// Stable machine code, e.g. `resident_id.check_digit`.
    pub code: &'static str,
    /// Parameters for the localized message, e.g. `{"expected": "X"}`.
    pub params: BTreeMap<String, String>,
    /// English explanation for logs and developers.
    pub message: String,
}

impl FieldError {
    /// A field error without parameters.
    pub fn new(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code,
            params: BTreeMap::new(),
            message: message.into(),
        }
    }

    /// Adds a message parameter.
    #[must_use]
    pub fn with(mut self, name: &str, value: impl ToString) -> Self {
        self.params.insert(name.to_owned(), value.to_string());
        self
    }

    /// The same error for a field nested under `prefix`.
    #[must_use]
    pub fn under(mut self, prefix: &str) -> Self {
        self.field = format!("{prefix}.{}", self.field);
        self
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} ({})", self.field, self.message, self.code)
    }
}

/// Errors returned by the core.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Outside input failed validation; nothing was changed.
    #[error("invalid input: {}", join(.0))]
    Invalid(Vec<FieldError>),
    /// A record that was asked for does not exist in this store.
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    /// A write touched a field that holds concurrent values from different tablets.
    #[error(
        "field {field} has conflicting values from different tablets; \
         choose one with resolve_conflict before editing it"
    )]
    FieldConflicted { field: String },
    /// A resolve was asked for a field that has no conflict.
    #[error("field {field} has no conflict to resolve")]
    NoConflict { field: String },
    /// The host key store wants the user to unlock the device first.
    #[error("the key store is locked; unlock the device and try again")]
    KeyStoreLocked,
    /// The host key store failed.
    #[error("key store unavailable: {0}")]
    KeyStore(String),
    /// The database key does not open this store (or the file is not a store at all).
    #[error("the database key does not open this store, or the file is not a ruhu store")]
    WrongKey,
    /// The store's schema is newer than this app understands.
    #[error("store schema version {found} is newer than this app supports ({supported})")]
    SchemaTooNew { found: i64, supported: i64 },
    /// A stored or received document cannot be read.
    #[error("document {id} is unreadable: {reason}")]
    CorruptDocument { id: String, reason: String },
    /// Received changes depend on changes this store does not have yet.
    #[error("the changes for household {id} depend on changes this store does not have; sync the earlier ones first")]
    MissingDependencies { id: String },
    /// Sync with the server failed or was refused; `retry_after_seconds` says when to try again
    /// (None: do not retry as is).
    #[error("sync: {detail} ({code})")]
    Sync {
        code: String,
        detail: String,
        retry_after_seconds: Option<u32>,
    },
    /// Automerge refused an operation on a document.
    #[error("document error: {0}")]
    Document(String),
    /// A home-visit operation was refused (sealing, signing, co-signing); see its code.
    #[error(transparent)]
    Visit(#[from] crate::visit::error::VisitError),
    /// SQLite failed.
    #[error("storage error: {0}")]
    Storage(#[from] rusqlite::Error),
    /// The file system failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

fn join(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl Error {
    /// Stable code for localized messages.
    pub fn code(&self) -> &str {
        match self {
            Error::Invalid(_) => "validation",
            Error::NotFound { .. } => "not_found",
            Error::FieldConflicted { .. } => "household.field_conflicted",
            Error::NoConflict { .. } => "household.no_conflict",
            Error::KeyStoreLocked => "key_store.locked",
            Error::KeyStore(_) => "key_store.unavailable",
            Error::WrongKey => "store.wrong_key",
            Error::SchemaTooNew { .. } => "store.schema_too_new",
            Error::CorruptDocument { .. } => "document.corrupt",
            Error::MissingDependencies { .. } => "document.missing_dependencies",
            Error::Sync { code, .. } => code,
            Error::Document(_) => "document",
            Error::Visit(e) => e.code(),
            Error::Storage(_) => "storage",
            Error::Io(_) => "io",
        }
    }

    /// The field errors of a validation failure (empty for other errors).
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            Error::Invalid(errors) => errors,
            _ => &[],
        }
    }

    pub(crate) fn invalid(error: FieldError) -> Self {
        Error::Invalid(vec![error])
    }
}

/// Result alias for the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;
