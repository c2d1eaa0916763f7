//! Visits inside the household's Automerge document: the layout, and every write —
//! starting a visit, editing its draft, sealing a revision, storing a signature entry.
//! Reading visits back is in [`crate::visit::document_read`] (re-exported here).
//!
//! ```text
//! ROOT.visits.<visit_id> = {
//!   purpose, village_code, created_by, created_at,
//!   team:       { <role>: <worker id> }                    written once, at start
//!   draft:      { <answer key>: scalar }                   edited by the team; merges
//!   sealed:     { <content hash hex>: { content: bytes, sealed_by, sealed_at } }  write-once
//!   signatures: { "<content hash hex>/<worker id>/<role>": bytes }            one per signer
//! }
//! ```
//!
//! Sealed entries are keyed by the SHA-256 of their content, so two tablets' concurrent
//! corrections land under different keys and both stay visible; nothing ever writes to an
//! existing sealed entry (a verifier checks that every field was written in the same
//! transaction that created the entry). Signatures are separate keys, so three tablets
//! signing offline merge without conflict.
//!
//! If two tablets create `ROOT.visits` concurrently, both maps survive as concurrent
//! values; readers unite them and writes go to the map that holds the visit.

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{AutoCommit, ObjType, ReadDoc, ScalarValue, Value, ROOT};
use chrono::{DateTime, Utc};
use serde_json::Value as Json;

use crate::error::{Error, FieldError, Result};
use crate::household::Authorship;
use crate::signing::certificate::is_village_code;
use crate::signing::wire::{check_identifier, whole_seconds};
use crate::visit::content::TemplateRef;
use crate::visit::content::{
    ContentHash, Place, RemoteMode, SealedContent, TeamMember, SEALED_FORMAT,
};
use crate::visit::document_read::{am, child_map, find_visit, get_str, read_team, require_visit};
pub use crate::visit::document_read::{read_visit, visit_ids, SealedRevision, VisitRecord};
use crate::visit::error::VisitError;
use crate::visit::form::VisitForm;
use crate::visit::policy::{Purpose, VisitPolicy};

/// Root key of the visits map.
pub const VISITS_KEY: &str = "visits";
/// Key of the form a visit is filled with (id, version, hash) in its visit map; absent in
/// visits started before forms were data, which are filled with the minimal template.
pub const TEMPLATE_KEY: &str = "template";

/// A new visit: why, who, where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVisit {
    /// Why the team visits.
    pub purpose: Purpose,
    /// Who visits, one person per role.
    pub team: Vec<TeamMember>,
    /// 12-digit code of the household's village.
    pub village_code: String,
    /// The form the visit is filled with.
    pub template: TemplateRef,
}

/// What the sealing tablet adds to the draft answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealDetails {
    /// `None` for the first seal; the corrected revision's hash for a correction.
    pub previous: Option<ContentHash>,
    /// Where the visit took place (its village must be the visit's village).
    pub place: Place,
    /// When the team was in the household.
    pub visited_at: DateTime<Utc>,
    /// Hashes of photos and the household member's signature image.
    pub attachments: Vec<ContentHash>,
    /// Scoring block (forms issue).
    pub scoring: Option<Json>,
    /// Set when handled by phone or video in an emergency.
    pub emergency_remote: Option<RemoteMode>,
}

/// Refuses to check a visit with another form than the one it names.
fn check_form(record: &VisitRecord, form: &VisitForm<'_>) -> Result<()> {
    if record.template == *form.reference() {
        return Ok(());
    }
    Err(Error::invalid(
        FieldError::new(
            "template",
            "visit.template_mismatch",
            "the visit is filled with another form",
        )
        .with("visit_form", &record.template.id)
        .with("visit_form_version", record.template.version),
    ))
}

fn commit(doc: &mut AutoCommit, by: &Authorship) {
    doc.commit_with(
        CommitOptions::default()
            .with_message(by.worker_id.clone())
            .with_time(by.time_unix),
    );
}

/// Runs `f` as one change: committed on success, rolled back on any error.
fn transact<T>(
    doc: &mut AutoCommit,
    by: &Authorship,
    f: impl FnOnce(&mut AutoCommit) -> Result<T>,
) -> Result<T> {
    match f(doc) {
        Ok(v) => {
            commit(doc, by);
            Ok(v)
        }
        Err(e) => {
            doc.rollback();
            Err(e)
        }
    }
}

/// Checks a new visit's team against the policy; errors name `team`.
pub fn check_team(purpose: Purpose, team: &[TeamMember], policy: &VisitPolicy) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (i, m) in team.iter().enumerate() {
        if let Err(why) = check_identifier("worker_id", &m.worker_id) {
            errors.push(FieldError::new(
                format!("team[{i}].worker_id"),
                "visit.worker_id",
                why,
            ));
        }
        if team[..i].iter().any(|o| o.role == m.role) {
            errors.push(
                FieldError::new(
                    format!("team[{i}].role"),
                    "visit.duplicate_role",
                    "a role is listed twice",
                )
                .with("role", m.role.as_str()),
            );
        }
        if team[..i].iter().any(|o| o.worker_id == m.worker_id) {
            errors.push(
                FieldError::new(
                    format!("team[{i}].worker_id"),
                    "visit.duplicate_person",
                    "one person cannot hold two roles in a visit",
                )
                .with("worker_id", &m.worker_id),
            );
        }
    }
    for role in policy.required_roles(purpose) {
        if !team.iter().any(|m| m.role == role) {
            errors.push(
                FieldError::new(
                    "team",
                    "visit.missing_role",
                    "the policy requires this role",
                )
                .with("role", role.as_str()),
            );
        }
    }
    errors
}

/// Starts a visit: writes its purpose, village and team, and empty draft, sealed and
/// signature maps, as one change.
pub fn start_visit(
    doc: &mut AutoCommit,
    visit_id: &str,
    new: &NewVisit,
    policy: &VisitPolicy,
    by: &Authorship,
) -> Result<()> {
    let mut errors = check_team(new.purpose, &new.team, policy);
    if let Err(why) = check_identifier("visit_id", visit_id) {
        errors.push(FieldError::new("visit_id", "visit.visit_id", why));
    }
    if visit_id.contains('/') {
        errors.push(FieldError::new(
            "visit_id",
            "visit.visit_id",
            "must not contain '/'",
        ));
    }
    if !is_village_code(&new.village_code) {
        errors.push(FieldError::new(
            "village_code",
            "visit.village_code",
            "not a 12-digit village code",
        ));
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    if find_visit(doc, visit_id)?.is_some() {
        return Err(Error::invalid(FieldError::new(
            "visit_id",
            "visit.exists",
            "a visit with this id exists",
        )));
    }
    transact(doc, by, |doc| {
        let visits = match child_map(doc, &ROOT, VISITS_KEY)? {
            Some(id) => id,
            None => doc.put_object(ROOT, VISITS_KEY, ObjType::Map).map_err(am)?,
        };
        let visit = doc
            .put_object(&visits, visit_id, ObjType::Map)
            .map_err(am)?;
        doc.put(&visit, "purpose", new.purpose.as_str())
            .map_err(am)?;
        doc.put(&visit, "village_code", new.village_code.as_str())
            .map_err(am)?;
        doc.put(&visit, "created_by", by.worker_id.as_str())
            .map_err(am)?;
        doc.put(&visit, "created_at", by.time_unix).map_err(am)?;
        let team = doc.put_object(&visit, "team", ObjType::Map).map_err(am)?;
        for m in &new.team {
            doc.put(&team, m.role.as_str(), m.worker_id.as_str())
                .map_err(am)?;
        }
        let template = doc
            .put_object(&visit, TEMPLATE_KEY, ObjType::Map)
            .map_err(am)?;
        doc.put(&template, "id", new.template.id.as_str())
            .map_err(am)?;
        doc.put(&template, "version", i64::from(new.template.version))
            .map_err(am)?;
        doc.put(&template, "hash", new.template.hash.to_hex())
            .map_err(am)?;
        for key in ["draft", "sealed", "signatures"] {
            doc.put_object(&visit, key, ObjType::Map).map_err(am)?;
        }
        Ok(())
    })
}

/// Edits draft answers: `Some(value)` sets a key, `None` removes it; the draft after the
/// edit is checked against the visit's form (see [`VisitForm::check_draft`]). A key holding
/// concurrent values from several tablets is settled by the edit.
pub fn edit_draft(
    doc: &mut AutoCommit,
    visit_id: &str,
    changes: &[(String, Option<Json>)],
    form: &VisitForm<'_>,
    by: &Authorship,
) -> Result<()> {
    let record = read_visit(doc, visit_id)?;
    check_form(&record, form)?;
    let mut after = record.draft;
    for (key, value) in changes {
        match value {
            Some(v) => after.insert(key.clone(), v.clone()),
            None => after.remove(key),
        };
    }
    let written: Vec<&str> = changes
        .iter()
        .filter(|(_, v)| v.is_some())
        .map(|(k, _)| k.as_str())
        .collect();
    let today = form.local_day(DateTime::from_timestamp(by.time_unix, 0).unwrap_or_default());
    let errors = form.check_draft(&after, &written, today);
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let visit = require_visit(doc, visit_id)?;
    let draft = child_map(doc, &visit, "draft")?.ok_or_else(|| Error::CorruptDocument {
        id: visit_id.to_owned(),
        reason: "the visit has no draft map".into(),
    })?;
    transact(doc, by, |doc| {
        for (key, value) in changes {
            match value {
                Some(Json::String(s)) => doc.put(&draft, key.as_str(), s.as_str()).map_err(am)?,
                Some(Json::Bool(b)) => doc.put(&draft, key.as_str(), *b).map_err(am)?,
                Some(Json::Number(n)) => {
                    let v = n.as_i64().ok_or_else(|| {
                        Error::invalid(FieldError::new(
                            format!("draft.{key}"),
                            "visit.fen",
                            "expected an integer",
                        ))
                    })?;
                    doc.put(&draft, key.as_str(), v).map_err(am)?
                }
                Some(_) => {
                    return Err(Error::invalid(FieldError::new(
                        format!("draft.{key}"),
                        "not_scalar",
                        "expected a single value",
                    )))
                }
                None => {
                    if doc.get(&draft, key.as_str()).map_err(am)?.is_some() {
                        doc.delete(&draft, key.as_str()).map_err(am)?
                    }
                }
            }
        }
        Ok(())
    })
}

/// Seals the draft as a new revision: the first seal, or a correction of `details.previous`
/// (which must be a latest revision). Writes one write-once entry keyed by the content hash.
pub fn seal(
    doc: &mut AutoCommit,
    visit_id: &str,
    details: &SealDetails,
    form: &VisitForm<'_>,
    by: &Authorship,
) -> Result<SealedRevision> {
    let record = read_visit(doc, visit_id)?;
    check_form(&record, form)?;
    let visit = require_visit(doc, visit_id)?;
    let household_id = get_str(doc, &ROOT, "id").ok_or_else(|| Error::CorruptDocument {
        id: visit_id.to_owned(),
        reason: "the household has no id".into(),
    })?;
    let (team, team_conflicted) = read_team(doc, &visit)?;
    if team_conflicted {
        return Err(Error::FieldConflicted {
            field: format!("visits.{visit_id}.team"),
        });
    }
    if let Some(key) = record.draft_conflicts.first() {
        return Err(Error::FieldConflicted {
            field: format!("visits.{visit_id}.draft.{key}"),
        });
    }
    let (revision, previous) = match details.previous {
        None => match record.revisions.iter().map(|r| r.content.revision).max() {
            Some(revision) => return Err(VisitError::AlreadySealed { revision }.into()),
            None => (1, None),
        },
        Some(prev) => {
            let Some(p) = record.revisions.iter().find(|r| r.content_hash == prev) else {
                return Err(Error::NotFound {
                    what: "sealed revision",
                    id: prev.to_hex(),
                });
            };
            if !record.latest.contains(&prev) {
                return Err(VisitError::NotLatest {
                    revision: p.content.revision,
                }
                .into());
            }
            (p.content.revision + 1, Some(prev))
        }
    };
    let mut errors = form.check_seal(&record.draft, form.local_day(details.visited_at));
    if details.place.village_code != record.village_code {
        errors.push(FieldError::new(
            "place.village_code",
            "visit.village_mismatch",
            "not the visit's village",
        ));
    }
    let mut attachments = details.attachments.clone();
    attachments.sort();
    attachments.dedup();
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let sealed_at = DateTime::from_timestamp(by.time_unix, 0).ok_or_else(|| {
        Error::invalid(FieldError::new(
            "sealed_at",
            "visit.time",
            "device time out of range",
        ))
    })?;
    let content = SealedContent {
        format: SEALED_FORMAT,
        household_id,
        visit_id: visit_id.to_owned(),
        revision,
        previous,
        purpose: record.purpose,
        team,
        template: form.reference().clone(),
        answers: record.draft.clone(),
        attachments,
        scoring: details.scoring.clone(),
        place: details.place.clone(),
        visited_at: whole_seconds(details.visited_at),
        emergency_remote: details.emergency_remote,
        sealed_by: by.worker_id.clone(),
        sealed_at,
    };
    let (bytes, content_hash) = content.to_bytes()?;
    if record
        .revisions
        .iter()
        .any(|r| r.content_hash == content_hash)
    {
        return Err(VisitError::AlreadySealed { revision }.into());
    }
    let sealed = child_map(doc, &visit, "sealed")?.ok_or_else(|| Error::CorruptDocument {
        id: visit_id.to_owned(),
        reason: "the visit has no sealed map".into(),
    })?;
    transact(doc, by, |doc| {
        let entry = doc
            .put_object(&sealed, content_hash.to_hex(), ObjType::Map)
            .map_err(am)?;
        doc.put(&entry, "content", ScalarValue::Bytes(bytes.clone()))
            .map_err(am)?;
        doc.put(&entry, "sealed_by", content.sealed_by.as_str())
            .map_err(am)?;
        doc.put(&entry, "sealed_at", content.sealed_at.timestamp())
            .map_err(am)?;
        Ok(())
    })?;
    Ok(SealedRevision {
        content_hash,
        content,
        bytes,
    })
}

/// Writes one signature entry (already checked by the caller). Returns `false` when the
/// key already holds exactly these bytes.
pub(crate) fn put_signature(
    doc: &mut AutoCommit,
    visit_id: &str,
    key: &str,
    bytes: &[u8],
    by: &Authorship,
) -> Result<bool> {
    let visit = require_visit(doc, visit_id)?;
    let map = child_map(doc, &visit, "signatures")?.ok_or_else(|| Error::CorruptDocument {
        id: visit_id.to_owned(),
        reason: "the visit has no signature map".into(),
    })?;
    let existing = doc.get_all(&map, key).map_err(am)?;
    let same = existing.len() == 1
        && matches!(&existing[0].0, Value::Scalar(s) if matches!(s.as_ref(), ScalarValue::Bytes(b) if b == bytes));
    if same {
        return Ok(false);
    }
    transact(doc, by, |doc| {
        doc.put(&map, key, ScalarValue::Bytes(bytes.to_vec()))
            .map_err(am)?;
        Ok(true)
    })
}

/// Writes a signature entry under its own key (content hash / signer / role, as named in
/// its payload). The entry is **not** checked here: make it with
/// [`crate::visit::verify::sign_content`] or accept it with
/// [`crate::visit::cosign::accept_response`]; any other entry is flagged by verification.
/// Returns `false` when the key already holds exactly this entry.
pub fn add_signature(
    doc: &mut AutoCommit,
    visit_id: &str,
    entry: &crate::visit::entry::SignatureEntry,
    by: &Authorship,
) -> Result<bool> {
    let payload = entry.signature.unverified_payload().map_err(|e| {
        Error::invalid(FieldError::new(
            "signature",
            "visit.signature",
            e.to_string(),
        ))
    })?;
    let key = crate::visit::entry::signature_key(
        &ContentHash(payload.content_hash),
        &payload.signer_worker_id,
        payload.role,
    );
    let bytes = entry.encode().ok_or_else(|| {
        Error::invalid(FieldError::new(
            "signature",
            "visit.signature_size",
            "signature entry too large",
        ))
    })?;
    put_signature(doc, visit_id, &key, &bytes, by)
}
