//! `sync-server`: parses arguments, opens the data folder, binds, serves until Ctrl-C or
//! SIGTERM.

use sync_server::{open_state, run, tls, ServerConfig};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match ServerConfig::from_args(&args) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    if let Err(e) = serve(config).await {
        eprintln!("sync-server: {e}");
        tracing::error!(error = %e, "sync-server stopped");
        std::process::exit(1);
    }
}

async fn serve(config: ServerConfig) -> Result<(), sync_server::ServerError> {
    let state = open_state(&config)?;
    let tls = match &config.tls {
        Some((cert, key)) => Some(tls::load(cert, key)?),
        None => None,
    };
    let listener = std::net::TcpListener::bind(config.listen)?;
    let addr = listener.local_addr()?;
    let data = std::fs::canonicalize(&config.data_dir).unwrap_or_else(|_| config.data_dir.clone());
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(listen = %addr, data = %data.display(), epoch = hex::encode(state.storage.epoch()), "sync-server ready");
    println!("sync-server listening on {scheme}://{addr}  (health: {scheme}://{addr}/v1/health)");
    println!("data: {}", data.display());
    println!(
        "database encrypted at rest; its key: {} (back it up apart from the data folder)",
        config.database_key_path().display()
    );
    let pin = tls
        .as_ref()
        .map_or("loopback-plain".to_owned(), |t| t.pin.clone());
    if let Some(t) = &tls {
        println!("TLS certificate pin (SHA-256 of DER): {}", t.pin);
    }
    print_enrollment(&state, &data, &format!("{scheme}://{addr}"), &pin);
    let shutdown = shutdown_signal();
    match tls {
        Some(tls) => tls::run_tls(listener, state, &tls, shutdown).await?,
        None => {
            listener.set_nonblocking(true)?;
            run(
                tokio::net::TcpListener::from_std(listener)?,
                state,
                shutdown,
            )
            .await?
        }
    }
    tracing::info!("sync-server stopped cleanly");
    Ok(())
}

fn print_enrollment(state: &sync_server::AppState, data: &std::path::Path, url: &str, pin: &str) {
    let key = data.join(sync_server::authority::PUBLIC_KEY_FILE);
    match (&state.authority, state.county()) {
        (Some(_), Some(county)) => println!(
            "county {} configuration serial {} installed; enroll a tablet with (on the authority's machine):\n  county-authority enroll --key-file AUTHORITY.key --server-url {url} --server-pin {pin} --certificate WORKER.cert.json --out WORKER.enroll.json",
            county.config.county_code, county.config.serial
        ),
        (Some(authority), None) => println!(
            "authority key {} of county {} known; no county configuration yet (sync answers 503 sync.no_config). On the authority's machine:\n  county-authority config --key-file AUTHORITY.key --serial 1 --min-app-version 0.1.0 --valid-days 90 --certificate WORKER.cert.json --out config.json\n  curl --data-binary @config.json -H 'content-type: application/json' {url}/v1/config",
            authority.key_id, authority.county_code
        ),
        (None, _) => println!(
            "not enrolled yet: sync answers 503 sync.no_config. On the county authority's own machine (never this server):\n  cargo run --release -p sync-server --bin county-authority -- init --key-file ~/ruhu-authority/authority.key --county 620102 --key-id county-620102\n  county-authority public-key --key-file ~/ruhu-authority/authority.key --out {}\n  county-authority certify --key-file ~/ruhu-authority/authority.key --worker-id w-0001 --name 刘洋 --roles case_handler --villages 620102001001 --public-key <tablet key hex> --valid-days 365 --out w-0001.cert.json\n  county-authority config --key-file ~/ruhu-authority/authority.key --serial 1 --min-app-version 0.1.0 --valid-days 90 --certificate w-0001.cert.json --out config.json\nthen restart this server, POST config.json to {url}/v1/config, and give each tablet its bundle:\n  county-authority enroll --key-file ~/ruhu-authority/authority.key --server-url {url} --server-pin {pin} --certificate w-0001.cert.json --out w-0001.enroll.json",
            key.display()
        ),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
