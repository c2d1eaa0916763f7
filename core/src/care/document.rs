//! Care inside the household's Automerge document: an append-only log of events.
//!
//! ```text
//! ROOT.care = {
//!   events: { <event id>: { kind: str, person: str, seq: int, at: int (unix s), by: str,
//!                           payload: str (JSON of the CareEvent) } }
//! }
//! ```
//!
//! Event ids are random (128 bits, hex), so every event is a new key written once: events
//! logged on any number of tablets offline merge without conflict, and an event synced twice
//! is still one key. `seq` is one more than the highest `seq` the writing tablet knew, so an
//! event always folds after the events it was checked against; events written together (an
//! enrolment and its default tasks) take consecutive `seq`s in the order written. If two
//! tablets create `ROOT.care` (or its `events` map) concurrently, readers unite both maps and
//! writers use the map Automerge shows. Existing events are never changed or deleted: the import gate
//! ([`super::integrity`]) refuses changes that would.
//!
//! The section is not part of the typed [`crate::household::Household`] model: profile edits
//! keep it unchanged (it is one of the household's `extra` keys).

use std::collections::BTreeMap;

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{AutoCommit, ObjId, ObjType, ReadDoc, ScalarValueRef, ValueRef, ROOT};
use chrono::{DateTime, Utc};

use super::error::CareError;
use super::event::CareEvent;
use super::policy::CarePolicy;
use super::record::{fold, CareRecord, RecordedCareEvent, SetAside};
use crate::calendar::CountyClock;
use crate::error::{Error, Result};
use crate::household::Authorship;
use crate::visit::content::ContentHash;
use crate::visit::document_read::{am, child_maps};

/// Root key of the care section.
pub const CARE_KEY: &str = "care";
/// Key of the event map inside the care section.
pub const EVENTS_KEY: &str = "events";

/// Every person's care record in one household.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CareLog {
    /// Records by person (household member id).
    pub records: BTreeMap<String, CareRecord>,
    /// Unreadable events that do not even name a person.
    pub unattributed: Vec<SetAside>,
    /// The highest `seq` in the log.
    pub max_seq: i64,
}

impl CareLog {
    /// The record of one person (empty when nothing was recorded about them).
    pub fn record(&self, person_id: &str) -> CareRecord {
        self.records
            .get(person_id)
            .cloned()
            .unwrap_or_else(|| CareRecord::new(person_id))
    }
}

/// One entry as stored: its order key and the event, or why it cannot be read.
struct StoredEntry {
    seq: i64,
    id: String,
    by: Option<String>,
    person: Option<String>,
    parsed: std::result::Result<RecordedCareEvent, String>,
}

fn read_entry(doc: &AutoCommit, obj: &ObjId, id: &str) -> StoredEntry {
    // One pass over the entry's fields (cheaper than a lookup per field).
    let (mut seq, mut at) = (None, None);
    let (mut kind, mut by, mut person, mut payload) = (None, None, None, None);
    for item in doc.map_range(obj, ..) {
        let ValueRef::Scalar(value) = item.value else {
            continue;
        };
        match (item.key.as_ref(), value) {
            ("seq", ScalarValueRef::Int(v)) => seq = Some(v),
            ("at", ScalarValueRef::Int(v)) => at = Some(v),
            ("kind", ScalarValueRef::Str(v)) => kind = Some(v.to_string()),
            ("by", ScalarValueRef::Str(v)) => by = Some(v.to_string()),
            ("person", ScalarValueRef::Str(v)) => person = Some(v.to_string()),
            ("payload", ScalarValueRef::Str(v)) => payload = Some(v.to_string()),
            _ => {}
        }
    }
    let parsed = (|| {
        let (at, by) = (at.ok_or("no time")?, by.clone().ok_or("no author")?);
        let at = DateTime::<Utc>::from_timestamp(at, 0).ok_or("time out of range")?;
        let payload = payload.ok_or("no payload")?;
        let event: CareEvent = serde_json::from_str(&payload)
            .map_err(|e| format!("unreadable payload (a newer app may have written it): {e}"))?;
        if kind.as_deref() != Some(event.kind()) {
            return Err("kind does not match the payload".to_owned());
        }
        if person.as_deref() != Some(event.person_id()) {
            return Err("person does not match the payload".to_owned());
        }
        Ok(RecordedCareEvent {
            id: id.to_owned(),
            by,
            at,
            event,
        })
    })();
    StoredEntry {
        seq: seq.unwrap_or(i64::MAX),
        id: id.to_owned(),
        by,
        person,
        parsed,
    }
}

/// The event maps of the document (every concurrent one).
pub(crate) fn event_maps(doc: &AutoCommit) -> Result<Vec<ObjId>> {
    let mut maps = Vec::new();
    for care in child_maps(doc, &ROOT, CARE_KEY)? {
        maps.extend(child_maps(doc, &care, EVENTS_KEY)?);
    }
    Ok(maps)
}

/// The entries of the document whose id `wanted` accepts (each id once).
fn read_entries(doc: &AutoCommit, wanted: impl Fn(&str) -> bool) -> Result<Vec<StoredEntry>> {
    let mut out: Vec<StoredEntry> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for events in event_maps(doc)? {
        let entries: Vec<(String, ObjId)> = doc
            .map_range(&events, ..)
            .filter(|i| matches!(i.value, automerge::ValueRef::Object(ObjType::Map)))
            .filter(|i| wanted(i.key.as_ref()))
            .map(|i| (i.key.to_string(), i.id()))
            .collect();
        for (key, entry) in entries {
            if seen.insert(key.clone()) {
                out.push(read_entry(doc, &entry, &key));
            }
        }
    }
    Ok(out)
}

/// Whether the household document holds a care section.
pub fn has_care(doc: &AutoCommit) -> bool {
    doc.get(ROOT, CARE_KEY).ok().flatten().is_some()
}

/// Reads every person's care record from the household document.
pub fn read_care_log(doc: &AutoCommit, clock: CountyClock) -> Result<CareLog> {
    let mut log = CareLog::default();
    let mut readable = Vec::new();
    let mut unreadable = Vec::new();
    for entry in read_entries(doc, |_| true)? {
        log.max_seq = log.max_seq.max(entry.seq.min(i64::MAX - 1));
        match entry.parsed {
            Ok(recorded) => readable.push((entry.seq, recorded)),
            Err(reason) => unreadable.push((
                entry.person,
                SetAside {
                    event_id: entry.id,
                    by: entry.by,
                    code: "care.unreadable_event".to_owned(),
                    reason,
                },
            )),
        }
    }
    log.records = fold(readable, clock);
    for (person, aside) in unreadable {
        match person {
            Some(person) => log
                .records
                .entry(person.clone())
                .or_insert_with(|| CareRecord::new(&person))
                .set_aside
                .push(aside),
            None => log.unattributed.push(aside),
        }
    }
    Ok(log)
}

/// Records events as one change: each is checked against the record as the log makes it
/// now (and as the events before it in `events` leave it) and with what only the recording
/// tablet knows: nothing is dated after the time it is recorded, and a task is logged done
/// only on a day it is planned. An `Enrolled` event also plans the policy's default tasks
/// from the same day (as `TaskAdded` events in the same change). Refused — nothing written —
/// with the first event's [`CareError`], fields prefixed by its position.
pub fn append_events(
    doc: &mut AutoCommit,
    events: Vec<CareEvent>,
    by: &Authorship,
    policy: &CarePolicy,
    clock: CountyClock,
) -> Result<CareLog> {
    let now = DateTime::<Utc>::from_timestamp(by.time_unix, 0).ok_or_else(|| {
        Error::from(CareError::DateOrder {
            field: "at",
            reason: "the recording time is out of range",
        })
    })?;
    let mut log = read_care_log(doc, clock)?;
    let mut written = Vec::new();
    for (i, event) in expand(events, policy).into_iter().enumerate() {
        let recorded = RecordedCareEvent {
            id: crate::store::random_hex(16)?,
            by: by.worker_id.clone(),
            at: now,
            event,
        };
        let record = log
            .records
            .entry(recorded.event.person_id().to_owned())
            .or_insert_with(|| CareRecord::new(recorded.event.person_id()));
        let checked = super::checks::check_new(record, &recorded.event, now, clock)
            .and_then(|()| record.apply(&recorded, clock));
        if let Err(e) = checked {
            return Err(Error::Invalid(
                e.field_errors()
                    .into_iter()
                    .map(|f| f.under(&format!("[{i}]")))
                    .collect(),
            ));
        }
        written.push(recorded);
    }
    for record in log.records.values_mut() {
        record.sort_logged_work();
    }
    // One `seq` per event, in the order written: events recorded together (an enrolment and
    // its default tasks) fold in that order on every device, whatever their random ids.
    let seq = log.max_seq.saturating_add(1);
    let last_seq = seq.saturating_add(i64::try_from(written.len()).unwrap_or(i64::MAX) - 1);
    match write_entries(doc, &written, seq) {
        Ok(()) => {
            doc.commit_with(
                CommitOptions::default()
                    .with_message(by.worker_id.clone())
                    .with_time(by.time_unix),
            );
            log.max_seq = last_seq.max(log.max_seq);
            Ok(log)
        }
        Err(e) => {
            doc.rollback();
            Err(e)
        }
    }
}

/// `Enrolled` followed by the policy's default tasks, planned from the enrolment day.
fn expand(events: Vec<CareEvent>, policy: &CarePolicy) -> Vec<CareEvent> {
    let mut out = Vec::with_capacity(events.len());
    for event in events {
        let defaults = match &event {
            CareEvent::Enrolled { person_id, since } => policy
                .default_tasks
                .iter()
                .map(|task| CareEvent::TaskAdded {
                    person_id: person_id.clone(),
                    task: task.clone(),
                    from: *since,
                })
                .collect(),
            _ => Vec::new(),
        };
        out.push(event);
        out.extend(defaults);
    }
    out
}

fn write_entries(doc: &mut AutoCommit, written: &[RecordedCareEvent], seq: i64) -> Result<()> {
    let care = match child_maps(doc, &ROOT, CARE_KEY)?.into_iter().next() {
        Some(id) => id,
        None => doc.put_object(ROOT, CARE_KEY, ObjType::Map).map_err(am)?,
    };
    let events = match child_maps(doc, &care, EVENTS_KEY)?.into_iter().next() {
        Some(id) => id,
        None => doc
            .put_object(&care, EVENTS_KEY, ObjType::Map)
            .map_err(am)?,
    };
    for (seq, recorded) in (seq..).zip(written) {
        let payload =
            serde_json::to_string(&recorded.event).map_err(|e| Error::Document(e.to_string()))?;
        let entry = doc
            .put_object(&events, recorded.id.as_str(), ObjType::Map)
            .map_err(am)?;
        doc.put(&entry, "kind", recorded.event.kind()).map_err(am)?;
        doc.put(&entry, "person", recorded.event.person_id())
            .map_err(am)?;
        doc.put(&entry, "seq", seq).map_err(am)?;
        doc.put(&entry, "at", recorded.at.timestamp()).map_err(am)?;
        doc.put(&entry, "by", recorded.by.as_str()).map_err(am)?;
        doc.put(&entry, "payload", payload.as_str()).map_err(am)?;
    }
    Ok(())
}

/// The photos (SHA-256 of attachments) named by the events `after` holds and `before` does
/// not: what a change adds for the attachment sync, like the photos of a newly sealed visit.
pub fn added_photos(before: &AutoCommit, after: &AutoCommit) -> Vec<ContentHash> {
    if !has_care(after) {
        return Vec::new();
    }
    let known: std::collections::BTreeSet<String> = event_maps(before)
        .unwrap_or_default()
        .iter()
        .flat_map(|events| before.map_range(events, ..).map(|i| i.key.to_string()))
        .collect();
    let mut photos = std::collections::BTreeSet::new();
    // Only the new entries are read.
    for entry in read_entries(after, |id| !known.contains(id)).unwrap_or_default() {
        if let Ok(recorded) = entry.parsed {
            photos.extend(
                recorded
                    .event
                    .photo_hashes()
                    .into_iter()
                    .filter_map(ContentHash::from_hex),
            );
        }
    }
    photos.into_iter().collect()
}
