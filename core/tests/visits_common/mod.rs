//! Shared set-up of the visit tests: a county authority, a three-person team with keys and
//! certificates, a sample household and helpers to seal and sign.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjType, ReadDoc, ScalarValue, Value, ROOT};
use chrono::{DateTime, Duration, SubsecRound, TimeZone, Utc};
use ruhu_core::household::{Authorship, Household, HouseholdDocument, Profile};
use ruhu_core::signing::attestation::Trust;
use ruhu_core::signing::certificate::{
    Role, Scope, SignedCertificate, WorkerCertificate, CERTIFICATE_FORMAT,
};
use ruhu_core::signing::keys::{MemoryKeyStore, SigningKeyPair, WorkerSigner};
use ruhu_core::visit::content::{ContentHash, Gps, Place, TeamMember};
use ruhu_core::visit::document::{self, NewVisit, SealDetails, SealedRevision};
use ruhu_core::visit::policy::{Purpose, VisitPolicy};
use ruhu_core::visit::template::minimal_template;
use serde_json::{json, Value as Json};

pub const VILLAGE: &str = "620102001001";
pub const OTHER_VILLAGE: &str = "620102001002";
pub const AUTHORITY_ID: &str = "county-620102";

pub fn t(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).single().unwrap()
}

/// A worker with a key on their own tablet (key id "tablet" in `keys`) and a certificate.
pub struct Worker {
    pub id: String,
    pub role: Role,
    pub keys: MemoryKeyStore,
    pub signer: WorkerSigner,
    pub cert: SignedCertificate,
}

pub struct County {
    pub authority: SigningKeyPair,
    pub leader: Worker,
    pub cadre: Worker,
    pub handler: Worker,
}

pub fn issue(
    authority: &SigningKeyPair,
    id: &str,
    roles: Vec<Role>,
    scope: Scope,
    key: ruhu_core::signing::keys::PublicKey,
    valid_from: DateTime<Utc>,
    valid_until: DateTime<Utc>,
) -> SignedCertificate {
    WorkerCertificate {
        format: CERTIFICATE_FORMAT,
        worker_id: id.into(),
        name: format!("工作人员 {id}"),
        roles,
        scope,
        public_key: key,
        valid_from: valid_from.trunc_subsecs(0),
        valid_until: valid_until.trunc_subsecs(0),
        issued_at: valid_from.trunc_subsecs(0),
        authority_key_id: AUTHORITY_ID.into(),
    }
    .sign(authority)
    .unwrap()
}

pub fn worker_with(authority: &SigningKeyPair, id: &str, roles: Vec<Role>, scope: Scope) -> Worker {
    let keys = MemoryKeyStore::default();
    let signer = WorkerSigner::create(&keys, "tablet").unwrap();
    let now = Utc::now();
    let cert = issue(
        authority,
        id,
        roles.clone(),
        scope,
        signer.public_key(),
        t(2024, 1, 1, 0),
        now + Duration::days(365),
    );
    Worker {
        id: id.into(),
        role: roles[0],
        keys,
        signer,
        cert,
    }
}

pub fn worker(authority: &SigningKeyPair, id: &str, role: Role) -> Worker {
    worker_with(
        authority,
        id,
        vec![role],
        Scope::Villages(vec![VILLAGE.into()]),
    )
}

pub fn county() -> County {
    let authority = SigningKeyPair::generate().unwrap();
    County {
        leader: worker(&authority, "w-leader", Role::TownshipLeader),
        cadre: worker(&authority, "w-cadre", Role::VillageCadre),
        handler: worker(&authority, "w-handler", Role::CaseHandler),
        authority,
    }
}

impl County {
    pub fn trust(&self) -> Trust {
        Trust {
            authority_key_id: AUTHORITY_ID.into(),
            authority_key: self.authority.public_key(),
            revocations: None,
        }
    }
    pub fn team(&self) -> Vec<TeamMember> {
        [&self.leader, &self.cadre, &self.handler]
            .iter()
            .map(|w| TeamMember {
                role: w.role,
                worker_id: w.id.clone(),
            })
            .collect()
    }
    pub fn workers(&self) -> [&Worker; 3] {
        [&self.leader, &self.cadre, &self.handler]
    }
}

pub fn by(worker: &str, time: DateTime<Utc>) -> Authorship {
    Authorship {
        worker_id: worker.into(),
        time_unix: time.timestamp(),
    }
}

/// A sample 4-member household (ids fixed) in [`VILLAGE`].
pub fn household() -> Household {
    let new = ruhu_core::fixtures::household(7, VILLAGE, 4);
    let mut members = BTreeMap::new();
    let mut head = String::new();
    for (i, m) in new.members.into_iter().enumerate() {
        let id = format!("{:016x}", i + 1);
        if i == 0 {
            head = id.clone();
        }
        members.insert(id, m);
    }
    Household {
        id: "0123456789abcdef0123456789abcdef".into(),
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

/// Realistic answers of a 4-member household survey.
pub fn answers() -> Vec<(String, Option<Json>)> {
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
        ("hardship_cause", json!("户主患慢性病（糖尿病），长期服药；配偶务农，两个孩子一个读高中一个读小学；家中耕地 4 亩，收入不稳定。")),
        ("supporters", json!("无其他法定赡养人")),
        ("member_present_signed", json!(true)),
        ("conclusion", json!("eligible")),
        ("reason", json!("家庭人均收入低于当地农村低保标准，因病致贫，建议纳入二类低保。")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), Some(v)))
    .collect()
}

pub fn details(previous: Option<ContentHash>) -> SealDetails {
    SealDetails {
        previous,
        place: Place {
            village_code: VILLAGE.into(),
            address: "一组 12 号".into(),
            gps: Some(Gps {
                lat_e7: 360_611_000,
                lon_e7: 1_037_834_000,
            }),
        },
        visited_at: t(2024, 5, 6, 9),
        attachments: Vec::new(),
        scoring: None,
        emergency_remote: None,
    }
}

pub const VISIT: &str = "visit-0001";

/// A household document with one sealed visit (revision 1), made by the case handler.
pub fn sealed_doc(c: &County) -> (HouseholdDocument, SealedRevision) {
    let at = by(&c.handler.id, t(2024, 5, 6, 10));
    let mut doc =
        HouseholdDocument::create(&household(), automerge::ActorId::random(), &at).unwrap();
    let new = NewVisit {
        purpose: Purpose::NewApplication,
        team: c.team(),
        village_code: VILLAGE.into(),
        template: ruhu_core::visit::template::minimal_template()
            .reference
            .clone(),
    };
    document::start_visit(doc.automerge(), VISIT, &new, &VisitPolicy::default(), &at).unwrap();
    document::edit_draft(
        doc.automerge(),
        VISIT,
        &answers(),
        &minimal_template().into(),
        &at,
    )
    .unwrap();
    let sealed = document::seal(
        doc.automerge(),
        VISIT,
        &details(None),
        &minimal_template().into(),
        &at,
    )
    .unwrap();
    (doc, sealed)
}

/// Signs `sealed` as `w` at `when` (checked) and stores the entry.
pub fn sign(
    doc: &mut HouseholdDocument,
    c: &County,
    w: &Worker,
    sealed: &SealedRevision,
    when: DateTime<Utc>,
) {
    let entry = ruhu_core::visit::verify::sign_content(
        &sealed.bytes,
        &sealed.content_hash,
        w.role,
        &w.signer,
        &w.cert,
        &c.trust(),
        when,
    )
    .unwrap();
    document::add_signature(doc.automerge(), VISIT, &entry, &by(&w.id, when)).unwrap();
}

/// A complete visit: sealed and signed by all three.
pub fn complete_doc(c: &County) -> (HouseholdDocument, SealedRevision) {
    let (mut doc, sealed) = sealed_doc(c);
    for w in c.workers() {
        sign(&mut doc, c, w, &sealed, t(2024, 5, 6, 11));
    }
    (doc, sealed)
}

/// The visit's map in a raw Automerge document (as a hostile tablet would find it).
pub fn visit_obj(doc: &AutoCommit, visit_id: &str) -> automerge::ObjId {
    let (_, visits) = doc.get(ROOT, "visits").unwrap().unwrap();
    let (_, visit) = doc.get(&visits, visit_id).unwrap().unwrap();
    visit
}

pub fn child(doc: &AutoCommit, obj: &automerge::ObjId, key: &str) -> automerge::ObjId {
    doc.get(obj, key).unwrap().unwrap().1
}

/// Writes `bytes` under `key` of the visit's signature map, bypassing every check.
pub fn inject_signature(doc: &mut AutoCommit, visit_id: &str, key: &str, bytes: Vec<u8>) {
    let visit = visit_obj(doc, visit_id);
    let sigs = child(doc, &visit, "signatures");
    doc.put(&sigs, key, ScalarValue::Bytes(bytes)).unwrap();
    doc.commit();
}

/// Replaces the whole sealed entry under `key` with a fresh one, bypassing every check.
pub fn replace_entry(
    doc: &mut AutoCommit,
    visit_id: &str,
    key: &str,
    content: Vec<u8>,
    sealed_by: &str,
    sealed_at: i64,
) {
    let visit = visit_obj(doc, visit_id);
    let sealed = child(doc, &visit, "sealed");
    let entry = doc.put_object(&sealed, key, ObjType::Map).unwrap();
    doc.put(&entry, "content", ScalarValue::Bytes(content))
        .unwrap();
    doc.put(&entry, "sealed_by", sealed_by).unwrap();
    doc.put(&entry, "sealed_at", sealed_at).unwrap();
    doc.commit();
}

/// Overwrites one field of the sealed entry under `key`, bypassing every check.
pub fn overwrite_entry_field(
    doc: &mut AutoCommit,
    visit_id: &str,
    key: &str,
    field: &str,
    value: ScalarValue,
) {
    let visit = visit_obj(doc, visit_id);
    let sealed = child(doc, &visit, "sealed");
    let entry = child(doc, &sealed, key);
    doc.put(&entry, field, value).unwrap();
    doc.commit();
}

/// The stored bytes of a signature entry.
pub fn signature_bytes(doc: &AutoCommit, visit_id: &str, key: &str) -> Vec<u8> {
    let visit = visit_obj(doc, visit_id);
    let sigs = child(doc, &visit, "signatures");
    match doc.get(&sigs, key).unwrap().unwrap().0 {
        Value::Scalar(s) => match s.as_ref() {
            ScalarValue::Bytes(b) => b.clone(),
            _ => panic!("not bytes"),
        },
        _ => panic!("not a scalar"),
    }
}

/// A tablet store for `worker_id` in `dir`, trusting the county and holding the team's
/// certificates.
pub fn open_store(
    dir: &std::path::Path,
    name: &str,
    worker_id: &str,
    c: &County,
) -> ruhu_core::Store {
    let keys = ruhu_core::store::FileKeyStore::new(dir.join(format!("{name}-dbkeys")));
    open_store_at(&dir.join(format!("{name}.db")), worker_id, &keys, c)
}

/// A store at `path` with the database key from `keys`, trusting the county and its workers.
pub fn open_store_at(
    path: &std::path::Path,
    worker_id: &str,
    keys: &dyn ruhu_core::store::KeyStore,
    c: &County,
) -> ruhu_core::Store {
    let mut store =
        ruhu_core::Store::open(ruhu_core::StoreConfig::new(path, "tablet", worker_id), keys)
            .unwrap();
    store
        .set_authority(AUTHORITY_ID, c.authority.public_key())
        .unwrap();
    for w in c.workers() {
        store.add_certificate(&w.cert).unwrap();
    }
    store
}

/// [`open_store`], signing as `w` (their key and certificate, as after enrollment).
pub fn enrolled_store(
    dir: &std::path::Path,
    name: &str,
    w: &Worker,
    c: &County,
) -> ruhu_core::Store {
    let mut store = open_store(dir, name, &w.id, c);
    let signer = WorkerSigner::open(&w.keys, "tablet").unwrap().unwrap();
    store.set_signing_identity(signer, w.cert.clone()).unwrap();
    store
}

/// What a sync's push does when the server accepts everything: every queued change leaves
/// the outbox. Returns how many changes were pushed.
pub fn server_accepts_all(store: &mut ruhu_core::Store) -> usize {
    let pushed = store.pending_push(usize::MAX).unwrap();
    store.acknowledge_push(&pushed, &[]).unwrap();
    pushed.iter().map(|g| g.changes.len()).sum()
}

/// The server's verdict rejecting every pushed change of `household_id`.
pub fn rejection(
    pushed: &[ruhu_core::sync::HouseholdChanges],
    household_id: &str,
    code: &str,
    detail: &str,
) -> ruhu_core::sync::HouseholdOutcome {
    let group = pushed
        .iter()
        .find(|g| g.household_id == household_id)
        .unwrap();
    ruhu_core::sync::HouseholdOutcome {
        household_id: household_id.to_owned(),
        kind: ruhu_core::sync::OutcomeKind::Rejected,
        code: code.to_owned(),
        detail: detail.to_owned(),
        refused_changes: group
            .changes
            .iter()
            .map(|c| {
                automerge::Change::from_bytes(c.change.clone())
                    .unwrap()
                    .hash()
                    .0
            })
            .collect(),
    }
}
