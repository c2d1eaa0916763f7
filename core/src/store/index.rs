//! Index tables: what lists and searches read without loading any document.
//!
//! The tables are derived data: they are rewritten from the household model after every
//! accepted write, inside the same transaction as the document chunk, so they never disagree
//! with the documents.

use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Transaction};
use serde::Serialize;

use crate::error::Result;
use crate::household::{Household, HouseholdDocument};

/// One line of a household list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HouseholdSummary {
    pub id: String,
    pub village_code: String,
    pub head_name: String,
    pub member_count: u32,
    pub program: String,
    pub dibao_class: Option<u8>,
    pub status: String,
    /// Whether some field holds concurrent values waiting for a person to resolve them.
    pub has_conflicts: bool,
}

/// Optional filters of a village list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    /// Programme code, e.g. `rural_dibao`.
    pub program: Option<String>,
    /// Status code, e.g. `active`.
    pub status: Option<String>,
}

const SUMMARY_COLUMNS: &str =
    "h.id, h.village_code, h.head_name, h.member_count, h.program, h.dibao_class, h.status, h.has_conflicts";

fn summary(row: &rusqlite::Row<'_>) -> rusqlite::Result<HouseholdSummary> {
    Ok(HouseholdSummary {
        id: row.get(0)?,
        village_code: row.get(1)?,
        head_name: row.get(2)?,
        member_count: row.get(3)?,
        program: row.get(4)?,
        dibao_class: row.get(5)?,
        status: row.get(6)?,
        has_conflicts: row.get(7)?,
    })
}

/// Rewrites the index rows of one household.
pub(crate) fn write(
    tx: &Transaction<'_>,
    h: &Household,
    has_conflicts: bool,
    now: i64,
) -> Result<()> {
    let head_name = h.head().map(|m| m.name.as_str()).unwrap_or_default();
    tx.prepare_cached(
        "INSERT INTO households (id, county_code, township_code, village_code, program, dibao_class,
             status, head_name, member_count, has_conflicts, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (id) DO UPDATE SET county_code = ?2, township_code = ?3, village_code = ?4,
             program = ?5, dibao_class = ?6, status = ?7, head_name = ?8, member_count = ?9,
             has_conflicts = ?10, updated_at = ?11",
    )?
    .execute(params![
        h.id,
        h.profile.county_code,
        h.profile.township_code,
        h.profile.village_code,
        h.enrollment.program.code(),
        h.enrollment.dibao_class,
        h.profile.status.code(),
        head_name,
        h.members.len() as i64,
        has_conflicts,
        now
    ])?;
    tx.prepare_cached("DELETE FROM members WHERE household_id = ?1")?
        .execute([&h.id])?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO members (household_id, member_id, village_code, name, id_number, relation)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (member_id, m) in &h.members {
        insert.execute(params![
            h.id,
            member_id,
            h.profile.village_code,
            m.name,
            m.id_number,
            m.relation.code()
        ])?;
    }
    Ok(())
}

/// Rebuilds the member index from the stored documents (schema migration to version 2).
pub(crate) fn rebuild_member_index(tx: &Transaction<'_>) -> Result<()> {
    let ids: Vec<String> = tx
        .prepare("SELECT id FROM households")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for id in ids {
        let chunks = super::chunks::read(tx, &id)?;
        let refs: Vec<&[u8]> = chunks.iter().map(|(_, b)| b.as_slice()).collect();
        let doc = HouseholdDocument::load(&id, &refs, automerge::ActorId::random())?;
        let h = doc.household()?;
        let mut insert = tx.prepare_cached(
            "INSERT INTO members (household_id, member_id, village_code, name, id_number, relation)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for (member_id, m) in &h.members {
            insert.execute(params![
                h.id,
                member_id,
                h.profile.village_code,
                m.name,
                m.id_number,
                m.relation.code()
            ])?;
        }
    }
    Ok(())
}

/// Households of one village, ordered by head's name.
pub(crate) fn list_village(
    conn: &Connection,
    village: &str,
    filter: &ListFilter,
) -> Result<Vec<HouseholdSummary>> {
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS} FROM households h
         WHERE h.village_code = ?1 AND (?2 IS NULL OR h.status = ?2) AND (?3 IS NULL OR h.program = ?3)
         ORDER BY h.head_name, h.id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![village, filter.status, filter.program], summary)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Households in `villages` with a member whose name contains `name_part`.
pub(crate) fn search_name(
    conn: &Connection,
    villages: &[String],
    name_part: &str,
) -> Result<Vec<HouseholdSummary>> {
    if villages.is_empty() || name_part.is_empty() {
        return Ok(Vec::new());
    }
    let marks = vec!["?"; villages.len()].join(",");
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS} FROM households h WHERE h.id IN (
             SELECT m.household_id FROM members m
             WHERE m.village_code IN ({marks}) AND instr(m.name, ?) > 0)
         ORDER BY h.head_name, h.id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let args = villages
        .iter()
        .map(String::as_str)
        .chain(std::iter::once(name_part));
    let rows = stmt.query_map(params_from_iter(args), summary)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The household in `villages` with a member holding this (normalised) ID number.
pub(crate) fn find_id_number(
    conn: &Connection,
    villages: &[String],
    id_number: &str,
) -> Result<Vec<HouseholdSummary>> {
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS} FROM members m JOIN households h ON h.id = m.household_id
         WHERE m.id_number = ?1 ORDER BY h.id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([id_number.trim().to_ascii_uppercase()], summary)?;
    let all: Vec<HouseholdSummary> = rows.collect::<rusqlite::Result<_>>()?;
    Ok(all
        .into_iter()
        .filter(|h| villages.contains(&h.village_code))
        .collect())
}

/// The summary of one household.
pub(crate) fn get(conn: &Connection, id: &str) -> Result<Option<HouseholdSummary>> {
    let sql = format!("SELECT {SUMMARY_COLUMNS} FROM households h WHERE h.id = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([id], summary)
        .optional()?)
}
