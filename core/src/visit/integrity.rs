//! The import gate: the structural checks of every visit in a household document that need
//! no keys — each sealed entry intact (its content hashes to its key, one value, every field
//! written with the entry, content belonging to this household and visit), and each
//! signature entry well-formed and stored under its own key. Verification
//! ([`crate::visit::verify`]) shares the sealed-entry check.

use std::collections::BTreeSet;

use automerge::AutoCommit;

use crate::error::Result;
use crate::signing::certificate::Role;
use crate::visit::content::{parse_content, ContentHash, SealedContent};
use crate::visit::document_read::{read_raw, visit_ids, RawEntry, RawVisit};
use crate::visit::entry::{signature_key, split_signature_key, SignatureEntry};
use crate::visit::error::VisitError;
use crate::visit::verify::{SignerCheck, SignerVerdict};

/// Why the sealed entry under `key` counts as altered, or its content.
pub(super) fn check_entry(
    raw: &RawVisit,
    visit_id: &str,
    key: &str,
    values: &[std::result::Result<RawEntry, String>],
) -> std::result::Result<(ContentHash, SealedContent), String> {
    let hash = ContentHash::from_hex(key).ok_or("the entry's key is not a content hash")?;
    let mut first: Option<&RawEntry> = None;
    for value in values {
        let entry = value.as_ref().map_err(Clone::clone)?;
        match first {
            None => first = Some(entry),
            Some(f) if f == entry => {}
            Some(_) => return Err("the entry holds different concurrent values".into()),
        }
    }
    let entry = first.ok_or("the entry is empty")?;
    if ContentHash::of(&entry.content) != hash {
        return Err("the content does not hash to its key".into());
    }
    let content = parse_content(&entry.content).map_err(|e| match e {
        VisitError::UnsupportedFormat(_) => e.to_string(),
        e => format!("the content is not a valid record: {e}"),
    })?;
    if raw.household_id.as_deref() != Some(content.household_id.as_str())
        || content.visit_id != visit_id
    {
        return Err("the content belongs to another household or visit".into());
    }
    if entry.sealed_by != content.sealed_by || entry.sealed_at != content.sealed_at.timestamp() {
        return Err("the entry's sealed_by/sealed_at differ from the sealed content".into());
    }
    Ok((hash, content))
}

pub(super) fn decode_signer(
    key: &str,
    bytes: Option<&Vec<u8>>,
) -> (Option<SignatureEntry>, SignerCheck) {
    let parts = split_signature_key(key);
    let mut check = SignerCheck {
        key: key.to_owned(),
        worker_id: parts.map(|(_, w, _)| w.to_owned()),
        name: None,
        role: parts.and_then(|(_, _, r)| Role::ALL.into_iter().find(|x| x.as_str() == r)),
        signed_at: None,
        verdict: SignerVerdict::Valid,
    };
    let decoded = match bytes {
        None => Err("the entry is not bytes".to_owned()),
        Some(b) => SignatureEntry::decode(b),
    };
    match decoded {
        Ok(entry) => {
            if let Ok(p) = entry.signature.unverified_payload() {
                check.signed_at = Some(p.signed_at);
            }
            (Some(entry), check)
        }
        Err(why) => {
            check.verdict = SignerVerdict::Malformed(why);
            (None, check)
        }
    }
}

/// The import gate: every visit's sealed entries are intact and every signature entry is
/// well-formed and stored under its own key. Needs no keys; returns what is wrong.
pub fn check_integrity(doc: &AutoCommit) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    for visit_id in visit_ids(doc)? {
        match read_raw(doc, &visit_id) {
            Ok(raw) => problems.extend(visit_problems(&raw, &visit_id)),
            Err(e) => problems.push(format!("visit {visit_id}: {e}")),
        }
    }
    Ok(problems)
}

/// The attachments listed by the intact sealed entry `key` of a visit already read.
pub(crate) fn sealed_attachments(raw: &RawVisit, visit_id: &str, key: &str) -> Vec<ContentHash> {
    raw.sealed
        .iter()
        .filter(|(k, _)| k == key)
        .filter_map(|(k, values)| check_entry(raw, visit_id, k, values).ok())
        .flat_map(|(_, content)| content.attachments)
        .collect()
}

/// [`check_integrity`] of one visit already read.
pub(crate) fn visit_problems(raw: &RawVisit, visit_id: &str) -> Vec<String> {
    let mut problems: Vec<String> = raw
        .problems
        .iter()
        .map(|p| format!("visit {visit_id}: {p}"))
        .collect();
    let mut sealed = BTreeSet::new();
    for (key, values) in &raw.sealed {
        match check_entry(raw, visit_id, key, values) {
            Ok(_) => {
                sealed.insert(key.as_str());
            }
            Err(why) if why.contains("not supported") => {
                sealed.insert(key.as_str());
            }
            Err(why) => problems.push(format!(
                "visit {visit_id}: sealed entry {key} was altered: {why}"
            )),
        }
    }
    for (key, values) in &raw.signatures {
        for value in values {
            let (entry, check) = decode_signer(key, value.as_ref());
            if let SignerVerdict::Malformed(why) = check.verdict {
                problems.push(format!("visit {visit_id}: signature {key}: {why}"));
                continue;
            }
            let Some(entry) = entry else { continue };
            match entry.signature.unverified_payload() {
                Ok(p)
                    if signature_key(&ContentHash(p.content_hash), &p.signer_worker_id, p.role)
                        == *key
                        && p.visit_id == visit_id
                        && raw.household_id.as_deref() == Some(p.household_id.as_str()) => {}
                Ok(_) => problems.push(format!(
                    "visit {visit_id}: signature {key} is stored under another record's key"
                )),
                Err(e) => problems.push(format!("visit {visit_id}: signature {key}: {e}")),
            }
            if !sealed.contains(key.split('/').next().unwrap_or_default()) {
                problems.push(format!(
                    "visit {visit_id}: signature {key} is for a sealed entry that is missing"
                ));
            }
        }
    }
    problems
}
