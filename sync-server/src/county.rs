//! The county configuration as the server holds it: verified once when installed (or loaded
//! at start-up), with the certificates decoded and indexed by hash, ready for every request.

use std::collections::HashMap;

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use ruhu_core::signing::attestation::Trust;
use ruhu_core::signing::certificate::WorkerCertificate;
use ruhu_core::sync::county_config::MAX_CONFIG_BYTES;
use ruhu_core::sync::{CountyConfig, SignedCountyConfig};

use crate::authority::AuthorityPublicKey;
use crate::error::ApiError;
use crate::storage::{ConfigRows, StoredConfig};

/// The installed configuration, verified.
#[derive(Debug)]
pub struct CountyState {
    pub signed_json: String,
    pub config: CountyConfig,
    pub trust: Trust,
    /// Every certificate of the configuration, verified, by hash.
    pub certificates: HashMap<[u8; 32], WorkerCertificate>,
}

impl CountyState {
    /// Verifies a signed configuration (JSON) against the authority key: the signature, the
    /// county, every certificate and the revocation list. `now` given: refuse an expired one.
    pub fn verify(
        signed_json: &str,
        authority: &AuthorityPublicKey,
        now: Option<DateTime<Utc>>,
    ) -> Result<Self, ApiError> {
        if signed_json.len() > 2 * MAX_CONFIG_BYTES {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "config.too_large",
                "configuration too large",
            ));
        }
        let signed: SignedCountyConfig = serde_json::from_str(signed_json)
            .map_err(|e| ApiError::bad_request("config.malformed", e.to_string()))?;
        let config = signed.verify(&authority.public_key).map_err(|e| match e {
            ruhu_core::sync::ConfigError::BadSignature => {
                ApiError::forbidden(e.code(), e.to_string())
            }
            _ => ApiError::bad_request(e.code(), e.to_string()),
        })?;
        if config.county_code != authority.county_code {
            return Err(ApiError::bad_request(
                "config.wrong_county",
                format!(
                    "the configuration is for county {}, this server serves {}",
                    config.county_code, authority.county_code
                ),
            ));
        }
        if let Some(now) = now {
            if config.expires_at <= now {
                return Err(ApiError::bad_request(
                    "config.expired",
                    format!("the configuration expired at {}", config.expires_at),
                ));
            }
        }
        let revocations = match &config.revocations {
            Some(list) => {
                let list = list
                    .verify(&authority.public_key)
                    .map_err(|e| ApiError::forbidden("config.bad_revocations", e.to_string()))?;
                if list.county_code != authority.county_code {
                    return Err(ApiError::bad_request(
                        "config.bad_revocations",
                        "the revocation list is for another county",
                    ));
                }
                Some(list)
            }
            None => None,
        };
        let mut certificates = HashMap::new();
        for signed_cert in &config.certificates {
            let cert = signed_cert.verify(&authority.public_key).map_err(|e| {
                ApiError::forbidden(
                    "config.bad_certificate",
                    format!("a certificate is not signed by the county authority: {e}"),
                )
            })?;
            if cert.authority_key_id != authority.key_id {
                return Err(ApiError::forbidden(
                    "config.bad_certificate",
                    format!(
                        "certificate of {} names another authority key",
                        cert.worker_id
                    ),
                ));
            }
            certificates.insert(signed_cert.hash(), cert);
        }
        Ok(Self {
            signed_json: signed_json.to_owned(),
            trust: Trust {
                authority_key_id: authority.key_id.clone(),
                authority_key: authority.public_key,
                revocations,
            },
            config,
            certificates,
        })
    }

    /// What storage keeps of it.
    pub fn stored(&self) -> (StoredConfig, ConfigRows) {
        let stored = StoredConfig {
            serial: self.config.serial,
            signed_json: self.signed_json.clone(),
        };
        let certificates = self
            .config
            .certificates
            .iter()
            .filter_map(|c| {
                let hash = c.hash();
                self.certificates
                    .get(&hash)
                    .map(|cert| (hash, cert.worker_id.clone(), c.body_bytes.clone()))
            })
            .collect();
        let revocations = self
            .trust
            .revocations
            .iter()
            .flat_map(|l| &l.entries)
            .map(|r| {
                (
                    r.certificate_hash,
                    r.worker_id.clone(),
                    serde_json::to_value(r.reason)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    r.effective_at.timestamp(),
                )
            })
            .collect();
        (
            stored,
            ConfigRows {
                certificates,
                revocations,
            },
        )
    }
}

/// The server's clock as a UTC time.
pub fn now() -> DateTime<Utc> {
    Utc::now()
}
