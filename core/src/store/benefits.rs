//! Benefit amounts and the village publicity list, from the household, its case and the
//! county's published standards. The rules are in [`crate::standards::benefit`] (amounts
//! in fen, the rounding rule stated there) and [`crate::case::publicity`] (what a list
//! may show).

use super::{ListFilter, Store};
use crate::case::{publicity_entry, CaseStage, PublicityEntry};
use crate::error::{Error, FieldError, Result};
use crate::standards::{class_benefit, gap_benefit, Amount, Area, Benefit};

/// How a household's benefit is computed (both modes the national rules allow).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BenefitBasis {
    /// The standard for `area` minus the household's per-capita income, per member.
    GapToStandard {
        /// Urban or rural standard.
        area: Area,
        /// The household's total income over the period it names.
        household_income: Amount,
    },
    /// The rural class amount per member.
    FixedByClass {
        /// Rural dibao class 1–4.
        class: u8,
    },
}

impl Store {
    /// The monthly benefit of a household in `year` under the county's published standards
    /// (its own entry, else its city's or province's); every member of the household is
    /// covered.
    pub fn household_benefit(
        &mut self,
        household_id: &str,
        year: i32,
        basis: BenefitBasis,
    ) -> Result<Benefit> {
        let members = u32::try_from(self.household(household_id)?.household.members.len())
            .unwrap_or(u32::MAX);
        let county = self.county_code()?.unwrap_or_default();
        let standards = self.standards()?.ok_or_else(|| Error::NotFound {
            what: "standards of the county configuration",
            id: county.clone(),
        })?;
        let region = standards.find(&county, year)?;
        let missing = |what: &str| {
            Error::invalid(
                FieldError::new(what, "standards.missing", "not published for this year")
                    .with("region", &region.region_code)
                    .with("year", year),
            )
        };
        match basis {
            BenefitBasis::GapToStandard {
                area,
                household_income,
            } => {
                let field = match area {
                    Area::Urban => "urban_dibao",
                    Area::Rural => "rural_dibao",
                };
                let standard = region.dibao_standard(area).ok_or_else(|| missing(field))?;
                gap_benefit(&standard, &household_income, members)
            }
            BenefitBasis::FixedByClass { class } => {
                let classes = region
                    .rural_classes
                    .as_ref()
                    .ok_or_else(|| missing("rural_classes"))?;
                class_benefit(classes, class, members)
            }
        }
    }

    /// The publicity list (公示) of a village: each household whose case is in publicity,
    /// with only the head's name, the household size and the proposed monthly amount.
    pub fn publicity_list(&mut self, village_code: &str) -> Result<Vec<PublicityEntry>> {
        let households = self.list_village(village_code, &ListFilter::default())?;
        let mut entries = Vec::new();
        for summary in households {
            let Some(case) = self.county_case(&summary.id)?.case else {
                continue;
            };
            if case.stage != CaseStage::Publicity {
                continue;
            }
            let household = self.household(&summary.id)?.household;
            entries.push(publicity_entry(&household, &case)?);
        }
        Ok(entries)
    }
}
