//! TLS with rustls and the ring provider (no C crypto build): the certificate chain and key
//! from PEM files, and the certificate's pin (SHA-256 of the leaf's DER) that enrollment
//! bundles carry.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum_server::tls_rustls::RustlsConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::{router, AppState, ServerError};

/// A loaded TLS configuration and the pin of its certificate.
#[derive(Debug, Clone)]
pub struct Tls {
    pub config: Arc<rustls::ServerConfig>,
    /// SHA-256 of the leaf certificate's DER, lower-case hex.
    pub pin: String,
}

/// Reads a PEM certificate chain and private key.
pub fn load(cert_file: &Path, key_file: &Path) -> Result<Tls, ServerError> {
    let bad = |what: &str, path: &Path, e: &dyn std::fmt::Display| {
        ServerError::Config(format!("{what} {}: {e}", path.display()))
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert_file)
        .map_err(|e| bad("cannot read TLS certificate", cert_file, &e))?
        .collect::<Result<_, _>>()
        .map_err(|e| bad("cannot read TLS certificate", cert_file, &e))?;
    let leaf = certs.first().ok_or_else(|| {
        ServerError::Config(format!("{} holds no certificate", cert_file.display()))
    })?;
    let pin = hex::encode(ring::digest::digest(&ring::digest::SHA256, leaf.as_ref()));
    let key = PrivateKeyDer::from_pem_file(key_file)
        .map_err(|e| bad("cannot read TLS key", key_file, &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ServerError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| ServerError::Config(format!("TLS certificate and key: {e}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Tls {
        config: Arc::new(config),
        pin,
    })
}

/// Serves HTTPS on `listener` until `shutdown` completes, then finishes in-flight requests
/// (for at most 30 s).
pub async fn run_tls(
    listener: std::net::TcpListener,
    state: AppState,
    tls: &Tls,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    listener.set_nonblocking(true)?;
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        stopper.graceful_shutdown(Some(Duration::from_secs(30)));
    });
    axum_server::from_tcp_rustls(listener, RustlsConfig::from_config(tls.config.clone()))
        .handle(handle)
        .serve(router(state).into_make_service())
        .await?;
    Ok(())
}
