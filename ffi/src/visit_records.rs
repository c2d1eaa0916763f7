//! Records of signed home visits crossing the boundary, and their conversion to and from
//! core types.
//!
//! Roles (`township_leader`, `village_cadre`, `case_handler`, `county_supervisor`),
//! purposes (`new_application`, `periodic_review`, `gradual_exit_review`,
//! `county_spot_check`, `care_visit`) and remote modes (`phone`, `video`) travel as their
//! stable strings; hashes and keys as lowercase hex; times as seconds since 1970-01-01 UTC;
//! answers as JSON text. What the app passes in that cannot be read is an `InvalidInput`
//! naming the argument (codes `code.unknown`, `hex`, `json`, `time`).

use chrono::{DateTime, Utc};
use ruhu_core::signing::certificate::{Role, Scope, WorkerCertificate};
use ruhu_core::signing::keys::PublicKey;
use ruhu_core::store::VisitSummary;
use ruhu_core::visit::cosign::ReceivedContent;
use ruhu_core::visit::verify::{SignerCheck, VisitStatus};
use ruhu_core::visit::{
    ContentHash, Gps, Place, Purpose, RemoteMode, SealDetails, SealedContent, SealedRevision,
    TeamMember, VisitRecord, VisitVerification,
};
use serde::de::DeserializeOwned;
use serde_json::Value as Json;

use crate::error::FfiError;
use crate::records::{code, code_of};

/// One member of a visit's team.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TeamMemberData {
    pub worker_id: String,
    /// `township_leader`, `village_cadre`, `case_handler`, `county_supervisor`.
    pub role: String,
}

/// One draft answer. `value_json` is JSON text (`"\"difficult\""`, `"1860000"`, `"true"`);
/// `null` removes the answer when editing.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AnswerData {
    pub key: String,
    pub value_json: Option<String>,
}

/// A GPS position in 1e-7 degrees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct GpsData {
    pub lat_e7: i64,
    pub lon_e7: i64,
}

/// Where a visit took place.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PlaceData {
    /// 12-digit code of the household's village (must be the visit's village).
    pub village_code: String,
    pub address: String,
    #[uniffi(default)]
    pub gps: Option<GpsData>,
}

/// What the sealing tablet adds to the draft answers when sealing.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SealData {
    pub place: PlaceData,
    /// When the team was in the household.
    pub visited_at_unix: i64,
    /// `null` for the first seal; the corrected revision's content hash for a correction.
    #[uniffi(default)]
    pub previous_hash_hex: Option<String>,
    /// `phone` or `video` when an emergency was handled remotely.
    #[uniffi(default)]
    pub emergency_remote: Option<String>,
    /// SHA-256 (hex) of photos and the household member's signature image.
    #[uniffi(default)]
    pub attachment_hashes_hex: Vec<String>,
    /// Scoring block as JSON (forms issue).
    #[uniffi(default)]
    pub scoring_json: Option<String>,
}

/// A sealed record's content, as the co-signer's tablet shows it before signing.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SealedContentData {
    pub household_id: String,
    pub visit_id: String,
    pub revision: u32,
    pub previous_hash_hex: Option<String>,
    pub purpose: String,
    pub team: Vec<TeamMemberData>,
    pub template_id: String,
    pub template_version: u32,
    pub answers: Vec<AnswerData>,
    pub attachment_hashes_hex: Vec<String>,
    pub scoring_json: Option<String>,
    pub place: PlaceData,
    pub visited_at_unix: i64,
    pub emergency_remote: Option<String>,
    pub sealed_by: String,
    pub sealed_at_unix: i64,
}

/// One sealed revision: its content hash (what every team member signs) and content.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SealedRevisionData {
    pub content_hash_hex: String,
    pub revision: u32,
    pub content: SealedContentData,
}

/// A visit as the app shows it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VisitData {
    pub visit_id: String,
    pub purpose: String,
    pub village_code: String,
    /// Sorted by role.
    pub team: Vec<TeamMemberData>,
    pub draft: Vec<AnswerData>,
    /// Draft keys holding values from several tablets (the next edit settles them).
    pub draft_conflicts: Vec<String>,
    /// Intact sealed revisions, by revision.
    pub revisions: Vec<SealedRevisionData>,
    /// More than one after concurrent corrections.
    pub latest_hashes_hex: Vec<String>,
    /// Set when the draft differs from this latest sealed revision: "start a correction".
    pub draft_differs_from: Option<u32>,
    pub signature_keys: Vec<String>,
    /// The form the visit is filled with (`home-visit-minimal` for the built-in minimal one).
    pub template_id: String,
    pub template_version: u32,
    pub template_hash_hex: String,
}

/// The verdict on one signature entry.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SignerVerdictData {
    /// The sealed revision the signature is for.
    pub content_hash_hex: Option<String>,
    pub revision: Option<u32>,
    /// The entry's key in the visit's signatures.
    pub key: String,
    /// As claimed by the entry (verified only when `verdict` is `signer.valid`).
    pub worker_id: Option<String>,
    /// From the verified certificate.
    pub name: Option<String>,
    pub role: Option<String>,
    pub signed_at_unix: Option<i64>,
    /// `signer.valid`, `signer.bad_signature`, `signer.unknown`, `signer.revoked`,
    /// `signer.certificate_not_valid`, `signer.wrong_role`, `signer.village_not_covered`,
    /// `signer.duplicate_person`, `signer.content_altered`, `signer.not_on_team`,
    /// `signer.wrong_record`, `signer.malformed`.
    pub verdict: String,
    /// English text for logs.
    pub detail: String,
}

/// The verification of a visit.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VisitVerificationData {
    pub visit_id: String,
    /// `draft`, `complete`, `incomplete`, `diverged` or `invalid`.
    pub status: String,
    /// The latest revision (complete or incomplete).
    pub revision: Option<u32>,
    pub content_hash_hex: Option<String>,
    /// Required roles without a valid signature (incomplete).
    pub missing_roles: Vec<String>,
    /// The competing latest revisions (diverged).
    pub latest_hashes_hex: Vec<String>,
    /// What is wrong (invalid).
    pub reasons: Vec<String>,
    /// Every signature entry of every revision.
    pub signers: Vec<SignerVerdictData>,
}

/// One line of a visit list.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VisitSummaryData {
    pub visit_id: String,
    pub household_id: String,
    pub village_code: String,
    pub purpose: String,
    /// `draft`, `incomplete`, `complete`, `diverged`, `invalid` or `unverified`.
    pub status: String,
    pub revision: Option<u32>,
    pub latest_hash_hex: Option<String>,
    pub missing_roles: Vec<String>,
    pub team: Vec<TeamMemberData>,
    /// Team members whose signature is missing.
    pub missing_signers: Vec<TeamMemberData>,
}

/// A worker certificate accepted by this tablet.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct WorkerCertificateData {
    pub worker_id: String,
    pub name: String,
    pub roles: Vec<String>,
    /// The villages covered (empty for a county-wide certificate).
    pub villages: Vec<String>,
    /// Set for a county-wide certificate.
    pub county_code: Option<String>,
    pub public_key_hex: String,
    pub valid_from_unix: i64,
    pub valid_until_unix: i64,
}

/// Where the scanning of a sealed record's QR codes stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct ChunkProgressData {
    /// The chunk was scanned before (ignored).
    pub duplicate: bool,
    pub received: u32,
    pub total: u32,
}

// --- from the app -------------------------------------------------------------------------

pub(crate) fn role(field: &str, text: &str) -> Result<Role, FfiError> {
    code(field, text)
}

pub(crate) fn purpose(text: &str) -> Result<Purpose, FfiError> {
    code("purpose", text)
}

pub(crate) fn content_hash(field: &str, text: &str) -> Result<ContentHash, FfiError> {
    ContentHash::from_hex(text)
        .ok_or_else(|| FfiError::invalid(field, "hex", "expected 64 lowercase hex digits"))
}

pub(crate) fn public_key(field: &str, text: &str) -> Result<PublicKey, FfiError> {
    PublicKey::from_hex(text)
        .ok_or_else(|| FfiError::invalid(field, "hex", "expected 64 lowercase hex digits"))
}

pub(crate) fn json<T: DeserializeOwned>(field: &str, text: &str) -> Result<T, FfiError> {
    serde_json::from_str(text).map_err(|e| FfiError::invalid(field, "json", e.to_string()))
}

fn time(field: &str, unix: i64) -> Result<DateTime<Utc>, FfiError> {
    DateTime::from_timestamp(unix, 0)
        .ok_or_else(|| FfiError::invalid(field, "time", "seconds out of range"))
}

pub(crate) fn team(team: Vec<TeamMemberData>) -> Result<Vec<TeamMember>, FfiError> {
    team.into_iter()
        .enumerate()
        .map(|(i, m)| {
            Ok(TeamMember {
                role: role(&format!("team[{i}].role"), &m.role)?,
                worker_id: m.worker_id,
            })
        })
        .collect()
}

pub(crate) fn answers(answers: Vec<AnswerData>) -> Result<Vec<(String, Option<Json>)>, FfiError> {
    answers
        .into_iter()
        .enumerate()
        .map(|(i, a)| {
            let value = a
                .value_json
                .map(|v| json(&format!("answers[{i}].value_json"), &v))
                .transpose()?;
            Ok((a.key, value))
        })
        .collect()
}

impl SealData {
    pub(crate) fn to_core(&self) -> Result<SealDetails, FfiError> {
        Ok(SealDetails {
            previous: self
                .previous_hash_hex
                .as_deref()
                .map(|h| content_hash("previous_hash_hex", h))
                .transpose()?,
            place: Place {
                village_code: self.place.village_code.clone(),
                address: self.place.address.clone(),
                gps: self.place.gps.map(|g| Gps {
                    lat_e7: g.lat_e7,
                    lon_e7: g.lon_e7,
                }),
            },
            visited_at: time("visited_at_unix", self.visited_at_unix)?,
            attachments: self
                .attachment_hashes_hex
                .iter()
                .enumerate()
                .map(|(i, h)| content_hash(&format!("attachment_hashes_hex[{i}]"), h))
                .collect::<Result<_, _>>()?,
            scoring: self
                .scoring_json
                .as_deref()
                .map(|s| json("scoring_json", s))
                .transpose()?,
            emergency_remote: self
                .emergency_remote
                .as_deref()
                .map(|m| code::<RemoteMode>("emergency_remote", m))
                .transpose()?,
        })
    }
}

// --- to the app ---------------------------------------------------------------------------

impl From<&TeamMember> for TeamMemberData {
    fn from(m: &TeamMember) -> Self {
        Self {
            worker_id: m.worker_id.clone(),
            role: m.role.as_str().to_owned(),
        }
    }
}

fn team_data(team: &[TeamMember]) -> Vec<TeamMemberData> {
    team.iter().map(Into::into).collect()
}

fn roles_data(roles: &[Role]) -> Vec<String> {
    roles.iter().map(|r| r.as_str().to_owned()).collect()
}

fn hashes_data(hashes: &[ContentHash]) -> Vec<String> {
    hashes.iter().map(ContentHash::to_hex).collect()
}

fn answers_data<'a>(answers: impl IntoIterator<Item = (&'a String, &'a Json)>) -> Vec<AnswerData> {
    answers
        .into_iter()
        .map(|(key, value)| AnswerData {
            key: key.clone(),
            value_json: Some(value.to_string()),
        })
        .collect()
}

impl From<&SealedContent> for SealedContentData {
    fn from(c: &SealedContent) -> Self {
        Self {
            household_id: c.household_id.clone(),
            visit_id: c.visit_id.clone(),
            revision: c.revision,
            previous_hash_hex: c.previous.map(|h| h.to_hex()),
            purpose: c.purpose.as_str().to_owned(),
            team: team_data(&c.team),
            template_id: c.template.id.clone(),
            template_version: c.template.version,
            answers: answers_data(&c.answers),
            attachment_hashes_hex: hashes_data(&c.attachments),
            scoring_json: c.scoring.as_ref().map(Json::to_string),
            place: PlaceData {
                village_code: c.place.village_code.clone(),
                address: c.place.address.clone(),
                gps: c.place.gps.map(|g| GpsData {
                    lat_e7: g.lat_e7,
                    lon_e7: g.lon_e7,
                }),
            },
            visited_at_unix: c.visited_at.timestamp(),
            emergency_remote: c.emergency_remote.as_ref().map(code_of),
            sealed_by: c.sealed_by.clone(),
            sealed_at_unix: c.sealed_at.timestamp(),
        }
    }
}

impl From<&SealedRevision> for SealedRevisionData {
    fn from(r: &SealedRevision) -> Self {
        Self {
            content_hash_hex: r.content_hash.to_hex(),
            revision: r.content.revision,
            content: (&r.content).into(),
        }
    }
}

impl From<SealedRevision> for SealedRevisionData {
    fn from(r: SealedRevision) -> Self {
        (&r).into()
    }
}

impl From<ReceivedContent> for SealedRevisionData {
    fn from(r: ReceivedContent) -> Self {
        Self {
            content_hash_hex: r.content_hash.to_hex(),
            revision: r.content.revision,
            content: (&r.content).into(),
        }
    }
}

impl From<VisitRecord> for VisitData {
    fn from(v: VisitRecord) -> Self {
        Self {
            visit_id: v.visit_id,
            purpose: v.purpose.as_str().to_owned(),
            village_code: v.village_code,
            team: team_data(&v.team),
            draft: answers_data(&v.draft),
            draft_conflicts: v.draft_conflicts,
            revisions: v.revisions.iter().map(Into::into).collect(),
            latest_hashes_hex: hashes_data(&v.latest),
            draft_differs_from: v.draft_differs_from,
            signature_keys: v.signature_keys,
            template_id: v.template.id,
            template_version: v.template.version,
            template_hash_hex: v.template.hash.to_hex(),
        }
    }
}

fn signer_data(
    content_hash: Option<ContentHash>,
    revision: Option<u32>,
    s: &SignerCheck,
) -> SignerVerdictData {
    SignerVerdictData {
        content_hash_hex: content_hash.map(|h| h.to_hex()),
        revision,
        key: s.key.clone(),
        worker_id: s.worker_id.clone(),
        name: s.name.clone(),
        role: s.role.map(|r| r.as_str().to_owned()),
        signed_at_unix: s.signed_at.map(|t| t.timestamp()),
        verdict: s.verdict.code().to_owned(),
        detail: s.verdict.to_string(),
    }
}

impl From<VisitVerification> for VisitVerificationData {
    fn from(v: VisitVerification) -> Self {
        let signers = v
            .revisions
            .iter()
            .flat_map(|r| {
                r.signers
                    .iter()
                    .map(|s| signer_data(r.content_hash, r.revision, s))
            })
            .collect();
        let (status, revision, content_hash, missing, latest, reasons) = match v.status {
            VisitStatus::Draft => ("draft", None, None, Vec::new(), Vec::new(), Vec::new()),
            VisitStatus::Complete {
                revision,
                content_hash,
            } => (
                "complete",
                Some(revision),
                Some(content_hash),
                Vec::new(),
                Vec::new(),
                Vec::new(),
            ),
            VisitStatus::Incomplete {
                revision,
                content_hash,
                missing_roles,
            } => (
                "incomplete",
                Some(revision),
                Some(content_hash),
                missing_roles,
                Vec::new(),
                Vec::new(),
            ),
            VisitStatus::Diverged { latest } => {
                ("diverged", None, None, Vec::new(), latest, Vec::new())
            }
            VisitStatus::Invalid { reasons } => {
                ("invalid", None, None, Vec::new(), Vec::new(), reasons)
            }
        };
        Self {
            visit_id: v.visit_id,
            status: status.to_owned(),
            revision,
            content_hash_hex: content_hash.map(|h| h.to_hex()),
            missing_roles: roles_data(&missing),
            latest_hashes_hex: hashes_data(&latest),
            reasons,
            signers,
        }
    }
}

impl From<VisitSummary> for VisitSummaryData {
    fn from(s: VisitSummary) -> Self {
        Self {
            visit_id: s.visit_id,
            household_id: s.household_id,
            village_code: s.village_code,
            purpose: s.purpose.as_str().to_owned(),
            status: s.status,
            revision: s.revision,
            latest_hash_hex: s.latest_hash,
            missing_roles: roles_data(&s.missing_roles),
            team: team_data(&s.team),
            missing_signers: team_data(&s.missing_signers),
        }
    }
}

impl From<WorkerCertificate> for WorkerCertificateData {
    fn from(c: WorkerCertificate) -> Self {
        let (villages, county_code) = match c.scope {
            Scope::Villages(v) => (v, None),
            Scope::County(county) => (Vec::new(), Some(county)),
        };
        Self {
            worker_id: c.worker_id,
            name: c.name,
            roles: roles_data(&c.roles),
            villages,
            county_code,
            public_key_hex: c.public_key.to_hex(),
            valid_from_unix: c.valid_from.timestamp(),
            valid_until_unix: c.valid_until.timestamp(),
        }
    }
}
