//! Assistance standards as data (救助标准): per region (a 6-digit county, city or province
//! code) and year, the urban and rural dibao standards, the rural class amounts (一类…四类),
//! the extreme-poverty support standards and the care subsidy by self-care level.
//!
//! Standards are provincial or local figures, published yearly: they are **configuration**,
//! loaded from JSON (schema below and in `docs/standards-and-calendars.md`), never constants.
//! Every amount is integer fen (分, 1 yuan = 100 fen) with the period it is quoted for.
//!
//! ```json
//! {
//!   "format": 1,
//!   "label": "what this file is (say SAMPLE if it is one)",
//!   "regions": [{
//!     "region_code": "620100", "region_name": "兰州市", "year": 2022,
//!     "source": "where the figures were published",
//!     "urban_dibao":  { "fen": 91400,  "per": "month" },
//!     "rural_dibao":  { "fen": 526800, "per": "year" },
//!     "rural_classes": { "class_1": {"fen": 350000, "per": "year"}, "class_2": …, "class_3": …, "class_4": … },
//!     "extreme_poverty": { "urban": {…}, "rural": {…} },
//!     "care_subsidy": { "self_care": {…}, "partial_loss": {…}, "complete_loss": {…} }
//!   }]
//! }
//! ```
//!
//! Every standard of a region is optional, but a region must carry at least one. Unknown
//! keys are refused (a typo must not silently drop a standard); a newer schema gets a new
//! `format` number. Lookups fall back from a county to its city (`xxxx00`) and province
//! (`xx0000`) for the same year; see [`Standards::find`].
//!
//! Benefit computation (gap to the standard, or fixed amount by class) and its rounding rule
//! are in [`benefit`]; validation in [`validate`].

pub mod benefit;
pub mod validate;

use serde::{Deserialize, Serialize};

use crate::error::{Error, FieldError, Result};

pub use benefit::{
    allocation_fen, class_benefit, div_round_half_up, gap_benefit, Benefit, BenefitMode,
    ClassCounts,
};

/// The schema version this app reads.
pub const STANDARDS_FORMAT: u32 = 1;

/// The sample standards file: Gansu 2017 and Lanzhou 2022 as quoted in the domain notes.
/// A **sample**, for tests and demonstrations; counties load their own published figures.
pub const SAMPLE_STANDARDS_JSON: &str = include_str!("../../samples/standards.sample.json");

/// The period an amount is quoted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    /// Per person per month.
    Month,
    /// Per person per year.
    Year,
}

/// An amount of money in fen, per person per period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Amount {
    /// Integer fen (1 yuan = 100 fen).
    pub fen: i64,
    /// What period `fen` is quoted for.
    pub per: Period,
}

impl Amount {
    /// A monthly amount.
    pub fn monthly(fen: i64) -> Self {
        Self {
            fen,
            per: Period::Month,
        }
    }

    /// A yearly amount.
    pub fn yearly(fen: i64) -> Self {
        Self {
            fen,
            per: Period::Year,
        }
    }

    /// The amount per month: a yearly amount divided by 12, **rounded half up to the fen**
    /// (3,500 yuan a year is 291.67 yuan a month). `None` for a negative amount.
    pub fn monthly_fen(&self) -> Option<i64> {
        match self.per {
            Period::Month => (self.fen >= 0).then_some(self.fen),
            Period::Year => div_round_half_up(self.fen, 12),
        }
    }

    /// The amount per year: a monthly amount times 12 (exact); `None` on overflow.
    pub fn yearly_fen(&self) -> Option<i64> {
        match self.per {
            Period::Month => self.fen.checked_mul(12),
            Period::Year => Some(self.fen),
        }
    }
}

/// Rural dibao amounts by class (一类…四类), per person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassAmounts {
    pub class_1: Amount,
    pub class_2: Amount,
    pub class_3: Amount,
    pub class_4: Amount,
}

impl ClassAmounts {
    /// The amount of class 1–4; `None` for any other class.
    pub fn class(&self, class: u8) -> Option<Amount> {
        match class {
            1 => Some(self.class_1),
            2 => Some(self.class_2),
            3 => Some(self.class_3),
            4 => Some(self.class_4),
            _ => None,
        }
    }
}

/// Basic living standards for extreme-poverty persons (特困人员基本生活标准), per person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtremePoverty {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urban: Option<Amount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rural: Option<Amount>,
}

/// How far a person can look after themselves (生活自理能力), which sets the care subsidy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SelfCareLevel {
    /// 具备生活自理能力
    SelfCare,
    /// 部分丧失生活自理能力
    PartialLoss,
    /// 完全丧失生活自理能力
    CompleteLoss,
}

/// Care subsidy (护理补贴) by self-care level, per person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CareSubsidy {
    pub self_care: Amount,
    pub partial_loss: Amount,
    pub complete_loss: Amount,
}

impl CareSubsidy {
    /// The subsidy for a self-care level.
    pub fn for_level(&self, level: SelfCareLevel) -> Amount {
        match level {
            SelfCareLevel::SelfCare => self.self_care,
            SelfCareLevel::PartialLoss => self.partial_loss,
            SelfCareLevel::CompleteLoss => self.complete_loss,
        }
    }
}

/// Urban or rural: which dibao standard applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Area {
    Urban,
    Rural,
}

/// The standards of one region for one year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionStandards {
    /// 6-digit administrative division code: county (`620102`), city (`620100`) or
    /// province (`620000`).
    pub region_code: String,
    /// Name for people, e.g. `兰州市`.
    pub region_name: String,
    /// The year the figures apply to.
    pub year: i32,
    /// Where the figures were published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Urban dibao standard (城市低保标准).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urban_dibao: Option<Amount>,
    /// Rural dibao standard (农村低保标准).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rural_dibao: Option<Amount>,
    /// Rural dibao amounts by class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rural_classes: Option<ClassAmounts>,
    /// Extreme-poverty basic living standards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extreme_poverty: Option<ExtremePoverty>,
    /// Care subsidy by self-care level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub care_subsidy: Option<CareSubsidy>,
}

impl RegionStandards {
    /// The dibao standard for urban or rural households.
    pub fn dibao_standard(&self, area: Area) -> Option<Amount> {
        match area {
            Area::Urban => self.urban_dibao,
            Area::Rural => self.rural_dibao,
        }
    }
}

/// A validated standards file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Standards {
    /// Schema version, [`STANDARDS_FORMAT`].
    pub format: u32,
    /// What this file is; samples say so here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// One entry per region and year.
    pub regions: Vec<RegionStandards>,
}

impl Standards {
    /// Parses and validates a standards file. Every problem is a [`FieldError`] naming the
    /// field (e.g. `regions[1].rural_classes.class_3.fen`); nothing is returned unless all
    /// of it is valid.
    pub fn from_json(json: &str) -> Result<Self> {
        let standards: Standards = serde_json::from_str(json).map_err(|e| {
            Error::invalid(
                FieldError::new("standards", "standards.json", e.to_string())
                    .with("line", e.line())
                    .with("column", e.column()),
            )
        })?;
        let errors = validate::validate(&standards);
        if errors.is_empty() {
            Ok(standards)
        } else {
            Err(Error::Invalid(errors))
        }
    }

    /// The standards that apply to a county in a year: the county's own entry, else its
    /// city's (`xxxx00`), else its province's (`xx0000`). `NotFound` when none exists — the
    /// county's configuration lacks that year.
    pub fn find(&self, county_code: &str, year: i32) -> Result<&RegionStandards> {
        if !validate::is_region_code(county_code) {
            return Err(Error::invalid(
                FieldError::new("county_code", "standards.region_code", "not a 6-digit code")
                    .with("value", county_code),
            ));
        }
        let city = format!("{}00", &county_code[..4]);
        let province = format!("{}0000", &county_code[..2]);
        let found = [county_code, city.as_str(), province.as_str()]
            .into_iter()
            .find_map(|code| {
                self.regions
                    .iter()
                    .find(|r| r.region_code == code && r.year == year)
            })
            .ok_or_else(|| Error::NotFound {
                what: "standards",
                id: format!("{county_code}/{year}"),
            });
        found
    }
}
