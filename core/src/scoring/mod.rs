//! The "3+1" comprehensive scoring sheet (综合测评, 打分定低保) as versioned data.
//!
//! | module | what it is |
//! |---|---|
//! | [`rubric`] | the rubric schema: parts, items, bands, options, vetoes, thresholds, classes |
//! | [`expr`] | formulas over answers and parameters (integers, checked, rounding down) |
//! | [`compile`] | loading a rubric: checks, content hash, what it reads |
//! | [`score`] | scoring, re-running a past decision, verifying it |
//! | [`decision`] | the decision record and the `scoring` block of a sealed visit |
//! | [`catalog`] | every known rubric version, so a past decision is re-run with its own |
//! | [`builtin`] | the shipped SAMPLE rubric (to be replaced by the county's sheet) |
//!
//! Veto items ("四有") raise a verification flag (`needs_verification`); they never turn
//! the outcome to "not eligible" by themselves (national rules, 2022). Schema and rules in
//! prose: `docs/forms-and-scoring.md`.

pub mod builtin;
pub mod catalog;
pub mod compile;
pub mod decision;
pub mod expr;
pub mod rubric;
pub mod score;

pub use builtin::sample_rubric;
pub use catalog::RubricCatalog;
pub use compile::Rubric;
pub use decision::{Decision, ItemScore, PartScore, RubricRef, ScoringInputs};
pub use rubric::{Outcome, RubricDefinition};
