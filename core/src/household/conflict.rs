//! Conflicts: a field that two tablets set to different values while offline.
//!
//! Automerge keeps every concurrent value of a map key; the core shows all of them (with the
//! worker who wrote each and the device time of the change) until a person picks one with
//! [`crate::Store::resolve_conflict`]. That resolve is an ordinary change and syncs like any
//! other; once it has reached a tablet, the conflict is gone there too.

use serde::Serialize;

/// One conflicted field and its competing values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldConflict {
    /// Dotted path of the field, e.g. `profile.address` or `members.<member id>.name`.
    pub field: String,
    /// Every concurrent value, in Automerge's order (the first is the one the model shows).
    pub values: Vec<ConflictValue>,
}

/// One of the competing values of a conflicted field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConflictValue {
    pub value: serde_json::Value,
    /// Worker id of the author, from the change that wrote the value.
    pub author: Option<String>,
    /// Device time of that change, seconds since the Unix epoch (a claim, not a fact).
    pub time_unix: i64,
}
