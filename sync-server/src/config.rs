//! Server settings, with defaults that work on a fresh machine.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Where the server listens and keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Listen address. Plain HTTP is allowed only on loopback (or behind a TLS proxy, once
    /// TLS termination is configurable).
    pub listen: SocketAddr,
    /// Data folder: the SQLite database lives here. Never the county authority's key.
    pub data_dir: PathBuf,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8707)),
            data_dir: PathBuf::from("ruhu-server-data"),
        }
    }
}

impl ServerConfig {
    /// Parses `--listen ADDR` and `--data-dir DIR` (both optional).
    pub fn from_args(args: &[String]) -> Result<Self, String> {
        let mut config = Self::default();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--listen" => {
                    let value = it
                        .next()
                        .ok_or("--listen needs an address such as 127.0.0.1:8707")?;
                    config.listen = value
                        .parse()
                        .map_err(|e| format!("--listen {value}: {e}"))?;
                }
                "--data-dir" => {
                    config.data_dir = PathBuf::from(it.next().ok_or("--data-dir needs a folder")?)
                }
                "--help" | "-h" => return Err(USAGE.to_owned()),
                other => return Err(format!("unknown argument {other}\n{USAGE}")),
            }
        }
        if !config.listen.ip().is_loopback() {
            return Err(format!(
                "refusing to serve plain HTTP on {}: only loopback addresses are allowed until TLS is configured",
                config.listen
            ));
        }
        Ok(config)
    }
}

/// Command-line help.
pub const USAGE: &str =
    "usage: sync-server [--listen 127.0.0.1:8707] [--data-dir ruhu-server-data]";

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
                .contains("loopback")
        );
        assert!(ServerConfig::from_args(&args(&["--listen", "nonsense"])).is_err());
        assert!(ServerConfig::from_args(&args(&["--bogus"]))
            .unwrap_err()
            .contains("unknown argument"));
        assert_eq!(
            ServerConfig::from_args(&[]).unwrap(),
            ServerConfig::default()
        );
    }
}
