//! Syncs cut at random points (before the request, mid-request, after the server committed
//! but before the response arrived, mid-response) and a server process killed mid-ingest:
//! retried syncs end with nothing lost, nothing doubled, one feed entry per change hash.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::net::TcpStream;
use std::sync::Mutex;

use ruhu_core::fixtures;
use ruhu_core::signing::certificate::Role;
use ruhu_core::sync::client::{HttpResponse, HttpTransport, Transport};
use ruhu_tests::*;

/// A transport that cuts a share of the requests at a random point.
struct CuttingTransport {
    inner: HttpTransport,
    addr: String,
    rng: Mutex<Rng>,
    cuts: Mutex<u32>,
}

impl CuttingTransport {
    fn new(url: &str, seed: u64) -> Self {
        Self {
            inner: HttpTransport::new(url),
            addr: url.trim_start_matches("http://").to_owned(),
            rng: Mutex::new(Rng::new(seed)),
            cuts: Mutex::new(0),
        }
    }
}

impl Transport for CuttingTransport {
    fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> Result<HttpResponse, String> {
        // Half of the requests are cut, each way equally often.
        let mode = self.rng.lock().unwrap().below(8);
        if (1..=4).contains(&mode) {
            *self.cuts.lock().unwrap() += 1;
        }
        match mode {
            // Cut before anything was sent.
            1 => Err("cut before the request".into()),
            // Cut mid-request: the server sees a truncated body.
            2 => {
                let mut stream = TcpStream::connect(&self.addr).map_err(|e| e.to_string())?;
                let mut head = format!(
                    "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n",
                    self.addr,
                    body.len()
                );
                for (k, v) in headers {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                head.push_str("\r\n");
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body[..body.len() / 2]);
                Err("cut mid-request".into())
            }
            // The server processed it; the response was lost.
            3 => {
                self.inner.request(method, path, headers, body)?;
                Err("cut before the response".into())
            }
            // The response arrived cut in half.
            4 => {
                let mut response = self.inner.request(method, path, headers, body)?;
                let half = response.body.len() / 2;
                response.body.truncate(half);
                Ok(response)
            }
            _ => self.inner.request(method, path, headers, body),
        }
    }
}

/// Syncs until a sync succeeds; returns how many attempts failed.
fn sync_until_done(tablet: &mut Tablet, transport: &dyn Transport) -> u32 {
    let mut last = None;
    for failures in 0..50 {
        match tablet.sync_with(transport) {
            Ok(_) => return failures,
            Err(e) => last = Some(e),
        }
    }
    panic!("50 failed syncs in a row, the last: {last:?}");
}

#[test]
fn syncs_cut_at_random_points_lose_and_double_nothing() {
    let county = County::new();
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &county);
    let url = server.url();
    let mut a = Tablet::enroll(&county, &url, "w-a", &[Role::CaseHandler], &[V1]);
    let mut b = Tablet::enroll(&county, &url, "w-b", &[Role::VillageCadre], &[V1]);
    install_config(
        &url,
        &county.config_json(vec![a.certificate.clone(), b.certificate.clone()], None),
    );
    let transport_a = CuttingTransport::new(&url, 7);
    let transport_b = CuttingTransport::new(&url, 11);
    let mut rng = Rng::new(3);
    let mut ids = Vec::new();
    let mut failed_attempts = 0;
    for round in 0..120u64 {
        if ids.is_empty() || rng.below(3) == 0 {
            ids.push(
                a.store
                    .create_household(fixtures::household(1000 + round, V1, 3))
                    .unwrap()
                    .id,
            );
        } else {
            let id = ids[rng.below(ids.len() as u64) as usize].clone();
            a.store
                .edit_household(&id, |h| h.profile.address = format!("a{round}"))
                .unwrap();
        }
        failed_attempts += sync_until_done(&mut a, &transport_a);
        if let Some(id) = ids.get(rng.below(ids.len() as u64) as usize) {
            if b.store.household(id).is_ok() {
                b.store
                    .edit_household(id, |h| h.profile.phone = Some(format!("139{round:08}")))
                    .unwrap();
            }
        }
        failed_attempts += sync_until_done(&mut b, &transport_b);
        if round % 17 == 0 {
            // An app restart between syncs: a new actor id, same queue.
            b.reopen();
        }
    }
    let cuts = *transport_a.cuts.lock().unwrap() + *transport_b.cuts.lock().unwrap();
    assert!(cuts >= 200, "only {cuts} cuts");
    assert!(
        failed_attempts >= 100,
        "only {failed_attempts} failed syncs"
    );

    // Settle with clean syncs.
    for _ in 0..2 {
        a.sync().unwrap();
        b.sync().unwrap();
    }
    let (feed, rows) = server_feed(data.path());
    assert_eq!(rows, feed.len(), "one feed entry per change hash");
    let on_a = tablet_changes(&mut a.store);
    let on_b = tablet_changes(&mut b.store);
    assert_eq!(on_a, on_b, "both tablets hold the same changes");
    assert_eq!(
        on_a, feed,
        "every change reached the server, nothing else did"
    );
    assert_eq!(a.store.unsynced_changes().unwrap().0, 0);
    assert_eq!(b.store.unsynced_changes().unwrap().0, 0);
    for id in &ids {
        assert_eq!(
            a.store.household(id).unwrap().household,
            b.store.household(id).unwrap().household
        );
    }
    eprintln!(
        "{cuts} cuts, {failed_attempts} failed sync attempts, {} changes",
        feed.len()
    );
    server.stop();
}

#[test]
fn a_server_killed_mid_ingest_loses_nothing_after_retries() {
    let county = County::new();
    let data = tempfile::tempdir().unwrap();
    let key = county.public_key_file();
    let binary = env!("CARGO_BIN_EXE_county_server");
    let mut server = ServerProcess::spawn(binary, data.path(), &key, 0);
    let port = server.addr.port();
    let url = server.url();
    let mut a = Tablet::enroll(&county, &url, "w-a", &[Role::CaseHandler], &[V1]);
    install_config(&url, &county.config_json(vec![a.certificate.clone()], None));
    let mut rng = Rng::new(5);
    for round in 0..5u64 {
        let batch: Vec<_> = (0..120)
            .map(|i| fixtures::household(round * 1000 + i, V1, 4))
            .collect();
        a.store.create_households(batch).unwrap();
        // Sync in another thread; kill the server while it ingests.
        let delay = std::time::Duration::from_millis(20 + rng.below(250));
        let store = std::mem::replace(&mut a.store, open_scratch_store());
        let sync_url = url.clone();
        let handle = std::thread::spawn(move || {
            let mut store = store;
            let result = ruhu_core::sync::client::sync(
                &mut store,
                &HttpTransport::new(&sync_url),
                &ruhu_core::sync::client::SyncSettings {
                    app_version: "0.1.0".into(),
                    ..Default::default()
                },
            );
            (store, result.is_ok())
        });
        std::thread::sleep(delay);
        server.kill();
        let (store, _finished) = handle.join().unwrap();
        a.store = store;
        server = ServerProcess::spawn(binary, data.path(), &key, port);
        for _ in 0..10 {
            if a.sync().is_ok() {
                break;
            }
        }
        assert_eq!(
            a.store.unsynced_changes().unwrap().0,
            0,
            "round {round}: everything accepted after the restart"
        );
    }
    server.kill();
    let (feed, rows) = server_feed(data.path());
    assert_eq!(rows, feed.len(), "one feed entry per change hash");
    assert_eq!(tablet_changes(&mut a.store), feed, "nothing lost");
    let conn = sync_server::storage::ServerStorage::inspect(data.path()).unwrap();
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
}

/// A throwaway store standing in while the real one is used by the syncing thread.
fn open_scratch_store() -> ruhu_core::Store {
    let dir = tempfile::tempdir().unwrap().keep();
    let keys = ruhu_core::store::FileKeyStore::new(dir.join("keys"));
    ruhu_core::Store::open(
        ruhu_core::StoreConfig::new(dir.join("scratch.db"), "scratch", "nobody"),
        &keys,
    )
    .unwrap()
}
