//! Unit tests of [`crate::signing::attestation`]: one verdict per test, plus a shared fixture
//! (a county authority and a three-person visit team) used by the response tests.

use super::*;
use crate::signing::canonical::sha256;
use crate::signing::certificate::tests::at;
use crate::signing::certificate::{Scope, CERTIFICATE_FORMAT};
use crate::signing::keys::{MemoryKeyStore, SigningKeyPair};
use crate::signing::revocation::{Revocation, RevocationReason, REVOCATION_FORMAT};

/// One team member: their tablet key and county certificate.
pub(crate) struct Member {
    pub signer: WorkerSigner,
    pub cert: SignedCertificate,
    pub worker_id: String,
    pub role: Role,
}

/// A county authority and a three-person visit team for village 620102001001.
pub(crate) struct Fixture {
    pub authority: SigningKeyPair,
    pub trust: Trust,
    pub team: Vec<Member>,
    pub expected: Expected,
}

pub(crate) fn fixture() -> Fixture {
    let authority = SigningKeyPair::generate().expect("authority key");
    let store = MemoryKeyStore::default();
    let team = [Role::TownshipLeader, Role::VillageCadre, Role::CaseHandler]
        .into_iter()
        .enumerate()
        .map(|(i, role)| {
            let worker_id = format!("w-620102-000{i}");
            let signer = WorkerSigner::create(&store, &format!("tablet-{i}")).expect("worker key");
            let cert = WorkerCertificate {
                format: CERTIFICATE_FORMAT,
                worker_id: worker_id.clone(),
                name: ["张伟", "王芳", "刘洋"][i].into(),
                roles: vec![role],
                scope: Scope::Villages(vec!["620102001001".into()]),
                public_key: signer.public_key(),
                valid_from: at(2024, 1, 1),
                valid_until: at(2025, 1, 1),
                issued_at: at(2023, 12, 20),
                authority_key_id: "county-620102-2024".into(),
            }
            .sign(&authority)
            .expect("certificate");
            Member {
                signer,
                cert,
                worker_id,
                role,
            }
        })
        .collect();
    let trust = Trust {
        authority_key_id: "county-620102-2024".into(),
        authority_key: authority.public_key(),
        revocations: None,
    };
    let expected = Expected {
        record: RecordRef {
            household_id: "hh-620102001001-0007".into(),
            visit_id: "9f0c7d2e-5b1a-4c3e-8d6f-2a7b9e1c4d50".into(),
            revision: 1,
            content_hash: sha256(b"sealed visit content"),
        },
        village_code: "620102001001".into(),
    };
    Fixture {
        authority,
        trust,
        team,
        expected,
    }
}

pub(crate) fn sign_as(
    f: &Fixture,
    member: usize,
    record: &RecordRef,
    signed_at: DateTime<Utc>,
) -> VisitSignature {
    let m = &f.team[member];
    let payload = VisitSignaturePayload::new(record, &m.cert, &m.worker_id, m.role, signed_at);
    sign_visit(&m.signer, &payload).expect("sign")
}

fn check(
    f: &Fixture,
    member: usize,
    sig: &VisitSignature,
) -> Result<VerifiedSignature, SignatureVerdict> {
    verify_signature(sig, &f.team[member].cert, &f.trust, &f.expected)
}

#[test]
fn all_three_team_members_sign_and_verify() {
    let f = fixture();
    for i in 0..3 {
        let sig = sign_as(&f, i, &f.expected.record, at(2024, 5, 6));
        let ok = check(&f, i, &sig).expect("valid");
        assert_eq!(ok.payload.role, f.team[i].role);
        assert_eq!(ok.certificate.worker_id, f.team[i].worker_id);
        assert_eq!(ok.certificate_hash, f.team[i].cert.hash());
    }
}

#[test]
fn payload_is_canonical_and_readable() {
    let f = fixture();
    let sig = sign_as(
        &f,
        2,
        &f.expected.record,
        at(2024, 5, 6) + chrono::Duration::milliseconds(900),
    );
    let text = String::from_utf8(sig.payload_bytes.clone()).expect("utf-8");
    assert!(text.starts_with("{\"certificate_hash\":\""), "{text}");
    assert!(text.contains("\"context\":\"ruhu/visit-signature/v1\""));
    assert!(text.contains("\"role\":\"case_handler\""));
    assert!(
        text.contains("\"signed_at\":\"2024-05-06T00:00:00Z\""),
        "sub-seconds are dropped: {text}"
    );
    let json = serde_json::to_string(&sig).expect("ser");
    assert_eq!(
        serde_json::from_str::<VisitSignature>(&json).expect("de"),
        sig
    );
}

#[test]
fn altered_signature_or_payload_is_bad_signature() {
    let f = fixture();
    let sig = sign_as(&f, 0, &f.expected.record, at(2024, 5, 6));
    let mut s = sig.clone();
    s.signature[10] ^= 1;
    assert_eq!(
        check(&f, 0, &s).map(|_| ()),
        Err(SignatureVerdict::BadSignature)
    );
    // Moving the signature to revision 2 by rewriting the payload breaks the signature.
    let mut s = sig.clone();
    let text = String::from_utf8(s.payload_bytes).expect("utf-8");
    s.payload_bytes = text
        .replace("\"revision\":1", "\"revision\":2")
        .into_bytes();
    assert_eq!(
        check(&f, 0, &s).map(|_| ()),
        Err(SignatureVerdict::BadSignature)
    );
    // Another member's key over the same payload.
    let mut s = sig;
    s.signature = f.team[1].signer.sign(&s.payload_bytes);
    assert_eq!(
        check(&f, 0, &s).map(|_| ()),
        Err(SignatureVerdict::BadSignature)
    );
}

#[test]
fn signature_is_not_reusable_for_another_record() {
    let f = fixture();
    let record = &f.expected.record;
    let cases: [(&str, RecordRef); 4] = [
        (
            "household_id",
            RecordRef {
                household_id: "hh-other".into(),
                ..record.clone()
            },
        ),
        (
            "visit_id",
            RecordRef {
                visit_id: "visit-other".into(),
                ..record.clone()
            },
        ),
        (
            "revision",
            RecordRef {
                revision: 2,
                ..record.clone()
            },
        ),
        (
            "content_hash",
            RecordRef {
                content_hash: sha256(b"other content"),
                ..record.clone()
            },
        ),
    ];
    for (field, other) in cases {
        let sig = sign_as(&f, 1, &other, at(2024, 5, 6));
        assert_eq!(
            check(&f, 1, &sig).map(|_| ()),
            Err(SignatureVerdict::WrongRecord(field))
        );
    }
}

#[test]
fn unknown_signer() {
    let f = fixture();
    let sig = sign_as(&f, 0, &f.expected.record, at(2024, 5, 6));
    // The certificate of another team member (hash differs).
    let wrong_cert = verify_signature(&sig, &f.team[1].cert, &f.trust, &f.expected);
    assert!(
        matches!(wrong_cert, Err(SignatureVerdict::BadSignature)),
        "{wrong_cert:?}"
    );
    // A certificate from an authority we do not trust.
    let rogue = SigningKeyPair::generate().expect("key");
    let body = f.team[0]
        .cert
        .verify(&f.authority.public_key())
        .expect("cert");
    let rogue_cert = body.sign(&rogue).expect("sign");
    let verdict = verify_signature(&sig, &rogue_cert, &f.trust, &f.expected);
    assert!(
        matches!(verdict, Err(SignatureVerdict::UnknownSigner(_))),
        "{verdict:?}"
    );
    // Trust configured with another key id.
    let mut trust = f.trust.clone();
    trust.authority_key_id = "county-620102-2025".into();
    let verdict = verify_signature(&sig, &f.team[0].cert, &trust, &f.expected);
    assert!(
        matches!(verdict, Err(SignatureVerdict::UnknownSigner(_))),
        "{verdict:?}"
    );
    // Same key re-certified (new cert, new hash): the signature names the old cert.
    let mut renewed = body;
    renewed.issued_at = at(2024, 2, 1);
    let renewed = renewed.sign(&f.authority).expect("sign");
    let verdict = verify_signature(&sig, &renewed, &f.trust, &f.expected);
    assert!(
        matches!(verdict, Err(SignatureVerdict::UnknownSigner(_))),
        "{verdict:?}"
    );
}

#[test]
fn signer_id_must_match_certificate() {
    let f = fixture();
    let m = &f.team[0];
    let payload = VisitSignaturePayload::new(
        &f.expected.record,
        &m.cert,
        "w-someone-else",
        m.role,
        at(2024, 5, 6),
    );
    let sig = sign_visit(&m.signer, &payload).expect("sign");
    assert!(matches!(
        check(&f, 0, &sig),
        Err(SignatureVerdict::UnknownSigner(_))
    ));
}

#[test]
fn wrong_role() {
    let f = fixture();
    let m = &f.team[1];
    let payload = VisitSignaturePayload::new(
        &f.expected.record,
        &m.cert,
        &m.worker_id,
        Role::TownshipLeader,
        at(2024, 5, 6),
    );
    let sig = sign_visit(&m.signer, &payload).expect("sign");
    assert_eq!(
        check(&f, 1, &sig).map(|_| ()),
        Err(SignatureVerdict::WrongRole(Role::TownshipLeader))
    );
}

#[test]
fn village_not_covered() {
    let f = fixture();
    let sig = sign_as(&f, 2, &f.expected.record, at(2024, 5, 6));
    let mut expected = f.expected.clone();
    expected.village_code = "620102001009".into();
    let verdict = verify_signature(&sig, &f.team[2].cert, &f.trust, &expected);
    assert_eq!(
        verdict.map(|_| ()),
        Err(SignatureVerdict::VillageNotCovered("620102001009".into()))
    );
}

#[test]
fn certificate_not_valid_at_signing_time() {
    let f = fixture();
    for t in [at(2023, 12, 31), at(2025, 1, 1)] {
        let sig = sign_as(&f, 0, &f.expected.record, t);
        assert_eq!(
            check(&f, 0, &sig).map(|_| ()),
            Err(SignatureVerdict::CertificateNotValidAtSigningTime(t))
        );
    }
}

#[test]
fn revocation_applies_from_effective_time_only() {
    let mut f = fixture();
    let list = RevocationList {
        format: REVOCATION_FORMAT,
        county_code: "620102".into(),
        serial: 1,
        issued_at: at(2024, 7, 1),
        entries: vec![Revocation {
            worker_id: f.team[0].worker_id.clone(),
            certificate_hash: f.team[0].cert.hash(),
            reason: RevocationReason::DeviceLost,
            effective_at: at(2024, 6, 1),
        }],
    };
    let signed = list.sign(&f.authority).expect("sign list");
    f.trust.revocations = Some(signed.verify(&f.authority.public_key()).expect("list"));
    let before = sign_as(&f, 0, &f.expected.record, at(2024, 5, 31));
    assert!(check(&f, 0, &before).is_ok());
    let after = sign_as(&f, 0, &f.expected.record, at(2024, 6, 1));
    assert_eq!(
        check(&f, 0, &after).map(|_| ()),
        Err(SignatureVerdict::Revoked {
            effective_at: at(2024, 6, 1),
            reason: RevocationReason::DeviceLost
        })
    );
    // Other members are unaffected.
    let other = sign_as(&f, 1, &f.expected.record, at(2024, 6, 2));
    assert!(check(&f, 1, &other).is_ok());
}

#[test]
fn malformed_payload_even_if_signed() {
    let f = fixture();
    let m = &f.team[0];
    let good = sign_as(&f, 0, &f.expected.record, at(2024, 5, 6));
    let mut spaced = good.payload_bytes.clone();
    spaced.insert(1, b' ');
    let mut value: serde_json::Value = serde_json::from_slice(&good.payload_bytes).expect("json");
    value["context"] = "ruhu/care-task/v1".into();
    let other_context = crate::signing::canonical::to_canonical_bytes(&value).expect("enc");
    for payload_bytes in [spaced, other_context, b"{}".to_vec()] {
        let sig = VisitSignature {
            signature: m.signer.sign(&payload_bytes),
            payload_bytes,
        };
        assert!(matches!(
            check(&f, 0, &sig),
            Err(SignatureVerdict::MalformedPayload(_))
        ));
    }
}

#[test]
fn sign_refuses_bad_payloads() {
    let f = fixture();
    let m = &f.team[0];
    let mut payload = VisitSignaturePayload::new(
        &f.expected.record,
        &m.cert,
        &m.worker_id,
        m.role,
        at(2024, 5, 6),
    );
    payload.context = "other".into();
    assert!(matches!(
        sign_visit(&m.signer, &payload),
        Err(SignError::InvalidPayload(_))
    ));
    payload.context = VISIT_SIGNATURE_CONTEXT.into();
    payload.visit_id = String::new();
    assert!(matches!(
        sign_visit(&m.signer, &payload),
        Err(SignError::InvalidPayload(_))
    ));
    payload.visit_id = "v".into();
    payload.signed_at += chrono::Duration::milliseconds(1);
    assert!(matches!(
        sign_visit(&m.signer, &payload),
        Err(SignError::Encoding(_))
    ));
}
