//! The host key store as a foreign interface: Android Keystore / iOS Keychain wrap the key.

use std::fmt;
use std::sync::Arc;

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

/// Implemented by the app: returns the random 32-byte key of a store, creating and wrapping
/// it with the platform key store on first use. Throw `Locked` when the user must unlock.
#[uniffi::export(with_foreign)]
pub trait HostKeyStore: Send + Sync + fmt::Debug {
    fn database_key(&self, store_id: String) -> Result<Vec<u8>, KeyStoreError>;
}

/// Adapts the foreign key store to the core's interface.
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
