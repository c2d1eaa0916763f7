//! Survey forms as versioned data: templates (JSON), answers, validation with field-level
//! errors in Chinese and English, and the built-in templates.
//!
//! | module | what it is |
//! |---|---|
//! | [`template`] | the template schema (serde, documented) |
//! | [`compile`] | loading a template: schema checks, content hash, the compiled form |
//! | [`condition`] | skip logic and other conditions over answers, as data |
//! | [`answers`] | answers: a JSON object keyed by question id, rosters as arrays of rows |
//! | [`validate`] | validation of answers against a template |
//! | [`messages`] | answer errors: question, roster row, code, params, zh + en messages |
//! | [`values`] | decimals, dates, hashes and ids written as text |
//! | [`flat`] | answers as flat scalar keys (the visit draft and sealed format 1) |
//! | [`catalog`] | every known template version, the built-in minimal one included |
//! | [`builtin`] | the shipped default home-visit template (入户调查表) |
//! | [`sample`] | deterministic filled forms for tests and benchmarks |
//!
//! Schema and rules in prose: `docs/forms-and-scoring.md`.

pub mod answers;
pub mod builtin;
pub mod catalog;
pub mod compile;
pub mod condition;
pub mod flat;
pub mod messages;
pub mod sample;
pub mod template;
pub mod validate;
pub mod values;

pub use answers::{AnswerValue, Answers, GpsPoint, Row};
pub use builtin::home_visit_template;
pub use catalog::{TemplateCatalog, TemplateEntry};
pub use compile::FormTemplate;
pub use condition::Condition;
pub use messages::{AnswerError, AnswerErrors};
pub use template::{Label, TemplateDefinition};
