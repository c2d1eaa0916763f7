//! Who may sign: a forged signature (key A claiming to be B), a wrong role, an
//! out-of-village signer, a revoked certificate, an expired certificate and one person in
//! two roles are each refused at signing and flagged at verification; a signature made
//! before a revocation's effective time stays valid.
#![allow(clippy::unwrap_used)]

mod visits_common;

use chrono::Duration;
use ruhu_core::signing::attestation::{sign_visit, Trust, VisitSignaturePayload};
use ruhu_core::signing::certificate::{Role, Scope};
use ruhu_core::signing::revocation::{
    Revocation, RevocationList, RevocationReason, REVOCATION_FORMAT,
};
use ruhu_core::visit::document::{self, SealedRevision};
use ruhu_core::visit::entry::{signature_key, SignatureEntry};
use ruhu_core::visit::policy::VisitPolicy;
use ruhu_core::visit::verify::{
    expected_for, sign_content, verify_visit, SignerVerdict, VisitStatus,
};
use ruhu_core::visit::VisitError;
use visits_common::*;

/// Signs without any check (as a hostile or buggy tablet would) and stores the entry.
fn force_sign(
    doc: &mut ruhu_core::household::HouseholdDocument,
    sealed: &SealedRevision,
    signer: &ruhu_core::signing::keys::WorkerSigner,
    cert: &ruhu_core::signing::certificate::SignedCertificate,
    worker_id: &str,
    role: Role,
    when: chrono::DateTime<chrono::Utc>,
) {
    let record = expected_for(&sealed.content, &sealed.content_hash).record;
    let payload = VisitSignaturePayload::new(&record, cert, worker_id, role, when);
    let signature = sign_visit(signer, &payload).unwrap();
    let entry = SignatureEntry {
        signature,
        certificate: cert.clone(),
    };
    inject_signature(
        doc.automerge(),
        VISIT,
        &signature_key(&sealed.content_hash, worker_id, role),
        entry.encode().unwrap(),
    );
}

/// The verdict of the signature stored for `worker_id`, and the visit's status.
fn verdict_of(
    doc: &mut ruhu_core::household::HouseholdDocument,
    trust: &Trust,
    worker_id: &str,
) -> (SignerVerdict, VisitStatus) {
    let v = verify_visit(doc.automerge(), VISIT, &VisitPolicy::default(), trust).unwrap();
    let verdict = v
        .signers()
        .find(|s| s.worker_id.as_deref() == Some(worker_id))
        .unwrap()
        .verdict
        .clone();
    (verdict, v.status)
}

fn refused(result: Result<SignatureEntry, VisitError>) -> SignerVerdict {
    match result {
        Err(VisitError::NotPermitted(v)) => v,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

const WHEN_H: u32 = 11;

#[test]
fn forged_signature_key_a_claiming_b() {
    let c = county();
    let (mut doc, sealed) = sealed_doc(&c);
    let when = t(2024, 5, 6, WHEN_H);
    // The cadre's tablet key signs with the leader's certificate.
    let at_signing = refused(sign_content(
        &sealed.bytes,
        &sealed.content_hash,
        Role::TownshipLeader,
        &c.cadre.signer,
        &c.leader.cert,
        &c.trust(),
        when,
    ));
    assert_eq!(at_signing, SignerVerdict::BadSignature);
    force_sign(
        &mut doc,
        &sealed,
        &c.cadre.signer,
        &c.leader.cert,
        &c.leader.id,
        Role::TownshipLeader,
        when,
    );
    let (verdict, status) = verdict_of(&mut doc, &c.trust(), &c.leader.id);
    assert_eq!(verdict, at_signing);
    assert!(matches!(status, VisitStatus::Invalid { .. }));
}

#[test]
fn wrong_role() {
    let c = county();
    let (mut doc, sealed) = sealed_doc(&c);
    let when = t(2024, 5, 6, WHEN_H);
    // The cadre's certificate does not grant the case handler role.
    let at_signing = refused(sign_content(
        &sealed.bytes,
        &sealed.content_hash,
        Role::CaseHandler,
        &c.cadre.signer,
        &c.cadre.cert,
        &c.trust(),
        when,
    ));
    assert_eq!(at_signing, SignerVerdict::WrongRole(Role::CaseHandler));
    force_sign(
        &mut doc,
        &sealed,
        &c.cadre.signer,
        &c.cadre.cert,
        &c.cadre.id,
        Role::CaseHandler,
        when,
    );
    let (verdict, status) = verdict_of(&mut doc, &c.trust(), &c.cadre.id);
    assert_eq!(verdict, at_signing);
    assert!(matches!(status, VisitStatus::Invalid { .. }));
}

#[test]
fn out_of_village_signer() {
    let c = county();
    let (mut doc, sealed) = sealed_doc(&c);
    let when = t(2024, 5, 6, WHEN_H);
    let elsewhere = worker_with(
        &c.authority,
        "w-leader",
        vec![Role::TownshipLeader],
        Scope::Villages(vec![OTHER_VILLAGE.into()]),
    );
    let at_signing = refused(sign_content(
        &sealed.bytes,
        &sealed.content_hash,
        Role::TownshipLeader,
        &elsewhere.signer,
        &elsewhere.cert,
        &c.trust(),
        when,
    ));
    assert_eq!(at_signing, SignerVerdict::VillageNotCovered(VILLAGE.into()));
    force_sign(
        &mut doc,
        &sealed,
        &elsewhere.signer,
        &elsewhere.cert,
        &elsewhere.id,
        Role::TownshipLeader,
        when,
    );
    let (verdict, _) = verdict_of(&mut doc, &c.trust(), &elsewhere.id);
    assert_eq!(verdict, at_signing);
}

#[test]
fn expired_certificate() {
    let c = county();
    let (mut doc, sealed) = sealed_doc(&c);
    let old = {
        let mut w = worker(&c.authority, "w-leader", Role::TownshipLeader);
        w.cert = issue(
            &c.authority,
            "w-leader",
            vec![Role::TownshipLeader],
            Scope::Villages(vec![VILLAGE.into()]),
            w.signer.public_key(),
            t(2023, 1, 1, 0),
            t(2024, 1, 1, 0),
        );
        w
    };
    let when = t(2024, 5, 6, WHEN_H);
    let at_signing = refused(sign_content(
        &sealed.bytes,
        &sealed.content_hash,
        Role::TownshipLeader,
        &old.signer,
        &old.cert,
        &c.trust(),
        when,
    ));
    assert_eq!(at_signing, SignerVerdict::CertificateNotValid(when));
    force_sign(
        &mut doc,
        &sealed,
        &old.signer,
        &old.cert,
        &old.id,
        Role::TownshipLeader,
        when,
    );
    assert_eq!(verdict_of(&mut doc, &c.trust(), &old.id).0, at_signing);
}

fn revoked_trust(c: &County, effective_at: chrono::DateTime<chrono::Utc>) -> Trust {
    let list = RevocationList {
        format: REVOCATION_FORMAT,
        county_code: "620102".into(),
        serial: 1,
        issued_at: t(2024, 6, 1, 0),
        entries: vec![Revocation {
            worker_id: c.cadre.id.clone(),
            certificate_hash: c.cadre.cert.hash(),
            reason: RevocationReason::DeviceLost,
            effective_at,
        }],
    };
    let verified = list
        .sign(&c.authority)
        .unwrap()
        .verify(&c.authority.public_key())
        .unwrap();
    Trust {
        revocations: Some(verified),
        ..c.trust()
    }
}

#[test]
fn revoked_certificate_and_signature_before_revocation() {
    let c = county();
    let (mut doc, sealed) = sealed_doc(&c);
    let when = t(2024, 5, 6, WHEN_H);
    let revoked_before = revoked_trust(&c, when - Duration::hours(1));
    let at_signing = refused(sign_content(
        &sealed.bytes,
        &sealed.content_hash,
        Role::VillageCadre,
        &c.cadre.signer,
        &c.cadre.cert,
        &revoked_before,
        when,
    ));
    assert!(matches!(
        at_signing,
        SignerVerdict::Revoked {
            reason: RevocationReason::DeviceLost,
            ..
        }
    ));

    // All three sign at `when`.
    for w in c.workers() {
        sign(&mut doc, &c, w, &sealed, when);
    }
    // Revoked from before the signature: flagged.
    let (verdict, status) = verdict_of(&mut doc, &revoked_before, &c.cadre.id);
    assert_eq!(verdict, at_signing);
    assert!(matches!(status, VisitStatus::Invalid { .. }));
    // Revoked from after the signature (the worker lost the tablet a month later): stays valid.
    let revoked_after = revoked_trust(&c, when + Duration::days(30));
    let (verdict, status) = verdict_of(&mut doc, &revoked_after, &c.cadre.id);
    assert_eq!(verdict, SignerVerdict::Valid);
    assert!(matches!(status, VisitStatus::Complete { revision: 1, .. }));
}

#[test]
fn one_person_in_two_roles() {
    let c = county();
    // The case handler also holds a cadre certificate role.
    let both = worker_with(
        &c.authority,
        "w-handler",
        vec![Role::CaseHandler, Role::VillageCadre],
        Scope::Villages(vec![VILLAGE.into()]),
    );
    let (mut doc, sealed) = sealed_doc(&c);
    let when = t(2024, 5, 6, WHEN_H);
    let ok = sign_content(
        &sealed.bytes,
        &sealed.content_hash,
        Role::CaseHandler,
        &both.signer,
        &both.cert,
        &c.trust(),
        when,
    )
    .unwrap();
    document::add_signature(doc.automerge(), VISIT, &ok, &by(&both.id, when)).unwrap();
    let at_signing = refused(sign_content(
        &sealed.bytes,
        &sealed.content_hash,
        Role::VillageCadre,
        &both.signer,
        &both.cert,
        &c.trust(),
        when,
    ));
    assert_eq!(
        at_signing,
        SignerVerdict::DuplicatePerson {
            worker_id: both.id.clone(),
            team_role: Role::CaseHandler
        }
    );
    force_sign(
        &mut doc,
        &sealed,
        &both.signer,
        &both.cert,
        &both.id,
        Role::VillageCadre,
        when,
    );
    sign(&mut doc, &c, &c.leader, &sealed, when);
    let v = verify_visit(doc.automerge(), VISIT, &VisitPolicy::default(), &c.trust()).unwrap();
    let verdicts: Vec<_> = v.signers().map(|s| (s.role, s.verdict.clone())).collect();
    assert!(verdicts.contains(&(Some(Role::VillageCadre), at_signing)));
    assert!(!v.is_complete());

    // A team naming one person twice is refused when the visit starts.
    let mut team = c.team();
    team[1].worker_id = c.handler.id.clone();
    let new = document::NewVisit {
        purpose: ruhu_core::visit::Purpose::CareVisit,
        team,
        village_code: VILLAGE.into(),
        template: ruhu_core::visit::template::minimal_template()
            .reference
            .clone(),
    };
    let err = document::start_visit(
        doc.automerge(),
        "visit-2",
        &new,
        &VisitPolicy::default(),
        &by("x", when),
    )
    .unwrap_err();
    assert_eq!(err.field_errors()[0].code, "visit.duplicate_person");
}

#[test]
fn not_on_team_and_content_not_held() {
    let c = county();
    let (_, sealed) = sealed_doc(&c);
    let outsider = worker(&c.authority, "w-outsider", Role::VillageCadre);
    let when = t(2024, 5, 6, WHEN_H);
    let at_signing = refused(sign_content(
        &sealed.bytes,
        &sealed.content_hash,
        Role::VillageCadre,
        &outsider.signer,
        &outsider.cert,
        &c.trust(),
        when,
    ));
    assert_eq!(at_signing, SignerVerdict::NotOnTeam);
    let other = ruhu_core::visit::ContentHash([9; 32]);
    let err = sign_content(
        &sealed.bytes,
        &other,
        Role::VillageCadre,
        &c.cadre.signer,
        &c.cadre.cert,
        &c.trust(),
        when,
    )
    .unwrap_err();
    assert!(matches!(err, VisitError::ContentNotHeld { .. }));
    assert_eq!(err.code(), "visit.content_not_held");
}

#[test]
fn national_minimum_policy_completes_with_two() {
    let c = county();
    let (mut doc, sealed) = sealed_doc(&c);
    let when = t(2024, 5, 6, WHEN_H);
    sign(&mut doc, &c, &c.cadre, &sealed, when);
    sign(&mut doc, &c, &c.handler, &sealed, when);
    let v = verify_visit(
        doc.automerge(),
        VISIT,
        &VisitPolicy::national_minimum(),
        &c.trust(),
    )
    .unwrap();
    assert!(v.is_complete());
    let v = verify_visit(doc.automerge(), VISIT, &VisitPolicy::default(), &c.trust()).unwrap();
    assert_eq!(
        v.status,
        VisitStatus::Incomplete {
            revision: 1,
            content_hash: sealed.content_hash,
            missing_roles: vec![Role::TownshipLeader]
        }
    );
}
