//! The enrollment bundle a tablet imports to join its county's sync: the server's address and
//! TLS pin, the county authority's public key, and the worker's certificate. The county
//! authority command writes it; the JSON shape is fixed by `docs/sync-protocol.md`.

use serde::{Deserialize, Serialize};

use crate::error::{Error, FieldError, Result};
use crate::signing::certificate::SignedCertificate;
use crate::signing::keys::{PublicKey, SecretKeyStore, WorkerSigner};
use crate::store::Store;

/// Marks an enrollment bundle.
pub const ENROLLMENT_FORMAT: &str = "ruhu-enrollment/v1";

/// The county authority's public key as bundles carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorityPublicKey {
    pub format: String,
    pub county_code: String,
    pub key_id: String,
    pub public_key: PublicKey,
}

/// What a tablet imports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollmentBundle {
    pub format: String,
    /// `https://host:port`, or `http://127.0.0.1:port` with the pin `loopback-plain`.
    pub server_url: String,
    /// SHA-256 (hex) of the server's TLS certificate (DER), or `loopback-plain`.
    pub server_tls_pin: String,
    pub authority: AuthorityPublicKey,
    pub certificate: SignedCertificate,
}

impl EnrollmentBundle {
    /// Parses a bundle, refusing anything that is not one.
    pub fn parse(json: &str) -> Result<Self> {
        let bundle: Self = serde_json::from_str(json).map_err(|e| {
            Error::invalid(FieldError::new(
                "bundle",
                "enrollment.malformed",
                e.to_string(),
            ))
        })?;
        if bundle.format != ENROLLMENT_FORMAT {
            return Err(Error::invalid(
                FieldError::new(
                    "format",
                    "enrollment.format",
                    "not an enrollment bundle of this version",
                )
                .with("format", &bundle.format),
            ));
        }
        let plain_loopback = bundle.server_tls_pin == "loopback-plain"
            && (bundle.server_url.starts_with("http://127.")
                || bundle.server_url.starts_with("http://localhost")
                || bundle.server_url.starts_with("http://[::1]"));
        let pinned_tls = bundle.server_url.starts_with("https://")
            && bundle.server_tls_pin.len() == 64
            && bundle.server_tls_pin.bytes().all(|b| b.is_ascii_hexdigit());
        if !plain_loopback && !pinned_tls {
            return Err(Error::invalid(FieldError::new(
                "server_url",
                "enrollment.insecure_server",
                "the server must be https with a certificate pin (plain http only on loopback)",
            )));
        }
        Ok(bundle)
    }
}

impl Store {
    /// Joins the county: trusts its authority key, records the county, and sets this device's
    /// signing identity from the bundle's certificate (which must certify `signer`'s key and
    /// name this store's worker). All checks happen before anything is written that matters:
    /// a bundle for another authority or another key changes nothing.
    pub fn enroll(&mut self, bundle: &EnrollmentBundle, signer: WorkerSigner) -> Result<()> {
        let cert = bundle
            .certificate
            .verify(&bundle.authority.public_key)
            .map_err(|e| {
                Error::invalid(FieldError::new(
                    "certificate",
                    "enrollment.certificate",
                    e.to_string(),
                ))
            })?;
        if cert.public_key != signer.public_key() {
            return Err(Error::invalid(FieldError::new(
                "certificate",
                "identity.key_mismatch",
                "the certificate does not certify this device's key",
            )));
        }
        if cert.worker_id != self.worker_id() {
            return Err(Error::invalid(FieldError::new(
                "certificate",
                "identity.worker_mismatch",
                "the certificate is for another worker",
            )));
        }
        if let Some(county) = self.county_code()? {
            if county != bundle.authority.county_code {
                return Err(Error::invalid(FieldError::new(
                    "authority",
                    "enrollment.other_county",
                    "this store belongs to another county",
                )));
            }
        }
        self.set_authority(&bundle.authority.key_id, bundle.authority.public_key)?;
        self.set_county_code(&bundle.authority.county_code)?;
        let key_id = signer.key_id().to_owned();
        self.set_signing_identity(signer, bundle.certificate.clone())?;
        let conn = self.connection();
        Store::state_set(conn, SERVER_URL_KEY, bundle.server_url.as_bytes())?;
        Store::state_set(conn, SERVER_PIN_KEY, bundle.server_tls_pin.as_bytes())?;
        Store::state_set(conn, SIGNING_KEY_ID_KEY, key_id.as_bytes())?;
        Ok(())
    }

    /// The server this store was enrolled with: URL and TLS pin (`None` before enrollment).
    pub fn server(&self) -> Result<Option<(String, String)>> {
        let text = |key| -> Result<Option<String>> {
            Ok(self.state_get(key)?.and_then(|b| String::from_utf8(b).ok()))
        };
        Ok(text(SERVER_URL_KEY)?.zip(text(SERVER_PIN_KEY)?))
    }

    /// After the app starts again: takes the enrolled worker's signing key from the host key
    /// store and their certificate from the store, so this opening signs as them. Returns
    /// `false` for a store that was never enrolled.
    pub fn resume_signing(&mut self, keys: &dyn SecretKeyStore) -> Result<bool> {
        let Some(key_id) = self
            .state_get(SIGNING_KEY_ID_KEY)?
            .and_then(|b| String::from_utf8(b).ok())
        else {
            return Ok(false);
        };
        let signer = WorkerSigner::open(keys, &key_id)
            .map_err(|e| match e {
                crate::signing::keys::KeyError::Store(
                    crate::signing::keys::KeyStoreError::Locked,
                ) => Error::KeyStoreLocked,
                other => Error::KeyStore(other.to_string()),
            })?
            .ok_or_else(|| {
                Error::KeyStore(format!(
                    "the signing key {key_id} is missing from the key store"
                ))
            })?;
        let trust = self.trust()?;
        let certificate = self
            .certificates_of(self.worker_id())?
            .into_iter()
            .filter(|c| {
                c.verify(&trust.authority_key)
                    .is_ok_and(|w| w.public_key == signer.public_key())
            })
            .max_by_key(|c| c.verify(&trust.authority_key).map(|w| w.valid_until).ok())
            .ok_or_else(|| Error::NotFound {
                what: "certificate for this device's key",
                id: self.worker_id().to_owned(),
            })?;
        self.set_signing_identity(signer, certificate)?;
        Ok(true)
    }
}

const SERVER_URL_KEY: &str = "server_url";
const SERVER_PIN_KEY: &str = "server_pin";
const SIGNING_KEY_ID_KEY: &str = "signing_key_id";
