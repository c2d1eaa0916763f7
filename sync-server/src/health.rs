//! The health endpoint and request logging.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::AppState;

/// `GET /v1/health`: 200 with the epoch when the database answers, 503 otherwise.
pub async fn health(State(state): State<AppState>) -> Response {
    let storage = state.storage.clone();
    let ok = tokio::task::spawn_blocking(move || storage.check()).await;
    match ok {
        Ok(Ok(true)) => Json(json!({
            "status": "ok",
            "epoch": hex::encode(state.storage.epoch()),
            "config_serial": state.county().map(|c| c.config.serial),
            "version": env!("CARGO_PKG_VERSION"),
        }))
        .into_response(),
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "storage unavailable"})),
        )
            .into_response(),
    }
}

/// Logs method, path, status and duration of every request (never bodies: they hold
/// personal data).
pub async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    tracing::info!(%method, %path, status = response.status().as_u16(), micros = started.elapsed().as_micros() as u64, "request");
    response
}
