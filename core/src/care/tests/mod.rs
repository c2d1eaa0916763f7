//! Tests of the care rules on documents and in the store. Shared helpers here.
#![allow(clippy::unwrap_used)]

mod convergence;
mod document;
mod integrity;
mod ledger;
mod store;

use automerge::AutoCommit;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use super::document::{append_events, read_care_log, CareLog};
use super::{CareEvent, CarePolicy, CareRecord};
use crate::calendar::CountyClock;
use crate::household::Authorship;

pub(super) const PERSON: &str = "a1b2c3d4e5f60718";

pub(super) fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// An instant in UTC.
pub(super) fn utc(y: i32, m: u32, day: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, day, h, min, 0).unwrap()
}

/// 10:00 local (UTC+8) on a day.
pub(super) fn local_ten(date: NaiveDate) -> DateTime<Utc> {
    CountyClock::default().start_of_day(date) + chrono::Duration::hours(10)
}

pub(super) fn by(worker: &str, at: DateTime<Utc>) -> Authorship {
    Authorship {
        worker_id: worker.to_owned(),
        time_unix: at.timestamp(),
    }
}

/// Records `events` on `doc` as `worker` at `at`, under the default policy in UTC+8.
pub(super) fn record(
    doc: &mut AutoCommit,
    worker: &str,
    at: DateTime<Utc>,
    events: Vec<CareEvent>,
) -> crate::Result<CareLog> {
    append_events(
        doc,
        events,
        &by(worker, at),
        &CarePolicy::default(),
        CountyClock::default(),
    )
}

/// The person's record as `doc` makes it.
pub(super) fn person(doc: &AutoCommit) -> CareRecord {
    read_care_log(doc, CountyClock::default())
        .unwrap()
        .record(PERSON)
}

pub(super) fn enrolled(since: NaiveDate) -> CareEvent {
    CareEvent::Enrolled {
        person_id: PERSON.into(),
        since,
    }
}

/// A document in which the person entered care on `since` (recorded that day).
pub(super) fn enrolled_doc(since: NaiveDate) -> AutoCommit {
    let mut doc = AutoCommit::new();
    record(&mut doc, "w1", local_ten(since), vec![enrolled(since)]).unwrap();
    doc
}

pub(super) fn done(task_id: &str, done_at: DateTime<Utc>) -> CareEvent {
    CareEvent::TaskDone {
        person_id: PERSON.into(),
        task_id: task_id.into(),
        done_at,
        note: String::new(),
        photos: Vec::new(),
    }
}

/// The stable codes of a refusal.
pub(super) fn codes(e: &crate::Error) -> Vec<&'static str> {
    e.field_errors().iter().map(|f| f.code).collect()
}

/// A photo hash.
pub(super) fn photo(n: u8) -> String {
    hex::encode(crate::signing::canonical::sha256(&photo_bytes(n)))
}

/// The bytes of photo `n` (the test stores add them, so events may name them).
pub(super) fn photo_bytes(n: u8) -> Vec<u8> {
    vec![n; 16]
}
