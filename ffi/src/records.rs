//! Records crossing the boundary, and their conversion to and from core types.
//!
//! Codes (relation, health, programme, status, …) travel as their stable strings and dates as
//! `YYYY-MM-DD`; a bad code or date from the app is an `InvalidInput` naming the field.

use chrono::NaiveDate;
use ruhu_core::household::{Enrollment, FieldConflict, Household, Member, NewHousehold, Profile};
use ruhu_core::store::HouseholdSummary;
use ruhu_core::HouseholdRecord;
use serde::de::DeserializeOwned;

use crate::error::{FfiError, FieldProblem};

/// A household member. `member_id` is empty for a member not yet saved.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct MemberData {
    pub member_id: String,
    pub name: String,
    pub id_number: String,
    /// `head`, `spouse`, `child`, `child_in_law`, `parent`, `parent_in_law`, `grandparent`,
    /// `grandchild`, `sibling`, `other`.
    pub relation: String,
    pub birth_date: String,
    /// `healthy`, `chronic_illness`, `serious_illness`.
    pub health: String,
    /// `none`, `visual`, `hearing`, `speech`, `physical`, `intellectual`, `mental`, `multiple`.
    pub disability: String,
    pub disability_grade: Option<u8>,
    /// `full`, `partial`, `none`.
    pub labour_ability: String,
}

/// A household profile. `id` and `head_member_id` are empty for a household not yet saved
/// (the head is then the member whose relation is `head`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HouseholdData {
    pub id: String,
    pub county_code: String,
    pub township_code: String,
    pub village_code: String,
    pub address: String,
    pub head_member_id: String,
    /// `applicant`, `active`, `gradual_exit`, `suspended`, `exited`.
    pub status: String,
    pub status_since: String,
    pub phone: Option<String>,
    /// `none`, `urban_dibao`, `rural_dibao`, `extreme_poverty_dispersed`,
    /// `extreme_poverty_concentrated`, `marginal_income`.
    pub program: String,
    pub dibao_class: Option<u8>,
    pub enrollment_start: Option<String>,
    pub enrollment_end: Option<String>,
    pub members: Vec<MemberData>,
}

/// One competing value of a conflicted field.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ConflictValueData {
    /// The value as JSON text.
    pub value_json: String,
    pub author: Option<String>,
    pub time_unix: i64,
}

/// A field that two tablets set to different values.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FieldConflictData {
    pub field: String,
    pub values: Vec<ConflictValueData>,
}

/// A household as read, with the heads to pass back when saving an edit.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HouseholdView {
    pub household: HouseholdData,
    pub heads: Vec<String>,
    pub conflicts: Vec<FieldConflictData>,
    pub problems: Vec<FieldProblem>,
    /// Fields written by a newer app version, as JSON (read-only here).
    pub unknown_fields_json: String,
}

/// One line of a household list.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HouseholdSummaryData {
    pub id: String,
    pub village_code: String,
    pub head_name: String,
    pub member_count: u32,
    pub program: String,
    pub dibao_class: Option<u8>,
    pub status: String,
    pub has_conflicts: bool,
}

pub(crate) fn code<T: DeserializeOwned>(field: &str, value: &str) -> Result<T, FfiError> {
    serde_json::from_value(serde_json::Value::String(value.to_owned()))
        .map_err(|_| FfiError::invalid(field, "code.unknown", format!("unknown code {value:?}")))
}

fn date(field: &str, value: &str) -> Result<NaiveDate, FfiError> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| {
        FfiError::invalid(
            field,
            "date.format",
            format!("{value:?} is not a YYYY-MM-DD date"),
        )
    })
}

fn optional_date(field: &str, value: &Option<String>) -> Result<Option<NaiveDate>, FfiError> {
    value.as_deref().map(|v| date(field, v)).transpose()
}

pub(crate) fn code_of<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

impl MemberData {
    fn to_core(&self, index: usize) -> Result<Member, FfiError> {
        let f = |name: &str| format!("members[{index}].{name}");
        Ok(Member {
            name: self.name.clone(),
            id_number: self.id_number.clone(),
            relation: code(&f("relation"), &self.relation)?,
            birth_date: date(&f("birth_date"), &self.birth_date)?,
            health: code(&f("health"), &self.health)?,
            disability: code(&f("disability"), &self.disability)?,
            disability_grade: self.disability_grade,
            labour_ability: code(&f("labour_ability"), &self.labour_ability)?,
            extra: Default::default(),
        })
    }

    fn from_core(member_id: &str, m: &Member) -> Self {
        Self {
            member_id: member_id.to_owned(),
            name: m.name.clone(),
            id_number: m.id_number.clone(),
            relation: code_of(&m.relation),
            birth_date: m.birth_date.to_string(),
            health: code_of(&m.health),
            disability: code_of(&m.disability),
            disability_grade: m.disability_grade,
            labour_ability: code_of(&m.labour_ability),
        }
    }
}

impl HouseholdData {
    fn enrollment(&self) -> Result<Enrollment, FfiError> {
        Ok(Enrollment {
            program: code("program", &self.program)?,
            dibao_class: self.dibao_class,
            start_date: optional_date("enrollment_start", &self.enrollment_start)?,
            end_date: optional_date("enrollment_end", &self.enrollment_end)?,
            extra: Default::default(),
        })
    }

    /// A new household (ids are assigned by the store).
    pub(crate) fn to_new(&self) -> Result<NewHousehold, FfiError> {
        Ok(NewHousehold {
            county_code: self.county_code.clone(),
            township_code: self.township_code.clone(),
            village_code: self.village_code.clone(),
            address: self.address.clone(),
            status: code("status", &self.status)?,
            status_since: date("status_since", &self.status_since)?,
            phone: self.phone.clone(),
            enrollment: self.enrollment()?,
            members: self
                .members
                .iter()
                .enumerate()
                .map(|(i, m)| m.to_core(i))
                .collect::<Result<_, _>>()?,
        })
    }

    /// An edited household; members with an empty id are new and get a random id.
    pub(crate) fn to_core(&self) -> Result<Household, FfiError> {
        let mut members = std::collections::BTreeMap::new();
        for (i, m) in self.members.iter().enumerate() {
            let id = if m.member_id.is_empty() {
                ruhu_core::household::new_member_id()?
            } else {
                m.member_id.clone()
            };
            members.insert(id, m.to_core(i)?);
        }
        Ok(Household {
            id: self.id.clone(),
            profile: Profile {
                county_code: self.county_code.clone(),
                township_code: self.township_code.clone(),
                village_code: self.village_code.clone(),
                address: self.address.clone(),
                head_member_id: self.head_member_id.clone(),
                status: code("status", &self.status)?,
                status_since: date("status_since", &self.status_since)?,
                phone: self.phone.clone(),
                extra: Default::default(),
            },
            enrollment: self.enrollment()?,
            members,
            extra: Default::default(),
        })
    }

    fn from_core(h: &Household) -> Self {
        Self {
            id: h.id.clone(),
            county_code: h.profile.county_code.clone(),
            township_code: h.profile.township_code.clone(),
            village_code: h.profile.village_code.clone(),
            address: h.profile.address.clone(),
            head_member_id: h.profile.head_member_id.clone(),
            status: code_of(&h.profile.status),
            status_since: h.profile.status_since.to_string(),
            phone: h.profile.phone.clone(),
            program: code_of(&h.enrollment.program),
            dibao_class: h.enrollment.dibao_class,
            enrollment_start: h.enrollment.start_date.map(|d| d.to_string()),
            enrollment_end: h.enrollment.end_date.map(|d| d.to_string()),
            members: h
                .members
                .iter()
                .map(|(id, m)| MemberData::from_core(id, m))
                .collect(),
        }
    }
}

impl From<HouseholdRecord> for HouseholdView {
    fn from(r: HouseholdRecord) -> Self {
        let h = &r.household;
        let unknown = serde_json::json!({
            "household": h.extra,
            "profile": h.profile.extra,
            "enrollment": h.enrollment.extra,
            "members": h.members.iter().filter(|(_, m)| !m.extra.is_empty()).map(|(id, m)| (id.clone(), m.extra.clone())).collect::<std::collections::BTreeMap<_, _>>(),
        });
        Self {
            household: HouseholdData::from_core(h),
            heads: r.heads.iter().map(|h| h.to_string()).collect(),
            conflicts: r.conflicts.into_iter().map(Into::into).collect(),
            problems: r
                .problems
                .into_iter()
                .map(|p| FieldProblem {
                    field: p.field,
                    code: p.code.to_owned(),
                    params: p.params.into_iter().collect(),
                    detail: p.message,
                })
                .collect(),
            unknown_fields_json: unknown.to_string(),
        }
    }
}

impl From<FieldConflict> for FieldConflictData {
    fn from(c: FieldConflict) -> Self {
        Self {
            field: c.field,
            values: c
                .values
                .into_iter()
                .map(|v| ConflictValueData {
                    value_json: v.value.to_string(),
                    author: v.author,
                    time_unix: v.time_unix,
                })
                .collect(),
        }
    }
}

impl From<HouseholdSummary> for HouseholdSummaryData {
    fn from(s: HouseholdSummary) -> Self {
        Self {
            id: s.id,
            village_code: s.village_code,
            head_name: s.head_name,
            member_count: s.member_count,
            program: s.program,
            dibao_class: s.dibao_class,
            status: s.status,
            has_conflicts: s.has_conflicts,
        }
    }
}

/// Parses change hashes (64 hex characters each) given by the app.
pub(crate) fn parse_heads(heads: &[String]) -> Result<Vec<automerge::ChangeHash>, FfiError> {
    heads
        .iter()
        .enumerate()
        .map(|(i, h)| {
            h.parse().map_err(|_| {
                FfiError::invalid(
                    &format!("heads[{i}]"),
                    "heads.format",
                    "not a 64-character change hash",
                )
            })
        })
        .collect()
}
