//! Signatures of the sync protocol: every change is signed by its author (binding the change,
//! and so its actor id, to a worker certificate), and every request is signed by the worker
//! who sends it (method, path, body hash, time, nonce). No passwords travel.

use ring::digest::{digest, SHA256};
use ring::rand::{SecureRandom, SystemRandom};

use super::messages::SignedChange;
use crate::signing::keys::{verify, PublicKey, WorkerSigner};

/// Domain separation of change signatures.
pub const CHANGE_CONTEXT: &[u8] = b"ruhu/change/v1\0";
/// Domain separation of request signatures.
pub const REQUEST_CONTEXT: &[u8] = b"ruhu/request/v1\0";
/// How far a request's timestamp may be from the server's clock.
pub const REQUEST_CLOCK_SKEW_SECONDS: i64 = 300;

/// The bytes a change signature covers: context, household id, change hash.
pub fn change_signing_bytes(household_id: &str, change_hash: &[u8; 32]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(CHANGE_CONTEXT.len() + household_id.len() + 33);
    bytes.extend_from_slice(CHANGE_CONTEXT);
    bytes.extend_from_slice(household_id.as_bytes());
    bytes.push(0);
    bytes.extend_from_slice(change_hash);
    bytes
}

/// Signs a raw change of `household_id` as the worker holding `signer`.
pub fn sign_change(
    signer: &WorkerSigner,
    certificate_hash: [u8; 32],
    household_id: &str,
    change_hash: &[u8; 32],
    change: Vec<u8>,
) -> SignedChange {
    let signature = signer.sign(&change_signing_bytes(household_id, change_hash));
    SignedChange {
        change,
        signer: certificate_hash,
        signature,
        received_at: 0,
    }
}

/// Whether `signed` carries a valid signature by `public_key` for this household and hash.
pub fn verify_change(
    signed: &SignedChange,
    household_id: &str,
    change_hash: &[u8; 32],
    public_key: &PublicKey,
) -> bool {
    verify(
        public_key,
        &change_signing_bytes(household_id, change_hash),
        &signed.signature,
    )
}

/// The authentication of one request, sent as the `Ruhu-Auth` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestAuth {
    /// Hash of the sender's certificate.
    pub signer: [u8; 32],
    /// Unix seconds on the sender's clock.
    pub timestamp: i64,
    /// Random, never reused: the server refuses a nonce it has seen.
    pub nonce: [u8; 16],
    pub signature: [u8; 64],
}

/// The bytes a request signature covers.
pub fn request_signing_bytes(
    method: &str,
    path: &str,
    body: &[u8],
    timestamp: i64,
    nonce: &[u8; 16],
) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(128 + path.len());
    bytes.extend_from_slice(REQUEST_CONTEXT);
    bytes.extend_from_slice(method.as_bytes());
    bytes.push(0);
    bytes.extend_from_slice(path.as_bytes());
    bytes.push(0);
    bytes.extend_from_slice(digest(&SHA256, body).as_ref());
    bytes.extend_from_slice(&timestamp.to_be_bytes());
    bytes.extend_from_slice(nonce);
    bytes
}

impl RequestAuth {
    /// Signs a request now.
    pub fn sign(
        signer: &WorkerSigner,
        certificate_hash: [u8; 32],
        method: &str,
        path: &str,
        body: &[u8],
        now: i64,
    ) -> Option<Self> {
        let mut nonce = [0u8; 16];
        SystemRandom::new().fill(&mut nonce).ok()?;
        let signature = signer.sign(&request_signing_bytes(method, path, body, now, &nonce));
        Some(Self {
            signer: certificate_hash,
            timestamp: now,
            nonce,
            signature,
        })
    }

    /// Whether the signature is valid for this request under `public_key`.
    pub fn verify(&self, method: &str, path: &str, body: &[u8], public_key: &PublicKey) -> bool {
        verify(
            public_key,
            &request_signing_bytes(method, path, body, self.timestamp, &self.nonce),
            &self.signature,
        )
    }

    /// `signer.timestamp.nonce.signature`, hex.
    pub fn to_header(&self) -> String {
        format!(
            "{}.{}.{}.{}",
            hex::encode(self.signer),
            self.timestamp,
            hex::encode(self.nonce),
            hex::encode(self.signature)
        )
    }

    /// Parses the header strictly.
    pub fn from_header(value: &str) -> Option<Self> {
        let mut parts = value.split('.');
        let (signer, timestamp, nonce, signature) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || timestamp.len() > 12 {
            return None;
        }
        Some(Self {
            signer: fixed_hex(signer)?,
            timestamp: timestamp.parse().ok().filter(|t: &i64| *t >= 0)?,
            nonce: fixed_hex(nonce)?,
            signature: fixed_hex(signature)?,
        })
    }
}

fn fixed_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != 2 * N || text.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let bytes = hex::decode(text).ok()?;
    bytes.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::keys::MemoryKeyStore;

    #[test]
    fn change_and_request_signatures_bind_what_they_claim() {
        let keys = MemoryKeyStore::default();
        let signer = WorkerSigner::create(&keys, "w1").unwrap();
        let other = WorkerSigner::create(&keys, "w2").unwrap();
        let hash = [5u8; 32];
        let signed = sign_change(&signer, [1; 32], "hh1", &hash, vec![1, 2]);
        assert!(verify_change(&signed, "hh1", &hash, &signer.public_key()));
        assert!(
            !verify_change(&signed, "hh2", &hash, &signer.public_key()),
            "another household"
        );
        assert!(
            !verify_change(&signed, "hh1", &[6; 32], &signer.public_key()),
            "another change"
        );
        assert!(
            !verify_change(&signed, "hh1", &hash, &other.public_key()),
            "another key"
        );

        let auth = RequestAuth::sign(&signer, [1; 32], "POST", "/v1/sync", b"body", 1_800_000_000)
            .unwrap();
        let parsed = RequestAuth::from_header(&auth.to_header()).unwrap();
        assert_eq!(parsed, auth);
        assert!(parsed.verify("POST", "/v1/sync", b"body", &signer.public_key()));
        assert!(!parsed.verify("POST", "/v1/sync", b"other body", &signer.public_key()));
        assert!(!parsed.verify("POST", "/v1/config", b"body", &signer.public_key()));
        assert!(!parsed.verify("POST", "/v1/sync", b"body", &other.public_key()));
        assert!(RequestAuth::from_header("nonsense").is_none());
        assert!(RequestAuth::from_header(&auth.to_header().to_uppercase()).is_none());
        assert!(RequestAuth::from_header(&format!("{}.x", auth.to_header())).is_none());
    }
}
