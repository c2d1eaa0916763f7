//! The outbox: local changes the server has not accepted yet, and the signatures of every
//! change the store holds.
//!
//! Every change this store writes is queued here in the same transaction as its chunk, and
//! signed with the worker's key when a signing identity is set (otherwise when one is set).
//! A change leaves the outbox only when the server has accepted it; its signature stays, so
//! the change can still be passed to a colleague or pushed again after a server reset.

use automerge::Change;
use rusqlite::{params, OptionalExtension, Transaction};

use crate::error::Result;
use crate::household::HouseholdDocument;
use crate::signing::certificate::SignedCertificate;
use crate::signing::keys::WorkerSigner;
use crate::sync::signatures::sign_change;

/// The worker who signs this store's changes.
#[derive(Debug)]
pub struct SigningIdentity {
    pub signer: WorkerSigner,
    pub certificate: SignedCertificate,
    pub certificate_hash: [u8; 32],
    pub worker_id: String,
}

/// Queues `changes` (this store's own) and signs them if an identity is set.
pub(crate) fn record_local(
    tx: &Transaction<'_>,
    household_id: &str,
    changes: &[Change],
    identity: Option<&SigningIdentity>,
    now: i64,
) -> Result<()> {
    let mut queue = tx.prepare_cached(
        "INSERT OR IGNORE INTO outbox (household_id, hash, created_at, change, signer, signature)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for change in changes {
        let hash = change.hash().0;
        let signed = identity.map(|id| {
            sign_change(
                &id.signer,
                id.certificate_hash,
                household_id,
                &hash,
                Vec::new(),
            )
        });
        queue.execute(params![
            household_id,
            &hash[..],
            now,
            change.raw_bytes(),
            signed.as_ref().map(|s| s.signer.to_vec()),
            signed.as_ref().map(|s| s.signature.to_vec()),
        ])?;
        if let Some(signed) = signed {
            store_signature(tx, household_id, &hash, &signed.signer, &signed.signature)?;
        }
    }
    Ok(())
}

/// Records a change's signature (own or received).
pub(crate) fn store_signature(
    tx: &Transaction<'_>,
    household_id: &str,
    hash: &[u8; 32],
    signer: &[u8; 32],
    signature: &[u8; 64],
) -> Result<()> {
    tx.prepare_cached(
        "INSERT OR IGNORE INTO change_signatures (hash, household_id, signer, signature) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![&hash[..], household_id, &signer[..], &signature[..]])?;
    Ok(())
}

/// The signature of a change, if the store has one.
pub(crate) fn signature_of(
    tx: &rusqlite::Connection,
    hash: &[u8; 32],
) -> Result<Option<([u8; 32], [u8; 64])>> {
    let row: Option<(Vec<u8>, Vec<u8>)> = tx
        .prepare_cached("SELECT signer, signature FROM change_signatures WHERE hash = ?1")?
        .query_row([&hash[..]], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(row.and_then(|(signer, signature)| {
        Some((signer.try_into().ok()?, signature.try_into().ok()?))
    }))
}

/// Gives every queued change without a signature in the outbox the one the store holds, and
/// signs the rest (queued before an identity was set). Only rows without a signature are
/// looked up, so a push of signed changes reads the outbox alone.
pub(crate) fn sign_pending(tx: &Transaction<'_>, identity: &SigningIdentity) -> Result<usize> {
    tx.prepare_cached(
        "UPDATE outbox SET signer = s.signer, signature = s.signature
         FROM change_signatures s WHERE s.hash = outbox.hash AND outbox.signature IS NULL",
    )?
    .execute([])?;
    let pending: Vec<(String, Vec<u8>)> = tx
        .prepare_cached(
            "SELECT household_id, hash FROM outbox WHERE signature IS NULL ORDER BY seq",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut signed = 0;
    for (household_id, hash) in pending {
        let Ok(hash) = <[u8; 32]>::try_from(hash.as_slice()) else {
            continue;
        };
        let s = sign_change(
            &identity.signer,
            identity.certificate_hash,
            &household_id,
            &hash,
            Vec::new(),
        );
        store_signature(tx, &household_id, &hash, &s.signer, &s.signature)?;
        tx.prepare_cached("UPDATE outbox SET signer = ?2, signature = ?3 WHERE hash = ?1")?
            .execute(params![&hash[..], &s.signer[..], &s.signature[..]])?;
        signed += 1;
    }
    Ok(signed)
}

/// Migration to version 5: queue every change of every stored household made by one of this
/// store's actors (none of them has reached a server before version 5).
pub(crate) fn queue_existing_local_changes(tx: &Transaction<'_>) -> Result<()> {
    let actors: Vec<Vec<u8>> = tx
        .prepare("SELECT actor_id FROM actors")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let ids: Vec<String> = tx
        .prepare("SELECT id FROM households")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let now = chrono::Utc::now().timestamp();
    for id in ids {
        let chunks = super::chunks::read(tx, &id)?;
        let refs: Vec<&[u8]> = chunks.iter().map(|(_, b)| b.as_slice()).collect();
        let mut doc = HouseholdDocument::load(&id, &refs, automerge::ActorId::random())?;
        let own: Vec<Change> = doc
            .automerge()
            .get_changes(&[])
            .into_iter()
            .filter(|c| {
                actors
                    .iter()
                    .any(|a| a.as_slice() == c.actor_id().to_bytes())
            })
            .collect();
        record_local(tx, &id, &own, None, now)?;
    }
    Ok(())
}
