//! A writer process is killed (SIGKILL) in the middle of a burst of writes; after reopening,
//! every write it acknowledged is there and the database passes `PRAGMA integrity_check`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use ruhu_core::store::FileKeyStore;
use ruhu_core::{Store, StoreConfig};

#[test]
fn every_acknowledged_write_survives_a_kill_mid_burst() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("tablet.db");
    let keys = dir.path().join("keys");
    let mut acked = Vec::new();
    for round in 0..3u32 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_store_writer"))
            .arg(&db)
            .arg(&keys)
            .arg("100000")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn writer");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        // Kill at a different point each round, while it is still writing.
        let kill_after = 40 + 37 * round as usize;
        while acked.len() < kill_after * (round as usize + 1) {
            match lines.next() {
                Some(Ok(line)) => acked.push(line.trim_start_matches("acked ").to_owned()),
                other => panic!("writer stopped early: {other:?}"),
            }
        }
        child.kill().expect("kill");
        // Acknowledgements already printed before the kill also count.
        for line in lines.map_while(Result::ok) {
            acked.push(line.trim_start_matches("acked ").to_owned());
        }
        let _ = child.wait();

        let mut store = Store::open(
            StoreConfig::new(&db, "crash", "checker"),
            &FileKeyStore::new(&keys),
        )
        .expect("reopen");
        assert_eq!(store.integrity_check().expect("integrity"), "ok");
        for id in &acked {
            store
                .household(id)
                .unwrap_or_else(|e| panic!("acknowledged household {id} lost: {e}"));
        }
    }
    assert!(acked.len() >= 40 + 77 + 114);
}
