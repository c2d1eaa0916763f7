//! Shared set-up of the server tests: a county authority (key outside the server's data
//! folder), workers with tablet keys and certificates, a real server on 127.0.0.1:0, a small
//! blocking HTTP client, household changes built with automerge and signed, and dumps of the
//! server's tables.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};

use automerge::{ActorId, AutoCommit, ChangeHash};
use chrono::{Duration, Utc};
use ruhu_core::household::{Authorship, Household, HouseholdDocument, Profile};
use ruhu_core::signing::certificate::{Role, Scope, SignedCertificate};
use ruhu_core::signing::keys::{MemoryKeyStore, WorkerSigner};
use ruhu_core::sync::signatures::{sign_change, RequestAuth};
use ruhu_core::sync::{HouseholdChanges, SignedChange, SyncRequest, SyncResponse};
use ruhu_core::visit::policy::VisitPolicy;
use sync_server::authority::{init_key, Authority, CertificateRequest, ConfigRequest};
use sync_server::{open_state, ServerConfig};

pub const V1: &str = "620102001001";
pub const V2: &str = "620102001002";
pub const APP: &str = "0.1.0";

/// A worker: tablet key and certificate.
pub struct Worker {
    pub id: String,
    pub signer: WorkerSigner,
    pub cert: SignedCertificate,
}

impl Worker {
    pub fn cert_hash(&self) -> [u8; 32] {
        self.cert.hash()
    }
}

/// The county authority, its key in its own folder.
pub struct County {
    pub dir: tempfile::TempDir,
    pub authority: Authority,
}

impl County {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let authority =
            init_key(&dir.path().join("authority.key"), "620102", "county-620102").unwrap();
        Self { dir, authority }
    }

    pub fn worker(&self, id: &str, roles: &[Role], scope: Scope) -> Worker {
        let signer = WorkerSigner::create(&MemoryKeyStore::default(), "tablet").unwrap();
        let cert = self
            .authority
            .certify(
                &CertificateRequest {
                    worker_id: id.into(),
                    name: format!("工作人员 {id}"),
                    roles: roles.to_vec(),
                    scope,
                    public_key: signer.public_key(),
                    valid_days: 365,
                },
                Utc::now() - Duration::days(1),
            )
            .unwrap();
        Worker {
            id: id.into(),
            signer,
            cert,
        }
    }

    pub fn handler(&self, id: &str, villages: &[&str]) -> Worker {
        self.worker(
            id,
            &[Role::CaseHandler],
            Scope::Villages(villages.iter().map(|v| v.to_string()).collect()),
        )
    }

    /// A signed configuration (JSON) holding these workers' certificates.
    pub fn config_json(
        &self,
        serial: u64,
        workers: &[&Worker],
        revocations: Option<ruhu_core::signing::revocation::SignedRevocationList>,
    ) -> String {
        self.config_with(
            serial,
            APP,
            workers.iter().map(|w| w.cert.clone()).collect(),
            revocations,
        )
    }

    pub fn config_with(
        &self,
        serial: u64,
        min_app: &str,
        certificates: Vec<SignedCertificate>,
        revocations: Option<ruhu_core::signing::revocation::SignedRevocationList>,
    ) -> String {
        let signed = self
            .authority
            .config(
                ConfigRequest {
                    serial,
                    min_app_version: min_app.into(),
                    valid_days: 30,
                    policy: VisitPolicy::default(),
                    certificates,
                    revocations,
                    data: Default::default(),
                },
                Utc::now() - Duration::hours(1),
            )
            .unwrap();
        serde_json::to_string(&signed).unwrap()
    }

    pub fn public_key_file(&self) -> PathBuf {
        let path = self.dir.path().join("authority-public.json");
        std::fs::write(
            &path,
            serde_json::to_string(&self.authority.public_key()).unwrap(),
        )
        .unwrap();
        path
    }
}

/// A server on a loopback port, on its own runtime.
pub struct Server {
    pub addr: SocketAddr,
    pub data: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    runtime: tokio::runtime::Runtime,
    task: Option<tokio::task::JoinHandle<Result<(), sync_server::ServerError>>>,
}

impl Server {
    pub fn start(data: &Path, county: &County) -> Self {
        let config = ServerConfig {
            data_dir: data.to_path_buf(),
            authority_public_key: Some(county.public_key_file()),
            ..ServerConfig::default()
        };
        let state = open_state(&config).unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = runtime.spawn(sync_server::run(listener, state, async {
            let _ = stopped.await;
        }));
        Self {
            addr,
            data: data.to_path_buf(),
            stop: Some(stop),
            runtime,
            task: Some(task),
        }
    }

    /// A server with `workers` certified by a configuration of serial 1.
    pub fn with_config(data: &Path, county: &County, workers: &[&Worker]) -> Self {
        let server = Self::start(data, county);
        let (status, body) = server.post_config(&county.config_json(1, workers, None));
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        server
    }

    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            self.runtime.block_on(task).unwrap().unwrap();
        }
    }

    pub fn post_config(&self, json: &str) -> (u16, Vec<u8>) {
        http(
            self.addr,
            "POST",
            "/v1/config",
            &[("content-type", "application/json")],
            json.as_bytes(),
        )
    }

    /// Sends a sync request signed by `worker` now.
    pub fn sync(
        &self,
        worker: &Worker,
        request: &SyncRequest,
    ) -> Result<SyncResponse, (u16, serde_json::Value)> {
        let body = request.encode();
        let auth = RequestAuth::sign(
            &worker.signer,
            worker.cert_hash(),
            "POST",
            "/v1/sync",
            &body,
            Utc::now().timestamp(),
        )
        .unwrap();
        self.sync_raw(&body, &auth.to_header())
    }

    /// POSTs a body signed by `worker` now; the status and the response body as it came.
    pub fn sync_signed_body(&self, worker: &Worker, body: &[u8]) -> (u16, Vec<u8>) {
        let auth = RequestAuth::sign(
            &worker.signer,
            worker.cert_hash(),
            "POST",
            "/v1/sync",
            body,
            Utc::now().timestamp(),
        )
        .unwrap();
        http(
            self.addr,
            "POST",
            "/v1/sync",
            &[
                ("ruhu-auth", &auth.to_header()),
                ("content-type", "application/octet-stream"),
            ],
            body,
        )
    }

    pub fn sync_raw(
        &self,
        body: &[u8],
        header: &str,
    ) -> Result<SyncResponse, (u16, serde_json::Value)> {
        let (status, bytes) = http(
            self.addr,
            "POST",
            "/v1/sync",
            &[
                ("ruhu-auth", header),
                ("content-type", "application/octet-stream"),
            ],
            body,
        );
        if status == 200 {
            let message = ruhu_core::sync::envelope::open(&bytes, usize::MAX).unwrap();
            Ok(SyncResponse::decode(&message).unwrap())
        } else {
            Err((
                status,
                serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
            ))
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// One HTTP/1.1 request with `Connection: close`; status and body.
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&response[..split]).to_string();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let mut body = response[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    (status, body)
}

fn dechunk(mut input: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = input.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&input[..line_end]).unwrap().trim(), 16)
                .unwrap();
        input = &input[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&input[..size]);
        input = &input[size + 2..];
    }
}

/// A sample household `seed` in `village` with a fixed id derived from the seed.
pub fn household(seed: u64, village: &str) -> Household {
    let new = ruhu_core::fixtures::household(seed, village, 3);
    let mut members = BTreeMap::new();
    let mut head = String::new();
    for (i, m) in new.members.into_iter().enumerate() {
        let id = format!("{:08x}{:08x}", seed, i + 1);
        if i == 0 {
            head = id.clone();
        }
        members.insert(id, m);
    }
    Household {
        id: format!("{:032x}", seed + 0xabc0_0000),
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

/// A tablet's copy of households, with one actor id.
pub struct Tablet {
    pub actor: ActorId,
    pub docs: BTreeMap<String, AutoCommit>,
    /// Heads already pushed, per household.
    pub pushed: BTreeMap<String, Vec<ChangeHash>>,
}

impl Tablet {
    pub fn new() -> Self {
        Self {
            actor: ActorId::random(),
            docs: BTreeMap::new(),
            pushed: BTreeMap::new(),
        }
    }

    pub fn create(&mut self, worker: &Worker, h: &Household) -> String {
        let doc = HouseholdDocument::create(h, self.actor.clone(), &by(worker)).unwrap();
        let mut doc = doc;
        self.docs.insert(h.id.clone(), doc.automerge().clone());
        h.id.clone()
    }

    pub fn edit(&mut self, worker: &Worker, id: &str, f: impl FnOnce(&mut Household)) {
        let doc = self.docs.get_mut(id).unwrap();
        doc.set_actor(self.actor.clone());
        let mut wrapped = HouseholdDocument::from_automerge(doc.clone());
        let heads = wrapped.heads();
        let mut h = wrapped.household().unwrap();
        f(&mut h);
        wrapped.update(&heads, &h, &by(worker)).unwrap();
        *doc = wrapped.automerge().clone();
    }

    /// Every change of `id` not pushed yet, signed by `worker`.
    pub fn unpushed(&mut self, worker: &Worker, id: &str) -> HouseholdChanges {
        let doc = self.docs.get_mut(id).unwrap();
        let since = self.pushed.get(id).cloned().unwrap_or_default();
        let changes = doc
            .get_changes(&since)
            .into_iter()
            .map(|c| sign(worker, id, &c))
            .collect();
        HouseholdChanges {
            household_id: id.to_owned(),
            changes,
        }
    }

    pub fn mark_pushed(&mut self, id: &str) {
        let heads = self.docs.get_mut(id).unwrap().get_heads();
        self.pushed.insert(id.to_owned(), heads);
    }

    /// Applies pulled changes.
    pub fn receive(&mut self, response: &SyncResponse) {
        for group in &response.pulled {
            let doc = self.docs.entry(group.household_id.clone()).or_default();
            let changes = group
                .changes
                .iter()
                .map(|c| automerge::Change::from_bytes(c.change.clone()).unwrap())
                .collect::<Vec<_>>();
            doc.apply_changes(changes).unwrap();
        }
    }

    pub fn household(&self, id: &str) -> Household {
        HouseholdDocument::from_automerge(self.docs[id].clone())
            .household()
            .unwrap()
    }
}

pub fn sign(worker: &Worker, household_id: &str, change: &automerge::Change) -> SignedChange {
    sign_change(
        &worker.signer,
        worker.cert_hash(),
        household_id,
        &change.hash().0,
        change.raw_bytes().to_vec(),
    )
}

pub fn by(worker: &Worker) -> Authorship {
    Authorship {
        worker_id: worker.id.clone(),
        time_unix: Utc::now().timestamp(),
    }
}

pub fn request(push: Vec<HouseholdChanges>, cursor: Option<&SyncResponse>) -> SyncRequest {
    SyncRequest {
        app_version: APP.into(),
        config_serial: 1,
        cursor: cursor.map(|r| r.cursor),
        cursor_villages: cursor
            .map(|r| r.cursor_villages.clone())
            .unwrap_or_default(),
        push,
        pull_limit_bytes: 0,
    }
}

/// The server's data tables (everything but the nonces and the access log), sorted rows.
pub fn data_tables(data: &Path) -> BTreeMap<String, Vec<String>> {
    dump(
        data,
        &[
            "households",
            "feed",
            "snapshots",
            "actor_bindings",
            "resident_ids",
            "resident_id_flags",
            "county_config",
            "certificates",
            "revocations",
        ],
    )
}

pub fn dump(data: &Path, tables: &[&str]) -> BTreeMap<String, Vec<String>> {
    let conn = sync_server::storage::ServerStorage::inspect(data).unwrap();
    let mut out = BTreeMap::new();
    for table in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM {table}")).unwrap();
        let n = stmt.column_count();
        let mut rows: Vec<String> = stmt
            .query_map([], |r| {
                Ok((0..n)
                    .map(|i| show(r.get_ref(i).unwrap()))
                    .collect::<Vec<_>>()
                    .join("|"))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        rows.sort();
        out.insert(table.to_string(), rows);
    }
    out
}

pub fn count(data: &Path, sql: &str) -> i64 {
    let conn = sync_server::storage::ServerStorage::inspect(data).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

fn show(value: rusqlite::types::ValueRef<'_>) -> String {
    use rusqlite::types::ValueRef;
    match value {
        ValueRef::Null => "null".into(),
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(f) => f.to_string(),
        ValueRef::Text(t) => format!("{:?}", String::from_utf8_lossy(t)),
        ValueRef::Blob(b) => hex::encode(b),
    }
}
