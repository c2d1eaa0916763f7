//! Household documents kept in memory between calls, so a burst of edits to the same
//! households does not reload them. Bounded; the least recently used document is dropped.

use std::collections::HashMap;

use automerge::ChangeHash;

use crate::household::HouseholdDocument;

/// A loaded document and what of it is already on disk.
#[derive(Debug)]
pub(crate) struct CachedDocument {
    pub doc: HouseholdDocument,
    /// Heads covered by the stored chunks.
    pub saved_heads: Vec<ChangeHash>,
    /// Stored chunks (snapshot included).
    pub chunk_count: u32,
    last_used: u64,
}

#[derive(Debug)]
pub(crate) struct DocumentCache {
    entries: HashMap<String, CachedDocument>,
    capacity: usize,
    tick: u64,
}

impl DocumentCache {
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: HashMap::new(),
            capacity: capacity.max(1),
            tick: 0,
        }
    }

    pub fn get(&mut self, id: &str) -> Option<&mut CachedDocument> {
        self.tick += 1;
        let tick = self.tick;
        let entry = self.entries.get_mut(id)?;
        entry.last_used = tick;
        Some(entry)
    }

    pub fn insert(
        &mut self,
        id: String,
        doc: HouseholdDocument,
        saved_heads: Vec<ChangeHash>,
        chunk_count: u32,
    ) {
        if self.entries.len() >= self.capacity && !self.entries.contains_key(&id) {
            if let Some(oldest) = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.last_used)
                .map(|(k, _)| k.clone())
            {
                self.entries.remove(&oldest);
            }
        }
        self.tick += 1;
        self.entries.insert(
            id,
            CachedDocument {
                doc,
                saved_heads,
                chunk_count,
                last_used: self.tick,
            },
        );
    }

    /// Forgets a document (after a failed write, so memory never runs ahead of the disk).
    pub fn evict(&mut self, id: &str) {
        self.entries.remove(id);
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }
}
