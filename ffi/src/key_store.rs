//! The host key store as a foreign interface: Android Keystore / iOS Keychain wrap the keys.
//!
//! Two kinds of secrets go through it: the random 32-byte database key of each store, and
//! the worker's Ed25519 signing key (PKCS#8 bytes, wrapped by the platform before it is
//! stored). The core reads the signing key only to sign; no exported call returns it.

use std::fmt;
use std::sync::Arc;

use ruhu_core::signing::keys::{KeyStoreError as CoreSecretKeyError, SecretKeyStore};
use ruhu_core::store::{KeyStore, KeyStoreError as CoreKeyStoreError};

/// Why the host key store could not give a key.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum KeyStoreError {
    /// The device wants the user (PIN, biometrics) first.
    #[error("the key store is locked")]
    Locked,
    /// Anything else.
    #[error("key store unavailable: {reason}")]
    Unavailable { reason: String },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for KeyStoreError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        KeyStoreError::Unavailable { reason: e.reason }
    }
}

/// Implemented by the app with the platform key store. Throw `Locked` when the user must
/// unlock the device first.
#[uniffi::export(with_foreign)]
pub trait HostKeyStore: Send + Sync + fmt::Debug {
    /// The random 32-byte key of a store, created and wrapped on first use.
    fn database_key(&self, store_id: String) -> Result<Vec<u8>, KeyStoreError>;

    /// The worker's signing key stored under `key_id` (unwrapped PKCS#8 bytes), or `null`
    /// when this tablet has none yet.
    fn load_signing_key(&self, key_id: String) -> Result<Option<Vec<u8>>, KeyStoreError>;

    /// Wraps and stores (or replaces) the signing key under `key_id`. Called once, when the
    /// core creates the tablet's key pair.
    fn save_signing_key(&self, key_id: String, pkcs8: Vec<u8>) -> Result<(), KeyStoreError>;
}

/// Adapts the foreign key store to the core's database-key interface.
pub(crate) struct ForeignKeyStore(pub Arc<dyn HostKeyStore>);

impl KeyStore for ForeignKeyStore {
    fn database_key(&self, store_id: &str) -> Result<Vec<u8>, CoreKeyStoreError> {
        self.0
            .database_key(store_id.to_owned())
            .map_err(|e| match e {
                KeyStoreError::Locked => CoreKeyStoreError::Locked,
                KeyStoreError::Unavailable { reason } => CoreKeyStoreError::Unavailable(reason),
            })
    }
}

/// Adapts the foreign key store to the core's signing-key interface.
#[derive(Debug, Clone)]
pub(crate) struct ForeignSecretKeys(pub Arc<dyn HostKeyStore>);

fn secret_key_error(e: KeyStoreError) -> CoreSecretKeyError {
    match e {
        KeyStoreError::Locked => CoreSecretKeyError::Locked,
        KeyStoreError::Unavailable { reason } => CoreSecretKeyError::Unavailable(reason),
    }
}

impl SecretKeyStore for ForeignSecretKeys {
    fn load_signing_key(&self, key_id: &str) -> Result<Option<Vec<u8>>, CoreSecretKeyError> {
        self.0
            .load_signing_key(key_id.to_owned())
            .map_err(secret_key_error)
    }

    fn save_signing_key(&self, key_id: &str, pkcs8: &[u8]) -> Result<(), CoreSecretKeyError> {
        self.0
            .save_signing_key(key_id.to_owned(), pkcs8.to_vec())
            .map_err(secret_key_error)
    }
}

/// A key store for unit tests: a fixed database key, no signing keys kept.
#[cfg(test)]
#[derive(Debug)]
pub(crate) struct FixedTestKeys;

#[cfg(test)]
impl HostKeyStore for FixedTestKeys {
    fn database_key(&self, _: String) -> Result<Vec<u8>, KeyStoreError> {
        Ok(vec![9; 32])
    }
    fn load_signing_key(&self, _: String) -> Result<Option<Vec<u8>>, KeyStoreError> {
        Ok(None)
    }
    fn save_signing_key(&self, _: String, _: Vec<u8>) -> Result<(), KeyStoreError> {
        Ok(())
    }
}
