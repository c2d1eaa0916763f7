//! Which existing visits a batch of incoming changes writes in.
//!
//! Every visit already in the receiver's document passed the acceptance checks when it
//! arrived; an incoming batch can only break one it writes in. So the checks read and
//! re-check only the visits the batch creates or touches. A visit is touched when an
//! operation of the batch targets the visit's map, any object inside it, or the visit's key
//! in a visits map; an operation on the document root's visits key (a replaced or second
//! visits map) touches them all, and so does anything this cannot place — when in doubt,
//! every visit is checked. The cost grows with the operations of the batch, not with the
//! document.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::panic::{catch_unwind, AssertUnwindSafe};

use automerge::legacy::{Key, ObjectId, OpId, OpType};
use automerge::{AutoCommit, ExpandedChange, ObjId, Prop, ReadDoc, ROOT};

use super::ops::obj_of;
use crate::visit::document::VISITS_KEY;
use crate::visit::document_read::child_maps;

/// Where an object of the batch lives.
type Place = Option<String>;

/// The visit an object of `before` belongs to (`None`: outside every visit); `Err` when
/// `before` does not hold the object.
fn place_in(before: &AutoCommit, obj: &ObjId, visits: &HashSet<ObjId>) -> Result<Place, ()> {
    let parents = catch_unwind(AssertUnwindSafe(|| {
        before.parents(obj).map(|p| {
            p.map(|parent| (parent.obj, parent.prop))
                .collect::<Vec<_>>()
        })
    }));
    let Ok(Ok(path)) = parents else {
        return Err(());
    };
    for (parent, prop) in path {
        if visits.contains(&parent) {
            return match prop {
                Prop::Map(key) => Ok(Some(key)),
                Prop::Seq(_) => Err(()),
            };
        }
    }
    Ok(None)
}

/// The ids of the visits of `before` that the new changes (`decoded` by
/// [`new_operations`](super::ops::new_operations)) write in, or `None` when every visit must
/// be checked.
pub(crate) fn touched_visits(
    before: &AutoCommit,
    decoded: &[ExpandedChange],
) -> Option<BTreeSet<String>> {
    let visits: HashSet<ObjId> = child_maps(before, &ROOT, VISITS_KEY)
        .ok()?
        .into_iter()
        .collect();
    let mut known: HashMap<ObjId, Place> = HashMap::new();
    let mut touched = BTreeSet::new();
    for change in decoded {
        for (i, op) in change.operations.iter().enumerate() {
            let place: Place = match (&op.obj, &op.key) {
                (ObjectId::Root, Key::Map(key)) if key.as_str() == VISITS_KEY => return None,
                (ObjectId::Root, _) => None,
                (ObjectId::Id(id), key) => {
                    let obj = obj_of(id);
                    if visits.contains(&obj) {
                        match key {
                            Key::Map(k) => Some(k.to_string()),
                            Key::Seq(_) => return None,
                        }
                    } else if let Some(place) = known.get(&obj) {
                        place.clone()
                    } else {
                        let place = place_in(before, &obj, &visits).ok()?;
                        known.insert(obj, place.clone());
                        place
                    }
                }
            };
            if let Some(visit) = &place {
                touched.insert(visit.clone());
            }
            if matches!(op.action, OpType::Make(_)) {
                let made = OpId::new(change.start_op.get() + i as u64, &change.actor_id);
                known.insert(obj_of(&made), place);
            }
        }
    }
    Some(touched)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::ops::new_operations;
    use automerge::transaction::Transactable;
    use automerge::{ActorId, Change, ObjType};

    /// What the changes touch, decoded as the acceptance checks decode them.
    fn touched_by_changes(before: &AutoCommit, changes: &[&Change]) -> Option<BTreeSet<String>> {
        touched_visits(before, &new_operations(before, changes)?)
    }

    /// A document with visits v1 and v2 (each with a sealed entry map) and a profile.
    fn document() -> AutoCommit {
        let mut doc = AutoCommit::new().with_actor(ActorId::from(b"before".as_slice()));
        let visits = doc.put_object(ROOT, VISITS_KEY, ObjType::Map).unwrap();
        for v in ["v1", "v2"] {
            let visit = doc.put_object(&visits, v, ObjType::Map).unwrap();
            let sealed = doc.put_object(&visit, "sealed", ObjType::Map).unwrap();
            let entry = doc.put_object(&sealed, "h1", ObjType::Map).unwrap();
            doc.put(&entry, "content", "sealed text").unwrap();
        }
        let profile = doc.put_object(ROOT, "profile", ObjType::Map).unwrap();
        doc.put(&profile, "phone", "1").unwrap();
        doc.commit();
        doc
    }

    /// The changes `edit` makes on a fork of `before`, and what they touch.
    fn touched_by(
        before: &mut AutoCommit,
        edit: impl FnOnce(&mut AutoCommit),
    ) -> Option<BTreeSet<String>> {
        let mut fork = before
            .fork()
            .with_actor(ActorId::from(b"incoming".as_slice()));
        edit(&mut fork);
        fork.commit();
        let heads = before.get_heads();
        let changes: Vec<Change> = fork.get_changes(&heads);
        let refs: Vec<&Change> = changes.iter().collect();
        touched_by_changes(before, &refs)
    }

    fn obj(doc: &AutoCommit, path: &[&str]) -> ObjId {
        let mut at = ROOT;
        for key in path {
            at = doc.get(&at, *key).unwrap().unwrap().1;
        }
        at
    }

    fn set(ids: &[&str]) -> Option<BTreeSet<String>> {
        Some(ids.iter().map(|s| (*s).to_owned()).collect())
    }

    #[test]
    fn an_edit_deep_inside_an_old_visit_touches_that_visit_only() {
        let mut doc = document();
        let got = touched_by(&mut doc, |d| {
            let entry = obj(d, &[VISITS_KEY, "v1", "sealed", "h1"]);
            d.put(&entry, "content", "altered").unwrap();
        });
        assert_eq!(got, set(&["v1"]));
    }

    #[test]
    fn a_new_visit_and_objects_made_in_the_batch_belong_to_their_visit() {
        let mut doc = document();
        let got = touched_by(&mut doc, |d| {
            let visits = obj(d, &[VISITS_KEY]);
            let v3 = d.put_object(&visits, "v3", ObjType::Map).unwrap();
            let sealed = d.put_object(&v3, "sealed", ObjType::Map).unwrap();
            d.put(&sealed, "h9", "x").unwrap();
            // An object made inside an old visit, then written in.
            let v2 = obj(d, &[VISITS_KEY, "v2"]);
            let signatures = d.put_object(&v2, "signatures", ObjType::Map).unwrap();
            d.put(&signatures, "s", "y").unwrap();
        });
        assert_eq!(got, set(&["v2", "v3"]));
    }

    #[test]
    fn edits_outside_visits_touch_none_and_the_visits_key_touches_all() {
        let mut doc = document();
        let got = touched_by(&mut doc, |d| {
            let profile = obj(d, &["profile"]);
            d.put(&profile, "phone", "2").unwrap();
        });
        assert_eq!(got, set(&[]));
        let got = touched_by(&mut doc, |d| {
            d.put_object(ROOT, VISITS_KEY, ObjType::Map).unwrap();
        });
        assert_eq!(got, None, "a replaced visits map: every visit is checked");
        let got = touched_by(&mut doc, |d| {
            let visits = obj(d, &[VISITS_KEY]);
            d.delete(&visits, "v1").unwrap();
        });
        assert_eq!(got, set(&["v1"]));
    }

    #[test]
    fn changes_the_document_holds_touch_nothing() {
        let mut doc = document();
        let heads = doc.get_heads();
        let entry = obj(&doc, &[VISITS_KEY, "v2", "sealed", "h1"]);
        doc.put(&entry, "content", "edited here").unwrap();
        doc.commit();
        let own: Vec<Change> = doc.get_changes(&heads);
        let refs: Vec<&Change> = own.iter().collect();
        assert_eq!(touched_by_changes(&doc, &refs), set(&[]));
    }
}
