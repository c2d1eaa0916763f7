//! Verification of a visit together with its attachments: every photo or signature image a
//! sealed revision lists must be present and hash to its name, otherwise the visit is invalid.
//! The signatures cover the record, the record covers the attachment hashes, so an attachment
//! altered anywhere it is stored breaks the visit that signed it.

use automerge::AutoCommit;

use super::content::ContentHash;
use super::document_read::read_visit;
use super::policy::VisitPolicy;
use super::verify::{verify_visit, VisitStatus, VisitVerification};
use crate::error::Result;
use crate::signing::attestation::Trust;

/// [`verify_visit`], then each attachment of each intact sealed revision checked with
/// `fetch` (its stored bytes, `None` when absent). Problems turn the status into
/// [`VisitStatus::Invalid`] with one reason per attachment.
pub fn verify_visit_with_attachments(
    doc: &AutoCommit,
    visit_id: &str,
    policy: &VisitPolicy,
    trust: &Trust,
    fetch: &dyn Fn(&ContentHash) -> Option<Vec<u8>>,
) -> Result<VisitVerification> {
    let mut verification = verify_visit(doc, visit_id, policy, trust)?;
    let record = read_visit(doc, visit_id)?;
    let mut reasons = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for revision in &record.revisions {
        for hash in &revision.content.attachments {
            if !seen.insert(*hash) {
                continue;
            }
            match fetch(hash) {
                None => reasons.push(format!("attachment {} is missing", hash.to_hex())),
                Some(bytes) if ContentHash::of(&bytes) != *hash => reasons.push(format!(
                    "attachment {} was altered: its bytes no longer hash to the signed value",
                    hash.to_hex()
                )),
                Some(_) => {}
            }
        }
    }
    if !reasons.is_empty() {
        verification.status = match verification.status {
            VisitStatus::Invalid { reasons: mut old } => {
                old.extend(reasons);
                VisitStatus::Invalid { reasons: old }
            }
            _ => VisitStatus::Invalid { reasons },
        };
    }
    Ok(verification)
}
