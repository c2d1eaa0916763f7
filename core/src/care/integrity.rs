//! The care log's import rule: append only. A change may add events; it may not alter or
//! delete one, replace the care section or its event map, or write a second value under an
//! existing event id. Checked on the operations of the incoming changes against the
//! receiver's document before they are applied — the cost grows with the changes and the
//! number of events, never with the rest of the document.
//!
//! Refusals carry the code [`EVENT_ALTERED`] and say which event and how.

use std::collections::{HashMap, HashSet};

use automerge::legacy::{Key, ObjectId, OpId, OpType};
use automerge::{AutoCommit, Change, ExpandedChange, ObjId, ObjType, ReadDoc, ROOT};

use super::document::{CARE_KEY, EVENTS_KEY};
use crate::sync::ops::{new_operations, obj_of};
use crate::visit::document_read::child_maps;

/// Code of a refused change that alters or deletes care events.
pub const EVENT_ALTERED: &str = "care.event_altered";

/// What an object of the care section is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Section,
    Events,
    Entry { existing: bool },
}

/// The care objects `before` holds, and the event ids of each event map.
fn existing_parts(before: &AutoCommit) -> (HashMap<ObjId, Part>, HashMap<ObjId, HashSet<String>>) {
    let mut parts = HashMap::new();
    let mut keys = HashMap::new();
    for section in child_maps(before, &ROOT, CARE_KEY).unwrap_or_default() {
        for events in child_maps(before, &section, EVENTS_KEY).unwrap_or_default() {
            let mut ids = HashSet::new();
            for item in before.map_range(&events, ..) {
                ids.insert(item.key.to_string());
                if matches!(item.value, automerge::ValueRef::Object(ObjType::Map)) {
                    parts.insert(item.id(), Part::Entry { existing: true });
                }
            }
            keys.insert(events.clone(), ids);
            parts.insert(events, Part::Events);
        }
        parts.insert(section, Part::Section);
    }
    (parts, keys)
}

/// Why `changes` may not be applied to `before` (`None`: they only add events, or do not
/// touch care at all). Changes `before` already holds are passed over.
pub fn append_only_violation(before: &AutoCommit, changes: &[&Change]) -> Option<String> {
    match new_operations(before, changes) {
        Some(decoded) => violation_in(before, &decoded),
        None => Some("a change could not be read".into()),
    }
}

/// [`append_only_violation`] of changes already decoded by
/// [`new_operations`](crate::sync::ops::new_operations).
pub(crate) fn violation_in(before: &AutoCommit, decoded: &[ExpandedChange]) -> Option<String> {
    let (mut parts, keys) = existing_parts(before);
    // Objects the changes create inside the care section (to a fixed point: a change may
    // create a map that a later one in the batch fills).
    loop {
        let mut added = false;
        for change in decoded {
            for (i, op) in change.operations.iter().enumerate() {
                let OpType::Make(ObjType::Map) = op.action else {
                    continue;
                };
                let Key::Map(key) = &op.key else { continue };
                let parent = match &op.obj {
                    ObjectId::Root if key.as_str() == CARE_KEY => Some(Part::Section),
                    ObjectId::Root => None,
                    ObjectId::Id(id) => parts.get(&obj_of(id)).copied(),
                };
                let part = match parent {
                    Some(Part::Section) if matches!(op.obj, ObjectId::Root) => Part::Section,
                    Some(Part::Section) if key.as_str() == EVENTS_KEY => Part::Events,
                    Some(Part::Events) => Part::Entry { existing: false },
                    _ => continue,
                };
                let id = OpId::new(change.start_op.get() + i as u64, &change.actor_id);
                if parts.insert(obj_of(&id), part).is_none() {
                    added = true;
                }
            }
        }
        if !added {
            break;
        }
    }
    for change in decoded {
        for op in &change.operations {
            let key = match &op.key {
                Key::Map(k) => k.to_string(),
                Key::Seq(_) => String::new(),
            };
            let part = match &op.obj {
                ObjectId::Root if key == CARE_KEY => Some(Part::Section),
                ObjectId::Root => None,
                ObjectId::Id(id) => parts.get(&obj_of(id)).copied(),
            };
            let overwrites = !op.pred.is_empty() || matches!(op.action, OpType::Delete);
            let why = match (part, &op.obj) {
                (Some(Part::Section), ObjectId::Root) if overwrites => {
                    Some("the care section was replaced or deleted".to_owned())
                }
                (Some(Part::Section), ObjectId::Id(_)) if key == EVENTS_KEY && overwrites => {
                    Some("the care event map was replaced or deleted".to_owned())
                }
                (Some(Part::Events), ObjectId::Id(id)) => {
                    let existing = keys.get(&obj_of(id)).is_some_and(|k| k.contains(&key));
                    if overwrites {
                        Some(format!("event {key} was replaced or deleted"))
                    } else if existing {
                        Some(format!("event {key} was written again"))
                    } else {
                        None
                    }
                }
                (Some(Part::Entry { existing: true }), _) => {
                    Some(format!("an event was changed (field {key})"))
                }
                (Some(Part::Entry { existing: false }), _) if overwrites => {
                    Some(format!("a new event's field {key} was written twice"))
                }
                _ => None,
            };
            if let Some(why) = why {
                return Some(format!("care events are append-only: {why}"));
            }
        }
    }
    None
}
