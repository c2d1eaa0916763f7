//! Worker certificates: the county civil-affairs authority's statement that a public
//! key belongs to a named worker, in given roles, for given villages, for a period.
//!
//! The certificate body is canonical JSON ([`crate::signing::canonical`]); the authority signs
//! `CERTIFICATE_CONTEXT || body_bytes`. The signed bytes travel as they are (never
//! re-serialized), and the certificate's identity is the SHA-256 of `body_bytes`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::signing::canonical::{from_canonical_bytes, sha256, to_canonical_bytes_of};
use crate::signing::keys::{verify, PublicKey, SigningKeyPair, SIGNATURE_LEN};
use crate::signing::wire::check_identifier;

pub use crate::signing::error::CertError;

/// Domain-separation prefix of the authority's signature over a certificate body.
pub const CERTIFICATE_CONTEXT: &[u8] = b"ruhu/worker-certificate/v1\0";
/// The certificate format this code writes and reads.
pub const CERTIFICATE_FORMAT: u32 = 1;
/// Largest accepted certificate body, in bytes.
pub const MAX_CERTIFICATE_BYTES: usize = 16 * 1024;

/// A role in the home-visit team or at the county (serialized in snake_case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 乡镇包村领导: the township leader in charge of the village.
    TownshipLeader,
    /// 驻村干部: the village-stationed cadre.
    VillageCadre,
    /// 经办人员: the township civil-affairs case handler.
    CaseHandler,
    /// 县级民政部门: county civil-affairs staff (spot checks, supervision).
    CountySupervisor,
}

impl Role {
    /// Every role, in a fixed order.
    pub const ALL: [Role; 4] = [
        Role::TownshipLeader,
        Role::VillageCadre,
        Role::CaseHandler,
        Role::CountySupervisor,
    ];

    /// The serialized name, e.g. `"case_handler"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::TownshipLeader => "township_leader",
            Role::VillageCadre => "village_cadre",
            Role::CaseHandler => "case_handler",
            Role::CountySupervisor => "county_supervisor",
        }
    }
}

/// Where a worker may act: a list of villages, or a whole county.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Scope {
    /// 12-digit statistical division codes of the assigned villages.
    Villages(Vec<String>),
    /// A 6-digit county code; covers every village whose code starts with it.
    County(String),
}

/// `true` for a 12-digit village (village committee) division code.
pub fn is_village_code(code: &str) -> bool {
    code.len() == 12 && code.bytes().all(|b| b.is_ascii_digit())
}

/// `true` for a 6-digit county division code.
pub fn is_county_code(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())
}

impl Scope {
    /// `true` if a worker with this scope may act in the village `code`.
    pub fn covers_village(&self, code: &str) -> bool {
        if !is_village_code(code) {
            return false;
        }
        match self {
            Scope::Villages(codes) => codes.iter().any(|c| c == code),
            Scope::County(county) => code.starts_with(county.as_str()),
        }
    }
}

/// The content of a worker certificate, as signed by the county authority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerCertificate {
    /// Format version; always [`CERTIFICATE_FORMAT`].
    pub format: u32,
    /// The worker's stable id (also the `signer_worker_id` of their signatures).
    pub worker_id: String,
    /// The worker's name as shown on signed records.
    pub name: String,
    /// Roles the worker may sign in (no duplicates, at least one).
    pub roles: Vec<Role>,
    /// Villages or county the worker may act in.
    pub scope: Scope,
    /// The public key of the worker's tablet.
    pub public_key: PublicKey,
    /// First instant the certificate is valid (inclusive).
    #[serde(with = "crate::signing::wire::timestamp")]
    pub valid_from: DateTime<Utc>,
    /// Instant the certificate stops being valid (exclusive).
    #[serde(with = "crate::signing::wire::timestamp")]
    pub valid_until: DateTime<Utc>,
    /// When the authority issued it.
    #[serde(with = "crate::signing::wire::timestamp")]
    pub issued_at: DateTime<Utc>,
    /// Which authority key signed it (lets verifiers pick the key after a key rollover).
    pub authority_key_id: String,
}

impl WorkerCertificate {
    /// `true` if the certificate covers the village `code`.
    pub fn covers_village(&self, code: &str) -> bool {
        self.scope.covers_village(code)
    }

    /// `true` if `valid_from <= t < valid_until`.
    pub fn valid_at(&self, t: DateTime<Utc>) -> bool {
        self.valid_from <= t && t < self.valid_until
    }

    /// `true` if the certificate grants `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Checks the rules every certificate must follow.
    pub fn validate(&self) -> Result<(), CertError> {
        if self.format != CERTIFICATE_FORMAT {
            return Err(CertError::UnsupportedFormat(self.format.into()));
        }
        check_identifier("worker_id", &self.worker_id).map_err(CertError::Invalid)?;
        check_identifier("authority_key_id", &self.authority_key_id).map_err(CertError::Invalid)?;
        if self.name.trim().is_empty() || self.name.len() > 256 {
            return Err(CertError::Invalid("name must be 1 to 256 bytes".into()));
        }
        if self.roles.is_empty() {
            return Err(CertError::Invalid(
                "a certificate needs at least one role".into(),
            ));
        }
        if (1..self.roles.len()).any(|i| self.roles[..i].contains(&self.roles[i])) {
            return Err(CertError::Invalid("duplicate role".into()));
        }
        match &self.scope {
            Scope::Villages(codes) => {
                if codes.is_empty() {
                    return Err(CertError::Invalid("scope lists no village".into()));
                }
                if let Some(bad) = codes.iter().find(|c| !is_village_code(c)) {
                    return Err(CertError::Invalid(format!(
                        "{bad:?} is not a 12-digit village code"
                    )));
                }
                if (1..codes.len()).any(|i| codes[..i].contains(&codes[i])) {
                    return Err(CertError::Invalid("duplicate village code".into()));
                }
            }
            Scope::County(code) if !is_county_code(code) => {
                return Err(CertError::Invalid(format!(
                    "{code:?} is not a 6-digit county code"
                )));
            }
            Scope::County(_) => {}
        }
        if self.valid_until <= self.valid_from {
            return Err(CertError::EmptyValidity);
        }
        Ok(())
    }

    /// Validates, encodes canonically and signs the certificate with the authority key.
    pub fn sign(&self, authority: &SigningKeyPair) -> Result<SignedCertificate, CertError> {
        self.validate()?;
        let body_bytes = to_canonical_bytes_of(self).map_err(CertError::Malformed)?;
        let signature = authority.sign(&signed_message(&body_bytes));
        Ok(SignedCertificate {
            body_bytes,
            signature,
        })
    }
}

/// The exact bytes the authority signs for a certificate body.
fn signed_message(body_bytes: &[u8]) -> Vec<u8> {
    [CERTIFICATE_CONTEXT, body_bytes].concat()
}

/// A certificate as it travels and is stored: the canonical body and the authority's
/// Ed25519 signature over `CERTIFICATE_CONTEXT || body_bytes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedCertificate {
    /// Canonical JSON of a [`WorkerCertificate`].
    #[serde(with = "crate::signing::wire::base64_bytes")]
    pub body_bytes: Vec<u8>,
    /// The authority's signature.
    #[serde(with = "crate::signing::wire::base64_signature")]
    pub signature: [u8; SIGNATURE_LEN],
}

impl SignedCertificate {
    /// SHA-256 of the body bytes: the certificate's identity in signatures and revocations.
    pub fn hash(&self) -> [u8; 32] {
        sha256(&self.body_bytes)
    }

    /// Checks the authority's signature, then decodes and validates the body.
    pub fn verify(&self, authority_public_key: &PublicKey) -> Result<WorkerCertificate, CertError> {
        if self.body_bytes.len() > MAX_CERTIFICATE_BYTES {
            return Err(CertError::Malformed(
                crate::signing::error::CanonicalError::TooLarge {
                    len: self.body_bytes.len(),
                    limit: MAX_CERTIFICATE_BYTES,
                },
            ));
        }
        if !verify(
            authority_public_key,
            &signed_message(&self.body_bytes),
            &self.signature,
        ) {
            return Err(CertError::BadSignature);
        }
        let cert: WorkerCertificate = from_canonical_bytes(&self.body_bytes, MAX_CERTIFICATE_BYTES)
            .map_err(CertError::Malformed)?;
        cert.validate()?;
        Ok(cert)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::TimeZone;

    pub(crate) fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 0, 0, 0)
            .single()
            .expect("valid date")
    }

    pub(crate) fn sample(public_key: PublicKey) -> WorkerCertificate {
        WorkerCertificate {
            format: CERTIFICATE_FORMAT,
            worker_id: "w-620102-0042".into(),
            name: "李建国".into(),
            roles: vec![Role::VillageCadre],
            scope: Scope::Villages(vec!["620102001001".into(), "620102001002".into()]),
            public_key,
            valid_from: at(2024, 1, 1),
            valid_until: at(2025, 1, 1),
            issued_at: at(2023, 12, 20),
            authority_key_id: "county-620102-2024".into(),
        }
    }

    #[test]
    fn role_names_are_snake_case() {
        for role in Role::ALL {
            let json = serde_json::to_string(&role).expect("ser");
            assert_eq!(json, format!("\"{}\"", role.as_str()));
            assert_eq!(serde_json::from_str::<Role>(&json).expect("de"), role);
        }
        assert!(serde_json::from_str::<Role>("\"TownshipLeader\"").is_err());
    }

    #[test]
    fn sign_verify_round_trip() {
        let authority = SigningKeyPair::generate().expect("key");
        let worker = SigningKeyPair::generate().expect("key");
        let cert = sample(worker.public_key());
        let signed = cert.sign(&authority).expect("sign");
        assert_eq!(signed.verify(&authority.public_key()), Ok(cert.clone()));
        let text = String::from_utf8(signed.body_bytes.clone()).expect("utf-8");
        assert!(
            text.starts_with("{\"authority_key_id\":\"county-620102-2024\",\"format\":1,"),
            "{text}"
        );
        assert!(text.contains("\"scope\":{\"villages\":[\"620102001001\",\"620102001002\"]}"));
        assert!(text.contains("\"valid_from\":\"2024-01-01T00:00:00Z\""));
        // Travels as JSON and back unchanged.
        let json = serde_json::to_string(&signed).expect("ser");
        let back: SignedCertificate = serde_json::from_str(&json).expect("de");
        assert_eq!(back, signed);
        assert_eq!(back.hash(), sha256(&signed.body_bytes));
    }

    #[test]
    fn signature_is_domain_separated() {
        let authority = SigningKeyPair::generate().expect("key");
        let cert = sample(PublicKey([7; 32]));
        let mut signed = cert.sign(&authority).expect("sign");
        // A signature over the bare body (no context) must not verify.
        signed.signature = authority.sign(&signed.body_bytes);
        assert_eq!(
            signed.verify(&authority.public_key()),
            Err(CertError::BadSignature)
        );
    }

    #[test]
    fn wrong_authority_or_tampered_body_fails() {
        let authority = SigningKeyPair::generate().expect("key");
        let other = SigningKeyPair::generate().expect("key");
        let signed = sample(PublicKey([7; 32])).sign(&authority).expect("sign");
        assert_eq!(
            signed.verify(&other.public_key()),
            Err(CertError::BadSignature)
        );
        let mut tampered = signed.clone();
        let text = String::from_utf8(tampered.body_bytes).expect("utf-8");
        tampered.body_bytes = text
            .replace("village_cadre", "county_supervisor")
            .into_bytes();
        assert_eq!(
            tampered.verify(&authority.public_key()),
            Err(CertError::BadSignature)
        );
    }

    #[test]
    fn signed_non_canonical_or_unknown_fields_are_refused() {
        let authority = SigningKeyPair::generate().expect("key");
        let cert = sample(PublicKey([7; 32]));
        let canonical = to_canonical_bytes_of(&cert).expect("enc");
        let mut spaced = canonical.clone();
        spaced.insert(1, b' ');
        let mut extra = serde_json::to_value(&cert).expect("value");
        extra["note"] = "x".into();
        let extra = crate::signing::canonical::to_canonical_bytes(&extra).expect("enc");
        for body in [spaced, extra] {
            let signed = SignedCertificate {
                signature: authority.sign(&signed_message(&body)),
                body_bytes: body,
            };
            assert!(matches!(
                signed.verify(&authority.public_key()),
                Err(CertError::Malformed(_))
            ));
        }
    }

    #[test]
    fn validation_rules() {
        let ok = sample(PublicKey([1; 32]));
        assert_eq!(ok.validate(), Ok(()));
        let mut c = ok.clone();
        c.roles.clear();
        assert!(matches!(c.validate(), Err(CertError::Invalid(_))));
        let mut c = ok.clone();
        c.roles = vec![Role::CaseHandler, Role::CaseHandler];
        assert!(matches!(c.validate(), Err(CertError::Invalid(_))));
        let mut c = ok.clone();
        c.scope = Scope::Villages(vec!["62010200100".into()]);
        assert!(matches!(c.validate(), Err(CertError::Invalid(_))));
        let mut c = ok.clone();
        c.scope = Scope::County("62010".into());
        assert!(matches!(c.validate(), Err(CertError::Invalid(_))));
        let mut c = ok.clone();
        c.valid_until = c.valid_from;
        assert_eq!(c.validate(), Err(CertError::EmptyValidity));
        let mut c = ok.clone();
        c.format = 2;
        assert_eq!(c.validate(), Err(CertError::UnsupportedFormat(2)));
        let mut c = ok;
        c.worker_id = String::new();
        assert!(matches!(c.validate(), Err(CertError::Invalid(_))));
    }

    #[test]
    fn village_coverage_and_validity_window() {
        let cert = sample(PublicKey([1; 32]));
        assert!(cert.covers_village("620102001001"));
        assert!(!cert.covers_village("620102001003"));
        assert!(!cert.covers_village("62010200100"));
        let county = Scope::County("620102".into());
        assert!(county.covers_village("620102999001"));
        assert!(!county.covers_village("620103001001"));
        assert!(!county.covers_village("620102"));
        assert!(cert.valid_at(at(2024, 1, 1)));
        assert!(cert.valid_at(at(2024, 12, 31)));
        assert!(!cert.valid_at(at(2025, 1, 1)));
        assert!(!cert.valid_at(at(2023, 12, 31)));
    }

    #[test]
    fn subsecond_times_cannot_be_signed() {
        let authority = SigningKeyPair::generate().expect("key");
        let mut cert = sample(PublicKey([1; 32]));
        cert.issued_at += chrono::Duration::milliseconds(1);
        assert!(matches!(
            cert.sign(&authority),
            Err(CertError::Malformed(_))
        ));
    }
}
