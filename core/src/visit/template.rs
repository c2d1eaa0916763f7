//! The built-in minimal home-visit template (入户调查表): which answer keys a draft may
//! hold and what each accepts. The forms issue replaces it with loaded, versioned
//! templates; a sealed record names the template's id, version and hash, so it stays
//! readable whatever templates a later app ships.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use crate::error::FieldError;
use crate::signing::canonical::{sha256, to_canonical_bytes, MAX_SAFE_INTEGER};
use crate::visit::content::{ContentHash, TemplateRef};

/// Id of the built-in template.
pub const MINIMAL_TEMPLATE_ID: &str = "home-visit-minimal";
/// Version of the built-in template.
pub const MINIMAL_TEMPLATE_VERSION: u32 = 1;
/// Longest accepted text answer, in characters.
pub const MAX_TEXT_CHARS: usize = 2000;

/// What an answer key accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum FieldKind {
    /// A non-negative amount in fen (integer).
    Fen,
    /// Free text of at most [`MAX_TEXT_CHARS`] characters.
    Text,
    /// Yes or no.
    Bool,
    /// One of the listed options.
    Choice {
        /// The allowed codes.
        options: Vec<String>,
    },
}

/// One answer key of a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateField {
    /// The answer key, e.g. `income_wages_fen`.
    pub key: String,
    /// What it accepts.
    #[serde(flatten)]
    pub kind: FieldKind,
    /// Whether the record cannot be sealed without it.
    pub required: bool,
}

/// A visit template: its identity and its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// Id, version and SHA-256 of the canonical definition.
    pub reference: TemplateRef,
    /// The answer keys.
    pub fields: Vec<TemplateField>,
}

fn choice(options: &[&str]) -> Json {
    json!({"kind": "choice", "options": options})
}

fn minimal_definition() -> Json {
    let living = ["adequate", "difficult", "severe"];
    let fields = vec![
        json!({"key": "income_wages_fen", "kind": "fen", "required": false}),
        json!({"key": "income_business_net_fen", "kind": "fen", "required": false}),
        json!({"key": "income_property_net_fen", "kind": "fen", "required": false}),
        json!({"key": "income_transfer_net_fen", "kind": "fen", "required": false}),
        json!({"key": "spending_illness_fen", "kind": "fen", "required": false}),
        json!({"key": "spending_schooling_fen", "kind": "fen", "required": false}),
        merge(
            json!({"key": "living_food", "required": false}),
            choice(&living),
        ),
        merge(
            json!({"key": "living_clothing", "required": false}),
            choice(&living),
        ),
        merge(
            json!({"key": "living_housing", "required": false}),
            choice(&living),
        ),
        merge(
            json!({"key": "living_daily_goods", "required": false}),
            choice(&living),
        ),
        json!({"key": "hardship_cause", "kind": "text", "required": false}),
        json!({"key": "supporters", "kind": "text", "required": false}),
        json!({"key": "member_present_signed", "kind": "bool", "required": false}),
        merge(
            json!({"key": "conclusion", "required": true}),
            choice(&["eligible", "ineligible", "needs_review"]),
        ),
        json!({"key": "reason", "kind": "text", "required": true}),
    ];
    json!({
        "id": MINIMAL_TEMPLATE_ID,
        "version": MINIMAL_TEMPLATE_VERSION,
        "title": "入户调查表（最小版）",
        "fields": fields,
    })
}

fn merge(mut a: Json, b: Json) -> Json {
    if let (Some(a), Json::Object(b)) = (a.as_object_mut(), b) {
        a.extend(b);
    }
    a
}

/// The built-in minimal home-visit template.
pub fn minimal_template() -> &'static Template {
    static TEMPLATE: OnceLock<Template> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let definition = minimal_definition();
        // The definition is a constant built from literals: canonical encoding cannot fail,
        // and an empty hash would only make every seal refuse to verify against it.
        let bytes = to_canonical_bytes(&definition).unwrap_or_default();
        let fields = definition
            .get("fields")
            .cloned()
            .and_then(|f| serde_json::from_value(f).ok())
            .unwrap_or_default();
        Template {
            reference: TemplateRef {
                id: MINIMAL_TEMPLATE_ID.to_owned(),
                version: MINIMAL_TEMPLATE_VERSION,
                hash: ContentHash(sha256(&bytes)),
            },
            fields,
        }
    })
}

impl Template {
    /// The field with this key.
    pub fn field(&self, key: &str) -> Option<&TemplateField> {
        self.fields.iter().find(|f| f.key == key)
    }

    /// Checks one answer; the error names `draft.<key>`.
    pub fn check_answer(&self, key: &str, value: &Json) -> Result<(), FieldError> {
        let path = format!("draft.{key}");
        let Some(field) = self.field(key) else {
            return Err(FieldError::new(
                path,
                "visit.unknown_answer",
                "the template has no such answer",
            ));
        };
        let ok = match (&field.kind, value) {
            (FieldKind::Fen, Json::Number(n)) => n
                .as_i64()
                .is_some_and(|v| (0..=MAX_SAFE_INTEGER).contains(&v)),
            (FieldKind::Text, Json::String(s)) => s.chars().count() <= MAX_TEXT_CHARS,
            (FieldKind::Bool, Json::Bool(_)) => true,
            (FieldKind::Choice { options }, Json::String(s)) => options.contains(s),
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            let (code, message) = match &field.kind {
                FieldKind::Fen => ("visit.fen", "expected a non-negative whole amount in fen"),
                FieldKind::Text => ("visit.text", "expected text of at most 2000 characters"),
                FieldKind::Bool => ("visit.bool", "expected true or false"),
                FieldKind::Choice { .. } => ("visit.choice", "not one of the allowed options"),
            };
            Err(FieldError::new(path, code, message))
        }
    }

    /// Checks a whole set of answers for sealing: every answer valid, every required one there.
    pub fn check_for_seal(
        &self,
        answers: &std::collections::BTreeMap<String, Json>,
    ) -> Vec<FieldError> {
        let mut errors: Vec<FieldError> = answers
            .iter()
            .filter_map(|(k, v)| self.check_answer(k, v).err())
            .collect();
        for field in self.fields.iter().filter(|f| f.required) {
            if !answers.contains_key(&field.key) {
                errors.push(FieldError::new(
                    format!("draft.{}", field.key),
                    "visit.required",
                    "required before sealing",
                ));
            }
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_template_is_stable_and_checks_answers() {
        let t = minimal_template();
        assert_eq!(t.fields.len(), 15);
        assert_ne!(t.reference.hash.0, [0; 32]);
        assert!(t.check_answer("income_wages_fen", &json!(120000)).is_ok());
        assert!(t.check_answer("income_wages_fen", &json!(-1)).is_err());
        assert!(t.check_answer("conclusion", &json!("maybe")).is_err());
        assert!(t.check_answer("nope", &json!(1)).is_err());
        let errors = t.check_for_seal(&Default::default());
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].field, "draft.conclusion");
    }
}
