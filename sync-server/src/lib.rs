//! # sync-server
//!
//! The county's sync server (protocol: `docs/sync-protocol.md`, decisions: ADR 0007). It keeps
//! a collection-level **change feed** of household changes in an embedded SQLite database,
//! validates every pushed change with the same checks the tablets run
//! (`ruhu_core::sync::ingest`), and answers each tablet's `POST /v1/sync` — push its changes,
//! pull everyone else's in its villages — in one round trip.
//!
//! | module | what it does |
//! |---|---|
//! | [`config`] | command-line settings (listen address, data folder, TLS) |
//! | [`storage`] | the [`storage::FeedStore`] trait and its SQLite implementation, the document cache |
//! | [`county`] | the signed county configuration, verified once |
//! | [`auth`] | the `Ruhu-Auth` request signature, clock and nonce checks |
//! | `sync` | push (authorize, validate in parallel, commit) and pull (feed pages) |
//! | `routes` | the HTTP handlers; `health` the health endpoint and request logging |
//! | `checks` | checks of stored records (a visit verified with its attachments on disk) |
//! | [`attachments`] | photo and signature-image uploads (chunked, resumable) and downloads |
//! | [`authority`] | the county authority's documents (used by the `county-authority` command) |
//! | [`timing`] | the phases of a sync request, sent back as `Server-Timing` |
//! | [`tls`] | rustls (ring) serving |
//!
//! The server is a library: [`run`] and [`tls::run_tls`] take an already bound listener and a
//! shutdown future, so tests start it on port 0; `main.rs` only parses arguments.

pub mod attachments;
pub mod auth;
pub mod authority;
mod checks;
pub mod config;
pub mod county;
pub mod error;
mod health;
mod routes;
pub mod storage;
pub(crate) mod sync;
pub mod timing;
pub mod tls;

use std::future::Future;
use std::sync::{Arc, Mutex, RwLock};

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;

pub use authority::AuthorityPublicKey;
pub use config::ServerConfig;
pub use routes::{MAX_SYNC_BODY, MAX_SYNC_MESSAGE};
pub use storage::{FeedStore, ServerStorage};

use attachments::files::AttachmentFiles;
use county::CountyState;
use storage::cache::DocCache;

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

/// How many household documents the cache keeps by default.
pub const DEFAULT_CACHED_HOUSEHOLDS: usize = 4096;

/// Shared state of the request handlers.
#[derive(Debug, Clone)]
pub struct AppState {
    pub storage: Arc<dyn FeedStore>,
    /// The county authority's public key (`None`: no configuration can be installed).
    pub authority: Option<Arc<AuthorityPublicKey>>,
    county: Arc<RwLock<Option<Arc<CountyState>>>>,
    pub cache: Arc<DocCache>,
    /// Serializes pushes (and configuration installs) within this process.
    pub push_lock: Arc<Mutex<()>>,
    /// Attachment bytes (files beside the database).
    pub attachments: Arc<AttachmentFiles>,
}

impl AppState {
    /// State over `storage`, loading (and re-verifying) the installed configuration.
    pub fn new(
        storage: impl FeedStore + 'static,
        authority: Option<AuthorityPublicKey>,
        attachments: AttachmentFiles,
    ) -> Result<Self, ServerError> {
        let storage: Arc<dyn FeedStore> = Arc::new(storage);
        let county = match (storage.config()?, &authority) {
            (Some(stored), Some(key)) => Some(Arc::new(
                CountyState::verify(&stored.signed_json, key, None).map_err(|e| {
                    ServerError::Config(format!(
                        "the stored county configuration does not verify with the authority key: {} ({})",
                        e.detail, e.code
                    ))
                })?,
            )),
            (Some(_), None) => {
                return Err(ServerError::Config(
                    "a county configuration is installed but no authority public key was given"
                        .into(),
                ))
            }
            (None, _) => None,
        };
        Ok(Self {
            storage,
            authority: authority.map(Arc::new),
            county: Arc::new(RwLock::new(county)),
            cache: Arc::new(DocCache::new(DEFAULT_CACHED_HOUSEHOLDS)),
            push_lock: Arc::new(Mutex::new(())),
            attachments: Arc::new(attachments),
        })
    }

    /// The installed configuration.
    pub fn county(&self) -> Option<Arc<CountyState>> {
        self.county.read().ok().and_then(|c| c.clone())
    }

    fn set_county(&self, county: CountyState) {
        if let Ok(mut slot) = self.county.write() {
            *slot = Some(Arc::new(county));
        }
    }
}

/// Opens the data folder: refuses one holding an authority private key, opens (or creates)
/// the database, and reads the authority public key (`--authority-public-key`, else
/// `authority-public-key.json` in the data folder, else none).
pub fn open_state(config: &ServerConfig) -> Result<AppState, ServerError> {
    let keys = authority::find_private_keys(&config.data_dir);
    if !keys.is_empty() {
        return Err(ServerError::Config(format!(
            "refusing to start: the data folder holds private key file(s) {}; the county authority's key must never be on the server — move it to the authority's machine",
            keys.iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let database_key =
        storage::DatabaseKey::load_or_create(&config.database_key_path(), &config.data_dir)?;
    let storage = ServerStorage::open(&config.data_dir, &database_key)?;
    let key_path = config
        .authority_public_key
        .clone()
        .unwrap_or_else(|| config.data_dir.join(authority::PUBLIC_KEY_FILE));
    let authority = if key_path.exists() {
        Some(
            authority::read_public_key(&key_path)
                .map_err(|e| ServerError::Config(e.to_string()))?,
        )
    } else if config.authority_public_key.is_some() {
        return Err(ServerError::Config(format!(
            "authority public key {} not found",
            key_path.display()
        )));
    } else {
        None
    };
    let attachments = AttachmentFiles::open(
        &config.data_dir,
        config.max_attachment_bytes,
        attachments::sealed::AttachmentKeys::new(&database_key),
    )?;
    let mut state = AppState::new(storage, authority, attachments)?;
    state.cache = Arc::new(DocCache::new(config.cached_households));
    Ok(state)
}

/// The HTTP routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/health", get(health::health))
        .route(
            "/v1/config",
            get(routes::get_config)
                .post(routes::post_config)
                .layer(DefaultBodyLimit::max(routes::MAX_CONFIG_BODY)),
        )
        .route(
            "/v1/sync",
            post(routes::sync).layer(DefaultBodyLimit::max(routes::MAX_SYNC_BODY)),
        )
        .route(
            "/v1/attachments/status",
            post(attachments::status).layer(DefaultBodyLimit::max(routes::MAX_CONFIG_BODY)),
        )
        .route(
            "/v1/attachments/{hash}",
            get(attachments::download)
                .post(attachments::upload)
                .layer(DefaultBodyLimit::max(attachments::MAX_CHUNK_BYTES)),
        )
        .layer(axum::middleware::from_fn(health::log_request))
        .with_state(state)
}

/// Serves plain HTTP on `listener` until `shutdown` completes, then finishes in-flight
/// requests.
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
