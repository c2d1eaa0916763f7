//! The templates shipped with the app: the default home-visit survey (入户调查表), loaded
//! from `core/data/forms/home-visit.v1.json`. Counties publish their own versions through
//! the signed county configuration; the built-in minimal template of the first releases
//! stays readable through [`crate::forms::catalog`].

use std::sync::OnceLock;

use crate::error::{Error, FieldError, Result};
use crate::forms::compile::FormTemplate;

/// Id of the default home-visit template.
pub const HOME_VISIT_ID: &str = "home-visit";

/// The JSON of the default home-visit template, version 1.
pub const HOME_VISIT_V1_JSON: &str = include_str!("../../data/forms/home-visit.v1.json");

/// The default home-visit template (入户调查表), version 1: members (roster), income by
/// kind, property, rigid spending, living conditions, cause of hardship, legally obliged
/// supporters (roster), conclusion and reason, place and time, GPS, photo, the household
/// member's signature image, and the emergency remote mode.
pub fn home_visit_template() -> Result<&'static FormTemplate> {
    static TEMPLATE: Loaded<FormTemplate> = OnceLock::new();
    load_once(&TEMPLATE, || {
        FormTemplate::from_json_bytes(HOME_VISIT_V1_JSON.as_bytes())
    })
}

/// A built-in document, loaded once (or the errors that refused it).
pub(crate) type Loaded<T> = OnceLock<std::result::Result<T, Vec<FieldError>>>;

/// Loads a built-in document on first use; later calls return the same result.
pub(crate) fn load_once<T>(
    cell: &'static Loaded<T>,
    load: impl FnOnce() -> Result<T>,
) -> Result<&'static T> {
    cell.get_or_init(|| load().map_err(|e| e.field_errors().to_vec()))
        .as_ref()
        .map_err(|errors| Error::Invalid(errors.clone()))
}
