//! Document persistence: a snapshot followed by appended change chunks, folded back into a
//! snapshot (compaction) once enough chunks have accumulated.
//!
//! Appending a chunk and compacting happen in the caller's transaction, so the old chunks are
//! deleted only in the same commit that makes the new snapshot durable.

use rusqlite::{params, Connection};

use crate::error::Result;

/// `(is_snapshot, bytes)` of a household's stored chunks, oldest first.
pub(crate) fn read(conn: &Connection, household_id: &str) -> Result<Vec<(bool, Vec<u8>)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT is_snapshot, bytes FROM document_chunks WHERE household_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([household_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Appends one chunk; returns how many chunks the household now has.
pub(crate) fn append(
    conn: &Connection,
    household_id: &str,
    is_snapshot: bool,
    bytes: &[u8],
) -> Result<u32> {
    conn.prepare_cached(
        "INSERT INTO document_chunks (household_id, is_snapshot, bytes) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![household_id, is_snapshot, bytes])?;
    Ok(conn
        .prepare_cached("SELECT count(*) FROM document_chunks WHERE household_id = ?1")?
        .query_row([household_id], |r| r.get(0))?)
}

/// Replaces all of a household's chunks with one snapshot.
pub(crate) fn replace_with_snapshot(
    conn: &Connection,
    household_id: &str,
    snapshot: &[u8],
) -> Result<()> {
    conn.prepare_cached("DELETE FROM document_chunks WHERE household_id = ?1")?
        .execute([household_id])?;
    append(conn, household_id, true, snapshot)?;
    Ok(())
}
