//! The form a visit is filled with, as the draft and the seal check it.
//!
//! A visit names its form when it starts (`template` in the visit map: id, version and
//! hash); a visit started before forms were data names none and is filled with the built-in
//! minimal template. The draft holds answers as flat keys ([`crate::forms::flat`]) whatever
//! the form, so tablets filling different questions — or different cells of a roster —
//! merge per key.
//!
//! | check | minimal template | data form |
//! |---|---|---|
//! | draft edit | each written key is a known key with a value it accepts | the whole draft after the edit reads as answers of the form, and every value is acceptable — except that required, row-count and skip-logic problems wait for the seal (a draft is unfinished) |
//! | seal | every key acceptable, required keys present | [`FormTemplate::validate`] on the visit's day in the county's time zone: everything |

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::Value as Json;
use std::collections::BTreeMap;

use crate::error::FieldError;
use crate::forms::catalog::TemplateEntry;
use crate::forms::compile::FormTemplate;
use crate::forms::messages::AnswerErrors;
use crate::visit::content::TemplateRef;
use crate::visit::template::Template;

/// Answer problems a draft may still have: they are checked when the visit is sealed.
const UNFINISHED: [&str; 3] = ["form.required", "form.rows", "form.not_relevant"];

/// A visit's form and the county's time zone its dates are read in.
#[derive(Debug, Clone, Copy)]
pub struct VisitForm<'a> {
    entry: TemplateEntry<'a>,
    utc_offset_seconds: i32,
}

impl From<&'static Template> for VisitForm<'static> {
    /// The minimal template (its answers hold no dates, so the time zone does not matter).
    fn from(template: &'static Template) -> Self {
        Self::new(TemplateEntry::Minimal(template), 0)
    }
}

impl<'a> VisitForm<'a> {
    /// The form `entry`, whose dates are days in the time zone `utc_offset_seconds` east of
    /// UTC.
    pub fn new(entry: TemplateEntry<'a>, utc_offset_seconds: i32) -> Self {
        Self {
            entry,
            utc_offset_seconds,
        }
    }

    /// Id, version and hash of the form.
    pub fn reference(&self) -> &TemplateRef {
        match self.entry {
            TemplateEntry::Form(t) => t.reference(),
            TemplateEntry::Minimal(t) => &t.reference,
        }
    }

    /// The county's day at `at`.
    pub fn local_day(&self, at: DateTime<Utc>) -> NaiveDate {
        (at + Duration::seconds(i64::from(self.utc_offset_seconds))).date_naive()
    }

    /// Problems of a draft edit: `draft` is the whole draft after the edit, `written` the
    /// keys the edit sets; `today` the county's day of the edit.
    pub fn check_draft(
        &self,
        draft: &BTreeMap<String, Json>,
        written: &[&str],
        today: NaiveDate,
    ) -> Vec<FieldError> {
        match self.entry {
            TemplateEntry::Minimal(t) => written
                .iter()
                .filter_map(|k| draft.get(*k).and_then(|v| t.check_answer(k, v).err()))
                .collect(),
            TemplateEntry::Form(t) => form_problems(t, draft, today)
                .into_iter()
                .filter(|e| !UNFINISHED.contains(&e.code))
                .collect(),
        }
    }

    /// Problems that keep `draft` from being sealed as a visit of `visit_day`.
    pub fn check_seal(
        &self,
        draft: &BTreeMap<String, Json>,
        visit_day: NaiveDate,
    ) -> Vec<FieldError> {
        match self.entry {
            TemplateEntry::Minimal(t) => t.check_for_seal(draft),
            TemplateEntry::Form(t) => form_problems(t, draft, visit_day),
        }
    }
}

fn form_problems(
    template: &FormTemplate,
    draft: &BTreeMap<String, Json>,
    day: NaiveDate,
) -> Vec<FieldError> {
    let as_fields = |errors: AnswerErrors| {
        errors
            .0
            .iter()
            .map(|e| {
                let mut field = e.to_field_error();
                field.field = format!("draft.{}", field.field);
                field
            })
            .collect::<Vec<_>>()
    };
    match template.unflatten(draft) {
        Err(errors) => as_fields(errors),
        Ok(answers) => template
            .validate(&answers, day)
            .err()
            .map_or_else(Vec::new, as_fields),
    }
}
