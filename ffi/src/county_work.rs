//! The county's working data on [`TabletStore`]: answers checked against a form template
//! (field-level problems in Chinese and English), and cases — events recorded under the
//! county's policy and working-day calendar, and what is due or overdue in a village. The
//! data itself arrives with the signed county configuration at sync.

use chrono::Utc;
use ruhu_core::case::{CaseEvent, CaseLog, DueList};
use ruhu_core::forms::AnswerErrors;

use crate::error::FfiError;
use crate::store::TabletStore;
use crate::visit_records::json;

/// A problem of one answer.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AnswerProblemData {
    /// The question id.
    pub question: String,
    /// The roster and its 0-based row, for a question inside a member roster.
    pub roster: Option<String>,
    pub row: Option<u32>,
    /// Stable code, e.g. `form.required`, `resident_id.check_digit`.
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
}

/// A household's case as it stands.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CaseData {
    pub household_id: String,
    /// `None` when the household has no case.
    pub stage: Option<String>,
    pub stage_since_unix: Option<i64>,
    pub missing_materials: Vec<String>,
    /// Events the merged log no longer allows (recorded on two tablets, say), with why.
    pub set_aside: Vec<String>,
}

/// One line of the due list.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CaseDueData {
    pub household_id: String,
    pub stage: String,
    /// e.g. `start_investigation`, `county_decision`, `periodic_review`.
    pub duty: String,
    /// Local dates (YYYY-MM-DD) in the county's time zone.
    pub opens_on: String,
    pub due_on: String,
    pub overdue: bool,
}

fn name<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn case_data(household_id: String, log: CaseLog) -> CaseData {
    CaseData {
        household_id,
        stage: log.case.as_ref().map(|c| c.stage.as_str().to_owned()),
        stage_since_unix: log.case.as_ref().map(|c| c.stage_since.timestamp()),
        missing_materials: log.case.map(|c| c.missing_materials).unwrap_or_default(),
        set_aside: log.set_aside.iter().map(|s| format!("{s:?}")).collect(),
    }
}

fn due_data(list: DueList) -> Vec<CaseDueData> {
    list.items
        .into_iter()
        .map(|i| CaseDueData {
            household_id: i.household_id,
            stage: i.stage.as_str().to_owned(),
            duty: name(&i.duty.kind),
            opens_on: i.duty.opens_on.to_string(),
            due_on: i.duty.due_on.to_string(),
            overdue: name(&i.status) == "overdue",
        })
        .collect()
}

fn problems(errors: AnswerErrors) -> Vec<AnswerProblemData> {
    errors
        .0
        .into_iter()
        .map(|e| AnswerProblemData {
            question: e.question,
            roster: e.row.as_ref().map(|(r, _)| r.clone()),
            row: e.row.and_then(|(_, i)| u32::try_from(i).ok()),
            code: e.code.to_owned(),
            message_zh: e.message_zh,
            message_en: e.message_en,
        })
        .collect()
}

#[uniffi::export]
impl TabletStore {
    /// Checks answers (a JSON object keyed by question id; a roster is an array of objects)
    /// against the newest version of form template `template_id` this tablet knows (the
    /// built-ins and the county's). Returns every problem; an empty list means valid.
    pub fn check_answers(
        &self,
        template_id: String,
        answers_json: String,
    ) -> Result<Vec<AnswerProblemData>, FfiError> {
        let value: serde_json::Value = json("answers_json", &answers_json)?;
        let store = self.store()?;
        let catalog = store.form_catalog()?;
        let template = catalog
            .latest(&template_id)
            .ok_or_else(|| FfiError::NotFound {
                code: "form.unknown_template".into(),
                detail: format!("no form template {template_id} on this tablet"),
            })?;
        let today = store.county_clock()?.local_date(Utc::now());
        Ok(match template.validate_json(&value, today) {
            Ok(_) => Vec::new(),
            Err(errors) => problems(errors),
        })
    }

    /// Records a case event, e.g. `{"kind": "apply", "program": "rural_dibao"}` or
    /// `{"kind": "accept", "missing_materials": ["户口簿"]}`, under the county's policy and
    /// calendar. Refused, nothing written, when the case's stage does not allow it.
    pub fn record_case_event(
        &self,
        household_id: String,
        event_json: String,
    ) -> Result<CaseData, FfiError> {
        let event: CaseEvent = json("event_json", &event_json)?;
        let log = self.store()?.record_case_event(&household_id, event)?;
        Ok(case_data(household_id, log))
    }

    /// A household's case.
    pub fn case_of(&self, household_id: String) -> Result<CaseData, FfiError> {
        let log = self.store()?.county_case(&household_id)?;
        Ok(case_data(household_id, log))
    }

    /// What is due and overdue now in a village, overdue first.
    pub fn cases_due(&self, village_code: String) -> Result<Vec<CaseDueData>, FfiError> {
        Ok(due_data(
            self.store()?.county_cases_due(&village_code, Utc::now())?,
        ))
    }
}
