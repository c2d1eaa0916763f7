//! The county's working data on [`TabletStore`]: answers checked against a form template
//! (field-level problems in Chinese and English), answers scored with a "3+1" rubric (a
//! decision record to seal with the visit), the county's dibao standard, and cases — events
//! recorded under the county's policy and working-day calendar, and what is due or overdue in
//! a village. The data itself arrives with the signed county configuration at sync.

use chrono::Utc;
use ruhu_core::case::{CaseEvent, CaseLog, DueList};
use std::collections::BTreeMap;

use ruhu_core::forms::condition::Scalar;
use ruhu_core::forms::{AnswerErrors, Answers};
use ruhu_core::standards::Area;

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

/// The result of scoring a filled form with a rubric.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ScoringResultData {
    pub rubric_id: String,
    pub rubric_version: u32,
    pub total: i64,
    /// `eligible`, `not_eligible` or `needs_appraisal` (as the rubric names its outcomes).
    pub outcome: String,
    /// Rural dibao class 1–4 for an eligible outcome.
    pub class: Option<u8>,
    /// Veto items that hold: each needs verification (核实); none excludes by itself.
    pub flags: Vec<String>,
    pub needs_verification: bool,
    /// The whole decision record (rubric id, version and hash, inputs, every item's score):
    /// pass it as `SealData.scoring_json` so it is sealed and signed with the visit.
    pub decision_json: String,
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

    /// Scores answers with the newest version of rubric `rubric_id` this tablet knows (the
    /// built-in SAMPLE and the county's), after checking them against the rubric's form
    /// template. `params_json` gives the rubric's parameters, e.g. `{"standard_fen": 526800,
    /// "appraisal": "passed"}` (see [`TabletStore::dibao_standard_fen`]).
    pub fn score_answers(
        &self,
        rubric_id: String,
        answers_json: String,
        params_json: String,
    ) -> Result<ScoringResultData, FfiError> {
        let value: serde_json::Value = json("answers_json", &answers_json)?;
        let params: BTreeMap<String, Scalar> = json("params_json", &params_json)?;
        let store = self.store()?;
        let rubrics = store.rubric_catalog()?;
        let rubric = rubrics
            .latest(&rubric_id)
            .ok_or_else(|| FfiError::NotFound {
                code: "scoring.unknown_rubric".into(),
                detail: format!("no rubric {rubric_id} on this tablet"),
            })?;
        let template_id = &rubric.definition().template;
        let catalog = store.form_catalog()?;
        let template = catalog
            .latest(template_id)
            .ok_or_else(|| FfiError::NotFound {
                code: "form.unknown_template".into(),
                detail: format!("rubric {rubric_id} scores form {template_id}, not on this tablet"),
            })?;
        let today = store.county_clock()?.local_date(Utc::now());
        let answers: Answers = template
            .validate_json(&value, today)
            .map_err(ruhu_core::Error::from)?;
        let decision = rubric.score(&answers, &params)?;
        let block = decision.to_scoring_block()?;
        Ok(ScoringResultData {
            rubric_id: decision.rubric.id.clone(),
            rubric_version: decision.rubric.version,
            total: decision.total,
            outcome: name(&decision.outcome),
            class: decision.class,
            flags: decision.flags.clone(),
            needs_verification: decision.needs_verification,
            decision_json: block.to_string(),
        })
    }

    /// The county's dibao standard for `year` (rural or urban), per person per year in fen,
    /// from the published standards (the county's own entry, else its city's or province's).
    pub fn dibao_standard_fen(&self, year: i32, rural: bool) -> Result<i64, FfiError> {
        let store = self.store()?;
        let county = store.county_code()?.unwrap_or_default();
        let standards = store.standards()?.ok_or_else(|| FfiError::NotFound {
            code: "standards.not_published".into(),
            detail: "the county configuration carries no standards".into(),
        })?;
        let area = if rural { Area::Rural } else { Area::Urban };
        standards
            .find(&county, year)?
            .dibao_standard(area)
            .and_then(|a| a.yearly_fen())
            .ok_or_else(|| FfiError::NotFound {
                code: "standards.missing".into(),
                detail: format!("no {area:?} dibao standard for {county} in {year}"),
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

    /// Records a case event that happened at `happened_at_unix` (seconds), earlier than now —
    /// the publicity posted on Monday, recorded on Wednesday: its deadlines count from that
    /// day. Refused when dated in the future or before the case's current stage began.
    pub fn record_case_event_at(
        &self,
        household_id: String,
        event_json: String,
        happened_at_unix: i64,
    ) -> Result<CaseData, FfiError> {
        let event: CaseEvent = json("event_json", &event_json)?;
        let at = chrono::DateTime::from_timestamp(happened_at_unix, 0).ok_or_else(|| {
            FfiError::invalid("happened_at_unix", "case.time", "time out of range")
        })?;
        let log = self
            .store()?
            .record_case_event_at(&household_id, event, Some(at))?;
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::key_store::FixedTestKeys as Keys;

    #[test]
    fn a_filled_form_is_scored_into_a_decision_and_bad_input_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db").to_string_lossy().into_owned();
        let tablet =
            TabletStore::open(path, "tablet".into(), "w-h".into(), Arc::new(Keys)).unwrap();
        let rubric = ruhu_core::scoring::sample_rubric().unwrap();
        let answers = ruhu_core::forms::sample::home_visit_answers(3).to_string();
        assert!(tablet
            .check_answers("home-visit".into(), answers.clone())
            .unwrap()
            .is_empty());
        let params = r#"{"standard_fen": 526800, "appraisal": "passed"}"#;
        let result = tablet
            .score_answers(
                rubric.reference().id.clone(),
                answers.clone(),
                params.into(),
            )
            .unwrap();
        assert_eq!(result.rubric_id, rubric.reference().id);
        // The decision record re-runs to the same result.
        let decision = ruhu_core::scoring::Decision::from_scoring_block(
            &serde_json::from_str(&result.decision_json).unwrap(),
        )
        .unwrap();
        assert_eq!(rubric.rescore(&decision).unwrap(), decision);
        assert_eq!(decision.total, result.total);

        // A parameter the rubric does not know, answers that are not valid, an unknown rubric.
        let err = tablet
            .score_answers(
                rubric.reference().id.clone(),
                answers,
                r#"{"standard_fen": 526800}"#.into(),
            )
            .unwrap_err();
        assert!(matches!(err, FfiError::InvalidInput { .. }), "{err}");
        let err = tablet
            .score_answers(
                rubric.reference().id.clone(),
                r#"{"members": []}"#.into(),
                params.into(),
            )
            .unwrap_err();
        assert!(matches!(err, FfiError::InvalidInput { .. }), "{err}");
        assert!(matches!(
            tablet.score_answers("nope".into(), "{}".into(), params.into()),
            Err(FfiError::NotFound { .. })
        ));
        // No standards published yet.
        assert!(matches!(
            tablet.dibao_standard_fen(2022, true),
            Err(FfiError::NotFound { .. })
        ));
    }
}
