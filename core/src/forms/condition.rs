//! Conditions over answers: skip logic in templates, veto items and row filters in rubrics.
//!
//! A condition is data, one JSON object of one of these forms:
//!
//! ```text
//! {"question": "has_vehicle", "equals": true}          answered with exactly this value
//! {"question": "visit_mode", "in": ["phone", "video"]}  answered with one of these
//! {"question": "gps", "answered": true}                  answered at all (or not)
//! {"question": "age", "at_least": 60}                    integer answer ≥ (also at_most, above, below)
//! {"question": "hardship_causes", "includes": "other"}   multi choice holds this code
//! {"any_row": "members", "where": {..}}                  some roster row satisfies the condition
//! {"all": [..]}  {"any": [..]}  {"not": {..}}
//! ```
//!
//! A question that is not answered (or was skipped because it is not relevant) satisfies
//! only `{"answered": false}` and `not` of the others. Inside a roster row, a question id
//! names the row's sub-question first, then a top-level question.

use serde::{Deserialize, Serialize};

use crate::forms::answers::{AnswerValue, Row};

/// A plain value to compare an answer with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    /// Yes/no.
    Bool(bool),
    /// Integer or fen.
    Integer(i64),
    /// Text or option code.
    Text(String),
}

impl Scalar {
    fn matches(&self, answer: &AnswerValue) -> bool {
        match (self, answer) {
            (Scalar::Bool(a), AnswerValue::Bool(b)) => a == b,
            (Scalar::Integer(a), AnswerValue::Integer(b)) => a == b,
            (Scalar::Text(a), AnswerValue::Text(b)) => a == b,
            _ => false,
        }
    }
}

/// What a question's answer is tested for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Test {
    /// Equal to the value.
    Equals(Scalar),
    /// Equal to one of the values.
    In(Vec<Scalar>),
    /// Answered (`true`) or not (`false`).
    Answered(bool),
    /// Integer ≥ n.
    AtLeast(i64),
    /// Integer ≤ n.
    AtMost(i64),
    /// Integer > n.
    Above(i64),
    /// Integer < n.
    Below(i64),
    /// Multi choice holding the code.
    Includes(String),
}

/// A condition over answers (see the module documentation for the JSON forms).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawCondition", into = "RawCondition")]
pub enum Condition {
    /// A test of one question's answer.
    Question {
        /// The question id.
        question: String,
        /// The test.
        test: Test,
    },
    /// Some row of the roster satisfies the condition.
    AnyRow {
        /// The roster question id.
        roster: String,
        /// The condition, evaluated inside each row.
        condition: Box<Condition>,
    },
    /// Every condition holds (true when empty).
    All(Vec<Condition>),
    /// Some condition holds (false when empty).
    Any(Vec<Condition>),
    /// The condition does not hold.
    Not(Box<Condition>),
}

/// Looks answers up by question id; `None` for unanswered or skipped questions.
pub trait Lookup<'a> {
    /// The answer to `id` in this scope.
    fn answer(&self, id: &str) -> Option<&'a AnswerValue>;
}

impl<'a, F: Fn(&str) -> Option<&'a AnswerValue>> Lookup<'a> for F {
    fn answer(&self, id: &str) -> Option<&'a AnswerValue> {
        self(id)
    }
}

/// A roster row in front of an outer scope.
struct RowScope<'a, 'b> {
    row: &'a Row,
    outer: &'b dyn Lookup<'a>,
}

impl<'a> Lookup<'a> for RowScope<'a, '_> {
    fn answer(&self, id: &str) -> Option<&'a AnswerValue> {
        self.row.get(id).or_else(|| self.outer.answer(id))
    }
}

impl Condition {
    /// Evaluates the condition.
    pub fn eval<'a>(&self, scope: &dyn Lookup<'a>) -> bool {
        match self {
            Condition::Question { question, test } => test.holds(scope.answer(question)),
            Condition::AnyRow { roster, condition } => scope
                .answer(roster)
                .and_then(AnswerValue::as_rows)
                .is_some_and(|rows| {
                    rows.iter()
                        .any(|row| condition.eval(&RowScope { row, outer: scope }))
                }),
            Condition::All(all) => all.iter().all(|c| c.eval(scope)),
            Condition::Any(any) => any.iter().any(|c| c.eval(scope)),
            Condition::Not(c) => !c.eval(scope),
        }
    }

    /// Every question id the condition reads, with the roster it is read inside (if any).
    pub fn references(&self) -> Vec<(Option<&str>, &str)> {
        let mut out = Vec::new();
        self.collect(None, &mut out);
        out
    }

    fn collect<'s>(&'s self, roster: Option<&'s str>, out: &mut Vec<(Option<&'s str>, &'s str)>) {
        match self {
            Condition::Question { question, .. } => out.push((roster, question)),
            Condition::AnyRow {
                roster: r,
                condition,
            } => {
                out.push((roster, r));
                condition.collect(Some(r), out);
            }
            Condition::All(cs) | Condition::Any(cs) => {
                cs.iter().for_each(|c| c.collect(roster, out));
            }
            Condition::Not(c) => c.collect(roster, out),
        }
    }
}

impl Test {
    fn holds(&self, answer: Option<&AnswerValue>) -> bool {
        let Some(answer) = answer else {
            return matches!(self, Test::Answered(false));
        };
        let int = answer.as_integer();
        match self {
            Test::Equals(v) => v.matches(answer),
            Test::In(vs) => vs.iter().any(|v| v.matches(answer)),
            Test::Answered(yes) => *yes,
            Test::AtLeast(n) => int.is_some_and(|v| v >= *n),
            Test::AtMost(n) => int.is_some_and(|v| v <= *n),
            Test::Above(n) => int.is_some_and(|v| v > *n),
            Test::Below(n) => int.is_some_and(|v| v < *n),
            Test::Includes(code) => matches!(answer, AnswerValue::List(l) if l.contains(code)),
        }
    }
}

/// The JSON form of a condition.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCondition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    question: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    equals: Option<Scalar>,
    #[serde(default, rename = "in", skip_serializing_if = "Option::is_none")]
    in_: Option<Vec<Scalar>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    answered: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    at_least: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    at_most: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    above: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    below: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    includes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    any_row: Option<String>,
    #[serde(default, rename = "where", skip_serializing_if = "Option::is_none")]
    where_: Option<Box<Condition>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    all: Option<Vec<Condition>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    any: Option<Vec<Condition>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    not: Option<Box<Condition>>,
}

const FORMS: &str = "a condition must be exactly one of {question + one test}, \
                     {any_row + where}, {all}, {any}, {not}";

impl TryFrom<RawCondition> for Condition {
    type Error = String;

    fn try_from(raw: RawCondition) -> Result<Self, String> {
        let RawCondition {
            question,
            equals,
            in_,
            answered,
            at_least,
            at_most,
            above,
            below,
            includes,
            any_row,
            where_,
            all,
            any,
            not,
        } = raw;
        let tests: Vec<Test> = [
            equals.map(Test::Equals),
            in_.map(Test::In),
            answered.map(Test::Answered),
            at_least.map(Test::AtLeast),
            at_most.map(Test::AtMost),
            above.map(Test::Above),
            below.map(Test::Below),
            includes.map(Test::Includes),
        ]
        .into_iter()
        .flatten()
        .collect();
        match (question, tests.len(), any_row, where_, all, any, not) {
            (Some(question), 1, None, None, None, None, None) => {
                let test = tests.into_iter().next().ok_or(FORMS)?;
                Ok(Condition::Question { question, test })
            }
            (None, 0, Some(roster), Some(condition), None, None, None) => {
                Ok(Condition::AnyRow { roster, condition })
            }
            (None, 0, None, None, Some(all), None, None) => Ok(Condition::All(all)),
            (None, 0, None, None, None, Some(any), None) => Ok(Condition::Any(any)),
            (None, 0, None, None, None, None, Some(not)) => Ok(Condition::Not(not)),
            _ => Err(FORMS.to_owned()),
        }
    }
}

impl From<Condition> for RawCondition {
    fn from(c: Condition) -> Self {
        match c {
            Condition::Question { question, test } => {
                let mut raw = RawCondition {
                    question: Some(question),
                    ..Default::default()
                };
                match test {
                    Test::Equals(v) => raw.equals = Some(v),
                    Test::In(v) => raw.in_ = Some(v),
                    Test::Answered(v) => raw.answered = Some(v),
                    Test::AtLeast(v) => raw.at_least = Some(v),
                    Test::AtMost(v) => raw.at_most = Some(v),
                    Test::Above(v) => raw.above = Some(v),
                    Test::Below(v) => raw.below = Some(v),
                    Test::Includes(v) => raw.includes = Some(v),
                }
                raw
            }
            Condition::AnyRow { roster, condition } => RawCondition {
                any_row: Some(roster),
                where_: Some(condition),
                ..Default::default()
            },
            Condition::All(v) => RawCondition {
                all: Some(v),
                ..Default::default()
            },
            Condition::Any(v) => RawCondition {
                any: Some(v),
                ..Default::default()
            },
            Condition::Not(v) => RawCondition {
                not: Some(v),
                ..Default::default()
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forms::answers::Answers;
    use serde_json::json;

    fn eval(condition: serde_json::Value, answers: serde_json::Value) -> bool {
        let c: Condition = serde_json::from_value(condition).unwrap();
        let a = Answers::from_json(&answers).unwrap();
        let lookup = |id: &str| a.get(id);
        c.eval(&lookup)
    }

    #[test]
    fn forms_evaluate() {
        let a = json!({"v": true, "m": "phone", "n": 61, "l": ["x"],
                       "members": [{"p": false}, {"p": true}]});
        assert!(eval(json!({"question": "v", "equals": true}), a.clone()));
        assert!(eval(
            json!({"question": "m", "in": ["phone", "video"]}),
            a.clone()
        ));
        assert!(eval(json!({"question": "z", "answered": false}), a.clone()));
        assert!(!eval(json!({"question": "z", "equals": 1}), a.clone()));
        assert!(eval(json!({"question": "n", "at_least": 61}), a.clone()));
        assert!(!eval(json!({"question": "n", "above": 61}), a.clone()));
        assert!(eval(json!({"question": "l", "includes": "x"}), a.clone()));
        assert!(eval(
            json!({"any_row": "members", "where": {"question": "p", "equals": true}}),
            a.clone()
        ));
        assert!(eval(
            json!({"all": [{"not": {"question": "v", "equals": false}}, {"any": [{"question": "n", "below": 0}, {"question": "v", "answered": true}]}]}),
            a
        ));
    }

    #[test]
    fn malformed_conditions_are_refused_and_forms_round_trip() {
        for bad in [
            json!({"question": "x"}),
            json!({"question": "x", "equals": 1, "at_least": 2}),
            json!({"all": [], "any": []}),
            json!({"question": "x", "equals": 1, "typo": 2}),
            json!({"equals": 1}),
        ] {
            assert!(
                serde_json::from_value::<Condition>(bad.clone()).is_err(),
                "{bad}"
            );
        }
        let c = json!({"all": [{"question": "x", "in": ["a", 1, true]}, {"any_row": "r", "where": {"not": {"question": "y", "below": 3}}}]});
        let parsed: Condition = serde_json::from_value(c.clone()).unwrap();
        assert_eq!(serde_json::to_value(&parsed).unwrap(), c);
        assert_eq!(
            parsed.references(),
            vec![(None, "x"), (None, "r"), (Some("r"), "y")]
        );
    }
}
