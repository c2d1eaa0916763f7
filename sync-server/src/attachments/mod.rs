//! The attachment endpoints (photos, signature images), beside `POST /v1/sync`:
//!
//! - `POST /v1/attachments/status` — which of these hashes does the server hold, and how much
//!   of each (one round trip before uploading, so the same photo is never sent twice);
//! - `POST /v1/attachments/{hash}?size=S&offset=O` — one chunk of an upload, appended at
//!   `offset` (which must be what the server holds); the last chunk completes it only if the
//!   whole hashes to `hash`;
//! - `GET /v1/attachments/{hash}` — the bytes, to a worker whose scope holds a household that
//!   references them (recorded in the access log as a pull of that household).
//!
//! Every request carries `Ruhu-Auth` over its method, path (with the query) and body.

pub mod files;
pub mod sealed;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use crate::auth::{authenticate, Requester};
use crate::error::ApiError;
use crate::routes::{blocking, body, current};
use crate::storage::AccessRow;
use crate::AppState;
use files::{AttachmentError, Progress};

/// Largest chunk of one upload request.
pub const MAX_CHUNK_BYTES: usize = 8 << 20;
/// Most hashes one status request may ask about.
pub const MAX_STATUS_HASHES: usize = 10_000;

fn parse_hash(text: &str) -> Result<[u8; 32], ApiError> {
    hex::decode(text)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .filter(|_| text.bytes().all(|b| !b.is_ascii_uppercase()))
        .ok_or_else(|| {
            ApiError::bad_request(
                "attachment.bad_hash",
                "an attachment is named by its SHA-256 in 64 lower-case hex digits",
            )
        })
}

impl From<AttachmentError> for ApiError {
    fn from(e: AttachmentError) -> Self {
        let detail = e.to_string();
        match e {
            AttachmentError::TooLarge { .. } => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "attachment.too_large",
                detail,
            ),
            AttachmentError::Empty => ApiError::bad_request("attachment.empty", detail),
            AttachmentError::OffsetMismatch { .. } => {
                ApiError::conflict("attachment.offset_mismatch", detail)
            }
            AttachmentError::PastEnd { .. } => ApiError::bad_request("attachment.past_end", detail),
            AttachmentError::SizeMismatch { .. } => {
                ApiError::conflict("attachment.size_mismatch", detail)
            }
            AttachmentError::HashMismatch => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "attachment.hash_mismatch",
                detail,
            ),
            AttachmentError::Corrupt => ApiError::internal("attachment.corrupt", detail),
            AttachmentError::Sealing => ApiError::internal("attachment.sealing", detail),
            AttachmentError::Io(e) => ApiError::internal("server.storage", e),
        }
    }
}

fn progress_json(hash: &[u8; 32], p: Progress) -> serde_json::Value {
    let size = match p {
        Progress::Absent => None,
        Progress::Partial { size, .. } | Progress::Complete { size } => Some(size),
    };
    json!({"hash": hex::encode(hash), "received": p.received(), "size": size, "complete": p.is_complete()})
}

fn authenticated(
    state: &AppState,
    headers: &HeaderMap,
    method: &str,
    path: &str,
    bytes: &[u8],
) -> Result<(Requester, std::sync::Arc<crate::county::CountyState>), ApiError> {
    let county = current(state)?;
    let now = crate::county::now();
    let requester = authenticate(
        state.storage.as_ref(),
        &county,
        headers,
        method,
        path,
        bytes,
        now,
    )?;
    Ok((requester, county))
}

#[derive(Deserialize)]
struct StatusRequest {
    hashes: Vec<String>,
}

/// `POST /v1/attachments/status`.
pub async fn status(
    State(state): State<AppState>,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let bytes = body(bytes)?;
        blocking(move || {
            authenticated(&state, &headers, "POST", "/v1/attachments/status", &bytes)?;
            let request: StatusRequest = serde_json::from_slice(&bytes)
                .map_err(|e| ApiError::bad_request("attachment.bad_request", e.to_string()))?;
            if request.hashes.len() > MAX_STATUS_HASHES {
                return Err(ApiError::bad_request(
                    "attachment.too_many",
                    format!("at most {MAX_STATUS_HASHES} hashes per request"),
                ));
            }
            let mut out = Vec::with_capacity(request.hashes.len());
            for text in &request.hashes {
                let hash = parse_hash(text)?;
                let progress = state
                    .attachments
                    .progress(&hash)
                    .map_err(|e| ApiError::internal("server.storage", e))?;
                out.push(progress_json(&hash, progress));
            }
            Ok(json!({"attachments": out}))
        })
        .await
    }
    .await;
    match result {
        Ok(body) => Json(body).into_response(),
        Err(e) => e.into_response(),
    }
}

/// `size` and `offset` from the query string (both required, decimal).
fn chunk_query(uri: &Uri) -> Result<(u64, u64), ApiError> {
    let (mut size, mut offset) = (None, None);
    for pair in uri.query().unwrap_or_default().split('&') {
        match pair.split_once('=') {
            Some(("size", v)) => size = v.parse().ok(),
            Some(("offset", v)) => offset = v.parse().ok(),
            _ => {}
        }
    }
    size.zip(offset).ok_or_else(|| {
        ApiError::bad_request(
            "attachment.bad_request",
            "the query must give size and offset as decimal numbers",
        )
    })
}

/// `POST /v1/attachments/{hash}?size=S&offset=O`.
pub async fn upload(
    State(state): State<AppState>,
    Path(hash): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let bytes = body(bytes)?;
        let (size, offset) = chunk_query(&uri)?;
        let hash = parse_hash(&hash)?;
        let path = uri
            .path_and_query()
            .map_or_else(|| uri.path().to_owned(), |p| p.as_str().to_owned());
        blocking(move || {
            let (requester, _) = authenticated(&state, &headers, "POST", &path, &bytes)?;
            if !requester.may_push() {
                return Err(ApiError::forbidden(
                    "sync.read_only",
                    format!(
                        "{} may read but not write attachments",
                        requester.certificate.worker_id
                    ),
                ));
            }
            let progress = state.attachments.append(&hash, size, offset, &bytes)?;
            if progress.is_complete() && offset.checked_add(bytes.len() as u64) == Some(size) {
                tracing::info!(
                    worker = %requester.certificate.worker_id,
                    size,
                    "attachment received"
                );
            }
            Ok(progress_json(&hash, progress))
        })
        .await
    }
    .await;
    match result {
        Ok(body) => Json(body).into_response(),
        Err(e) => e.into_response(),
    }
}

/// `GET /v1/attachments/{hash}`.
pub async fn download(
    State(state): State<AppState>,
    Path(hash): Path<String>,
    headers: HeaderMap,
) -> Response {
    let result = async {
        let hash = parse_hash(&hash)?;
        let path = format!("/v1/attachments/{}", hex::encode(hash));
        blocking(move || {
            let (requester, _) = authenticated(&state, &headers, "GET", &path, &[])?;
            let (scope, _) = crate::sync::scope_of(&requester);
            let not_found = || {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    "attachment.not_found",
                    "no household in your villages references this attachment, or the server does not hold it yet",
                )
            };
            let household = state
                .storage
                .attachment_in_scope(&hash, &scope)?
                .ok_or_else(not_found)?;
            let bytes = state.attachments.read(&hash)?.ok_or_else(not_found)?;
            state.storage.log_access(
                &[AccessRow {
                    worker_id: requester.certificate.worker_id.clone(),
                    certificate_hash: requester.certificate_hash,
                    action: "pull",
                    household_id: household,
                    changes: 0,
                }],
                crate::county::now().timestamp(),
            )?;
            Ok(bytes)
        })
        .await
    }
    .await;
    match result {
        Ok(bytes) => ([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response(),
        Err(e) => e.into_response(),
    }
}
