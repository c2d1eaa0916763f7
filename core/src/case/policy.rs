//! The numbers of a case's life: working-day limits, publicity length, review intervals,
//! gradual-exit periods. They come from national rules but provinces and counties set their
//! own, so they are **configuration**; [`CasePolicy::default`] holds the national figures.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// Deadlines and periods of a case. Working days are counted with the county's calendar
/// from the day after the event (see [`crate::calendar::working_days`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CasePolicy {
    /// Working days after the application within which it must be accepted; `None`: no
    /// deadline is listed (national rules say "at once" without a number). Default `None`.
    pub acceptance_working_days: Option<u32>,
    /// Working days after acceptance within which the investigation starts. Default 3.
    pub investigation_start_working_days: u32,
    /// Length of the village publicity (公示). Default 7.
    pub publicity_days: u32,
    /// Whether `publicity_days` are working days (default `false`: calendar days).
    pub publicity_in_working_days: bool,
    /// Working days after the county receives the township's opinion within which it
    /// decides. Default 10.
    pub county_decision_working_days: u32,
    /// Working days from acceptance to the county's decision. Default 30.
    pub total_working_days: u32,
    /// The same for a case marked special (特殊情况). Default 45.
    pub total_working_days_special: u32,
    /// The benefit starts on the first day of the month this many months after the decision.
    /// Default 1 (the next month).
    pub benefit_start_months_after_decision: u32,
    /// Months between reviews of a household with stable income. Default 12.
    pub review_months_stable: u32,
    /// Months between reviews where income is unstable. Default 6.
    pub review_months_unstable: u32,
    /// A periodic review is listed as due this many calendar days before its date. Default 30.
    pub review_notice_days: u32,
    /// Longest gradual exit (渐退期) after employment, in months. Default 6.
    pub gradual_exit_employment_max_months: u32,
    /// Shortest gradual exit after industry support or dividends, in months. Default 6.
    pub gradual_exit_industry_min_months: u32,
    /// Longest gradual exit after industry support or dividends, in months. Default 12.
    pub gradual_exit_industry_max_months: u32,
    /// A gradual exit's review is due in this many months before the period ends. Default 1.
    pub gradual_exit_review_months: u32,
}

impl Default for CasePolicy {
    fn default() -> Self {
        Self {
            acceptance_working_days: None,
            investigation_start_working_days: 3,
            publicity_days: 7,
            publicity_in_working_days: false,
            county_decision_working_days: 10,
            total_working_days: 30,
            total_working_days_special: 45,
            benefit_start_months_after_decision: 1,
            review_months_stable: 12,
            review_months_unstable: 6,
            review_notice_days: 30,
            gradual_exit_employment_max_months: 6,
            gradual_exit_industry_min_months: 6,
            gradual_exit_industry_max_months: 12,
            gradual_exit_review_months: 1,
        }
    }
}

/// The largest working-day figure a policy may hold.
const MAX_WORKING_DAYS: u32 = 250;
/// The largest month figure a policy may hold.
const MAX_MONTHS: u32 = 36;

impl CasePolicy {
    /// Every problem of the policy, each naming its field (code `case_policy.range` or
    /// `case_policy.order`).
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let mut range = |field: &str, value: u32, min: u32, max: u32| {
            if value < min || value > max {
                errors.push(
                    FieldError::new(field, "case_policy.range", "value out of range")
                        .with("value", value)
                        .with("min", min)
                        .with("max", max),
                );
            }
        };
        if let Some(days) = self.acceptance_working_days {
            range("acceptance_working_days", days, 0, MAX_WORKING_DAYS);
        }
        let wd = MAX_WORKING_DAYS;
        range(
            "investigation_start_working_days",
            self.investigation_start_working_days,
            0,
            wd,
        );
        range("publicity_days", self.publicity_days, 1, 60);
        range(
            "county_decision_working_days",
            self.county_decision_working_days,
            1,
            wd,
        );
        range("total_working_days", self.total_working_days, 1, wd);
        range(
            "total_working_days_special",
            self.total_working_days_special,
            1,
            wd,
        );
        range(
            "benefit_start_months_after_decision",
            self.benefit_start_months_after_decision,
            0,
            12,
        );
        range(
            "review_months_stable",
            self.review_months_stable,
            1,
            MAX_MONTHS,
        );
        range(
            "review_months_unstable",
            self.review_months_unstable,
            1,
            MAX_MONTHS,
        );
        range("review_notice_days", self.review_notice_days, 0, 366);
        range(
            "gradual_exit_employment_max_months",
            self.gradual_exit_employment_max_months,
            1,
            MAX_MONTHS,
        );
        range(
            "gradual_exit_industry_min_months",
            self.gradual_exit_industry_min_months,
            1,
            MAX_MONTHS,
        );
        range(
            "gradual_exit_industry_max_months",
            self.gradual_exit_industry_max_months,
            1,
            MAX_MONTHS,
        );
        range(
            "gradual_exit_review_months",
            self.gradual_exit_review_months,
            1,
            12,
        );
        let mut order = |field: &str, ok: bool, why: &str| {
            if !ok {
                errors.push(FieldError::new(field, "case_policy.order", why));
            }
        };
        order(
            "total_working_days_special",
            self.total_working_days_special >= self.total_working_days,
            "the special limit cannot be shorter than the normal one",
        );
        order(
            "gradual_exit_industry_max_months",
            self.gradual_exit_industry_max_months >= self.gradual_exit_industry_min_months,
            "the longest industry gradual exit cannot be shorter than the shortest",
        );
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_national_defaults_are_valid_and_bad_values_are_named() {
        assert!(CasePolicy::default().validate().is_empty());
        let bad = CasePolicy {
            publicity_days: 0,
            total_working_days: 30,
            total_working_days_special: 20,
            gradual_exit_industry_min_months: 12,
            gradual_exit_industry_max_months: 6,
            ..CasePolicy::default()
        };
        let found: Vec<(String, &str)> = bad
            .validate()
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect();
        assert_eq!(
            found,
            vec![
                ("publicity_days".to_owned(), "case_policy.range"),
                ("total_working_days_special".to_owned(), "case_policy.order"),
                (
                    "gradual_exit_industry_max_months".to_owned(),
                    "case_policy.order"
                ),
            ]
        );
    }

    #[test]
    fn a_policy_file_may_name_only_what_differs() {
        let p: CasePolicy = serde_json::from_str(r#"{"review_months_stable": 24}"#).unwrap();
        assert_eq!(p.review_months_stable, 24);
        assert_eq!(p.investigation_start_working_days, 3);
        assert!(serde_json::from_str::<CasePolicy>(r#"{"review_month": 24}"#).is_err());
    }
}
