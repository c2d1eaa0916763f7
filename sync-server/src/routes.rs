//! The HTTP handlers of the protocol: `GET`/`POST /v1/config` and `POST /v1/sync`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use ruhu_core::sync::envelope;
use ruhu_core::sync::SyncRequest;
use serde_json::json;

use crate::county::{self, CountyState};
use crate::error::ApiError;
use crate::storage::Installed;
use crate::timing::ServerTiming;
use crate::AppState;

/// Largest accepted sync request body.
pub const MAX_SYNC_BODY: usize = 64 << 20;
/// Largest sync request message after inflating a compressed body.
pub const MAX_SYNC_MESSAGE: usize = 128 << 20;
/// Largest accepted configuration body.
pub const MAX_CONFIG_BODY: usize = 16 << 20;

pub(crate) fn body(result: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    result.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "http.too_large",
                "the request body is over the limit",
            )
        } else {
            ApiError::bad_request("http.bad_body", rejection.body_text())
        }
    })
}

pub(crate) fn current(state: &AppState) -> Result<Arc<CountyState>, ApiError> {
    state.county().ok_or_else(|| {
        ApiError::unavailable(
            "sync.no_config",
            "no county configuration is installed yet; the county authority must POST one to /v1/config",
        )
    })
}

/// Runs blocking work where a panic becomes a 500 instead of taking the server down.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    match tokio::task::spawn_blocking(move || catch_unwind(AssertUnwindSafe(work))).await {
        Ok(Ok(result)) => result,
        Ok(Err(_)) => Err(ApiError::internal(
            "server.panic",
            "a request handler panicked",
        )),
        Err(e) => Err(ApiError::internal("server.panic", e)),
    }
}

/// `GET /v1/config`: the current signed county configuration.
pub async fn get_config(State(state): State<AppState>) -> Response {
    match current(&state) {
        Ok(county) => (
            [(header::CONTENT_TYPE, "application/json")],
            county.signed_json.clone(),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

/// `POST /v1/config`: installs a newer configuration signed by the county authority.
pub async fn post_config(
    State(state): State<AppState>,
    bytes: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let bytes = body(bytes)?;
        let authority = state.authority.clone().ok_or_else(|| {
            ApiError::unavailable(
                "config.no_authority_key",
                "this server has no authority public key; start it with --authority-public-key",
            )
        })?;
        let text = String::from_utf8(bytes.to_vec())
            .map_err(|_| ApiError::bad_request("config.malformed", "not UTF-8"))?;
        let worker_state = state.clone();
        blocking(move || {
            let verified = CountyState::verify(&text, &authority, Some(county::now()))?;
            let (stored, rows) = verified.stored();
            let _serialized = worker_state
                .push_lock
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            match worker_state
                .storage
                .install_config(&stored, &rows, county::now().timestamp())?
            {
                Installed::Stale { held } => Err(ApiError::conflict(
                    "config.stale",
                    format!(
                        "configuration serial {} is not newer than the installed {held}",
                        stored.serial
                    ),
                )),
                installed => {
                    let serial = verified.config.serial;
                    worker_state.set_county(verified);
                    Ok((serial, installed == Installed::New))
                }
            }
        })
        .await
    }
    .await;
    match result {
        Ok((serial, installed)) => {
            if installed {
                tracing::info!(serial, "county configuration installed");
            }
            Json(json!({"serial": serial, "installed": installed})).into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// `POST /v1/sync`: push and pull in one request (binary body, `Ruhu-Auth` header).
pub async fn sync(
    State(state): State<AppState>,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let bytes = body(bytes)?;
        let county = current(&state)?;
        let now = county::now();
        if county.config.expires_at <= now {
            return Err(ApiError::unavailable(
                "sync.config_expired",
                "the county configuration has expired; the county authority must publish a new one",
            ));
        }
        let worker_state = state.clone();
        blocking(move || {
            let mut timing = ServerTiming::default();
            let requester = timing.time("auth", || {
                crate::auth::authenticate(
                    worker_state.storage.as_ref(),
                    &county,
                    &headers,
                    "POST",
                    "/v1/sync",
                    &bytes,
                    now,
                )
            })?;
            let compressed = envelope::is_compressed(&bytes);
            let request = timing
                .time("decode", || {
                    envelope::open(&bytes, MAX_SYNC_MESSAGE)
                        .and_then(|message| SyncRequest::decode(&message))
                })
                .map_err(|e| ApiError::bad_request(e.code(), e.to_string()))?;
            let response = crate::sync::handle(
                &worker_state,
                &county,
                &requester,
                request,
                now,
                &mut timing,
            )?;
            let body = timing.time("encode", || envelope::seal(response.encode(), compressed));
            tracing::debug!(worker = %requester.certificate.worker_id, timing = %timing.header(), "sync served");
            Ok((body, timing))
        })
        .await
    }
    .await;
    match result {
        Ok((body, timing)) => (
            [
                (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
                (HeaderName::from_static("server-timing"), timing.header()),
            ],
            body,
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}
