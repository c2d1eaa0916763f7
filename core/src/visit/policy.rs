//! Which roles must sign a visit, by purpose. This is **configuration**: the provincial
//! rule is a three-person team (township leader, village-stationed cadre, case handler);
//! the national minimum is two investigators. Counties load their own policy.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, FieldError, Result};
use crate::signing::certificate::Role;

/// Why the team visits the household (serialized in snake_case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Investigation of a new application (入户调查).
    NewApplication,
    /// Yearly or half-yearly review of an enrolled household.
    PeriodicReview,
    /// Review in the last month of a gradual-exit period (渐退期).
    GradualExitReview,
    /// The county's re-visit of a sampled newly admitted household.
    CountySpotCheck,
    /// A regular care visit (包户包人定期走访).
    CareVisit,
}

impl Purpose {
    /// Every purpose, in a fixed order.
    pub const ALL: [Purpose; 5] = [
        Purpose::NewApplication,
        Purpose::PeriodicReview,
        Purpose::GradualExitReview,
        Purpose::CountySpotCheck,
        Purpose::CareVisit,
    ];

    /// The serialized name, e.g. `"new_application"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::NewApplication => "new_application",
            Purpose::PeriodicReview => "periodic_review",
            Purpose::GradualExitReview => "gradual_exit_review",
            Purpose::CountySpotCheck => "county_spot_check",
            Purpose::CareVisit => "care_visit",
        }
    }

    /// Parses the serialized name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == text)
    }
}

/// The roles whose signatures make a visit complete, per purpose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitPolicy {
    required: BTreeMap<Purpose, Vec<Role>>,
}

/// The provincial three-person team.
pub const THREE_PERSON_TEAM: [Role; 3] =
    [Role::TownshipLeader, Role::VillageCadre, Role::CaseHandler];

impl Default for VisitPolicy {
    /// The provincial rule: township leader, village cadre and case handler for every purpose.
    fn default() -> Self {
        Self {
            required: Purpose::ALL
                .into_iter()
                .map(|p| (p, THREE_PERSON_TEAM.to_vec()))
                .collect(),
        }
    }
}

impl VisitPolicy {
    /// The national minimum: two investigators (case handler and village cadre) for every
    /// purpose.
    pub fn national_minimum() -> Self {
        Self {
            required: Purpose::ALL
                .into_iter()
                .map(|p| (p, vec![Role::CaseHandler, Role::VillageCadre]))
                .collect(),
        }
    }

    /// This policy with `roles` required for `purpose` (at least one, no duplicates).
    pub fn with_roles(mut self, purpose: Purpose, roles: &[Role]) -> Result<Self> {
        if roles.is_empty() {
            return Err(Error::invalid(FieldError::new(
                format!("policy.{}", purpose.as_str()),
                "policy.no_roles",
                "a purpose needs at least one required role",
            )));
        }
        if (1..roles.len()).any(|i| roles[..i].contains(&roles[i])) {
            return Err(Error::invalid(FieldError::new(
                format!("policy.{}", purpose.as_str()),
                "policy.duplicate_role",
                "a role is listed twice",
            )));
        }
        let mut sorted = roles.to_vec();
        sorted.sort();
        self.required.insert(purpose, sorted);
        Ok(self)
    }

    /// The roles that must sign a visit of `purpose` (sorted; each by a distinct person).
    pub fn required_roles(&self, purpose: Purpose) -> Vec<Role> {
        let mut roles = self
            .required
            .get(&purpose)
            .cloned()
            .unwrap_or_else(|| THREE_PERSON_TEAM.to_vec());
        roles.sort();
        roles
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_and_national_minimum() {
        let p = VisitPolicy::default();
        for purpose in Purpose::ALL {
            assert_eq!(p.required_roles(purpose).len(), 3);
            assert_eq!(Purpose::parse(purpose.as_str()), Some(purpose));
        }
        assert_eq!(
            VisitPolicy::national_minimum().required_roles(Purpose::CareVisit),
            vec![Role::VillageCadre, Role::CaseHandler]
        );
        let custom = VisitPolicy::default()
            .with_roles(Purpose::CountySpotCheck, &[Role::CountySupervisor])
            .unwrap();
        assert_eq!(
            custom.required_roles(Purpose::CountySpotCheck),
            vec![Role::CountySupervisor]
        );
        assert!(VisitPolicy::default()
            .with_roles(Purpose::CareVisit, &[])
            .is_err());
        assert!(VisitPolicy::default()
            .with_roles(Purpose::CareVisit, &[Role::CaseHandler, Role::CaseHandler])
            .is_err());
    }
}
