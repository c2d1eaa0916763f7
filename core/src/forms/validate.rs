//! Validating answers against a template: every problem, each naming its question (and
//! roster row), in both languages.
//!
//! Rules, in order for each question: its relevance is evaluated on the earlier answers
//! (an answer to a skipped question counts as absent for later conditions); an answer to
//! a question that is not relevant is reported (`form.not_relevant`); a relevant required
//! question without an answer (or with blank text) is reported (`form.required`); an
//! answer is checked against its type and constraints. Keys that are not questions of the
//! template are reported (`form.unknown_question`), in rows as well.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde_json::Value as Json;

use crate::forms::answers::{AnswerValue, Answers, Row};
use crate::forms::compile::{Block, Compiled, FormTemplate, Spec};
use crate::forms::condition::Lookup;
use crate::forms::messages::{params, AnswerError, AnswerErrors};
use crate::forms::template::Pattern;
use crate::forms::values::{is_sha256_hex, parse_date, parse_decimal};
use crate::resident_id::ResidentId;

type Problem = (&'static str, BTreeMap<String, String>);

/// Where a block is answered: the top level, or one row of a roster.
struct Place<'a, 'b> {
    row: Option<(&'a str, usize)>,
    outer: Option<&'b dyn Lookup<'a>>,
}

/// A block's answers seen through relevance: skipped questions read as absent.
struct Scope<'a, 'b> {
    block: &'a Block,
    answers: &'a BTreeMap<String, AnswerValue>,
    relevant: &'b [bool],
    outer: Option<&'b dyn Lookup<'a>>,
}

impl<'a> Lookup<'a> for Scope<'a, '_> {
    fn answer(&self, id: &str) -> Option<&'a AnswerValue> {
        match self.block.get(id) {
            Some((i, _)) if self.relevant.get(i).copied().unwrap_or(false) => self.answers.get(id),
            Some(_) => None,
            None => self.outer.and_then(|o| o.answer(id)),
        }
    }
}

impl FormTemplate {
    /// Validates answers; `visit_date` is the day of the visit (dates marked
    /// `not_after_visit` and the birth dates in resident ID numbers may not be later).
    pub fn validate(&self, answers: &Answers, visit_date: NaiveDate) -> Result<(), AnswerErrors> {
        let mut errors = Vec::new();
        let place = Place {
            row: None,
            outer: None,
        };
        check_block(&self.top, &answers.0, &place, visit_date, &mut errors);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(AnswerErrors(errors))
        }
    }

    /// Reads answers from any JSON value and validates them; returns the typed answers.
    pub fn validate_json(
        &self,
        value: &Json,
        visit_date: NaiveDate,
    ) -> Result<Answers, AnswerErrors> {
        let answers = Answers::from_json(value).map_err(|e| {
            AnswerErrors(vec![AnswerError::new(
                "",
                None,
                None,
                "form.not_object",
                params([("detail", e.to_string())]),
            )])
        })?;
        self.validate(&answers, visit_date)?;
        Ok(answers)
    }

    /// Which top-level questions are asked given these answers (for the app's screens).
    pub fn relevant_questions(&self, answers: &Answers) -> Vec<&str> {
        let relevant = relevance(&self.top, &answers.0, None);
        self.top
            .questions
            .iter()
            .zip(relevant)
            .filter_map(|(q, r)| r.then_some(q.id.as_str()))
            .collect()
    }
}

fn relevance<'a>(
    block: &'a Block,
    answers: &'a BTreeMap<String, AnswerValue>,
    outer: Option<&dyn Lookup<'a>>,
) -> Vec<bool> {
    let mut relevant: Vec<bool> = Vec::with_capacity(block.questions.len());
    for q in &block.questions {
        let holds = match &q.relevant {
            None => true,
            Some(condition) => condition.eval(&Scope {
                block,
                answers,
                relevant: &relevant,
                outer,
            }),
        };
        relevant.push(holds);
    }
    relevant
}

fn check_block<'a>(
    block: &'a Block,
    answers: &'a BTreeMap<String, AnswerValue>,
    place: &Place<'a, '_>,
    visit_date: NaiveDate,
    errors: &mut Vec<AnswerError>,
) {
    let relevant = relevance(block, answers, place.outer);
    let scope = Scope {
        block,
        answers,
        relevant: &relevant,
        outer: place.outer,
    };
    let mut matched = 0usize;
    for (q, is_relevant) in block.questions.iter().zip(relevant.iter().copied()) {
        let answer = answers.get(&q.id);
        matched += usize::from(answer.is_some());
        let report = |errors: &mut Vec<AnswerError>, (code, params): Problem| {
            errors.push(AnswerError::new(
                &q.id,
                Some(&q.label),
                place.row,
                code,
                params,
            ));
        };
        match (answer, is_relevant) {
            (Some(_), false) => report(errors, ("form.not_relevant", BTreeMap::new())),
            (None, true) if q.required => report(errors, ("form.required", BTreeMap::new())),
            (Some(AnswerValue::Text(t)), true) if q.required && t.trim().is_empty() => {
                report(errors, ("form.required", BTreeMap::new()))
            }
            (Some(value), true) => {
                if let Err(problem) = check_value(&q.spec, value, visit_date) {
                    report(errors, problem);
                } else if let (Spec::Roster(rows), Some(list)) = (&q.spec, value.as_rows()) {
                    check_rows(q, rows, list, &scope, visit_date, errors);
                }
            }
            (None, _) => {}
        }
    }
    if matched != answers.len() {
        for key in answers.keys().filter(|k| !block.index.contains_key(*k)) {
            errors.push(AnswerError::new(
                key,
                None,
                place.row,
                "form.unknown_question",
                BTreeMap::new(),
            ));
        }
    }
}

fn check_rows<'a>(
    roster: &'a Compiled,
    rows: &'a Block,
    list: &'a [Row],
    outer: &Scope<'a, '_>,
    visit_date: NaiveDate,
    errors: &mut Vec<AnswerError>,
) {
    for (i, row) in list.iter().enumerate() {
        let place = Place {
            row: Some((roster.id.as_str(), i)),
            outer: Some(outer),
        };
        check_block(rows, row, &place, visit_date, errors);
    }
}

fn range(code: &'static str, min: impl ToString, max: impl ToString) -> Problem {
    (
        code,
        params([("min", min.to_string()), ("max", max.to_string())]),
    )
}

fn wrong_type(expected: &str, value: &AnswerValue) -> Problem {
    let got = match value {
        AnswerValue::Bool(_) => "yes_no",
        AnswerValue::Integer(_) => "integer",
        AnswerValue::Text(_) => "text",
        AnswerValue::List(_) => "list",
        AnswerValue::Rows(_) => "rows",
        AnswerValue::Gps(_) => "gps",
        AnswerValue::Unsupported(shape) => shape.as_str(),
    };
    (
        "form.wrong_type",
        params([("expected", expected.to_owned()), ("got", got.to_owned())]),
    )
}

fn show_scaled(v: i64, scale: u8) -> String {
    let div = 10i64.pow(u32::from(scale));
    let sign = if v < 0 { "-" } else { "" };
    let (w, f) = (
        v.unsigned_abs() / div.unsigned_abs(),
        v.unsigned_abs() % div.unsigned_abs(),
    );
    format!("{sign}{w}.{f:0width$}", width = usize::from(scale))
}

fn check_value(spec: &Spec, value: &AnswerValue, visit_date: NaiveDate) -> Result<(), Problem> {
    use AnswerValue as A;
    match (spec, value) {
        (Spec::Text { max_chars, pattern }, A::Text(t)) => {
            if t.len() > *max_chars && t.chars().count() > *max_chars {
                return Err((
                    "form.text_too_long",
                    params([("max", max_chars.to_string())]),
                ));
            }
            check_pattern(*pattern, t, visit_date)
        }
        (Spec::Integer { min, max }, A::Integer(v)) if !(min..=max).contains(&v) => {
            Err(range("form.integer_range", min, max))
        }
        (Spec::Money { min, max }, A::Integer(v)) if !(min..=max).contains(&v) => {
            Err(range("form.money_range", min, max))
        }
        (Spec::Integer { .. } | Spec::Money { .. }, A::Integer(_)) => Ok(()),
        (Spec::Decimal { scale, min, max }, A::Text(t)) => match parse_decimal(t, *scale) {
            None => Err((
                "form.decimal_format",
                params([("scale", scale.to_string())]),
            )),
            Some(v) if min.is_some_and(|m| v < m) || max.is_some_and(|m| v > m) => Err(range(
                "form.decimal_range",
                min.map_or("-∞".into(), |m| show_scaled(m, *scale)),
                max.map_or("∞".into(), |m| show_scaled(m, *scale)),
            )),
            Some(_) => Ok(()),
        },
        (
            Spec::Date {
                min,
                max,
                not_after_visit,
            },
            A::Text(t),
        ) => match parse_date(t) {
            None => Err(("form.date_format", BTreeMap::new())),
            Some(d) if min.is_some_and(|m| d < m) || max.is_some_and(|m| d > m) => Err(range(
                "form.date_range",
                min.map_or("-".into(), |m| m.to_string()),
                max.map_or("-".into(), |m| m.to_string()),
            )),
            Some(d) if *not_after_visit && d > visit_date => Err((
                "form.date_after_visit",
                params([("visit_date", visit_date.to_string())]),
            )),
            Some(_) => Ok(()),
        },
        (Spec::SingleChoice { codes }, A::Text(t)) => {
            if codes.iter().any(|c| c == t) {
                Ok(())
            } else {
                Err(("form.choice_unknown", params([("value", t.clone())])))
            }
        }
        (Spec::MultiChoice { codes, min, max }, A::List(list)) => {
            for (i, code) in list.iter().enumerate() {
                if !codes.contains(code) {
                    return Err(("form.choice_unknown", params([("value", code.clone())])));
                }
                if list[..i].contains(code) {
                    return Err(("form.choice_repeated", params([("value", code.clone())])));
                }
            }
            if (*min..=*max).contains(&list.len()) {
                Ok(())
            } else {
                Err(range("form.choice_count", min, max))
            }
        }
        (Spec::YesNo, A::Bool(_)) => Ok(()),
        (Spec::Attachment { .. }, A::Text(t)) => {
            if is_sha256_hex(t) {
                Ok(())
            } else {
                Err(("form.attachment_hash", BTreeMap::new()))
            }
        }
        (Spec::Gps, A::Gps(g)) => {
            if (-900_000_000..=900_000_000).contains(&g.lat_e7)
                && (-1_800_000_000..=1_800_000_000).contains(&g.lon_e7)
            {
                Ok(())
            } else {
                Err(("form.gps_range", BTreeMap::new()))
            }
        }
        (Spec::Roster(rows), v) if v.as_rows().is_some() => {
            let n = v.as_rows().map_or(0, <[Row]>::len);
            if (rows.min_rows..=rows.max_rows).contains(&n) {
                Ok(())
            } else {
                Err(range("form.rows", rows.min_rows, rows.max_rows))
            }
        }
        (spec, value) => Err(wrong_type(type_name(spec), value)),
    }
}

fn type_name(spec: &Spec) -> &'static str {
    match spec {
        Spec::Text { .. } => "text",
        Spec::Integer { .. } => "integer",
        Spec::Money { .. } => "money",
        Spec::Decimal { .. } => "decimal",
        Spec::Date { .. } => "date",
        Spec::SingleChoice { .. } => "single_choice",
        Spec::MultiChoice { .. } => "multi_choice",
        Spec::YesNo => "yes_no",
        Spec::Roster(_) => "roster",
        Spec::Attachment { .. } => "attachment",
        Spec::Gps => "gps",
    }
}

fn check_pattern(
    pattern: Option<Pattern>,
    text: &str,
    visit_date: NaiveDate,
) -> Result<(), Problem> {
    match pattern {
        None => Ok(()),
        Some(Pattern::ResidentId) => ResidentId::parse("", text, visit_date)
            .map(|_| ())
            .map_err(|e| (e.code, e.params)),
        Some(Pattern::MobilePhone) => {
            if text.len() == 11 && text.starts_with('1') && text.bytes().all(|b| b.is_ascii_digit())
            {
                Ok(())
            } else {
                Err(("form.mobile_phone", BTreeMap::new()))
            }
        }
        Some(Pattern::Digits) => {
            if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
                Ok(())
            } else {
                Err(("form.digits", BTreeMap::new()))
            }
        }
    }
}
