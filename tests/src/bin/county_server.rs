//! The sync server as a child process for the kill tests: `county_server DATA_DIR
//! AUTHORITY_PUBLIC_KEY [PORT]`. Prints `listening <addr>` once it accepts connections.

use std::io::Write;

use sync_server::{open_state, run, ServerConfig};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(data), Some(key)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: county_server DATA_DIR AUTHORITY_PUBLIC_KEY [PORT]");
        std::process::exit(2);
    };
    let port: u16 = args.get(3).and_then(|p| p.parse().ok()).unwrap_or(0);
    let config = ServerConfig {
        data_dir: data.into(),
        authority_public_key: Some(key.into()),
        ..ServerConfig::default()
    };
    let state = match open_state(&config) {
        Ok(state) => state,
        Err(e) => {
            eprintln!("county_server: {e}");
            std::process::exit(1);
        }
    };
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("county_server: {e}");
            std::process::exit(1);
        }
    };
    if let Ok(addr) = listener.local_addr() {
        println!("listening {addr}");
        let _ = std::io::stdout().flush();
    }
    if let Err(e) = run(listener, state, std::future::pending()).await {
        eprintln!("county_server: {e}");
        std::process::exit(1);
    }
}
