//! What sync needs from the tablet store: the signing identity, the cursor, the county
//! configuration, the changes to push, the ingest of pulled changes (with the same checks as
//! the server), the server's verdicts, rebase after a rejection, and erasing the tablet.

use std::collections::HashMap;

use automerge::{AutoCommit, ChangeHash};
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

use super::outbox::{self, SigningIdentity};
use super::Store;
use crate::error::{Error, FieldError, Result};
use crate::household::HouseholdDocument;
use crate::signing::attestation::Trust;
use crate::signing::certificate::{SignedCertificate, WorkerCertificate};
use crate::signing::keys::WorkerSigner;
use crate::sync::ingest::{ingest, IngestContext, Ingested};
use crate::sync::{
    Cursor, HouseholdChanges, HouseholdOutcome, OutcomeKind, SignedChange, SignedCountyConfig,
};
use crate::visit::policy::VisitPolicy;

const CURSOR_KEY: &str = "cursor";
const CURSOR_VILLAGES_KEY: &str = "cursor_villages";
const CONFIG_KEY: &str = "county_config";
const CONFIG_SERIAL_KEY: &str = "county_config_serial";
const COUNTY_KEY: &str = "county_code";

/// The feed position and the villages it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncCursor {
    pub cursor: Cursor,
    pub villages: Vec<String>,
}

/// A household the server did not simply accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HouseholdSyncStatus {
    pub household_id: String,
    /// `rejected`, `held` or `flagged`.
    pub kind: String,
    pub code: String,
    pub detail: String,
    pub updated_at: i64,
}

/// Everything the ingest checks need from the store, loaded once per sync.
#[derive(Debug, Clone)]
pub struct IngestInputs {
    pub trust: Trust,
    pub certificates: HashMap<[u8; 32], WorkerCertificate>,
    pub policy: VisitPolicy,
}

fn sync_error(code: &str, detail: impl Into<String>) -> Error {
    Error::Sync {
        code: code.to_owned(),
        detail: detail.into(),
        retry_after_seconds: None,
    }
}

/// A change waiting in the outbox: its hash, its bytes (none when queued before schema
/// version 6) and its signature (none until a signing identity is set).
#[derive(Debug)]
struct QueuedChange {
    hash: [u8; 32],
    change: Option<Vec<u8>>,
    signature: Option<([u8; 32], [u8; 64])>,
}

impl Store {
    /// Sets the worker who signs this store's changes: their key (from the host key store) and
    /// their certificate, which must be signed by the trusted authority and name that key.
    /// Signs every queued change that is not signed yet.
    pub fn set_signing_identity(
        &mut self,
        signer: WorkerSigner,
        certificate: SignedCertificate,
    ) -> Result<()> {
        let cert = self.add_certificate(&certificate)?;
        if cert.public_key != signer.public_key() {
            return Err(Error::invalid(FieldError::new(
                "certificate",
                "identity.key_mismatch",
                "the certificate does not certify this device's key",
            )));
        }
        if cert.worker_id != self.config.worker_id {
            return Err(Error::invalid(
                FieldError::new(
                    "certificate",
                    "identity.worker_mismatch",
                    "the certificate is for another worker",
                )
                .with("worker_id", &cert.worker_id),
            ));
        }
        let identity = SigningIdentity {
            certificate_hash: certificate.hash(),
            worker_id: cert.worker_id,
            signer,
            certificate,
        };
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT OR REPLACE INTO actor_workers (actor, worker_id) VALUES (?1, ?2)",
            params![self.actor.to_bytes(), identity.worker_id],
        )?;
        outbox::sign_pending(&tx, &identity)?;
        tx.commit()?;
        self.identity = Some(identity);
        Ok(())
    }

    /// The signing identity, once set.
    pub fn signing_identity(&self) -> Option<&SigningIdentity> {
        self.identity.as_ref()
    }

    pub(crate) fn state_get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM sync_state WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?)
    }

    pub(crate) fn state_set(conn: &rusqlite::Connection, key: &str, value: &[u8]) -> Result<()> {
        conn.prepare_cached("INSERT INTO sync_state (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2")?
            .execute(params![key, value])?;
        Ok(())
    }

    /// The stored feed cursor.
    pub fn sync_cursor(&self) -> Result<Option<SyncCursor>> {
        let Some(bytes) = self.state_get(CURSOR_KEY)? else {
            return Ok(None);
        };
        let malformed = || Error::Document("stored cursor is malformed".into());
        if bytes.len() != 56 {
            return Err(malformed());
        }
        let epoch: [u8; 16] = bytes[..16].try_into().map_err(|_| malformed())?;
        let seq = u64::from_be_bytes(bytes[16..24].try_into().map_err(|_| malformed())?);
        let last_hash: [u8; 32] = bytes[24..].try_into().map_err(|_| malformed())?;
        let villages: Vec<String> = match self.state_get(CURSOR_VILLAGES_KEY)? {
            Some(v) => serde_json::from_slice(&v).map_err(|e| Error::Document(e.to_string()))?,
            None => Vec::new(),
        };
        Ok(Some(SyncCursor {
            cursor: Cursor {
                epoch,
                seq,
                last_hash,
            },
            villages,
        }))
    }

    /// Stores the cursor (after the pulled changes it covers are durable).
    pub fn set_sync_cursor(&mut self, cursor: &SyncCursor) -> Result<()> {
        let tx = self.conn.transaction()?;
        let mut bytes = cursor.cursor.epoch.to_vec();
        bytes.extend_from_slice(&cursor.cursor.seq.to_be_bytes());
        bytes.extend_from_slice(&cursor.cursor.last_hash);
        Self::state_set(&tx, CURSOR_KEY, &bytes)?;
        let villages =
            serde_json::to_vec(&cursor.villages).map_err(|e| Error::Document(e.to_string()))?;
        Self::state_set(&tx, CURSOR_VILLAGES_KEY, &villages)?;
        tx.commit()?;
        Ok(())
    }

    /// Forgets the cursor and queues every change of every household for pushing again (the
    /// server was restored from a backup or replaced and may lack them).
    pub fn reset_sync(&mut self) -> Result<()> {
        let ids: Vec<String> = self
            .conn
            .prepare("SELECT id FROM households")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let now = Utc::now().timestamp();
        let mut queued = Vec::new();
        for id in ids {
            let cached = self.load(&id)?;
            let hashes: Vec<[u8; 32]> = cached
                .doc
                .automerge()
                .get_changes(&[])
                .iter()
                .map(|c| c.hash().0)
                .collect();
            queued.push((id, hashes));
        }
        let tx = self.conn.transaction()?;
        tx.execute(
            "DELETE FROM sync_state WHERE key IN (?1, ?2)",
            params![CURSOR_KEY, CURSOR_VILLAGES_KEY],
        )?;
        for (id, hashes) in queued {
            for hash in hashes {
                tx.prepare_cached("INSERT OR IGNORE INTO outbox (household_id, hash, created_at) VALUES (?1, ?2, ?3)")?
                    .execute(params![id, &hash[..], now])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Serial of the county configuration installed (0 for none).
    pub fn config_serial(&self) -> Result<u64> {
        Ok(self
            .state_get(CONFIG_SERIAL_KEY)?
            .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
            .map_or(0, u64::from_be_bytes))
    }

    /// The county this store belongs to (set at enrollment).
    pub fn county_code(&self) -> Result<Option<String>> {
        Ok(self
            .state_get(COUNTY_KEY)?
            .and_then(|b| String::from_utf8(b).ok()))
    }

    /// Records the county at enrollment (once).
    pub fn set_county_code(&mut self, county: &str) -> Result<()> {
        match self.county_code()? {
            Some(existing) if existing != county => Err(Error::invalid(FieldError::new(
                "county_code",
                "enrollment.other_county",
                "this store already belongs to another county",
            ))),
            _ => Self::state_set(&self.conn, COUNTY_KEY, county.as_bytes()),
        }
    }

    /// Verifies and installs a county configuration: certificates, revocations and visit
    /// policy. Refused (changing nothing) when unsigned, for another county, older than the
    /// one installed, or expired.
    pub fn install_county_config(
        &mut self,
        signed: &SignedCountyConfig,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let trust = self.trust()?;
        let county = self
            .county_code()?
            .ok_or_else(|| sync_error("sync.not_enrolled", "import an enrollment bundle first"))?;
        let config = signed
            .accept(&trust.authority_key, &county, self.config_serial()?, now)
            .map_err(|e| sync_error(e.code(), e.to_string()))?;
        for cert in &config.certificates {
            self.add_certificate(cert)?;
        }
        if let Some(list) = &config.revocations {
            let newer = trust.revocations.as_ref().is_none_or(|held| {
                list.verify(&trust.authority_key)
                    .map(|l| l.serial > held.serial)
                    .unwrap_or(false)
            });
            if newer {
                self.set_revocations(list)?;
            }
        }
        self.set_visit_policy(&config.visit_policy)?;
        let json = serde_json::to_vec(signed).map_err(|e| Error::Document(e.to_string()))?;
        let tx = self.conn.transaction()?;
        Self::state_set(&tx, CONFIG_KEY, &json)?;
        Self::state_set(&tx, CONFIG_SERIAL_KEY, &config.serial.to_be_bytes())?;
        tx.commit()?;
        Ok(config.serial)
    }

    /// The installed county configuration.
    pub fn county_config(&self) -> Result<Option<SignedCountyConfig>> {
        self.state_get(CONFIG_KEY)?
            .map(|b| serde_json::from_slice(&b).map_err(|e| Error::Document(e.to_string())))
            .transpose()
    }

    /// Trust, verified certificates and policy, for checking pulled changes.
    pub fn ingest_inputs(&self) -> Result<IngestInputs> {
        let trust = self.trust()?;
        let rows: Vec<(Vec<u8>, Vec<u8>)> = self
            .conn
            .prepare("SELECT body, signature FROM certificates")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut certificates = HashMap::new();
        for (body_bytes, signature) in rows {
            let Ok(signature) = <[u8; 64]>::try_from(signature.as_slice()) else {
                continue;
            };
            let signed = SignedCertificate {
                body_bytes,
                signature,
            };
            if let Ok(cert) = signed.verify(&trust.authority_key) {
                certificates.insert(signed.hash(), cert);
            }
        }
        Ok(IngestInputs {
            trust,
            certificates,
            policy: self.visit_policy()?,
        })
    }

    /// Unsynced local changes with their signatures, grouped by household, oldest first; at
    /// most `max_bytes` of change bytes (a household's changes are never split). Households
    /// the server rejected wait for a rebase and are not pushed.
    pub fn pending_push(&mut self, max_bytes: usize) -> Result<Vec<HouseholdChanges>> {
        if let Some(identity) = &self.identity {
            let tx = self.conn.transaction()?;
            outbox::sign_pending(&tx, identity)?;
            tx.commit()?;
        }
        type Row = (
            String,
            Vec<u8>,
            Option<Vec<u8>>,
            Option<Vec<u8>>,
            Option<Vec<u8>>,
        );
        let rows: Vec<Row> = self
            .conn
            .prepare(
                "SELECT o.household_id, o.hash, o.change, o.signer, o.signature FROM outbox o
                 WHERE NOT EXISTS (SELECT 1 FROM household_sync h WHERE h.household_id = o.household_id AND h.kind = 'rejected')
                 ORDER BY o.seq",
            )?
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut order: Vec<String> = Vec::new();
        let mut by_household: HashMap<String, Vec<QueuedChange>> = HashMap::new();
        for (id, hash, change, signer, signature) in rows {
            let Ok(hash) = <[u8; 32]>::try_from(hash.as_slice()) else {
                continue;
            };
            let signature = signer
                .and_then(|s| <[u8; 32]>::try_from(s).ok())
                .zip(signature.and_then(|s| <[u8; 64]>::try_from(s).ok()));
            if !by_household.contains_key(&id) {
                order.push(id.clone());
            }
            by_household.entry(id).or_default().push(QueuedChange {
                hash,
                change,
                signature,
            });
        }
        let mut out = Vec::new();
        let mut total = 0usize;
        for id in order {
            let queued = by_household.remove(&id).unwrap_or_default();
            let mut changes = Vec::with_capacity(queued.len());
            for q in queued {
                let (signer, signature) = q.signature.ok_or_else(|| {
                    sync_error(
                        "sync.not_signed",
                        "local changes are not signed yet: set the signing identity",
                    )
                })?;
                let change = match q.change {
                    Some(bytes) => bytes,
                    // Queued before schema version 6: read it from the document.
                    None => self
                        .load(&id)?
                        .doc
                        .automerge()
                        .get_change_by_hash(&ChangeHash(q.hash))
                        .ok_or_else(|| Error::CorruptDocument {
                            id: id.clone(),
                            reason: "a queued change is missing".into(),
                        })?
                        .raw_bytes()
                        .to_vec(),
                };
                total += change.len();
                changes.push(SignedChange {
                    change,
                    signer,
                    signature,
                    received_at: 0,
                });
            }
            out.push(HouseholdChanges {
                household_id: id,
                changes,
            });
            if total >= max_bytes {
                break;
            }
        }
        Ok(out)
    }

    /// Applies the server's verdicts on a push: accepted changes leave the outbox; rejected
    /// and held households are recorded with the reason (their changes stay queued: the
    /// refused ones, or all of them when a rejection names none).
    pub fn acknowledge_push(
        &mut self,
        pushed: &[HouseholdChanges],
        outcomes: &[HouseholdOutcome],
    ) -> Result<()> {
        let now = Utc::now().timestamp();
        // A household's first outcome decides (as the server lists them).
        let mut by_household: std::collections::HashMap<&str, &HouseholdOutcome> =
            std::collections::HashMap::new();
        for o in outcomes {
            by_household.entry(o.household_id.as_str()).or_insert(o);
        }
        let tx = self.conn.transaction()?;
        for group in pushed {
            let outcome = by_household.get(group.household_id.as_str()).copied();
            // Held, or rejected without naming the changes (a refusal of the whole household,
            // e.g. a stored household outside the sender's villages): every change stays.
            let whole = |o: &HouseholdOutcome| {
                o.kind == OutcomeKind::Held
                    || (o.kind == OutcomeKind::Rejected && o.refused_changes.is_empty())
            };
            let keep_all = outcome.is_some_and(whole);
            let refused: &[[u8; 32]] = match outcome {
                Some(o) if o.kind == OutcomeKind::Rejected => &o.refused_changes,
                _ => &[],
            };
            for change in group.changes.iter().filter(|_| !keep_all) {
                let Some(hash) = crate::sync::change_hash::hash_of(&change.change) else {
                    continue;
                };
                if !refused.contains(&hash) {
                    tx.prepare_cached("DELETE FROM outbox WHERE hash = ?1")?
                        .execute([&hash[..]])?;
                }
            }
            match outcome {
                Some(o) => {
                    let kind = match o.kind {
                        OutcomeKind::Rejected => "rejected",
                        OutcomeKind::Held => "held",
                        OutcomeKind::Flagged => "flagged",
                    };
                    tx.execute(
                        "INSERT INTO household_sync (household_id, kind, code, detail, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
                         ON CONFLICT (household_id) DO UPDATE SET kind = ?2, code = ?3, detail = ?4, updated_at = ?5",
                        params![o.household_id, kind, o.code, o.detail, now],
                    )?;
                }
                None => {
                    tx.prepare_cached(
                        "DELETE FROM household_sync WHERE household_id = ?1 AND kind != 'flagged'",
                    )?
                    .execute([&group.household_id])?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Households the server rejected, held or flagged, with the reason.
    pub fn household_sync_statuses(&self) -> Result<Vec<HouseholdSyncStatus>> {
        let mut stmt = self.conn.prepare(
            "SELECT household_id, kind, code, detail, updated_at FROM household_sync ORDER BY updated_at, household_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(HouseholdSyncStatus {
                household_id: r.get(0)?,
                kind: r.get(1)?,
                code: r.get(2)?,
                detail: r.get(3)?,
                updated_at: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// How many local changes wait for the server, and the creation time of the oldest.
    pub fn unsynced_changes(&self) -> Result<(u64, Option<i64>)> {
        let (count, oldest): (i64, Option<i64>) =
            self.conn
                .query_row("SELECT count(*), min(created_at) FROM outbox", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?;
        Ok((count.max(0) as u64, oldest))
    }

    /// Checks pulled (or link-received) signed changes of one household exactly as the server
    /// does, and keeps them if they pass. Returns what was accepted and refused.
    pub fn ingest_signed(
        &mut self,
        inputs: &IngestInputs,
        group: HouseholdChanges,
        now: DateTime<Utc>,
    ) -> Result<Ingested> {
        let id = group.household_id.clone();
        let exists = super::index::get(&self.conn, &id)?.is_some();
        if !exists && self.cache.get(&id).is_none() {
            let doc =
                HouseholdDocument::from_automerge(AutoCommit::new().with_actor(self.actor.clone()));
            self.cache.insert(id.clone(), doc, Vec::new(), 0);
        }
        let bindings: HashMap<Vec<u8>, String> = self
            .conn
            .prepare_cached("SELECT actor, worker_id FROM actor_workers")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let lookup = |actor: &[u8]| bindings.get(actor).cloned();
        let ctx = IngestContext {
            trust: &inputs.trust,
            certificates: &inputs.certificates,
            actor_worker: &lookup,
            policy: &inputs.policy,
            now,
        };
        let cached = self.load(&id)?;
        let result = ingest(cached.doc.automerge(), &id, group.changes, &ctx);
        if result.accepted.is_empty() {
            if !exists {
                self.cache.evict(&id);
            }
            return Ok(result);
        }
        let has_conflicts = !cached.doc.conflicts()?.is_empty();
        let accepted = result.accepted.clone();
        let attachments = result.new_attachments.clone();
        self.persist_with(&id, Some(has_conflicts), |tx| {
            for a in &accepted {
                outbox::store_signature(tx, &id, &a.hash, &a.signed.signer, &a.signed.signature)?;
                tx.prepare_cached(
                    "INSERT OR IGNORE INTO actor_workers (actor, worker_id) VALUES (?1, ?2)",
                )?
                .execute(params![a.actor, a.author])?;
            }
            super::attachments::insert_refs(tx, &id, &attachments)
        })?;
        Ok(result)
    }

    /// Signed changes of a household not covered by `heads`, for a colleague's tablet (the
    /// local link) — refused for changes this store holds no signature for.
    pub fn export_signed(&mut self, id: &str, heads: &[ChangeHash]) -> Result<HouseholdChanges> {
        if let Some(identity) = &self.identity {
            let tx = self.conn.transaction()?;
            outbox::sign_pending(&tx, identity)?;
            tx.commit()?;
        }
        let raw: Vec<(Vec<u8>, [u8; 32])> = {
            let cached = self.load(id)?;
            cached
                .doc
                .automerge()
                .get_changes(heads)
                .iter()
                .map(|c| (c.raw_bytes().to_vec(), c.hash().0))
                .collect()
        };
        let mut changes = Vec::with_capacity(raw.len());
        for (bytes, hash) in raw {
            let (signer, signature) =
                outbox::signature_of(&self.conn, &hash)?.ok_or_else(|| {
                    sync_error(
                        "sync.not_signed",
                        "a change has no signature: set the signing identity",
                    )
                })?;
            changes.push(SignedChange {
                change: bytes,
                signer,
                signature,
                received_at: 0,
            });
        }
        Ok(HouseholdChanges {
            household_id: id.to_owned(),
            changes,
        })
    }

    /// Deletes every household, visit, queued change and sync state from this tablet and
    /// scrubs the freed pages (the worker's certificate was revoked or they left the post).
    pub fn erase_all(&mut self) -> Result<()> {
        self.cache.clear();
        self.conn.execute_batch(
            "PRAGMA secure_delete = ON;
             BEGIN;
             DELETE FROM document_chunks; DELETE FROM households; DELETE FROM members;
             DELETE FROM visits; DELETE FROM visit_team; DELETE FROM received_contents;
             DELETE FROM outbox; DELETE FROM change_signatures; DELETE FROM actor_workers;
             DELETE FROM sync_state; DELETE FROM household_sync; DELETE FROM rejected_changes;
             DELETE FROM care_tasks; DELETE FROM care_task_log; DELETE FROM care_problems;
             DELETE FROM care_leaders; DELETE FROM care_leader_visits; DELETE FROM care_agreements;
             DELETE FROM care_indexed;
             COMMIT;",
        )?;
        self.conn
            .execute_batch("VACUUM; PRAGMA wal_checkpoint(TRUNCATE);")?;
        self.identity = None;
        Ok(())
    }
}
