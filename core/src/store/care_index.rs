//! The care lists' index: planned task stretches with the latest time each was done, every
//! time a task was done, open problems, leader stretches and visits, and agreements — rewritten
//! from the household's care log in the same transaction as every write of the household
//! (see `Store::persist`), so the lists never disagree with the documents and never fold a
//! document when they are read.
//!
//! Lists are one indexed query each. For overdue tasks, the cutoffs of each frequency for the
//! date asked about are computed in Rust ([`super::super::care::status`] states the rule):
//! a stretch is overdue when it was planned from the previous period's first day (every `n`
//! days: before `D − n`) and its last entry on or before `D` is older than that day (every `n`
//! days: than `D − n`). The row's latest entry answers for today; older dates look the latest
//! entry up in `care_task_log`.

use automerge::{AutoCommit, ReadDoc};
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{named_params, OptionalExtension, Row, Transaction};

use crate::calendar::CountyClock;
use crate::care::document::{event_maps, has_care, read_care_log};
use crate::care::frequency::{day_number, from_day_number, Frequency};
use crate::care::record::{leader_schedule, schedule_of};
use crate::care::{CarePolicy, CareTaskDue, LeaderVisitDue, OpenCareProblem, ProblemArea};
use crate::error::{Error, Result};

/// Tables rewritten per household.
const TABLES: [&str; 6] = [
    "care_tasks",
    "care_task_log",
    "care_problems",
    "care_leaders",
    "care_leader_visits",
    "care_agreements",
];

/// SHA-256 over the household's sorted care event ids: the care log the index was built from
/// (events are only ever added, so the ids name the log). `None` without a care section.
fn log_digest(doc: &AutoCommit) -> Result<Option<Vec<u8>>> {
    if !has_care(doc) {
        return Ok(None);
    }
    let mut ids = std::collections::BTreeSet::new();
    for events in event_maps(doc)? {
        ids.extend(doc.map_range(&events, ..).map(|i| i.key.to_string()));
    }
    let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
    for id in &ids {
        digest.update(id.as_bytes());
        digest.update(b"\n");
    }
    Ok(Some(digest.finish().as_ref().to_vec()))
}

/// Rewrites the care index rows of one household from its document — unless they were built
/// from the same care log in the same village (most writes of a household do not touch care).
pub(crate) fn write_index(
    tx: &Transaction<'_>,
    household_id: &str,
    village_code: &str,
    doc: &AutoCommit,
) -> Result<()> {
    let digest = log_digest(doc)?;
    let indexed: Option<(Vec<u8>, String)> = tx
        .prepare_cached(
            "SELECT log_digest, village_code FROM care_indexed WHERE household_id = ?1",
        )?
        .query_row([household_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match (&digest, &indexed) {
        (None, None) => return Ok(()),
        (Some(d), Some((i, v))) if d == i && v == village_code => return Ok(()),
        _ => {}
    }
    for table in TABLES {
        tx.prepare_cached(&format!("DELETE FROM {table} WHERE household_id = ?1"))?
            .execute([household_id])?;
    }
    let Some(digest) = digest else {
        tx.prepare_cached("DELETE FROM care_indexed WHERE household_id = ?1")?
            .execute([household_id])?;
        return Ok(());
    };
    tx.prepare_cached(
        "INSERT OR REPLACE INTO care_indexed (household_id, log_digest, village_code)
         VALUES (?1, ?2, ?3)",
    )?
    .execute(rusqlite::params![household_id, digest, village_code])?;
    // The index keeps instants and the events' own local dates: no clock is needed here.
    let log = read_care_log(doc, CountyClock::default())?;
    let mut task = tx.prepare_cached(
        "INSERT OR REPLACE INTO care_tasks (household_id, person_id, task_id, planned_from,
             planned_until, village_code, frequency, every_days, due_soon_days, label_zh,
             label_en, last_done_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    let mut done = tx.prepare_cached(
        "INSERT OR IGNORE INTO care_task_log (household_id, person_id, task_id, done_at)
         VALUES (?1, ?2, ?3, ?4)",
    )?;
    let mut problem = tx.prepare_cached(
        "INSERT OR REPLACE INTO care_problems (household_id, problem_id, person_id, village_code,
             area, description, opened_at, opened_by, assignee, due_on, reopened)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    let mut leader = tx.prepare_cached(
        "INSERT OR REPLACE INTO care_leaders (household_id, person_id, assigned_from,
             assigned_until, village_code, leader_id, leader_name, last_visit_on)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    let mut visit = tx.prepare_cached(
        "INSERT OR IGNORE INTO care_leader_visits (household_id, person_id, visited_on)
         VALUES (?1, ?2, ?3)",
    )?;
    let mut agreement = tx.prepare_cached(
        "INSERT OR REPLACE INTO care_agreements (household_id, agreement_id, person_id,
             village_code, caregiver_name, valid_from, valid_until)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for (person, record) in &log.records {
        for planned in &record.plan {
            let id = &planned.task.task_id;
            let last = record
                .log
                .iter()
                .filter(|e| e.task_id == *id)
                .map(|e| e.done_at.timestamp())
                .max();
            let (frequency, every_days) = stored_frequency(planned.task.frequency);
            task.execute(rusqlite::params![
                household_id,
                person,
                id,
                day_number(planned.from),
                planned.until.map(day_number),
                village_code,
                frequency,
                every_days,
                planned.task.due_soon_days,
                planned.task.label_zh,
                planned.task.label_en,
                last
            ])?;
        }
        for entry in &record.log {
            done.execute(rusqlite::params![
                household_id,
                person,
                entry.task_id,
                entry.done_at.timestamp()
            ])?;
        }
        for p in record.open_problems() {
            problem.execute(rusqlite::params![
                household_id,
                p.problem_id,
                person,
                village_code,
                p.area.as_str(),
                p.description,
                p.opened_at.timestamp(),
                p.opened_by,
                p.assignee,
                p.due_on.map(day_number),
                p.history.len() > 1
                    && p.history
                        .iter()
                        .any(|s| matches!(s.change, crate::care::ProblemChange::Reopened { .. }))
            ])?;
        }
        let last_visit = record.leader_visits.iter().map(|v| v.visited_on).max();
        for stretch in record.leader_stretches() {
            leader.execute(rusqlite::params![
                household_id,
                person,
                day_number(stretch.from),
                stretch.until.map(day_number),
                village_code,
                stretch.leader.leader_id,
                stretch.leader.leader_name,
                last_visit.map(day_number)
            ])?;
        }
        for v in &record.leader_visits {
            visit.execute(rusqlite::params![
                household_id,
                person,
                day_number(v.visited_on)
            ])?;
        }
        for a in &record.agreements {
            agreement.execute(rusqlite::params![
                household_id,
                a.event_id,
                person,
                village_code,
                a.agreement.caregiver_name,
                day_number(a.agreement.valid_from),
                day_number(a.agreement.valid_until)
            ])?;
        }
    }
    Ok(())
}

fn stored_frequency(frequency: Frequency) -> (&'static str, u32) {
    match frequency {
        Frequency::EveryDays(n) => (frequency.as_str(), n),
        f => (f.as_str(), 0),
    }
}

/// The calendar frequencies, in the order their cutoffs are bound (`?c0`…).
const CALENDAR: [Frequency; 6] = [
    Frequency::Week,
    Frequency::HalfMonth,
    Frequency::Month,
    Frequency::Quarter,
    Frequency::HalfYear,
    Frequency::Year,
];

/// What a list is asked about, under which rules.
pub(crate) struct ListQuery<'a> {
    pub village_code: Option<&'a str>,
    pub on: NaiveDate,
    pub clock: CountyClock,
    pub policy: CarePolicy,
}

impl ListQuery<'_> {
    fn day(&self) -> i64 {
        day_number(self.on)
    }

    fn start_of(&self, date: NaiveDate) -> i64 {
        self.clock.start_of_day(date).timestamp()
    }

    /// The first instant after the local day asked about.
    fn end_of_day(&self) -> i64 {
        self.start_of(self.on) + 86_400
    }

    /// The first day of the period before the one holding the date.
    fn previous_start(&self, f: Frequency) -> Result<NaiveDate> {
        f.index_of(self.on)
            .and_then(|i| f.start_of_index(i - 1))
            .ok_or_else(|| Error::Document(format!("no period before {}", self.on)))
    }
}

/// The condition on the village of table `alias` (bound as `:village`; `None`: every village).
fn village_sql(alias: &str, village_code: Option<&str>) -> String {
    match village_code {
        Some(_) => format!("{alias}.village_code = :village"),
        None => ":village IS NULL".to_owned(),
    }
}

fn person_name(row: &Row<'_>, i: usize) -> rusqlite::Result<String> {
    Ok(row.get::<_, Option<String>>(i)?.unwrap_or_default())
}

fn date_of(day: i64) -> Result<NaiveDate> {
    from_day_number(day).ok_or_else(|| Error::Document(format!("day {day} out of range")))
}

/// Planned task stretches on the date, with their last entry on or before it; `overdue_only`
/// keeps (in SQL) those past their cutoff.
pub(crate) fn task_rows(
    conn: &rusqlite::Connection,
    q: &ListQuery<'_>,
    overdue_only: bool,
) -> Result<Vec<CareTaskDue>> {
    let mut plan_case = String::from("CASE t.frequency");
    let mut done_case = String::from("CASE t.frequency");
    for (i, f) in CALENDAR.iter().enumerate() {
        plan_case.push_str(&format!(" WHEN '{}' THEN :p{i}", f.as_str()));
        done_case.push_str(&format!(" WHEN '{}' THEN :d{i}", f.as_str()));
    }
    plan_case.push_str(" ELSE :day - t.every_days - 1 END");
    done_case.push_str(" ELSE :start - t.every_days * 86400 END");
    let overdue = if overdue_only {
        format!(
            "AND t.planned_from <= ({plan_case})
             AND coalesce(last_done, -9223372036854775807) < ({done_case})"
        )
    } else {
        String::new()
    };
    let sql = format!(
        "SELECT t.household_id, t.village_code, t.person_id, m.name, t.task_id, t.label_zh,
                t.label_en, t.frequency, t.every_days, t.due_soon_days, t.planned_from,
                CASE WHEN t.last_done_at IS NULL OR t.last_done_at < :end THEN t.last_done_at
                     ELSE (SELECT max(d.done_at) FROM care_task_log d
                           WHERE d.household_id = t.household_id AND d.person_id = t.person_id
                             AND d.task_id = t.task_id AND d.done_at < :end) END AS last_done
         FROM care_tasks t
         LEFT JOIN members m ON m.household_id = t.household_id AND m.member_id = t.person_id
         WHERE {village} AND t.planned_from <= :day
           AND (t.planned_until IS NULL OR t.planned_until > :day) {overdue}
         ORDER BY t.village_code, t.household_id, t.person_id, t.task_id",
        village = village_sql("t", q.village_code),
    );
    let mut cutoffs: Vec<(String, i64)> = Vec::with_capacity(12);
    for (i, f) in CALENDAR.iter().enumerate() {
        let previous = q.previous_start(*f)?;
        cutoffs.push((format!(":p{i}"), day_number(previous)));
        cutoffs.push((format!(":d{i}"), q.start_of(previous)));
    }
    let (day, start, end) = (q.day(), q.start_of(q.on), q.end_of_day());
    let mut params: Vec<(&str, &dyn rusqlite::ToSql)> = vec![
        (":village", &q.village_code),
        (":day", &day),
        (":end", &end),
    ];
    if overdue_only {
        params.push((":start", &start));
        for (name, value) in &cutoffs {
            params.push((name.as_str(), value));
        }
    }
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params.as_slice(), |r| {
        Ok((
            (
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                person_name(r, 3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
            ),
            (
                r.get::<_, String>(7)?,
                r.get::<_, u32>(8)?,
                r.get::<_, Option<u32>>(9)?,
                r.get::<_, i64>(10)?,
                r.get::<_, Option<i64>>(11)?,
            ),
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (
            (household_id, village_code, person_id, person_name, task_id, label_zh, label_en),
            rest,
        ) = row?;
        let (frequency, every_days, due_soon_days, planned_from, last_done) = rest;
        let frequency = Frequency::parse(&frequency, every_days)
            .ok_or_else(|| Error::Document(format!("care index: unknown frequency {frequency}")))?;
        let task = crate::care::CareTaskDefinition {
            task_id,
            label_zh,
            label_en,
            frequency,
            due_soon_days,
        };
        let planned = crate::care::PlannedTask {
            task,
            from: date_of(planned_from)?,
            until: None,
        };
        let last_done_on = last_done
            .and_then(|t| DateTime::<Utc>::from_timestamp(t, 0))
            .map(|t| q.clock.local_date(t));
        let Some(status) = schedule_of(&q.policy, &planned).status_on(last_done_on, q.on) else {
            continue;
        };
        let crate::care::PlannedTask { task, from, .. } = planned;
        out.push(CareTaskDue {
            household_id,
            village_code,
            person_id,
            person_name,
            task_id: task.task_id,
            label_zh: task.label_zh,
            label_en: task.label_en,
            frequency,
            planned_from: from,
            status,
        });
    }
    Ok(out)
}

/// The open problems.
pub(crate) fn open_problems(
    conn: &rusqlite::Connection,
    village_code: Option<&str>,
) -> Result<Vec<OpenCareProblem>> {
    let village = village_sql("p", village_code);
    let sql = format!(
        "SELECT p.household_id, p.village_code, p.person_id, m.name, p.problem_id, p.area,
                p.description, p.opened_at, p.opened_by, p.assignee, p.due_on, p.reopened
         FROM care_problems p
         LEFT JOIN members m ON m.household_id = p.household_id AND m.member_id = p.person_id
         WHERE {village} ORDER BY p.village_code, p.opened_at, p.problem_id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(named_params! {":village": village_code}, |r| {
        Ok((
            (
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                person_name(r, 3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
            ),
            (
                r.get::<_, String>(6)?,
                r.get::<_, i64>(7)?,
                r.get::<_, String>(8)?,
                r.get::<_, Option<String>>(9)?,
                r.get::<_, Option<i64>>(10)?,
                r.get::<_, bool>(11)?,
            ),
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let ((household_id, village_code, person_id, person_name, problem_id, area), rest) = row?;
        let (description, opened_at, opened_by, assignee, due_on, reopened) = rest;
        out.push(OpenCareProblem {
            area: ProblemArea::parse(&area)
                .ok_or_else(|| Error::Document(format!("care index: unknown area {area}")))?,
            opened_at: DateTime::<Utc>::from_timestamp(opened_at, 0)
                .ok_or_else(|| Error::Document("care index: time out of range".into()))?,
            due_on: due_on.map(date_of).transpose()?,
            household_id,
            village_code,
            person_id,
            person_name,
            problem_id,
            description,
            opened_by,
            assignee,
            reopened,
        });
    }
    Ok(out)
}

/// The people whose leader visits are overdue on the date.
pub(crate) fn overdue_leader_visits(
    conn: &rusqlite::Connection,
    q: &ListQuery<'_>,
) -> Result<Vec<LeaderVisitDue>> {
    let (plan_cutoff, visit_cutoff) = match q.policy.leader_visit_frequency {
        Frequency::EveryDays(n) => {
            let cutoff = q.day() - i64::from(n);
            (cutoff - 1, cutoff)
        }
        f => {
            let previous = day_number(q.previous_start(f)?);
            (previous, previous)
        }
    };
    let sql = format!(
        "SELECT l.household_id, l.village_code, l.person_id, m.name, l.leader_id, l.leader_name,
                l.assigned_from,
                CASE WHEN l.last_visit_on IS NULL OR l.last_visit_on <= :day THEN l.last_visit_on
                     ELSE (SELECT max(v.visited_on) FROM care_leader_visits v
                           WHERE v.household_id = l.household_id AND v.person_id = l.person_id
                             AND v.visited_on <= :day) END AS last_visit
         FROM care_leaders l
         LEFT JOIN members m ON m.household_id = l.household_id AND m.member_id = l.person_id
         WHERE {village} AND l.assigned_from <= :day
           AND (l.assigned_until IS NULL OR l.assigned_until > :day)
           AND l.assigned_from <= :plan_cutoff
           AND coalesce(last_visit, -9223372036854775807) < :visit_cutoff
         ORDER BY l.village_code, l.household_id, l.person_id",
        village = village_sql("l", q.village_code),
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        named_params! {
            ":village": q.village_code,
            ":day": q.day(),
            ":plan_cutoff": plan_cutoff,
            ":visit_cutoff": visit_cutoff,
        },
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                person_name(r, 3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, i64>(6)?,
                r.get::<_, Option<i64>>(7)?,
            ))
        },
    )?;
    let mut out = Vec::new();
    for row in rows {
        let (
            household_id,
            village_code,
            person_id,
            person_name,
            leader_id,
            leader_name,
            from,
            last,
        ) = row?;
        let assigned_from = date_of(from)?;
        let last_visit = last.map(date_of).transpose()?;
        let Some(status) = leader_schedule(&q.policy, assigned_from).status_on(last_visit, q.on)
        else {
            continue;
        };
        out.push(LeaderVisitDue {
            household_id,
            village_code,
            person_id,
            person_name,
            leader_id,
            leader_name,
            assigned_from,
            status,
        });
    }
    Ok(out)
}

/// For each person, the agreement in force on `on` that ends last, when it ends within
/// `warning_days`.
pub(crate) fn expiring_agreements(
    conn: &rusqlite::Connection,
    village_code: Option<&str>,
    on: NaiveDate,
    warning_days: u32,
) -> Result<Vec<crate::care::ExpiringAgreement>> {
    let village = village_sql("a", village_code);
    // The in-force agreement ending last per person (SQLite takes the other columns from
    // the row holding the max), kept when it ends within the window.
    let sql = format!(
        "SELECT a.household_id, a.village_code, a.person_id, m.name, a.agreement_id,
                a.caregiver_name, max(a.valid_until) AS until
         FROM care_agreements a
         LEFT JOIN members m ON m.household_id = a.household_id AND m.member_id = a.person_id
         WHERE {village} AND a.valid_from <= :day AND a.valid_until >= :day
         GROUP BY a.household_id, a.person_id
         HAVING until <= :day + :warning
         ORDER BY until, a.household_id, a.person_id"
    );
    let day = day_number(on);
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        named_params! {":village": village_code, ":day": day, ":warning": warning_days},
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                person_name(r, 3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, i64>(6)?,
            ))
        },
    )?;
    let mut out = Vec::new();
    for row in rows {
        let (
            household_id,
            village_code,
            person_id,
            person_name,
            agreement_id,
            caregiver_name,
            until,
        ) = row?;
        out.push(crate::care::ExpiringAgreement {
            household_id,
            village_code,
            person_id,
            person_name,
            agreement_id,
            caregiver_name,
            valid_until: date_of(until)?,
            days_left: until - day,
        });
    }
    Ok(out)
}
