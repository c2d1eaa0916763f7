//! The typed household profile (家庭档案) as the app sees it.
//!
//! The model maps one-to-one onto the household's Automerge document (see
//! [`super::document`]): every struct is a map, every field a key holding one scalar. Keys this
//! version does not know (written by a newer app) are kept in the `extra` maps, shown to
//! callers, and never rewritten or deleted.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Unknown keys of a map, kept as they were found.
pub type Extra = BTreeMap<String, serde_json::Value>;

/// A household profile: where it is, who is in it, which programme it is enrolled in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Household {
    /// Random 128-bit id, 32 lower-case hex characters.
    pub id: String,
    pub profile: Profile,
    pub enrollment: Enrollment,
    /// Members keyed by a random member id (16 hex characters), so that members added on
    /// different tablets never collide.
    pub members: BTreeMap<String, Member>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Address and status of the household.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// County-level division code, 6 digits (e.g. `620102`).
    pub county_code: String,
    /// Township code, 9 digits, starting with the county code.
    pub township_code: String,
    /// Village (community) code, 12 digits, starting with the township code.
    pub village_code: String,
    /// Street address or village group, free text.
    pub address: String,
    /// The member who is the head of the household (户主).
    pub head_member_id: String,
    pub status: HouseholdStatus,
    /// Date the current status took effect.
    pub status_since: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Where the household stands in the assistance process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HouseholdStatus {
    /// Applied, not yet decided.
    Applicant,
    /// Receiving assistance.
    Active,
    /// In the gradual-exit period (渐退期).
    GradualExit,
    /// Benefit suspended pending review.
    Suspended,
    /// Left the programme.
    Exited,
}

/// The assistance programme the household is enrolled in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Enrollment {
    pub program: Program,
    /// Rural dibao class 1–4 (一类…四类); required for rural dibao, optional for urban dibao,
    /// absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dibao_class: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<NaiveDate>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Programmes of social assistance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Program {
    /// Not (yet) enrolled.
    None,
    /// 城市低保
    UrbanDibao,
    /// 农村低保
    RuralDibao,
    /// 分散供养特困人员
    ExtremePovertyDispersed,
    /// 集中供养特困人员
    ExtremePovertyConcentrated,
    /// 低保边缘家庭
    MarginalIncome,
}

/// A household member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub name: String,
    /// Resident ID number (GB 11643), normalised with an upper-case `X`.
    pub id_number: String,
    pub relation: Relation,
    pub birth_date: NaiveDate,
    pub health: Health,
    pub disability: Disability,
    /// Disability grade 1 (most severe) to 4; present exactly when `disability` is not `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disability_grade: Option<u8>,
    pub labour_ability: LabourAbility,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Relation to the head of household.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    Head,
    Spouse,
    Child,
    ChildInLaw,
    Parent,
    ParentInLaw,
    Grandparent,
    Grandchild,
    Sibling,
    Other,
}

/// Health as recorded on the visit form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    Healthy,
    ChronicIllness,
    SeriousIllness,
}

/// Disability category (the seven categories of the disability certificate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disability {
    None,
    Visual,
    Hearing,
    Speech,
    Physical,
    Intellectual,
    Mental,
    Multiple,
}

/// Ability to work (劳动能力).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LabourAbility {
    Full,
    Partial,
    None,
}

macro_rules! codes {
    ($ty:ident { $($variant:ident => $code:literal),* $(,)? }) => {
        impl $ty {
            /// Every value, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),*];

            /// The stable code stored in documents and indexes (same as its serde name).
            pub fn code(self) -> &'static str {
                match self { $($ty::$variant => $code),* }
            }
        }
    };
}

codes!(HouseholdStatus { Applicant => "applicant", Active => "active", GradualExit => "gradual_exit",
    Suspended => "suspended", Exited => "exited" });
codes!(Program { None => "none", UrbanDibao => "urban_dibao", RuralDibao => "rural_dibao",
    ExtremePovertyDispersed => "extreme_poverty_dispersed",
    ExtremePovertyConcentrated => "extreme_poverty_concentrated", MarginalIncome => "marginal_income" });
codes!(Relation { Head => "head", Spouse => "spouse", Child => "child", ChildInLaw => "child_in_law",
    Parent => "parent", ParentInLaw => "parent_in_law", Grandparent => "grandparent",
    Grandchild => "grandchild", Sibling => "sibling", Other => "other" });
codes!(Health { Healthy => "healthy", ChronicIllness => "chronic_illness", SeriousIllness => "serious_illness" });
codes!(Disability { None => "none", Visual => "visual", Hearing => "hearing", Speech => "speech",
    Physical => "physical", Intellectual => "intellectual", Mental => "mental", Multiple => "multiple" });
codes!(LabourAbility { Full => "full", Partial => "partial", None => "none" });

/// Input for creating a household: the id and member ids are assigned by the store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewHousehold {
    pub county_code: String,
    pub township_code: String,
    pub village_code: String,
    pub address: String,
    pub status: HouseholdStatus,
    pub status_since: NaiveDate,
    pub phone: Option<String>,
    pub enrollment: Enrollment,
    /// Members; exactly one has [`Relation::Head`].
    pub members: Vec<Member>,
}

impl Household {
    /// The head of household, if the head member id points at a member.
    pub fn head(&self) -> Option<&Member> {
        self.members.get(&self.profile.head_member_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serde_name<T: Serialize>(value: T) -> String {
        serde_json::to_value(value)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    #[test]
    fn codes_match_the_stored_names() {
        for v in HouseholdStatus::ALL {
            assert_eq!(v.code(), serde_name(v));
        }
        for v in Program::ALL {
            assert_eq!(v.code(), serde_name(v));
        }
        for v in Relation::ALL {
            assert_eq!(v.code(), serde_name(v));
        }
        for v in Health::ALL {
            assert_eq!(v.code(), serde_name(v));
        }
        for v in Disability::ALL {
            assert_eq!(v.code(), serde_name(v));
        }
        for v in LabourAbility::ALL {
            assert_eq!(v.code(), serde_name(v));
        }
    }
}
