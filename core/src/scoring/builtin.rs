//! The shipped SAMPLE rubric shaped "3 scored parts + 1", loaded from
//! `core/data/rubrics/sample-3plus1.v1.json`. The published provincial sheet is not
//! available, so every item, weight and cut-off in it is illustrative: a county replaces
//! it with its own sheet through the signed county configuration.

use std::sync::OnceLock;

use crate::error::Result;
use crate::forms::builtin::{load_once, Loaded};
use crate::scoring::compile::Rubric;

/// Id of the sample rubric.
pub const SAMPLE_RUBRIC_ID: &str = "sample-3plus1";

/// The JSON of the sample rubric, version 1.
pub const SAMPLE_RUBRIC_V1_JSON: &str = include_str!("../../data/rubrics/sample-3plus1.v1.json");

/// The SAMPLE "3+1" rubric (version 1): (1) income, (2) property, (3) labour ability,
/// health and rigid spending, (+1) the democratic appraisal or village review; the "四有"
/// veto items; parameters `standard_fen` (the local dibao standard per person per year, in
/// fen) and `appraisal` (`passed`, `objection`, `not_held`).
pub fn sample_rubric() -> Result<&'static Rubric> {
    static RUBRIC: Loaded<Rubric> = OnceLock::new();
    load_once(&RUBRIC, || {
        Rubric::from_json_bytes(SAMPLE_RUBRIC_V1_JSON.as_bytes())
    })
}
