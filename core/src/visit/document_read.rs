//! Reading visits back from the household's Automerge document: everything stored for a
//! visit with every concurrent value kept ([`RawVisit`], what verification and the import
//! gate judge), the intact sealed revisions, and the visit as the app shows it
//! ([`VisitRecord`]). Nothing here writes; the layout is described in
//! [`crate::visit::document`].

use std::collections::{BTreeMap, BTreeSet};

use automerge::{AutoCommit, ObjId, ObjType, ReadDoc, ScalarValue, Value, ROOT};
use serde_json::Value as Json;

use crate::error::{Error, Result};
use crate::signing::certificate::Role;
use crate::visit::content::{parse_content, ContentHash, SealedContent, TeamMember, TemplateRef};
use crate::visit::document::{TEMPLATE_KEY, VISITS_KEY};
use crate::visit::policy::Purpose;
use crate::visit::template::minimal_template;

const ENTRY_FIELDS: [&str; 3] = ["content", "sealed_at", "sealed_by"];

/// One sealed revision whose entry is intact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedRevision {
    /// SHA-256 of `bytes`, the entry's key.
    pub content_hash: ContentHash,
    /// The parsed content.
    pub content: SealedContent,
    /// The exact canonical bytes.
    pub bytes: Vec<u8>,
}

/// A visit as the app shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitRecord {
    /// The visit id.
    pub visit_id: String,
    /// Why the team visits.
    pub purpose: Purpose,
    /// The household's village.
    pub village_code: String,
    /// Team, sorted by role.
    pub team: Vec<TeamMember>,
    /// The form the visit is filled with (the minimal template for visits that name none).
    pub template: TemplateRef,
    /// Draft answers (where tablets wrote concurrently, Automerge's winner).
    pub draft: BTreeMap<String, Json>,
    /// Draft keys holding concurrent values (the next edit of the key settles them).
    pub draft_conflicts: Vec<String>,
    /// Intact sealed revisions, by revision then hash.
    pub revisions: Vec<SealedRevision>,
    /// Hashes of the latest revisions (more than one after concurrent corrections).
    pub latest: Vec<ContentHash>,
    /// `Some(n)` when the draft differs from the latest sealed revision `n`: "differs from
    /// sealed revision n — start a correction".
    pub draft_differs_from: Option<u32>,
    /// Keys of the signature entries.
    pub signature_keys: Vec<String>,
}

/// A sealed entry as stored, before any check of its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawEntry {
    pub content: Vec<u8>,
    pub sealed_by: String,
    pub sealed_at: i64,
}

/// Everything stored for one visit, every concurrent value included.
#[derive(Debug, Clone)]
pub(crate) struct RawVisit {
    pub household_id: Option<String>,
    pub purpose: Option<String>,
    pub village_code: Option<String>,
    /// `(key, concurrent values)`; a value is `Err(why)` when it is not an intact entry.
    pub sealed: Vec<(String, Vec<std::result::Result<RawEntry, String>>)>,
    /// `(key, concurrent values)`; `None` for a value that is not bytes.
    pub signatures: Vec<(String, Vec<Option<Vec<u8>>>)>,
    /// Other problems of the visit's structure.
    pub problems: Vec<String>,
}

pub(crate) fn am(e: automerge::AutomergeError) -> Error {
    Error::Document(e.to_string())
}

/// The map objects under `key` (every concurrent one).
pub(crate) fn child_maps(doc: &AutoCommit, obj: &ObjId, key: &str) -> Result<Vec<ObjId>> {
    Ok(doc
        .get_all(obj, key)
        .map_err(am)?
        .into_iter()
        .filter(|(v, _)| matches!(v, Value::Object(ObjType::Map)))
        .map(|(_, id)| id)
        .collect())
}

pub(super) fn child_map(doc: &AutoCommit, obj: &ObjId, key: &str) -> Result<Option<ObjId>> {
    Ok(match doc.get(obj, key).map_err(am)? {
        Some((Value::Object(ObjType::Map), id)) => Some(id),
        _ => None,
    })
}

pub(super) fn get_str(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<String> {
    match doc.get(obj, key) {
        Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
            ScalarValue::Str(v) => Some(v.to_string()),
            _ => None,
        },
        _ => None,
    }
}

/// The visit's map object, searching every concurrent `visits` map.
pub(crate) fn find_visit(doc: &AutoCommit, visit_id: &str) -> Result<Option<ObjId>> {
    for visits in child_maps(doc, &ROOT, VISITS_KEY)? {
        if let Some(id) = child_maps(doc, &visits, visit_id)?.into_iter().next() {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

pub(super) fn require_visit(doc: &AutoCommit, visit_id: &str) -> Result<ObjId> {
    find_visit(doc, visit_id)?.ok_or_else(|| Error::NotFound {
        what: "visit",
        id: visit_id.to_owned(),
    })
}

/// Ids of every visit in the document, sorted.
pub fn visit_ids(doc: &AutoCommit) -> Result<Vec<String>> {
    let mut ids = BTreeSet::new();
    for visits in child_maps(doc, &ROOT, VISITS_KEY)? {
        for key in doc.keys(&visits) {
            ids.insert(key);
        }
    }
    Ok(ids.into_iter().collect())
}

fn role_from_str(text: &str) -> Option<Role> {
    Role::ALL.into_iter().find(|r| r.as_str() == text)
}

fn read_entry(
    doc: &AutoCommit,
    value: &Value<'_>,
    id: &ObjId,
) -> std::result::Result<RawEntry, String> {
    if !matches!(value, Value::Object(ObjType::Map)) {
        return Err("the sealed entry is not a map".into());
    }
    let ObjId::Id(created, actor, _) = id else {
        return Err("the sealed entry has no creating operation".into());
    };
    let keys: Vec<String> = doc.keys(id).collect();
    if keys != ENTRY_FIELDS {
        return Err(format!(
            "the sealed entry has fields {keys:?}, expected {ENTRY_FIELDS:?}"
        ));
    }
    let mut content = None;
    let mut sealed_by = None;
    let mut sealed_at = None;
    for key in ENTRY_FIELDS {
        let all = doc.get_all(id, key).map_err(|e| e.to_string())?;
        let [(value, op)] = all.as_slice() else {
            return Err(format!("field {key} holds {} concurrent values", all.len()));
        };
        let written_with_entry =
            matches!(op, ObjId::Id(c, a, _) if a == actor && *c > *created && *c <= *created + 3);
        if !written_with_entry {
            return Err(format!(
                "field {key} was written after the entry was created"
            ));
        }
        let Value::Scalar(s) = value else {
            return Err(format!("field {key} is not a scalar"));
        };
        match (key, s.as_ref()) {
            ("content", ScalarValue::Bytes(b)) => content = Some(b.clone()),
            ("sealed_by", ScalarValue::Str(v)) => sealed_by = Some(v.to_string()),
            ("sealed_at", ScalarValue::Int(v)) => sealed_at = Some(*v),
            _ => return Err(format!("field {key} has the wrong type")),
        }
    }
    match (content, sealed_by, sealed_at) {
        (Some(content), Some(sealed_by), Some(sealed_at)) => Ok(RawEntry {
            content,
            sealed_by,
            sealed_at,
        }),
        _ => Err("the sealed entry is incomplete".into()),
    }
}

/// The keys of a visit's signature entries (of every concurrent signatures map), not decoded.
pub(crate) fn signature_entry_keys(doc: &AutoCommit, visit_id: &str) -> Vec<String> {
    entry_keys(doc, visit_id, "signatures")
}

/// The keys (content hashes) of a visit's sealed entries, not decoded.
pub(crate) fn sealed_entry_keys(doc: &AutoCommit, visit_id: &str) -> Vec<String> {
    entry_keys(doc, visit_id, "sealed")
}

fn entry_keys(doc: &AutoCommit, visit_id: &str, section: &str) -> Vec<String> {
    let Ok(Some(visit)) = find_visit(doc, visit_id) else {
        return Vec::new();
    };
    child_maps(doc, &visit, section)
        .unwrap_or_default()
        .iter()
        .flat_map(|map| doc.keys(map).collect::<Vec<_>>())
        .collect()
}

/// Reads everything stored for a visit, keeping every concurrent value.
pub(crate) fn read_raw(doc: &AutoCommit, visit_id: &str) -> Result<RawVisit> {
    let visit = require_visit(doc, visit_id)?;
    let mut problems = Vec::new();
    let mut sealed = Vec::new();
    match child_maps(doc, &visit, "sealed")?.as_slice() {
        [map] => {
            for key in doc.keys(map).collect::<Vec<_>>() {
                let values = doc
                    .get_all(map, key.as_str())
                    .map_err(am)?
                    .iter()
                    .map(|(v, id)| read_entry(doc, v, id))
                    .collect();
                sealed.push((key, values));
            }
        }
        maps => problems.push(format!(
            "the visit has {} sealed maps, expected 1",
            maps.len()
        )),
    }
    let mut signatures = Vec::new();
    match child_maps(doc, &visit, "signatures")?.as_slice() {
        [map] => {
            for key in doc.keys(map).collect::<Vec<_>>() {
                let values = doc
                    .get_all(map, key.as_str())
                    .map_err(am)?
                    .into_iter()
                    .map(|(v, _)| match v {
                        Value::Scalar(s) => match s.as_ref() {
                            ScalarValue::Bytes(b) => Some(b.clone()),
                            _ => None,
                        },
                        Value::Object(_) => None,
                    })
                    .collect();
                signatures.push((key, values));
            }
        }
        maps => problems.push(format!(
            "the visit has {} signature maps, expected 1",
            maps.len()
        )),
    }
    Ok(RawVisit {
        household_id: get_str(doc, &ROOT, "id"),
        purpose: get_str(doc, &visit, "purpose"),
        village_code: get_str(doc, &visit, "village_code"),
        sealed,
        signatures,
        problems,
    })
}

/// The intact, parseable sealed revisions of a raw visit, sorted by revision then hash.
pub(crate) fn intact_revisions(raw: &RawVisit) -> Vec<SealedRevision> {
    let mut out: Vec<SealedRevision> = raw
        .sealed
        .iter()
        .filter_map(|(key, values)| {
            let hash = ContentHash::from_hex(key)?;
            let first = values.first()?.as_ref().ok()?;
            let all_same = values
                .iter()
                .all(|v| v.as_ref().is_ok_and(|e| e.content == first.content));
            if !all_same || ContentHash::of(&first.content) != hash {
                return None;
            }
            let content = parse_content(&first.content).ok()?;
            Some(SealedRevision {
                content_hash: hash,
                content,
                bytes: first.content.clone(),
            })
        })
        .collect();
    out.sort_by(|a, b| {
        (a.content.revision, a.content_hash).cmp(&(b.content.revision, b.content_hash))
    });
    out
}

/// Hashes of the revisions no other revision corrects.
pub(crate) fn leaves(revisions: &[SealedRevision]) -> Vec<ContentHash> {
    let superseded: BTreeSet<ContentHash> = revisions
        .iter()
        .filter_map(|r| r.content.previous)
        .collect();
    revisions
        .iter()
        .map(|r| r.content_hash)
        .filter(|h| !superseded.contains(h))
        .collect()
}

pub(super) fn read_team(doc: &AutoCommit, visit: &ObjId) -> Result<(Vec<TeamMember>, bool)> {
    let mut conflicted = false;
    let mut team = Vec::new();
    if let Some(map) = child_map(doc, visit, "team")? {
        for key in doc.keys(&map).collect::<Vec<_>>() {
            if doc.get_all(&map, key.as_str()).map_err(am)?.len() > 1 {
                conflicted = true;
            }
            if let (Some(role), Some(worker_id)) = (role_from_str(&key), get_str(doc, &map, &key)) {
                team.push(TeamMember { role, worker_id });
            } else {
                conflicted = true;
            }
        }
    }
    team.sort();
    Ok((team, conflicted))
}

fn read_draft(doc: &AutoCommit, visit: &ObjId) -> Result<(BTreeMap<String, Json>, Vec<String>)> {
    let mut draft = BTreeMap::new();
    let mut conflicts = Vec::new();
    if let Some(map) = child_map(doc, visit, "draft")? {
        for item in doc.map_range(&map, ..) {
            if item.conflict {
                conflicts.push(item.key.to_string());
            }
            if let automerge::ValueRef::Scalar(s) = &item.value {
                let v = match s {
                    automerge::ScalarValueRef::Str(v) => Json::from(v.to_string()),
                    automerge::ScalarValueRef::Int(v) => Json::from(*v),
                    automerge::ScalarValueRef::Uint(v) => Json::from(*v),
                    automerge::ScalarValueRef::Boolean(v) => Json::from(*v),
                    _ => continue,
                };
                draft.insert(item.key.to_string(), v);
            }
        }
    }
    Ok((draft, conflicts))
}

/// Reads a visit for display: team, draft, intact revisions, whether the draft differs.
pub fn read_visit(doc: &AutoCommit, visit_id: &str) -> Result<VisitRecord> {
    let visit = require_visit(doc, visit_id)?;
    let raw = read_raw(doc, visit_id)?;
    let corrupt = |reason: &str| Error::CorruptDocument {
        id: visit_id.to_owned(),
        reason: reason.to_owned(),
    };
    let purpose = raw
        .purpose
        .as_deref()
        .and_then(Purpose::parse)
        .ok_or_else(|| corrupt("unknown purpose"))?;
    let village_code = raw
        .village_code
        .clone()
        .ok_or_else(|| corrupt("no village code"))?;
    let (team, _) = read_team(doc, &visit)?;
    let template =
        read_template(doc, &visit).ok_or_else(|| corrupt("unreadable form reference"))?;
    let (draft, draft_conflicts) = read_draft(doc, &visit)?;
    let revisions = intact_revisions(&raw);
    let latest = leaves(&revisions);
    let newest = revisions
        .iter()
        .filter(|r| latest.contains(&r.content_hash))
        .max_by_key(|r| r.content.revision);
    let draft_differs_from =
        newest.and_then(|r| (r.content.answers != draft).then_some(r.content.revision));
    Ok(VisitRecord {
        visit_id: visit_id.to_owned(),
        purpose,
        village_code,
        team,
        template,
        draft,
        draft_conflicts,
        revisions,
        latest,
        draft_differs_from,
        signature_keys: raw.signatures.iter().map(|(k, _)| k.clone()).collect(),
    })
}

/// The form a visit names: the minimal template when it names none, `None` when the
/// reference is unreadable.
fn read_template(doc: &AutoCommit, visit: &ObjId) -> Option<TemplateRef> {
    let Ok(Some((Value::Object(ObjType::Map), obj))) = doc.get(visit, TEMPLATE_KEY) else {
        return match doc.get(visit, TEMPLATE_KEY) {
            Ok(None) => Some(minimal_template().reference.clone()),
            _ => None,
        };
    };
    let version = match doc.get(&obj, "version").ok()?? {
        (Value::Scalar(v), _) => match v.as_ref() {
            ScalarValue::Int(n) => u32::try_from(*n).ok()?,
            ScalarValue::Uint(n) => u32::try_from(*n).ok()?,
            _ => return None,
        },
        _ => return None,
    };
    Some(TemplateRef {
        id: get_str(doc, &obj, "id")?,
        version,
        hash: ContentHash::from_hex(&get_str(doc, &obj, "hash")?)?,
    })
}
