//! Loading a template: the schema checks, and the compiled form validation runs on.

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::error::{Error, FieldError, Result};
use crate::forms::condition::Condition;
use crate::forms::template::{
    Bound, Label, Media, Pattern, Question, QuestionType, TemplateDefinition,
};
use crate::forms::values::{is_code, is_document_id, parse_date, parse_decimal, MAX_SCALE};
use crate::signing::canonical::{sha256, to_canonical_bytes_of, MAX_SAFE_INTEGER};
use crate::visit::content::{ContentHash, TemplateRef};

/// Largest accepted template definition, in bytes.
pub const MAX_TEMPLATE_BYTES: usize = 1024 * 1024;
/// Longest text answer when a question sets no `max_chars`.
pub const DEFAULT_MAX_CHARS: u32 = 2000;
/// Most rows of a roster when it sets no `max_rows`.
pub const DEFAULT_MAX_ROWS: u32 = 50;
/// Upper limit for `max_rows`.
pub const MAX_ROWS_LIMIT: u32 = 500;

/// What a question accepts, with its constraints resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Spec {
    Text {
        max_chars: usize,
        pattern: Option<Pattern>,
    },
    Integer {
        min: i64,
        max: i64,
    },
    Money {
        min: i64,
        max: i64,
    },
    Decimal {
        scale: u8,
        min: Option<i64>,
        max: Option<i64>,
    },
    Date {
        min: Option<NaiveDate>,
        max: Option<NaiveDate>,
        not_after_visit: bool,
    },
    SingleChoice {
        codes: Vec<String>,
    },
    MultiChoice {
        codes: Vec<String>,
        min: usize,
        max: usize,
    },
    YesNo,
    Roster(Block),
    Attachment {
        media: Media,
    },
    Gps,
}

/// One compiled question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Compiled {
    pub id: String,
    pub label: Label,
    pub required: bool,
    pub relevant: Option<Condition>,
    pub spec: Spec,
}

/// Questions in order with an index by id (the top level, or a roster's row).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Block {
    pub questions: Vec<Compiled>,
    pub index: HashMap<String, usize>,
    pub min_rows: usize,
    pub max_rows: usize,
}

impl Block {
    pub fn get(&self, id: &str) -> Option<(usize, &Compiled)> {
        let i = *self.index.get(id)?;
        self.questions.get(i).map(|q| (i, q))
    }
}

/// A loaded, checked form template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormTemplate {
    definition: TemplateDefinition,
    reference: TemplateRef,
    pub(crate) top: Block,
}

impl FormTemplate {
    /// Loads a template from JSON bytes (at most [`MAX_TEMPLATE_BYTES`]).
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > MAX_TEMPLATE_BYTES {
            return Err(Error::invalid(
                FieldError::new(
                    "template",
                    "form.template_too_large",
                    "template is too large",
                )
                .with("limit", MAX_TEMPLATE_BYTES),
            ));
        }
        let definition: TemplateDefinition = serde_json::from_slice(bytes).map_err(|e| {
            Error::invalid(FieldError::new(
                "template",
                "form.template_schema",
                e.to_string(),
            ))
        })?;
        Self::from_definition(definition)
    }

    /// Checks a definition and compiles it.
    ///
    /// The content hash is the SHA-256 of the definition's canonical JSON as this schema
    /// writes it (fields at their defaults are left out).
    pub fn from_definition(definition: TemplateDefinition) -> Result<Self> {
        let mut errors = Vec::new();
        if !is_document_id(&definition.id) {
            errors.push(FieldError::new("id", "form.id", "not a valid template id"));
        }
        if definition.version == 0 {
            errors.push(FieldError::new(
                "version",
                "form.version",
                "versions start at 1",
            ));
        }
        let mut top = Block::default();
        let mut section_ids: Vec<&str> = Vec::new();
        for (s, section) in definition.sections.iter().enumerate() {
            let path = format!("sections[{s}]");
            if !is_code(&section.id) || section_ids.contains(&section.id.as_str()) {
                errors.push(FieldError::new(
                    format!("{path}.id"),
                    "form.section_id",
                    "section ids must be unique codes",
                ));
            }
            section_ids.push(&section.id);
            for (q, question) in section.questions.iter().enumerate() {
                let path = format!("{path}.questions[{q}]");
                compile_into(&mut top, question, &path, None, &mut errors);
            }
        }
        if top.questions.is_empty() {
            errors.push(FieldError::new(
                "sections",
                "form.empty",
                "a template has questions",
            ));
        }
        let bytes = to_canonical_bytes_of(&definition).map_err(|e| {
            Error::invalid(FieldError::new(
                "template",
                "form.template_canonical",
                e.to_string(),
            ))
        })?;
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let reference = TemplateRef {
            id: definition.id.clone(),
            version: definition.version,
            hash: ContentHash(sha256(&bytes)),
        };
        Ok(Self {
            definition,
            reference,
            top,
        })
    }

    /// Id, version and content hash: what a sealed visit records.
    pub fn reference(&self) -> &TemplateRef {
        &self.reference
    }

    /// The definition as loaded (sections, labels, for the app's screens).
    pub fn definition(&self) -> &TemplateDefinition {
        &self.definition
    }

    /// Whether the template has a top-level question with this id.
    pub fn has_question(&self, id: &str) -> bool {
        self.top.index.contains_key(id)
    }
}

fn compile_into(
    block: &mut Block,
    question: &Question,
    path: &str,
    outer: Option<&Block>,
    errors: &mut Vec<FieldError>,
) {
    let mut err = |field: &str, code: &'static str, message: &str| {
        errors.push(FieldError::new(format!("{path}.{field}"), code, message));
    };
    if !is_code(&question.id) {
        err(
            "id",
            "form.question_id",
            "question ids are codes (a-z, 0-9, _)",
        );
    } else if block.index.contains_key(&question.id)
        || outer.is_some_and(|o| o.index.contains_key(&question.id))
    {
        err("id", "form.duplicate_question", "question id is used twice");
    }
    for (label, text) in [
        ("label.zh", &question.label.zh),
        ("label.en", &question.label.en),
    ] {
        if text.trim().is_empty() {
            err(
                label,
                "form.label",
                "labels are given in Chinese and English",
            );
        }
    }
    if let Some(condition) = &question.relevant {
        for (roster, id) in condition.references() {
            if !refers_to_earlier(block, outer, roster, id) {
                errors.push(
                    FieldError::new(
                        format!("{path}.relevant"),
                        "form.relevant_reference",
                        "a condition may only read earlier questions",
                    )
                    .with("question", id),
                );
            }
        }
    }
    let spec = match compile_spec(question, path, block, errors) {
        Some(spec) => spec,
        None => return,
    };
    if matches!(spec, Spec::Roster(_)) && outer.is_some() {
        errors.push(FieldError::new(
            format!("{path}.type"),
            "form.nested_roster",
            "a roster cannot hold another roster",
        ));
        return;
    }
    block
        .index
        .insert(question.id.clone(), block.questions.len());
    block.questions.push(Compiled {
        id: question.id.clone(),
        label: question.label.clone(),
        required: question.required,
        relevant: question.relevant.clone(),
        spec,
    });
}

/// `id` read inside `roster` (if any) names an earlier question of this block, of the
/// outer block, or of that (earlier) roster.
fn refers_to_earlier(block: &Block, outer: Option<&Block>, roster: Option<&str>, id: &str) -> bool {
    let in_roster = roster.is_some_and(|r| {
        [Some(block), outer].into_iter().flatten().any(|b| {
            matches!(b.get(r), Some((_, Compiled { spec: Spec::Roster(rows), .. })) if rows.index.contains_key(id))
        })
    });
    in_roster || block.index.contains_key(id) || outer.is_some_and(|o| o.index.contains_key(id))
}

fn int_bound(b: &Option<Bound>) -> std::result::Result<Option<i64>, ()> {
    match b {
        None => Ok(None),
        Some(Bound::Integer(v)) if v.abs() <= MAX_SAFE_INTEGER => Ok(Some(*v)),
        Some(_) => Err(()),
    }
}

fn text_bound<T>(
    b: &Option<Bound>,
    parse: impl Fn(&str) -> Option<T>,
) -> std::result::Result<Option<T>, ()> {
    match b {
        None => Ok(None),
        Some(Bound::Text(t)) => parse(t).map(Some).ok_or(()),
        Some(_) => Err(()),
    }
}

fn compile_spec(
    q: &Question,
    path: &str,
    block: &Block,
    errors: &mut Vec<FieldError>,
) -> Option<Spec> {
    let t = q.kind;
    let mut misplaced = Vec::new();
    let mut check = |field: &'static str, present: bool, allowed: bool| {
        if present && !allowed {
            misplaced.push(field);
        }
    };
    use QuestionType as T;
    let bounded = matches!(t, T::Integer | T::Money | T::Decimal | T::Date);
    let choice = matches!(t, T::SingleChoice | T::MultiChoice);
    check("min", q.min.is_some(), bounded);
    check("max", q.max.is_some(), bounded);
    check("scale", q.scale.is_some(), t == T::Decimal);
    check("max_chars", q.max_chars.is_some(), t == T::Text);
    check("pattern", q.pattern.is_some(), t == T::Text);
    check("not_after_visit", q.not_after_visit, t == T::Date);
    check("options", q.options.is_some(), choice);
    check(
        "min_selected",
        q.min_selected.is_some(),
        t == T::MultiChoice,
    );
    check(
        "max_selected",
        q.max_selected.is_some(),
        t == T::MultiChoice,
    );
    check("questions", q.questions.is_some(), t == T::Roster);
    check("min_rows", q.min_rows.is_some(), t == T::Roster);
    check("max_rows", q.max_rows.is_some(), t == T::Roster);
    check("media", q.media.is_some(), t == T::Attachment);
    for field in misplaced {
        errors.push(
            FieldError::new(
                format!("{path}.{field}"),
                "form.misplaced",
                "not used by this question type",
            )
            .with("type", format!("{t:?}")),
        );
    }
    let mut bad = |field: &str, code: &'static str, message: &str| {
        errors.push(FieldError::new(format!("{path}.{field}"), code, message));
    };
    let spec = match t {
        T::Text => Spec::Text {
            max_chars: q.max_chars.unwrap_or(DEFAULT_MAX_CHARS) as usize,
            pattern: q.pattern,
        },
        T::Integer | T::Money => {
            let default_min = if t == T::Money { 0 } else { -MAX_SAFE_INTEGER };
            match (int_bound(&q.min), int_bound(&q.max)) {
                (Ok(min), Ok(max)) => {
                    let (min, max) = (min.unwrap_or(default_min), max.unwrap_or(MAX_SAFE_INTEGER));
                    if min > max {
                        bad("min", "form.bounds", "min is above max");
                    }
                    if t == T::Money {
                        Spec::Money { min, max }
                    } else {
                        Spec::Integer { min, max }
                    }
                }
                _ => {
                    bad(
                        "min",
                        "form.bounds",
                        "bounds are integers within ±(2^53 − 1)",
                    );
                    return None;
                }
            }
        }
        T::Decimal => {
            let scale = q.scale.unwrap_or(0);
            if !(1..=MAX_SCALE).contains(&scale) {
                bad(
                    "scale",
                    "form.scale",
                    "scale is 1 to 6 digits after the point",
                );
            }
            match (
                text_bound(&q.min, |s| parse_decimal(s, scale)),
                text_bound(&q.max, |s| parse_decimal(s, scale)),
            ) {
                (Ok(min), Ok(max)) => Spec::Decimal { scale, min, max },
                _ => {
                    bad(
                        "min",
                        "form.bounds",
                        "decimal bounds are decimal strings within the scale",
                    );
                    return None;
                }
            }
        }
        T::Date => match (
            text_bound(&q.min, parse_date),
            text_bound(&q.max, parse_date),
        ) {
            (Ok(min), Ok(max)) => Spec::Date {
                min,
                max,
                not_after_visit: q.not_after_visit,
            },
            _ => {
                bad("min", "form.bounds", "date bounds are YYYY-MM-DD");
                return None;
            }
        },
        T::SingleChoice | T::MultiChoice => {
            let options = q.options.as_deref().unwrap_or_default();
            let codes: Vec<String> = options.iter().map(|o| o.code.clone()).collect();
            if codes.is_empty() {
                bad(
                    "options",
                    "form.options",
                    "a choice question lists its options",
                );
            }
            for (i, o) in options.iter().enumerate() {
                if !is_code(&o.code) || codes[..i].contains(&o.code) {
                    bad(
                        &format!("options[{i}].code"),
                        "form.option_code",
                        "option codes are unique codes",
                    );
                }
                if o.label.zh.trim().is_empty() || o.label.en.trim().is_empty() {
                    bad(
                        &format!("options[{i}].label"),
                        "form.label",
                        "labels are given in Chinese and English",
                    );
                }
            }
            if t == T::SingleChoice {
                Spec::SingleChoice { codes }
            } else {
                let min = q.min_selected.unwrap_or(0) as usize;
                let max = q.max_selected.map_or(codes.len(), |m| m as usize);
                if min > max {
                    bad(
                        "min_selected",
                        "form.bounds",
                        "min_selected is above max_selected",
                    );
                }
                Spec::MultiChoice { codes, min, max }
            }
        }
        T::YesNo => Spec::YesNo,
        T::Attachment => Spec::Attachment {
            media: q.media.unwrap_or(Media::Photo),
        },
        T::Gps => Spec::Gps,
        T::Roster => {
            let min_rows = q.min_rows.unwrap_or(0);
            let max_rows = q.max_rows.unwrap_or(DEFAULT_MAX_ROWS);
            if min_rows > max_rows || max_rows > MAX_ROWS_LIMIT {
                bad("max_rows", "form.bounds", "rows: min_rows ≤ max_rows ≤ 500");
            }
            let mut rows = Block {
                min_rows: min_rows as usize,
                max_rows: max_rows as usize,
                ..Block::default()
            };
            let subs = q.questions.as_deref().unwrap_or_default();
            if subs.is_empty() {
                bad("questions", "form.empty", "a roster has questions");
            }
            for (i, sub) in subs.iter().enumerate() {
                compile_into(
                    &mut rows,
                    sub,
                    &format!("{path}.questions[{i}]"),
                    Some(block),
                    errors,
                );
            }
            Spec::Roster(rows)
        }
    };
    Some(spec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn load(v: serde_json::Value) -> Result<FormTemplate> {
        FormTemplate::from_json_bytes(v.to_string().as_bytes())
    }

    fn q(id: &str, extra: serde_json::Value) -> serde_json::Value {
        let mut base = json!({"id": id, "label": {"zh": "问", "en": "Q"}});
        if let (Some(b), serde_json::Value::Object(e)) = (base.as_object_mut(), extra) {
            b.extend(e);
        }
        base
    }

    fn template(questions: Vec<serde_json::Value>) -> serde_json::Value {
        json!({"id": "t", "version": 1, "title": {"zh": "表", "en": "Form"},
               "sections": [{"id": "s", "title": {"zh": "节", "en": "S"}, "questions": questions}]})
    }

    #[test]
    fn loads_and_hashes_stably() {
        let t = load(template(vec![q("a", json!({"type": "integer", "min": 0}))])).unwrap();
        let again = load(template(vec![q(
            "a",
            json!({"type": "integer", "min": 0, "required": false}),
        )]))
        .unwrap();
        assert_eq!(t.reference(), again.reference());
        let other = load(template(vec![q("a", json!({"type": "integer", "min": 1}))])).unwrap();
        assert_ne!(t.reference().hash, other.reference().hash);
    }

    #[test]
    fn schema_errors_name_the_place() {
        let cases = [
            (
                q("a", json!({"type": "integer", "options": []})),
                "sections[0].questions[0].options",
                "form.misplaced",
            ),
            (
                q("A", json!({"type": "text"})),
                "sections[0].questions[0].id",
                "form.question_id",
            ),
            (
                q("a", json!({"type": "single_choice", "options": []})),
                "sections[0].questions[0].options",
                "form.options",
            ),
            (
                q("a", json!({"type": "decimal", "scale": 9})),
                "sections[0].questions[0].scale",
                "form.scale",
            ),
            (
                q(
                    "a",
                    json!({"type": "text", "relevant": {"question": "later", "equals": 1}}),
                ),
                "sections[0].questions[0].relevant",
                "form.relevant_reference",
            ),
            (
                q(
                    "a",
                    json!({"type": "roster", "questions": [q("b", json!({"type": "roster", "questions": [q("c", json!({"type": "text"}))]}))]}),
                ),
                "sections[0].questions[0].questions[0].type",
                "form.nested_roster",
            ),
            (
                q("a", json!({"type": "integer", "min": 5, "max": 1})),
                "sections[0].questions[0].min",
                "form.bounds",
            ),
        ];
        for (question, field, code) in cases {
            let err = load(template(vec![question])).unwrap_err();
            let errors = err.field_errors();
            assert!(
                errors.iter().any(|e| e.field == field && e.code == code),
                "{errors:?}"
            );
        }
        let dup = load(template(vec![
            q("a", json!({"type": "text"})),
            q("a", json!({"type": "text"})),
        ]))
        .unwrap_err();
        assert_eq!(dup.field_errors()[0].code, "form.duplicate_question");
        assert_eq!(
            load(json!({"id": "t"})).unwrap_err().field_errors()[0].code,
            "form.template_schema"
        );
        let typo = template(vec![q("a", json!({"type": "text", "requried": true}))]);
        assert_eq!(
            load(typo).unwrap_err().field_errors()[0].code,
            "form.template_schema"
        );
    }
}
