//! Benefit amounts and the village publicity list on [`TabletStore`]: one-liners over
//! `ruhu_core::Store::household_benefit` and `Store::publicity_list`. Amounts are in fen;
//! the rounding rule is in `docs/standards-and-calendars.md`.

use ruhu_core::case::{publicity_csv, PublicityEntry};
use ruhu_core::standards::{Amount, Area, Benefit, BenefitMode};
use ruhu_core::store::BenefitBasis;

use crate::error::FfiError;
use crate::store::TabletStore;

/// A household's monthly benefit and the figures it came from.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BenefitData {
    /// `gap_to_standard` or `fixed_by_class`.
    pub mode: String,
    /// The rural class, in class mode.
    pub rural_class: Option<u8>,
    pub members: u32,
    /// The standard (gap mode) or class amount per person per month.
    pub standard_monthly_fen: i64,
    /// Per-capita monthly income (gap mode).
    pub per_capita_income_monthly_fen: Option<i64>,
    pub per_person_monthly_fen: i64,
    /// What the household receives per month.
    pub monthly_fen: i64,
}

impl From<Benefit> for BenefitData {
    fn from(b: Benefit) -> Self {
        let (mode, class) = match b.mode {
            BenefitMode::GapToStandard => ("gap_to_standard", None),
            BenefitMode::FixedByClass { class } => ("fixed_by_class", Some(class)),
        };
        Self {
            mode: mode.into(),
            rural_class: class,
            members: b.members,
            standard_monthly_fen: b.standard_monthly_fen,
            per_capita_income_monthly_fen: b.per_capita_income_monthly_fen,
            per_person_monthly_fen: b.per_person_monthly_fen,
            monthly_fen: b.monthly_fen,
        }
    }
}

/// One line of the publicity list: nothing but these three.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PublicityLineData {
    pub name: String,
    pub household_size: u32,
    pub monthly_fen: i64,
}

impl From<PublicityEntry> for PublicityLineData {
    fn from(e: PublicityEntry) -> Self {
        Self {
            name: e.name,
            household_size: e.household_size,
            monthly_fen: e.monthly_fen,
        }
    }
}

#[uniffi::export]
impl TabletStore {
    /// Gap mode: the county's urban or rural dibao standard for `year` minus the household's
    /// per-capita income (`household_income_yearly_fen` over all its members), per member.
    pub fn household_benefit_gap(
        &self,
        household_id: String,
        year: i32,
        rural: bool,
        household_income_yearly_fen: i64,
    ) -> Result<BenefitData, FfiError> {
        let basis = BenefitBasis::GapToStandard {
            area: if rural { Area::Rural } else { Area::Urban },
            household_income: Amount::yearly(household_income_yearly_fen),
        };
        Ok(self
            .store()?
            .household_benefit(&household_id, year, basis)?
            .into())
    }

    /// Class mode: the county's rural class amount for `year`, per member.
    pub fn household_benefit_by_class(
        &self,
        household_id: String,
        year: i32,
        rural_class: u8,
    ) -> Result<BenefitData, FfiError> {
        let basis = BenefitBasis::FixedByClass { class: rural_class };
        Ok(self
            .store()?
            .household_benefit(&household_id, year, basis)?
            .into())
    }

    /// The publicity list of a village: households in publicity, with only the head's name,
    /// the household size and the monthly amount.
    pub fn publicity_list(&self, village_code: String) -> Result<Vec<PublicityLineData>, FfiError> {
        let list = self.store()?.publicity_list(&village_code)?;
        Ok(list.into_iter().map(Into::into).collect())
    }

    /// The same list as CSV (UTF-8, `户主姓名,保障人数,月保障金额(元)`), cells safe to open
    /// in a spreadsheet.
    pub fn publicity_csv(&self, village_code: String) -> Result<String, FfiError> {
        Ok(publicity_csv(&self.store()?.publicity_list(&village_code)?))
    }
}
