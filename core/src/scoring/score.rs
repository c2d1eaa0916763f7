//! Running a rubric: answers + parameters → a [`Decision`], and re-running it on the
//! inputs a decision stored.

use std::collections::BTreeMap;

use crate::error::{Error, FieldError, Result};
use crate::forms::answers::{AnswerValue, Answers, Row};
use crate::forms::condition::{Lookup, Scalar};
use crate::scoring::compile::Rubric;
use crate::scoring::decision::{Decision, ItemScore, PartScore, ScoringInputs, DECISION_FORMAT};
use crate::scoring::expr::{ExprError, Inputs};
use crate::scoring::rubric::{Item, ParameterType, Source};

struct RunInputs<'a, F: Fn(&str) -> Option<&'a AnswerValue>> {
    lookup: F,
    params: &'a BTreeMap<String, Scalar>,
}

impl<'a, F: Fn(&str) -> Option<&'a AnswerValue>> Inputs<'a> for RunInputs<'a, F> {
    fn answers(&self) -> &dyn Lookup<'a> {
        &self.lookup
    }
    fn param(&self, id: &str) -> Option<i64> {
        match self.params.get(id) {
            Some(Scalar::Integer(v)) => Some(*v),
            _ => None,
        }
    }
    fn text_param(&self, id: &str) -> Option<String> {
        match self.params.get(id) {
            Some(Scalar::Text(v)) => Some(v.clone()),
            _ => None,
        }
    }
}

impl Rubric {
    /// Scores answers (validated against the rubric's template) with the rubric's
    /// parameters (every declared one, nothing else). The decision stores the answers the
    /// rubric reads and the parameters, so [`Rubric::rescore`] reproduces it.
    pub fn score(&self, answers: &Answers, params: &BTreeMap<String, Scalar>) -> Result<Decision> {
        self.check_params(params)?;
        let inputs = ScoringInputs {
            answers: self.inputs_of(answers),
            params: params.clone(),
        };
        self.run(inputs)
    }

    /// Re-runs a past decision on its stored inputs; refused unless the decision names
    /// exactly this rubric (id, version and hash).
    pub fn rescore(&self, decision: &Decision) -> Result<Decision> {
        if decision.rubric != *self.reference() {
            return Err(Error::invalid(
                FieldError::new(
                    "rubric",
                    "scoring.rubric_mismatch",
                    "the decision was made with another rubric version",
                )
                .with("id", &decision.rubric.id)
                .with("version", decision.rubric.version),
            ));
        }
        self.check_params(&decision.inputs.params)?;
        self.run(decision.inputs.clone())
    }

    /// Checks that a stored decision is exactly what its inputs give under this rubric.
    pub fn verify(&self, decision: &Decision) -> Result<()> {
        if self.rescore(decision)? == *decision {
            Ok(())
        } else {
            Err(Error::invalid(FieldError::new(
                "scoring",
                "scoring.not_reproducible",
                "re-running the rubric on the stored inputs gives another result",
            )))
        }
    }

    fn check_params(&self, params: &BTreeMap<String, Scalar>) -> Result<()> {
        let mut errors = Vec::new();
        for p in &self.definition.parameters {
            let field = format!("params.{}", p.id);
            match (p.kind, params.get(&p.id)) {
                (_, None) => errors.push(FieldError::new(
                    field,
                    "scoring.param_missing",
                    "parameter not given",
                )),
                (ParameterType::Integer, Some(Scalar::Integer(v))) => {
                    if p.min.is_some_and(|m| *v < m) || p.max.is_some_and(|m| *v > m) {
                        errors.push(
                            FieldError::new(field, "scoring.param_range", "parameter out of range")
                                .with("min", p.min.map_or("-".into(), |m| m.to_string()))
                                .with("max", p.max.map_or("-".into(), |m| m.to_string())),
                        );
                    }
                }
                (ParameterType::Choice, Some(Scalar::Text(code)))
                    if p.options.as_ref().is_some_and(|o| o.contains(code)) => {}
                (_, Some(_)) => errors.push(
                    FieldError::new(
                        field,
                        "scoring.param_type",
                        "parameter of the wrong type or not an option",
                    )
                    .with("type", format!("{:?}", p.kind).to_lowercase()),
                ),
            }
        }
        for key in params.keys() {
            if !self.definition.parameters.iter().any(|p| &p.id == key) {
                errors.push(FieldError::new(
                    format!("params.{key}"),
                    "scoring.param_unknown",
                    "the rubric has no such parameter",
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(errors))
        }
    }

    /// The answers the rubric reads; rosters reduced to the columns it reads.
    fn inputs_of(&self, answers: &Answers) -> Answers {
        let mut out = Answers::default();
        for id in &self.reads {
            let Some(value) = answers.get(id) else {
                continue;
            };
            let value = match (self.columns.get(id), value.as_rows()) {
                (Some(columns), Some(rows)) => AnswerValue::Rows(
                    rows.iter()
                        .map(|row| {
                            row.iter()
                                .filter(|(k, _)| columns.contains(*k))
                                .map(|(k, v)| (k.clone(), v.clone()))
                                .collect::<Row>()
                        })
                        .collect(),
                ),
                _ => value.clone(),
            };
            out.set(id.clone(), value);
        }
        out
    }

    fn run(&self, inputs: ScoringInputs) -> Result<Decision> {
        let answers = &inputs.answers;
        let lookup = |id: &str| answers.get(id);
        let env = RunInputs {
            lookup,
            params: &inputs.params,
        };
        let mut parts = Vec::with_capacity(self.definition.parts.len());
        let mut total: i64 = 0;
        for part in &self.definition.parts {
            let mut items = Vec::with_capacity(part.items.len());
            let mut points: i64 = 0;
            for item in &part.items {
                let scored = score_item(item, &env).map_err(|e| item_error(&part.id, item, e))?;
                points = points
                    .checked_add(scored.points)
                    .ok_or_else(|| item_error(&part.id, item, ExprError::Overflow))?;
                items.push(scored);
            }
            total = total.checked_add(points).ok_or_else(|| {
                Error::invalid(FieldError::new(
                    "total",
                    "scoring.overflow",
                    "total overflows",
                ))
            })?;
            parts.push(PartScore {
                id: part.id.clone(),
                points,
                items,
            });
        }
        let flags: Vec<String> = self
            .definition
            .vetoes
            .iter()
            .filter(|v| v.when.eval(&lookup))
            .map(|v| v.id.clone())
            .collect();
        let d = &self.definition;
        let outcome = d
            .outcomes
            .iter()
            .find(|t| total >= t.at_least)
            .map_or(d.otherwise, |t| t.outcome);
        let class = (outcome == crate::scoring::rubric::Outcome::Eligible)
            .then(|| {
                d.classes
                    .iter()
                    .find(|c| total >= c.at_least)
                    .map(|c| c.class)
            })
            .flatten();
        Ok(Decision {
            format: DECISION_FORMAT,
            rubric: self.reference().clone(),
            needs_verification: !flags.is_empty(),
            flags,
            parts,
            total,
            outcome,
            class,
            inputs,
        })
    }
}

fn score_item<'a>(item: &Item, env: &dyn Inputs<'a>) -> std::result::Result<ItemScore, ExprError> {
    let (value, points) = if let (Some(formula), Some(bands)) = (&item.value, &item.bands) {
        let v = formula.eval(env)?;
        let points = bands
            .iter()
            .find(|b| v <= b.at_most)
            .map_or(item.otherwise, |b| b.points);
        (Some(Scalar::Integer(v)), points)
    } else {
        let value = match &item.choice {
            Some(Source::Answer(id)) => match env.answers().answer(id) {
                None => None,
                Some(AnswerValue::Bool(b)) => Some(Scalar::Bool(*b)),
                Some(AnswerValue::Integer(i)) => Some(Scalar::Integer(*i)),
                Some(AnswerValue::Text(t)) => Some(Scalar::Text(t.clone())),
                Some(_) => return Err(ExprError::NotANumber(id.clone())),
            },
            Some(Source::Param(id)) => Some(env_param(env, id)?),
            None => None,
        };
        let points = item
            .options
            .iter()
            .flatten()
            .find(|o| value.as_ref() == Some(&o.value))
            .map_or(item.otherwise, |o| o.points);
        (value, points)
    };
    Ok(ItemScore {
        id: item.id.clone(),
        value,
        points,
    })
}

fn env_param<'a>(env: &dyn Inputs<'a>, id: &str) -> std::result::Result<Scalar, ExprError> {
    // Choice parameters are text; integer ones are read through `param`.
    env.param(id)
        .map(Scalar::Integer)
        .or_else(|| env.text_param(id).map(Scalar::Text))
        .ok_or_else(|| ExprError::Param(id.to_owned()))
}

fn item_error(part: &str, item: &Item, e: ExprError) -> Error {
    let field = format!("parts.{part}.items.{}", item.id);
    let error = match e {
        ExprError::NotANumber(q) => FieldError::new(
            field,
            "scoring.not_a_number",
            "an answer read as a number is not an integer",
        )
        .with("question", q),
        ExprError::NotRows(q) => FieldError::new(
            field,
            "scoring.not_rows",
            "an answer read as a roster is not rows",
        )
        .with("question", q),
        ExprError::Param(p) => {
            FieldError::new(field, "scoring.param_missing", "parameter not given").with("param", p)
        }
        ExprError::DivisionByZero => {
            FieldError::new(field, "scoring.division_by_zero", "division by zero")
        }
        ExprError::Overflow => FieldError::new(field, "scoring.overflow", "the value overflows"),
    };
    Error::invalid(error)
}
