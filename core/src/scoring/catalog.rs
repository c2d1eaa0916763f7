//! Every rubric version a device knows: a past decision is re-run with the exact version
//! it names, so publishing a new version never changes a past decision.

use std::collections::BTreeMap;

use crate::error::{Error, FieldError, Result};
use crate::scoring::compile::Rubric;
use crate::scoring::decision::{Decision, RubricRef};

/// Rubric versions by id and version.
#[derive(Debug, Clone, Default)]
pub struct RubricCatalog {
    rubrics: BTreeMap<(String, u32), Rubric>,
}

impl RubricCatalog {
    /// Adds a version. The same definition again is a no-op; another definition under a
    /// known id and version is refused (`scoring.version_taken`).
    pub fn publish(&mut self, rubric: Rubric) -> Result<()> {
        let r = rubric.reference();
        let key = (r.id.clone(), r.version);
        match self.rubrics.get(&key) {
            Some(known) if known.reference().hash != r.hash => Err(Error::invalid(
                FieldError::new(
                    "version",
                    "scoring.version_taken",
                    "this id and version is already published with another definition",
                )
                .with("id", &r.id)
                .with("version", r.version),
            )),
            Some(_) => Ok(()),
            None => {
                self.rubrics.insert(key, rubric);
                Ok(())
            }
        }
    }

    /// The rubric a decision names (id, version and hash must all match).
    pub fn get(&self, reference: &RubricRef) -> Result<&Rubric> {
        match self.rubrics.get(&(reference.id.clone(), reference.version)) {
            Some(r) if r.reference() == reference => Ok(r),
            Some(_) => Err(Error::invalid(
                FieldError::new(
                    "rubric.hash",
                    "scoring.rubric_hash",
                    "another definition carries this id and version",
                )
                .with("id", &reference.id)
                .with("version", reference.version),
            )),
            None => Err(Error::NotFound {
                what: "rubric",
                id: format!("{} v{}", reference.id, reference.version),
            }),
        }
    }

    /// The highest version of a rubric id (for new decisions).
    pub fn latest(&self, id: &str) -> Option<&Rubric> {
        self.rubrics
            .range((id.to_owned(), 0)..=(id.to_owned(), u32::MAX))
            .next_back()
            .map(|(_, r)| r)
    }

    /// Re-runs a past decision with the version it names.
    pub fn rescore(&self, decision: &Decision) -> Result<Decision> {
        self.get(&decision.rubric)?.rescore(decision)
    }

    /// Checks a past decision against the version it names.
    pub fn verify(&self, decision: &Decision) -> Result<()> {
        self.get(&decision.rubric)?.verify(decision)
    }
}
