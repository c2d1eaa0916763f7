//! Attachments on [`TabletStore`]: photos of documents and of the home, and the household
//! member's signature or thumbprint image. Bytes in, a content hash out (list it in the visit's
//! `SealData.attachment_hashes_hex`); bytes out by hash. The bytes are kept encrypted in the
//! store's own folder, never in the device's shared photo gallery: apps pass camera output
//! straight to [`TabletStore::add_attachment`] and show images from
//! [`TabletStore::attachment`] without writing them anywhere else. Sync uploads and fetches
//! them (resumably) beside the changes that reference them.

use crate::error::FfiError;
use crate::store::TabletStore;
use crate::visit_records::content_hash;

#[uniffi::export]
impl TabletStore {
    /// Stores `bytes` as an attachment of the household; returns its SHA-256 (hex). The same
    /// bytes attached again, to any household, are stored and uploaded once. Refused, writing
    /// nothing, when empty or over the size limit (`attachment.too_large`).
    pub fn add_attachment(&self, household_id: String, bytes: Vec<u8>) -> Result<String, FfiError> {
        Ok(self
            .store()?
            .add_attachment(&household_id, &bytes)?
            .to_hex())
    }

    /// The bytes of an attachment this tablet holds (checked against their hash).
    pub fn attachment(&self, hash_hex: String) -> Result<Vec<u8>, FfiError> {
        Ok(self
            .store()?
            .attachment(&content_hash("hash_hex", &hash_hex)?)?)
    }

    /// Whether this tablet holds the attachment (a pulled visit's photos arrive with the sync
    /// after the one that brought the visit if the server did not have them yet).
    pub fn has_attachment(&self, hash_hex: String) -> Result<bool, FfiError> {
        Ok(self
            .store()?
            .has_attachment(&content_hash("hash_hex", &hash_hex)?)?)
    }
}
