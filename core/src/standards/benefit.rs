//! Benefit computation in the two modes the national rules allow, in integer fen.
//!
//! - **Gap to the standard** (补差): per-capita monthly income is the household's income
//!   divided by its members (and by 12 when the income is yearly), **rounded half up to the
//!   fen** in one division; the gap per person is the monthly standard minus that, never
//!   below zero; the household's monthly benefit is the gap times the members.
//! - **Fixed amount by class** (分类施保): the class's monthly amount times the members.
//!
//! Rounding rule, everywhere: one division per figure, rounded half up to the fen (an
//! exact half fen goes up). A yearly standard becomes monthly as `round(yearly / 12)`;
//! a monthly figure becomes yearly as `monthly × 12` (exact). Benefits are paid monthly,
//! so [`Benefit::monthly_fen`] is the authoritative figure and the yearly total is twelve
//! of it. Multiplications are checked; an overflow is an error, never a wrapped number.

use serde::{Deserialize, Serialize};

use super::validate::MAX_AMOUNT_FEN;
use super::{Amount, ClassAmounts, Period};
use crate::error::{Error, FieldError, Result};

/// The most members a household may be computed for.
pub const MAX_MEMBERS: u32 = 100;

/// `n / d` rounded half up, for `n >= 0` and `d > 0`; `None` otherwise.
pub fn div_round_half_up(n: i64, d: i64) -> Option<i64> {
    if n < 0 || d <= 0 {
        return None;
    }
    let (n, d) = (i128::from(n), i128::from(d));
    i64::try_from((2 * n + d) / (2 * d)).ok()
}

/// Which mode produced a benefit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BenefitMode {
    /// Standard minus per-capita income, times members.
    GapToStandard,
    /// A fixed amount per person by rural class.
    FixedByClass { class: u8 },
}

/// A household's computed benefit, with the figures it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Benefit {
    pub mode: BenefitMode,
    pub members: u32,
    /// The standard or class amount per person per month (rounded as stated above).
    pub standard_monthly_fen: i64,
    /// Per-capita monthly income (gap mode only).
    pub per_capita_income_monthly_fen: Option<i64>,
    /// What each member receives per month.
    pub per_person_monthly_fen: i64,
    /// What the household receives per month (the amount paid).
    pub monthly_fen: i64,
}

impl Benefit {
    /// Twelve monthly payments.
    pub fn yearly_fen(&self) -> Result<i64> {
        mul(self.monthly_fen, 12, "monthly_fen")
    }
}

fn mul(a: i64, b: i64, field: &str) -> Result<i64> {
    a.checked_mul(b).ok_or_else(|| overflow(field))
}

fn overflow(field: &str) -> Error {
    Error::invalid(FieldError::new(
        field,
        "benefit.overflow",
        "the amount is too large to compute",
    ))
}

fn check_members(members: u32) -> Result<()> {
    if members == 0 || members > MAX_MEMBERS {
        return Err(Error::invalid(
            FieldError::new("members", "benefit.members", "members out of range")
                .with("value", members)
                .with("min", 1)
                .with("max", MAX_MEMBERS),
        ));
    }
    Ok(())
}

fn standard_monthly(amount: &Amount, field: &str) -> Result<i64> {
    if amount.fen <= 0 || amount.fen > MAX_AMOUNT_FEN {
        return Err(Error::invalid(
            FieldError::new(
                format!("{field}.fen"),
                "standards.amount_range",
                "amount out of range",
            )
            .with("value", amount.fen),
        ));
    }
    amount.monthly_fen().ok_or_else(|| overflow(field))
}

/// Gap mode: `(monthly standard − per-capita monthly income) × members`, never negative.
/// `household_income` is the household's total income for the period it names (negative
/// income is refused: the caller decides how a business loss counts).
pub fn gap_benefit(standard: &Amount, household_income: &Amount, members: u32) -> Result<Benefit> {
    check_members(members)?;
    let standard_monthly_fen = standard_monthly(standard, "standard")?;
    if household_income.fen < 0 {
        return Err(Error::invalid(
            FieldError::new(
                "household_income.fen",
                "benefit.income_negative",
                "household income cannot be negative",
            )
            .with("value", household_income.fen),
        ));
    }
    let months = match household_income.per {
        Period::Month => 1,
        Period::Year => 12,
    };
    let per_capita = div_round_half_up(household_income.fen, i64::from(members) * months)
        .ok_or_else(|| overflow("household_income"))?;
    let per_person = (standard_monthly_fen - per_capita).max(0);
    Ok(Benefit {
        mode: BenefitMode::GapToStandard,
        members,
        standard_monthly_fen,
        per_capita_income_monthly_fen: Some(per_capita),
        per_person_monthly_fen: per_person,
        monthly_fen: mul(per_person, i64::from(members), "members")?,
    })
}

/// Class mode: the class's monthly amount per person times the members.
pub fn class_benefit(classes: &ClassAmounts, class: u8, members: u32) -> Result<Benefit> {
    check_members(members)?;
    let amount = classes.class(class).ok_or_else(|| {
        Error::invalid(
            FieldError::new("class", "benefit.class", "rural dibao class must be 1 to 4")
                .with("value", class),
        )
    })?;
    let per_person = standard_monthly(&amount, &format!("rural_classes.class_{class}"))?;
    Ok(Benefit {
        mode: BenefitMode::FixedByClass { class },
        members,
        standard_monthly_fen: per_person,
        per_capita_income_monthly_fen: None,
        per_person_monthly_fen: per_person,
        monthly_fen: mul(per_person, i64::from(members), "members")?,
    })
}

/// What `people` cost at `per_person_monthly_fen` each for `months` months (a budget
/// allocation, e.g. the 2017 county example: 19,110 × 153 yuan × 12).
pub fn allocation_fen(people: u64, per_person_monthly_fen: i64, months: u32) -> Result<i64> {
    if per_person_monthly_fen < 0 {
        return Err(Error::invalid(
            FieldError::new(
                "per_person_monthly_fen",
                "benefit.amount_negative",
                "amount cannot be negative",
            )
            .with("value", per_person_monthly_fen),
        ));
    }
    let people = i64::try_from(people).map_err(|_| overflow("people"))?;
    mul(
        mul(people, per_person_monthly_fen, "people")?,
        i64::from(months),
        "months",
    )
}

/// People by rural dibao class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ClassCounts {
    pub class_1: u64,
    pub class_2: u64,
    pub class_3: u64,
    pub class_4: u64,
}

impl ClassCounts {
    /// Everyone, all classes (saturating; counts are people).
    pub fn total(&self) -> u64 {
        self.in_classes(&[1, 2, 3, 4])
    }

    /// The people in the listed classes (other class numbers count nothing).
    pub fn in_classes(&self, classes: &[u8]) -> u64 {
        classes
            .iter()
            .map(|c| match c {
                1 => self.class_1,
                2 => self.class_2,
                3 => self.class_3,
                4 => self.class_4,
                _ => 0,
            })
            .fold(0u64, u64::saturating_add)
    }

    /// The yearly cost of every class at its amount: Σ people × yearly amount per person.
    pub fn yearly_cost_fen(&self, amounts: &ClassAmounts) -> Result<i64> {
        let mut total: i64 = 0;
        for class in 1..=4u8 {
            let people =
                i64::try_from(self.in_classes(&[class])).map_err(|_| overflow("people"))?;
            let field = format!("rural_classes.class_{class}");
            let amount = amounts
                .class(class)
                .and_then(|a| a.yearly_fen())
                .ok_or_else(|| overflow(&field))?;
            total = total
                .checked_add(mul(people, amount, &field)?)
                .ok_or_else(|| overflow("total"))?;
        }
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn division_rounds_half_up_to_the_fen() {
        assert_eq!(div_round_half_up(350_000, 12), Some(29_167)); // 29166.67
        assert_eq!(div_round_half_up(15, 2), Some(8)); // exact half goes up
        assert_eq!(div_round_half_up(13, 2), Some(7));
        assert_eq!(div_round_half_up(14, 3), Some(5)); // 4.67
        assert_eq!(div_round_half_up(13, 3), Some(4)); // 4.33
        assert_eq!(div_round_half_up(0, 7), Some(0));
        assert_eq!(div_round_half_up(-1, 7), None);
        assert_eq!(div_round_half_up(1, 0), None);
        assert_eq!(div_round_half_up(i64::MAX, 1), Some(i64::MAX));
    }

    #[test]
    fn gap_mode_pays_the_gap_per_person_times_members() {
        // Standard 914 yuan/month, household of 3 with 1,000 yuan a month: per capita
        // 333.33 yuan, gap 580.67 yuan, household 1,742.01 yuan.
        let b = gap_benefit(&Amount::monthly(91_400), &Amount::monthly(100_000), 3).unwrap();
        assert_eq!(b.per_capita_income_monthly_fen, Some(33_333));
        assert_eq!(b.per_person_monthly_fen, 58_067);
        assert_eq!(b.monthly_fen, 174_201);
        assert_eq!(b.yearly_fen().unwrap(), 2_090_412);
    }

    #[test]
    fn gap_mode_with_yearly_figures_rounds_once_per_figure() {
        // Rural 5,268 yuan/year = 439 yuan/month exactly; yearly income 10,001 yuan for 2
        // people: 1,000,100 / 24 = 41,670.83 -> 41,671 fen per person per month.
        let b = gap_benefit(&Amount::yearly(526_800), &Amount::yearly(1_000_100), 2).unwrap();
        assert_eq!(b.standard_monthly_fen, 43_900);
        assert_eq!(b.per_capita_income_monthly_fen, Some(41_671));
        assert_eq!(b.per_person_monthly_fen, 2_229);
        assert_eq!(b.monthly_fen, 4_458);
    }

    #[test]
    fn income_above_the_standard_gives_nothing_not_a_negative_amount() {
        let b = gap_benefit(&Amount::monthly(91_400), &Amount::monthly(500_000), 2).unwrap();
        assert_eq!((b.per_person_monthly_fen, b.monthly_fen), (0, 0));
    }

    #[test]
    fn bad_inputs_are_typed_errors_naming_the_field() {
        let code = |r: Result<Benefit>| {
            let e = r.unwrap_err();
            let f = &e.field_errors()[0];
            (f.field.clone(), f.code)
        };
        let std = Amount::monthly(91_400);
        assert_eq!(
            code(gap_benefit(&std, &Amount::monthly(1), 0)),
            ("members".into(), "benefit.members")
        );
        assert_eq!(
            code(gap_benefit(&std, &Amount::monthly(-5), 2)),
            ("household_income.fen".into(), "benefit.income_negative")
        );
        assert_eq!(
            code(gap_benefit(&Amount::monthly(0), &Amount::monthly(1), 2)),
            ("standard.fen".into(), "standards.amount_range")
        );
        let classes = ClassAmounts {
            class_1: Amount::yearly(350_000),
            class_2: Amount::yearly(330_000),
            class_3: Amount::yearly(100_800),
            class_4: Amount::yearly(69_600),
        };
        assert_eq!(
            code(class_benefit(&classes, 5, 1)),
            ("class".into(), "benefit.class")
        );
        assert_eq!(
            allocation_fen(u64::MAX, 1, 12).unwrap_err().field_errors()[0].code,
            "benefit.overflow"
        );
        assert_eq!(
            allocation_fen(1, -1, 12).unwrap_err().field_errors()[0].code,
            "benefit.amount_negative"
        );
        let huge = Benefit {
            mode: BenefitMode::GapToStandard,
            members: 1,
            standard_monthly_fen: 0,
            per_capita_income_monthly_fen: None,
            per_person_monthly_fen: i64::MAX,
            monthly_fen: i64::MAX,
        };
        assert_eq!(
            huge.yearly_fen().unwrap_err().field_errors()[0].code,
            "benefit.overflow"
        );
    }

    #[test]
    fn class_mode_pays_the_monthly_class_amount_per_member() {
        let classes = ClassAmounts {
            class_1: Amount::yearly(350_000),
            class_2: Amount::yearly(330_000),
            class_3: Amount::yearly(100_800),
            class_4: Amount::yearly(69_600),
        };
        let b = class_benefit(&classes, 1, 2).unwrap();
        assert_eq!(b.mode, BenefitMode::FixedByClass { class: 1 });
        assert_eq!(b.per_person_monthly_fen, 29_167); // 3,500 / 12 = 291.666… yuan
        assert_eq!(b.monthly_fen, 58_334);
        assert_eq!(class_benefit(&classes, 4, 3).unwrap().monthly_fen, 17_400);
    }
}
