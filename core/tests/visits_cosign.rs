//! Co-signing in the household with no network and no sync at all: the sealed content
//! goes to the other two tablets as QR codes (shuffled, duplicated), each answers with a
//! one-QR-code signature response, and the case handler's store then holds a complete
//! visit. Responses for another visit, another revision, from a non-member or for content
//! the tablet does not hold are refused.
#![allow(clippy::unwrap_used)]

mod visits_common;

use chrono::Utc;
use ruhu_core::signing::attestation::{sign_visit, RecordRef, VisitSignaturePayload};
use ruhu_core::signing::certificate::Role;
use ruhu_core::signing::qr_chunks::Accepted;
use ruhu_core::signing::response::encode_response;
use ruhu_core::visit::cosign::ContentReceiver;
use ruhu_core::visit::verify::{SignerVerdict, VisitStatus};
use ruhu_core::visit::{ContentHash, Purpose, VisitError};
use ruhu_core::Error;
use visits_common::*;

/// A deterministic shuffle with every chunk repeated.
fn shuffled_with_repeats(chunks: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = chunks.iter().chain(chunks.iter()).cloned().collect();
    let mut seed = 0x9e37_79b9_u64;
    for i in (1..out.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        out.swap(i, (seed % (i as u64 + 1)) as usize);
    }
    out
}

fn receive(chunks: &[Vec<u8>]) -> ruhu_core::visit::cosign::ReceivedContent {
    let mut rx = ContentReceiver::new();
    let mut duplicates = 0;
    for chunk in shuffled_with_repeats(chunks) {
        if rx.accept(&chunk).unwrap() == Accepted::Duplicate {
            duplicates += 1;
        }
    }
    assert_eq!(duplicates, chunks.len());
    rx.finish().unwrap()
}

fn visit_error(e: Error) -> VisitError {
    match e {
        Error::Visit(v) => v,
        other => panic!("expected a visit error, got {other:?}"),
    }
}

#[test]
fn qr_exchange_completes_the_visit_on_the_case_handlers_tablet() {
    let c = county();
    let dir = tempfile::tempdir().unwrap();
    let mut handler = open_store(dir.path(), "handler", &c.handler.id, &c);
    let h = handler
        .create_household(ruhu_core::fixtures::household(9, VILLAGE, 4))
        .unwrap();
    let visit = handler
        .start_visit(&h.id, Purpose::NewApplication, c.team())
        .unwrap();
    handler.edit_visit_draft(&h.id, &visit, &answers()).unwrap();
    let sealed = handler.seal_visit(&h.id, &visit, &details(None)).unwrap();
    handler
        .sign_visit(
            &h.id,
            &visit,
            &sealed.content_hash,
            Role::CaseHandler,
            &c.handler.keys,
            "tablet",
        )
        .unwrap();

    let chunks = handler
        .visit_content_chunks(&h.id, &visit, &sealed.content_hash)
        .unwrap();
    let chunk_bytes: Vec<usize> = chunks.iter().map(Vec::len).collect();
    println!(
        "4-member household visit: sealed content {} bytes -> {} QR code(s) of {:?} bytes",
        sealed.bytes.len(),
        chunks.len(),
        chunk_bytes
    );
    assert!(chunks.len() <= 2);

    let mut responses = Vec::new();
    for w in [&c.leader, &c.cadre] {
        // The co-signer's tablet has no copy of the household at all.
        let mut tablet = open_store(dir.path(), &w.id, &w.id, &c);
        // Before receiving, it refuses to sign the hash.
        let err = visit_error(
            tablet
                .cosign(&sealed.content_hash, w.role, &w.keys, "tablet")
                .unwrap_err(),
        );
        assert!(matches!(err, VisitError::ContentNotHeld { .. }));
        let received = receive(&chunks);
        assert_eq!(received.content_hash, sealed.content_hash);
        assert_eq!(received.content, sealed.content);
        tablet.receive_content(&received).unwrap();
        let response = tablet
            .cosign(&sealed.content_hash, w.role, &w.keys, "tablet")
            .unwrap();
        println!(
            "signature response from {}: {} bytes (one QR code)",
            w.id,
            response.len()
        );
        assert!(response.len() < 300);
        responses.push(response);
    }
    let v = handler
        .import_signature_response(&h.id, &visit, &sealed.content_hash, &responses[0])
        .unwrap();
    assert_eq!(
        v.status,
        VisitStatus::Incomplete {
            revision: 1,
            content_hash: sealed.content_hash,
            missing_roles: vec![Role::VillageCadre]
        }
    );
    let v = handler
        .import_signature_response(&h.id, &visit, &sealed.content_hash, &responses[1])
        .unwrap();
    assert!(v.is_complete(), "{:?}", v.status);
    // Scanning the same response again changes nothing.
    let again = handler
        .import_signature_response(&h.id, &visit, &sealed.content_hash, &responses[1])
        .unwrap();
    assert_eq!(again, v);
    assert_eq!(handler.visits_complete(VILLAGE).unwrap().len(), 1);
    handler.clear_cache();
    assert!(
        handler.verify_visit(&h.id, &visit).unwrap().is_complete(),
        "complete after reloading from disk"
    );
}

#[test]
fn responses_that_do_not_answer_this_record_are_refused() {
    let c = county();
    let dir = tempfile::tempdir().unwrap();
    let mut handler = open_store(dir.path(), "handler", &c.handler.id, &c);
    let h = handler
        .create_household(ruhu_core::fixtures::household(10, VILLAGE, 4))
        .unwrap();
    let visit = handler
        .start_visit(&h.id, Purpose::NewApplication, c.team())
        .unwrap();
    handler.edit_visit_draft(&h.id, &visit, &answers()).unwrap();
    let r1 = handler.seal_visit(&h.id, &visit, &details(None)).unwrap();
    let other_visit = handler
        .start_visit(&h.id, Purpose::CareVisit, c.team())
        .unwrap();
    handler
        .edit_visit_draft(&h.id, &other_visit, &answers())
        .unwrap();
    let other = handler
        .seal_visit(&h.id, &other_visit, &details(None))
        .unwrap();

    let mut cadre = open_store(dir.path(), "cadre", &c.cadre.id, &c);
    for sealed in [&r1, &other] {
        cadre
            .receive_content(&receive(
                &handler
                    .visit_content_chunks(&h.id, &sealed.content.visit_id, &sealed.content_hash)
                    .unwrap(),
            ))
            .unwrap();
    }
    let for_r1 = cadre
        .cosign(
            &r1.content_hash,
            Role::VillageCadre,
            &c.cadre.keys,
            "tablet",
        )
        .unwrap();
    let for_other = cadre
        .cosign(
            &other.content_hash,
            Role::VillageCadre,
            &c.cadre.keys,
            "tablet",
        )
        .unwrap();

    // Another visit.
    let err = visit_error(
        handler
            .import_signature_response(&h.id, &visit, &r1.content_hash, &for_other)
            .unwrap_err(),
    );
    assert!(
        matches!(&err, VisitError::ResponseRefused { reason } if reason.contains("visit")),
        "{err}"
    );

    // Another revision: revision 1's response scanned while revision 2 is shown.
    handler
        .edit_visit_draft(
            &h.id,
            &visit,
            &[("reason".into(), Some(serde_json::json!("更正：补充说明")))],
        )
        .unwrap();
    let r2 = handler
        .seal_visit(&h.id, &visit, &details(Some(r1.content_hash)))
        .unwrap();
    let err = visit_error(
        handler
            .import_signature_response(&h.id, &visit, &r2.content_hash, &for_r1)
            .unwrap_err(),
    );
    assert!(
        matches!(&err, VisitError::ResponseRefused { reason } if reason.contains("revision")),
        "{err}"
    );

    // Content this tablet does not hold: right visit and revision, another hash.
    let record = RecordRef {
        household_id: h.id.clone(),
        visit_id: visit.clone(),
        revision: 2,
        content_hash: [7; 32],
    };
    let payload = VisitSignaturePayload::new(
        &record,
        &c.cadre.cert,
        &c.cadre.id,
        Role::VillageCadre,
        Utc::now(),
    );
    let stray = encode_response(&sign_visit(&c.cadre.signer, &payload).unwrap()).unwrap();
    let err = visit_error(
        handler
            .import_signature_response(&h.id, &visit, &r2.content_hash, &stray)
            .unwrap_err(),
    );
    assert!(matches!(err, VisitError::ContentNotHeld { .. }));
    // And the tablet itself refuses to co-sign a hash it does not hold.
    let err = visit_error(
        cadre
            .cosign(
                &ContentHash([7; 32]),
                Role::VillageCadre,
                &c.cadre.keys,
                "tablet",
            )
            .unwrap_err(),
    );
    assert!(matches!(err, VisitError::ContentNotHeld { .. }));

    // A non-member: a certified cadre of the village who is not on this visit's team.
    let outsider = worker(&c.authority, "w-outsider", Role::VillageCadre);
    handler.add_certificate(&outsider.cert).unwrap();
    let record = RecordRef {
        household_id: h.id.clone(),
        visit_id: visit.clone(),
        revision: 2,
        content_hash: r2.content_hash.0,
    };
    let payload = VisitSignaturePayload::new(
        &record,
        &outsider.cert,
        &outsider.id,
        Role::VillageCadre,
        Utc::now(),
    );
    let response = encode_response(&sign_visit(&outsider.signer, &payload).unwrap()).unwrap();
    let err = visit_error(
        handler
            .import_signature_response(&h.id, &visit, &r2.content_hash, &response)
            .unwrap_err(),
    );
    assert_eq!(err, VisitError::NotPermitted(SignerVerdict::NotOnTeam));
    // ... whose own tablet refuses to sign in the first place.
    let mut outsider_tablet = open_store(dir.path(), "outsider", &outsider.id, &c);
    outsider_tablet.add_certificate(&outsider.cert).unwrap();
    outsider_tablet
        .receive_content(&receive(
            &handler
                .visit_content_chunks(&h.id, &visit, &r2.content_hash)
                .unwrap(),
        ))
        .unwrap();
    let err = visit_error(
        outsider_tablet
            .cosign(
                &r2.content_hash,
                Role::VillageCadre,
                &outsider.keys,
                "tablet",
            )
            .unwrap_err(),
    );
    assert_eq!(err, VisitError::NotPermitted(SignerVerdict::NotOnTeam));

    // Nothing refused was written.
    let v = handler.verify_visit(&h.id, &visit).unwrap();
    assert_eq!(v.signers().count(), 0);
    // Garbage is refused, not a panic.
    assert!(handler
        .import_signature_response(&h.id, &visit, &r2.content_hash, b"R\x01garbage")
        .is_err());
}
