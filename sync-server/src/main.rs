//! `sync-server`: parses arguments, opens storage, binds, serves until Ctrl-C or SIGTERM.

use sync_server::{run, AppState, ServerConfig, ServerStorage};
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
        tracing::error!(error = %e, "sync-server stopped");
        std::process::exit(1);
    }
}

async fn serve(config: ServerConfig) -> Result<(), sync_server::ServerError> {
    let storage = ServerStorage::open(&config.data_dir)?;
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let data =
        std::fs::canonicalize(storage.path()).unwrap_or_else(|_| storage.path().to_path_buf());
    tracing::info!(listen = %addr, database = %data.display(), epoch = storage.epoch(), "sync-server ready");
    println!("sync-server listening on http://{addr}  (health: http://{addr}/v1/health)");
    println!("data: {}", data.display());
    println!("enrollment: not available in this version (the sync protocol and the authority command are not built yet)");
    run(listener, AppState { storage }, shutdown_signal()).await?;
    tracing::info!("sync-server stopped cleanly");
    Ok(())
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
