//! The acceptance checks for incoming changes of one household — the same code on the server
//! and on every tablet that imports changes from the server or from a colleague.
//!
//! Per change: it decodes (under size limits, where a decoder panic becomes a refusal), its
//! signer's certificate is known, valid now and not revoked, the signature covers this
//! household and this change hash, and its actor id is not bound to another worker. A change
//! that fails is refused, and so is every change of the batch that depends on it. The rest is
//! applied to a **fork** of the household; the fork must still be this household (schema,
//! single id), every signer must cover its village, the sealed entries of every visit the
//! changes create or write in must be intact (the others passed when they arrived; see
//! `touched.rs`), care events only added (never altered or deleted), and every new visit
//! signature must verify (signer on the team, in role, in scope). Only then does the fork
//! replace the document.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::panic::{catch_unwind, AssertUnwindSafe};

use automerge::{AutoCommit, Change, ChangeHash, ReadDoc, ROOT};
use chrono::{DateTime, Utc};

use super::messages::{SignedChange, MAX_CHANGE_BYTES};
use super::signatures::verify_change;
use crate::household::{read_own_fields, Household};
use crate::signing::attestation::Trust;
use crate::signing::certificate::WorkerCertificate;
use crate::visit::content::ContentHash;
use crate::visit::document_read::{read_raw, sealed_entry_keys, signature_entry_keys, visit_ids};
use crate::visit::integrity::{sealed_attachments, visit_problems};
use crate::visit::policy::VisitPolicy;
use crate::visit::verify::{verify_raw, SignerVerdict};

/// What the checks need to know besides the document.
pub struct IngestContext<'a> {
    /// The county authority and the revocation list.
    pub trust: &'a Trust,
    /// Verified certificates by hash.
    pub certificates: &'a HashMap<[u8; 32], WorkerCertificate>,
    /// The worker an actor id is already bound to, if any.
    pub actor_worker: &'a dyn Fn(&[u8]) -> Option<String>,
    pub policy: &'a VisitPolicy,
    /// Receipt time (the receiver's clock, never the sender's).
    pub now: DateTime<Utc>,
}

impl std::fmt::Debug for IngestContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IngestContext")
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

/// An accepted change, with who wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedChange {
    pub hash: [u8; 32],
    pub signed: SignedChange,
    /// Worker id of the signer (the change's author).
    pub author: String,
    /// The change's actor id.
    pub actor: Vec<u8>,
}

/// A refused change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedChange {
    /// The change hash (SHA-256 of the bytes when they do not even decode).
    pub hash: [u8; 32],
    pub code: &'static str,
    pub detail: String,
}

/// The result of checking one household's incoming changes.
#[derive(Debug, Default)]
pub struct Ingested {
    /// Newly accepted changes, in applying order (already-known changes are not repeated).
    pub accepted: Vec<AcceptedChange>,
    /// Individually refused changes.
    pub refused: Vec<RefusedChange>,
    /// The whole batch was refused after applying it: code and reason.
    pub rejection: Option<(&'static str, String)>,
    /// The batch depends on changes the receiver does not have; nothing was applied.
    pub held: bool,
    /// The household's village after ingesting (if it is a household).
    pub village_code: Option<String>,
    /// The household's own fields after ingesting, when changes were accepted.
    pub household: Option<Household>,
    /// The attachments listed by the sealed entries these changes added (sorted, unique):
    /// a server holds the changes until it has their bytes; a tablet fetches them.
    pub new_attachments: Vec<ContentHash>,
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref());
    out
}

fn refuse(hash: [u8; 32], code: &'static str, detail: impl Into<String>) -> RefusedChange {
    RefusedChange {
        hash,
        code,
        detail: detail.into(),
    }
}

/// Checks `incoming` against `doc` (the receiver's accepted state of `household_id`, empty for
/// a household it has not seen) and, if they pass, applies them to `doc`.
pub fn ingest(
    doc: &mut AutoCommit,
    household_id: &str,
    incoming: Vec<SignedChange>,
    ctx: &IngestContext<'_>,
) -> Ingested {
    let mut out = Ingested::default();
    let mut candidates: Vec<(Change, SignedChange, &WorkerCertificate)> = Vec::new();
    let mut bindings: HashMap<Vec<u8>, String> = HashMap::new();
    let mut refused_hashes: HashSet<ChangeHash> = HashSet::new();
    let mut seen: HashSet<ChangeHash> = HashSet::new();

    for signed in incoming {
        if signed.change.len() > MAX_CHANGE_BYTES {
            out.refused.push(refuse(
                sha256(&signed.change),
                "sync.change_too_large",
                "change over the size limit",
            ));
            continue;
        }
        let decoded = catch_unwind(AssertUnwindSafe(|| {
            Change::from_bytes(signed.change.clone())
        }));
        let change = match decoded {
            Ok(Ok(change)) => change,
            _ => {
                out.refused.push(refuse(
                    sha256(&signed.change),
                    "sync.undecodable",
                    "the change bytes do not decode",
                ));
                continue;
            }
        };
        let hash = change.hash();
        if !seen.insert(hash) || doc.get_change_by_hash(&hash).is_some() {
            continue; // already known: accepting it again changes nothing
        }
        let Some(cert) = ctx.certificates.get(&signed.signer) else {
            out.refused.push(refuse(
                hash.0,
                "sync.unknown_signer",
                "the signer's certificate is not known",
            ));
            refused_hashes.insert(hash);
            continue;
        };
        // A change the server already accepted is judged at the server's receipt time (never
        // later than now); a pushed one at now.
        let at = match signed.received_at {
            0 => ctx.now,
            t => DateTime::from_timestamp(i64::try_from(t).unwrap_or(i64::MAX), 0)
                .map_or(ctx.now, |t| t.min(ctx.now)),
        };
        if let Some(problem) = certificate_problem(cert, &signed.signer, ctx, at) {
            out.refused.push(refuse(hash.0, problem.0, problem.1));
            refused_hashes.insert(hash);
            continue;
        }
        if !verify_change(&signed, household_id, &hash.0, &cert.public_key) {
            out.refused.push(refuse(
                hash.0,
                "sync.bad_change_signature",
                "the change signature does not verify",
            ));
            refused_hashes.insert(hash);
            continue;
        }
        let actor = change.actor_id().to_bytes().to_vec();
        let bound = bindings
            .get(&actor)
            .cloned()
            .or_else(|| (ctx.actor_worker)(&actor));
        if let Some(owner) = bound.filter(|w| *w != cert.worker_id) {
            out.refused.push(refuse(
                hash.0,
                "sync.actor_of_another_worker",
                format!("actor {} belongs to worker {owner}", hex::encode(&actor)),
            ));
            refused_hashes.insert(hash);
            continue;
        }
        bindings.insert(actor, cert.worker_id.clone());
        candidates.push((change, signed, cert));
    }

    // Refuse the dependents of refused changes, transitively, in batch order.
    let mut kept = Vec::with_capacity(candidates.len());
    for (change, signed, cert) in candidates {
        if change.deps().iter().any(|d| refused_hashes.contains(d)) {
            refused_hashes.insert(change.hash());
            out.refused.push(refuse(
                change.hash().0,
                "sync.depends_on_refused",
                "depends on a refused change",
            ));
        } else {
            kept.push((change, signed, cert));
        }
    }
    if kept.is_empty() {
        out.village_code = village_of(doc);
        return out;
    }

    let mut fork = doc.fork();
    let changes: Vec<Change> = kept.iter().map(|(c, _, _)| c.clone()).collect();
    let applied = catch_unwind(AssertUnwindSafe(|| fork.apply_changes(changes)));
    if !matches!(applied, Ok(Ok(()))) {
        out.rejection = Some((
            "sync.apply_failed",
            "the changes could not be applied".into(),
        ));
        return out;
    }
    if !fork.get_missing_deps(&[]).is_empty() {
        out.held = true;
        return out;
    }
    let household = match check_household(doc, &fork, household_id, &kept, ctx) {
        Ok((household, attachments)) => {
            out.new_attachments = attachments;
            household
        }
        Err((code, detail)) => {
            out.rejection = Some((code, detail));
            return out;
        }
    };
    out.village_code = Some(household.profile.village_code.clone());
    out.household = Some(household);
    fork.set_actor(doc.get_actor().clone());
    *doc = fork;
    out.accepted = kept
        .into_iter()
        .map(|(change, signed, cert)| AcceptedChange {
            hash: change.hash().0,
            author: cert.worker_id.clone(),
            actor: change.actor_id().to_bytes().to_vec(),
            signed,
        })
        .collect();
    out
}

fn certificate_problem(
    cert: &WorkerCertificate,
    hash: &[u8; 32],
    ctx: &IngestContext<'_>,
    at: DateTime<Utc>,
) -> Option<(&'static str, String)> {
    if !cert.valid_at(at) {
        return Some((
            "sync.certificate_not_valid",
            format!("certificate of {} is not valid now", cert.worker_id),
        ));
    }
    let revoked = ctx
        .trust
        .revocations
        .as_ref()
        .and_then(|list| list.is_revoked_at(hash, at));
    revoked.map(|r| {
        (
            "sync.certificate_revoked",
            format!(
                "certificate of {} revoked from {}",
                cert.worker_id, r.effective_at
            ),
        )
    })
}

fn village_of(doc: &AutoCommit) -> Option<String> {
    read_own_fields(doc).ok().map(|h| h.profile.village_code)
}

/// The checks of the merged result. Each visit the changes create or write in is read once
/// from `after`: its sealed entries and signature entries are checked for integrity, and the
/// signatures it gained are verified. Visits the changes do not write in are not read.
fn check_household(
    before: &AutoCommit,
    after: &AutoCommit,
    household_id: &str,
    kept: &[(Change, SignedChange, &WorkerCertificate)],
    ctx: &IngestContext<'_>,
) -> Result<(Household, Vec<ContentHash>), (&'static str, String)> {
    let ids = after
        .get_all(ROOT, "id")
        .map_err(|e| ("sync.not_a_household", e.to_string()))?;
    if ids.len() != 1 || ids[0].0.as_str() != Some(household_id) {
        return Err((
            "sync.not_a_household",
            format!("the changes do not describe household {household_id}"),
        ));
    }
    let household = read_own_fields(after).map_err(|e| ("sync.schema", e.to_string()))?;
    let village_before = village_of(before);
    for (_, _, cert) in kept {
        for village in village_before
            .iter()
            .chain(std::iter::once(&household.profile.village_code))
        {
            if !cert.covers_village(village) {
                return Err((
                    "sync.out_of_scope",
                    format!(
                        "{} may not write households of village {village}",
                        cert.worker_id
                    ),
                ));
            }
        }
    }
    let incoming: Vec<&Change> = kept.iter().map(|(c, _, _)| c).collect();
    // The operations of the changes, decoded once for the care rule and the visits touched.
    let decoded = super::ops::new_operations(before, &incoming);
    // Only a household with a care section before or after the changes can have its care
    // events altered.
    let has_care = crate::care::document::has_care;
    if has_care(before) || has_care(after) {
        let violation = match &decoded {
            Some(decoded) => crate::care::integrity::violation_in(before, decoded),
            None => Some("a change could not be read".into()),
        };
        if let Some(why) = violation {
            return Err((crate::care::integrity::EVENT_ALTERED, why));
        }
    }
    // Visits the changes neither create nor write in passed these checks when they arrived.
    let touched = decoded
        .as_deref()
        .and_then(|decoded| super::touched::touched_visits(before, decoded));
    let existing: BTreeSet<String> = visit_ids(before).unwrap_or_default().into_iter().collect();
    let mut attachments = BTreeSet::new();
    for visit_id in visit_ids(after).map_err(|e| ("sync.visits", e.to_string()))? {
        if existing.contains(&visit_id) && touched.as_ref().is_some_and(|t| !t.contains(&visit_id))
        {
            continue;
        }
        let old_keys: BTreeSet<String> = signature_entry_keys(before, &visit_id)
            .into_iter()
            .collect();
        let raw = read_raw(after, &visit_id).map_err(|e| ("sync.visits", e.to_string()))?;
        if let Some(problem) = visit_problems(&raw, &visit_id).into_iter().next() {
            return Err(("sync.sealed_entry_altered", problem));
        }
        let old_sealed = sealed_entry_keys(before, &visit_id);
        for (key, _) in raw.sealed.iter().filter(|(k, _)| !old_sealed.contains(k)) {
            attachments.extend(sealed_attachments(&raw, &visit_id, key));
        }
        let is_new = |key: &String| !old_keys.contains(key);
        if !raw.signatures.iter().any(|(key, _)| is_new(key)) {
            continue;
        }
        let verified = verify_raw(&raw, &visit_id, ctx.policy, ctx.trust);
        for signer in verified.signers() {
            if is_new(&signer.key) && signer.verdict != SignerVerdict::Valid {
                return Err((
                    "sync.visit_signature_invalid",
                    format!(
                        "visit {} signature {}: {}",
                        visit_id, signer.key, signer.verdict
                    ),
                ));
            }
        }
    }
    // Photos named by new care events travel and are held like a sealed visit's.
    attachments.extend(crate::care::document::added_photos(before, after));
    Ok((household, attachments.into_iter().collect()))
}
