//! Verification of a visit, for supervisors, servers and every tablet: pure functions over
//! the household document, the county authority key and the revocation list. No network.
//!
//! Per signer: valid, bad signature, unknown signer, revoked (from its effective time),
//! certificate not valid at signing time, wrong role, village not covered, duplicate
//! person, content altered, not on team, wrong record, malformed. Per revision and per
//! visit: complete, incomplete (with the missing roles) or invalid (with the reasons).
//! A revision is "altered" only when its sealed entry itself changed: the content does not
//! hash to its key, the key holds different concurrent values, or a field of the entry was
//! written after the entry was created.
//!
//! [`check_integrity`] is the import gate: the structural checks that need no keys.

use std::collections::BTreeSet;

use automerge::AutoCommit;
use chrono::{DateTime, Utc};
use thiserror::Error;

use crate::error::Result;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use crate::signing::attestation::{
    sign_visit, Expected, RecordRef, SignatureVerdict, Trust, VerifiedSignature, VisitSignature,
    VisitSignaturePayload, MAX_PAYLOAD_BYTES,
};
use crate::signing::certificate::{Role, SignedCertificate, WorkerCertificate};
use crate::signing::keys::{verify, WorkerSigner, SIGNATURE_LEN};
use crate::signing::revocation::RevocationReason;
use crate::visit::content::{parse_content, ContentHash, SealedContent};
use crate::visit::document::{read_raw, visit_ids, RawVisit};
use crate::visit::entry::{signature_key, split_signature_key, SignatureEntry};
use crate::visit::error::VisitError;
use crate::visit::policy::{Purpose, VisitPolicy};

/// The verdict on one signature.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SignerVerdict {
    /// The signature is valid and counts.
    #[error("valid")]
    Valid,
    /// The signature does not verify under the certificate's key (altered, or another key).
    #[error("the signature does not verify")]
    BadSignature,
    /// The certificate is not from the county authority, or does not belong to the signer.
    #[error("unknown signer: {0}")]
    UnknownSigner(String),
    /// The certificate was revoked before the signature was made.
    #[error("certificate revoked from {effective_at} ({reason:?})")]
    Revoked {
        /// When the revocation took effect.
        effective_at: DateTime<Utc>,
        /// Why.
        reason: RevocationReason,
    },
    /// The signature was made outside the certificate's validity period (expired).
    #[error("the certificate was not valid at the signing time {0}")]
    CertificateNotValid(DateTime<Utc>),
    /// The certificate does not grant the role signed in.
    #[error("the certificate does not grant the role {}", .0.as_str())]
    WrongRole(Role),
    /// The household's village is not among the signer's villages.
    #[error("village {0} is not among the signer's villages")]
    VillageNotCovered(String),
    /// The signer is on the team in another role: one person cannot fill two roles.
    #[error("{worker_id} is on the team as {}, and cannot also sign as another role", .team_role.as_str())]
    DuplicatePerson {
        /// The signer.
        worker_id: String,
        /// Their role on the team.
        team_role: Role,
    },
    /// The sealed content this signature is for was altered or is missing.
    #[error("the sealed content was altered: {0}")]
    ContentAltered(String),
    /// The signer is not named on the visit's team.
    #[error("the signer is not on the visit's team")]
    NotOnTeam,
    /// The signature is for another record (household, visit, revision or content).
    #[error("the signature is for another record: {0} differs")]
    WrongRecord(&'static str),
    /// The stored entry cannot be read, or is stored under a key that does not match it.
    #[error("malformed signature entry: {0}")]
    Malformed(String),
}

impl SignerVerdict {
    /// Stable code for localized messages.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Valid => "signer.valid",
            Self::BadSignature => "signer.bad_signature",
            Self::UnknownSigner(_) => "signer.unknown",
            Self::Revoked { .. } => "signer.revoked",
            Self::CertificateNotValid(_) => "signer.certificate_not_valid",
            Self::WrongRole(_) => "signer.wrong_role",
            Self::VillageNotCovered(_) => "signer.village_not_covered",
            Self::DuplicatePerson { .. } => "signer.duplicate_person",
            Self::ContentAltered(_) => "signer.content_altered",
            Self::NotOnTeam => "signer.not_on_team",
            Self::WrongRecord(_) => "signer.wrong_record",
            Self::Malformed(_) => "signer.malformed",
        }
    }

    fn from_signature(v: SignatureVerdict) -> Self {
        match v {
            SignatureVerdict::BadSignature => Self::BadSignature,
            SignatureVerdict::MalformedPayload(m) => Self::Malformed(m),
            SignatureVerdict::UnknownSigner(m) => Self::UnknownSigner(m),
            SignatureVerdict::Revoked {
                effective_at,
                reason,
            } => Self::Revoked {
                effective_at,
                reason,
            },
            SignatureVerdict::WrongRole(r) => Self::WrongRole(r),
            SignatureVerdict::VillageNotCovered(v) => Self::VillageNotCovered(v),
            SignatureVerdict::CertificateNotValidAtSigningTime(t) => Self::CertificateNotValid(t),
            SignatureVerdict::WrongRecord(f) => Self::WrongRecord(f),
        }
    }
}

/// One signature entry and its verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerCheck {
    /// The entry's key in the signatures map.
    pub key: String,
    /// Signer as claimed by the entry (unverified unless the verdict is `Valid`).
    pub worker_id: Option<String>,
    /// Signer's name from a verified certificate.
    pub name: Option<String>,
    /// Role as claimed by the entry.
    pub role: Option<Role>,
    /// Signing time as claimed by the entry.
    pub signed_at: Option<DateTime<Utc>>,
    /// The verdict.
    pub verdict: SignerVerdict,
}

/// Where one revision (or the visit) stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevisionStatus {
    /// Every required role has a valid signature from a distinct person, and nothing is wrong.
    Complete,
    /// Nothing is wrong, but these required roles have no valid signature yet.
    Incomplete {
        /// The roles still to sign.
        missing_roles: Vec<Role>,
    },
    /// The entry was altered or a signature entry is not valid.
    Invalid {
        /// What is wrong.
        reasons: Vec<String>,
    },
}

/// The verification of one sealed revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionVerification {
    /// The entry's key.
    pub content_hash: Option<ContentHash>,
    /// Its revision number, when its content could be read.
    pub revision: Option<u32>,
    /// Why the entry counts as altered, if it does.
    pub altered: Option<String>,
    /// Every signature entry for this content.
    pub signers: Vec<SignerCheck>,
    /// The outcome.
    pub status: RevisionStatus,
}

/// The outcome for a whole visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VisitStatus {
    /// Not sealed yet.
    Draft,
    /// The latest revision is complete.
    Complete {
        /// Its revision.
        revision: u32,
        /// Its hash.
        content_hash: ContentHash,
    },
    /// The latest revision waits for signatures.
    Incomplete {
        /// Its revision.
        revision: u32,
        /// Its hash.
        content_hash: ContentHash,
        /// Required roles without a valid signature.
        missing_roles: Vec<Role>,
    },
    /// Concurrent corrections: several latest revisions; a person must choose.
    Diverged {
        /// Their hashes.
        latest: Vec<ContentHash>,
    },
    /// Something was altered or a signature is not valid.
    Invalid {
        /// What is wrong.
        reasons: Vec<String>,
    },
}

/// The verification of a visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitVerification {
    /// The visit.
    pub visit_id: String,
    /// Every sealed entry, by key.
    pub revisions: Vec<RevisionVerification>,
    /// The outcome.
    pub status: VisitStatus,
}

impl VisitVerification {
    /// `true` when the latest revision is complete and nothing is wrong anywhere.
    pub fn is_complete(&self) -> bool {
        matches!(self.status, VisitStatus::Complete { .. })
    }

    /// Every signer check of every revision.
    pub fn signers(&self) -> impl Iterator<Item = &SignerCheck> {
        self.revisions.iter().flat_map(|r| r.signers.iter())
    }
}

/// The expected record of a signature on `content`.
pub fn expected_for(content: &SealedContent, content_hash: &ContentHash) -> Expected {
    Expected {
        record: RecordRef {
            household_id: content.household_id.clone(),
            visit_id: content.visit_id.clone(),
            revision: content.revision,
            content_hash: content_hash.0,
        },
        village_code: content.place.village_code.clone(),
    }
}

type CertCacheKey = ([u8; 32], [u8; 32], [u8; SIGNATURE_LEN]);

/// Certificates already verified, keyed by authority key, body hash and authority
/// signature: the same bytes under the same key always verify the same way, so checking
/// many visits verifies each worker's certificate once. Bounded; cleared when full.
fn verified_certificate(
    cert: &SignedCertificate,
    certificate_hash: [u8; 32],
    trust: &Trust,
) -> std::result::Result<WorkerCertificate, SignatureVerdict> {
    static CACHE: OnceLock<Mutex<HashMap<CertCacheKey, WorkerCertificate>>> = OnceLock::new();
    const CAPACITY: usize = 4096;
    let key = (trust.authority_key.0, certificate_hash, cert.signature);
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(hit) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return Ok(hit);
    }
    let verified = cert
        .verify(&trust.authority_key)
        .map_err(|e| SignatureVerdict::UnknownSigner(format!("certificate not accepted: {e}")))?;
    if let Ok(mut c) = cache.lock() {
        if c.len() >= CAPACITY {
            c.clear();
        }
        c.insert(key, verified.clone());
    }
    Ok(verified)
}

/// [`verify_signature`] with the certificate check cached (same checks, same order, same
/// verdicts; `signing::attestation` stays the reference).
fn verify_signature_cached(
    sig: &VisitSignature,
    cert: &SignedCertificate,
    trust: &Trust,
    expected: &Expected,
) -> std::result::Result<VerifiedSignature, SignatureVerdict> {
    let certificate_hash = cert.hash();
    let certificate = verified_certificate(cert, certificate_hash, trust)?;
    if certificate.authority_key_id != trust.authority_key_id {
        return Err(SignatureVerdict::UnknownSigner(
            "certificate names another authority key".into(),
        ));
    }
    if sig.payload_bytes.len() > MAX_PAYLOAD_BYTES
        || !verify(&certificate.public_key, &sig.payload_bytes, &sig.signature)
    {
        return Err(SignatureVerdict::BadSignature);
    }
    let payload = sig.unverified_payload()?;
    if payload.certificate_hash != certificate_hash {
        return Err(SignatureVerdict::UnknownSigner(
            "signature names another certificate".into(),
        ));
    }
    if payload.signer_worker_id != certificate.worker_id {
        return Err(SignatureVerdict::UnknownSigner(
            "signer id differs from the certificate's worker".into(),
        ));
    }
    let want = &expected.record;
    let differs = if payload.household_id != want.household_id {
        Some("household_id")
    } else if payload.visit_id != want.visit_id {
        Some("visit_id")
    } else if payload.revision != want.revision {
        Some("revision")
    } else if payload.content_hash != want.content_hash {
        Some("content_hash")
    } else {
        None
    };
    if let Some(field) = differs {
        return Err(SignatureVerdict::WrongRecord(field));
    }
    if !certificate.has_role(payload.role) {
        return Err(SignatureVerdict::WrongRole(payload.role));
    }
    if !certificate.valid_at(payload.signed_at) {
        return Err(SignatureVerdict::CertificateNotValidAtSigningTime(
            payload.signed_at,
        ));
    }
    if !certificate.covers_village(&expected.village_code) {
        return Err(SignatureVerdict::VillageNotCovered(
            expected.village_code.clone(),
        ));
    }
    if let Some(revoked) = trust
        .revocations
        .as_ref()
        .and_then(|l| l.is_revoked_at(&certificate_hash, payload.signed_at))
    {
        return Err(SignatureVerdict::Revoked {
            effective_at: revoked.effective_at,
            reason: revoked.reason,
        });
    }
    Ok(VerifiedSignature {
        payload,
        certificate,
        certificate_hash,
    })
}

/// The verdict on one signature entry for `content` stored under `key`.
pub fn check_signer(
    key: &str,
    entry: &SignatureEntry,
    content: &SealedContent,
    content_hash: &ContentHash,
    trust: &Trust,
) -> (SignerVerdict, Option<String>) {
    let verified = match verify_signature_cached(
        &entry.signature,
        &entry.certificate,
        trust,
        &expected_for(content, content_hash),
    ) {
        Ok(v) => v,
        Err(v) => return (SignerVerdict::from_signature(v), None),
    };
    let p = &verified.payload;
    let name = Some(verified.certificate.name.clone());
    if key != signature_key(content_hash, &p.signer_worker_id, p.role) {
        return (
            SignerVerdict::Malformed("stored under a key that does not match the signature".into()),
            name,
        );
    }
    let verdict = match content.role_of(&p.signer_worker_id) {
        Some(role) if role == p.role => SignerVerdict::Valid,
        Some(team_role) => SignerVerdict::DuplicatePerson {
            worker_id: p.signer_worker_id.clone(),
            team_role,
        },
        None => SignerVerdict::NotOnTeam,
    };
    (verdict, name)
}

/// Signs `content_bytes` as `role` — refused unless the tablet holds content that hashes to
/// `content_hash` and the result is a valid signature (the same checks a verifier makes).
#[allow(clippy::too_many_arguments)]
pub fn sign_content(
    content_bytes: &[u8],
    content_hash: &ContentHash,
    role: Role,
    signer: &WorkerSigner,
    certificate: &SignedCertificate,
    trust: &Trust,
    signed_at: DateTime<Utc>,
) -> std::result::Result<SignatureEntry, VisitError> {
    if ContentHash::of(content_bytes) != *content_hash {
        return Err(VisitError::ContentNotHeld {
            content_hash: content_hash.to_hex(),
        });
    }
    let content = parse_content(content_bytes)?;
    let cert = certificate.verify(&trust.authority_key).map_err(|e| {
        VisitError::NotPermitted(SignerVerdict::UnknownSigner(format!(
            "certificate not accepted: {e}"
        )))
    })?;
    let expected = expected_for(&content, content_hash);
    let payload = VisitSignaturePayload::new(
        &expected.record,
        certificate,
        &cert.worker_id,
        role,
        signed_at,
    );
    let signature = sign_visit(signer, &payload).map_err(VisitError::Sign)?;
    let entry = SignatureEntry {
        signature,
        certificate: certificate.clone(),
    };
    let key = signature_key(content_hash, &cert.worker_id, role);
    match check_signer(&key, &entry, &content, content_hash, trust).0 {
        SignerVerdict::Valid => Ok(entry),
        verdict => Err(VisitError::NotPermitted(verdict)),
    }
}

/// Verifies one visit of the document.
pub fn verify_visit(
    doc: &AutoCommit,
    visit_id: &str,
    policy: &VisitPolicy,
    trust: &Trust,
) -> Result<VisitVerification> {
    let raw = read_raw(doc, visit_id)?;
    Ok(verify_raw(&raw, visit_id, policy, trust))
}

/// Verifies every visit of the document.
pub fn verify_all(
    doc: &AutoCommit,
    policy: &VisitPolicy,
    trust: &Trust,
) -> Result<Vec<VisitVerification>> {
    visit_ids(doc)?
        .iter()
        .map(|id| verify_visit(doc, id, policy, trust))
        .collect()
}

/// Why the sealed entry under `key` counts as altered, or its content.
fn check_entry(
    raw: &RawVisit,
    visit_id: &str,
    key: &str,
    values: &[std::result::Result<crate::visit::document::RawEntry, String>],
) -> std::result::Result<(ContentHash, SealedContent), String> {
    let hash = ContentHash::from_hex(key).ok_or("the entry's key is not a content hash")?;
    let mut first: Option<&crate::visit::document::RawEntry> = None;
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

fn decode_signer(key: &str, bytes: Option<&Vec<u8>>) -> (Option<SignatureEntry>, SignerCheck) {
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

fn verify_raw(
    raw: &RawVisit,
    visit_id: &str,
    policy: &VisitPolicy,
    trust: &Trust,
) -> VisitVerification {
    let mut visit_reasons: Vec<String> = raw.problems.clone();
    // Each entry's content is parsed once.
    let first_pass: Vec<std::result::Result<(ContentHash, SealedContent), String>> = raw
        .sealed
        .iter()
        .map(|(key, values)| check_entry(raw, visit_id, key, values))
        .collect();
    let intact: Vec<(ContentHash, u32, Option<ContentHash>)> = first_pass
        .iter()
        .flatten()
        .map(|(h, c)| (*h, c.revision, c.previous))
        .collect();
    let mut revisions = Vec::with_capacity(raw.sealed.len());
    let mut sealed_keys = BTreeSet::new();
    for ((key, _), first) in raw.sealed.iter().zip(first_pass) {
        sealed_keys.insert(key.as_str());
        let mut rv = RevisionVerification {
            content_hash: ContentHash::from_hex(key),
            revision: None,
            altered: None,
            signers: Vec::new(),
            status: RevisionStatus::Complete,
        };
        let checked = first.and_then(|(hash, content)| match content.previous {
            Some(p)
                if !intact
                    .iter()
                    .any(|(h, revision, _)| *h == p && revision + 1 == content.revision) =>
            {
                Err("the revision it corrects is missing or altered".to_owned())
            }
            _ => Ok((hash, content)),
        });
        let prefix = format!("{key}/");
        let entries = raw
            .signatures
            .iter()
            .filter(|(k, _)| k.starts_with(&prefix));
        match checked {
            Err(why) => {
                rv.altered = Some(why.clone());
                for (k, values) in entries {
                    for v in values {
                        let (_, mut check) = decode_signer(k, v.as_ref());
                        check.verdict = SignerVerdict::ContentAltered(why.clone());
                        rv.signers.push(check);
                    }
                }
                rv.status = RevisionStatus::Invalid { reasons: vec![why] };
            }
            Ok((hash, content)) => {
                rv.revision = Some(content.revision);
                for (k, values) in entries {
                    for v in values {
                        let (entry, mut check) = decode_signer(k, v.as_ref());
                        if let Some(entry) = entry {
                            let (verdict, name) = check_signer(k, &entry, &content, &hash, trust);
                            check.verdict = verdict;
                            check.name = name;
                        }
                        rv.signers.push(check);
                    }
                }
                rv.status = revision_status(&content.purpose, &rv.signers, policy);
            }
        }
        if let RevisionStatus::Invalid { reasons } = &rv.status {
            visit_reasons.extend(reasons.iter().map(|r| format!("revision {key}: {r}")));
        }
        revisions.push(rv);
    }
    for (k, _) in &raw.signatures {
        let hash_part = k.split('/').next().unwrap_or_default();
        if !sealed_keys.contains(hash_part) {
            visit_reasons.push(format!(
                "signature {k} is for a sealed entry that is missing"
            ));
        }
    }
    let status = if !visit_reasons.is_empty() {
        VisitStatus::Invalid {
            reasons: visit_reasons,
        }
    } else {
        let superseded: BTreeSet<ContentHash> = intact.iter().filter_map(|(_, _, p)| *p).collect();
        let mut latest: Vec<ContentHash> = intact
            .iter()
            .map(|(h, _, _)| *h)
            .filter(|h| !superseded.contains(h))
            .collect();
        latest.sort();
        match latest.as_slice() {
            [] => VisitStatus::Draft,
            [one] => {
                let rv = revisions
                    .iter()
                    .find(|r| r.content_hash.as_ref() == Some(one));
                match (rv.map(|r| &r.status), rv.and_then(|r| r.revision)) {
                    (Some(RevisionStatus::Complete), Some(revision)) => VisitStatus::Complete {
                        revision,
                        content_hash: *one,
                    },
                    (Some(RevisionStatus::Incomplete { missing_roles }), Some(revision)) => {
                        VisitStatus::Incomplete {
                            revision,
                            content_hash: *one,
                            missing_roles: missing_roles.clone(),
                        }
                    }
                    _ => VisitStatus::Invalid {
                        reasons: vec!["the latest revision cannot be read".into()],
                    },
                }
            }
            _ => VisitStatus::Diverged { latest },
        }
    };
    VisitVerification {
        visit_id: visit_id.to_owned(),
        revisions,
        status,
    }
}

fn revision_status(
    purpose: &Purpose,
    signers: &[SignerCheck],
    policy: &VisitPolicy,
) -> RevisionStatus {
    let reasons: Vec<String> = signers
        .iter()
        .filter(|s| s.verdict != SignerVerdict::Valid)
        .map(|s| format!("signature {}: {}", s.key, s.verdict))
        .collect();
    if !reasons.is_empty() {
        return RevisionStatus::Invalid { reasons };
    }
    let missing_roles: Vec<Role> = policy
        .required_roles(*purpose)
        .into_iter()
        .filter(|role| {
            !signers
                .iter()
                .any(|s| s.role == Some(*role) && s.verdict == SignerVerdict::Valid)
        })
        .collect();
    if missing_roles.is_empty() {
        RevisionStatus::Complete
    } else {
        RevisionStatus::Incomplete { missing_roles }
    }
}

/// The import gate: every visit's sealed entries are intact and every signature entry is
/// well-formed and stored under its own key. Needs no keys; returns what is wrong.
pub fn check_integrity(doc: &AutoCommit) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    for visit_id in visit_ids(doc)? {
        let raw = match read_raw(doc, &visit_id) {
            Ok(raw) => raw,
            Err(e) => {
                problems.push(format!("visit {visit_id}: {e}"));
                continue;
            }
        };
        problems.extend(
            raw.problems
                .iter()
                .map(|p| format!("visit {visit_id}: {p}")),
        );
        let mut sealed = BTreeSet::new();
        for (key, values) in &raw.sealed {
            match check_entry(&raw, &visit_id, key, values) {
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
                        if signature_key(
                            &ContentHash(p.content_hash),
                            &p.signer_worker_id,
                            p.role,
                        ) == *key
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
    }
    Ok(problems)
}
