//! Attachment bytes sealed at rest with AES-256-GCM (ADR 12): each attachment has its own key,
//! derived with HKDF-SHA256 from the database key and the attachment's hash, so the data
//! folder alone reveals no photo and no key is stored beside the files.
//!
//! | file | layout |
//! |---|---|
//! | complete: `attachments/<hash>` | `RHA1` · nonce (12) · ciphertext · tag (16) |
//! | partial: `attachments/partial/<hash>` | one record per received chunk: length of ciphertext + tag (u32 LE) · nonce (12) · ciphertext · tag |
//!
//! Nonces are random, so a discarded upload started again under the same key never reuses
//! one.

use std::io::{Read, Seek, SeekFrom};

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::hkdf::{Salt, HKDF_SHA256};
use ring::rand::{SecureRandom, SystemRandom};

use crate::storage::DatabaseKey;

/// Leading bytes of a sealed complete attachment.
pub const MAGIC: &[u8; 4] = b"RHA1";
const TAG_LEN: usize = 16;
/// Bytes a sealed complete attachment adds to its content.
pub const SEALED_OVERHEAD: u64 = (MAGIC.len() + NONCE_LEN + TAG_LEN) as u64;
const RECORD_HEADER: usize = 4 + NONCE_LEN;

/// Derives per-attachment keys from the database key.
#[derive(Clone)]
pub struct AttachmentKeys {
    secret: [u8; 32],
}

impl std::fmt::Debug for AttachmentKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AttachmentKeys(…)")
    }
}

impl AttachmentKeys {
    pub fn new(database_key: &DatabaseKey) -> Self {
        Self {
            secret: *database_key.bytes(),
        }
    }

    fn key(&self, hash: &[u8; 32]) -> Option<LessSafeKey> {
        let info = [hash.as_slice()];
        let prk = Salt::new(HKDF_SHA256, b"ruhu-server-attachments-v1").extract(&self.secret);
        let okm = prk.expand(&info, &AES_256_GCM).ok()?;
        Some(LessSafeKey::new(UnboundKey::from(okm)))
    }

    fn nonce() -> Option<[u8; NONCE_LEN]> {
        let mut n = [0u8; NONCE_LEN];
        SystemRandom::new().fill(&mut n).ok()?;
        Some(n)
    }

    fn seal_with(&self, hash: &[u8; 32], plain: &[u8]) -> Option<([u8; NONCE_LEN], Vec<u8>)> {
        let nonce = Self::nonce()?;
        let mut out = plain.to_vec();
        self.key(hash)?
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(hash),
                &mut out,
            )
            .ok()?;
        Some((nonce, out))
    }

    fn open_with(&self, hash: &[u8; 32], nonce: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut buf = sealed.to_vec();
        let plain = self
            .key(hash)?
            .open_in_place(nonce, Aad::from(hash), &mut buf)
            .ok()?;
        Some(plain.to_vec())
    }

    /// A complete attachment as stored.
    pub fn seal(&self, hash: &[u8; 32], plain: &[u8]) -> Option<Vec<u8>> {
        let (nonce, sealed) = self.seal_with(hash, plain)?;
        let mut out = Vec::with_capacity(plain.len() + SEALED_OVERHEAD as usize);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Some(out)
    }

    /// The content of a stored complete attachment; `None` if it is not sealed under this
    /// key or was altered.
    pub fn open(&self, hash: &[u8; 32], stored: &[u8]) -> Option<Vec<u8>> {
        let rest = stored.strip_prefix(MAGIC)?;
        if rest.len() < NONCE_LEN + TAG_LEN {
            return None;
        }
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        self.open_with(hash, nonce, sealed)
    }

    /// One received chunk as a record of the partial file.
    pub fn seal_record(&self, hash: &[u8; 32], chunk: &[u8]) -> Option<Vec<u8>> {
        let (nonce, sealed) = self.seal_with(hash, chunk)?;
        let len = u32::try_from(sealed.len()).ok()?;
        let mut out = Vec::with_capacity(RECORD_HEADER + sealed.len());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Some(out)
    }

    /// The content bytes a partial file holds, reading only its record headers; `None`
    /// when its records do not parse (a partial file of an earlier version, or one cut
    /// mid-record).
    pub fn partial_len(file: &mut (impl Read + Seek)) -> Option<u64> {
        let size = file.seek(SeekFrom::End(0)).ok()?;
        let mut at = 0u64;
        let mut total = 0u64;
        while at < size {
            file.seek(SeekFrom::Start(at)).ok()?;
            let mut len_bytes = [0u8; 4];
            file.read_exact(&mut len_bytes).ok()?;
            let len = u64::from(u32::from_le_bytes(len_bytes));
            if len < TAG_LEN as u64 {
                return None;
            }
            at = at.checked_add(RECORD_HEADER as u64 + len)?;
            if at > size {
                return None;
            }
            total += len - TAG_LEN as u64;
        }
        Some(total)
    }

    /// The content of a whole partial file; `None` if any record fails to open.
    pub fn open_records(&self, hash: &[u8; 32], partial: &[u8]) -> Option<Vec<u8>> {
        let mut at = 0usize;
        let mut out = Vec::new();
        while at < partial.len() {
            let len_bytes: [u8; 4] = partial.get(at..at + 4)?.try_into().ok()?;
            let len = u32::from_le_bytes(len_bytes) as usize;
            let nonce = partial.get(at + 4..at + RECORD_HEADER)?;
            let sealed = partial.get(at + RECORD_HEADER..at + RECORD_HEADER + len)?;
            out.extend_from_slice(&self.open_with(hash, nonce, sealed)?);
            at += RECORD_HEADER + len;
        }
        Some(out)
    }
}
