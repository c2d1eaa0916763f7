//! The decision record: everything needed to re-run a scoring years later, and the
//! `scoring` block a sealed visit carries (canonical JSON, signed with the visit).
//!
//! ```text
//! { "format": 1,
//!   "rubric": {"id", "version", "hash"},          the exact rubric definition used
//!   "inputs": {"answers": {..}, "params": {..}},  the answers it read (rosters: the columns
//!                                                 it read) and the parameters given
//!   "parts": [{"id", "points", "items": [{"id", "value", "points"}]}],
//!   "total", "outcome", "class": null|1..4,
//!   "flags": [veto id..], "needs_verification": bool }
//! ```
//!
//! An item's `value` is the formula's value (banded items) or the answer or parameter the
//! option was matched on (choice items; `null` when absent).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::error::{Error, FieldError, Result};
use crate::forms::answers::Answers;
use crate::forms::condition::Scalar;
use crate::scoring::rubric::Outcome;
use crate::signing::canonical::to_canonical_bytes;
use crate::visit::content::ContentHash;

/// The format of the decision record this code writes and reads.
pub const DECISION_FORMAT: u32 = 1;

/// Which rubric version a decision used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RubricRef {
    /// Rubric id.
    pub id: String,
    /// Version.
    pub version: u32,
    /// SHA-256 of the rubric's canonical definition.
    pub hash: ContentHash,
}

/// What a scoring run read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoringInputs {
    /// The answers the rubric reads (rosters reduced to the columns it reads).
    pub answers: Answers,
    /// The parameters given (e.g. the local standard in fen, the appraisal result).
    pub params: BTreeMap<String, Scalar>,
}

/// One item's score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemScore {
    /// Item id.
    pub id: String,
    /// The value the points were looked up with.
    pub value: Option<Scalar>,
    /// Points.
    pub points: i64,
}

/// One part's score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartScore {
    /// Part id.
    pub id: String,
    /// Sum of its items.
    pub points: i64,
    /// Every item.
    pub items: Vec<ItemScore>,
}

/// A scoring decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// Always [`DECISION_FORMAT`].
    pub format: u32,
    /// The rubric used.
    pub rubric: RubricRef,
    /// What was read.
    pub inputs: ScoringInputs,
    /// Every part and item.
    pub parts: Vec<PartScore>,
    /// Sum of the parts.
    pub total: i64,
    /// Outcome from the total.
    pub outcome: Outcome,
    /// Rural dibao class 1–4 for an eligible outcome.
    pub class: Option<u8>,
    /// Veto items that hold: each needs verification (核实), none excludes by itself.
    pub flags: Vec<String>,
    /// Whether any flag is raised.
    pub needs_verification: bool,
}

impl Decision {
    /// The `scoring` block of a sealed visit (`SealDetails::scoring`): a JSON object that
    /// encodes canonically (integers only).
    pub fn to_scoring_block(&self) -> Result<Json> {
        let block = serde_json::to_value(self).map_err(|e| block_error(e.to_string()))?;
        to_canonical_bytes(&block).map_err(|e| block_error(e.to_string()))?;
        Ok(block)
    }

    /// Reads the `scoring` block of a sealed visit.
    pub fn from_scoring_block(block: &Json) -> Result<Self> {
        let format = block.get("format").and_then(Json::as_u64);
        if format != Some(u64::from(DECISION_FORMAT)) {
            return Err(Error::invalid(
                FieldError::new(
                    "scoring.format",
                    "scoring.format",
                    "unsupported decision record format",
                )
                .with("format", format.map_or("none".into(), |f| f.to_string())),
            ));
        }
        serde_json::from_value(block.clone()).map_err(|e| block_error(e.to_string()))
    }
}

fn block_error(detail: String) -> Error {
    Error::invalid(FieldError::new("scoring", "scoring.block", detail))
}
