//! The case inside the household's Automerge document: an append-only log of events.
//!
//! ```text
//! ROOT.case = {
//!   events: { <event id>: { kind: str, seq: int, at: int (unix s), by: str, payload: str (JSON) } }
//! }
//! ```
//!
//! Each event is a new key written once, so events recorded on different tablets offline
//! merge without conflict; the case is the fold of the log in `(seq, at, id)` order, where
//! `seq` is one more than the highest `seq` the writing tablet knew. An event that the merged
//! log no longer allows (two tablets both accepted the application) is **set aside** — kept,
//! listed in [`CaseLog::set_aside`] with why, and never applied. If two tablets create
//! `ROOT.case` concurrently, readers unite both maps (as with visits) and writers use the
//! map Automerge shows.
//!
//! The section is not part of the typed [`crate::household::Household`] model: profile edits
//! keep it unchanged (it is one of the household's `extra` keys).

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{AutoCommit, ObjId, ObjType, ReadDoc, ScalarValue, Value, ROOT};
use chrono::{DateTime, Utc};

use super::error::CaseError;
use super::event::{CaseEvent, RecordedEvent};
use super::state::Case;
use super::CaseContext;
use crate::error::{Error, Result};
use crate::household::Authorship;
use crate::visit::document_read::{am, child_maps};

/// Root key of the case section.
pub const CASE_KEY: &str = "case";
const EVENTS_KEY: &str = "events";

/// An event the merged log does not allow, kept but not applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetAside {
    pub event_id: String,
    /// Who recorded it, if readable.
    pub by: Option<String>,
    /// Stable code, e.g. `case.transition_not_allowed`, or `case.unreadable_event`.
    pub code: String,
    /// Why, in English.
    pub reason: String,
}

/// The case of a household as its log makes it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CaseLog {
    /// `None` when the household has no case (no valid application).
    pub case: Option<Case>,
    pub set_aside: Vec<SetAside>,
    /// The highest `seq` in the log.
    pub max_seq: i64,
}

struct StoredEvent {
    seq: i64,
    at: i64,
    id: String,
    by: Option<String>,
    parsed: std::result::Result<RecordedEvent, String>,
}

fn scalar(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<ScalarValue> {
    match doc.get(obj, key) {
        Ok(Some((Value::Scalar(s), _))) => Some(s.into_owned()),
        _ => None,
    }
}

fn read_entry(doc: &AutoCommit, obj: &ObjId, id: &str) -> StoredEvent {
    let int = |k| match scalar(doc, obj, k) {
        Some(ScalarValue::Int(v)) => Some(v),
        _ => None,
    };
    let text = |k| match scalar(doc, obj, k) {
        Some(ScalarValue::Str(s)) => Some(s.to_string()),
        _ => None,
    };
    let (seq, at, by) = (int("seq"), int("at"), text("by"));
    let parsed = (|| {
        let (at, by) = (at.ok_or("no time")?, by.clone().ok_or("no author")?);
        let at = DateTime::<Utc>::from_timestamp(at, 0).ok_or("time out of range")?;
        let payload = text("payload").ok_or("no payload")?;
        let event: CaseEvent = serde_json::from_str(&payload)
            .map_err(|e| format!("unreadable payload (a newer app may have written it): {e}"))?;
        if text("kind").as_deref() != Some(event.kind()) {
            return Err("kind does not match the payload".to_owned());
        }
        Ok(RecordedEvent {
            id: id.to_owned(),
            by,
            at,
            event,
        })
    })();
    StoredEvent {
        seq: seq.unwrap_or(i64::MAX),
        at: at.unwrap_or(i64::MAX),
        id: id.to_owned(),
        by,
        parsed: parsed.map_err(|e: String| e),
    }
}

fn read_log(doc: &AutoCommit) -> Result<Vec<StoredEvent>> {
    let mut out: Vec<StoredEvent> = Vec::new();
    for case in child_maps(doc, &ROOT, CASE_KEY)? {
        for events in child_maps(doc, &case, EVENTS_KEY)? {
            let keys: Vec<String> = doc
                .map_range(&events, ..)
                .map(|i| i.key.to_string())
                .collect();
            for key in keys {
                if out.iter().any(|e| e.id == key) {
                    continue;
                }
                if let Some(entry) = child_maps(doc, &events, &key)?.into_iter().next() {
                    out.push(read_entry(doc, &entry, &key));
                }
            }
        }
    }
    out.sort_by(|a, b| (a.seq, a.at, &a.id).cmp(&(b.seq, b.at, &b.id)));
    Ok(out)
}

/// Reads the household's case: replays the log, setting aside what it does not allow.
pub fn read_case(doc: &AutoCommit, ctx: &CaseContext<'_>) -> Result<CaseLog> {
    let mut log = CaseLog::default();
    for stored in read_log(doc)? {
        log.max_seq = log.max_seq.max(stored.seq.min(i64::MAX - 1));
        let aside = |code: &str, reason: String| SetAside {
            event_id: stored.id.clone(),
            by: stored.by.clone(),
            code: code.to_owned(),
            reason,
        };
        let recorded = match &stored.parsed {
            Ok(r) => r,
            Err(why) => {
                log.set_aside
                    .push(aside("case.unreadable_event", why.clone()));
                continue;
            }
        };
        let result = match &mut log.case {
            Some(case) => case.apply(recorded, ctx),
            None => Case::open(recorded, ctx).map(|c| log.case = Some(c)),
        };
        if let Err(e) = result {
            log.set_aside.push(aside(e.code(), e.to_string()));
        }
    }
    Ok(log)
}

/// Records an event: checked against the case as the log makes it now, then written as
/// one change. Refused (nothing written) with the [`CaseError`] as a validation error.
pub fn append_event(
    doc: &mut AutoCommit,
    event: CaseEvent,
    by: &Authorship,
    ctx: &CaseContext<'_>,
) -> Result<CaseLog> {
    let at = DateTime::<Utc>::from_timestamp(by.time_unix, 0).ok_or_else(|| {
        Error::from(CaseError::InvalidField {
            field: "at",
            reason: "time out of range",
        })
    })?;
    append_event_at(doc, event, at, by, ctx)
}

/// [`append_event`] for something that happened at `at`, earlier than it is recorded (the
/// publicity was posted on Monday, recorded on Wednesday). Refused when `at` is later than
/// the recording time or earlier than the case's current stage began.
pub fn append_event_at(
    doc: &mut AutoCommit,
    event: CaseEvent,
    at: DateTime<Utc>,
    by: &Authorship,
    ctx: &CaseContext<'_>,
) -> Result<CaseLog> {
    let mut log = read_case(doc, ctx)?;
    if at.timestamp() > by.time_unix {
        return Err(CaseError::InvalidField {
            field: "at",
            reason: "an event cannot be dated after the time it is recorded",
        }
        .into());
    }
    if log.case.as_ref().is_some_and(|c| at < c.stage_since) {
        return Err(CaseError::InvalidField {
            field: "at",
            reason: "an event cannot be dated before the case's current stage began",
        }
        .into());
    }
    let recorded = RecordedEvent {
        id: crate::store::random_hex(8)?,
        by: by.worker_id.clone(),
        at,
        event,
    };
    match &mut log.case {
        Some(case) => case.apply(&recorded, ctx)?,
        None => log.case = Some(Case::open(&recorded, ctx)?),
    }
    let payload =
        serde_json::to_string(&recorded.event).map_err(|e| Error::Document(e.to_string()))?;
    let seq = log.max_seq.saturating_add(1);
    let written = (|| -> Result<()> {
        let case = match child_maps(doc, &ROOT, CASE_KEY)?.into_iter().next() {
            Some(id) => id,
            None => doc.put_object(ROOT, CASE_KEY, ObjType::Map).map_err(am)?,
        };
        let events = match child_maps(doc, &case, EVENTS_KEY)?.into_iter().next() {
            Some(id) => id,
            None => doc
                .put_object(&case, EVENTS_KEY, ObjType::Map)
                .map_err(am)?,
        };
        let entry = doc
            .put_object(&events, recorded.id.as_str(), ObjType::Map)
            .map_err(am)?;
        doc.put(&entry, "kind", recorded.event.kind()).map_err(am)?;
        doc.put(&entry, "seq", seq).map_err(am)?;
        doc.put(&entry, "at", at.timestamp()).map_err(am)?;
        doc.put(&entry, "by", by.worker_id.as_str()).map_err(am)?;
        doc.put(&entry, "payload", payload.as_str()).map_err(am)?;
        Ok(())
    })();
    match written {
        Ok(()) => {
            doc.commit_with(
                CommitOptions::default()
                    .with_message(by.worker_id.clone())
                    .with_time(by.time_unix),
            );
            log.max_seq = seq;
            Ok(log)
        }
        Err(e) => {
            doc.rollback();
            Err(e)
        }
    }
}
