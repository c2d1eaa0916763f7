//! Household documents (家庭档案): the typed model, its Automerge document, validation and
//! conflicts.

pub mod conflict;
pub(crate) mod document;
pub mod model;
pub mod validate;

use automerge::transaction::CommitOptions;
use automerge::{ActorId, AutoCommit, ChangeHash, ROOT};
use serde_json::{Map, Value as Json};

pub use conflict::{ConflictValue, FieldConflict};
pub use model::*;

use crate::error::{Error, Result};
use document::document_error;

/// Who is writing and when: stamped on every change as its message and timestamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorship {
    /// Worker id of the author.
    pub worker_id: String,
    /// Device time, seconds since the Unix epoch.
    pub time_unix: i64,
}

/// One household's Automerge document.
#[derive(Debug)]
pub struct HouseholdDocument {
    doc: AutoCommit,
}

impl HouseholdDocument {
    /// A new document holding `household`, written as one change by `actor`.
    pub fn create(household: &Household, actor: ActorId, by: &Authorship) -> Result<Self> {
        let mut doc = AutoCommit::new().with_actor(actor);
        let tree = to_tree(household)?;
        document::write_diff(&mut doc, &ROOT, &Map::new(), &tree, "", true)?;
        commit(&mut doc, by);
        Ok(Self { doc })
    }

    /// Loads a document from a snapshot followed by any number of change chunks.
    pub fn load(id: &str, chunks: &[&[u8]], actor: ActorId) -> Result<Self> {
        let corrupt = |e: automerge::AutomergeError| Error::CorruptDocument {
            id: id.to_owned(),
            reason: e.to_string(),
        };
        if chunks.is_empty() {
            return Err(Error::CorruptDocument {
                id: id.to_owned(),
                reason: "no stored chunks".into(),
            });
        }
        // One load over the concatenated chunks is several times faster than a load followed
        // by one `load_incremental` per chunk.
        let mut doc = AutoCommit::load(&chunks.concat()).map_err(corrupt)?;
        doc.set_actor(actor);
        Ok(Self { doc })
    }

    /// Wraps an Automerge document (e.g. one received from sync).
    pub fn from_automerge(doc: AutoCommit) -> Self {
        Self { doc }
    }

    /// The underlying Automerge document.
    pub fn automerge(&mut self) -> &mut AutoCommit {
        &mut self.doc
    }

    /// The current heads.
    pub fn heads(&mut self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    /// The household as it is now; where a field is conflicted this shows Automerge's
    /// deterministic winner (see [`Self::conflicts`] for all values).
    pub fn household(&self) -> Result<Household> {
        from_tree(document::read_tree(&self.doc, None)?)
    }

    /// The household as it was at `heads`.
    pub fn household_at(&self, heads: &[ChangeHash]) -> Result<Household> {
        from_tree(document::read_tree(&self.doc, Some(heads))?)
    }

    /// Fields holding concurrent values from different tablets.
    pub fn conflicts(&mut self) -> Result<Vec<FieldConflict>> {
        document::conflicts(&mut self.doc)
    }

    /// Writes the fields of `edited` that differ from the household as read at `base_heads`.
    /// Returns `None` when nothing changed. On error nothing is written.
    pub fn update(
        &mut self,
        base_heads: &[ChangeHash],
        edited: &Household,
        by: &Authorship,
    ) -> Result<Option<ChangeHash>> {
        let current = self.doc.get_heads();
        let base = if current.as_slice() == base_heads {
            document::read_tree(&self.doc, None)?
        } else {
            document::read_tree(&self.doc, Some(base_heads))?
        };
        let new = to_tree(edited)?;
        match document::write_diff(&mut self.doc, &ROOT, &base, &new, "", false) {
            Ok(()) => Ok(commit(&mut self.doc, by)),
            Err(e) => {
                self.doc.rollback();
                Err(e)
            }
        }
    }

    /// Puts `value` at `field`, superseding every concurrent value there.
    pub fn resolve(
        &mut self,
        field: &str,
        value: &Json,
        by: &Authorship,
    ) -> Result<Option<ChangeHash>> {
        match document::put_path(&mut self.doc, field, value) {
            Ok(()) => Ok(commit(&mut self.doc, by)),
            Err(e) => {
                self.doc.rollback();
                Err(e)
            }
        }
    }

    /// The household with `field` set to `value`, without writing (for validating a resolve).
    pub fn household_with(&self, field: &str, value: &Json) -> Result<Household> {
        let mut tree = document::read_tree(&self.doc, None)?;
        let mut parts = field.split('.').peekable();
        let mut map = &mut tree;
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                map.insert(part.to_owned(), value.clone());
                break;
            }
            map = match map.get_mut(part) {
                Some(Json::Object(child)) => child,
                _ => {
                    return Err(Error::NotFound {
                        what: "field",
                        id: field.to_owned(),
                    })
                }
            };
        }
        from_tree(tree)
    }

    /// Whether the document's root `id` holds exactly one value, equal to `id` (merging in
    /// another household's history would leave two).
    pub fn has_single_id(&self, id: &str) -> bool {
        use automerge::ReadDoc;
        match self.doc.get_all(ROOT, "id") {
            Ok(values) => values.len() == 1 && values[0].0.as_str() == Some(id),
            Err(_) => false,
        }
    }

    /// A full snapshot (`save()`), compacted.
    pub fn save(&mut self) -> Vec<u8> {
        self.doc.save()
    }

    /// The changes not covered by `heads`, as a change chunk (empty when there are none).
    pub fn save_after(&mut self, heads: &[ChangeHash]) -> Vec<u8> {
        self.doc.save_after(heads)
    }

    /// Merges another replica's document into this one.
    pub fn merge(&mut self, other: &mut HouseholdDocument) -> Result<()> {
        self.doc.merge(&mut other.doc).map_err(document_error)?;
        Ok(())
    }
}

fn commit(doc: &mut AutoCommit, by: &Authorship) -> Option<ChangeHash> {
    doc.commit_with(
        CommitOptions::default()
            .with_message(by.worker_id.clone())
            .with_time(by.time_unix),
    )
}

fn to_tree(household: &Household) -> Result<Map<String, Json>> {
    match serde_json::to_value(household) {
        Ok(Json::Object(map)) => Ok(map),
        Ok(_) => Err(Error::Document(
            "household did not serialise to a map".into(),
        )),
        Err(e) => Err(Error::Document(e.to_string())),
    }
}

fn from_tree(tree: Map<String, Json>) -> Result<Household> {
    let id = tree
        .get("id")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_owned();
    serde_json::from_value(Json::Object(tree)).map_err(|e| Error::CorruptDocument {
        id,
        reason: format!("does not match the household schema of this app version ({e}); a newer app may have written it"),
    })
}

/// The top-level keys of the typed household model; every other top-level key of a household
/// document (visits, sections written by newer app versions) is kept in [`Household::extra`].
pub const HOUSEHOLD_KEYS: [&str; 4] = ["id", "profile", "enrollment", "members"];

/// Reads the household's own fields ([`HOUSEHOLD_KEYS`]) from a document without copying it
/// and without reading its other sections: what acceptance checks need (schema, village,
/// members). `extra` of the result is empty.
pub fn read_own_fields(doc: &AutoCommit) -> Result<Household> {
    from_tree(document::read_keys(doc, &HOUSEHOLD_KEYS)?)
}

/// A new random member id (16 lower-case hex characters), for a member added to a household.
pub fn new_member_id() -> Result<String> {
    crate::store::random_hex(8)
}
