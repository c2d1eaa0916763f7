//! The county authority stays off the server: its key is refused inside a server's data
//! folder (both by the authority command and by the server), and the command's documents —
//! certificates, revocations, configuration, enrollment bundle — are what the server and the
//! tablets accept.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;

use common::*;
use ruhu_core::sync::enrollment::EnrollmentBundle;
use sync_server::authority::{find_private_keys, init_key};
use sync_server::{open_state, ServerConfig};

fn authority(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_county-authority"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_authority_key_is_refused_inside_a_server_data_folder_both_ways() {
    let data = tempfile::tempdir().unwrap();
    let config = ServerConfig {
        data_dir: data.path().to_path_buf(),
        ..ServerConfig::default()
    };
    drop(open_state(&config).unwrap()); // creates server.db

    // The authority command refuses to write its key there (or below).
    let inside = data.path().join("keys").join("authority.key");
    let err = init_key(&inside, "620102", "county-620102").unwrap_err();
    assert!(err.to_string().contains("server database"), "{err}");
    assert!(!inside.exists());
    let (ok, _, stderr) = authority(&[
        "init",
        "--key-file",
        data.path().join("a.key").to_str().unwrap(),
        "--county",
        "620102",
        "--key-id",
        "k1",
    ]);
    assert!(!ok && stderr.contains("server database"), "{stderr}");

    // The server refuses to start when a key file is found in its data folder...
    let elsewhere = tempfile::tempdir().unwrap();
    let key = elsewhere.path().join("authority.key");
    init_key(&key, "620102", "county-620102").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    std::fs::create_dir_all(data.path().join("backup")).unwrap();
    std::fs::copy(&key, data.path().join("backup").join("copy.json")).unwrap();
    let err = open_state(&config).unwrap_err();
    assert!(err.to_string().contains("private key"), "{err}");
    assert_eq!(find_private_keys(data.path()).len(), 1);
    // ...and starts once it is gone; a key kept elsewhere is no obstacle.
    std::fs::remove_dir_all(data.path().join("backup")).unwrap();
    assert!(open_state(&config).is_ok());
    assert!(key.exists());
}

#[test]
fn the_authority_command_issues_what_the_server_and_tablets_accept() {
    let home = tempfile::tempdir().unwrap();
    let p = |name: &str| home.path().join(name).to_str().unwrap().to_owned();
    let (ok, stdout, stderr) = authority(&[
        "init",
        "--key-file",
        &p("authority.key"),
        "--county",
        "620102",
        "--key-id",
        "county-620102",
    ]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("ruhu-county-authority-public-key/v1"));
    assert!(
        !authority(&[
            "init",
            "--key-file",
            &p("authority.key"),
            "--county",
            "620102",
            "--key-id",
            "x"
        ])
        .0,
        "never overwrites"
    );
    let (ok, _, stderr) = authority(&[
        "public-key",
        "--key-file",
        &p("authority.key"),
        "--out",
        &p("public.json"),
    ]);
    assert!(ok, "{stderr}");

    let tablet = ruhu_core::signing::keys::WorkerSigner::create(
        &ruhu_core::signing::keys::MemoryKeyStore::default(),
        "tablet",
    )
    .unwrap();
    let key_hex = tablet.public_key().to_hex();
    let (ok, _, stderr) = authority(&[
        "certify",
        "--key-file",
        &p("authority.key"),
        "--worker-id",
        "w-0001",
        "--name",
        "刘洋",
        "--roles",
        "case_handler,village_cadre",
        "--villages",
        V1,
        "--public-key",
        &key_hex,
        "--valid-days",
        "30",
        "--out",
        &p("w1.cert.json"),
    ]);
    assert!(ok, "{stderr}");
    let (ok, _, stderr) = authority(&[
        "certify",
        "--key-file",
        &p("authority.key"),
        "--worker-id",
        "w-sup",
        "--name",
        "督导",
        "--roles",
        "county_supervisor",
        "--county-scope",
        "--public-key",
        &key_hex,
        "--out",
        &p("sup.cert.json"),
    ]);
    assert!(ok, "{stderr}");
    let (ok, _, stderr) = authority(&[
        "revoke",
        "--key-file",
        &p("authority.key"),
        "--certificate",
        &p("sup.cert.json"),
        "--reason",
        "left-post",
        "--out",
        &p("rev1.json"),
    ]);
    assert!(ok, "{stderr}");
    let (ok, stdout, stderr) = authority(&[
        "revoke",
        "--key-file",
        &p("authority.key"),
        "--certificate",
        &p("w1.cert.json"),
        "--reason",
        "device-lost",
        "--effective-at",
        "2099-01-01T00:00:00Z",
        "--previous",
        &p("rev1.json"),
    ]);
    assert!(ok, "{stderr}");
    std::fs::write(p("rev2.json"), &stdout).unwrap();
    let (ok, _, stderr) = authority(&[
        "config",
        "--key-file",
        &p("authority.key"),
        "--serial",
        "1",
        "--min-app-version",
        "0.1.0",
        "--valid-days",
        "30",
        "--policy",
        "national-minimum",
        "--certificate",
        &p("w1.cert.json"),
        "--certificate",
        &p("sup.cert.json"),
        "--revocations",
        &p("rev2.json"),
        "--out",
        &p("config.json"),
    ]);
    assert!(ok, "{stderr}");
    let (ok, stdout, stderr) = authority(&[
        "enroll",
        "--key-file",
        &p("authority.key"),
        "--server-url",
        "http://127.0.0.1:8707",
        "--server-pin",
        "loopback-plain",
        "--certificate",
        &p("w1.cert.json"),
    ]);
    assert!(ok, "{stderr}");
    let bundle = EnrollmentBundle::parse(&stdout).unwrap();
    assert_eq!(bundle.authority.county_code, "620102");
    assert!(
        !authority(&[
            "enroll",
            "--key-file",
            &p("authority.key"),
            "--server-url",
            "http://example.org",
            "--server-pin",
            "loopback-plain",
            "--certificate",
            &p("w1.cert.json")
        ])
        .0,
        "plain HTTP only on loopback"
    );
    assert_eq!(bundle.server_url, "http://127.0.0.1:8707");

    // The server (holding only the public key) installs the configuration.
    let data = tempfile::tempdir().unwrap();
    let config = ServerConfig {
        data_dir: data.path().to_path_buf(),
        authority_public_key: Some(home.path().join("public.json")),
        ..ServerConfig::default()
    };
    let state = open_state(&config).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    runtime.spawn(sync_server::run(listener, state, std::future::pending()));
    let body = std::fs::read(p("config.json")).unwrap();
    let (status, response) = http(
        addr,
        "POST",
        "/v1/config",
        &[("content-type", "application/json")],
        &body,
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&response));
    let stored = dump(data.path(), &["certificates", "revocations"]);
    assert_eq!(stored["certificates"].len(), 2);
    assert_eq!(stored["revocations"].len(), 2);
    // An over-large body is refused with 413.
    let big = vec![b' '; sync_server_max_config() + 1];
    let (status, response) = http(addr, "POST", "/v1/config", &[], &big);
    assert_eq!(status, 413, "{}", String::from_utf8_lossy(&response));
    assert!(String::from_utf8_lossy(&response).contains("http.too_large"));
}

fn sync_server_max_config() -> usize {
    16 << 20
}
