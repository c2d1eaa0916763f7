//! The form template schema (JSON): what a county publishes and a tablet loads.
//!
//! ```text
//! { "id": "home-visit", "version": 1,
//!   "title": {"zh": "入户调查表", "en": "Home visit survey"},
//!   "sections": [ { "id": "income", "title": {..}, "questions": [ question.. ] } ] }
//!
//! question = { "id": "income_wages_fen", "label": {"zh", "en"}, "type": <type>,
//!              "required": bool (default false), "relevant": condition (default: always),
//!              "hint": {"zh", "en"}, ..the constraints of its type.. }
//! ```
//!
//! | `type` | answer | constraints |
//! |---|---|---|
//! | `text` | string | `max_chars` (default 2000), `pattern`: `resident_id` (GB 11643 check), `mobile_phone`, `digits` |
//! | `integer` | integer | `min`, `max` |
//! | `money` | integer fen | `min` (default 0), `max` |
//! | `decimal` | string such as `"62.5"` | `scale` (digits after the point, 1–6), `min`, `max` (decimal strings) |
//! | `date` | `"YYYY-MM-DD"` | `min`, `max` (dates), `not_after_visit` |
//! | `single_choice` | option code | `options`: `[{"code", "label"}]` |
//! | `multi_choice` | array of option codes, no repeats | `options`, `min_selected`, `max_selected` |
//! | `yes_no` | `true` / `false` | — |
//! | `roster` | array of row objects | `questions` (no nested rosters), `min_rows`, `max_rows` (default 50) |
//! | `attachment` | SHA-256 hex of the file | `media`: `photo`, `signature`, `document` |
//! | `gps` | `{"lat_e7", "lon_e7"}` | within ±90° / ±180° |
//!
//! Ids (templates, sections, questions, option codes) are lower-case ASCII letters, digits
//! and `_`, starting with a letter, at most 64 characters; question ids are unique across
//! the template (a roster's sub-question ids are unique within the roster). A `relevant`
//! condition may only read questions that come earlier (see [`crate::forms::condition`]).
//! The checks are in [`crate::forms::compile`].

use serde::{Deserialize, Serialize};

use crate::forms::condition::Condition;

/// A text in Chinese with its English translation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Label {
    /// Chinese (shown to workers).
    pub zh: String,
    /// English.
    pub en: String,
}

/// A whole template definition, as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateDefinition {
    /// Template id, e.g. `home-visit`.
    pub id: String,
    /// Version; a changed template is a new version, never an edit.
    pub version: u32,
    /// Title.
    pub title: Label,
    /// Notes for workers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Label>,
    /// Sections in order.
    pub sections: Vec<Section>,
}

/// A section of the form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    /// Section id.
    pub id: String,
    /// Title.
    pub title: Label,
    /// Questions in order.
    pub questions: Vec<Question>,
}

/// Question types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionType {
    /// Free text.
    Text,
    /// Whole number.
    Integer,
    /// Money in fen (whole number).
    Money,
    /// Decimal written as a string.
    Decimal,
    /// Calendar date.
    Date,
    /// One option.
    SingleChoice,
    /// Several options.
    MultiChoice,
    /// Yes or no.
    YesNo,
    /// Repeat group (member roster).
    Roster,
    /// A photo, signature image or document, by SHA-256.
    Attachment,
    /// GPS point.
    Gps,
}

/// Named text patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pattern {
    /// A resident ID number passing the GB 11643 check (birth date not after the visit).
    ResidentId,
    /// An 11-digit mobile number starting with 1.
    MobilePhone,
    /// Digits only.
    Digits,
}

/// What an attachment holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Media {
    /// A photo.
    Photo,
    /// The household member's captured signature or thumbprint image.
    Signature,
    /// A scanned document.
    Document,
}

/// One option of a choice question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    /// The code stored in answers.
    pub code: String,
    /// Label.
    pub label: Label,
}

/// A bound: an integer (integer, money) or a string (decimal, date).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Bound {
    /// Integer or fen.
    Integer(i64),
    /// Decimal or date text.
    Text(String),
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// One question. Which optional fields apply depends on `type` (see the module table);
/// a field that does not apply to the type is refused when the template is loaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// Question id: the answer key.
    pub id: String,
    /// Label.
    pub label: Label,
    /// Type.
    #[serde(rename = "type")]
    pub kind: QuestionType,
    /// Must be answered when relevant.
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    /// Asked only when this holds (skip logic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relevant: Option<Condition>,
    /// Help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<Label>,
    /// Lower bound (integer, money, decimal, date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<Bound>,
    /// Upper bound (integer, money, decimal, date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<Bound>,
    /// Decimal places (decimal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<u8>,
    /// Longest text (text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_chars: Option<u32>,
    /// Named pattern (text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<Pattern>,
    /// A date after the visit date is refused (date).
    #[serde(default, skip_serializing_if = "is_false")]
    pub not_after_visit: bool,
    /// Options (single and multi choice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<Choice>>,
    /// Fewest options chosen (multi choice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_selected: Option<u32>,
    /// Most options chosen (multi choice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_selected: Option<u32>,
    /// Sub-questions of each row (roster).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub questions: Option<Vec<Question>>,
    /// Fewest rows (roster).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_rows: Option<u32>,
    /// Most rows (roster).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rows: Option<u32>,
    /// What the file is (attachment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<Media>,
}
