//! Signed home visits benchmark (issue 3).
//!
//! CI size:   `cargo bench -p ruhu-core --bench visit_signatures -- --visits 1000`
//! Full size: `cargo bench -p ruhu-core --bench visit_signatures -- --visits 10000`
//!
//! Prints:
//! - seal + sign (three team members) + verify of one visit of a 4-member household survey;
//! - verifying N complete visits, per signature, beside one raw ring Ed25519 verify (the
//!   floor): with the households already in memory (goal ≤ 3× the floor) and including
//!   loading each household from the encrypted store.

use std::time::{Duration, Instant};

use chrono::{DateTime, Duration as Days, TimeZone, Utc};
use ruhu_core::household::{Authorship, Household, HouseholdDocument, Profile};
use ruhu_core::signing::attestation::Trust;
use ruhu_core::signing::certificate::{
    Role, Scope, SignedCertificate, WorkerCertificate, CERTIFICATE_FORMAT,
};
use ruhu_core::signing::keys::{verify, MemoryKeyStore, SigningKeyPair, WorkerSigner};
use ruhu_core::store::FileKeyStore;
use ruhu_core::visit::content::{ContentHash, Gps, Place, TeamMember};
use ruhu_core::visit::document::{self, NewVisit, SealDetails};
use ruhu_core::visit::policy::{Purpose, VisitPolicy};
use ruhu_core::visit::template::minimal_template;
use ruhu_core::visit::verify::{sign_content, verify_visit};
use ruhu_core::{fixtures, Store, StoreConfig};
use serde_json::json;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

const VISIT: &str = "visit-0001";

struct Member {
    id: String,
    role: Role,
    signer: WorkerSigner,
    cert: SignedCertificate,
}

fn at(h: u32) -> Res<DateTime<Utc>> {
    Utc.with_ymd_and_hms(2024, 5, 6, h, 0, 0)
        .single()
        .ok_or_else(|| "date".into())
}

fn team(authority: &SigningKeyPair) -> Res<Vec<Member>> {
    let mut out = Vec::new();
    for (id, role) in [
        ("w-leader", Role::TownshipLeader),
        ("w-cadre", Role::VillageCadre),
        ("w-handler", Role::CaseHandler),
    ] {
        let signer = WorkerSigner::create(&MemoryKeyStore::default(), "tablet")?;
        let cert = WorkerCertificate {
            format: CERTIFICATE_FORMAT,
            worker_id: id.into(),
            name: format!("工作人员 {id}"),
            roles: vec![role],
            scope: Scope::County(fixtures::COUNTY.into()),
            public_key: signer.public_key(),
            valid_from: Utc
                .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
                .single()
                .ok_or("date")?,
            valid_until: Utc
                .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
                .single()
                .ok_or("date")?,
            issued_at: Utc
                .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
                .single()
                .ok_or("date")?,
            authority_key_id: "county-620102".into(),
        }
        .sign(authority)?;
        out.push(Member {
            id: id.into(),
            role,
            signer,
            cert,
        });
    }
    Ok(out)
}

fn household(seed: u64) -> Household {
    let village = fixtures::village((seed % 20) as u32);
    let new = fixtures::household(seed, &village, 4);
    let mut members = std::collections::BTreeMap::new();
    let mut head = String::new();
    for (i, m) in new.members.into_iter().enumerate() {
        let id = format!("{:016x}", i + 1);
        if i == 0 {
            head = id.clone();
        }
        members.insert(id, m);
    }
    Household {
        id: format!("{seed:032x}"),
        profile: Profile {
            county_code: new.county_code,
            township_code: new.township_code,
            village_code: new.village_code,
            address: new.address,
            head_member_id: head,
            status: new.status,
            status_since: new.status_since,
            phone: new.phone,
            extra: Default::default(),
        },
        enrollment: new.enrollment,
        members,
        extra: Default::default(),
    }
}

fn answers() -> Vec<(String, Option<serde_json::Value>)> {
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
        (
            "hardship_cause",
            json!("户主患慢性病，长期服药；配偶务农，两个孩子在读书；家中耕地 4 亩，收入不稳定。"),
        ),
        ("supporters", json!("无其他法定赡养人")),
        ("member_present_signed", json!(true)),
        ("conclusion", json!("eligible")),
        (
            "reason",
            json!("家庭人均收入低于当地农村低保标准，因病致贫，建议纳入二类低保。"),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), Some(v)))
    .collect()
}

/// One household with one visit sealed and signed by the three members.
fn complete_visit(seed: u64, members: &[Member], trust: &Trust) -> Res<HouseholdDocument> {
    let h = household(seed);
    let by = Authorship {
        worker_id: "w-handler".into(),
        time_unix: at(10)?.timestamp(),
    };
    let mut doc = HouseholdDocument::create(&h, automerge::ActorId::random(), &by)?;
    let team: Vec<TeamMember> = members
        .iter()
        .map(|m| TeamMember {
            role: m.role,
            worker_id: m.id.clone(),
        })
        .collect();
    let new = NewVisit {
        purpose: Purpose::NewApplication,
        team,
        village_code: h.profile.village_code.clone(),
        template: ruhu_core::visit::template::minimal_template()
            .reference
            .clone(),
    };
    document::start_visit(doc.automerge(), VISIT, &new, &VisitPolicy::default(), &by)?;
    document::edit_draft(
        doc.automerge(),
        VISIT,
        &answers(),
        &minimal_template().into(),
        &by,
    )?;
    let details = SealDetails {
        previous: None,
        place: Place {
            village_code: h.profile.village_code.clone(),
            address: h.profile.address.clone(),
            gps: Some(Gps {
                lat_e7: 360_611_000,
                lon_e7: 1_037_834_000,
            }),
        },
        visited_at: at(9)?,
        attachments: vec![ContentHash([0x11; 32]), ContentHash([0xaa; 32])],
        scoring: None,
        emergency_remote: None,
    };
    let sealed = document::seal(
        doc.automerge(),
        VISIT,
        &details,
        &minimal_template().into(),
        &by,
    )?;
    for m in members {
        let entry = sign_content(
            &sealed.bytes,
            &sealed.content_hash,
            m.role,
            &m.signer,
            &m.cert,
            trust,
            at(11)?,
        )?;
        document::add_signature(
            doc.automerge(),
            VISIT,
            &entry,
            &Authorship {
                worker_id: m.id.clone(),
                time_unix: at(11)?.timestamp(),
            },
        )?;
    }
    Ok(doc)
}

fn per(d: Duration, n: usize) -> Duration {
    d / u32::try_from(n.max(1)).unwrap_or(u32::MAX)
}

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    let visits: usize = args
        .iter()
        .position(|a| a == "--visits")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    println!("visit_signatures benchmark: {visits} complete visits (4-member households, 3 signatures each)");
    let authority = SigningKeyPair::generate()?;
    let members = team(&authority)?;
    let trust = Trust {
        authority_key_id: "county-620102".into(),
        authority_key: authority.public_key(),
        revocations: None,
    };
    let policy = VisitPolicy::default();

    // --- one visit: seal + sign + verify
    let rounds = 50;
    let started = Instant::now();
    for seed in 0..rounds {
        let mut doc = complete_visit(1_000_000 + seed, &members, &trust)?;
        if !verify_visit(doc.automerge(), VISIT, &policy, &trust)?.is_complete() {
            return Err("visit not complete".into());
        }
    }
    let one = per(started.elapsed(), rounds as usize);
    println!("one visit, create household + start + draft + seal + 3 signatures + verify: {one:?}");

    // --- N complete visits
    let started = Instant::now();
    let mut docs = Vec::with_capacity(visits);
    for seed in 0..visits as u64 {
        docs.push(complete_visit(seed, &members, &trust)?);
    }
    println!("built {visits} complete visits in {:?}", started.elapsed());
    let signatures = visits * 3;

    // The floor: one raw ring Ed25519 verify of a signature payload.
    let payload = vec![b'x'; 420];
    let sig = members[0].signer.sign(&payload);
    let key = members[0].signer.public_key();
    let started = Instant::now();
    let mut ok = 0usize;
    for _ in 0..signatures {
        ok += usize::from(verify(&key, std::hint::black_box(&payload), &sig));
    }
    let floor = per(started.elapsed(), signatures);
    if ok != signatures {
        return Err("floor verify failed".into());
    }

    // In memory.
    let started = Instant::now();
    for doc in &mut docs {
        if !verify_visit(doc.automerge(), VISIT, &policy, &trust)?.is_complete() {
            return Err("visit not complete".into());
        }
    }
    let in_memory = per(started.elapsed(), signatures);

    // Including loading each household from the store.
    let dir = tempfile::tempdir()?;
    let keys = FileKeyStore::new(dir.path().join("keys"));
    let mut store = Store::open(
        StoreConfig::new(dir.path().join("bench.db"), "bench", "w-supervisor"),
        &keys,
    )?;
    store.set_authority("county-620102", authority.public_key())?;
    for m in &members {
        store.add_certificate(&m.cert)?;
    }
    let started = Instant::now();
    let mut ids = Vec::with_capacity(visits);
    for doc in &mut docs {
        let id = doc.household()?.id;
        let changes: Vec<Vec<u8>> = doc
            .automerge()
            .get_changes(&[])
            .iter()
            .map(|c| c.raw_bytes().to_vec())
            .collect();
        store.import_changes(&id, &changes)?;
        ids.push(id);
    }
    let import = per(started.elapsed(), visits);
    store.clear_cache();
    let started = Instant::now();
    for id in &ids {
        if !store.verify_visit(id, VISIT)?.is_complete() {
            return Err("visit not complete".into());
        }
    }
    let from_store = per(started.elapsed(), signatures);
    let complete_listed: usize = (0..20)
        .map(|v| {
            store
                .visits_complete(&fixtures::village(v))
                .map(|l| l.len())
        })
        .sum::<Result<usize, _>>()?;
    let ratio = |d: Duration| d.as_secs_f64() / floor.as_secs_f64();
    println!("raw ring Ed25519 verify (floor):            {floor:?} per signature");
    println!("verify, household in memory:                {in_memory:?} per signature  ({:.2}x floor; goal <= 3x)", ratio(in_memory));
    println!(
        "verify, loading the household from store:   {from_store:?} per signature  ({:.2}x floor)",
        ratio(from_store)
    );
    println!("import (validate + store + index) per visit: {import:?}; complete visits listed: {complete_listed}");
    let _ = Days::zero();
    Ok(())
}
