//! One `POST /v1/sync`: version check, push, then pull — the blocking part of the request,
//! run on a blocking thread where a panic is caught (see `routes.rs`).

mod push;

use chrono::{DateTime, Utc};
use ruhu_core::signing::certificate::Scope;
use ruhu_core::sync::county_config::parse_version;
use ruhu_core::sync::{Cursor, HouseholdChanges, SyncRequest, SyncResponse};

use crate::auth::Requester;
use crate::county::CountyState;
use crate::error::ApiError;
use crate::storage::{AccessRow, PullScope};
use crate::timing::ServerTiming;
use crate::AppState;

/// Pull page size when the tablet asks for 0 (no preference).
pub const DEFAULT_PULL_BYTES: u64 = 4 << 20;
/// Smallest and largest pull page sizes the server honours.
pub const MIN_PULL_BYTES: u64 = 1024;
pub const MAX_PULL_BYTES: u64 = 32 << 20;

/// The worker's read scope and the `cursor_villages` that name it.
pub(crate) fn scope_of(requester: &Requester) -> (PullScope, Vec<String>) {
    match &requester.certificate.scope {
        Scope::Villages(villages) => {
            let mut sorted = villages.clone();
            sorted.sort();
            sorted.dedup();
            (PullScope::Villages(sorted.clone()), sorted)
        }
        Scope::County(county) => (PullScope::County(county.clone()), vec![county.clone()]),
    }
}

/// Refuses an app older than the county's minimum.
pub fn check_app_version(county: &CountyState, app_version: &str) -> Result<(), ApiError> {
    let min = parse_version(&county.config.min_app_version);
    match (parse_version(app_version), min) {
        (Some(app), Some(min)) if app >= min => Ok(()),
        (_, None) => Ok(()),
        _ => Err(ApiError::new(
            axum::http::StatusCode::UPGRADE_REQUIRED,
            "sync.app_too_old",
            format!(
                "app version {app_version} is older than the county's minimum {}; update the app",
                county.config.min_app_version
            ),
        )),
    }
}

/// Handles a decoded, authenticated sync request.
pub fn handle(
    state: &AppState,
    county: &CountyState,
    requester: &Requester,
    request: SyncRequest,
    now: DateTime<Utc>,
    timing: &mut ServerTiming,
) -> Result<SyncResponse, ApiError> {
    check_app_version(county, &request.app_version)?;
    let pushed = push::push(state, county, requester, request.push, now, timing)?;

    let (scope, scope_names) = scope_of(requester);
    let epoch = state.storage.epoch();
    let mut reset = false;
    let start = match &request.cursor {
        None => 0,
        Some(c) if c.epoch != epoch => {
            reset = true;
            0
        }
        // A village not covered by the cursor brings its whole history: start over.
        Some(_)
            if !scope_names
                .iter()
                .all(|v| request.cursor_villages.contains(v)) =>
        {
            0
        }
        Some(c) => c.seq,
    };
    let limit = match request.pull_limit_bytes {
        0 => DEFAULT_PULL_BYTES,
        n => n.clamp(MIN_PULL_BYTES, MAX_PULL_BYTES),
    };
    let pull_started = std::time::Instant::now();
    let mut pulled = state.storage.pull(&scope, start, limit, &pushed.accepted)?;
    // The cursor must name an entry this feed holds: a feed restored from a backup (same
    // epoch, fewer or different entries) cannot continue it.
    if let Some(c) = &request.cursor {
        if start == c.seq && c.seq > 0 && pulled.start_hash != Some(c.last_hash) {
            reset = true;
            pulled = state.storage.pull(&scope, 0, limit, &pushed.accepted)?;
        }
    }
    timing.record("pull", pull_started.elapsed());

    // One group per household; a household's changes stay in feed order.
    let mut groups: Vec<HouseholdChanges> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for entry in pulled.entries {
        match index.get(&entry.household_id) {
            Some(&i) => groups[i].changes.push(entry.signed),
            None => {
                index.insert(entry.household_id.clone(), groups.len());
                groups.push(HouseholdChanges {
                    household_id: entry.household_id,
                    changes: vec![entry.signed],
                });
            }
        }
    }
    let access: Vec<AccessRow> = groups
        .iter()
        .map(|g| AccessRow {
            worker_id: requester.certificate.worker_id.clone(),
            certificate_hash: requester.certificate_hash,
            action: "pull",
            household_id: g.household_id.clone(),
            changes: g.changes.len() as u64,
        })
        .collect();
    timing.time("access_log", || {
        state.storage.log_access(&access, now.timestamp())
    })?;
    Ok(SyncResponse {
        cursor: Cursor {
            epoch,
            seq: pulled.cursor,
            last_hash: pulled.cursor_hash,
        },
        cursor_villages: scope_names,
        reset,
        config_serial: county.config.serial,
        outcomes: pushed.outcomes,
        pulled: groups,
        more: pulled.more,
    })
}
