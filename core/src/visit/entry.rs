//! How one signature is stored in the household document: the team member's
//! [`VisitSignature`] and their [`SignedCertificate`], in a strict binary framing, under
//! the key `"<content hash hex>/<worker id>/<role>"` of the visit's `signatures` map.
//! Certificates travel with the signatures, so a record verifies anywhere, offline.
//!
//! | bytes | field |
//! |---|---|
//! | 1 | tag `b'S'` |
//! | 1 | version (1) |
//! | 2 + n | signed payload (canonical JSON, big-endian length) |
//! | 64 | Ed25519 signature |
//! | 2 + n | certificate body (canonical JSON) |
//! | 64 | the authority's signature over the certificate |

use crate::signing::attestation::{VisitSignature, MAX_PAYLOAD_BYTES};
use crate::signing::certificate::{Role, SignedCertificate, MAX_CERTIFICATE_BYTES};
use crate::signing::keys::SIGNATURE_LEN;
use crate::visit::content::ContentHash;

/// First byte of a stored signature entry.
pub const ENTRY_TAG: u8 = b'S';
/// The entry version this code writes and reads.
pub const ENTRY_VERSION: u8 = 1;

/// A signature as stored: the signature and the signer's certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureEntry {
    /// The team member's signature.
    pub signature: VisitSignature,
    /// The certificate it was made under.
    pub certificate: SignedCertificate,
}

/// The map key of a signature: content hash, signer and role.
pub fn signature_key(content_hash: &ContentHash, worker_id: &str, role: Role) -> String {
    format!("{content_hash}/{worker_id}/{}", role.as_str())
}

/// Splits a signature key into its content hash, worker id and role name.
pub fn split_signature_key(key: &str) -> Option<(ContentHash, &str, &str)> {
    let (hash, rest) = key.split_once('/')?;
    let (worker, role) = rest.rsplit_once('/')?;
    Some((ContentHash::from_hex(hash)?, worker, role))
}

fn push_block(out: &mut Vec<u8>, bytes: &[u8]) -> Option<()> {
    out.extend_from_slice(&u16::try_from(bytes.len()).ok()?.to_be_bytes());
    out.extend_from_slice(bytes);
    Some(())
}

impl SignatureEntry {
    /// The stored bytes; `None` if a part is over its size limit.
    pub fn encode(&self) -> Option<Vec<u8>> {
        if self.signature.payload_bytes.len() > MAX_PAYLOAD_BYTES
            || self.certificate.body_bytes.len() > MAX_CERTIFICATE_BYTES
        {
            return None;
        }
        let mut out = Vec::with_capacity(
            2 + 4
                + 2 * SIGNATURE_LEN
                + self.signature.payload_bytes.len()
                + self.certificate.body_bytes.len(),
        );
        out.push(ENTRY_TAG);
        out.push(ENTRY_VERSION);
        push_block(&mut out, &self.signature.payload_bytes)?;
        out.extend_from_slice(&self.signature.signature);
        push_block(&mut out, &self.certificate.body_bytes)?;
        out.extend_from_slice(&self.certificate.signature);
        Some(out)
    }

    /// Strictly decodes stored bytes: tag, version, lengths within limits, nothing left over.
    pub fn decode(bytes: &[u8]) -> Result<Self, String> {
        let mut rest = bytes;
        let mut take = |n: usize| -> Result<&[u8], String> {
            if rest.len() < n {
                return Err("signature entry is truncated".into());
            }
            let (head, tail) = rest.split_at(n);
            rest = tail;
            Ok(head)
        };
        if take(1)? != [ENTRY_TAG] {
            return Err("not a signature entry".into());
        }
        if take(1)? != [ENTRY_VERSION] {
            return Err("unsupported signature entry version".into());
        }
        let len = usize::from(u16::from_be_bytes([take(1)?[0], take(1)?[0]]));
        if len > MAX_PAYLOAD_BYTES {
            return Err("signed payload too large".into());
        }
        let payload_bytes = take(len)?.to_vec();
        let mut signature = [0u8; SIGNATURE_LEN];
        signature.copy_from_slice(take(SIGNATURE_LEN)?);
        let len = usize::from(u16::from_be_bytes([take(1)?[0], take(1)?[0]]));
        if len > MAX_CERTIFICATE_BYTES {
            return Err("certificate too large".into());
        }
        let body_bytes = take(len)?.to_vec();
        let mut cert_signature = [0u8; SIGNATURE_LEN];
        cert_signature.copy_from_slice(take(SIGNATURE_LEN)?);
        if !rest.is_empty() {
            return Err(format!(
                "{} unexpected bytes after the signature entry",
                rest.len()
            ));
        }
        Ok(Self {
            signature: VisitSignature {
                payload_bytes,
                signature,
            },
            certificate: SignedCertificate {
                body_bytes,
                signature: cert_signature,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_is_strict() {
        let entry = SignatureEntry {
            signature: VisitSignature {
                payload_bytes: b"{}".to_vec(),
                signature: [7; 64],
            },
            certificate: SignedCertificate {
                body_bytes: b"{\"a\":1}".to_vec(),
                signature: [9; 64],
            },
        };
        let bytes = entry.encode().unwrap();
        assert_eq!(SignatureEntry::decode(&bytes).unwrap(), entry);
        for n in 0..bytes.len() {
            assert!(SignatureEntry::decode(&bytes[..n]).is_err());
        }
        let mut long = bytes.clone();
        long.push(0);
        assert!(SignatureEntry::decode(&long).is_err());
        let key = signature_key(&ContentHash([3; 32]), "w/1", Role::CaseHandler);
        let (h, w, r) = split_signature_key(&key).unwrap();
        assert_eq!((h, w, r), (ContentHash([3; 32]), "w/1", "case_handler"));
    }
}
