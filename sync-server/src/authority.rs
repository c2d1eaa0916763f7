//! The county authority's side: its key file, and the signed documents it issues (worker
//! certificates, revocation lists, county configurations, enrollment bundles). The
//! `county-authority` command is a thin wrapper around these functions.
//!
//! The authority's private key never belongs on the server: [`init_key`] refuses a path
//! inside a folder holding a server database, and the server refuses to start when
//! [`find_private_keys`] finds one under its data folder.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use ring::rand::SystemRandom;
use ring::signature::Ed25519KeyPair;
use ruhu_core::signing::certificate::{
    is_county_code, Role, Scope, SignedCertificate, WorkerCertificate, CERTIFICATE_FORMAT,
};
use ruhu_core::signing::keys::{PublicKey, SigningKeyPair};
use ruhu_core::signing::revocation::{
    Revocation, RevocationList, RevocationReason, SignedRevocationList, REVOCATION_FORMAT,
};
use ruhu_core::signing::wire::whole_seconds;
use ruhu_core::sync::county_config::parse_version;
use ruhu_core::sync::enrollment::ENROLLMENT_FORMAT;
pub use ruhu_core::sync::enrollment::{AuthorityPublicKey, EnrollmentBundle};
use ruhu_core::sync::{CountyConfig, CountyData, SignedCountyConfig};
use ruhu_core::visit::policy::VisitPolicy;
use serde::{Deserialize, Serialize};

use crate::storage::DATABASE_FILE;

/// Marks an authority private key file.
pub const PRIVATE_KEY_FORMAT: &str = "ruhu-county-authority-private-key/v1";
/// Marks an authority public key file.
pub const PUBLIC_KEY_FORMAT: &str = "ruhu-county-authority-public-key/v1";
/// The name under which the server looks for the authority's public key in its data folder.
pub const PUBLIC_KEY_FILE: &str = "authority-public-key.json";

/// Why an authority command failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthorityError {
    #[error("{0}")]
    Refused(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> AuthorityError + '_ {
    move |source| AuthorityError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn invalid(e: impl std::fmt::Display) -> AuthorityError {
    AuthorityError::Invalid(e.to_string())
}

/// The authority's private key file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PrivateKeyFile {
    format: String,
    county_code: String,
    key_id: String,
    /// PKCS#8 v2 of the Ed25519 key, hex.
    pkcs8: String,
}

/// Reads an authority public key file.
pub fn read_public_key(path: &Path) -> Result<AuthorityPublicKey, AuthorityError> {
    let text = fs::read_to_string(path).map_err(io(path))?;
    let key: AuthorityPublicKey = serde_json::from_str(&text).map_err(|e| {
        AuthorityError::Invalid(format!(
            "{}: not an authority public key: {e}",
            path.display()
        ))
    })?;
    if key.format != PUBLIC_KEY_FORMAT || !is_county_code(&key.county_code) {
        return Err(AuthorityError::Invalid(format!(
            "{}: not an authority public key",
            path.display()
        )));
    }
    Ok(key)
}

/// The county authority: its key, county and key id.
#[derive(Debug)]
pub struct Authority {
    pub county_code: String,
    pub key_id: String,
    pub key: SigningKeyPair,
}

/// The folder, among `path`'s ancestors, that holds a server database.
fn server_folder_above(path: &Path) -> Option<PathBuf> {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    absolute
        .ancestors()
        .skip(1)
        .find(|dir| dir.join(DATABASE_FILE).exists())
        .map(Path::to_path_buf)
}

/// Creates a new authority key in `key_file` (mode 0600, never overwriting).
pub fn init_key(
    key_file: &Path,
    county_code: &str,
    key_id: &str,
) -> Result<Authority, AuthorityError> {
    if !is_county_code(county_code) {
        return Err(AuthorityError::Invalid(format!(
            "{county_code:?} is not a 6-digit county code"
        )));
    }
    ruhu_core::signing::wire::check_identifier("key id", key_id)
        .map_err(AuthorityError::Invalid)?;
    if let Some(folder) = server_folder_above(key_file) {
        return Err(AuthorityError::Refused(format!(
            "refusing to write the authority key into {}: that folder holds a sync server database; keep the key off the server",
            folder.display()
        )));
    }
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
        .map_err(|_| AuthorityError::Invalid("key generation failed".into()))?;
    let key = SigningKeyPair::from_pkcs8(pkcs8.as_ref()).map_err(invalid)?;
    let file = PrivateKeyFile {
        format: PRIVATE_KEY_FORMAT.into(),
        county_code: county_code.into(),
        key_id: key_id.into(),
        pkcs8: hex::encode(pkcs8.as_ref()),
    };
    let text = serde_json::to_string_pretty(&file).map_err(invalid)?;
    if let Some(parent) = key_file.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(io(parent))?;
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut out = options.open(key_file).map_err(io(key_file))?;
    out.write_all(text.as_bytes())
        .and_then(|()| out.sync_all())
        .map_err(io(key_file))?;
    Ok(Authority {
        county_code: county_code.into(),
        key_id: key_id.into(),
        key,
    })
}

impl Authority {
    /// Reads the authority key file.
    pub fn open(key_file: &Path) -> Result<Self, AuthorityError> {
        let text = fs::read_to_string(key_file).map_err(io(key_file))?;
        let file: PrivateKeyFile = serde_json::from_str(&text).map_err(|e| {
            AuthorityError::Invalid(format!("{}: not an authority key: {e}", key_file.display()))
        })?;
        if file.format != PRIVATE_KEY_FORMAT {
            return Err(AuthorityError::Invalid(format!(
                "{}: not an authority key",
                key_file.display()
            )));
        }
        let pkcs8 = hex::decode(&file.pkcs8).map_err(invalid)?;
        Ok(Self {
            county_code: file.county_code,
            key_id: file.key_id,
            key: SigningKeyPair::from_pkcs8(&pkcs8).map_err(invalid)?,
        })
    }

    /// The public key file's content.
    pub fn public_key(&self) -> AuthorityPublicKey {
        AuthorityPublicKey {
            format: PUBLIC_KEY_FORMAT.into(),
            county_code: self.county_code.clone(),
            key_id: self.key_id.clone(),
            public_key: self.key.public_key(),
        }
    }

    /// Certifies a worker's tablet key.
    pub fn certify(
        &self,
        request: &CertificateRequest,
        now: DateTime<Utc>,
    ) -> Result<SignedCertificate, AuthorityError> {
        let now = whole_seconds(now);
        WorkerCertificate {
            format: CERTIFICATE_FORMAT,
            worker_id: request.worker_id.clone(),
            name: request.name.clone(),
            roles: request.roles.clone(),
            scope: request.scope.clone(),
            public_key: request.public_key,
            valid_from: now,
            valid_until: now + Duration::days(request.valid_days),
            issued_at: now,
            authority_key_id: self.key_id.clone(),
        }
        .sign(&self.key)
        .map_err(invalid)
    }

    /// A new revocation list: `previous`'s entries plus the revocation of `certificate`,
    /// serial one higher.
    pub fn revoke(
        &self,
        certificate: &SignedCertificate,
        reason: RevocationReason,
        effective_at: DateTime<Utc>,
        previous: Option<&SignedRevocationList>,
        now: DateTime<Utc>,
    ) -> Result<SignedRevocationList, AuthorityError> {
        let cert = certificate
            .verify(&self.key.public_key())
            .map_err(invalid)?;
        let (serial, mut entries) = match previous {
            Some(list) => {
                let list = list.verify(&self.key.public_key()).map_err(invalid)?;
                (list.serial + 1, list.entries)
            }
            None => (1, Vec::new()),
        };
        entries.push(Revocation {
            worker_id: cert.worker_id,
            certificate_hash: certificate.hash(),
            reason,
            effective_at: whole_seconds(effective_at),
        });
        RevocationList {
            format: REVOCATION_FORMAT,
            county_code: self.county_code.clone(),
            serial,
            issued_at: whole_seconds(now),
            entries,
        }
        .sign(&self.key)
        .map_err(invalid)
    }

    /// A signed county configuration.
    pub fn config(
        &self,
        request: ConfigRequest,
        now: DateTime<Utc>,
    ) -> Result<SignedCountyConfig, AuthorityError> {
        if parse_version(&request.min_app_version).is_none() {
            return Err(AuthorityError::Invalid(format!(
                "{:?} is not a major.minor.patch version",
                request.min_app_version
            )));
        }
        for cert in &request.certificates {
            cert.verify(&self.key.public_key()).map_err(|e| {
                AuthorityError::Invalid(format!("a certificate is not this authority's: {e}"))
            })?;
        }
        let now = whole_seconds(now);
        CountyConfig {
            format: 1,
            county_code: self.county_code.clone(),
            serial: request.serial,
            issued_at: now,
            expires_at: now + Duration::days(request.valid_days),
            min_app_version: request.min_app_version,
            visit_policy: request.policy,
            certificates: request.certificates,
            revocations: request.revocations,
            data: request.data,
        }
        .sign(&self.key)
        .map_err(invalid)
    }

    /// The enrollment bundle a tablet imports.
    pub fn enroll(
        &self,
        server_url: &str,
        server_pin: &str,
        certificate: &SignedCertificate,
    ) -> Result<EnrollmentBundle, AuthorityError> {
        certificate
            .verify(&self.key.public_key())
            .map_err(invalid)?;
        let pin_ok = server_pin == "loopback-plain"
            || (server_pin.len() == 64
                && server_pin
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        if !pin_ok {
            return Err(AuthorityError::Invalid(
                "the server pin is the SHA-256 of its TLS certificate (64 lower-case hex digits) or loopback-plain".into(),
            ));
        }
        let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
            .iter()
            .any(|prefix| {
                server_url.strip_prefix(prefix).is_some_and(|rest| {
                    rest.is_empty() || rest.starts_with(':') || rest.starts_with('/')
                })
            });
        let plain_ok = server_pin == "loopback-plain" && loopback;
        let tls_ok = server_pin != "loopback-plain" && server_url.starts_with("https://");
        if !(plain_ok || tls_ok) {
            return Err(AuthorityError::Invalid(
                "the server URL must be https:// with a certificate pin, or http:// on loopback with loopback-plain".into(),
            ));
        }
        Ok(EnrollmentBundle {
            format: ENROLLMENT_FORMAT.into(),
            server_url: server_url.trim_end_matches('/').into(),
            server_tls_pin: server_pin.into(),
            authority: self.public_key(),
            certificate: certificate.clone(),
        })
    }
}

/// What a worker certificate says.
#[derive(Debug, Clone)]
pub struct CertificateRequest {
    pub worker_id: String,
    pub name: String,
    pub roles: Vec<Role>,
    pub scope: Scope,
    pub public_key: PublicKey,
    pub valid_days: i64,
}

/// What a county configuration says.
#[derive(Debug, Clone)]
pub struct ConfigRequest {
    pub serial: u64,
    pub min_app_version: String,
    pub valid_days: i64,
    pub policy: VisitPolicy,
    pub certificates: Vec<SignedCertificate>,
    pub revocations: Option<SignedRevocationList>,
    /// Form templates, standards, calendar, time zone.
    pub data: CountyData,
}

/// Files under `dir` (a few levels deep) that hold a private key: an authority key file, a
/// PKCS#8 key file, or anything carrying the authority key marker.
pub fn find_private_keys(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    scan(dir, 0, &mut found);
    found
}

fn scan(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = entry.metadata() else { continue };
        if meta.is_dir() {
            if depth < 4 {
                scan(&path, depth + 1, found);
            }
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(DATABASE_FILE) || meta.len() > 1 << 20 {
            continue;
        }
        let Ok(bytes) = fs::read(&path) else { continue };
        let marker = PRIVATE_KEY_FORMAT.as_bytes();
        let has_marker = bytes.windows(marker.len()).any(|w| w == marker);
        if has_marker || name.ends_with(".pkcs8") || SigningKeyPair::from_pkcs8(&bytes).is_ok() {
            found.push(path);
        }
    }
}
