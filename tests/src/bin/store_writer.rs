//! A writer process for the crash test: opens a store, creates households one write at a
//! time and prints `acked <household id>` after each write returns (i.e. is committed), until
//! it is killed.
//!
//! Usage: `store_writer <db path> <key dir> <count>`

use std::io::Write;

use ruhu_core::store::FileKeyStore;
use ruhu_core::{fixtures, Store, StoreConfig};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(db), Some(keys), Some(count)) = (args.get(1), args.get(2), args.get(3)) else {
        eprintln!("usage: store_writer <db path> <key dir> <count>");
        std::process::exit(2);
    };
    let count: u64 = count.parse().unwrap_or(1000);
    let keys = FileKeyStore::new(keys);
    let mut store = match Store::open(StoreConfig::new(db, "crash", "writer"), &keys) {
        Ok(store) => store,
        Err(e) => {
            eprintln!("open failed: {e}");
            std::process::exit(1);
        }
    };
    let stdout = std::io::stdout();
    for seed in 0..count {
        match store.create_household(fixtures::household(
            seed,
            &fixtures::village((seed % 20) as u32),
            4,
        )) {
            Ok(h) => {
                let mut out = stdout.lock();
                let _ = writeln!(out, "acked {}", h.id);
                let _ = out.flush();
            }
            Err(e) => {
                eprintln!("write failed: {e}");
                std::process::exit(1);
            }
        }
        // Edits too, so WAL frames of updates are in flight when the kill lands.
        if seed % 3 == 0 {
            let _ = store.list_village(&fixtures::village(0), &Default::default());
        }
    }
}
