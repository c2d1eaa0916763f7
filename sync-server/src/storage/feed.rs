//! Households, the change feed, snapshots, actor bindings and resident ID numbers (SQLite).

use std::collections::HashMap;

use ruhu_core::sync::SignedChange;
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::{
    CommitError, Committed, DuplicateResidentId, HouseholdCommit, PullScope, Pulled, PulledEntry,
    Skip, StoredHousehold,
};
use crate::ServerError;

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

pub(super) fn load_household(
    conn: &Connection,
    id: &str,
) -> Result<Option<StoredHousehold>, ServerError> {
    let Some((village_code, county_code, last_seq)) = conn
        .query_row(
            "SELECT village_code, county_code, last_seq FROM households WHERE id = ?1",
            [id],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            },
        )
        .optional()?
    else {
        return Ok(None);
    };
    let snapshot: Option<(i64, Vec<u8>)> = conn
        .query_row(
            "SELECT upto_seq, bytes FROM snapshots WHERE household_id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let after = snapshot.as_ref().map_or(0, |(upto, _)| *upto);
    let mut stmt = conn.prepare_cached(
        "SELECT change FROM feed WHERE household_id = ?1 AND seq > ?2 ORDER BY seq",
    )?;
    let changes = stmt
        .query_map(params![id, after], |r| r.get::<_, Vec<u8>>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(StoredHousehold {
        village_code,
        county_code,
        last_seq: to_u64(last_seq),
        snapshot: snapshot.map(|(_, bytes)| bytes),
        changes,
    }))
}

pub(super) fn household_villages(
    conn: &Connection,
    ids: &[&str],
) -> Result<HashMap<String, String>, ServerError> {
    let mut stmt = conn.prepare_cached("SELECT village_code FROM households WHERE id = ?1")?;
    let mut out = HashMap::new();
    for id in ids {
        if let Some(village) = stmt.query_row([id], |r| r.get::<_, String>(0)).optional()? {
            out.insert((*id).to_owned(), village);
        }
    }
    Ok(out)
}

pub(super) fn actor_worker(conn: &Connection, actor: &[u8]) -> Result<Option<String>, ServerError> {
    let mut stmt = conn.prepare_cached("SELECT worker_id FROM actor_bindings WHERE actor = ?1")?;
    Ok(stmt.query_row([actor], |r| r.get(0)).optional()?)
}

/// Appends the households' accepted changes; fails (writing nothing, as the caller drops the
/// transaction) on a concurrent change of a household or an actor bound to someone else.
pub(super) fn append(
    tx: &Transaction<'_>,
    households: &[HouseholdCommit],
    received_at: i64,
) -> Result<Committed, CommitError> {
    let mut conflicts = Vec::new();
    for h in households {
        let stored: Option<i64> = tx
            .prepare_cached("SELECT last_seq FROM households WHERE id = ?1")?
            .query_row([&h.household_id], |r| r.get(0))
            .optional()?;
        if stored.map(to_u64) != h.expected_last_seq {
            conflicts.push(h.household_id.clone());
        }
    }
    if !conflicts.is_empty() {
        return Err(CommitError::Conflict(conflicts));
    }
    let mut committed = Committed::default();
    let mut appended = Appended {
        chain: tail_chain(tx)?,
        ..Appended::default()
    };
    for h in households {
        append_household(tx, h, received_at, &mut committed, &mut appended)?;
    }
    committed.appended = appended.range();
    Ok(committed)
}

/// What one commit has appended so far: the feed positions its new entries took, the chain
/// hash at its tail, and the owner of each actor it has met (read once per commit: within
/// the transaction the answer only changes by this commit's own bindings, recorded here).
#[derive(Default)]
struct Appended {
    first: Option<u64>,
    last: u64,
    count: u64,
    chain: [u8; 32],
    owners: HashMap<Vec<u8>, String>,
}

impl Appended {
    fn add(&mut self, seq: u64) {
        self.first = Some(self.first.map_or(seq, |f| f.min(seq)));
        self.last = self.last.max(seq);
        self.count += 1;
    }

    /// The range, when the entries fill it exactly.
    fn range(&self) -> Option<(u64, u64)> {
        let first = self.first?;
        (self.last - first + 1 == self.count).then_some((first, self.last))
    }
}

fn append_household(
    tx: &Transaction<'_>,
    h: &HouseholdCommit,
    received_at: i64,
    committed: &mut Committed,
    appended: &mut Appended,
) -> Result<(), CommitError> {
    tx.prepare_cached(
        "INSERT INTO households (id, village_code, county_code, last_seq, change_count)
         VALUES (?1, ?2, ?3, 0, 0)
         ON CONFLICT (id) DO UPDATE SET village_code = excluded.village_code,
                                        county_code = excluded.county_code",
    )?
    .execute(params![h.household_id, h.village_code, h.county_code])?;
    let mut last_seq = h.expected_last_seq.map_or(0, to_i64);
    let mut added = 0i64;
    for entry in &h.entries {
        let owner = match appended.owners.get(&entry.actor) {
            Some(owner) => Some(owner.clone()),
            None => tx
                .prepare_cached("SELECT worker_id FROM actor_bindings WHERE actor = ?1")?
                .query_row([&entry.actor], |r| r.get::<_, String>(0))
                .optional()?,
        };
        if let Some(owner) = owner.filter(|o| *o != entry.author) {
            return Err(CommitError::ActorTaken {
                household_id: h.household_id.clone(),
                actor: hex::encode(&entry.actor),
                owner,
            });
        }
        let chain = next_chain(&appended.chain, &entry.hash);
        let inserted = tx
            .prepare_cached(
                "INSERT OR IGNORE INTO feed
                   (household_id, change_hash, change, signer, signature, author, received_at, chain)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                h.household_id,
                &entry.hash[..],
                entry.signed.change,
                &entry.signed.signer[..],
                &entry.signed.signature[..],
                entry.author,
                received_at,
                &chain[..]
            ])?;
        if inserted == 0 {
            continue; // this change hash is already in the feed: one entry per hash
        }
        appended.chain = chain;
        last_seq = tx.last_insert_rowid();
        appended.add(to_u64(last_seq));
        added += 1;
        if !appended.owners.contains_key(&entry.actor) {
            tx.prepare_cached(
                "INSERT OR IGNORE INTO actor_bindings (actor, worker_id, first_seq) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![entry.actor, entry.author, last_seq])?;
            appended
                .owners
                .insert(entry.actor.clone(), entry.author.clone());
        }
    }
    tx.prepare_cached(
        "UPDATE households SET last_seq = ?2, change_count = change_count + ?3 WHERE id = ?1",
    )?
    .execute(params![h.household_id, last_seq, added])?;
    if let Some(bytes) = &h.snapshot {
        tx.prepare_cached(
            "INSERT OR REPLACE INTO snapshots (household_id, upto_seq, bytes) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![h.household_id, last_seq, bytes])?;
    }
    for hash in &h.attachments {
        tx.prepare_cached(
            "INSERT OR IGNORE INTO attachment_refs (hash, household_id) VALUES (?1, ?2)",
        )?
        .execute(params![&hash[..], h.household_id])?;
    }
    // Rewritten only when they changed (most pushes do not touch the members): each row sits
    // on a random page of an index keyed by ID number.
    let stored: Vec<(String, String)> = tx
        .prepare_cached(
            "SELECT member_id, id_number FROM resident_ids WHERE household_id = ?1
             ORDER BY member_id, id_number",
        )?
        .query_map([&h.household_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut wanted = h.resident_ids.clone();
    wanted.sort();
    wanted.dedup();
    if stored != wanted {
        tx.prepare_cached("DELETE FROM resident_ids WHERE household_id = ?1")?
            .execute([&h.household_id])?;
        for (member_id, id_number) in &wanted {
            tx.prepare_cached(
                "INSERT OR IGNORE INTO resident_ids (id_number, household_id, member_id) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![id_number, h.household_id, member_id])?;
        }
    }
    for (member_id, id_number) in &h.resident_ids {
        let others = tx
            .prepare_cached(
                "SELECT DISTINCT household_id FROM resident_ids WHERE id_number = ?1 AND household_id != ?2",
            )?
            .query_map(params![id_number, h.household_id], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        for other in others {
            tx.prepare_cached(
                "INSERT OR IGNORE INTO resident_id_flags
                   (id_number, household_id, other_household_id, county_code, flagged_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                id_number,
                h.household_id,
                other,
                h.county_code,
                received_at
            ])?;
            committed.duplicates.push(DuplicateResidentId {
                household_id: h.household_id.clone(),
                member_id: member_id.clone(),
                other_household_id: other,
            });
        }
    }
    committed
        .last_seqs
        .insert(h.household_id.clone(), to_u64(last_seq));
    Ok(())
}

/// See [`super::FeedStore::attachment_in_scope`].
pub(super) fn attachment_in_scope(
    conn: &Connection,
    hash: &[u8; 32],
    scope: &PullScope,
) -> Result<Option<String>, ServerError> {
    let households: Vec<(String, String, String)> = conn
        .prepare_cached(
            "SELECT h.id, h.village_code, h.county_code FROM attachment_refs r
             JOIN households h ON h.id = r.household_id WHERE r.hash = ?1 ORDER BY h.id",
        )?
        .query_map([&hash[..]], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    Ok(households
        .into_iter()
        .find(|(_, village, county)| match scope {
            PullScope::Villages(villages) => villages.contains(village),
            PullScope::County(c) => c == county,
        })
        .map(|(id, _, _)| id))
}

/// A page of the feed in `scope` after `after` (see [`super::FeedStore::pull`]).
pub(super) fn pull(
    tx: &Transaction<'_>,
    scope: &PullScope,
    after: u64,
    limit_bytes: u64,
    skip: &Skip,
) -> Result<Pulled, ServerError> {
    let head = to_u64(tx.query_row("SELECT COALESCE(MAX(seq), 0) FROM feed", [], |r| r.get(0))?);
    let start_hash = hash_at(tx, after)?;
    let (filter, value) = match scope {
        PullScope::Villages(villages) => (
            "h.village_code IN (SELECT value FROM json_each(?3))",
            serde_json::to_string(villages).unwrap_or_else(|_| "[]".into()),
        ),
        PullScope::County(county) => ("h.county_code = ?3", county.clone()),
    };
    let sql = pull_sql(filter);
    // The requester's own new entries, when they fill a range inside this page, are passed
    // without reading them: the feed is read before and after them.
    let ranges = match skip.range {
        Some((first, last)) if first > after && last <= head => {
            vec![(after, first - 1), (last, head)]
        }
        _ => vec![(after, head)],
    };
    let mut stmt = tx.prepare_cached(&sql)?;
    let mut pulled = Pulled {
        cursor: after,
        start_hash,
        ..Pulled::default()
    };
    let mut bytes = 0u64;
    for (from, to) in ranges {
        pulled.cursor = pulled.cursor.max(from);
        let mut rows = stmt.query(params![to_i64(from), to_i64(to), value])?;
        while let Some(row) = rows.next()? {
            let seq = to_u64(row.get(0)?);
            let hash: [u8; 32] = fixed(&row.get::<_, Vec<u8>>(2)?)?;
            if skip.hashes.contains(&hash) {
                pulled.cursor = seq;
                continue;
            }
            let change: Vec<u8> = row.get(3)?;
            bytes += change.len() as u64;
            if !pulled.entries.is_empty() && bytes > limit_bytes {
                pulled.more = true;
                pulled.cursor_hash = hash_at(tx, pulled.cursor)?.unwrap_or_default();
                return Ok(pulled);
            }
            pulled.entries.push(PulledEntry {
                seq,
                household_id: row.get(1)?,
                signed: SignedChange {
                    change,
                    signer: fixed(&row.get::<_, Vec<u8>>(4)?)?,
                    signature: fixed(&row.get::<_, Vec<u8>>(5)?)?,
                    received_at: u64::try_from(row.get::<_, i64>(6)?).unwrap_or(0),
                },
            });
            pulled.cursor = seq;
        }
    }
    pulled.cursor = pulled.cursor.max(head);
    pulled.cursor_hash = hash_at(tx, pulled.cursor)?.unwrap_or_default();
    Ok(pulled)
}

/// The pull's query. `CROSS JOIN` keeps the feed as the outer loop: it is read in feed order
/// from the cursor, each entry's household looked up by id, and reading stops at the page
/// limit. Left to itself SQLite starts from the households of the scope and probes the feed
/// of each, then sorts: every household in scope is visited even when nothing is new, and
/// every page sorts the whole rest of the scope's history.
fn pull_sql(filter: &str) -> String {
    format!(
        "SELECT f.seq, f.household_id, f.change_hash, f.change, f.signer, f.signature, f.received_at
         FROM feed f CROSS JOIN households h ON h.id = f.household_id
         WHERE f.seq > ?1 AND f.seq <= ?2 AND {filter}
         ORDER BY f.seq"
    )
}

/// The chain hash of the feed up to the entry at `seq` (`None` for 0 or a missing entry).
fn hash_at(tx: &Transaction<'_>, seq: u64) -> Result<Option<[u8; 32]>, ServerError> {
    if seq == 0 {
        return Ok(None);
    }
    let hash: Option<Vec<u8>> = tx
        .prepare_cached("SELECT chain FROM feed WHERE seq = ?1")?
        .query_row([to_i64(seq)], |r| r.get(0))
        .optional()?;
    hash.map(|h| fixed(&h)).transpose()
}

fn fixed<const N: usize>(bytes: &[u8]) -> Result<[u8; N], ServerError> {
    bytes
        .try_into()
        .map_err(|_| ServerError::Config(format!("stored value is {} bytes, not {N}", bytes.len())))
}

/// The chain hash after one more entry: `SHA-256(previous || change_hash)`.
pub(super) fn next_chain(previous: &[u8; 32], change_hash: &[u8]) -> [u8; 32] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(previous);
    ctx.update(change_hash);
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// The chain hash of the newest feed entry (zeros for an empty feed). Appends hold the
/// writer transaction, so the tail cannot move under them.
fn tail_chain(tx: &Transaction<'_>) -> Result<[u8; 32], ServerError> {
    let chain: Option<Vec<u8>> = tx
        .prepare_cached("SELECT chain FROM feed ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| r.get(0))
        .optional()?;
    chain.map_or(Ok([0u8; 32]), |c| fixed(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(conn: &Connection, sql: &str) -> Vec<String> {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows = stmt.query_map([1, 2], |r| r.get::<_, String>(3)).unwrap();
        rows.map(Result::unwrap).collect()
    }

    #[test]
    fn the_pull_reads_the_feed_in_order_from_the_cursor() {
        let mut conn = Connection::open_in_memory().unwrap();
        super::super::schema::migrate(&mut conn).unwrap();
        for filter in [
            "h.village_code IN (SELECT value FROM json_each(?3))",
            "h.county_code = ?3",
        ] {
            let steps = plan(&conn, &pull_sql(filter).replace("?3", "'x'"));
            assert!(
                steps[0].starts_with("SEARCH f USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)"),
                "{steps:?}"
            );
            assert!(
                steps.iter().all(|s| !s.contains("TEMP B-TREE")),
                "{steps:?}"
            );
        }
    }
}
