//! Household documents kept hot in memory, so a push validates against a document that is
//! already loaded instead of rebuilding it from the feed.
//!
//! A cached document carries the feed position it reflects. A push takes documents out of
//! the cache, validates and commits, and puts them back only after the commit succeeded, so
//! the cache never holds changes that are not durable. With several server processes the
//! commit's `expected_last_seq` check catches a document another process moved on.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use automerge::AutoCommit;

/// A household's document and where it stands.
#[derive(Debug)]
pub struct CachedHousehold {
    pub doc: AutoCommit,
    /// Feed position of the newest change in `doc` (0 for a household not yet stored).
    pub last_seq: u64,
    /// Stored village and county (`None` for a household not yet stored).
    pub location: Option<(String, String)>,
    /// Changes stored after the newest snapshot (a snapshot is written past a threshold).
    pub changes_since_snapshot: usize,
}

#[derive(Debug, Default)]
struct Inner {
    map: HashMap<String, (CachedHousehold, u64)>,
    /// Ids by the tick they were last put at: the first is the least recently used.
    order: BTreeMap<u64, String>,
    tick: u64,
}

/// A bounded cache of household documents, least recently used out first.
#[derive(Debug)]
pub struct DocCache {
    inner: Mutex<Inner>,
    capacity: usize,
}

impl DocCache {
    /// A cache holding at most `capacity` documents.
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            capacity: capacity.max(1),
        }
    }

    /// Removes and returns the document of `id`, if cached.
    pub fn take(&self, id: &str) -> Option<CachedHousehold> {
        let mut inner = self.inner.lock().ok()?;
        let (doc, tick) = inner.map.remove(id)?;
        inner.order.remove(&tick);
        Some(doc)
    }

    /// Puts a document (back), evicting the least recently used one when full.
    pub fn put(&self, id: String, household: CachedHousehold) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        inner.tick += 1;
        let tick = inner.tick;
        if let Some((_, old)) = inner.map.insert(id.clone(), (household, tick)) {
            inner.order.remove(&old);
        }
        inner.order.insert(tick, id);
        while inner.map.len() > self.capacity {
            match inner.order.pop_first() {
                Some((_, key)) => inner.map.remove(&key),
                None => break,
            };
        }
    }

    /// How many documents are cached.
    pub fn len(&self) -> usize {
        self.inner.lock().map(|i| i.map.len()).unwrap_or(0)
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64) -> CachedHousehold {
        CachedHousehold {
            doc: AutoCommit::new(),
            last_seq: seq,
            location: None,
            changes_since_snapshot: 0,
        }
    }

    #[test]
    fn keeps_at_most_capacity_and_evicts_the_least_recently_used() {
        let cache = DocCache::new(2);
        cache.put("a".into(), entry(1));
        cache.put("b".into(), entry(2));
        let a = cache.take("a").unwrap();
        cache.put("a".into(), a);
        cache.put("c".into(), entry(3));
        assert_eq!(cache.len(), 2);
        assert!(cache.take("b").is_none(), "b was the least recently used");
        assert_eq!(cache.take("a").unwrap().last_seq, 1);
        assert!(cache.take("a").is_none(), "take removes");
        // Putting a document again refreshes it rather than adding a second entry.
        cache.put("c".into(), entry(4));
        cache.put("d".into(), entry(5));
        cache.put("c".into(), entry(6));
        cache.put("e".into(), entry(7));
        assert_eq!(cache.len(), 2);
        assert!(cache.take("d").is_none(), "d was the least recently used");
        assert_eq!(cache.take("c").unwrap().last_seq, 6);
    }
}
