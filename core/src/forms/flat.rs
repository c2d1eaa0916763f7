//! Answers as flat scalar keys: how structured answers travel in a visit's draft map and in
//! the sealed record format 1 (whose `answers` hold only strings, integers and booleans).
//!
//! | answer | flat keys |
//! |---|---|
//! | text, integer, money, decimal, date, single choice, yes/no, attachment | `<id>`: the value |
//! | multi choice | `<id>`: the option codes joined by `,` (`""` for none) |
//! | GPS point | `<id>.lat_e7`, `<id>.lon_e7` |
//! | roster | `<id>.rows`: the number of rows; each cell `<id>.<row>.<sub-question id>` (rows from 0), multi choice and GPS cells as above |
//!
//! Question ids and option codes are `[a-z0-9_]`, so `.` and `,` cannot be confused. The
//! draft map merges per key, so two tablets filling different cells of a roster merge.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::forms::answers::{AnswerValue, Answers, GpsPoint, Row};
use crate::forms::compile::{Block, FormTemplate, Spec};
use crate::forms::messages::{params, AnswerError, AnswerErrors};

/// Flat answers: key → string, integer or boolean.
pub type FlatAnswers = BTreeMap<String, Json>;

impl FormTemplate {
    /// Flattens answers (validate them first: values no question accepts are refused).
    pub fn flatten(&self, answers: &Answers) -> Result<FlatAnswers, AnswerErrors> {
        let mut out = BTreeMap::new();
        let mut errors = Vec::new();
        for (id, value) in &answers.0 {
            flatten_value(id, id, value, &mut out, &mut errors);
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(AnswerErrors(errors))
        }
    }

    /// Rebuilds structured answers from flat keys; keys that do not fit the template are
    /// reported with `form.flat_key`. The result still needs [`FormTemplate::validate`].
    pub fn unflatten(&self, flat: &FlatAnswers) -> Result<Answers, AnswerErrors> {
        let mut answers = Answers::default();
        let mut rows: BTreeMap<&str, Vec<Row>> = BTreeMap::new();
        let mut errors = Vec::new();
        let bad = |key: &str| AnswerError::new(key, None, None, "form.flat_key", BTreeMap::new());
        // Row counts first, so cells can be placed.
        for (key, value) in flat {
            if let Some(id) = key.strip_suffix(".rows") {
                match (self.top.get(id), value.as_u64()) {
                    (Some((_, q)), Some(n)) if matches!(q.spec, Spec::Roster(ref b) if n as usize <= b.max_rows) =>
                    {
                        rows.insert(&q.id, vec![Row::new(); n as usize]);
                    }
                    _ => errors.push(bad(key)),
                }
            }
        }
        for (key, value) in flat.iter().filter(|(k, _)| !k.ends_with(".rows")) {
            let mut parts = key.splitn(2, '.');
            let id = parts.next().unwrap_or_default();
            let rest = parts.next();
            let placed = match (self.top.get(id), rest) {
                (Some((_, q)), rest) => match (&q.spec, rest) {
                    (Spec::Roster(block), Some(cell)) => {
                        place_cell(block, cell, value, rows.get_mut(q.id.as_str()))
                    }
                    (Spec::Roster(_), None) => false,
                    (spec, rest) => place(spec, &q.id, rest, value, &mut answers.0),
                },
                (None, _) => false,
            };
            if !placed {
                errors.push(bad(key));
            }
        }
        for (id, list) in rows {
            answers.set(id, AnswerValue::Rows(list));
        }
        if errors.is_empty() {
            Ok(answers)
        } else {
            Err(AnswerErrors(errors))
        }
    }
}

fn flatten_value(
    question: &str,
    key: &str,
    value: &AnswerValue,
    out: &mut FlatAnswers,
    errors: &mut Vec<AnswerError>,
) {
    match value {
        AnswerValue::Bool(v) => {
            out.insert(key.to_owned(), Json::from(*v));
        }
        AnswerValue::Integer(v) => {
            out.insert(key.to_owned(), Json::from(*v));
        }
        AnswerValue::Text(v) => {
            out.insert(key.to_owned(), Json::from(v.as_str()));
        }
        AnswerValue::List(v) => {
            out.insert(key.to_owned(), Json::from(v.join(",")));
        }
        AnswerValue::Gps(g) => {
            out.insert(format!("{key}.lat_e7"), Json::from(g.lat_e7));
            out.insert(format!("{key}.lon_e7"), Json::from(g.lon_e7));
        }
        AnswerValue::Rows(rows) => {
            out.insert(format!("{key}.rows"), Json::from(rows.len()));
            for (i, row) in rows.iter().enumerate() {
                for (sub, cell) in row {
                    flatten_value(sub, &format!("{key}.{i}.{sub}"), cell, out, errors);
                }
            }
        }
        AnswerValue::Unsupported(shape) => errors.push(AnswerError::new(
            question,
            None,
            None,
            "form.wrong_type",
            params([
                ("expected", "answer".into()),
                ("got", shape.as_str().into()),
            ]),
        )),
    }
}

/// Places `<row>.<sub>[.<part>]` into its row.
fn place_cell(block: &Block, cell: &str, value: &Json, rows: Option<&mut Vec<Row>>) -> bool {
    let mut parts = cell.splitn(2, '.');
    let (Some(index), Some(rest), Some(rows)) = (parts.next(), parts.next(), rows) else {
        return false;
    };
    let Some(row) = index
        .parse::<usize>()
        .ok()
        .filter(|i| i.to_string() == index)
        .and_then(|i| rows.get_mut(i))
    else {
        return false;
    };
    let mut parts = rest.splitn(2, '.');
    let sub = parts.next().unwrap_or_default();
    match block.get(sub) {
        Some((_, q)) if !matches!(q.spec, Spec::Roster(_)) => {
            place(&q.spec, &q.id, parts.next(), value, row)
        }
        _ => false,
    }
}

/// Places one flat value of question `id` (GPS parts name `lat_e7` / `lon_e7`).
fn place(spec: &Spec, id: &str, part: Option<&str>, value: &Json, into: &mut Row) -> bool {
    let scalar = match value {
        Json::Bool(b) => AnswerValue::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(v) => AnswerValue::Integer(v),
            None => return false,
        },
        Json::String(s) => AnswerValue::Text(s.clone()),
        _ => return false,
    };
    match (spec, part, scalar) {
        (Spec::Gps, Some(axis @ ("lat_e7" | "lon_e7")), AnswerValue::Integer(v)) => {
            let entry = into
                .entry(id.to_owned())
                .or_insert(AnswerValue::Gps(GpsPoint {
                    lat_e7: 0,
                    lon_e7: 0,
                }));
            if let AnswerValue::Gps(g) = entry {
                if axis == "lat_e7" {
                    g.lat_e7 = v;
                } else {
                    g.lon_e7 = v;
                }
            }
            true
        }
        (Spec::Gps, _, _) => false,
        (Spec::MultiChoice { .. }, None, AnswerValue::Text(s)) => {
            let codes = if s.is_empty() {
                Vec::new()
            } else {
                s.split(',').map(str::to_owned).collect()
            };
            into.insert(id.to_owned(), AnswerValue::List(codes));
            true
        }
        (_, None, scalar) => {
            into.insert(id.to_owned(), scalar);
            true
        }
        (_, Some(_), _) => false,
    }
}
