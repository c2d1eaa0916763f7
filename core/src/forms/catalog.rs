//! Every template version a device knows, so each visit is read with the template it was
//! filled with: a newer version never changes how an older visit is checked.
//!
//! A sealed visit names its template by id, version and content hash. The catalog finds
//! that exact definition (a different definition under the same id and version is refused
//! when published, and a hash mismatch is refused when looked up). The built-in minimal
//! template of the first releases (`home-visit-minimal` v1) is always known, so visits
//! sealed under it keep checking as they did.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::error::{Error, FieldError, Result};
use crate::forms::builtin::home_visit_template;
use crate::forms::compile::FormTemplate;
use crate::visit::content::{SealedContent, TemplateRef};
use crate::visit::template::{minimal_template, Template};

/// A template found by reference.
#[derive(Debug, Clone, Copy)]
pub enum TemplateEntry<'a> {
    /// A data template.
    Form(&'a FormTemplate),
    /// The built-in minimal template (flat answer keys).
    Minimal(&'static Template),
}

/// Template versions by id and version.
#[derive(Debug, Clone, Default)]
pub struct TemplateCatalog {
    forms: BTreeMap<(String, u32), FormTemplate>,
}

impl TemplateCatalog {
    /// A catalog with the built-in templates (the minimal one is always known).
    pub fn with_built_ins() -> Result<Self> {
        let mut catalog = Self::default();
        catalog.publish(home_visit_template()?.clone())?;
        Ok(catalog)
    }

    /// Adds a template version. Publishing the same definition again is a no-op; another
    /// definition under a known id and version is refused (`form.version_taken`).
    pub fn publish(&mut self, template: FormTemplate) -> Result<()> {
        let r = template.reference();
        let minimal = &minimal_template().reference;
        if r.id == minimal.id && r.version == minimal.version {
            return Err(taken(r));
        }
        let key = (r.id.clone(), r.version);
        match self.forms.get(&key) {
            Some(known) if known.reference().hash != r.hash => Err(taken(r)),
            Some(_) => Ok(()),
            None => {
                self.forms.insert(key, template);
                Ok(())
            }
        }
    }

    /// The template a visit names; refused if unknown or if its hash differs.
    pub fn get(&self, reference: &TemplateRef) -> Result<TemplateEntry<'_>> {
        let minimal = minimal_template();
        if *reference == minimal.reference {
            return Ok(TemplateEntry::Minimal(minimal));
        }
        match self.forms.get(&(reference.id.clone(), reference.version)) {
            Some(t) if t.reference().hash == reference.hash => Ok(TemplateEntry::Form(t)),
            Some(_) => Err(Error::invalid(
                FieldError::new(
                    "template.hash",
                    "form.template_hash",
                    "another definition carries this id and version",
                )
                .with("id", &reference.id)
                .with("version", reference.version),
            )),
            None => Err(Error::NotFound {
                what: "form template",
                id: format!("{} v{}", reference.id, reference.version),
            }),
        }
    }

    /// The highest version of a template id.
    pub fn latest(&self, id: &str) -> Option<&FormTemplate> {
        self.forms
            .range((id.to_owned(), 0)..=(id.to_owned(), u32::MAX))
            .next_back()
            .map(|(_, t)| t)
    }

    /// Checks a sealed visit's answers against the template it names. `visit_date` is the
    /// visit's day in the county's time zone.
    pub fn check_sealed(&self, content: &SealedContent, visit_date: NaiveDate) -> Result<()> {
        match self.get(&content.template)? {
            TemplateEntry::Minimal(t) => {
                let errors = t.check_for_seal(&content.answers);
                if errors.is_empty() {
                    Ok(())
                } else {
                    Err(Error::Invalid(errors))
                }
            }
            TemplateEntry::Form(t) => {
                let answers = t.unflatten(&content.answers)?;
                t.validate(&answers, visit_date)?;
                Ok(())
            }
        }
    }
}

fn taken(r: &TemplateRef) -> Error {
    Error::invalid(
        FieldError::new(
            "version",
            "form.version_taken",
            "this id and version is already published with another definition",
        )
        .with("id", &r.id)
        .with("version", r.version),
    )
}
