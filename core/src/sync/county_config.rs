//! The signed county configuration: everything a tablet must trust, signed by the county
//! authority (never by the server), so a compromised server cannot grant itself workers.
//!
//! It carries the worker certificates, the revocation list, the roles each visit purpose
//! requires, the minimum app version, and a serial number: a tablet refuses a configuration
//! that is unsigned, signed by another key, older (lower serial) than the one it holds, or past
//! its expiry. It also carries the county's working data ([`CountyData`]: form templates,
//! standards, the working-day calendar, the time zone), validated like the rest.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::signing::canonical::{from_canonical_bytes, to_canonical_bytes_of};
use crate::signing::certificate::SignedCertificate;
use crate::signing::keys::{verify, PublicKey, SigningKeyPair, SIGNATURE_LEN};
use crate::signing::revocation::SignedRevocationList;
use crate::visit::policy::VisitPolicy;

use super::county_data::CountyData;

/// Domain separation of configuration signatures.
pub const CONFIG_CONTEXT: &[u8] = b"ruhu/county-config/v1\0";
/// Largest accepted configuration.
pub const MAX_CONFIG_BYTES: usize = 8 << 20;

/// The county's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountyConfig {
    pub format: u32,
    /// 6-digit county code.
    pub county_code: String,
    /// Increases with every publication; a tablet never goes back to a lower one.
    pub serial: u64,
    #[serde(with = "crate::signing::wire::timestamp")]
    pub issued_at: DateTime<Utc>,
    /// After this a tablet refuses the configuration and must fetch a newer one.
    #[serde(with = "crate::signing::wire::timestamp")]
    pub expires_at: DateTime<Utc>,
    /// Apps older than this (`major.minor.patch`) are refused by the server's sync.
    pub min_app_version: String,
    pub visit_policy: VisitPolicy,
    pub certificates: Vec<SignedCertificate>,
    pub revocations: Option<SignedRevocationList>,
    /// Form templates, standards, calendar, time zone (left out when empty, so
    /// configurations without them keep their bytes).
    #[serde(default, skip_serializing_if = "CountyData::is_empty")]
    pub data: CountyData,
}

/// A configuration as it travels: canonical body and the authority's signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedCountyConfig {
    #[serde(with = "crate::signing::wire::base64_bytes")]
    pub body_bytes: Vec<u8>,
    #[serde(with = "crate::signing::wire::base64_signature")]
    pub signature: [u8; SIGNATURE_LEN],
}

/// Why a configuration is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    #[error("the configuration is not signed by the county authority")]
    BadSignature,
    #[error("the configuration cannot be read: {0}")]
    Malformed(String),
    #[error("configuration serial {offered} is older than the one held ({held})")]
    Stale { offered: u64, held: u64 },
    #[error("the configuration expired at {0}")]
    Expired(DateTime<Utc>),
    #[error("the configuration is for county {found}, not {expected}")]
    WrongCounty { expected: String, found: String },
}

impl ConfigError {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            ConfigError::BadSignature => "config.bad_signature",
            ConfigError::Malformed(_) => "config.malformed",
            ConfigError::Stale { .. } => "config.stale",
            ConfigError::Expired(_) => "config.expired",
            ConfigError::WrongCounty { .. } => "config.wrong_county",
        }
    }
}

fn signed_message(body: &[u8]) -> Vec<u8> {
    [CONFIG_CONTEXT, body].concat()
}

impl CountyConfig {
    /// Signs the configuration with the authority key (the authority command does this).
    pub fn sign(&self, authority: &SigningKeyPair) -> Result<SignedCountyConfig, ConfigError> {
        self.data.check().map_err(ConfigError::Malformed)?;
        let body_bytes =
            to_canonical_bytes_of(self).map_err(|e| ConfigError::Malformed(e.to_string()))?;
        let signature = authority.sign(&signed_message(&body_bytes));
        Ok(SignedCountyConfig {
            body_bytes,
            signature,
        })
    }
}

impl SignedCountyConfig {
    /// Verifies the signature and decodes, without freshness checks.
    pub fn verify(&self, authority: &PublicKey) -> Result<CountyConfig, ConfigError> {
        if self.body_bytes.len() > MAX_CONFIG_BYTES {
            return Err(ConfigError::Malformed("too large".into()));
        }
        if !verify(
            authority,
            &signed_message(&self.body_bytes),
            &self.signature,
        ) {
            return Err(ConfigError::BadSignature);
        }
        let config: CountyConfig = from_canonical_bytes(&self.body_bytes, MAX_CONFIG_BYTES)
            .map_err(|e| ConfigError::Malformed(e.to_string()))?;
        config.data.check().map_err(ConfigError::Malformed)?;
        Ok(config)
    }

    /// What a tablet does with an offered configuration: verify, then refuse one that is
    /// older than `held_serial`, expired at `now`, or for another county.
    pub fn accept(
        &self,
        authority: &PublicKey,
        county_code: &str,
        held_serial: u64,
        now: DateTime<Utc>,
    ) -> Result<CountyConfig, ConfigError> {
        let config = self.verify(authority)?;
        if config.county_code != county_code {
            return Err(ConfigError::WrongCounty {
                expected: county_code.to_owned(),
                found: config.county_code,
            });
        }
        if config.serial < held_serial {
            return Err(ConfigError::Stale {
                offered: config.serial,
                held: held_serial,
            });
        }
        if config.expires_at <= now {
            return Err(ConfigError::Expired(config.expires_at));
        }
        Ok(config)
    }
}

/// Parses `major.minor.patch` into a comparable triple.
pub fn parse_version(text: &str) -> Option<(u32, u32, u32)> {
    let mut parts = text.split('.').map(|p| p.parse::<u32>().ok());
    let v = (parts.next()??, parts.next()??, parts.next()??);
    parts.next().is_none().then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn config(serial: u64) -> CountyConfig {
        CountyConfig {
            format: 1,
            county_code: "620102".into(),
            serial,
            issued_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap(),
            expires_at: Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).single().unwrap(),
            min_app_version: "0.1.0".into(),
            visit_policy: VisitPolicy::default(),
            certificates: Vec::new(),
            revocations: None,
            data: CountyData::default(),
        }
    }

    #[test]
    fn tablets_refuse_unsigned_foreign_stale_and_expired_configurations() {
        let authority = SigningKeyPair::generate().unwrap();
        let impostor = SigningKeyPair::generate().unwrap();
        let now = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).single().unwrap();
        let signed = config(5).sign(&authority).unwrap();
        assert_eq!(
            signed
                .accept(&authority.public_key(), "620102", 4, now)
                .unwrap()
                .serial,
            5
        );
        assert_eq!(
            signed
                .accept(&impostor.public_key(), "620102", 0, now)
                .unwrap_err(),
            ConfigError::BadSignature
        );
        assert!(matches!(
            signed.accept(&authority.public_key(), "620102", 6, now),
            Err(ConfigError::Stale { .. })
        ));
        assert!(matches!(
            signed.accept(&authority.public_key(), "620103", 0, now),
            Err(ConfigError::WrongCounty { .. })
        ));
        let later = Utc.with_ymd_and_hms(2027, 2, 1, 0, 0, 0).single().unwrap();
        assert!(matches!(
            signed.accept(&authority.public_key(), "620102", 0, later),
            Err(ConfigError::Expired(_))
        ));
        let mut tampered = signed.clone();
        tampered.body_bytes[10] ^= 1;
        assert!(tampered
            .accept(&authority.public_key(), "620102", 0, now)
            .is_err());
        assert_eq!(parse_version("1.20.3"), Some((1, 20, 3)));
        assert!(
            parse_version("1.2").is_none()
                && parse_version("1.2.3.4").is_none()
                && parse_version("a.b.c").is_none()
        );
    }
}
