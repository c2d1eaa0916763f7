//! The county's signed list of revoked worker certificates (a lost tablet, a worker
//! who left the post, a compromised key).
//!
//! Lists are numbered: a list with a higher `serial` replaces the one in force. A
//! revocation takes effect at `effective_at`: signatures made before that instant stay
//! valid, so a worker leaving does not void the records they signed while in post.
//! For a stolen or leaked key the authority should date `effective_at` back to the
//! earliest moment the key may have been out of the worker's control, because the
//! signing time in a signature is the signer's own claim.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::signing::canonical::{
    from_canonical_bytes, to_canonical_bytes_of, CanonicalError, MAX_SAFE_INTEGER,
};
use crate::signing::certificate::is_county_code;
use crate::signing::keys::{verify, PublicKey, SigningKeyPair, SIGNATURE_LEN};
use crate::signing::wire::check_identifier;

pub use crate::signing::error::RevocationError;

/// Domain-separation prefix of the authority's signature over a revocation list body.
pub const REVOCATION_CONTEXT: &[u8] = b"ruhu/revocation-list/v1\0";
/// The revocation list format this code writes and reads.
pub const REVOCATION_FORMAT: u32 = 1;
/// Largest accepted revocation list body, in bytes (room for several thousand entries).
pub const MAX_REVOCATION_LIST_BYTES: usize = 2 * 1024 * 1024;

/// Why the authority revoked a certificate (serialized in snake_case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevocationReason {
    /// The private key may be known to someone else.
    KeyCompromised,
    /// The tablet holding the key was lost or stolen.
    DeviceLost,
    /// The worker no longer holds the post.
    LeftPost,
    /// The worker's roles or villages changed; a new certificate replaces this one.
    Superseded,
    /// Any other reason recorded in the county's files.
    Other,
}

/// One revoked certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revocation {
    /// The worker whose certificate is revoked (for display; matching uses the hash).
    pub worker_id: String,
    /// SHA-256 of the revoked certificate's body bytes.
    #[serde(with = "crate::signing::wire::hex_bytes")]
    pub certificate_hash: [u8; 32],
    /// Why it was revoked.
    pub reason: RevocationReason,
    /// From this instant on (inclusive) signatures with the certificate are refused.
    #[serde(with = "crate::signing::wire::timestamp")]
    pub effective_at: DateTime<Utc>,
}

/// The content of a county's revocation list, as signed by the county authority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevocationList {
    /// Format version; always [`REVOCATION_FORMAT`].
    pub format: u32,
    /// 6-digit code of the county whose authority issued the list.
    pub county_code: String,
    /// Monotonic number: a list with a higher serial replaces a lower one.
    pub serial: u64,
    /// When the authority issued the list.
    #[serde(with = "crate::signing::wire::timestamp")]
    pub issued_at: DateTime<Utc>,
    /// Every revocation in force (a new list repeats the old entries).
    pub entries: Vec<Revocation>,
}

impl RevocationList {
    /// The revocation that makes a signature made at `t` with certificate `cert_hash`
    /// invalid: the earliest entry for that certificate with `effective_at <= t`.
    pub fn is_revoked_at(&self, cert_hash: &[u8; 32], t: DateTime<Utc>) -> Option<&Revocation> {
        self.entries
            .iter()
            .filter(|r| &r.certificate_hash == cert_hash && r.effective_at <= t)
            .min_by_key(|r| r.effective_at)
    }

    /// Checks that this list may replace `current`: same county, higher serial.
    pub fn check_replaces(&self, current: &RevocationList) -> Result<(), RevocationError> {
        if self.county_code != current.county_code {
            return Err(RevocationError::CountyMismatch {
                candidate: self.county_code.clone(),
                current: current.county_code.clone(),
            });
        }
        if self.serial <= current.serial {
            return Err(RevocationError::NotNewer {
                candidate: self.serial,
                current: current.serial,
            });
        }
        Ok(())
    }

    /// Checks the rules every list must follow.
    pub fn validate(&self) -> Result<(), RevocationError> {
        if self.format != REVOCATION_FORMAT {
            return Err(RevocationError::UnsupportedFormat(self.format.into()));
        }
        if !is_county_code(&self.county_code) {
            return Err(RevocationError::Invalid(format!(
                "{:?} is not a 6-digit county code",
                self.county_code
            )));
        }
        if self.serial > MAX_SAFE_INTEGER as u64 {
            return Err(RevocationError::Invalid("serial exceeds 2^53 - 1".into()));
        }
        for entry in &self.entries {
            check_identifier("worker_id", &entry.worker_id).map_err(RevocationError::Invalid)?;
        }
        Ok(())
    }

    /// Validates, encodes canonically and signs the list with the authority key.
    pub fn sign(
        &self,
        authority: &SigningKeyPair,
    ) -> Result<SignedRevocationList, RevocationError> {
        self.validate()?;
        let body_bytes = to_canonical_bytes_of(self).map_err(RevocationError::Malformed)?;
        let signature = authority.sign(&signed_message(&body_bytes));
        Ok(SignedRevocationList {
            body_bytes,
            signature,
        })
    }
}

fn signed_message(body_bytes: &[u8]) -> Vec<u8> {
    [REVOCATION_CONTEXT, body_bytes].concat()
}

/// A revocation list as it travels: canonical body plus the authority's signature over
/// `REVOCATION_CONTEXT || body_bytes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedRevocationList {
    /// Canonical JSON of a [`RevocationList`].
    #[serde(with = "crate::signing::wire::base64_bytes")]
    pub body_bytes: Vec<u8>,
    /// The authority's signature.
    #[serde(with = "crate::signing::wire::base64_signature")]
    pub signature: [u8; SIGNATURE_LEN],
}

impl SignedRevocationList {
    /// Checks the authority's signature, then decodes and validates the list.
    pub fn verify(
        &self,
        authority_public_key: &PublicKey,
    ) -> Result<RevocationList, RevocationError> {
        if self.body_bytes.len() > MAX_REVOCATION_LIST_BYTES {
            return Err(RevocationError::Malformed(CanonicalError::TooLarge {
                len: self.body_bytes.len(),
                limit: MAX_REVOCATION_LIST_BYTES,
            }));
        }
        if !verify(
            authority_public_key,
            &signed_message(&self.body_bytes),
            &self.signature,
        ) {
            return Err(RevocationError::BadSignature);
        }
        let list: RevocationList =
            from_canonical_bytes(&self.body_bytes, MAX_REVOCATION_LIST_BYTES)
                .map_err(RevocationError::Malformed)?;
        list.validate()?;
        Ok(list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::certificate::tests::at;

    fn list(serial: u64, entries: Vec<Revocation>) -> RevocationList {
        RevocationList {
            format: REVOCATION_FORMAT,
            county_code: "620102".into(),
            serial,
            issued_at: at(2024, 6, 1),
            entries,
        }
    }

    fn entry(hash: u8, effective_at: DateTime<Utc>) -> Revocation {
        Revocation {
            worker_id: "w-620102-0042".into(),
            certificate_hash: [hash; 32],
            reason: RevocationReason::LeftPost,
            effective_at,
        }
    }

    #[test]
    fn signatures_before_effective_time_stay_valid() {
        let l = list(3, vec![entry(1, at(2024, 6, 1))]);
        assert_eq!(l.is_revoked_at(&[1; 32], at(2024, 5, 31)), None);
        assert_eq!(
            l.is_revoked_at(&[1; 32], at(2024, 6, 1)),
            Some(&l.entries[0])
        );
        assert_eq!(
            l.is_revoked_at(&[1; 32], at(2025, 1, 1)),
            Some(&l.entries[0])
        );
        assert_eq!(l.is_revoked_at(&[2; 32], at(2025, 1, 1)), None);
    }

    #[test]
    fn earliest_applicable_entry_wins() {
        let mut late = entry(1, at(2024, 9, 1));
        late.reason = RevocationReason::KeyCompromised;
        let l = list(1, vec![late, entry(1, at(2024, 3, 1))]);
        let hit = l.is_revoked_at(&[1; 32], at(2024, 10, 1)).expect("revoked");
        assert_eq!(hit.effective_at, at(2024, 3, 1));
    }

    #[test]
    fn signed_list_round_trip_and_tamper() {
        let authority = SigningKeyPair::generate().expect("key");
        let l = list(7, vec![entry(1, at(2024, 6, 1))]);
        let signed = l.sign(&authority).expect("sign");
        assert_eq!(signed.verify(&authority.public_key()), Ok(l));
        let json = serde_json::to_string(&signed).expect("ser");
        assert_eq!(
            serde_json::from_str::<SignedRevocationList>(&json).expect("de"),
            signed
        );

        let other = SigningKeyPair::generate().expect("key");
        assert_eq!(
            signed.verify(&other.public_key()),
            Err(RevocationError::BadSignature)
        );
        let mut tampered = signed.clone();
        let text = String::from_utf8(tampered.body_bytes).expect("utf-8");
        tampered.body_bytes = text
            .replace(
                "2024-06-01T00:00:00Z\",\"reason",
                "2024-09-01T00:00:00Z\",\"reason",
            )
            .into_bytes();
        assert_ne!(tampered.body_bytes, signed.body_bytes);
        assert_eq!(
            tampered.verify(&authority.public_key()),
            Err(RevocationError::BadSignature)
        );
    }

    #[test]
    fn certificate_context_signature_is_not_a_list_signature() {
        let authority = SigningKeyPair::generate().expect("key");
        let mut signed = list(1, vec![]).sign(&authority).expect("sign");
        signed.signature = authority.sign(
            &[
                crate::signing::certificate::CERTIFICATE_CONTEXT,
                &signed.body_bytes,
            ]
            .concat(),
        );
        assert_eq!(
            signed.verify(&authority.public_key()),
            Err(RevocationError::BadSignature)
        );
    }

    #[test]
    fn newer_serial_replaces_older() {
        let current = list(5, vec![]);
        assert_eq!(list(6, vec![]).check_replaces(&current), Ok(()));
        assert_eq!(
            list(5, vec![]).check_replaces(&current),
            Err(RevocationError::NotNewer {
                candidate: 5,
                current: 5
            })
        );
        assert!(matches!(
            list(4, vec![]).check_replaces(&current),
            Err(RevocationError::NotNewer { .. })
        ));
        let mut other_county = list(9, vec![]);
        other_county.county_code = "620103".into();
        assert!(matches!(
            other_county.check_replaces(&current),
            Err(RevocationError::CountyMismatch { .. })
        ));
    }

    #[test]
    fn validation() {
        let authority = SigningKeyPair::generate().expect("key");
        let mut l = list(1, vec![]);
        l.county_code = "62".into();
        assert!(matches!(
            l.sign(&authority),
            Err(RevocationError::Invalid(_))
        ));
        let mut l = list(1 << 53, vec![]);
        assert!(matches!(l.validate(), Err(RevocationError::Invalid(_))));
        l.serial = 1;
        l.format = 2;
        assert_eq!(l.validate(), Err(RevocationError::UnsupportedFormat(2)));
    }
}
