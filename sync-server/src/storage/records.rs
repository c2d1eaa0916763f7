//! The county configuration, request nonces and the access log (SQLite).

use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::{AccessRow, ConfigRows, Installed, StoredConfig};
use crate::ServerError;

pub(super) fn config(conn: &Connection) -> Result<Option<StoredConfig>, ServerError> {
    Ok(conn
        .query_row(
            "SELECT serial, signed_json FROM county_config WHERE id = 1",
            [],
            |r| {
                Ok(StoredConfig {
                    serial: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                    signed_json: r.get(1)?,
                })
            },
        )
        .optional()?)
}

pub(super) fn install_config(
    tx: &Transaction<'_>,
    new: &StoredConfig,
    rows: &ConfigRows,
    now: i64,
) -> Result<Installed, ServerError> {
    if let Some(held) = config(tx)? {
        if held.serial == new.serial && held.signed_json == new.signed_json {
            return Ok(Installed::Unchanged);
        }
        if held.serial >= new.serial {
            return Ok(Installed::Stale { held: held.serial });
        }
    }
    let serial = i64::try_from(new.serial)
        .map_err(|_| ServerError::Config("configuration serial out of range".into()))?;
    tx.execute(
        "INSERT OR REPLACE INTO county_config (id, serial, signed_json, installed_at) VALUES (1, ?1, ?2, ?3)",
        params![serial, new.signed_json, now],
    )?;
    tx.execute("DELETE FROM certificates", [])?;
    tx.execute("DELETE FROM revocations", [])?;
    for (hash, worker_id, body) in &rows.certificates {
        tx.prepare_cached(
            "INSERT OR REPLACE INTO certificates (hash, worker_id, body, config_serial) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![&hash[..], worker_id, body, serial])?;
    }
    for (hash, worker_id, reason, effective_at) in &rows.revocations {
        tx.prepare_cached(
            "INSERT OR REPLACE INTO revocations (certificate_hash, worker_id, reason, effective_at, config_serial)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![&hash[..], worker_id, reason, effective_at, serial])?;
    }
    Ok(Installed::New)
}

pub(super) fn remember_nonce(
    tx: &Transaction<'_>,
    nonce: &[u8; 16],
    signer: &[u8; 32],
    expires_at: i64,
    now: i64,
) -> Result<bool, ServerError> {
    tx.prepare_cached("DELETE FROM request_nonces WHERE expires_at < ?1")?
        .execute([now])?;
    let inserted = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO request_nonces (nonce, signer, expires_at) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![&nonce[..], &signer[..], expires_at])?;
    Ok(inserted == 1)
}

pub(super) fn log_access(
    tx: &Transaction<'_>,
    rows: &[AccessRow],
    at: i64,
) -> Result<(), ServerError> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO access_log (at, worker_id, certificate_hash, action, household_id, changes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for row in rows {
        stmt.execute(params![
            at,
            row.worker_id,
            &row.certificate_hash[..],
            row.action,
            row.household_id,
            i64::try_from(row.changes).unwrap_or(i64::MAX)
        ])?;
    }
    Ok(())
}
