//! The whole offline flow on a realistic visit record: the case handler's tablet seals
//! a 4-member household's 入户调查表, shows it as QR codes, the two other team members'
//! tablets reassemble it, sign it, and answer with one QR code each; the case
//! handler's tablet verifies all three signatures.

use chrono::{TimeZone, Utc};
use serde_json::{json, Value};

use ruhu_core::signing::attestation::{
    sign_visit, verify_signature, Expected, RecordRef, Trust, VisitSignaturePayload,
};
use ruhu_core::signing::canonical::{parse_canonical, sha256, to_canonical_bytes};
use ruhu_core::signing::certificate::{Role, Scope, WorkerCertificate, CERTIFICATE_FORMAT};
use ruhu_core::signing::keys::{MemoryKeyStore, SigningKeyPair, WorkerSigner};
use ruhu_core::signing::qr_chunks::{split_into_chunks, Assembler, AssemblyLimits, ChunkConfig};
use ruhu_core::signing::response::{decode_response, encode_response};

/// A realistic (invented) visit record for a 4-member rural household. Money in fen.
fn household_visit() -> Value {
    let member = |name: &str,
                  id: &str,
                  relation: &str,
                  age: u32,
                  health: &str,
                  disability: Value,
                  labour: &str,
                  job: &str,
                  income: u64| {
        json!({
            "name": name, "id_number": id, "relation": relation, "age": age,
            "health": health, "disability": disability, "labour_ability": labour,
            "occupation": job, "annual_income_fen": income,
        })
    };
    json!({
        "schema": "ruhu/visit-record/v1",
        "household_id": "hh-620102001001-0007",
        "visit_id": "9f0c7d2e-5b1a-4c3e-8d6f-2a7b9e1c4d50",
        "revision": 1,
        "visit_kind": "application_investigation",
        "village_code": "620102001001",
        "address": "甘肃省兰州市城关区某某镇某某村三社12号",
        "visited_at": "2024-05-06T02:30:00Z",
        "gps": {"lat_e7": 360611234, "lon_e7": 1038345678, "accuracy_m": 12},
        "remote_visit": null,
        "members": [
            member("马德福", "620102196503120019", "householder", 59, "chronic_illness",
                   json!({"type": "physical", "grade": 3}), "partial", "farming", 420_000),
            member("马秀兰", "620102196811250026", "spouse", 55, "serious_illness",
                   json!(null), "none", "none", 0),
            member("马小军", "620102199207080013", "son", 31, "healthy",
                   json!(null), "full", "migrant_worker", 2_160_000),
            member("马雨萱", "620102201409150042", "granddaughter", 9, "healthy",
                   json!(null), "none", "student", 0),
        ],
        "income": {
            "wages_fen": 2_160_000, "net_business_fen": 420_000, "net_property_fen": 0,
            "net_transfer_fen": 186_000,
            "transfer_detail": [
                {"kind": "elderly_pension", "annual_fen": 0},
                {"kind": "cultivated_land_subsidy", "annual_fen": 126_000},
                {"kind": "disability_living_allowance", "annual_fen": 60_000}
            ],
            "counted_members": 4, "monthly_per_capita_fen": 55_250
        },
        "property": {
            "deposits_fen": 830_000, "securities_fen": 0,
            "vehicles": [{"kind": "tricycle", "value_fen": 350_000, "year": 2019}],
            "housing": {"type": "self_built_brick", "area_m2": 86, "commercial_housing": false,
                        "condition": "cracked_walls_north_room"},
            "livestock": [{"kind": "sheep", "count": 6}, {"kind": "chicken", "count": 15}],
            "machinery": [{"kind": "small_tractor", "value_fen": 400_000}],
            "enterprises": [], "land_mu": 7
        },
        "rigid_spending": {
            "illness_fen": 1_850_000, "illness_note": "妻子尿毒症，每周透析两次，医保报销后自付部分",
            "schooling_fen": 120_000, "schooling_note": "孙女小学住宿及交通"
        },
        "living_conditions": {
            "food": "主粮自给，肉蛋奶不足", "clothing": "冬衣不足", "housing": "北屋墙体开裂，冬季取暖靠土炕",
            "daily_goods": "基本具备", "drinking_water": "自来水入户", "heating": "土炕+煤炉"
        },
        "hardship_cause": ["serious_illness", "disability", "lack_of_labour"],
        "hardship_narrative": "户主腿部残疾只能从事轻体力农活，妻子患尿毒症需长期透析，医疗支出大；儿子外出务工收入不稳定，需负担女儿上学费用。",
        "legal_supporters": [
            {"name": "马小军", "relation": "son", "in_household": true, "able_to_support": "partial"},
            {"name": "马小红", "relation": "daughter", "in_household": false, "id_number": "620102199001030028",
             "able_to_support": "no", "note": "已出嫁，在外县务农，家庭困难"}
        ],
        "veto_flags": [],
        "household_member_present": {"name": "马德福", "signature_image_sha256": hex::encode(sha256(b"captured signature PNG"))},
        "photos": [
            {"kind": "house_exterior", "sha256": hex::encode(sha256(b"photo 1"))},
            {"kind": "medical_record", "sha256": hex::encode(sha256(b"photo 2"))},
            {"kind": "id_cards", "sha256": hex::encode(sha256(b"photo 3"))}
        ],
        "scoring": {"rubric_id": "sample-3plus1", "rubric_version": "2024.1", "score": 78, "outcome": "class_2"},
        "team_conclusion": "eligible",
        "conclusion_reason": "家庭人均月收入低于当地农村低保标准，因病支出型贫困特征明显，财产状况符合规定，建议纳入农村低保二类。",
        "place": "马德福家中"
    })
}

fn day(m: u32, d: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, m, d, 0, 0, 0)
        .single()
        .expect("date")
}

#[test]
fn four_member_visit_travels_by_qr_and_is_signed_by_the_whole_team() {
    // Seal: canonical bytes and their hash.
    let record_json = household_visit();
    let content = to_canonical_bytes(&record_json).expect("canonical");
    let content_hash = sha256(&content);
    assert_eq!(
        parse_canonical(&content, 64 * 1024).expect("parse"),
        record_json
    );
    assert!(
        (3_000..=6_500).contains(&content.len()),
        "record is {} bytes",
        content.len()
    );

    // The case handler's tablet shows the sealed content as QR codes.
    let chunks = split_into_chunks(&content, &ChunkConfig::default()).expect("split");
    let compressed: usize = chunks.iter().map(|c| c.len()).sum();
    println!(
        "4-member visit: {} bytes canonical JSON -> {} bytes in {} QR code(s) of at most {} bytes",
        content.len(),
        compressed,
        chunks.len(),
        chunks.iter().map(Vec::len).max().unwrap_or(0)
    );
    assert!(chunks.len() <= 3);

    // Team setup: county authority, three tablets, three certificates.
    let authority = SigningKeyPair::generate().expect("authority");
    let trust = Trust {
        authority_key_id: "county-620102".into(),
        authority_key: authority.public_key(),
        revocations: None,
    };
    let roles = [Role::CaseHandler, Role::VillageCadre, Role::TownshipLeader];
    let team: Vec<_> = roles
        .iter()
        .enumerate()
        .map(|(i, &role)| {
            let signer = WorkerSigner::create(&MemoryKeyStore::default(), "tablet").expect("key");
            let cert = WorkerCertificate {
                format: CERTIFICATE_FORMAT,
                worker_id: format!("w-620102-{i:04}"),
                name: ["刘洋", "王芳", "张伟"][i].into(),
                roles: vec![role],
                scope: if role == Role::TownshipLeader {
                    Scope::County("620102".into())
                } else {
                    Scope::Villages(vec!["620102001001".into()])
                },
                public_key: signer.public_key(),
                valid_from: day(1, 1),
                valid_until: day(12, 31),
                issued_at: day(1, 1),
                authority_key_id: "county-620102".into(),
            }
            .sign(&authority)
            .expect("cert");
            (signer, cert, role)
        })
        .collect();

    let record = RecordRef {
        household_id: "hh-620102001001-0007".into(),
        visit_id: "9f0c7d2e-5b1a-4c3e-8d6f-2a7b9e1c4d50".into(),
        revision: 1,
        content_hash,
    };
    let expected = Expected {
        record: record.clone(),
        village_code: "620102001001".into(),
    };

    let mut response_sizes = Vec::new();
    for (i, (signer, cert, role)) in team.iter().enumerate() {
        // The signer's tablet scans the chunks (last first, one twice) and rebuilds.
        let mut asm = Assembler::expecting(content_hash, AssemblyLimits::default());
        for c in chunks.iter().rev().chain(chunks.first()) {
            asm.accept(c).expect("accept");
        }
        let received = asm.finish().expect("reassembled");
        assert_eq!(received, content);

        // It signs and shows one QR code back.
        let worker_id = format!("w-620102-{i:04}");
        let payload = VisitSignaturePayload::new(&record, cert, &worker_id, *role, day(5, 6));
        let sig = sign_visit(signer, &payload).expect("sign");
        let response = encode_response(&sig).expect("encode");
        response_sizes.push(response.len());

        // The case handler's tablet scans it and verifies.
        let rebuilt = decode_response(&response)
            .expect("decode")
            .into_visit_signature(&record.household_id)
            .expect("rebuild");
        let verified = verify_signature(&rebuilt, cert, &trust, &expected).expect("verified");
        assert_eq!(verified.payload.role, *role);
    }
    println!("signature responses: {response_sizes:?} bytes");
    assert!(response_sizes.iter().all(|&n| n < 300));
}
