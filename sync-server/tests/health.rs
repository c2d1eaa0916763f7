//! The server on a real loopback socket: health, unknown routes, graceful shutdown, and a
//! stable epoch across restarts.

#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::TcpStream;

use sync_server::{run, AppState, FeedStore, ServerStorage};

fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = response
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_health_on_loopback_and_shuts_down_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let storage = ServerStorage::open(dir.path(), &database_key(dir.path())).unwrap();
    let epoch = storage.epoch_hex();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(run(
        listener,
        AppState::new(
            storage,
            None,
            sync_server::attachments::files::AttachmentFiles::inspect(dir.path()).unwrap(),
        )
        .unwrap(),
        async {
            let _ = stopped.await;
        },
    ));

    let (status, body) = tokio::task::spawn_blocking(move || get(addr, "/v1/health"))
        .await
        .unwrap();
    assert_eq!(status, 200);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["status"], "ok");
    assert_eq!(json["epoch"], epoch.as_str());
    let (status, _) = tokio::task::spawn_blocking(move || get(addr, "/v1/changes"))
        .await
        .unwrap();
    assert_eq!(status, 404, "unbuilt endpoints must not pretend to work");

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    assert!(
        TcpStream::connect(addr).is_err(),
        "listener closed after shutdown"
    );
    // The epoch belongs to the database and survives a restart.
    assert_eq!(
        hex::encode(
            ServerStorage::open(dir.path(), &database_key(dir.path()))
                .unwrap()
                .epoch()
        ),
        epoch
    );
}

fn database_key(data: &std::path::Path) -> sync_server::storage::DatabaseKey {
    let file = sync_server::storage::encryption::default_key_file(data);
    sync_server::storage::DatabaseKey::load_or_create(&file, data).unwrap()
}
