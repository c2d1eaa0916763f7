//! The server's database is encrypted at rest: after tablets sync households into it, no
//! file of the data folder holds a household's ID numbers or names, the key is outside the
//! folder, and the database opens only with that key.
#![allow(clippy::unwrap_used)]

use ruhu_core::signing::certificate::Role;
use ruhu_tests::*;

fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn synced_households_leave_no_readable_trace_in_the_data_folder() {
    let county = County::new();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data, &county);
    let mut tablet = Tablet::enroll(&county, &server.url(), "w-h", &[Role::CaseHandler], &[V1]);
    install_config(
        &server.url(),
        &county.config_json(vec![tablet.certificate.clone()], None),
    );
    let record = tablet
        .store
        .create_household(ruhu_core::fixtures::household(21, V1, 4))
        .unwrap();
    let report = tablet.sync().unwrap();
    assert!(report.pushed_changes > 0 && report.not_accepted.is_empty());
    // While the server runs (database and WAL both on disk) and after it stops.
    for running in [true, false] {
        let files = files_under(&data);
        assert!(files.iter().any(|f| f.ends_with("server.db")));
        for member in record.members.values() {
            for secret in [member.id_number.as_bytes(), member.name.as_bytes()] {
                for file in &files {
                    let bytes = std::fs::read(file).unwrap();
                    assert!(
                        !bytes.windows(secret.len()).any(|w| w == secret),
                        "{} holds {} (server running: {running})",
                        file.display(),
                        String::from_utf8_lossy(secret)
                    );
                }
            }
        }
        if running {
            server.stop();
            break;
        }
    }
    // The key is beside the data folder, not in it, and opens the database.
    let key = sync_server::storage::encryption::default_key_file(&data);
    assert!(key.exists() && !key.starts_with(&data));
    let conn = sync_server::storage::ServerStorage::inspect(&data).unwrap();
    let households: i64 = conn
        .query_row("SELECT count(*) FROM households", [], |r| r.get(0))
        .unwrap();
    assert_eq!(households, 1);
    // Without the key the file is not a database.
    let bare = rusqlite::Connection::open(data.join("server.db")).unwrap();
    assert!(bare
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r
            .get::<_, i64>(0))
        .is_err());
}
