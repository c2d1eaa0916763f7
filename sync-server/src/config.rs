//! Server settings, with defaults that work on a fresh machine.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Where the server listens, keeps its data, and how it is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Listen address. Plain HTTP is allowed only on loopback, or off loopback with
    /// `--behind-tls-proxy`; otherwise TLS is required.
    pub listen: SocketAddr,
    /// Data folder: the SQLite database lives here. Never the county authority's key.
    pub data_dir: PathBuf,
    /// PEM certificate chain and private key for TLS.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Plain HTTP off loopback because a TLS proxy in front terminates TLS.
    pub behind_tls_proxy: bool,
    /// The authority's public key file (default: `authority-public-key.json` in the data
    /// folder, if present).
    pub authority_public_key: Option<PathBuf>,
    /// Largest attachment accepted, in bytes.
    pub max_attachment_bytes: u64,
    /// The database key file (default: `ruhu-server-keys/database.key` beside the data
    /// folder; never inside it).
    pub database_key_file: Option<PathBuf>,
    /// Household documents kept in memory (a county's changed households should fit: a
    /// document loaded from storage costs far more than a cached one; ~0.1–1 MB each).
    pub cached_households: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8707)),
            data_dir: PathBuf::from("ruhu-server-data"),
            tls: None,
            behind_tls_proxy: false,
            authority_public_key: None,
            max_attachment_bytes: crate::attachments::files::DEFAULT_MAX_ATTACHMENT_BYTES,
            database_key_file: None,
            cached_households: crate::DEFAULT_CACHED_HOUSEHOLDS,
        }
    }
}

impl ServerConfig {
    /// The database key file in use.
    pub fn database_key_path(&self) -> PathBuf {
        self.database_key_file
            .clone()
            .unwrap_or_else(|| crate::storage::encryption::default_key_file(&self.data_dir))
    }

    /// Parses the command line (every argument optional; see [`USAGE`]).
    pub fn from_args(args: &[String]) -> Result<Self, String> {
        let mut config = Self::default();
        let (mut cert, mut key) = (None, None);
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let mut value = |what: &str| {
                it.next()
                    .cloned()
                    .ok_or_else(|| format!("{arg} needs {what}\n{USAGE}"))
            };
            match arg.as_str() {
                "--listen" => {
                    let v = value("an address such as 127.0.0.1:8707")?;
                    config.listen = v.parse().map_err(|e| format!("--listen {v}: {e}"))?;
                }
                "--data-dir" => config.data_dir = PathBuf::from(value("a folder")?),
                "--tls-cert" => cert = Some(PathBuf::from(value("a PEM file")?)),
                "--tls-key" => key = Some(PathBuf::from(value("a PEM file")?)),
                "--authority-public-key" => {
                    config.authority_public_key = Some(PathBuf::from(value("a file")?))
                }
                "--behind-tls-proxy" => config.behind_tls_proxy = true,
                "--cached-households" => {
                    let v = value("a number of households")?;
                    config.cached_households = v
                        .parse()
                        .ok()
                        .filter(|n| (1..=1_000_000).contains(n))
                        .ok_or_else(|| {
                            format!("--cached-households {v}: a whole number, 1 to 1000000")
                        })?;
                }
                "--database-key-file" => {
                    config.database_key_file = Some(PathBuf::from(value("a file")?))
                }
                "--max-attachment-mb" => {
                    let v = value("a size in MiB")?;
                    let mb: u64 = v
                        .parse()
                        .ok()
                        .filter(|mb| (1..=1024).contains(mb))
                        .ok_or_else(|| {
                            format!("--max-attachment-mb {v}: a whole number of MiB, 1 to 1024")
                        })?;
                    config.max_attachment_bytes = mb << 20;
                }
                "--help" | "-h" => return Err(USAGE.to_owned()),
                other => return Err(format!("unknown argument {other}\n{USAGE}")),
            }
        }
        config.tls = match (cert, key) {
            (Some(c), Some(k)) => Some((c, k)),
            (None, None) => None,
            _ => return Err("--tls-cert and --tls-key go together".into()),
        };
        if config.tls.is_none() && !config.listen.ip().is_loopback() && !config.behind_tls_proxy {
            return Err(format!(
                "refusing to serve plain HTTP on {}: give --tls-cert and --tls-key, or --behind-tls-proxy when a TLS proxy in front terminates TLS",
                config.listen
            ));
        }
        Ok(config)
    }
}

/// Command-line help.
pub const USAGE: &str = "usage: sync-server [--listen 127.0.0.1:8707] [--data-dir ruhu-server-data]
                   [--tls-cert cert.pem --tls-key key.pem] [--behind-tls-proxy]
                   [--authority-public-key FILE] [--max-attachment-mb 32]
                   [--database-key-file ruhu-server-keys/database.key] [--cached-households 4096]";

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_arguments_and_refuses_plain_http_off_loopback() {
        let c = ServerConfig::from_args(&args(&[
            "--listen",
            "127.0.0.1:9000",
            "--data-dir",
            "/tmp/x",
        ]))
        .unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.data_dir, PathBuf::from("/tmp/x"));
        assert!(
            ServerConfig::from_args(&args(&["--listen", "0.0.0.0:9000"]))
                .unwrap_err()
                .contains("plain HTTP")
        );
        let proxied =
            ServerConfig::from_args(&args(&["--listen", "0.0.0.0:9000", "--behind-tls-proxy"]))
                .unwrap();
        assert!(proxied.behind_tls_proxy);
        let tls = ServerConfig::from_args(&args(&[
            "--listen",
            "0.0.0.0:9443",
            "--tls-cert",
            "c.pem",
            "--tls-key",
            "k.pem",
        ]))
        .unwrap();
        assert_eq!(tls.tls, Some(("c.pem".into(), "k.pem".into())));
        assert!(ServerConfig::from_args(&args(&["--tls-cert", "c.pem"])).is_err());
        assert!(ServerConfig::from_args(&args(&["--listen", "nonsense"])).is_err());
        assert!(ServerConfig::from_args(&args(&["--bogus"]))
            .unwrap_err()
            .contains("unknown argument"));
        assert_eq!(
            ServerConfig::from_args(&[]).unwrap(),
            ServerConfig::default()
        );
    }

    #[test]
    fn the_document_cache_is_sized_on_the_command_line() {
        let c = ServerConfig::from_args(&args(&["--cached-households", "8192"])).unwrap();
        assert_eq!(c.cached_households, 8192);
        for bad in ["0", "-1", "many", "2000000"] {
            let e = ServerConfig::from_args(&args(&["--cached-households", bad])).unwrap_err();
            assert!(e.contains("--cached-households"), "{e}");
        }
    }
}
