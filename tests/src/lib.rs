//! Shared set-up of the multi-process and tablet-to-server tests: a county authority (key in
//! its own folder), tablets (real encrypted stores enrolled with real bundles), and the sync
//! server either in this process on a loopback port or as a child process that can be killed.
//!
//! The binaries in `src/bin` are child processes the tests start and kill.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_debug_implementations
)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use chrono::{Duration, Utc};
use ruhu_core::signing::certificate::{Role, Scope, SignedCertificate};
use ruhu_core::signing::keys::{FileKeyStore as SigningKeys, WorkerSigner};
use ruhu_core::store::FileKeyStore;
use ruhu_core::sync::client::{sync, HttpTransport, SyncReport, SyncSettings, Transport};
use ruhu_core::sync::enrollment::EnrollmentBundle;
use ruhu_core::visit::policy::VisitPolicy;
use ruhu_core::{Store, StoreConfig};
use sync_server::authority::{init_key, Authority, CertificateRequest, ConfigRequest};
use sync_server::{open_state, ServerConfig};

pub const V1: &str = "620102001001";
pub const V2: &str = "620102001002";

/// The county authority, its key in its own folder (never the server's).
pub struct County {
    pub dir: tempfile::TempDir,
    pub authority: Authority,
    serial: std::cell::Cell<u64>,
}

impl Default for County {
    fn default() -> Self {
        Self::new()
    }
}

impl County {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let authority =
            init_key(&dir.path().join("authority.key"), "620102", "county-620102").unwrap();
        Self {
            dir,
            authority,
            serial: std::cell::Cell::new(0),
        }
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

    pub fn certify(
        &self,
        worker_id: &str,
        roles: &[Role],
        scope: Scope,
        signer: &WorkerSigner,
    ) -> SignedCertificate {
        let request = CertificateRequest {
            worker_id: worker_id.into(),
            name: format!("工作人员 {worker_id}"),
            roles: roles.to_vec(),
            scope,
            public_key: signer.public_key(),
            valid_days: 365,
        };
        self.authority
            .certify(&request, Utc::now() - Duration::days(1))
            .unwrap()
    }

    /// A new signed configuration (next serial) holding `certificates`, as JSON.
    pub fn config_json(
        &self,
        certificates: Vec<SignedCertificate>,
        revocations: Option<ruhu_core::signing::revocation::SignedRevocationList>,
    ) -> String {
        self.config_json_with(certificates, revocations, Default::default())
    }

    /// [`Self::config_json`] with the county's working data.
    pub fn config_json_with(
        &self,
        certificates: Vec<SignedCertificate>,
        revocations: Option<ruhu_core::signing::revocation::SignedRevocationList>,
        data: ruhu_core::sync::CountyData,
    ) -> String {
        self.serial.set(self.serial.get() + 1);
        let signed = self
            .authority
            .config(
                ConfigRequest {
                    serial: self.serial.get(),
                    min_app_version: "0.1.0".into(),
                    valid_days: 30,
                    policy: VisitPolicy::default(),
                    certificates,
                    revocations,
                    data,
                },
                Utc::now() - Duration::hours(1),
            )
            .unwrap();
        serde_json::to_string(&signed).unwrap()
    }
}

/// A tablet: its own folder, key stores and encrypted store, enrolled in the county.
pub struct Tablet {
    pub dir: tempfile::TempDir,
    pub store: Store,
    pub worker_id: String,
    pub certificate: SignedCertificate,
    pub url: String,
}

impl Tablet {
    /// A tablet for a new worker; the certificate must still be put in a configuration the
    /// server has before the tablet can sync.
    pub fn enroll(
        county: &County,
        url: &str,
        worker_id: &str,
        roles: &[Role],
        villages: &[&str],
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let signing = SigningKeys::new(dir.path().join("signing-keys"));
        let signer = WorkerSigner::create(&signing, "device").unwrap();
        let scope = Scope::Villages(villages.iter().map(|v| v.to_string()).collect());
        let certificate = county.certify(worker_id, roles, scope, &signer);
        let bundle: EnrollmentBundle = county
            .authority
            .enroll(url, "loopback-plain", &certificate)
            .unwrap();
        let bundle = EnrollmentBundle::parse(&serde_json::to_string(&bundle).unwrap()).unwrap();
        let keys = FileKeyStore::new(dir.path().join("keys"));
        let mut store = Store::open(
            StoreConfig::new(dir.path().join("tablet.db"), "tablet", worker_id),
            &keys,
        )
        .unwrap();
        store.enroll(&bundle, signer).unwrap();
        Self {
            dir,
            store,
            worker_id: worker_id.into(),
            certificate,
            url: url.into(),
        }
    }

    /// Reopens the store (a new app launch: new actor id, same data).
    pub fn reopen(&mut self) {
        let keys = FileKeyStore::new(self.dir.path().join("keys"));
        let store = Store::open(
            StoreConfig::new(self.dir.path().join("tablet.db"), "tablet", &self.worker_id),
            &keys,
        )
        .unwrap();
        self.store = store;
        let signing = SigningKeys::new(self.dir.path().join("signing-keys"));
        let signer = WorkerSigner::open(&signing, "device").unwrap().unwrap();
        self.store
            .set_signing_identity(signer, self.certificate.clone())
            .unwrap();
    }

    pub fn sync(&mut self) -> ruhu_core::Result<SyncReport> {
        self.sync_with(&HttpTransport::new(&self.url))
    }

    pub fn sync_with(&mut self, transport: &dyn Transport) -> ruhu_core::Result<SyncReport> {
        sync(
            &mut self.store,
            transport,
            &SyncSettings {
                app_version: "0.1.0".into(),
                ..SyncSettings::default()
            },
        )
    }
}

/// POSTs a signed configuration to a server.
pub fn install_config(url: &str, json: &str) {
    let response = HttpTransport::new(url)
        .request(
            "POST",
            "/v1/config",
            &[("Content-Type", "application/json".into())],
            json.as_bytes(),
        )
        .unwrap();
    assert_eq!(
        response.status,
        200,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
}

/// A server in this process, on its own runtime.
pub struct Server {
    pub addr: SocketAddr,
    pub data: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    runtime: tokio::runtime::Runtime,
    task: Option<tokio::task::JoinHandle<Result<(), sync_server::ServerError>>>,
}

impl Server {
    pub fn start(data: &Path, county: &County) -> Self {
        Self::start_on(data, county, 0)
    }

    pub fn start_on(data: &Path, county: &County, port: u16) -> Self {
        Self::start_with(data, county, port, |_| {})
    }

    /// [`Self::start_on`] with the server's settings adjusted by `adjust`.
    pub fn start_with(
        data: &Path,
        county: &County,
        port: u16,
        adjust: impl FnOnce(&mut ServerConfig),
    ) -> Self {
        let mut config = ServerConfig {
            data_dir: data.to_path_buf(),
            authority_public_key: Some(county.public_key_file()),
            ..ServerConfig::default()
        };
        adjust(&mut config);
        let state = open_state(&config).unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("sync-server")
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(("127.0.0.1", port)))
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

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
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
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The server as a child process (so it can be killed mid-ingest).
pub struct ServerProcess {
    pub child: Child,
    pub addr: SocketAddr,
}

impl ServerProcess {
    pub fn spawn(binary: &str, data: &Path, key_file: &Path, port: u16) -> Self {
        let mut child = Command::new(binary)
            .arg(data)
            .arg(key_file)
            .arg(port.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let addr = line
            .trim()
            .trim_start_matches("listening ")
            .parse()
            .unwrap_or_else(|_| panic!("server said {line:?}"));
        Self { child, addr }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A small deterministic random generator for test schedules (xorshift).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// Answers of the minimal home-visit template.
pub fn visit_answers() -> Vec<(String, Option<serde_json::Value>)> {
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
        (
            "hardship_cause",
            json!("户主患慢性病，长期服药；收入不稳定。"),
        ),
        ("supporters", json!("无其他法定赡养人")),
        ("member_present_signed", json!(true)),
        ("conclusion", json!("eligible")),
        ("reason", json!("家庭人均收入低于当地农村低保标准。")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), Some(v)))
    .collect()
}

/// Seal details for a visit in `village`.
pub fn seal_details(village: &str) -> ruhu_core::visit::document::SealDetails {
    use ruhu_core::visit::content::Place;
    ruhu_core::visit::document::SealDetails {
        previous: None,
        place: Place {
            village_code: village.into(),
            address: "一组 12 号".into(),
            gps: None,
        },
        visited_at: chrono::DateTime::from_timestamp(1_780_000_000, 0).unwrap_or_default(),
        attachments: Vec::new(),
        scoring: None,
        emergency_remote: None,
    }
}

impl Tablet {
    /// Signs a sealed visit on this tablet as `role`.
    pub fn sign_visit(
        &mut self,
        household: &str,
        visit: &str,
        hash: &ruhu_core::visit::content::ContentHash,
        role: Role,
    ) {
        let signing = SigningKeys::new(self.dir.path().join("signing-keys"));
        self.store
            .sign_visit(household, visit, hash, role, &signing, "device")
            .unwrap();
    }
}

/// Every change hash in the server's feed, and how many feed rows there are.
pub fn server_feed(data: &Path) -> (std::collections::BTreeSet<Vec<u8>>, usize) {
    let conn = sync_server::storage::ServerStorage::inspect(data).unwrap();
    let hashes: Vec<Vec<u8>> = conn
        .prepare("SELECT change_hash FROM feed")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let rows = hashes.len();
    (hashes.into_iter().collect(), rows)
}

/// Every change hash a tablet holds for its households.
pub fn tablet_changes(store: &mut Store) -> std::collections::BTreeSet<Vec<u8>> {
    let mut out = std::collections::BTreeSet::new();
    let villages = [V1, V2];
    for village in villages {
        for summary in store.list_village(village, &Default::default()).unwrap() {
            for change in store.changes_since(&summary.id, &[]).unwrap() {
                out.insert(
                    automerge::Change::from_bytes(change)
                        .unwrap()
                        .hash()
                        .0
                        .to_vec(),
                );
            }
        }
    }
    out
}

/// A file of `core/samples/` (the sample standards and calendar).
pub fn core_sample(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../core/samples")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

/// The sample calendar with (empty) years added from last year to next, so that today's
/// deadlines can be counted whatever the date.
pub fn calendar_around_now() -> ruhu_core::calendar::CalendarData {
    use chrono::Datelike;
    let mut calendar: ruhu_core::calendar::CalendarData =
        serde_json::from_str(&core_sample("calendar.sample.json")).unwrap();
    let year = Utc::now().year();
    for y in [year - 1, year, year + 1] {
        if !calendar.years.iter().any(|c| c.year == y) {
            calendar.years.push(ruhu_core::calendar::CalendarYear {
                year: y,
                holidays: Vec::new(),
                working_weekends: Vec::new(),
            });
        }
    }
    calendar
}

/// A case handler of village V1 (`w-h`) on a new county's server (data in `dir`), whose
/// configuration carries `data`; synced once, so the configuration is installed.
pub fn case_handler(dir: &Path, data: ruhu_core::sync::CountyData) -> (County, Server, Tablet) {
    let county = County::new();
    let server = Server::start(dir, &county);
    let mut tablet = Tablet::enroll(&county, &server.url(), "w-h", &[Role::CaseHandler], &[V1]);
    install_config(
        &server.url(),
        &county.config_json_with(vec![tablet.certificate.clone()], None, data),
    );
    tablet.sync().unwrap();
    (county, server, tablet)
}
