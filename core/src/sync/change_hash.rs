//! The hash of a raw Automerge change without decoding it.
//!
//! An uncompressed change chunk is `magic (4) | checksum (4) | type 1 (1) | LEB128 length |
//! body`; its hash is SHA-256 over everything after the checksum, and the checksum is the
//! hash's first 4 bytes. [`hash_of`] computes that directly when the bytes are one such chunk
//! whose checksum matches, and decodes the change otherwise — so it always returns what
//! `Change::from_bytes(bytes)?.hash()` returns, at the cost of one SHA-256 for the common case.

use std::panic::{catch_unwind, AssertUnwindSafe};

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const CHANGE_CHUNK: u8 = 1;

/// The body length after the chunk type, and where the body starts.
fn leb128(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, b) in bytes.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

fn direct(bytes: &[u8]) -> Option<[u8; 32]> {
    if bytes.len() < 10 || bytes[..4] != MAGIC || bytes[8] != CHANGE_CHUNK {
        return None;
    }
    let (len, used) = leb128(&bytes[9..])?;
    if u64::try_from(bytes.len() - 9 - used).ok()? != len {
        return None;
    }
    let hash = ring::digest::digest(&ring::digest::SHA256, &bytes[8..]);
    let hash: [u8; 32] = hash.as_ref().try_into().ok()?;
    (hash[..4] == bytes[4..8]).then_some(hash)
}

/// The change hash of `bytes`, or `None` when they are not a change.
pub fn hash_of(bytes: &[u8]) -> Option<[u8; 32]> {
    direct(bytes).or_else(|| {
        catch_unwind(AssertUnwindSafe(|| {
            automerge::Change::from_bytes(bytes.to_vec()).ok()
        }))
        .ok()
        .flatten()
        .map(|c| c.hash().0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ROOT};

    #[test]
    fn equals_the_decoded_hash_for_small_and_large_changes() {
        let mut doc = AutoCommit::new();
        for i in 0..40u64 {
            // Up to ~4 KB: past the size where Automerge's own encoding compresses.
            doc.put(ROOT, format!("k{i}"), "值".repeat((i * 40) as usize))
                .unwrap();
            doc.commit();
        }
        let mut direct_hits = 0;
        for change in doc.get_changes(&[]) {
            let raw = change.raw_bytes().to_vec();
            assert_eq!(hash_of(&raw), Some(change.hash().0));
            direct_hits += usize::from(direct(&raw).is_some());
            let mut c = change.clone();
            let stored = c.bytes().to_vec();
            assert_eq!(hash_of(&stored), Some(change.hash().0));
        }
        assert_eq!(direct_hits, 40, "raw changes take the direct path");
    }

    #[test]
    fn refuses_what_is_not_a_change() {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "k", 1).unwrap();
        doc.commit();
        let mut raw = doc.get_changes(&[])[0].raw_bytes().to_vec();
        assert_eq!(hash_of(&raw[..raw.len() - 1]), None, "truncated");
        let last = raw.len() - 1;
        raw[last] ^= 1;
        assert_eq!(hash_of(&raw), None, "checksum no longer matches");
        assert_eq!(hash_of(b""), None);
        assert_eq!(hash_of(&doc.save()), None, "a document is not a change");
    }
}
