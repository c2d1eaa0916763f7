//! The signature "response": one team member's signature packed small enough for a
//! single QR code, shown on the signer's tablet and scanned by the tablet holding the
//! record (part of the attestation flow of [`crate::signing::attestation`]).
//!
//! Only the fields are sent; the receiver rebuilds the canonical payload from them and
//! the household id it already knows, and the signature then verifies (or not) over
//! exactly the bytes the signer signed. Layout, big-endian, no padding:
//!
//! | bytes | field |
//! |---|---|
//! | 1 | tag `b'R'` |
//! | 1 | version (1) |
//! | 1 + n | visit id (length, UTF-8) |
//! | 4 | revision |
//! | 32 | content SHA-256 |
//! | 1 + n | signer worker id (length, UTF-8) |
//! | 1 | role (1 township leader, 2 village cadre, 3 case handler, 4 county supervisor) |
//! | 32 | certificate SHA-256 |
//! | 8 | signed_at, seconds since 1970-01-01 UTC (signed) |
//! | 64 | Ed25519 signature |

use chrono::{DateTime, Utc};

use crate::signing::attestation::{
    RecordRef, VisitSignature, VisitSignaturePayload, VISIT_SIGNATURE_CONTEXT,
};
use crate::signing::certificate::Role;
use crate::signing::keys::SIGNATURE_LEN;

pub use crate::signing::error::ResponseError;

/// First byte of every signature response.
pub const RESPONSE_TAG: u8 = b'R';
/// The response version this code writes and reads.
pub const RESPONSE_VERSION: u8 = 1;
/// Size of everything but the two identifiers' bytes.
pub const RESPONSE_FIXED_LEN: usize = 2 + 1 + 4 + 32 + 1 + 1 + 32 + 8 + SIGNATURE_LEN;

/// The decoded fields of a signature response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureResponse {
    /// The visit the signature is for.
    pub visit_id: String,
    /// The record revision.
    pub revision: u32,
    /// SHA-256 of the sealed content.
    pub content_hash: [u8; 32],
    /// The signer's worker id.
    pub signer_worker_id: String,
    /// The role signed in.
    pub role: Role,
    /// SHA-256 of the signer's certificate body.
    pub certificate_hash: [u8; 32],
    /// Signing time (whole seconds).
    pub signed_at: DateTime<Utc>,
    /// The Ed25519 signature over the canonical payload.
    pub signature: [u8; SIGNATURE_LEN],
}

fn role_byte(role: Role) -> u8 {
    match role {
        Role::TownshipLeader => 1,
        Role::VillageCadre => 2,
        Role::CaseHandler => 3,
        Role::CountySupervisor => 4,
    }
}

fn role_from_byte(b: u8) -> Option<Role> {
    Role::ALL.into_iter().find(|r| role_byte(*r) == b)
}

fn push_short_str(out: &mut Vec<u8>, field: &'static str, s: &str) -> Result<(), ResponseError> {
    let len = u8::try_from(s.len())
        .map_err(|_| ResponseError::Payload(format!("{field} longer than 255 bytes")))?;
    out.push(len);
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

/// Packs a visit signature into the one-QR-code binary form.
pub fn encode_response(sig: &VisitSignature) -> Result<Vec<u8>, ResponseError> {
    let p = sig
        .unverified_payload()
        .map_err(|e| ResponseError::Payload(e.to_string()))?;
    let mut out =
        Vec::with_capacity(RESPONSE_FIXED_LEN + p.visit_id.len() + p.signer_worker_id.len());
    out.push(RESPONSE_TAG);
    out.push(RESPONSE_VERSION);
    push_short_str(&mut out, "visit_id", &p.visit_id)?;
    out.extend_from_slice(&p.revision.to_be_bytes());
    out.extend_from_slice(&p.content_hash);
    push_short_str(&mut out, "signer_worker_id", &p.signer_worker_id)?;
    out.push(role_byte(p.role));
    out.extend_from_slice(&p.certificate_hash);
    out.extend_from_slice(&p.signed_at.timestamp().to_be_bytes());
    out.extend_from_slice(&sig.signature);
    Ok(out)
}

/// A cursor over response bytes that fails with `Truncated` instead of panicking.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ResponseError> {
        if self.rest.len() < n {
            return Err(ResponseError::Truncated);
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], ResponseError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
    fn short_str(&mut self, field: &'static str) -> Result<String, ResponseError> {
        let [len] = self.array::<1>()?;
        let bytes = self.take(usize::from(len))?;
        let s = std::str::from_utf8(bytes).map_err(|_| ResponseError::InvalidField(field))?;
        crate::signing::wire::check_identifier(field, s)
            .map_err(|_| ResponseError::InvalidField(field))?;
        Ok(s.to_owned())
    }
}

/// Strictly decodes a scanned signature response: tag, version, every length, no
/// trailing bytes, valid UTF-8 identifiers, a known role, a representable time.
pub fn decode_response(bytes: &[u8]) -> Result<SignatureResponse, ResponseError> {
    let mut r = Reader { rest: bytes };
    let [tag, version] = r.array::<2>()?;
    if tag != RESPONSE_TAG {
        return Err(ResponseError::NotAResponse);
    }
    if version != RESPONSE_VERSION {
        return Err(ResponseError::UnsupportedVersion(version));
    }
    let visit_id = r.short_str("visit_id")?;
    let revision = u32::from_be_bytes(r.array()?);
    let content_hash = r.array()?;
    let signer_worker_id = r.short_str("signer_worker_id")?;
    let [role] = r.array::<1>()?;
    let role = role_from_byte(role).ok_or(ResponseError::InvalidField("role"))?;
    let certificate_hash = r.array()?;
    let seconds = i64::from_be_bytes(r.array()?);
    let signed_at = DateTime::from_timestamp(seconds, 0)
        .filter(|t| crate::signing::wire::format_timestamp(t).is_some())
        .ok_or(ResponseError::InvalidField("signed_at"))?;
    let signature = r.array()?;
    if !r.rest.is_empty() {
        return Err(ResponseError::TrailingBytes(r.rest.len()));
    }
    Ok(SignatureResponse {
        visit_id,
        revision,
        content_hash,
        signer_worker_id,
        role,
        certificate_hash,
        signed_at,
        signature,
    })
}

impl SignatureResponse {
    /// Rebuilds the full [`VisitSignature`] for the household the receiver has open.
    /// Verify it with [`crate::signing::attestation::verify_signature`] as any other signature.
    pub fn into_visit_signature(self, household_id: &str) -> Result<VisitSignature, ResponseError> {
        let payload = VisitSignaturePayload {
            context: VISIT_SIGNATURE_CONTEXT.to_owned(),
            household_id: household_id.to_owned(),
            visit_id: self.visit_id,
            revision: self.revision,
            content_hash: self.content_hash,
            signer_worker_id: self.signer_worker_id,
            role: self.role,
            certificate_hash: self.certificate_hash,
            signed_at: self.signed_at,
        };
        let payload_bytes = payload
            .to_bytes()
            .map_err(|e| ResponseError::Payload(e.to_string()))?;
        Ok(VisitSignature {
            payload_bytes,
            signature: self.signature,
        })
    }

    /// `true` if the response answers a request for `record` (checked before verifying,
    /// to tell the worker "this QR code is for another record" early).
    pub fn is_for(&self, record: &RecordRef) -> bool {
        self.visit_id == record.visit_id
            && self.revision == record.revision
            && self.content_hash == record.content_hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::attestation::tests::{fixture, sign_as};
    use crate::signing::attestation::{verify_signature, SignatureVerdict};
    use crate::signing::certificate::tests::at;

    #[test]
    fn round_trip_rebuilds_identical_signature_and_verifies() {
        let f = fixture();
        for i in 0..3 {
            let sig = sign_as(&f, i, &f.expected.record, at(2024, 5, 6));
            let bytes = encode_response(&sig).expect("encode");
            let resp = decode_response(&bytes).expect("decode");
            assert!(resp.is_for(&f.expected.record));
            let rebuilt = resp
                .into_visit_signature(&f.expected.record.household_id)
                .expect("rebuild");
            assert_eq!(rebuilt, sig);
            assert!(verify_signature(&rebuilt, &f.team[i].cert, &f.trust, &f.expected).is_ok());
        }
    }

    #[test]
    fn response_size_fits_one_small_qr_code() {
        let f = fixture();
        let sig = sign_as(&f, 1, &f.expected.record, at(2024, 5, 6));
        let bytes = encode_response(&sig).expect("encode");
        println!(
            "signature response: {} bytes (visit id {} B, worker id {} B; fixed part {} B); JSON signature: {} B",
            bytes.len(),
            f.expected.record.visit_id.len(),
            f.team[1].worker_id.len(),
            RESPONSE_FIXED_LEN,
            serde_json::to_vec(&sig).expect("json").len()
        );
        assert_eq!(
            bytes.len(),
            RESPONSE_FIXED_LEN + f.expected.record.visit_id.len() + f.team[1].worker_id.len()
        );
        assert!(bytes.len() < 250);
    }

    #[test]
    fn wrong_household_does_not_verify() {
        let f = fixture();
        let sig = sign_as(&f, 0, &f.expected.record, at(2024, 5, 6));
        let resp = decode_response(&encode_response(&sig).expect("encode")).expect("decode");
        let rebuilt = resp.into_visit_signature("hh-other").expect("rebuild");
        assert_eq!(
            verify_signature(&rebuilt, &f.team[0].cert, &f.trust, &f.expected).map(|_| ()),
            Err(SignatureVerdict::BadSignature)
        );
    }

    #[test]
    fn strict_decoding() {
        let f = fixture();
        let sig = sign_as(&f, 2, &f.expected.record, at(2024, 5, 6));
        let good = encode_response(&sig).expect("encode");
        for n in 0..good.len() {
            assert!(
                decode_response(&good[..n]).is_err(),
                "prefix of {n} bytes accepted"
            );
        }
        let mut long = good.clone();
        long.push(0);
        assert_eq!(decode_response(&long), Err(ResponseError::TrailingBytes(1)));
        let mut b = good.clone();
        b[0] = b'C';
        assert_eq!(decode_response(&b), Err(ResponseError::NotAResponse));
        let mut b = good.clone();
        b[1] = 2;
        assert_eq!(
            decode_response(&b),
            Err(ResponseError::UnsupportedVersion(2))
        );
        let role_at =
            2 + 1 + f.expected.record.visit_id.len() + 4 + 32 + 1 + f.team[2].worker_id.len();
        let mut b = good.clone();
        b[role_at] = 9;
        assert_eq!(
            decode_response(&b),
            Err(ResponseError::InvalidField("role"))
        );
        let mut b = good.clone();
        b[3] = 0xff;
        assert_eq!(
            decode_response(&b),
            Err(ResponseError::InvalidField("visit_id"))
        );
        let mut b = good.clone();
        b[role_at + 33..role_at + 41].copy_from_slice(&i64::MAX.to_be_bytes());
        assert_eq!(
            decode_response(&b),
            Err(ResponseError::InvalidField("signed_at"))
        );
        let mut b = good;
        b[2] = 0;
        assert!(decode_response(&b).is_err());
    }
}
