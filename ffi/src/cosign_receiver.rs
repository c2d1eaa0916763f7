//! `CoSignReceiver`: a co-signer's tablet scans the sealed record's QR codes (any order,
//! repeats ignored, each integrity-checked), rebuilds the record, checks that it hashes to
//! the announced hash and keeps it in the store, so the worker can read it and then sign
//! exactly what their own tablet shows (`TabletStore.cosign`).

use std::sync::{Arc, Mutex, MutexGuard};

use ruhu_core::signing::qr_chunks::Accepted;
use ruhu_core::visit::cosign::ContentReceiver;

use crate::error::FfiError;
use crate::store::TabletStore;
use crate::visit_records::{content_hash, ChunkProgressData, SealedRevisionData};

/// Collects the scanned QR chunks of one sealed record for a co-signer's store.
#[derive(Debug, uniffi::Object)]
pub struct CoSignReceiver {
    store: Arc<TabletStore>,
    receiver: Mutex<ContentReceiver>,
}

impl CoSignReceiver {
    fn receiver(&self) -> Result<MutexGuard<'_, ContentReceiver>, FfiError> {
        self.receiver.lock().map_err(|_| FfiError::Storage {
            code: "receiver.poisoned".into(),
            detail: "an earlier call failed mid-way; start scanning again".into(),
        })
    }
}

#[uniffi::export]
impl CoSignReceiver {
    /// A receiver for `store` that takes the record of the first chunk scanned.
    #[uniffi::constructor]
    pub fn new(store: Arc<TabletStore>) -> Arc<Self> {
        Arc::new(Self {
            store,
            receiver: Mutex::new(ContentReceiver::new()),
        })
    }

    /// A receiver for `store` that accepts only the record with this content hash.
    #[uniffi::constructor]
    pub fn expecting(
        store: Arc<TabletStore>,
        content_hash_hex: String,
    ) -> Result<Arc<Self>, FfiError> {
        let expected = content_hash("content_hash_hex", &content_hash_hex)?;
        Ok(Arc::new(Self {
            store,
            receiver: Mutex::new(ContentReceiver::expecting(expected)),
        }))
    }

    /// Takes one scanned chunk; a chunk scanned before is reported as a duplicate.
    pub fn accept(&self, chunk: Vec<u8>) -> Result<ChunkProgressData, FfiError> {
        let mut receiver = self.receiver()?;
        let accepted = receiver.accept(&chunk)?;
        let (received, total) = receiver.progress().unwrap_or_default();
        Ok(ChunkProgressData {
            duplicate: accepted == Accepted::Duplicate,
            received: u32::try_from(received).unwrap_or(u32::MAX),
            total: u32::try_from(total).unwrap_or(u32::MAX),
        })
    }

    /// Rebuilds the record once every chunk arrived, checks it and keeps it in the store;
    /// returns it for the worker to read before co-signing.
    pub fn finish(&self) -> Result<SealedRevisionData, FfiError> {
        let received = self.receiver()?.finish()?;
        self.store.store()?.receive_content(&received)?;
        Ok(received.into())
    }
}
