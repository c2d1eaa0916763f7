//! Configuration install and refusals; push and pull between two workers; idempotent
//! replays; access log.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use ruhu_core::signing::certificate::{Role, Scope};
use ruhu_core::signing::keys::SigningKeyPair;

#[test]
fn configuration_is_installed_only_when_signed_and_newer() {
    let county = County::new();
    let data = tempfile::tempdir().unwrap();
    let alice = county.handler("w-alice", &[V1]);
    let server = Server::start(data.path(), &county);

    let (status, body) = http(server.addr, "GET", "/v1/config", &[], b"");
    assert_eq!(status, 503);
    assert!(String::from_utf8_lossy(&body).contains("sync.no_config"));
    let err = server.sync(&alice, &request(vec![], None)).unwrap_err();
    assert_eq!(
        (err.0, err.1["code"].as_str()),
        (503, Some("sync.no_config"))
    );

    // Not signed by the authority: refused.
    let mut forged: serde_json::Value =
        serde_json::from_str(&county.config_json(5, &[&alice], None)).unwrap();
    let other = County::new();
    forged["signature"] =
        serde_json::from_str::<serde_json::Value>(&other.config_json(5, &[], None)).unwrap()
            ["signature"]
            .clone();
    let (status, body) = server.post_config(&forged.to_string());
    assert_eq!(status, 403, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("config.bad_signature"));
    let (status, _) = server.post_config("{not json");
    assert_eq!(status, 400);
    // Signed by the authority but carrying a certificate signed by someone else.
    let impostor = SigningKeyPair::generate().unwrap();
    let mut fake = county.handler("w-fake", &[V1]).cert;
    fake.signature = impostor.sign(&fake.body_bytes);
    let mut config: ruhu_core::sync::CountyConfig = {
        let signed: ruhu_core::sync::SignedCountyConfig =
            serde_json::from_str(&county.config_json(5, &[], None)).unwrap();
        signed.verify(&county.authority.key.public_key()).unwrap()
    };
    config.certificates.push(fake);
    let signed = config.sign(&county.authority.key).unwrap();
    let (status, body) = server.post_config(&serde_json::to_string(&signed).unwrap());
    assert_eq!(status, 403);
    assert!(String::from_utf8_lossy(&body).contains("config.bad_certificate"));
    assert!(
        data_tables(data.path())["county_config"].is_empty(),
        "nothing installed"
    );

    let config2 = county.config_json(2, &[&alice], None);
    let (status, body) = server.post_config(&config2);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let (status, body) = http(server.addr, "GET", "/v1/config", &[], b"");
    assert_eq!(
        (status, String::from_utf8(body).unwrap()),
        (200, config2.clone())
    );
    let (status, _) = server.post_config(&config2);
    assert_eq!(status, 200, "the same configuration again is fine");
    let before = data_tables(data.path());
    let (status, body) = server.post_config(&county.config_json(1, &[&alice], None));
    assert_eq!(status, 409);
    assert!(String::from_utf8_lossy(&body).contains("config.stale"));
    assert_eq!(data_tables(data.path()), before);
    assert_eq!(before["certificates"].len(), 1);
    server.stop();

    // The configuration survives a restart.
    let server = Server::start(data.path(), &county);
    let (status, body) = http(server.addr, "GET", "/v1/config", &[], b"");
    assert_eq!((status, String::from_utf8(body).unwrap()), (200, config2));
}

#[test]
fn push_and_pull_between_two_workers_with_access_log() {
    let county = County::new();
    let data = tempfile::tempdir().unwrap();
    let alice = county.handler("w-alice", &[V1]);
    let bob = county.worker(
        "w-bob",
        &[Role::VillageCadre],
        Scope::Villages(vec![V1.into(), V2.into()]),
    );
    let server = Server::with_config(data.path(), &county, &[&alice, &bob]);

    let mut a = Tablet::new();
    let id = a.create(&alice, &household(1, V1));
    a.edit(&alice, &id, |h| h.profile.address = "二组 3 号".into());
    let push = a.unpushed(&alice, &id);
    assert_eq!(push.changes.len(), 2);
    let ra = server.sync(&alice, &request(vec![push], None)).unwrap();
    assert!(ra.outcomes.is_empty(), "{:?}", ra.outcomes);
    assert!(
        ra.pulled.is_empty(),
        "a tablet is not sent back what it just pushed"
    );
    assert_eq!(ra.cursor.seq, 2);
    assert_eq!(ra.cursor_villages, vec![V1.to_string()]);
    assert!(!ra.reset && !ra.more);
    a.mark_pushed(&id);
    assert_eq!(count(data.path(), "SELECT count(*) FROM feed"), 2);

    // Bob pulls everything in his villages.
    let mut b = Tablet::new();
    let rb = server.sync(&bob, &request(vec![], None)).unwrap();
    assert_eq!(rb.pulled.len(), 1);
    assert_eq!(rb.pulled[0].changes.len(), 2);
    b.receive(&rb);
    assert_eq!(b.household(&id), a.household(&id));
    assert_eq!(rb.cursor_villages, vec![V1.to_string(), V2.to_string()]);

    // Bob edits; Alice gets only Bob's change.
    b.mark_pushed(&id);
    b.edit(&bob, &id, |h| h.profile.phone = Some("13911112222".into()));
    let b_push = b.unpushed(&bob, &id);
    assert_eq!(b_push.changes.len(), 1);
    let rb2 = server
        .sync(&bob, &request(vec![b_push], Some(&rb)))
        .unwrap();
    assert!(rb2.outcomes.is_empty(), "{:?}", rb2.outcomes);
    let ra2 = server.sync(&alice, &request(vec![], Some(&ra))).unwrap();
    assert_eq!(ra2.pulled.len(), 1);
    assert_eq!(ra2.pulled[0].changes.len(), 1, "only what Alice lacks");
    a.receive(&ra2);
    assert_eq!(a.household(&id), b.household(&id));
    assert_eq!(
        a.household(&id).profile.phone.as_deref(),
        Some("13911112222")
    );
    assert_eq!(count(data.path(), "SELECT count(*) FROM feed"), 3);

    // Nothing new: an empty page, same cursor.
    let ra3 = server.sync(&alice, &request(vec![], Some(&ra2))).unwrap();
    assert!(ra3.pulled.is_empty());
    assert_eq!(ra3.cursor, ra2.cursor);

    // The access log says who pushed and pulled which household.
    let log = dump(data.path(), &["access_log"])["access_log"].clone();
    let rows = |who: &str, action: &str| {
        log.iter()
            .filter(|r| r.contains(&format!("\"{who}\"")) && r.contains(&format!("\"{action}\"")))
            .count()
    };
    assert_eq!(rows("w-alice", "push"), 1);
    assert_eq!(rows("w-bob", "pull"), 1);
    assert_eq!(rows("w-bob", "push"), 1);
    assert_eq!(rows("w-alice", "pull"), 1);
    assert!(log.iter().all(|r| r.contains(&id)));
}

#[test]
fn a_replayed_push_with_a_new_nonce_changes_nothing() {
    let county = County::new();
    let data = tempfile::tempdir().unwrap();
    let alice = county.handler("w-alice", &[V1]);
    let server = Server::with_config(data.path(), &county, &[&alice]);
    let mut a = Tablet::new();
    let ids: Vec<String> = (1..=3)
        .map(|s| a.create(&alice, &household(s, V1)))
        .collect();
    let push: Vec<_> = ids.iter().map(|id| a.unpushed(&alice, id)).collect();
    let first = server.sync(&alice, &request(push.clone(), None)).unwrap();
    assert!(first.outcomes.is_empty());
    let after_first = data_tables(data.path());
    assert_eq!(after_first["feed"].len(), 3);

    // The response was lost; the tablet retries the same push (new nonce, same cursor).
    let second = server.sync(&alice, &request(push, None)).unwrap();
    assert!(second.outcomes.is_empty());
    assert_eq!(
        data_tables(data.path()),
        after_first,
        "one feed entry per change hash"
    );
    assert_eq!(second.cursor, first.cursor);
}

#[test]
fn compressed_requests_are_authenticated_as_sent_and_answered_compressed() {
    use ruhu_core::sync::envelope;
    use ruhu_core::sync::SyncResponse;

    let county = County::new();
    let data = tempfile::tempdir().unwrap();
    let alice = county.handler("w-alice", &[V1]);
    let bob = county.handler("w-bob", &[V1]);
    let server = Server::with_config(data.path(), &county, &[&alice, &bob]);

    let mut a = Tablet::new();
    let ids: Vec<String> = (0..4)
        .map(|seed| a.create(&alice, &household(seed, V1)))
        .collect();
    let push: Vec<_> = ids.iter().map(|id| a.unpushed(&alice, id)).collect();
    let message = request(push, None).encode();
    let body = envelope::seal(message.clone(), true);
    assert!(envelope::is_compressed(&body));
    assert!(body.len() < message.len());

    // The signature covers the bytes as sent: one over the inflated message is refused.
    let auth = ruhu_core::sync::signatures::RequestAuth::sign(
        &alice.signer,
        alice.cert_hash(),
        "POST",
        "/v1/sync",
        &message,
        chrono::Utc::now().timestamp(),
    )
    .unwrap();
    let err = server.sync_raw(&body, &auth.to_header()).unwrap_err();
    assert_eq!(err.1["code"], "auth.bad_signature");
    assert_eq!(count(data.path(), "SELECT count(*) FROM feed"), 0);

    let (status, answer) = server.sync_signed_body(&alice, &body);
    assert_eq!(status, 200);
    let pushed = SyncResponse::decode(&envelope::open(&answer, usize::MAX).unwrap()).unwrap();
    assert!(pushed.outcomes.is_empty(), "{:?}", pushed.outcomes);
    let stored = count(data.path(), "SELECT count(*) FROM feed");
    assert_eq!(stored, 4);

    // Bob pulls the four households: compressed when he asks compressed, plain otherwise,
    // the same message either way.
    let pull = request(vec![], None).encode();
    let (status, zipped) = server.sync_signed_body(&bob, &envelope::seal(pull.clone(), true));
    assert_eq!(status, 200);
    assert!(envelope::is_compressed(&zipped));
    let (status, plain) = server.sync_signed_body(&bob, &pull);
    assert_eq!(status, 200);
    assert!(!envelope::is_compressed(&plain));
    assert!(zipped.len() < plain.len());
    assert_eq!(
        envelope::open(&zipped, usize::MAX).unwrap().as_ref(),
        plain.as_slice()
    );
    let pulled = SyncResponse::decode(&plain).unwrap();
    assert_eq!(pulled.pulled.len(), 4);

    // A body declaring more than the server inflates, and a corrupt stream: 400, nothing
    // stored.
    let mut huge = b"RHZ1".to_vec();
    let mut len = (sync_server::MAX_SYNC_MESSAGE as u64) + 1;
    while len >= 0x80 {
        huge.push((len as u8) | 0x80);
        len >>= 7;
    }
    huge.push(len as u8);
    huge.extend_from_slice(&body[8..]);
    let (status, answer) = server.sync_signed_body(&alice, &huge);
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&answer).contains("wire.too_large"));
    let mut corrupt = body.clone();
    let tail = corrupt.len() - 40;
    for b in &mut corrupt[tail..] {
        *b ^= 0xa5;
    }
    let (status, answer) = server.sync_signed_body(&alice, &corrupt);
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&answer).contains("wire."));
    assert_eq!(count(data.path(), "SELECT count(*) FROM feed"), stored);
}
