//! Formulas over form answers and rubric parameters, as data. Integers only (fen, counts,
//! percentages), checked arithmetic, division rounding down (toward −∞).
//!
//! ```text
//! {"answer": "income_wages_fen"}            an integer or money answer; 0 when not answered
//! {"param": "standard_fen"}                 a parameter given to the scoring run
//! {"const": 3000000}
//! {"sum": [e, ..]}  {"product": [e, ..]}  {"min": [e, ..]}  {"max": [e, ..]}
//! {"difference": [a, b]}                    a − b
//! {"quotient": [a, b]}                      ⌊a / b⌋ (b = 0 is an error)
//! {"percent": [a, b]}                       ⌊100 · a / b⌋ (b = 0 is an error)
//! {"count_rows": "members", "where": c}     rows of a roster (satisfying condition c, optional)
//! {"sum_rows": "members", "answer": "income_fen", "where": c}   a column's sum over rows
//! ```

use serde::{Deserialize, Serialize};

use crate::forms::answers::AnswerValue;
use crate::forms::condition::{Condition, Lookup};

/// A formula.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawExpr", into = "RawExpr")]
pub enum Expr {
    /// An integer answer, 0 when absent.
    Answer(String),
    /// A parameter.
    Param(String),
    /// A constant.
    Const(i64),
    /// Sum.
    Sum(Vec<Expr>),
    /// Product.
    Product(Vec<Expr>),
    /// Smallest.
    Min(Vec<Expr>),
    /// Largest.
    Max(Vec<Expr>),
    /// a − b.
    Difference(Box<[Expr; 2]>),
    /// ⌊a / b⌋.
    Quotient(Box<[Expr; 2]>),
    /// ⌊100·a / b⌋.
    Percent(Box<[Expr; 2]>),
    /// Rows of a roster, optionally only those satisfying a condition.
    CountRows {
        /// Roster question id.
        roster: String,
        /// Row filter.
        filter: Option<Condition>,
    },
    /// Sum of an integer column over (some) rows.
    SumRows {
        /// Roster question id.
        roster: String,
        /// Column (sub-question id).
        answer: String,
        /// Row filter.
        filter: Option<Condition>,
    },
}

/// Why a formula has no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExprError {
    /// An answer read as a number is not an integer.
    NotANumber(String),
    /// A roster answer is not rows.
    NotRows(String),
    /// A parameter is missing or not an integer.
    Param(String),
    /// Division by zero.
    DivisionByZero,
    /// Overflow beyond 64 bits.
    Overflow,
}

/// What a formula reads: answers (through a lookup) and integer parameters.
pub trait Inputs<'a> {
    /// The scope answers are looked up in.
    fn answers(&self) -> &dyn Lookup<'a>;
    /// An integer parameter.
    fn param(&self, id: &str) -> Option<i64>;
    /// A text (choice) parameter.
    fn text_param(&self, _id: &str) -> Option<String> {
        None
    }
}

impl Expr {
    /// Evaluates the formula.
    pub fn eval<'a>(&self, inputs: &dyn Inputs<'a>) -> Result<i64, ExprError> {
        let fold = |es: &[Expr], start: i64, f: fn(i64, i64) -> Option<i64>| {
            es.iter().try_fold(start, |acc, e| {
                f(acc, e.eval(inputs)?).ok_or(ExprError::Overflow)
            })
        };
        let pair = |p: &[Expr; 2]| Ok::<_, ExprError>((p[0].eval(inputs)?, p[1].eval(inputs)?));
        match self {
            Expr::Answer(id) => match inputs.answers().answer(id) {
                None => Ok(0),
                Some(AnswerValue::Integer(v)) => Ok(*v),
                Some(_) => Err(ExprError::NotANumber(id.clone())),
            },
            Expr::Param(id) => inputs.param(id).ok_or_else(|| ExprError::Param(id.clone())),
            Expr::Const(v) => Ok(*v),
            Expr::Sum(es) => fold(es, 0, i64::checked_add),
            Expr::Product(es) => fold(es, 1, i64::checked_mul),
            Expr::Min(es) => fold(&es[1..], es[0].eval(inputs)?, |a, b| Some(a.min(b))),
            Expr::Max(es) => fold(&es[1..], es[0].eval(inputs)?, |a, b| Some(a.max(b))),
            Expr::Difference(p) => {
                let (a, b) = pair(p)?;
                a.checked_sub(b).ok_or(ExprError::Overflow)
            }
            Expr::Quotient(p) => {
                let (a, b) = pair(p)?;
                divide(a, b)
            }
            Expr::Percent(p) => {
                let (a, b) = pair(p)?;
                divide(a.checked_mul(100).ok_or(ExprError::Overflow)?, b)
            }
            Expr::CountRows { roster, filter } => {
                let rows = rows_of(inputs, roster)?;
                let n = rows
                    .iter()
                    .filter(|row| row_holds(inputs, row, filter.as_ref()))
                    .count();
                i64::try_from(n).map_err(|_| ExprError::Overflow)
            }
            Expr::SumRows {
                roster,
                answer,
                filter,
            } => rows_of(inputs, roster)?
                .iter()
                .filter(|row| row_holds(inputs, row, filter.as_ref()))
                .try_fold(0i64, |acc, row| match row.get(answer) {
                    None => Ok(acc),
                    Some(AnswerValue::Integer(v)) => acc.checked_add(*v).ok_or(ExprError::Overflow),
                    Some(_) => Err(ExprError::NotANumber(format!("{roster}.{answer}"))),
                }),
        }
    }

    /// Every (roster, question) and parameter the formula reads.
    pub fn references<'s>(
        &'s self,
        answers: &mut Vec<(Option<&'s str>, &'s str)>,
        params: &mut Vec<&'s str>,
    ) {
        match self {
            Expr::Answer(id) => answers.push((None, id)),
            Expr::Param(id) => params.push(id),
            Expr::Const(_) => {}
            Expr::Sum(es) | Expr::Product(es) | Expr::Min(es) | Expr::Max(es) => {
                es.iter().for_each(|e| e.references(answers, params));
            }
            Expr::Difference(p) | Expr::Quotient(p) | Expr::Percent(p) => {
                p.iter().for_each(|e| e.references(answers, params));
            }
            Expr::CountRows { roster, filter } => {
                answers.push((None, roster));
                filter_references(roster, filter.as_ref(), answers);
            }
            Expr::SumRows {
                roster,
                answer,
                filter,
            } => {
                answers.push((None, roster));
                answers.push((Some(roster), answer));
                filter_references(roster, filter.as_ref(), answers);
            }
        }
    }
}

fn filter_references<'s>(
    roster: &'s str,
    filter: Option<&'s Condition>,
    out: &mut Vec<(Option<&'s str>, &'s str)>,
) {
    for (inner, id) in filter.map(Condition::references).unwrap_or_default() {
        out.push((inner.or(Some(roster)), id));
    }
}

fn divide(a: i64, b: i64) -> Result<i64, ExprError> {
    if b == 0 {
        return Err(ExprError::DivisionByZero);
    }
    a.checked_div_euclid(b)
        .and_then(|q| {
            if b < 0 && a.rem_euclid(b) != 0 {
                q.checked_sub(1)
            } else {
                Some(q)
            }
        })
        .ok_or(ExprError::Overflow)
}

fn rows_of<'a>(
    inputs: &dyn Inputs<'a>,
    roster: &str,
) -> Result<&'a [crate::forms::answers::Row], ExprError> {
    match inputs.answers().answer(roster) {
        None => Ok(&[]),
        Some(v) => v
            .as_rows()
            .ok_or_else(|| ExprError::NotRows(roster.to_owned())),
    }
}

fn row_holds<'a>(
    inputs: &dyn Inputs<'a>,
    row: &'a crate::forms::answers::Row,
    filter: Option<&Condition>,
) -> bool {
    let Some(condition) = filter else {
        return true;
    };
    let outer = inputs.answers();
    let scope = |id: &str| row.get(id).or_else(|| outer.answer(id));
    condition.eval(&scope)
}

/// The JSON form of a formula.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpr {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    answer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    param: Option<String>,
    #[serde(default, rename = "const", skip_serializing_if = "Option::is_none")]
    constant: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sum: Option<Vec<Expr>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    product: Option<Vec<Expr>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min: Option<Vec<Expr>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max: Option<Vec<Expr>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    difference: Option<Box<[Expr; 2]>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    quotient: Option<Box<[Expr; 2]>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    percent: Option<Box<[Expr; 2]>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    count_rows: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sum_rows: Option<String>,
    #[serde(default, rename = "where", skip_serializing_if = "Option::is_none")]
    filter: Option<Condition>,
}

const FORMS: &str = "a formula is exactly one of answer, param, const, sum, product, min, max, \
                     difference, quotient, percent, count_rows (+ where), sum_rows + answer (+ where)";

impl TryFrom<RawExpr> for Expr {
    type Error = String;

    fn try_from(r: RawExpr) -> Result<Self, String> {
        let lists = [&r.sum, &r.product, &r.min, &r.max];
        if lists.iter().any(|l| l.as_ref().is_some_and(Vec::is_empty)) {
            return Err("sum, product, min and max take at least one formula".into());
        }
        let set = [
            r.answer.is_some() && r.sum_rows.is_none(),
            r.param.is_some(),
            r.constant.is_some(),
            r.sum.is_some(),
            r.product.is_some(),
            r.min.is_some(),
            r.max.is_some(),
            r.difference.is_some(),
            r.quotient.is_some(),
            r.percent.is_some(),
            r.count_rows.is_some(),
            r.sum_rows.is_some(),
        ];
        let filter_ok = r.filter.is_none() || r.count_rows.is_some() || r.sum_rows.is_some();
        if set.iter().filter(|s| **s).count() != 1
            || !filter_ok
            || (r.sum_rows.is_some() && r.answer.is_none())
        {
            return Err(FORMS.into());
        }
        Ok(match r {
            RawExpr {
                sum_rows: Some(roster),
                answer: Some(answer),
                filter,
                ..
            } => Expr::SumRows {
                roster,
                answer,
                filter,
            },
            RawExpr {
                count_rows: Some(roster),
                filter,
                ..
            } => Expr::CountRows { roster, filter },
            RawExpr {
                answer: Some(a), ..
            } => Expr::Answer(a),
            RawExpr { param: Some(p), .. } => Expr::Param(p),
            RawExpr {
                constant: Some(c), ..
            } => Expr::Const(c),
            RawExpr { sum: Some(es), .. } => Expr::Sum(es),
            RawExpr {
                product: Some(es), ..
            } => Expr::Product(es),
            RawExpr { min: Some(es), .. } => Expr::Min(es),
            RawExpr { max: Some(es), .. } => Expr::Max(es),
            RawExpr {
                difference: Some(p),
                ..
            } => Expr::Difference(p),
            RawExpr {
                quotient: Some(p), ..
            } => Expr::Quotient(p),
            RawExpr {
                percent: Some(p), ..
            } => Expr::Percent(p),
            _ => return Err(FORMS.into()),
        })
    }
}

impl From<Expr> for RawExpr {
    fn from(e: Expr) -> Self {
        let mut r = RawExpr::default();
        match e {
            Expr::Answer(a) => r.answer = Some(a),
            Expr::Param(p) => r.param = Some(p),
            Expr::Const(c) => r.constant = Some(c),
            Expr::Sum(es) => r.sum = Some(es),
            Expr::Product(es) => r.product = Some(es),
            Expr::Min(es) => r.min = Some(es),
            Expr::Max(es) => r.max = Some(es),
            Expr::Difference(p) => r.difference = Some(p),
            Expr::Quotient(p) => r.quotient = Some(p),
            Expr::Percent(p) => r.percent = Some(p),
            Expr::CountRows { roster, filter } => {
                r.count_rows = Some(roster);
                r.filter = filter;
            }
            Expr::SumRows {
                roster,
                answer,
                filter,
            } => {
                r.sum_rows = Some(roster);
                r.answer = Some(answer);
                r.filter = filter;
            }
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forms::answers::Answers;
    use serde_json::json;

    fn eval(e: serde_json::Value, answers: serde_json::Value) -> Result<i64, ExprError> {
        let e: Expr = serde_json::from_value(e).unwrap();
        let a = Answers::from_json(&answers).unwrap();
        struct In<'a>(&'a Answers);
        impl<'a> Lookup<'a> for In<'a> {
            fn answer(&self, id: &str) -> Option<&'a AnswerValue> {
                self.0.get(id)
            }
        }
        impl<'a> Inputs<'a> for In<'a> {
            fn answers(&self) -> &dyn Lookup<'a> {
                self
            }
            fn param(&self, id: &str) -> Option<i64> {
                (id == "standard_fen").then_some(526_800)
            }
        }
        let inputs = In(&a);
        e.eval(&inputs)
    }

    #[test]
    fn formulas() {
        let a = json!({"w": 300_000, "b": 100_000, "m": [{"i": 5, "l": "none"}, {"i": 7, "l": "full"}]});
        let per_capita =
            json!({"quotient": [{"sum": [{"answer": "w"}, {"answer": "b"}]}, {"count_rows": "m"}]});
        assert_eq!(eval(per_capita.clone(), a.clone()), Ok(200_000));
        assert_eq!(
            eval(
                json!({"percent": [per_capita, {"param": "standard_fen"}]}),
                a.clone()
            ),
            Ok(37)
        );
        assert_eq!(
            eval(
                json!({"count_rows": "m", "where": {"question": "l", "equals": "none"}}),
                a.clone()
            ),
            Ok(1)
        );
        assert_eq!(
            eval(json!({"sum_rows": "m", "answer": "i"}), a.clone()),
            Ok(12)
        );
        assert_eq!(
            eval(
                json!({"quotient": [{"const": -7}, {"const": 2}]}),
                a.clone()
            ),
            Ok(-4)
        );
        assert_eq!(
            eval(
                json!({"quotient": [{"const": 7}, {"const": -2}]}),
                a.clone()
            ),
            Ok(-4)
        );
        assert_eq!(
            eval(
                json!({"difference": [{"answer": "absent"}, {"const": 1}]}),
                a.clone()
            ),
            Ok(-1)
        );
        assert_eq!(
            eval(json!({"min": [{"const": 3}, {"const": 2}]}), a.clone()),
            Ok(2)
        );
        assert_eq!(
            eval(json!({"quotient": [{"const": 1}, {"const": 0}]}), a.clone()),
            Err(ExprError::DivisionByZero)
        );
        assert_eq!(
            eval(
                json!({"product": [{"const": i64::MAX}, {"const": 2}]}),
                a.clone()
            ),
            Err(ExprError::Overflow)
        );
        assert_eq!(
            eval(json!({"answer": "m"}), a.clone()),
            Err(ExprError::NotANumber("m".into()))
        );
        assert_eq!(
            eval(json!({"param": "nope"}), a),
            Err(ExprError::Param("nope".into()))
        );
    }

    #[test]
    fn malformed_formulas_are_refused() {
        for bad in [
            json!({}),
            json!({"sum": []}),
            json!({"answer": "a", "param": "b"}),
            json!({"const": 1, "where": {"question": "x", "answered": true}}),
            json!({"sum_rows": "m"}),
            json!({"difference": [{"const": 1}]}),
        ] {
            assert!(
                serde_json::from_value::<Expr>(bad.clone()).is_err(),
                "{bad}"
            );
        }
        let e =
            json!({"sum_rows": "m", "answer": "i", "where": {"question": "l", "equals": "none"}});
        let parsed: Expr = serde_json::from_value(e.clone()).unwrap();
        assert_eq!(serde_json::to_value(parsed).unwrap(), e);
    }
}
