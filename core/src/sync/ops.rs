//! The operations of incoming changes, for the checks that look at what a batch writes
//! rather than at the merged document (the care log's append-only rule, the visits a batch
//! touches).

use std::panic::{catch_unwind, AssertUnwindSafe};

use automerge::legacy::OpId;
use automerge::{AutoCommit, Change, ExpandedChange, ObjId, ReadDoc};

/// The changes of `changes` that `before` does not hold yet (the others change nothing when
/// applied again), decoded into operations; `None` if one cannot be decoded.
pub(crate) fn new_operations(
    before: &AutoCommit,
    changes: &[&Change],
) -> Option<Vec<ExpandedChange>> {
    catch_unwind(AssertUnwindSafe(|| {
        changes
            .iter()
            .filter(|c| before.get_change_by_hash(&c.hash()).is_none())
            .map(|c| c.decode())
            .collect::<Vec<_>>()
    }))
    .ok()
}

/// The object id of the object an operation made (equality and hashing of object ids ignore
/// the actor-index hint, so this equals the document's own id for it).
pub(crate) fn obj_of(id: &OpId) -> ObjId {
    ObjId::Id(id.counter(), id.actor().clone(), 0)
}
