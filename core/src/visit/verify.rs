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
//! [`check_integrity`] is the import gate: the structural checks that need no keys
//! ([`crate::visit::integrity`]). One signature entry is judged by [`check_signer`]
//! ([`crate::visit::signer_check`]); signing on this tablet is [`sign_content`]
//! ([`crate::visit::sign`]). All three are re-exported here.

use std::collections::BTreeSet;

use automerge::AutoCommit;
use chrono::{DateTime, Utc};
use thiserror::Error;

use crate::error::Result;
use crate::signing::attestation::{SignatureVerdict, Trust};
use crate::signing::certificate::Role;
use crate::signing::revocation::RevocationReason;
use crate::visit::content::{ContentHash, SealedContent};
use crate::visit::document_read::{read_raw, visit_ids, RawVisit};
use crate::visit::integrity::{check_entry, decode_signer};
use crate::visit::policy::{Purpose, VisitPolicy};

pub use crate::visit::integrity::check_integrity;
pub use crate::visit::sign::sign_content;
pub use crate::visit::signer_check::{check_signer, expected_for};

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

    pub(super) fn from_signature(v: SignatureVerdict) -> Self {
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

/// [`verify_visit`] of a visit already read.
pub(crate) fn verify_raw(
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
