//! The floor: the same task log as rows of one flat table in a plain SQLite file,
//! `care_log(village_code, person_id, task_id, frequency, done_on)` with a covering index,
//! and the fastest plain SQL found for "which (person, task) pairs have no entry on or
//! before the date since their frequency's cutoff" (cutoffs computed in Rust, passed in).

use std::collections::BTreeSet;
use std::path::Path;

use chrono::NaiveDate;
use rusqlite::Connection;

use super::workload::{Every, PLAN};
use super::Res;

/// One done entry, as the flat table holds it.
#[derive(Debug, Clone)]
pub struct FlatRow {
    pub village_code: String,
    pub person_id: String,
    pub task_id: String,
    pub frequency: &'static str,
    pub done_on: NaiveDate,
}

/// An overdue (person, task) pair: what both answers are compared in.
pub type Pair = (String, String);

/// Days since 1970-01-01: dates are stored as integers.
pub fn day(date: NaiveDate) -> i64 {
    (date - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(date)).num_days()
}

/// The query shapes tried for the floor; the faster one is the floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// One pass over the village's range of the covering index:
    /// `GROUP BY person, task HAVING max(done_on) < cutoff`.
    GroupBy,
    /// A skip scan (recursive CTE): one index seek to the next (person, task) and one to
    /// its latest entry on or before the date. (The unary `+` on the CTE's columns lets
    /// SQLite seek on all four columns of the row value, not on the village alone.)
    SkipScan,
}

impl Shape {
    pub const ALL: [Shape; 2] = [Shape::GroupBy, Shape::SkipScan];

    pub fn describe(self) -> &'static str {
        match self {
            Shape::GroupBy => "GROUP BY over the covering index",
            Shape::SkipScan => "skip scan (recursive CTE, two seeks per pair)",
        }
    }
}

/// `CASE frequency WHEN 'week' THEN ?3 … END`: each frequency's cutoff (`?3`…).
fn cutoff_case(column: &str) -> String {
    let mut case = format!("CASE {column}");
    for (i, (_, every)) in PLAN.iter().enumerate() {
        case.push_str(&format!(" WHEN '{}' THEN ?{}", every.name(), i + 3));
    }
    case.push_str(" END");
    case
}

/// The statement of a shape. `?1` the village (`''` for the township), `?2` the date.
fn sql(shape: Shape, one_village: bool) -> String {
    let village = |alias: &str| {
        if one_village {
            format!("{alias}village_code = ?1")
        } else {
            "?1 IS NOT NULL".to_owned()
        }
    };
    match shape {
        Shape::GroupBy => format!(
            "SELECT person_id, task_id FROM care_log WHERE {v}
             GROUP BY village_code, person_id, task_id, frequency
             HAVING coalesce(max(CASE WHEN done_on <= ?2 THEN done_on END), -1) < {cut}",
            v = village(""),
            cut = cutoff_case("frequency")
        ),
        Shape::SkipScan => format!(
            "WITH RECURSIVE pair(v, p, t, f) AS (
                 SELECT * FROM (SELECT c.village_code, c.person_id, c.task_id, c.frequency
                     FROM care_log c WHERE {v}
                     ORDER BY c.village_code, c.person_id, c.task_id, c.frequency, c.done_on
                     LIMIT 1)
                 UNION ALL
                 SELECT c.village_code, c.person_id, c.task_id, c.frequency
                 FROM pair JOIN care_log c ON c.rowid = (
                     SELECT n.rowid FROM care_log n
                     WHERE (n.village_code, n.person_id, n.task_id, n.frequency)
                           > (+pair.v, +pair.p, +pair.t, +pair.f)
                     ORDER BY n.village_code, n.person_id, n.task_id, n.frequency, n.done_on
                     LIMIT 1)
                 WHERE {v})
             SELECT p, t FROM pair
             WHERE coalesce((SELECT max(m.done_on) FROM care_log m
                             WHERE m.village_code = v AND m.person_id = p AND m.task_id = t
                               AND m.frequency = f AND m.done_on <= ?2), -1) < {cut}",
            v = village("c."),
            cut = cutoff_case("f")
        ),
    }
}

fn insert_row(conn: &Connection, r: &FlatRow) -> Res<()> {
    conn.prepare_cached("INSERT INTO care_log VALUES (?1, ?2, ?3, ?4, ?5)")?
        .execute((
            &r.village_code,
            &r.person_id,
            &r.task_id,
            r.frequency,
            day(r.done_on),
        ))?;
    Ok(())
}

/// The flat table in its own file.
#[derive(Debug)]
pub struct Floor {
    conn: Connection,
}

impl Floor {
    /// Writes `rows` into a new plain SQLite file (one transaction), then builds the covering
    /// index `(village_code, person_id, task_id, frequency, done_on)` and runs `ANALYZE`.
    pub fn build(path: &Path, rows: &[FlatRow]) -> Res<Self> {
        let conn = Connection::open(path)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
             CREATE TABLE care_log (village_code TEXT NOT NULL, person_id TEXT NOT NULL,
                 task_id TEXT NOT NULL, frequency TEXT NOT NULL, done_on INTEGER NOT NULL);",
        )?;
        let tx = conn.unchecked_transaction()?;
        for r in rows {
            insert_row(&tx, r)?;
        }
        tx.commit()?;
        conn.execute_batch(
            "CREATE INDEX care_log_cover
                 ON care_log (village_code, person_id, task_id, frequency, done_on);
             ANALYZE;",
        )?;
        Ok(Self { conn })
    }

    /// Inserts one row (autocommit: one durable transaction).
    pub fn insert(&self, r: &FlatRow) -> Res<()> {
        insert_row(&self.conn, r)
    }

    /// The overdue pairs on `on` of one village (`Some`) or of the township (`None`); each
    /// frequency's cutoff is the first day of the period before the one holding `on`.
    pub fn overdue(
        &self,
        shape: Shape,
        village: Option<&str>,
        on: NaiveDate,
    ) -> Res<BTreeSet<Pair>> {
        let mut params: Vec<rusqlite::types::Value> =
            vec![village.unwrap_or("").to_owned().into(), day(on).into()];
        params.extend(
            PLAN.iter()
                .map(|(_, every): &(&str, Every)| day(every.previous_start(on)).into()),
        );
        let mut statement = self.conn.prepare_cached(&sql(shape, village.is_some()))?;
        let rows = statement.query_map(rusqlite::params_from_iter(params), |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut out = BTreeSet::new();
        for row in rows {
            out.insert(row?);
        }
        Ok(out)
    }

    /// The query plan of a shape, one line per step.
    pub fn plan(&self, shape: Shape, one_village: bool) -> Res<Vec<String>> {
        let text = format!("EXPLAIN QUERY PLAN {}", sql(shape, one_village));
        let mut statement = self.conn.prepare(&text)?;
        let params = vec![rusqlite::types::Value::Null; 2 + PLAN.len()];
        let rows = statement.query_map(rusqlite::params_from_iter(params), |r| {
            r.get::<_, String>(3)
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
