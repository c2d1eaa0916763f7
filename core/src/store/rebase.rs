//! Rebase: after the server rejected a household's changes, replay the tablet's work on the
//! server's state under a new actor id. The rejected changes are archived (never silently
//! dropped); visits are not replayed (their signatures covered the rejected history) and stay
//! readable in the archive.

use automerge::{AutoCommit, Change, ChangeHash};
use chrono::Utc;
use rusqlite::params;

use super::{new_actor, Store};
use crate::error::{Error, FieldError, Result};
use crate::household::{Authorship, HouseholdDocument};

/// What a rebase did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RebaseOutcome {
    /// Rejected (or not yet accepted) local changes moved to the archive.
    pub archived_changes: usize,
    /// Whether a new change carries the replayed profile edits.
    pub replayed: bool,
}

impl Store {
    /// Replays this tablet's unaccepted work on `household_id` over the server's state (the
    /// household's changes minus the local ones the server has not accepted), as one new
    /// change by a fresh actor id; archives the old local changes; clears the rejection.
    pub fn rebase_household(&mut self, household_id: &str) -> Result<RebaseOutcome> {
        let local: Vec<[u8; 32]> = self
            .conn
            .prepare("SELECT hash FROM outbox WHERE household_id = ?1 ORDER BY seq")?
            .query_map([household_id], |r| r.get::<_, Vec<u8>>(0))?
            .filter_map(|h| h.ok().and_then(|h| <[u8; 32]>::try_from(h.as_slice()).ok()))
            .collect();
        let local_set: std::collections::HashSet<ChangeHash> =
            local.iter().map(|h| ChangeHash(*h)).collect();
        let (all, intended) = {
            let cached = self.load(household_id)?;
            (
                cached.doc.automerge().get_changes(&[]),
                cached.doc.household()?,
            )
        };
        // Keep what the server holds: every change that is not local and does not depend on one.
        let mut excluded = local_set.clone();
        let mut kept: Vec<Change> = Vec::new();
        let mut archived: Vec<Change> = Vec::new();
        for change in all {
            if excluded.contains(&change.hash())
                || change.deps().iter().any(|d| excluded.contains(d))
            {
                excluded.insert(change.hash());
                archived.push(change);
            } else {
                kept.push(change);
            }
        }
        if kept.is_empty() {
            return Err(Error::invalid(FieldError::new(
                "household_id",
                "sync.nothing_to_rebase_on",
                "the server holds nothing of this household; it was created here: fix it and push again",
            )));
        }
        let actor = new_actor()?;
        let mut server_doc = AutoCommit::new().with_actor(actor.clone());
        server_doc
            .apply_changes(kept)
            .map_err(|e| Error::Document(e.to_string()))?;
        let mut doc = HouseholdDocument::from_automerge(server_doc);
        let base = doc.household()?;
        let mut replay = intended;
        // Visits are not replayed: their seals and signatures belong to the rejected history.
        replay.extra = base.extra.clone();
        let by = Authorship {
            worker_id: self.config.worker_id.clone(),
            time_unix: Utc::now().timestamp(),
        };
        let heads = doc.heads();
        let replayed = doc.update(&heads, &replay, &by)?.is_some();

        let now = Utc::now().timestamp();
        let code_detail: Option<(String, String)> = self
            .conn
            .query_row(
                "SELECT code, detail FROM household_sync WHERE household_id = ?1",
                [household_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .ok();
        let (code, detail) = code_detail.unwrap_or_else(|| ("sync.rebased".into(), String::new()));
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO actors (actor_id, opened_at) VALUES (?1, ?2)",
            params![actor.to_bytes(), now],
        )?;
        for change in &archived {
            tx.prepare_cached(
                "INSERT OR IGNORE INTO rejected_changes (hash, household_id, bytes, code, detail, archived_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![&change.hash().0[..], household_id, change.raw_bytes(), code, detail, now])?;
        }
        tx.execute("DELETE FROM outbox WHERE household_id = ?1", [household_id])?;
        tx.execute(
            "DELETE FROM household_sync WHERE household_id = ?1",
            [household_id],
        )?;
        tx.commit()?;
        // From now on this store writes as the new actor (the old one's sequence numbers were
        // spent on the archived changes).
        self.actor = actor;
        if let Some(identity) = &self.identity {
            self.conn.execute(
                "INSERT OR REPLACE INTO actor_workers (actor, worker_id) VALUES (?1, ?2)",
                params![self.actor.to_bytes(), identity.worker_id],
            )?;
        }
        self.cache.clear();
        self.cache
            .insert(household_id.to_owned(), doc, Vec::new(), 0);
        // chunk_count 0: the household's chunks are replaced by one snapshot; the replayed
        // change (by the new actor) is queued in the outbox.
        self.persist(household_id, None)?;
        Ok(RebaseOutcome {
            archived_changes: archived.len(),
            replayed,
        })
    }
}
