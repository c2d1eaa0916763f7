//! The figures of dispersed care as configuration: the default care plan (the Lanzhou
//! "四个一": clean once a week, wash clothes and bedding every half month, a haircut once a
//! month, buy daily necessities every half year), how early a task is listed as due soon,
//! how early an agreement's expiry is flagged, and how often a township leader visits.
//! Counties publish their own in the signed configuration (`care_policy`); the defaults apply
//! when they publish none. `core/data/care/care_policy.lanzhou.json` is the default as a file.

use serde::{Deserialize, Serialize};

use super::event::{CareEvent, CareTaskDefinition};
use super::frequency::Frequency;
use crate::error::FieldError;

/// The default policy as a file (equal to [`CarePolicy::default`]).
pub const DEFAULT_CARE_POLICY_JSON: &str = include_str!("../../data/care/care_policy.lanzhou.json");

/// The most tasks a default plan may hold.
pub const MAX_DEFAULT_TASKS: usize = 50;

/// Care rules of a county.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CarePolicy {
    /// The tasks planned for a person from enrolment. Default: the "四个一".
    pub default_tasks: Vec<CareTaskDefinition>,
    /// A task (or leader visit) is listed as due soon when its deadline is at most this many
    /// days away (0: only on the deadline itself). A task may set its own. Default 2.
    pub due_soon_days: u32,
    /// An agreement is flagged as expiring this many days before its last day. Default 30.
    pub agreement_expiry_warning_days: u32,
    /// How often the assigned township leader visits (包户包人). Default: once a month.
    pub leader_visit_frequency: Frequency,
}

fn task(task_id: &str, label_zh: &str, label_en: &str, frequency: Frequency) -> CareTaskDefinition {
    CareTaskDefinition {
        task_id: task_id.to_owned(),
        label_zh: label_zh.to_owned(),
        label_en: label_en.to_owned(),
        frequency,
        due_soon_days: None,
    }
}

impl Default for CarePolicy {
    fn default() -> Self {
        Self {
            default_tasks: vec![
                task("clean_home", "打扫卫生", "Clean the home", Frequency::Week),
                task(
                    "wash_clothes_bedding",
                    "清洗衣被",
                    "Wash clothes and bedding",
                    Frequency::HalfMonth,
                ),
                task("haircut", "理发", "Haircut", Frequency::Month),
                task(
                    "buy_daily_necessities",
                    "购置生活用品",
                    "Buy daily necessities",
                    Frequency::HalfYear,
                ),
            ],
            due_soon_days: 2,
            agreement_expiry_warning_days: 30,
            leader_visit_frequency: Frequency::Month,
        }
    }
}

impl CarePolicy {
    /// Every problem of the policy, each naming its field (codes `care_policy.range`,
    /// `care_policy.duplicate` and the task codes of [`CareEvent::validate`]).
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let mut range = |field: &str, value: u32, max: u32| {
            if value > max {
                errors.push(
                    FieldError::new(field, "care_policy.range", "value out of range")
                        .with("value", value)
                        .with("min", 0)
                        .with("max", max),
                );
            }
        };
        range("due_soon_days", self.due_soon_days, 366);
        range(
            "agreement_expiry_warning_days",
            self.agreement_expiry_warning_days,
            366,
        );
        if !self.leader_visit_frequency.is_valid() {
            errors.push(FieldError::new(
                "leader_visit_frequency",
                "care_policy.range",
                "every_days out of range",
            ));
        }
        if self.default_tasks.len() > MAX_DEFAULT_TASKS {
            errors.push(
                FieldError::new("default_tasks", "care_policy.range", "too many tasks")
                    .with("max", MAX_DEFAULT_TASKS),
            );
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, definition) in self.default_tasks.iter().enumerate() {
            let as_event = CareEvent::TaskAdded {
                person_id: "policy".into(),
                task: definition.clone(),
                from: chrono::NaiveDate::MIN,
            };
            for e in as_event.validate() {
                let field = e.field.trim_start_matches("task.").to_owned();
                errors.push(FieldError { field, ..e }.under(&format!("default_tasks[{i}]")));
            }
            if !seen.insert(definition.task_id.as_str()) {
                errors.push(
                    FieldError::new(
                        format!("default_tasks[{i}].task_id"),
                        "care_policy.duplicate",
                        "a task id is listed twice",
                    )
                    .with("task_id", &definition.task_id),
                );
            }
        }
        errors
    }

    /// The due-soon window of a task: its own, else the policy's.
    pub fn due_soon_days_of(&self, task: &CareTaskDefinition) -> u32 {
        task.due_soon_days.unwrap_or(self.due_soon_days)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_the_lanzhou_four_ones_and_the_file_says_the_same() {
        let policy = CarePolicy::default();
        assert!(policy.validate().is_empty());
        let plan: Vec<(&str, Frequency)> = policy
            .default_tasks
            .iter()
            .map(|t| (t.task_id.as_str(), t.frequency))
            .collect();
        assert_eq!(
            plan,
            vec![
                ("clean_home", Frequency::Week),
                ("wash_clothes_bedding", Frequency::HalfMonth),
                ("haircut", Frequency::Month),
                ("buy_daily_necessities", Frequency::HalfYear),
            ]
        );
        let from_file: CarePolicy = serde_json::from_str(DEFAULT_CARE_POLICY_JSON).unwrap();
        assert_eq!(from_file, policy);
    }

    #[test]
    fn bad_values_are_named_and_a_file_may_name_only_what_differs() {
        let mut bad = CarePolicy {
            due_soon_days: 400,
            leader_visit_frequency: Frequency::EveryDays(0),
            ..CarePolicy::default()
        };
        bad.default_tasks[1].task_id = "clean_home".into();
        bad.default_tasks[2].label_zh = String::new();
        let found: Vec<(String, &str)> = bad
            .validate()
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect();
        assert_eq!(
            found,
            vec![
                ("due_soon_days".to_owned(), "care_policy.range"),
                ("leader_visit_frequency".to_owned(), "care_policy.range"),
                (
                    "default_tasks[1].task_id".to_owned(),
                    "care_policy.duplicate"
                ),
                ("default_tasks[2].label_zh".to_owned(), "care.required"),
            ]
        );
        let p: CarePolicy =
            serde_json::from_str(r#"{"leader_visit_frequency": "quarter"}"#).unwrap();
        assert_eq!(p.leader_visit_frequency, Frequency::Quarter);
        assert_eq!(p.default_tasks.len(), 4);
        assert!(serde_json::from_str::<CarePolicy>(r#"{"due_soon": 3}"#).is_err());
    }

    #[test]
    fn the_county_configuration_refuses_an_invalid_care_policy_naming_the_field() {
        let data = crate::sync::CountyData {
            care_policy: Some(CarePolicy {
                agreement_expiry_warning_days: 1000,
                ..CarePolicy::default()
            }),
            ..crate::sync::CountyData::default()
        };
        let why = data.check().unwrap_err();
        assert!(
            why.contains("care_policy.agreement_expiry_warning_days")
                && why.contains("care_policy.range"),
            "{why}"
        );
        let good = crate::sync::CountyData {
            care_policy: Some(CarePolicy::default()),
            ..crate::sync::CountyData::default()
        };
        assert_eq!(good.check(), Ok(()));
        // Left out when absent, so older configurations keep their bytes.
        let json = serde_json::to_string(&crate::sync::CountyData::default()).unwrap();
        assert!(!json.contains("care_policy"));
    }
}
