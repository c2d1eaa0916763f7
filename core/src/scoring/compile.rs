//! Loading a rubric: the schema checks, its content hash, and what it reads.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{Error, FieldError, Result};
use crate::forms::compile::{FormTemplate, Spec};
use crate::forms::values::{is_code, is_document_id};
use crate::scoring::decision::RubricRef;
use crate::scoring::rubric::{ParameterType, RubricDefinition, Source};
use crate::signing::canonical::{sha256, to_canonical_bytes_of};
use crate::visit::content::ContentHash;

/// Largest accepted rubric definition, in bytes.
pub const MAX_RUBRIC_BYTES: usize = 256 * 1024;

/// A loaded, checked rubric.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rubric {
    pub(crate) definition: RubricDefinition,
    reference: RubricRef,
    /// Top-level questions read.
    pub(crate) reads: BTreeSet<String>,
    /// Roster → columns read.
    pub(crate) columns: BTreeMap<String, BTreeSet<String>>,
}

impl Rubric {
    /// Loads a rubric from JSON bytes (at most [`MAX_RUBRIC_BYTES`]).
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > MAX_RUBRIC_BYTES {
            return Err(Error::invalid(
                FieldError::new("rubric", "scoring.rubric_too_large", "rubric is too large")
                    .with("limit", MAX_RUBRIC_BYTES),
            ));
        }
        let definition: RubricDefinition = serde_json::from_slice(bytes).map_err(|e| {
            Error::invalid(FieldError::new(
                "rubric",
                "scoring.rubric_schema",
                e.to_string(),
            ))
        })?;
        Self::from_definition(definition)
    }

    /// Checks a definition; the hash is the SHA-256 of its canonical JSON as this schema
    /// writes it.
    pub fn from_definition(definition: RubricDefinition) -> Result<Self> {
        let errors = check(&definition);
        let bytes = to_canonical_bytes_of(&definition).map_err(|e| {
            Error::invalid(FieldError::new(
                "rubric",
                "scoring.rubric_canonical",
                e.to_string(),
            ))
        })?;
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let (reads, columns) = reads_of(&definition);
        Ok(Self {
            reference: RubricRef {
                id: definition.id.clone(),
                version: definition.version,
                hash: ContentHash(sha256(&bytes)),
            },
            definition,
            reads,
            columns,
        })
    }

    /// Id, version and content hash.
    pub fn reference(&self) -> &RubricRef {
        &self.reference
    }

    /// The definition (labels, the sample notice, for the app's screens).
    pub fn definition(&self) -> &RubricDefinition {
        &self.definition
    }

    /// Checks that every question the rubric reads exists in `template` (rosters and their
    /// columns included); errors name the rubric's reference.
    pub fn check_template(&self, template: &FormTemplate) -> Result<()> {
        let mut errors = Vec::new();
        for id in &self.reads {
            let top = template.top.get(id);
            let in_a_roster = self.columns.values().any(|c| c.contains(id));
            if top.is_none() && !in_a_roster {
                errors.push(
                    FieldError::new(
                        "rubric",
                        "scoring.unknown_question",
                        "the template has no such question",
                    )
                    .with("question", id),
                );
            }
        }
        for (roster, columns) in &self.columns {
            let Some((_, q)) = template.top.get(roster) else {
                continue;
            };
            let Spec::Roster(block) = &q.spec else {
                errors.push(
                    FieldError::new("rubric", "scoring.not_a_roster", "read as a roster")
                        .with("question", roster),
                );
                continue;
            };
            for column in columns {
                if block.get(column).is_none() && template.top.get(column).is_none() {
                    errors.push(
                        FieldError::new(
                            "rubric",
                            "scoring.unknown_question",
                            "the roster has no such column",
                        )
                        .with("question", format!("{roster}.{column}")),
                    );
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(errors))
        }
    }
}

fn reads_of(d: &RubricDefinition) -> (BTreeSet<String>, BTreeMap<String, BTreeSet<String>>) {
    let mut answers = Vec::new();
    let mut params = Vec::new();
    let mut conditions = Vec::new();
    for item in d.parts.iter().flat_map(|p| &p.items) {
        if let Some(e) = &item.value {
            e.references(&mut answers, &mut params);
        }
        if let Some(Source::Answer(id)) = &item.choice {
            answers.push((None, id));
        }
    }
    for veto in &d.vetoes {
        conditions.extend(veto.when.references());
    }
    let mut reads = BTreeSet::new();
    let mut columns: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (roster, id) in answers.into_iter().chain(conditions) {
        match roster {
            None => {
                reads.insert(id.to_owned());
            }
            Some(r) => {
                reads.insert(r.to_owned());
                columns
                    .entry(r.to_owned())
                    .or_default()
                    .insert(id.to_owned());
            }
        }
    }
    (reads, columns)
}

fn check(d: &RubricDefinition) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut err = |field: String, code: &'static str, message: &str| {
        errors.push(FieldError::new(field, code, message));
    };
    if !is_document_id(&d.id) {
        err("id".into(), "scoring.id", "not a valid rubric id");
    }
    if d.version == 0 {
        err("version".into(), "scoring.version", "versions start at 1");
    }
    if !is_document_id(&d.template) {
        err(
            "template".into(),
            "scoring.template",
            "not a valid template id",
        );
    }
    if d.sample && d.notice.is_none() {
        err(
            "notice".into(),
            "scoring.sample_notice",
            "a sample rubric says so in a notice",
        );
    }
    let mut ids: Vec<String> = Vec::new();
    let mut unique = |id: &str, field: String, errors: &mut Vec<FieldError>| {
        if !is_code(id) || ids.iter().any(|known| known == id) {
            errors
                .push(FieldError::new(field, "scoring.id", "ids are unique codes").with("id", id));
        }
        ids.push(id.to_owned());
    };
    let mut integer_params = Vec::new();
    let mut all_params = Vec::new();
    for (i, p) in d.parameters.iter().enumerate() {
        if !is_code(&p.id) || all_params.contains(&p.id.as_str()) {
            errors.push(
                FieldError::new(
                    format!("parameters[{i}].id"),
                    "scoring.id",
                    "ids are unique codes",
                )
                .with("id", &p.id),
            );
        }
        all_params.push(p.id.as_str());
        match p.kind {
            ParameterType::Integer => {
                integer_params.push(p.id.as_str());
                if p.options.is_some() || p.min.zip(p.max).is_some_and(|(a, b)| a > b) {
                    errors.push(FieldError::new(
                        format!("parameters[{i}]"),
                        "scoring.parameter",
                        "integer parameters take min ≤ max, no options",
                    ));
                }
            }
            ParameterType::Choice => {
                let ok = p
                    .options
                    .as_ref()
                    .is_some_and(|o| !o.is_empty() && o.iter().all(|c| is_code(c)));
                if !ok || p.min.is_some() || p.max.is_some() {
                    errors.push(FieldError::new(
                        format!("parameters[{i}]"),
                        "scoring.parameter",
                        "choice parameters list option codes, no bounds",
                    ));
                }
            }
        }
    }
    if d.parts.is_empty() {
        errors.push(FieldError::new(
            "parts",
            "scoring.empty",
            "a rubric has parts",
        ));
    }
    for (p, part) in d.parts.iter().enumerate() {
        unique(&part.id, format!("parts[{p}].id"), &mut errors);
        if part.items.is_empty() {
            errors.push(FieldError::new(
                format!("parts[{p}].items"),
                "scoring.empty",
                "a part has items",
            ));
        }
        for (i, item) in part.items.iter().enumerate() {
            let path = format!("parts[{p}].items[{i}]");
            unique(&item.id, format!("{path}.id"), &mut errors);
            let banded = item.value.is_some() && item.bands.as_ref().is_some_and(|b| !b.is_empty());
            let choice =
                item.choice.is_some() && item.options.as_ref().is_some_and(|o| !o.is_empty());
            let mixed = (item.value.is_some() || item.bands.is_some())
                && (item.choice.is_some() || item.options.is_some());
            if mixed || !(banded || choice) {
                errors.push(FieldError::new(
                    path.clone(),
                    "scoring.item",
                    "an item is value + bands, or choice + options",
                ));
            }
            if let Some(bands) = &item.bands {
                if bands.windows(2).any(|w| w[0].at_most >= w[1].at_most) {
                    errors.push(FieldError::new(
                        format!("{path}.bands"),
                        "scoring.bands",
                        "bands are strictly ascending",
                    ));
                }
            }
            if let Some(value) = &item.value {
                let (mut answers, mut params) = (Vec::new(), Vec::new());
                value.references(&mut answers, &mut params);
                for param in params.into_iter().filter(|p| !integer_params.contains(p)) {
                    errors.push(
                        FieldError::new(
                            format!("{path}.value"),
                            "scoring.unknown_parameter",
                            "not an integer parameter of the rubric",
                        )
                        .with("param", param),
                    );
                }
            }
            if let Some(Source::Param(param)) = &item.choice {
                if !all_params.contains(&param.as_str()) {
                    errors.push(
                        FieldError::new(
                            format!("{path}.choice"),
                            "scoring.unknown_parameter",
                            "not a parameter of the rubric",
                        )
                        .with("param", param),
                    );
                }
            }
        }
    }
    for (v, veto) in d.vetoes.iter().enumerate() {
        unique(&veto.id, format!("vetoes[{v}].id"), &mut errors);
    }
    if d.outcomes
        .windows(2)
        .any(|w| w[0].at_least <= w[1].at_least)
    {
        errors.push(FieldError::new(
            "outcomes",
            "scoring.thresholds",
            "thresholds are strictly descending",
        ));
    }
    let classes_ok = d.classes.windows(2).all(|w| w[0].at_least > w[1].at_least)
        && d.classes.iter().enumerate().all(|(i, c)| {
            (1..=4).contains(&c.class) && d.classes[..i].iter().all(|o| o.class != c.class)
        });
    if !classes_ok {
        errors.push(FieldError::new(
            "classes",
            "scoring.classes",
            "classes 1–4, each once, thresholds strictly descending",
        ));
    }
    errors
}
