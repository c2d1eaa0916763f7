//! The village publicity list (公示): by rule it may show only the name of the household
//! head, the household size and the amount — nothing else (no ID number, address, income,
//! health, disability, other members). [`PublicityEntry`] has exactly those three fields,
//! so nothing else can reach the export.

use serde::{Deserialize, Serialize};

use super::error::CaseError;
use super::state::Case;
use crate::household::Household;

/// One line of the publicity list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicityEntry {
    /// Name of the household head.
    pub name: String,
    /// Persons covered.
    pub household_size: u32,
    /// Household amount per month, in fen.
    pub monthly_fen: i64,
}

/// The publicity line of a household: the head's name with the decided benefit, or the
/// township's proposal while undecided.
pub fn publicity_entry(household: &Household, case: &Case) -> Result<PublicityEntry, CaseError> {
    let amount =
        case.benefit
            .as_ref()
            .or(case.proposal.as_ref())
            .ok_or(CaseError::InvalidField {
                field: "proposal",
                reason: "the case has no proposed or decided amount to publish",
            })?;
    let head = household.head().ok_or(CaseError::InvalidField {
        field: "profile.head_member_id",
        reason: "the household has no head to publish",
    })?;
    Ok(PublicityEntry {
        name: head.name.clone(),
        household_size: amount.household_size,
        monthly_fen: amount.monthly_fen,
    })
}

fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let fen = fen.unsigned_abs();
    format!("{sign}{}.{:02}", fen / 100, fen % 100)
}

/// A CSV cell: quoted when needed, and never read as a spreadsheet formula.
fn cell(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// The publicity list as CSV (UTF-8): `户主姓名,保障人数,月保障金额(元)`.
pub fn publicity_csv(entries: &[PublicityEntry]) -> String {
    let mut out = String::from("户主姓名,保障人数,月保障金额(元)\n");
    for e in entries {
        out.push_str(&format!(
            "{},{},{}\n",
            cell(&e.name),
            e.household_size,
            yuan(e.monthly_fen)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_yuan_with_two_decimals_and_names_cannot_be_formulas() {
        let csv = publicity_csv(&[
            PublicityEntry {
                name: "王秀英".into(),
                household_size: 3,
                monthly_fen: 174_201,
            },
            PublicityEntry {
                name: "=HYPERLINK(\"x\")".into(),
                household_size: 1,
                monthly_fen: 5,
            },
        ]);
        assert_eq!(
            csv,
            "户主姓名,保障人数,月保障金额(元)\n王秀英,3,1742.01\n\"'=HYPERLINK(\"\"x\"\")\",1,0.05\n"
        );
    }
}
