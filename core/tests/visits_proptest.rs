//! Tamper evidence over the exact stored bytes of a complete visit (10,000 cases).
//!
//! Each case takes the household document of a complete visit (sealed, three signatures)
//! and applies ONE change a hostile or buggy tablet could make, then verifies. Mutated
//! records that still verify as complete: **0**. The untouched record always verifies.
//!
//! Covered (the signed or stored fields):
//! - sealed entry `content`: any byte flipped, written over the field or as a fresh entry
//!   under the same key; `sealed_by`, `sealed_at` changed (over the field or as a fresh
//!   entry); the entry removed;
//! - signature entry: any byte of its stored bytes flipped (framing, signed payload,
//!   Ed25519 signature, certificate body, certificate signature); the entry removed or
//!   moved to another key;
//! - signed payload fields, re-encoded canonically with the old signature: context,
//!   household_id, visit_id, revision, content_hash, signer_worker_id (signer id), role,
//!   certificate_hash, signed_at (timestamp); and each re-signed with another key;
//! - certificate fields, re-encoded with the authority's old signature: format,
//!   worker_id, name, roles, scope, public_key, valid_from, valid_until, issued_at,
//!   authority_key_id;
//! - the whole saved document: any byte flipped.
#![allow(clippy::unwrap_used, clippy::manual_is_multiple_of)] // is_multiple_of needs Rust 1.87 (MSRV 1.85)

mod visits_common;

use std::collections::BTreeMap;

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ScalarValue};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use ruhu_core::signing::canonical::to_canonical_bytes;
use ruhu_core::signing::keys::SIGNATURE_LEN;
use ruhu_core::visit::entry::SignatureEntry;
use ruhu_core::visit::policy::VisitPolicy;
use ruhu_core::visit::verify::verify_visit;
use serde_json::Value as Json;
use visits_common::*;

const PAYLOAD_FIELDS: [&str; 9] = [
    "context",
    "household_id",
    "visit_id",
    "revision",
    "content_hash",
    "signer_worker_id",
    "role",
    "certificate_hash",
    "signed_at",
];
const CERT_FIELDS: [&str; 10] = [
    "format",
    "worker_id",
    "name",
    "roles",
    "scope",
    "public_key",
    "valid_from",
    "valid_until",
    "issued_at",
    "authority_key_id",
];
const KINDS: [&str; 14] = [
    "content byte over field",
    "sealed_by over field",
    "sealed_at over field",
    "content byte in fresh entry",
    "sealed_by in fresh entry",
    "sealed_at in fresh entry",
    "sealed entry removed",
    "signature entry byte",
    "signature entry removed",
    "signature moved to another key",
    "payload field",
    "payload field re-signed by another key",
    "certificate field",
    "saved document byte",
];

/// Another valid-looking value for a JSON field.
fn change(field: &str, v: &Json, n: usize) -> Json {
    match v {
        Json::String(s) if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) => {
            let mut bytes = hex::decode(s).unwrap();
            bytes[n % 32] ^= 1 + (n % 255) as u8;
            Json::String(hex::encode(bytes))
        }
        Json::String(s) if s.ends_with('Z') && s.len() == 20 => {
            let t = chrono::DateTime::parse_from_rfc3339(s).unwrap()
                + chrono::Duration::seconds(1 + n as i64 % 86_400);
            Json::String(
                t.with_timezone(&chrono::Utc)
                    .format("%Y-%m-%dT%H:%M:%SZ")
                    .to_string(),
            )
        }
        Json::String(s) if field == "role" => {
            let roles = [
                "township_leader",
                "village_cadre",
                "case_handler",
                "county_supervisor",
            ];
            let others: Vec<&&str> = roles.iter().filter(|r| **r != s).collect();
            Json::from(*others[n % others.len()])
        }
        Json::String(s) => Json::String(format!("{s}{}", ["x", "1", " ", "-"][n % 3])),
        Json::Number(x) => Json::from(x.as_i64().unwrap() + 1),
        Json::Array(items) if items.len() > 1 && n % 2 == 0 => Json::Array(items[1..].to_vec()),
        Json::Array(items) => {
            let mut items = items.clone();
            items.push(Json::from(if field == "roles" {
                "county_supervisor"
            } else {
                "620102001009"
            }));
            Json::Array(items)
        }
        Json::Object(m) => {
            let mut m = m.clone();
            if let Some(Json::Array(codes)) = m.get_mut("villages") {
                codes.push(Json::from("620102001009"));
            } else {
                m.insert(
                    "villages".into(),
                    Json::Array(vec![Json::from("620102001001")]),
                );
                m.remove("county");
            }
            Json::Object(m)
        }
        other => other.clone(),
    }
}

fn mutate_json(bytes: &[u8], field: &str, n: usize) -> Vec<u8> {
    let mut v: Json = serde_json::from_slice(bytes).unwrap();
    let old = v[field].clone();
    v[field] = change(field, &old, n);
    assert_ne!(v[field], old, "{field}");
    to_canonical_bytes(&v).unwrap()
}

struct Fixture {
    county: County,
    doc: std::cell::RefCell<AutoCommit>,
    key: String,
    content: Vec<u8>,
    sealed_by: String,
    sealed_at: i64,
    signature_keys: Vec<String>,
    saved: Vec<u8>,
}

fn complete(doc: &AutoCommit, f: &Fixture) -> bool {
    verify_visit(doc, VISIT, &VisitPolicy::default(), &f.county.trust())
        .map(|v| v.is_complete())
        .unwrap_or(false)
}

/// Applies mutation `kind` to a fork; `None` when the mutated document does not even load.
fn mutated(f: &Fixture, kind: usize, who: usize, n: usize, xor: u8) -> Option<AutoCommit> {
    let mut doc = f.doc.borrow_mut().fork();
    let sig_key = &f.signature_keys[who % f.signature_keys.len()];
    let flip = |mut b: Vec<u8>| {
        let i = n % b.len();
        b[i] ^= xor;
        b
    };
    match kind {
        0 => overwrite_entry_field(
            &mut doc,
            VISIT,
            &f.key,
            "content",
            ScalarValue::Bytes(flip(f.content.clone())),
        ),
        1 => overwrite_entry_field(
            &mut doc,
            VISIT,
            &f.key,
            "sealed_by",
            ScalarValue::Str(format!("{}{}", f.sealed_by, n % 10).into()),
        ),
        2 => overwrite_entry_field(
            &mut doc,
            VISIT,
            &f.key,
            "sealed_at",
            ScalarValue::Int(f.sealed_at + 1 + (n % 1000) as i64),
        ),
        3 => replace_entry(
            &mut doc,
            VISIT,
            &f.key,
            flip(f.content.clone()),
            &f.sealed_by,
            f.sealed_at,
        ),
        4 => replace_entry(
            &mut doc,
            VISIT,
            &f.key,
            f.content.clone(),
            &format!("w-cadre{}", n % 10),
            f.sealed_at,
        ),
        5 => replace_entry(
            &mut doc,
            VISIT,
            &f.key,
            f.content.clone(),
            &f.sealed_by,
            f.sealed_at - 1 - (n % 1000) as i64,
        ),
        6 => {
            let visit = visit_obj(&doc, VISIT);
            let sealed = child(&doc, &visit, "sealed");
            doc.delete(&sealed, f.key.as_str()).unwrap();
            doc.commit();
        }
        7 => {
            let bytes = signature_bytes(&doc, VISIT, sig_key);
            inject_signature(&mut doc, VISIT, sig_key, flip(bytes));
        }
        8 => {
            let visit = visit_obj(&doc, VISIT);
            let sigs = child(&doc, &visit, "signatures");
            doc.delete(&sigs, sig_key.as_str()).unwrap();
            doc.commit();
        }
        9 => {
            let bytes = signature_bytes(&doc, VISIT, sig_key);
            let roles = ["township_leader", "village_cadre", "case_handler"];
            let (hash, rest) = sig_key.split_once('/').unwrap();
            let (worker, role) = rest.rsplit_once('/').unwrap();
            let moved = if n % 2 == 0 {
                format!(
                    "{hash}/{worker}/{}",
                    roles.iter().find(|r| **r != role).unwrap()
                )
            } else {
                format!("{hash}/{worker}x/{role}")
            };
            let visit = visit_obj(&doc, VISIT);
            let sigs = child(&doc, &visit, "signatures");
            doc.delete(&sigs, sig_key.as_str()).unwrap();
            doc.put(&sigs, moved.as_str(), ScalarValue::Bytes(bytes))
                .unwrap();
            doc.commit();
        }
        10 | 11 => {
            let mut entry = SignatureEntry::decode(&signature_bytes(&doc, VISIT, sig_key)).unwrap();
            let field = PAYLOAD_FIELDS[n % PAYLOAD_FIELDS.len()];
            entry.signature.payload_bytes = mutate_json(
                &entry.signature.payload_bytes,
                field,
                n / PAYLOAD_FIELDS.len(),
            );
            if kind == 11 {
                // Re-signed with another worker's key (a forger holding some valid key).
                let others: Vec<&Worker> = f
                    .county
                    .workers()
                    .into_iter()
                    .filter(|w| !sig_key.contains(&format!("/{}/", w.id)))
                    .collect();
                let other = others[n % others.len()];
                entry.signature.signature = other.signer.sign(&entry.signature.payload_bytes);
            }
            inject_signature(&mut doc, VISIT, sig_key, entry.encode().unwrap());
        }
        12 => {
            let mut entry = SignatureEntry::decode(&signature_bytes(&doc, VISIT, sig_key)).unwrap();
            let field = CERT_FIELDS[n % CERT_FIELDS.len()];
            entry.certificate.body_bytes =
                mutate_json(&entry.certificate.body_bytes, field, n / CERT_FIELDS.len());
            inject_signature(&mut doc, VISIT, sig_key, entry.encode().unwrap());
        }
        13 => return AutoCommit::load(&flip(f.saved.clone())).ok(),
        _ => unreachable!(),
    }
    Some(doc)
}

#[test]
fn no_mutated_record_verifies_and_the_untouched_one_always_does() {
    let county = county();
    let (mut doc, sealed) = complete_doc(&county);
    let mut am = doc.automerge().fork();
    let saved = am.save();
    let am_ref = &am;
    let signature_keys = ruhu_core::visit::document::read_visit(am_ref, VISIT)
        .unwrap()
        .signature_keys;
    assert_eq!(signature_keys.len(), 3);
    let f = Fixture {
        doc: std::cell::RefCell::new(am),
        key: sealed.content_hash.to_hex(),
        content: sealed.bytes.clone(),
        sealed_by: sealed.content.sealed_by.clone(),
        sealed_at: sealed.content.sealed_at.timestamp(),
        signature_keys,
        saved,
        county,
    };
    assert!(complete(&f.doc.borrow(), &f));
    assert_eq!(SIGNATURE_LEN, 64);

    let mut runner = TestRunner::new(Config::with_cases(10_000));
    let counts = std::cell::RefCell::new(BTreeMap::<&str, usize>::new());
    let passes = std::cell::Cell::new(0usize);
    let untouched_failures = std::cell::Cell::new(0usize);
    runner
        .run(
            &(0..KINDS.len(), 0..3usize, any::<usize>(), 1..=255u8),
            |(kind, who, n, xor)| {
                *counts.borrow_mut().entry(KINDS[kind]).or_default() += 1;
                if let Some(doc) = mutated(&f, kind, who, n, xor) {
                    if complete(&doc, &f) {
                        passes.set(passes.get() + 1);
                    }
                    prop_assert!(
                        !complete(&doc, &f),
                        "mutation {} ({who}, {n}, {xor}) still verifies",
                        KINDS[kind]
                    );
                }
                if n % 50 == 0 && !complete(&f.doc.borrow(), &f) {
                    untouched_failures.set(untouched_failures.get() + 1);
                }
                Ok(())
            },
        )
        .unwrap();
    println!("mutations per kind: {:#?}", counts.borrow());
    println!("payload fields covered: {PAYLOAD_FIELDS:?}");
    println!("certificate fields covered: {CERT_FIELDS:?}");
    println!("mutated records that verified: {}", passes.get());
    assert_eq!(passes.get(), 0);
    assert_eq!(untouched_failures.get(), 0);
    assert!(counts.borrow().values().all(|c| *c > 300));
    assert!(
        complete(&f.doc.borrow(), &f),
        "the untouched record still verifies"
    );
    let _ = doc.automerge();
}
