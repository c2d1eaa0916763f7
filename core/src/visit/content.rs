//! The sealed record format (v1): what a visit revision says, as RFC 8785 canonical JSON.
//!
//! The SHA-256 of these exact bytes is the revision's identity (its key in the household
//! document) and what every team member signs. Format 1 is frozen: every later app version
//! must keep parsing it. Content of a newer format is refused with
//! [`VisitError::UnsupportedFormat`] rather than half-understood.
//!
//! ```text
//! { "answers": {..}, "attachments": [sha256 hex..], "emergency_remote": null|"phone"|"video",
//!   "format": 1, "household_id", "place": {"address", "gps": null|{"lat_e7","lon_e7"},
//!   "village_code"}, "previous": null|sha256 hex, "purpose", "revision",
//!   "scoring": null|{..}, "sealed_at", "sealed_by", "team": [{"role","worker_id"}..],
//!   "template": {"hash","id","version"}, "visit_id", "visited_at" }
//! ```
//!
//! Besides the fields of the issue, `sealed_by` and `sealed_at` are inside the signed
//! bytes, so the sealed entry's metadata in the document can be checked against them.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value as Json;

use crate::signing::canonical::{parse_canonical, sha256, to_canonical_bytes_of};
use crate::signing::certificate::{is_village_code, Role};
use crate::signing::wire::{check_identifier, decode_hex_exact};
use crate::visit::error::VisitError;
use crate::visit::policy::Purpose;

/// The sealed record format this code writes; it reads only this one.
pub const SEALED_FORMAT: u64 = 1;
/// Largest accepted sealed content, in bytes.
pub const MAX_CONTENT_BYTES: usize = 256 * 1024;
/// Most attachments one record may list.
pub const MAX_ATTACHMENTS: usize = 64;

/// A SHA-256 hash, written as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContentHash(pub [u8; 32]);

impl ContentHash {
    /// The hash of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(sha256(bytes))
    }
    /// Parses 64 lowercase hex digits.
    pub fn from_hex(text: &str) -> Option<Self> {
        decode_hex_exact::<32>(text).map(Self)
    }
    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Debug for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContentHash({})", self.to_hex())
    }
}

impl fmt::Display for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Serialize for ContentHash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::signing::wire::hex_bytes::serialize(&self.0, s)
    }
}

impl<'de> Deserialize<'de> for ContentHash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::signing::wire::hex_bytes::deserialize(d).map(Self)
    }
}

/// One team member named on the visit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamMember {
    /// The role they visit in.
    pub role: Role,
    /// Their worker id (as in their certificate).
    pub worker_id: String,
}

/// Which template the answers follow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateRef {
    /// Template id, e.g. `home-visit-minimal`.
    pub id: String,
    /// Template version.
    pub version: u32,
    /// SHA-256 of the template's canonical definition.
    pub hash: ContentHash,
}

/// GPS position recorded once per visit, in 1e-7 degrees (integers: no floats are signed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gps {
    /// Latitude × 10^7.
    pub lat_e7: i64,
    /// Longitude × 10^7.
    pub lon_e7: i64,
}

/// Where the visit took place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Place {
    /// 12-digit code of the household's village (signers must be assigned to it).
    pub village_code: String,
    /// Address as written by the team.
    pub address: String,
    /// Position, if taken.
    pub gps: Option<Gps>,
}

/// How an emergency visit was made without being in the household.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RemoteMode {
    /// By telephone.
    Phone,
    /// By video call.
    Video,
}

/// One sealed revision of a visit record (format 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealedContent {
    /// Always [`SEALED_FORMAT`].
    pub format: u64,
    /// The household visited.
    pub household_id: String,
    /// The visit.
    pub visit_id: String,
    /// 1 for the first seal, previous + 1 for a correction.
    pub revision: u32,
    /// The revision this one corrects.
    pub previous: Option<ContentHash>,
    /// Why the team visited.
    pub purpose: Purpose,
    /// Who visited, in which role (sorted by role).
    pub team: Vec<TeamMember>,
    /// The template the answers follow.
    pub template: TemplateRef,
    /// Answer key → string, integer or boolean.
    pub answers: BTreeMap<String, Json>,
    /// SHA-256 of photos and the household member's signature image (sorted, unique).
    pub attachments: Vec<ContentHash>,
    /// The scoring block (filled by the forms issue).
    pub scoring: Option<Json>,
    /// Where.
    pub place: Place,
    /// When the team was in the household (whole seconds, UTC).
    #[serde(with = "crate::signing::wire::timestamp")]
    pub visited_at: DateTime<Utc>,
    /// Set when an emergency was handled by phone or video.
    pub emergency_remote: Option<RemoteMode>,
    /// Worker who sealed it.
    pub sealed_by: String,
    /// When it was sealed (the sealing tablet's clock, whole seconds, UTC).
    #[serde(with = "crate::signing::wire::timestamp")]
    pub sealed_at: DateTime<Utc>,
}

fn malformed(what: impl Into<String>) -> VisitError {
    VisitError::MalformedContent(what.into())
}

impl SealedContent {
    /// Checks the rules of format 1 beyond its shape.
    pub fn validate(&self) -> Result<(), VisitError> {
        if self.format != SEALED_FORMAT {
            return Err(VisitError::UnsupportedFormat(self.format));
        }
        for (what, id) in [
            ("household_id", &self.household_id),
            ("visit_id", &self.visit_id),
            ("sealed_by", &self.sealed_by),
            ("template.id", &self.template.id),
        ] {
            check_identifier(what, id).map_err(malformed)?;
        }
        match (self.revision, self.previous) {
            (0, _) => return Err(malformed("revision starts at 1")),
            (1, Some(_)) => return Err(malformed("revision 1 cannot have a previous revision")),
            (r, None) if r > 1 => {
                return Err(malformed("a correction must name its previous revision"))
            }
            _ => {}
        }
        if self.team.is_empty() {
            return Err(malformed("team is empty"));
        }
        for (i, m) in self.team.iter().enumerate() {
            check_identifier("team.worker_id", &m.worker_id).map_err(malformed)?;
            if i > 0 && self.team[i - 1].role >= m.role {
                return Err(malformed("team must list each role once, sorted by role"));
            }
            if self.team[..i].iter().any(|o| o.worker_id == m.worker_id) {
                return Err(malformed("one person holds two roles in the team"));
            }
        }
        for (key, value) in &self.answers {
            check_identifier("answer key", key).map_err(malformed)?;
            if !matches!(value, Json::String(_) | Json::Number(_) | Json::Bool(_)) {
                return Err(malformed(format!(
                    "answer {key} must be a string, integer or boolean"
                )));
            }
        }
        if self.attachments.len() > MAX_ATTACHMENTS {
            return Err(malformed(format!(
                "more than {MAX_ATTACHMENTS} attachments"
            )));
        }
        if self.attachments.windows(2).any(|w| w[0] >= w[1]) {
            return Err(malformed("attachments must be sorted and unique"));
        }
        if self.scoring.as_ref().is_some_and(|s| !s.is_object()) {
            return Err(malformed("scoring must be an object"));
        }
        if !is_village_code(&self.place.village_code) {
            return Err(malformed(
                "place.village_code is not a 12-digit village code",
            ));
        }
        if self.place.address.chars().count() > 500 {
            return Err(malformed("place.address is longer than 500 characters"));
        }
        if let Some(gps) = self.place.gps {
            if !(-900_000_000..=900_000_000).contains(&gps.lat_e7)
                || !(-1_800_000_000..=1_800_000_000).contains(&gps.lon_e7)
            {
                return Err(malformed("place.gps is out of range"));
            }
        }
        Ok(())
    }

    /// Validates and encodes the content canonically; returns the bytes and their hash.
    pub fn to_bytes(&self) -> Result<(Vec<u8>, ContentHash), VisitError> {
        self.validate()?;
        let bytes = to_canonical_bytes_of(self).map_err(VisitError::Canonical)?;
        if bytes.len() > MAX_CONTENT_BYTES {
            return Err(malformed(format!(
                "content is over {MAX_CONTENT_BYTES} bytes"
            )));
        }
        let hash = ContentHash::of(&bytes);
        Ok((bytes, hash))
    }

    /// The role `worker_id` holds in the team, if any.
    pub fn role_of(&self, worker_id: &str) -> Option<Role> {
        self.team
            .iter()
            .find(|m| m.worker_id == worker_id)
            .map(|m| m.role)
    }
}

/// Parses untrusted sealed-content bytes: canonical JSON, a supported format, exactly
/// the fields of that format, valid values, and no second spelling of the same record.
pub fn parse_content(bytes: &[u8]) -> Result<SealedContent, VisitError> {
    let value = parse_canonical(bytes, MAX_CONTENT_BYTES).map_err(VisitError::Canonical)?;
    let format = value
        .get("format")
        .ok_or_else(|| malformed("the format field is missing"))?
        .as_u64()
        .ok_or_else(|| malformed("format must be a positive integer"))?;
    if format != SEALED_FORMAT {
        return Err(VisitError::UnsupportedFormat(format));
    }
    let content: SealedContent =
        serde_json::from_value(value).map_err(|e| malformed(e.to_string()))?;
    content.validate()?;
    if to_canonical_bytes_of(&content).map_err(VisitError::Canonical)? != bytes {
        return Err(malformed(
            "fields are missing or spelled differently from format 1",
        ));
    }
    Ok(content)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::visit::template::minimal_template;
    use chrono::TimeZone;

    pub(crate) fn sample() -> SealedContent {
        let t = |h| Utc.with_ymd_and_hms(2024, 5, 6, h, 0, 0).single().unwrap();
        SealedContent {
            format: SEALED_FORMAT,
            household_id: "hh-1".into(),
            visit_id: "v-1".into(),
            revision: 1,
            previous: None,
            purpose: Purpose::NewApplication,
            team: vec![
                TeamMember {
                    role: Role::TownshipLeader,
                    worker_id: "w-1".into(),
                },
                TeamMember {
                    role: Role::VillageCadre,
                    worker_id: "w-2".into(),
                },
                TeamMember {
                    role: Role::CaseHandler,
                    worker_id: "w-3".into(),
                },
            ],
            template: minimal_template().reference.clone(),
            answers: [
                ("conclusion".to_owned(), Json::from("eligible")),
                ("income_wages_fen".to_owned(), Json::from(120_000)),
            ]
            .into_iter()
            .collect(),
            attachments: vec![ContentHash([1; 32])],
            scoring: None,
            place: Place {
                village_code: "620102001001".into(),
                address: "一组 12 号".into(),
                gps: Some(Gps {
                    lat_e7: 360_000_000,
                    lon_e7: 1_038_000_000,
                }),
            },
            visited_at: t(9),
            emergency_remote: None,
            sealed_by: "w-3".into(),
            sealed_at: t(10),
        }
    }

    #[test]
    fn round_trip_and_strictness() {
        let c = sample();
        let (bytes, hash) = c.to_bytes().unwrap();
        assert_eq!(hash, ContentHash::of(&bytes));
        assert_eq!(parse_content(&bytes).unwrap(), c);

        let mut spaced = bytes.clone();
        spaced.insert(1, b' ');
        assert!(matches!(
            parse_content(&spaced),
            Err(VisitError::Canonical(_))
        ));

        let mut v: Json = serde_json::from_slice(&bytes).unwrap();
        v.as_object_mut().unwrap().remove("scoring");
        let missing = crate::signing::canonical::to_canonical_bytes(&v).unwrap();
        assert!(matches!(
            parse_content(&missing),
            Err(VisitError::MalformedContent(_))
        ));

        let mut v: Json = serde_json::from_slice(&bytes).unwrap();
        v["extra"] = Json::from(1);
        let extra = crate::signing::canonical::to_canonical_bytes(&v).unwrap();
        assert!(matches!(
            parse_content(&extra),
            Err(VisitError::MalformedContent(_))
        ));
        v["format"] = Json::from(2);
        let newer = crate::signing::canonical::to_canonical_bytes(&v).unwrap();
        let err = parse_content(&newer).unwrap_err();
        assert_eq!(err, VisitError::UnsupportedFormat(2));
        assert_eq!(
            err.to_string(),
            "sealed record format 2 is not supported by this app version"
        );
    }

    #[test]
    fn rules() {
        let mut c = sample();
        c.team[2].worker_id = "w-1".into();
        assert!(c.to_bytes().is_err());
        let mut c = sample();
        c.team.swap(0, 1);
        assert!(c.to_bytes().is_err());
        let mut c = sample();
        c.revision = 2;
        assert!(c.to_bytes().is_err());
        let mut c = sample();
        c.answers.insert("x".into(), serde_json::json!([1]));
        assert!(c.to_bytes().is_err());
        let mut c = sample();
        c.attachments = vec![ContentHash([2; 32]), ContentHash([1; 32])];
        assert!(c.to_bytes().is_err());
    }

    #[test]
    fn format_1_bytes_are_frozen() {
        // A record sealed by version 1 of the app must parse, byte for byte, forever.
        let (bytes, _) = sample().to_bytes().unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with("{\"answers\":{\"conclusion\":\"eligible\",\"income_wages_fen\":120000},\"attachments\":[\"0101"));
        assert!(text.contains("\"format\":1,\"household_id\":\"hh-1\""));
        assert!(text.contains("\"team\":[{\"role\":\"township_leader\",\"worker_id\":\"w-1\"}"));
    }
}
