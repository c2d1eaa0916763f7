//! Attachments (photos, signature images) through a real sync server on loopback: the same
//! photo in three households is uploaded once and reaches the team; a 20 MB upload cut at 20
//! random points resumes and arrives byte-identical; changes listing an attachment the server
//! lacks are held until it arrives; an attachment altered on the server's disk makes the visit
//! that signed it invalid and is never served.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

use ruhu_core::fixtures;
use ruhu_core::signing::canonical::sha256;
use ruhu_core::signing::certificate::Role;
use ruhu_core::sync::client::HttpTransport;
use ruhu_core::visit::content::{ContentHash, TeamMember};
use ruhu_core::visit::policy::Purpose;
use ruhu_core::visit::verify::VisitStatus;
use ruhu_tests::*;

struct Team {
    _county: County,
    data: tempfile::TempDir,
    server: Server,
    leader: Tablet,
    cadre: Tablet,
    handler: Tablet,
}

fn team() -> Team {
    let county = County::new();
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &county);
    let url = server.url();
    let leader = Tablet::enroll(&county, &url, "w-leader", &[Role::TownshipLeader], &[V1]);
    let cadre = Tablet::enroll(&county, &url, "w-cadre", &[Role::VillageCadre], &[V1]);
    let handler = Tablet::enroll(&county, &url, "w-handler", &[Role::CaseHandler], &[V1]);
    install_config(
        &url,
        &county.config_json(
            [&leader, &cadre, &handler]
                .iter()
                .map(|t| t.certificate.clone())
                .collect(),
            None,
        ),
    );
    Team {
        _county: county,
        data,
        server,
        leader,
        cadre,
        handler,
    }
}

fn members(t: &Team) -> Vec<TeamMember> {
    [
        (Role::TownshipLeader, &t.leader),
        (Role::VillageCadre, &t.cadre),
        (Role::CaseHandler, &t.handler),
    ]
    .into_iter()
    .map(|(role, tablet)| TeamMember {
        role,
        worker_id: tablet.worker_id.clone(),
    })
    .collect()
}

fn photo(seed: u64, len: usize) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        out.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A household with a sealed visit listing `attachments` (added on the handler's tablet).
fn household_with_visit(
    t: &mut Team,
    seed: u64,
    photos: &[&[u8]],
) -> (String, String, ContentHash) {
    let team = members(t);
    let store = &mut t.handler.store;
    let h = store
        .create_household(fixtures::household(seed, V1, 3))
        .unwrap();
    let hashes: Vec<ContentHash> = photos
        .iter()
        .map(|p| store.add_attachment(&h.id, p).unwrap())
        .collect();
    let visit = store
        .start_visit(&h.id, Purpose::NewApplication, team)
        .unwrap();
    store
        .edit_visit_draft(&h.id, &visit, &visit_answers())
        .unwrap();
    let mut details = seal_details(V1);
    details.attachments = hashes;
    let sealed = store.seal_visit(&h.id, &visit, &details).unwrap();
    (h.id, visit, sealed.content_hash)
}

fn server_files(data: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(data.join("attachments"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect()
}

#[test]
fn the_same_photo_in_three_households_is_uploaded_once_and_reaches_the_team() {
    let mut t = team();
    let shared = photo(1, 300_000);
    let ids: Vec<String> = (0..3)
        .map(|seed| household_with_visit(&mut t, 10 + seed, &[&shared]).0)
        .collect();
    assert_eq!(
        t.handler.store.pending_uploads().unwrap().len(),
        1,
        "stored once"
    );

    let report = t.handler.sync().unwrap();
    assert!(report.not_accepted.is_empty(), "{:?}", report.not_accepted);
    assert_eq!(report.attachments_uploaded, 1);
    assert_eq!(report.attachment_bytes_sent, shared.len() as u64);
    let files = server_files(t.data.path());
    assert_eq!(files.len(), 1, "one file on the server");
    let stored = sync_server::attachments::files::AttachmentFiles::inspect(t.data.path())
        .unwrap()
        .read(&sha256(&shared))
        .unwrap()
        .unwrap();
    assert_eq!(stored, shared);
    assert_ne!(std::fs::read(&files[0]).unwrap(), shared, "sealed at rest");
    let refs = sync_server::storage::ServerStorage::inspect(t.data.path())
        .unwrap()
        .query_row("SELECT count(*) FROM attachment_refs", [], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap();
    assert_eq!(refs, 3, "three households reference it");

    // A second sync sends nothing again.
    let again = t.handler.sync().unwrap();
    assert_eq!(
        (again.attachments_uploaded, again.attachment_bytes_sent),
        (0, 0)
    );
    assert_eq!(again.round_trips, 1);

    // The leader pulls the three visits and fetches the photo once.
    let report = t.leader.sync().unwrap();
    assert_eq!(report.attachments_fetched, 1);
    let hash = ContentHash::of(&shared);
    assert_eq!(t.leader.store.attachment(&hash).unwrap(), shared);
    for id in &ids {
        assert!(t.leader.store.household(id).is_ok());
    }
    assert_eq!(t.leader.sync().unwrap().attachments_fetched, 0);
}

#[test]
fn an_oversized_or_dangling_attachment_is_refused_before_anything_is_written() {
    let mut t = team();
    let h = t
        .handler
        .store
        .create_household(fixtures::household(3, V1, 2))
        .unwrap();
    let too_big = vec![7u8; (32 << 20) + 1];
    let err = t.handler.store.add_attachment(&h.id, &too_big).unwrap_err();
    assert!(err.to_string().contains("over the limit"), "{err}");
    assert!(t.handler.store.pending_uploads().unwrap().is_empty());
    let dir = t.handler.dir.path().join("tablet.db-attachments");
    let files = std::fs::read_dir(&dir).map_or(0, |d| d.count());
    assert_eq!(files, 0, "no file written");
    assert!(t.handler.store.add_attachment(&h.id, &[]).is_err());
    assert!(t
        .handler
        .store
        .add_attachment("0123456789abcdef0123456789abcdef", b"x")
        .is_err());

    // A seal listing an attachment the tablet does not hold is refused.
    let team = members(&t);
    let visit = t
        .handler
        .store
        .start_visit(&h.id, Purpose::NewApplication, team)
        .unwrap();
    let mut details = seal_details(V1);
    details.attachments = vec![ContentHash::of(b"never added")];
    let err = t
        .handler
        .store
        .seal_visit(&h.id, &visit, &details)
        .unwrap_err();
    assert!(
        err.to_string().contains("not stored on this tablet"),
        "{err}"
    );
}

/// A TCP proxy that forwards upstream bytes until its budget runs out, then cuts the
/// connection (both ways). `budget < 0`: unlimited.
struct CuttingProxy {
    port: u16,
    budget: Arc<AtomicI64>,
    forwarded: Arc<AtomicU64>,
}

impl CuttingProxy {
    fn start(target: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let budget = Arc::new(AtomicI64::new(-1));
        let forwarded = Arc::new(AtomicU64::new(0));
        let (b, f) = (budget.clone(), forwarded.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                let (b, f) = (b.clone(), f.clone());
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || pump_down(s2, c2));
                std::thread::spawn(move || pump_up(client, server, &b, &f));
            }
        });
        Self {
            port,
            budget,
            forwarded,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn pump_down(mut from: TcpStream, mut to: TcpStream) {
    let _ = std::io::copy(&mut from, &mut to);
    let _ = to.shutdown(Shutdown::Both);
}

fn pump_up(mut from: TcpStream, mut to: TcpStream, budget: &AtomicI64, forwarded: &AtomicU64) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let left = budget.load(Ordering::SeqCst);
        let allowed = if left < 0 { n } else { n.min(left as usize) };
        if allowed > 0 && to.write_all(&buf[..allowed]).is_err() {
            break;
        }
        forwarded.fetch_add(allowed as u64, Ordering::SeqCst);
        if left >= 0 {
            budget.fetch_sub(allowed as i64, Ordering::SeqCst);
            if allowed < n || left as usize == allowed {
                break; // the budget ran out: cut here
            }
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}

#[test]
fn a_20_mb_upload_cut_at_20_random_points_resumes_and_arrives_byte_identical() {
    let mut t = team();
    let big = photo(2, 20_000_000);
    let hash = ContentHash::of(&big);
    let (id, _, _) = household_with_visit(&mut t, 20, &[&big]);
    let proxy = CuttingProxy::start(t.server.addr.port());
    let transport = HttpTransport::new(&proxy.url());
    let mut rng = Rng::new(99);
    let mut cuts = 0;
    while cuts < 20 {
        // Somewhere in the next 2 MB of the request stream.
        proxy
            .budget
            .store(1 + rng.below(2_000_000) as i64, Ordering::SeqCst);
        match t.handler.sync_with(&transport) {
            Err(e) => {
                assert!(
                    e.to_string().contains("unreachable") || e.to_string().contains("sync."),
                    "{e}"
                );
                cuts += 1;
            }
            Ok(_) => panic!("the upload finished before 20 cuts (after {cuts})"),
        }
    }
    proxy.budget.store(-1, Ordering::SeqCst);
    let report = t.handler.sync_with(&transport).unwrap();
    assert!(report.not_accepted.is_empty(), "{:?}", report.not_accepted);
    assert_eq!(report.attachments_uploaded, 1);
    assert!(
        report.attachment_bytes_sent < big.len() as u64,
        "the last sync resumed ({} bytes sent)",
        report.attachment_bytes_sent
    );

    let stored = sync_server::attachments::files::AttachmentFiles::inspect(t.data.path())
        .unwrap()
        .read(&hash.0)
        .unwrap()
        .unwrap();
    assert_eq!(sha256(&stored), hash.0);
    assert_eq!(stored, big);
    // Resumed, not restarted: at most one 1 MiB chunk (plus HTTP framing) lost per cut.
    let sent = proxy.forwarded.load(Ordering::SeqCst);
    assert!(
        sent < big.len() as u64 + 21 * ((1 << 20) + 4096),
        "{sent} bytes forwarded for a {} byte photo",
        big.len()
    );
    // The visit's changes were accepted and the leader gets the photo.
    assert!(t.leader.sync().unwrap().attachments_fetched == 1);
    assert!(t.leader.store.household(&id).is_ok());
    assert_eq!(t.leader.store.attachment(&hash).unwrap(), big);
}

#[test]
fn changes_listing_an_attachment_the_server_lacks_are_held_until_it_arrives() {
    let mut t = team();
    let p = photo(3, 50_000);
    let (id, _, _) = household_with_visit(&mut t, 30, &[&p]);
    let hash = ContentHash::of(&p);
    // The tablet believes the server has it (as after a server restored from a backup).
    t.handler.store.mark_uploaded(&hash).unwrap();
    let report = t.handler.sync().unwrap();
    assert_eq!(
        report.not_accepted,
        vec![(
            id.clone(),
            "held".to_owned(),
            "sync.missing_attachments".to_owned()
        )]
    );
    let (feed, _) = server_feed(t.data.path());
    assert!(
        feed.is_empty(),
        "nothing accepted with a dangling reference"
    );
    assert!(server_files(t.data.path()).is_empty());
    t.leader.sync().unwrap();
    assert!(
        t.leader.store.household(&id).is_err(),
        "nothing reached the team"
    );

    let report = t.handler.sync().unwrap();
    assert!(report.not_accepted.is_empty(), "{:?}", report.not_accepted);
    assert_eq!(report.attachments_uploaded, 1);
    assert!(!server_feed(t.data.path()).0.is_empty());
    let report = t.leader.sync().unwrap();
    assert_eq!(report.attachments_fetched, 1);
    assert_eq!(t.leader.store.attachment(&hash).unwrap(), p);
}

#[test]
fn an_attachment_altered_on_the_server_fails_the_visit_that_signed_it_and_is_not_served() {
    let mut t = team();
    let p = photo(4, 80_000);
    let hash = ContentHash::of(&p);
    let (id, visit, content_hash) = household_with_visit(&mut t, 40, &[&p]);
    t.handler.sync().unwrap();
    for (tablet, role) in [
        (&mut t.leader, Role::TownshipLeader),
        (&mut t.cadre, Role::VillageCadre),
    ] {
        tablet.sync().unwrap();
        tablet.sign_visit(&id, &visit, &content_hash, role);
        tablet.sync().unwrap();
    }
    t.handler
        .sign_visit(&id, &visit, &content_hash, Role::CaseHandler);
    t.handler.sync().unwrap();

    // A second handle on the same data folder, as the supervisors' console would use.
    let config = sync_server::ServerConfig {
        data_dir: t.data.path().to_path_buf(),
        authority_public_key: Some(t._county.public_key_file()),
        ..sync_server::ServerConfig::default()
    };
    let state = sync_server::open_state(&config).unwrap();
    let before = state.verify_visit(&id, &visit).unwrap().unwrap();
    assert!(
        matches!(before.status, VisitStatus::Complete { .. }),
        "{:?}",
        before.status
    );

    let file = t.data.path().join("attachments").join(hash.to_hex());
    let mut altered = std::fs::read(&file).unwrap();
    altered[1000] ^= 0x01;
    std::fs::write(&file, altered).unwrap();
    let after = state.verify_visit(&id, &visit).unwrap().unwrap();
    match &after.status {
        VisitStatus::Invalid { reasons } => assert!(
            reasons
                .iter()
                .any(|r| r.contains(&hash.to_hex()) && r.contains("altered")),
            "{reasons:?}"
        ),
        other => panic!("expected invalid, got {other:?}"),
    }

    // A tablet that lacks the photo is not given the altered bytes; the rest of its sync
    // goes on, and it asks again next time.
    let url = t.server.url();
    let mut newcomer = Tablet::enroll(
        &t._county,
        &url,
        "w-leader2",
        &[Role::TownshipLeader],
        &[V1],
    );
    install_config(
        &url,
        &t._county.config_json(
            [&t.leader, &t.cadre, &t.handler, &newcomer]
                .iter()
                .map(|x| x.certificate.clone())
                .collect(),
            None,
        ),
    );
    let report = newcomer.sync().unwrap();
    assert_eq!(report.attachments_fetched, 0);
    assert_eq!(report.attachments_unavailable, 1);
    assert!(newcomer.store.household(&id).is_ok());
    assert!(!newcomer.store.has_attachment(&hash).unwrap());
}

#[test]
fn a_care_problem_photo_travels_with_the_event_that_names_it() {
    use ruhu_core::care::{CareEvent, ProblemArea};
    let mut t = team();
    let h = t
        .cadre
        .store
        .create_household(fixtures::household(31, V1, 1))
        .unwrap();
    let person = h.members.keys().next().unwrap().clone();
    let stove = photo(9, 50_000);
    let since = chrono::Utc::now().date_naive() - chrono::Duration::days(30);
    let events = |problem_id: &str| {
        vec![
            CareEvent::Enrolled {
                person_id: person.clone(),
                since,
            },
            CareEvent::ProblemOpened {
                person_id: person.clone(),
                problem_id: problem_id.into(),
                area: ProblemArea::Heating,
                description: "炉子漏烟".into(),
                evidence: vec![ContentHash::of(&stove).to_hex()],
            },
        ]
    };
    // Naming a photo the tablet does not hold is refused, and nothing is written.
    let before = t.cadre.store.unsynced_changes().unwrap();
    let refused = t
        .cadre
        .store
        .record_care_events(&h.id, events("stove-0"))
        .unwrap_err();
    let ruhu_core::Error::Invalid(problems) = refused else {
        panic!("expected field errors, got {refused}");
    };
    assert_eq!(
        (problems[0].field.as_str(), problems[0].code),
        ("[1].photos", "attachment.missing")
    );
    assert_eq!(t.cadre.store.unsynced_changes().unwrap(), before);
    let hash = t.cadre.store.add_attachment(&h.id, &stove).unwrap();
    t.cadre
        .store
        .record_care_events(&h.id, events("stove-1"))
        .unwrap();
    let report = t.cadre.sync().unwrap();
    assert!(report.not_accepted.is_empty(), "{:?}", report.not_accepted);
    assert_eq!(report.attachments_uploaded, 1, "uploaded before the push");
    let refs: i64 = sync_server::storage::ServerStorage::inspect(t.data.path())
        .unwrap()
        .query_row(
            "SELECT count(*) FROM attachment_refs WHERE household_id = ?1",
            [&h.id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(refs, 1, "the server knows the household references it");

    let pulled = t.leader.sync().unwrap();
    assert_eq!(pulled.attachments_fetched, 1);
    assert_eq!(t.leader.store.attachment(&hash).unwrap(), stove);
    let problems = t.leader.store.open_care_problems(Some(V1)).unwrap();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].problem_id, "stove-1");
}
