//! Tamper evidence: changing any single byte of a certificate body, a certificate
//! signature, a signed payload or a visit signature must make verification fail,
//! while the untouched signature always verifies.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use ruhu_core::signing::attestation::{
    sign_visit, verify_signature, Expected, RecordRef, Trust, VisitSignature, VisitSignaturePayload,
};
use ruhu_core::signing::canonical::sha256;
use ruhu_core::signing::certificate::{
    Role, Scope, SignedCertificate, WorkerCertificate, CERTIFICATE_FORMAT,
};
use ruhu_core::signing::keys::{MemoryKeyStore, SigningKeyPair, WorkerSigner};

/// Keys are made once (key generation is not what is under test); everything signed
/// with them is generated per case.
struct Keys {
    authority: SigningKeyPair,
    worker: WorkerSigner,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| Keys {
        authority: SigningKeyPair::generate().expect("authority key"),
        worker: WorkerSigner::create(&MemoryKeyStore::default(), "tablet").expect("worker key"),
    })
}

fn day(offset_days: i64) -> DateTime<Utc> {
    let base = Utc
        .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
        .single()
        .expect("date");
    base + chrono::Duration::days(offset_days)
}

/// One generated signing situation.
#[derive(Debug, Clone)]
struct Case {
    worker_id: String,
    name: String,
    role: Role,
    village: u32,
    household_id: String,
    visit_id: String,
    revision: u32,
    content: Vec<u8>,
    signed_day: i64,
    signed_second: i64,
}

fn case() -> impl Strategy<Value = Case> {
    (
        "[a-z0-9-]{1,24}",
        "[\\p{Han}]{2,4}",
        prop::sample::select(Role::ALL.to_vec()),
        0u32..1000,
        "[a-z0-9-]{1,40}",
        "[a-f0-9-]{1,40}",
        any::<u32>(),
        prop::collection::vec(any::<u8>(), 0..64),
        0i64..365,
        0i64..86_400,
    )
        .prop_map(
            |(
                worker_id,
                name,
                role,
                village,
                household_id,
                visit_id,
                revision,
                content,
                signed_day,
                signed_second,
            )| Case {
                worker_id,
                name,
                role,
                village,
                household_id,
                visit_id,
                revision,
                content,
                signed_day,
                signed_second,
            },
        )
}

struct Signed {
    cert: SignedCertificate,
    sig: VisitSignature,
    trust: Trust,
    expected: Expected,
}

fn build(c: &Case) -> Signed {
    let k = keys();
    let village_code = format!("620102001{:03}", c.village);
    let cert = WorkerCertificate {
        format: CERTIFICATE_FORMAT,
        worker_id: c.worker_id.clone(),
        name: c.name.clone(),
        roles: vec![c.role],
        scope: Scope::Villages(vec![village_code.clone()]),
        public_key: k.worker.public_key(),
        valid_from: day(0),
        valid_until: day(366),
        issued_at: day(-10),
        authority_key_id: "county-620102".into(),
    }
    .sign(&k.authority)
    .expect("certificate");
    let record = RecordRef {
        household_id: c.household_id.clone(),
        visit_id: c.visit_id.clone(),
        revision: c.revision,
        content_hash: sha256(&c.content),
    };
    let signed_at = day(c.signed_day) + chrono::Duration::seconds(c.signed_second);
    let payload = VisitSignaturePayload::new(&record, &cert, &c.worker_id, c.role, signed_at);
    let sig = sign_visit(&k.worker, &payload).expect("sign");
    let trust = Trust {
        authority_key_id: "county-620102".into(),
        authority_key: k.authority.public_key(),
        revocations: None,
    };
    Signed {
        cert,
        sig,
        trust,
        expected: Expected {
            record,
            village_code,
        },
    }
}

fn verifies(s: &Signed) -> bool {
    verify_signature(&s.sig, &s.cert, &s.trust, &s.expected).is_ok()
}

/// Flips bits `mask` (non-zero) of byte `pos` (taken modulo the length) of one part.
fn mutate(s: &mut Signed, target: u8, pos: usize, mask: u8) {
    let bytes: &mut [u8] = match target {
        0 => &mut s.cert.body_bytes,
        1 => &mut s.cert.signature,
        2 => &mut s.sig.payload_bytes,
        _ => &mut s.sig.signature,
    };
    let i = pos % bytes.len();
    bytes[i] ^= mask;
}

/// 10,000 generated cases: the untouched signature verifies, then one byte of one of
/// the four parts is changed and verification must fail. Counts are printed.
#[test]
fn any_single_byte_change_breaks_verification() {
    let config = ProptestConfig {
        cases: 10_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let mut runner = TestRunner::new(config);
    let ran = AtomicUsize::new(0);
    let mutated_passes = AtomicUsize::new(0);
    let per_target: [AtomicUsize; 4] = Default::default();
    let result = runner.run(
        &(case(), 0u8..4, any::<usize>(), 1u8..=255),
        |(c, target, pos, mask)| {
            let mut s = build(&c);
            prop_assert!(verifies(&s), "untouched signature must verify");
            mutate(&mut s, target, pos, mask);
            ran.fetch_add(1, Ordering::Relaxed);
            per_target[usize::from(target)].fetch_add(1, Ordering::Relaxed);
            let passed = verifies(&s);
            if passed {
                mutated_passes.fetch_add(1, Ordering::Relaxed);
            }
            prop_assert!(
                !passed,
                "mutated target {} byte {} mask {:#04x} still verifies",
                target,
                pos,
                mask
            );
            Ok(())
        },
    );
    let counts: Vec<usize> = per_target
        .iter()
        .map(|a| a.load(Ordering::Relaxed))
        .collect();
    println!(
        "proptest: {} cases (cert body / cert sig / payload / sig: {:?}), {} mutated passes",
        ran.load(Ordering::Relaxed),
        counts,
        mutated_passes.load(Ordering::Relaxed)
    );
    if let Err(e) = result {
        panic!("{e}");
    }
    assert!(ran.load(Ordering::Relaxed) >= 10_000);
    assert_eq!(mutated_passes.load(Ordering::Relaxed), 0);
}

/// Exhaustive sweep over one fixed case: every byte of every part, two bit patterns.
#[test]
fn every_byte_of_every_part_is_covered() {
    let c = Case {
        worker_id: "w-620102-0042".into(),
        name: "李建国".into(),
        role: Role::VillageCadre,
        village: 1,
        household_id: "hh-620102001001-0007".into(),
        visit_id: "9f0c7d2e-5b1a-4c3e-8d6f-2a7b9e1c4d50".into(),
        revision: 3,
        content: b"sealed".to_vec(),
        signed_day: 120,
        signed_second: 36_000,
    };
    let original = build(&c);
    assert!(verifies(&original));
    let lens = [
        original.cert.body_bytes.len(),
        original.cert.signature.len(),
        original.sig.payload_bytes.len(),
        original.sig.signature.len(),
    ];
    let (mut tried, mut passed) = (0usize, 0usize);
    for (target, len) in (0u8..).zip(lens) {
        for pos in 0..len {
            for mask in [0x01, 0x80] {
                let mut s = build(&c);
                mutate(&mut s, target, pos, mask);
                tried += 1;
                if verifies(&s) {
                    passed += 1;
                }
            }
        }
    }
    println!(
        "exhaustive sweep: {tried} single-byte mutations (cert body {} B, payload {} B), {passed} verified",
        lens[0], lens[2]
    );
    assert_eq!(passed, 0);
}
