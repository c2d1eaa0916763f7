//! Everything the server must refuse, and that a refusal leaves its data unchanged: replayed
//! and stale requests, pushes outside scope, changes under a colleague's actor id, forged
//! certificates, edits of sealed visit entries, old apps, revoked devices, read-only
//! supervisors.
#![allow(clippy::unwrap_used)]

mod common;

use automerge::transaction::Transactable;
use automerge::{ReadDoc, ScalarValue, ROOT};
use chrono::{Duration, Utc};
use common::*;
use ruhu_core::signing::certificate::{Role, Scope, WorkerCertificate, CERTIFICATE_FORMAT};
use ruhu_core::signing::keys::{MemoryKeyStore, SigningKeyPair, WorkerSigner};
use ruhu_core::signing::revocation::RevocationReason;
use ruhu_core::sync::signatures::RequestAuth;
use ruhu_core::sync::OutcomeKind;

fn setup() -> (County, tempfile::TempDir, Worker, Worker) {
    let county = County::new();
    let data = tempfile::tempdir().unwrap();
    let alice = county.handler("w-alice", &[V1]);
    let carol = county.handler("w-carol", &[V2]);
    (county, data, alice, carol)
}

#[test]
fn replayed_and_stale_requests_are_refused_and_change_nothing() {
    let (county, data, alice, _) = setup();
    let server = Server::with_config(data.path(), &county, &[&alice]);
    let mut a = Tablet::new();
    let id = a.create(&alice, &household(1, V1));
    let body = request(vec![a.unpushed(&alice, &id)], None).encode();
    let auth = RequestAuth::sign(
        &alice.signer,
        alice.cert_hash(),
        "POST",
        "/v1/sync",
        &body,
        Utc::now().timestamp(),
    )
    .unwrap();
    server.sync_raw(&body, &auth.to_header()).unwrap();
    let before = data_tables(data.path());
    let nonces = count(data.path(), "SELECT count(*) FROM request_nonces");

    let err = server.sync_raw(&body, &auth.to_header()).unwrap_err();
    assert_eq!(
        (err.0, err.1["code"].as_str()),
        (409, Some("auth.replayed_nonce"))
    );
    let stale = RequestAuth::sign(
        &alice.signer,
        alice.cert_hash(),
        "POST",
        "/v1/sync",
        &body,
        Utc::now().timestamp() - 1000,
    )
    .unwrap();
    let err = server.sync_raw(&body, &stale.to_header()).unwrap_err();
    assert_eq!(
        (err.0, err.1["code"].as_str()),
        (409, Some("auth.stale_request"))
    );
    // A signature over another body, a missing header, a malformed header.
    let other = RequestAuth::sign(
        &alice.signer,
        alice.cert_hash(),
        "POST",
        "/v1/sync",
        b"other",
        Utc::now().timestamp(),
    )
    .unwrap();
    assert_eq!(
        server.sync_raw(&body, &other.to_header()).unwrap_err().1["code"],
        "auth.bad_signature"
    );
    let (status, _) = http(server.addr, "POST", "/v1/sync", &[], &body);
    assert_eq!(status, 401);
    assert_eq!(server.sync_raw(&body, "nonsense").unwrap_err().0, 401);
    // A malformed body, correctly signed: 400.
    let garbage = b"RHQ1\x01garbage".to_vec();
    let auth = RequestAuth::sign(
        &alice.signer,
        alice.cert_hash(),
        "POST",
        "/v1/sync",
        &garbage,
        Utc::now().timestamp(),
    )
    .unwrap();
    let err = server.sync_raw(&garbage, &auth.to_header()).unwrap_err();
    assert_eq!(err.0, 400);
    assert!(err.1["code"].as_str().unwrap().starts_with("wire."));

    assert_eq!(data_tables(data.path()), before);
    assert_eq!(
        count(data.path(), "SELECT count(*) FROM request_nonces"),
        nonces + 1,
        "only the signed garbage's nonce"
    );
}

#[test]
fn pushes_outside_scope_are_refused_and_change_nothing() {
    let (county, data, alice, carol) = setup();
    let server = Server::with_config(data.path(), &county, &[&alice, &carol]);
    let mut c = Tablet::new();
    let v2_id = c.create(&carol, &household(2, V2));
    server
        .sync(&carol, &request(vec![c.unpushed(&carol, &v2_id)], None))
        .unwrap();
    let before = data_tables(data.path());

    // A new household in a village Alice does not hold, and an edit of Carol's household.
    let mut a = Tablet::new();
    let new_id = a.create(&alice, &household(3, V2));
    a.docs.insert(v2_id.clone(), c.docs[&v2_id].clone());
    a.mark_pushed(&v2_id);
    a.edit(&alice, &v2_id, |h| h.profile.address = "改写".into());
    // And one household she may write, in the same batch: accepted.
    let ok_id = a.create(&alice, &household(4, V1));
    let push = vec![
        a.unpushed(&alice, &new_id),
        a.unpushed(&alice, &v2_id),
        a.unpushed(&alice, &ok_id),
    ];
    let r = server.sync(&alice, &request(push, None)).unwrap();
    let mut codes: Vec<_> = r
        .outcomes
        .iter()
        .map(|o| (o.household_id.clone(), o.kind as u8, o.code.clone()))
        .collect();
    codes.sort();
    let mut expected = vec![
        (
            new_id.clone(),
            OutcomeKind::Rejected as u8,
            "sync.out_of_scope".to_string(),
        ),
        (
            v2_id.clone(),
            OutcomeKind::Rejected as u8,
            "sync.out_of_scope".to_string(),
        ),
    ];
    expected.sort();
    assert_eq!(codes, expected);
    assert!(
        r.outcomes
            .iter()
            .find(|o| o.household_id == new_id)
            .unwrap()
            .refused_changes
            .len()
            == 1
    );
    assert!(
        r.pulled.iter().all(|g| g.household_id != v2_id),
        "nothing of V2 is pulled"
    );
    let after = data_tables(data.path());
    assert_eq!(
        after["feed"].len(),
        before["feed"].len() + 1,
        "only the V1 household"
    );
    assert!(after["feed"].iter().all(|row| !row.contains(&new_id)));
    assert_eq!(
        count(
            data.path(),
            "SELECT count(*) FROM access_log WHERE action = 'push_refused'"
        ),
        2
    );
}

#[test]
fn a_change_under_a_colleagues_actor_id_is_refused() {
    let (county, data, alice, _) = setup();
    let bob = county.handler("w-bob", &[V1]);
    let server = Server::with_config(data.path(), &county, &[&alice, &bob]);
    let mut a = Tablet::new();
    let id = a.create(&alice, &household(1, V1));
    server
        .sync(&alice, &request(vec![a.unpushed(&alice, &id)], None))
        .unwrap();
    a.mark_pushed(&id);
    let before = data_tables(data.path());

    // Bob writes with Alice's actor id and signs with his own key.
    let mut b = Tablet::new();
    b.actor = a.actor.clone();
    b.docs.insert(id.clone(), a.docs[&id].clone());
    b.mark_pushed(&id);
    b.edit(&bob, &id, |h| h.profile.address = "冒名".into());
    let r = server
        .sync(&bob, &request(vec![b.unpushed(&bob, &id)], None))
        .unwrap();
    assert_eq!(r.outcomes.len(), 1);
    assert_eq!(r.outcomes[0].code, "sync.actor_of_another_worker");
    assert_eq!(r.outcomes[0].refused_changes.len(), 1);
    assert_eq!(data_tables(data.path()), before);

    // Alice's own change signed by Bob (a wrong signature for the claimed signer) is refused.
    a.edit(&alice, &id, |h| h.profile.address = "三组".into());
    let mut push = a.unpushed(&alice, &id);
    push.changes[0].signature = b.unpushed(&bob, &id).changes[0].signature;
    let r = server.sync(&alice, &request(vec![push], None)).unwrap();
    assert_eq!(r.outcomes[0].code, "sync.bad_change_signature");
    assert_eq!(data_tables(data.path()), before);
}

#[test]
fn forged_certificates_are_refused() {
    let (county, data, alice, _) = setup();
    let server = Server::with_config(data.path(), &county, &[&alice]);
    let impostor = SigningKeyPair::generate().unwrap();
    let signer = WorkerSigner::create(&MemoryKeyStore::default(), "tablet").unwrap();
    let now = Utc::now();
    let cert = WorkerCertificate {
        format: CERTIFICATE_FORMAT,
        worker_id: "w-mallory".into(),
        name: "冒充者".into(),
        roles: vec![Role::CaseHandler],
        scope: Scope::Villages(vec![V1.into()]),
        public_key: signer.public_key(),
        valid_from: ruhu_core::signing::wire::whole_seconds(now - Duration::days(1)),
        valid_until: ruhu_core::signing::wire::whole_seconds(now + Duration::days(30)),
        issued_at: ruhu_core::signing::wire::whole_seconds(now),
        authority_key_id: "county-620102".into(),
    }
    .sign(&impostor)
    .unwrap();
    let mallory = Worker {
        id: "w-mallory".into(),
        signer,
        cert,
    };
    let before = data_tables(data.path());
    let mut m = Tablet::new();
    let id = m.create(&mallory, &household(1, V1));
    let err = server
        .sync(&mallory, &request(vec![m.unpushed(&mallory, &id)], None))
        .unwrap_err();
    assert_eq!(
        (err.0, err.1["code"].as_str()),
        (401, Some("auth.unknown_certificate"))
    );
    // Mallory's changes carried by Alice: refused one by one.
    let r = server
        .sync(&alice, &request(vec![m.unpushed(&mallory, &id)], None))
        .unwrap();
    assert_eq!(r.outcomes[0].code, "sync.unknown_signer");
    assert_eq!(data_tables(data.path()), before);
}

fn answers() -> Vec<(String, Option<serde_json::Value>)> {
    use serde_json::json;
    [
        ("income_wages_fen", json!(1_860_000)),
        ("income_business_net_fen", json!(240_000)),
        ("income_property_net_fen", json!(0)),
        ("income_transfer_net_fen", json!(312_000)),
        ("spending_illness_fen", json!(450_000)),
        ("spending_schooling_fen", json!(120_000)),
        ("living_food", json!("difficult")),
        ("living_clothing", json!("adequate")),
        ("living_housing", json!("difficult")),
        ("living_daily_goods", json!("adequate")),
        ("hardship_cause", json!("户主患慢性病")),
        ("supporters", json!("无")),
        ("member_present_signed", json!(true)),
        ("conclusion", json!("eligible")),
        ("reason", json!("因病致贫")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), Some(v)))
    .collect()
}

#[test]
fn an_edit_of_a_sealed_visit_entry_is_refused() {
    use ruhu_core::visit::content::{Place, TeamMember};
    use ruhu_core::visit::document::{edit_draft, seal, start_visit, NewVisit, SealDetails};
    use ruhu_core::visit::template::minimal_template;
    use ruhu_core::visit::{Purpose, VisitPolicy};
    let (county, data, alice, _) = setup();
    let server = Server::with_config(data.path(), &county, &[&alice]);
    let mut a = Tablet::new();
    let id = a.create(&alice, &household(1, V1));
    let at = by(&alice);
    let doc = a.docs.get_mut(&id).unwrap();
    doc.set_actor(a.actor.clone());
    let team = [Role::TownshipLeader, Role::VillageCadre, Role::CaseHandler]
        .into_iter()
        .enumerate()
        .map(|(i, role)| TeamMember {
            role,
            worker_id: if i == 2 {
                alice.id.clone()
            } else {
                format!("w-{i}")
            },
        })
        .collect();
    let new = NewVisit {
        purpose: Purpose::NewApplication,
        team,
        village_code: V1.into(),
        template: ruhu_core::visit::template::minimal_template()
            .reference
            .clone(),
    };
    start_visit(doc, "visit-1", &new, &VisitPolicy::default(), &at).unwrap();
    edit_draft(doc, "visit-1", &answers(), &minimal_template().into(), &at).unwrap();
    let details = SealDetails {
        previous: None,
        place: Place {
            village_code: V1.into(),
            address: "一组".into(),
            gps: None,
        },
        visited_at: Utc::now() - Duration::hours(2),
        attachments: vec![],
        scoring: None,
        emergency_remote: None,
    };
    let sealed = seal(doc, "visit-1", &details, &minimal_template().into(), &at).unwrap();
    let r = server
        .sync(&alice, &request(vec![a.unpushed(&alice, &id)], None))
        .unwrap();
    assert!(r.outcomes.is_empty(), "{:?}", r.outcomes);
    a.mark_pushed(&id);
    let before = data_tables(data.path());

    // A hostile tablet rewrites the sealed content, in a batch that also starts a new visit
    // (the checks must still read the old visit the batch writes in).
    let doc = a.docs.get_mut(&id).unwrap();
    start_visit(doc, "visit-2", &new, &VisitPolicy::default(), &at).unwrap();
    let (_, visits) = doc.get(ROOT, "visits").unwrap().unwrap();
    let (_, visit) = doc.get(&visits, "visit-1").unwrap().unwrap();
    let (_, sealed_map) = doc.get(&visit, "sealed").unwrap().unwrap();
    let (_, entry) = doc
        .get(&sealed_map, sealed.content_hash.to_hex())
        .unwrap()
        .unwrap();
    let text = String::from_utf8(sealed.bytes.clone())
        .unwrap()
        .replace("1860000", "9860000");
    doc.put(&entry, "content", ScalarValue::Bytes(text.into_bytes()))
        .unwrap();
    doc.commit();
    let r = server
        .sync(&alice, &request(vec![a.unpushed(&alice, &id)], None))
        .unwrap();
    assert_eq!(r.outcomes.len(), 1);
    assert_eq!(r.outcomes[0].kind, OutcomeKind::Rejected);
    assert_eq!(r.outcomes[0].code, "sync.sealed_entry_altered");
    assert_eq!(data_tables(data.path()), before);
}

#[test]
fn an_app_older_than_the_minimum_is_told_to_update() {
    let (county, data, alice, _) = setup();
    let server = Server::start(data.path(), &county);
    let (status, _) =
        server.post_config(&county.config_with(1, "0.2.0", vec![alice.cert.clone()], None));
    assert_eq!(status, 200);
    let mut a = Tablet::new();
    let id = a.create(&alice, &household(1, V1));
    let before = data_tables(data.path());
    let err = server
        .sync(&alice, &request(vec![a.unpushed(&alice, &id)], None))
        .unwrap_err();
    assert_eq!(
        (err.0, err.1["code"].as_str()),
        (426, Some("sync.app_too_old"))
    );
    assert_eq!(data_tables(data.path()), before);
    let mut newer = request(vec![a.unpushed(&alice, &id)], None);
    newer.app_version = "0.2.1".into();
    assert!(server.sync(&alice, &newer).unwrap().outcomes.is_empty());
}

#[test]
fn a_revoked_device_is_refused_and_told_to_erase() {
    let (county, data, alice, carol) = setup();
    let server = Server::with_config(data.path(), &county, &[&alice, &carol]);
    let now = Utc::now();
    let list = county
        .authority
        .revoke(
            &alice.cert,
            RevocationReason::DeviceLost,
            now - Duration::minutes(5),
            None,
            now,
        )
        .unwrap();
    let (status, _) = server.post_config(&county.config_json(2, &[&alice, &carol], Some(list)));
    assert_eq!(status, 200);
    let mut a = Tablet::new();
    let id = a.create(&alice, &household(1, V1));
    let before = data_tables(data.path());
    let err = server
        .sync(&alice, &request(vec![a.unpushed(&alice, &id)], None))
        .unwrap_err();
    assert_eq!(err.0, 403);
    assert_eq!(err.1["code"], "auth.device_revoked");
    assert_eq!(err.1["erase"], true);
    // Alice's changes carried by a colleague are refused too.
    let r = server
        .sync(&carol, &request(vec![a.unpushed(&alice, &id)], None))
        .unwrap();
    assert_eq!(r.outcomes[0].code, "sync.certificate_revoked");
    assert_eq!(data_tables(data.path()), before);
    assert!(
        server.sync(&carol, &request(vec![], None)).is_ok(),
        "others sync on"
    );
}

#[test]
fn a_county_supervisor_reads_the_county_but_does_not_write() {
    let (county, data, alice, carol) = setup();
    let sup = county.worker(
        "w-sup",
        &[Role::CountySupervisor],
        Scope::County("620102".into()),
    );
    let server = Server::with_config(data.path(), &county, &[&alice, &carol, &sup]);
    let (mut a, mut c) = (Tablet::new(), Tablet::new());
    let a_id = a.create(&alice, &household(1, V1));
    let c_id = c.create(&carol, &household(2, V2));
    server
        .sync(&alice, &request(vec![a.unpushed(&alice, &a_id)], None))
        .unwrap();
    server
        .sync(&carol, &request(vec![c.unpushed(&carol, &c_id)], None))
        .unwrap();
    let before = data_tables(data.path());
    let mut s = Tablet::new();
    let s_id = s.create(&sup, &household(3, V1));
    let r = server
        .sync(&sup, &request(vec![s.unpushed(&sup, &s_id)], None))
        .unwrap();
    assert_eq!(r.outcomes[0].code, "sync.read_only");
    let mut pulled: Vec<_> = r.pulled.iter().map(|g| g.household_id.clone()).collect();
    pulled.sort();
    let mut expected = vec![a_id, c_id];
    expected.sort();
    assert_eq!(pulled, expected);
    assert_eq!(r.cursor_villages, vec!["620102".to_string()]);
    assert_eq!(data_tables(data.path()), before);
}
