//! # sync-server
//!
//! The county's sync server. This version opens (or creates) its data folder and its embedded
//! SQLite database, serves `GET /v1/health`, logs every request, and shuts down gracefully.
//! The sync protocol itself (change feed, push and pull of household changes) is not
//! implemented yet; its endpoints do not exist, so a tablet gets a 404, never a fake success.
//!
//! The server is a library: [`run`] takes an already bound listener and a shutdown future, so
//! tests start it on port 0 and stop it when they are done; `main.rs` only parses arguments.

pub mod config;
mod health;
pub mod storage;

use std::future::Future;

use axum::Router;
use tokio::net::TcpListener;

pub use config::ServerConfig;
pub use storage::ServerStorage;

/// Errors that stop the server from starting or running.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("storage: {0}")]
    Storage(#[from] rusqlite::Error),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("configuration: {0}")]
    Config(String),
}

/// Shared state of the request handlers.
#[derive(Debug, Clone)]
pub struct AppState {
    pub storage: ServerStorage,
}

/// The HTTP routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/health", axum::routing::get(health::health))
        .layer(axum::middleware::from_fn(health::log_request))
        .with_state(state)
}

/// Serves on `listener` until `shutdown` completes, then finishes in-flight requests.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let app = router(state);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}
