//! The rubric schema (JSON): the "3+1" comprehensive scoring sheet as data.
//!
//! ```text
//! { "id": "sample-3plus1", "version": 1, "title": {"zh", "en"},
//!   "sample": true, "notice": {"zh", "en"},            a sample says so, and what to do
//!   "template": "home-visit",                          the form whose answers it reads
//!   "parameters": [ {"id", "label", "type": "integer", "min"?, "max"?}
//!                 | {"id", "label", "type": "choice", "options": [code..]} ],
//!   "parts": [ {"id", "label", "items": [ item.. ]} ],
//!   "vetoes": [ {"id", "label", "when": condition} ],   raise a verification flag, never exclude
//!   "outcomes": [ {"at_least": 60, "outcome": "eligible"}, .. ], "otherwise": "not_eligible",
//!   "classes": [ {"at_least": 85, "class": 1}, .. ] }   for an eligible total, first match
//!
//! item = {"id", "label", "value": formula, "bands": [{"at_most": n, "points": p}, ..], "otherwise": p}
//!      | {"id", "label", "choice": {"answer": id} | {"param": id},
//!         "options": [{"value": v, "points": p}, ..], "otherwise": p}
//! ```
//!
//! A banded item scores the points of the first band whose `at_most` is ≥ the formula's
//! value (bands strictly ascending), else `otherwise` (default 0). A choice item scores the
//! points of the option equal to the answer or parameter, else `otherwise`. Points are
//! integers and may be negative. Formulas: [`crate::scoring::expr`]; conditions:
//! [`crate::forms::condition`]. Outcome thresholds are tried in order (strictly descending).

use serde::{Deserialize, Serialize};

use crate::forms::condition::{Condition, Scalar};
use crate::forms::template::Label;
use crate::scoring::expr::Expr;

/// A whole rubric definition, as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RubricDefinition {
    /// Rubric id.
    pub id: String,
    /// Version; a changed rubric is a new version.
    pub version: u32,
    /// Title.
    pub title: Label,
    /// A sample to be replaced by the county's own sheet.
    #[serde(default)]
    pub sample: bool,
    /// What workers must know (required for a sample).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<Label>,
    /// Id of the form template whose answers it reads.
    pub template: String,
    /// Values given to each scoring run (e.g. the local standard in fen).
    #[serde(default)]
    pub parameters: Vec<Parameter>,
    /// Scored parts.
    pub parts: Vec<Part>,
    /// Veto items.
    #[serde(default)]
    pub vetoes: Vec<Veto>,
    /// Total → outcome, first match.
    pub outcomes: Vec<OutcomeThreshold>,
    /// Outcome when no threshold matches.
    pub otherwise: Outcome,
    /// Eligible total → rural class, first match.
    #[serde(default)]
    pub classes: Vec<ClassThreshold>,
}

/// Parameter types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParameterType {
    /// An integer (fen, count).
    Integer,
    /// One of the option codes.
    Choice,
}

/// A parameter of a scoring run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parameter {
    /// Id.
    pub id: String,
    /// Label.
    pub label: Label,
    /// Type.
    #[serde(rename = "type")]
    pub kind: ParameterType,
    /// Smallest integer accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    /// Largest integer accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
    /// Codes accepted (choice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<String>>,
}

/// A scored part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Part {
    /// Id.
    pub id: String,
    /// Label.
    pub label: Label,
    /// Items.
    pub items: Vec<Item>,
}

/// Where a choice item reads its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Source {
    /// A form answer.
    Answer(String),
    /// A parameter.
    Param(String),
}

/// One band of a banded item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    /// Upper bound (inclusive).
    pub at_most: i64,
    /// Points.
    pub points: i64,
}

/// Points for one value of a choice item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionPoints {
    /// The answer or parameter value.
    pub value: Scalar,
    /// Points.
    pub points: i64,
}

/// A scored item: banded (`value` + `bands`) or choice (`choice` + `options`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    /// Id.
    pub id: String,
    /// Label.
    pub label: Label,
    /// Formula (banded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Expr>,
    /// Bands (banded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bands: Option<Vec<Band>>,
    /// Value read (choice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice: Option<Source>,
    /// Points per value (choice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<OptionPoints>>,
    /// Points when no band or option matches.
    #[serde(default)]
    pub otherwise: i64,
}

/// A veto item ("四有"): when it holds, the decision carries a verification flag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Veto {
    /// Id.
    pub id: String,
    /// Label.
    pub label: Label,
    /// When the flag is raised.
    pub when: Condition,
}

/// The result of the scoring sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Eligible (符合条件).
    Eligible,
    /// Not eligible (不符合条件).
    NotEligible,
    /// Borderline: to be settled by democratic appraisal (民主评议).
    NeedsDemocraticAppraisal,
}

/// A total threshold for an outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutcomeThreshold {
    /// Lowest total (inclusive).
    pub at_least: i64,
    /// Outcome.
    pub outcome: Outcome,
}

/// A total threshold for a rural dibao class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassThreshold {
    /// Lowest total (inclusive).
    pub at_least: i64,
    /// Class 1–4.
    pub class: u8,
}
