//! Signed home visits in the tablet's store: starting, editing, sealing and signing visits
//! in household documents; the certificates, authority key and revocation list they are
//! verified with; contents received for co-signing; and the visit lists, read from the
//! `visits` index without loading documents.
//!
//! The index is rewritten from the document in the same transaction as every write of a
//! household (see `Store::persist`), so it never disagrees with the documents.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde_json::Value as Json;

use super::Store;
use crate::error::{Error, FieldError, Result};
use crate::household::HouseholdDocument;
use crate::signing::attestation::Trust;
use crate::signing::certificate::{Role, SignedCertificate, WorkerCertificate};
use crate::signing::keys::{PublicKey, SecretKeyStore, WorkerSigner, SIGNATURE_LEN};
use crate::signing::revocation::{RevocationList, SignedRevocationList};
use crate::visit::content::{ContentHash, TeamMember};
use crate::visit::cosign::{self, ReceivedContent};
use crate::visit::document::{self, NewVisit, SealDetails, SealedRevision, VisitRecord};
use crate::visit::entry::SignatureEntry;
use crate::visit::error::VisitError;
use crate::visit::policy::{Purpose, VisitPolicy};
use crate::visit::template::minimal_template;
use crate::visit::verify::{self, sign_content, VisitStatus, VisitVerification};

const POLICY_KEY: &str = "visit_policy";

/// One line of a visit list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitSummary {
    /// The visit.
    pub visit_id: String,
    /// Its household.
    pub household_id: String,
    /// The household's village.
    pub village_code: String,
    /// Why the team visits.
    pub purpose: Purpose,
    /// `draft`, `incomplete`, `complete`, `diverged`, `invalid` or `unverified` (no authority key).
    pub status: String,
    /// The latest sealed revision.
    pub revision: Option<u32>,
    /// Its content hash (hex).
    pub latest_hash: Option<String>,
    /// Required roles without a valid signature on the latest revision.
    pub missing_roles: Vec<Role>,
    /// The team, sorted by role.
    pub team: Vec<TeamMember>,
    /// Team members whose signature is missing (for required roles).
    pub missing_signers: Vec<TeamMember>,
}

fn role_from_str(text: &str) -> Option<Role> {
    Role::ALL.into_iter().find(|r| r.as_str() == text)
}

fn bad_signature_bytes(what: &str) -> Error {
    Error::CorruptDocument {
        id: what.to_owned(),
        reason: "stored signature has the wrong length".into(),
    }
}

/// The authority key and revocation list stored in `conn`, if an authority is set.
pub(crate) fn load_trust(conn: &Connection) -> Result<Option<Trust>> {
    type Row = (String, Vec<u8>, Option<Vec<u8>>, Option<Vec<u8>>);
    let row: Option<Row> = conn
        .prepare_cached("SELECT authority_key_id, authority_key, revocation_body, revocation_signature FROM trust WHERE id = 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?;
    let Some((authority_key_id, key, body, sig)) = row else {
        return Ok(None);
    };
    let authority_key =
        PublicKey(<[u8; 32]>::try_from(key.as_slice()).map_err(|_| bad_signature_bytes("trust"))?);
    let revocations = match (body, sig) {
        (Some(body_bytes), Some(sig)) => {
            let signature = <[u8; SIGNATURE_LEN]>::try_from(sig.as_slice())
                .map_err(|_| bad_signature_bytes("trust"))?;
            Some(
                SignedRevocationList {
                    body_bytes,
                    signature,
                }
                .verify(&authority_key)
                .map_err(VisitError::Revocation)?,
            )
        }
        _ => None,
    };
    Ok(Some(Trust {
        authority_key_id,
        authority_key,
        revocations,
    }))
}

fn load_policy(conn: &Connection) -> Result<VisitPolicy> {
    let text: Option<String> = conn
        .prepare_cached("SELECT value FROM store_meta WHERE key = ?1")?
        .query_row([POLICY_KEY], |r| r.get(0))
        .optional()?;
    match text {
        None => Ok(VisitPolicy::default()),
        Some(text) => serde_json::from_str(&text).map_err(|e| Error::CorruptDocument {
            id: POLICY_KEY.into(),
            reason: e.to_string(),
        }),
    }
}

/// Rewrites the visit index rows of one household from its document.
pub(crate) fn write_index(
    tx: &Transaction<'_>,
    household_id: &str,
    doc: &mut HouseholdDocument,
    now: i64,
) -> Result<()> {
    let doc = doc.automerge();
    tx.prepare_cached("DELETE FROM visit_team WHERE household_id = ?1")?
        .execute([household_id])?;
    tx.prepare_cached("DELETE FROM visits WHERE household_id = ?1")?
        .execute([household_id])?;
    let ids = document::visit_ids(doc)?;
    if ids.is_empty() {
        return Ok(());
    }
    let trust = load_trust(tx)?;
    let policy = load_policy(tx)?;
    for visit_id in ids {
        let Ok(record) = document::read_visit(doc, &visit_id) else {
            continue;
        };
        let (status, revision, latest, missing) = match &trust {
            None if record.revisions.is_empty() => {
                ("draft", None, None, policy.required_roles(record.purpose))
            }
            None => (
                "unverified",
                None,
                None,
                policy.required_roles(record.purpose),
            ),
            Some(trust) => match verify::verify_visit(doc, &visit_id, &policy, trust)?.status {
                VisitStatus::Draft => ("draft", None, None, policy.required_roles(record.purpose)),
                VisitStatus::Complete {
                    revision,
                    content_hash,
                } => ("complete", Some(revision), Some(content_hash), Vec::new()),
                VisitStatus::Incomplete {
                    revision,
                    content_hash,
                    missing_roles,
                } => (
                    "incomplete",
                    Some(revision),
                    Some(content_hash),
                    missing_roles,
                ),
                VisitStatus::Diverged { .. } => ("diverged", None, None, Vec::new()),
                VisitStatus::Invalid { .. } => ("invalid", None, None, Vec::new()),
            },
        };
        let missing_text: Vec<&str> = missing.iter().map(|r| r.as_str()).collect();
        tx.prepare_cached(
            "INSERT OR REPLACE INTO visits (visit_id, household_id, village_code, purpose, status, revision,
                 latest_hash, missing_roles, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute(params![
            visit_id,
            household_id,
            record.village_code,
            record.purpose.as_str(),
            status,
            revision,
            latest.map(|h| h.to_hex()),
            missing_text.join(","),
            now
        ])?;
        let mut insert = tx.prepare_cached(
            "INSERT OR REPLACE INTO visit_team (household_id, visit_id, role, worker_id, signed) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for m in &record.team {
            let signed =
                status == "complete" || (status == "incomplete" && !missing.contains(&m.role));
            insert.execute(params![
                household_id,
                visit_id,
                m.role.as_str(),
                m.worker_id,
                signed
            ])?;
        }
    }
    Ok(())
}

fn summaries(conn: &Connection, where_sql: &str, args: &[&str]) -> Result<Vec<VisitSummary>> {
    let sql = format!(
        "SELECT v.visit_id, v.household_id, v.village_code, v.purpose, v.status, v.revision, v.latest_hash,
                v.missing_roles FROM visits v WHERE {where_sql} ORDER BY v.updated_at DESC, v.visit_id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args), |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, Option<u32>>(5)?,
            r.get::<_, Option<String>>(6)?,
            r.get::<_, String>(7)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (visit_id, household_id, village_code, purpose, status, revision, latest_hash, missing) =
            row?;
        let mut team_stmt = conn.prepare_cached(
            "SELECT role, worker_id FROM visit_team WHERE household_id = ?1 AND visit_id = ?2",
        )?;
        let mut team: Vec<TeamMember> = team_stmt
            .query_map([&household_id, &visit_id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?
            .filter_map(|row| row.ok())
            .filter_map(|(role, worker_id)| {
                role_from_str(&role).map(|role| TeamMember { role, worker_id })
            })
            .collect();
        team.sort();
        let missing_roles: Vec<Role> = missing.split(',').filter_map(role_from_str).collect();
        let missing_signers = team
            .iter()
            .filter(|m| missing_roles.contains(&m.role))
            .cloned()
            .collect();
        out.push(VisitSummary {
            purpose: Purpose::parse(&purpose).ok_or_else(|| Error::CorruptDocument {
                id: visit_id.clone(),
                reason: "unknown purpose".into(),
            })?,
            visit_id,
            household_id,
            village_code,
            status,
            revision,
            latest_hash,
            missing_roles,
            team,
            missing_signers,
        });
    }
    Ok(out)
}

impl Store {
    /// Sets the county authority key every certificate must be signed with. Changing it to
    /// another key is refused (a new county key means a new store).
    pub fn set_authority(
        &mut self,
        authority_key_id: &str,
        authority_key: PublicKey,
    ) -> Result<()> {
        if let Some(t) = load_trust(&self.conn)? {
            if t.authority_key != authority_key || t.authority_key_id != authority_key_id {
                return Err(Error::invalid(FieldError::new(
                    "authority_key",
                    "visit.authority_set",
                    "this tablet already trusts another authority key",
                )));
            }
            return Ok(());
        }
        crate::signing::wire::check_identifier("authority_key_id", authority_key_id).map_err(
            |why| Error::invalid(FieldError::new("authority_key_id", "visit.identifier", why)),
        )?;
        self.conn.execute(
            "INSERT INTO trust (id, authority_key_id, authority_key) VALUES (1, ?1, ?2)",
            params![authority_key_id, authority_key.0.to_vec()],
        )?;
        Ok(())
    }

    /// The authority key and revocation list in force.
    pub fn trust(&self) -> Result<Trust> {
        load_trust(&self.conn)?.ok_or(Error::Visit(VisitError::NoAuthority))
    }

    /// Replaces the revocation list with a newer one signed by the authority.
    pub fn set_revocations(&mut self, list: &SignedRevocationList) -> Result<RevocationList> {
        let trust = self.trust()?;
        let verified = list
            .verify(&trust.authority_key)
            .map_err(VisitError::Revocation)?;
        if let Some(current) = &trust.revocations {
            verified
                .check_replaces(current)
                .map_err(VisitError::Revocation)?;
        }
        self.conn.execute(
            "UPDATE trust SET revocation_body = ?1, revocation_signature = ?2 WHERE id = 1",
            params![list.body_bytes, list.signature.to_vec()],
        )?;
        self.reindex_all_visits()?;
        Ok(verified)
    }

    /// The visit policy of this store (default: the three-person team for every purpose).
    pub fn visit_policy(&self) -> Result<VisitPolicy> {
        load_policy(&self.conn)
    }

    /// Sets the visit policy (county configuration) and recomputes the visit lists.
    pub fn set_visit_policy(&mut self, policy: &VisitPolicy) -> Result<()> {
        let text = serde_json::to_string(policy).map_err(|e| Error::Document(e.to_string()))?;
        self.conn.execute(
            "INSERT INTO store_meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2",
            params![POLICY_KEY, text],
        )?;
        self.reindex_all_visits()
    }

    fn reindex_all_visits(&mut self) -> Result<()> {
        let ids: Vec<String> = self
            .conn
            .prepare("SELECT DISTINCT household_id FROM visits")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let now = Utc::now().timestamp();
        for id in ids {
            self.load(&id)?;
            let tx = self.conn.transaction()?;
            if let Some(cached) = self.cache.get(&id) {
                write_index(&tx, &id, &mut cached.doc, now)?;
            }
            tx.commit()?;
        }
        Ok(())
    }

    /// Stores a worker certificate after verifying it under the authority key.
    pub fn add_certificate(
        &mut self,
        certificate: &SignedCertificate,
    ) -> Result<WorkerCertificate> {
        let trust = self.trust()?;
        let cert = certificate
            .verify(&trust.authority_key)
            .map_err(VisitError::Certificate)?;
        if cert.authority_key_id != trust.authority_key_id {
            return Err(
                VisitError::Certificate(crate::signing::certificate::CertError::Invalid(
                    "the certificate names another authority key".into(),
                ))
                .into(),
            );
        }
        self.conn.execute(
            "INSERT OR IGNORE INTO certificates (hash, worker_id, body, signature) VALUES (?1, ?2, ?3, ?4)",
            params![certificate.hash().to_vec(), cert.worker_id, certificate.body_bytes, certificate.signature.to_vec()],
        )?;
        Ok(cert)
    }

    /// The stored certificate with this hash.
    pub fn certificate(&self, hash: &[u8; 32]) -> Result<Option<SignedCertificate>> {
        let row: Option<(Vec<u8>, Vec<u8>)> = self
            .conn
            .prepare_cached("SELECT body, signature FROM certificates WHERE hash = ?1")?
            .query_row([hash.to_vec()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        row.map(|(body_bytes, sig)| {
            let signature = <[u8; SIGNATURE_LEN]>::try_from(sig.as_slice())
                .map_err(|_| bad_signature_bytes("certificate"))?;
            Ok(SignedCertificate {
                body_bytes,
                signature,
            })
        })
        .transpose()
    }

    /// Every stored certificate of `worker_id`.
    pub fn certificates_of(&self, worker_id: &str) -> Result<Vec<SignedCertificate>> {
        let rows: Vec<(Vec<u8>, Vec<u8>)> = self
            .conn
            .prepare_cached(
                "SELECT body, signature FROM certificates WHERE worker_id = ?1 ORDER BY hash",
            )?
            .query_map([worker_id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        rows.into_iter()
            .map(|(body_bytes, sig)| {
                let signature = <[u8; SIGNATURE_LEN]>::try_from(sig.as_slice())
                    .map_err(|_| bad_signature_bytes("certificate"))?;
                Ok(SignedCertificate {
                    body_bytes,
                    signature,
                })
            })
            .collect()
    }

    /// The certificate this tablet signs with: this store's worker, this key, preferably
    /// granting `role` and valid at `now`. If none matches the key, any of the worker's
    /// certificates (signing then fails with the verdict a verifier would give).
    fn my_certificate(
        &self,
        signer: &WorkerSigner,
        role: Role,
        now: DateTime<Utc>,
    ) -> Result<SignedCertificate> {
        let trust = self.trust()?;
        let mine = self.certificates_of(self.worker_id())?;
        let score = |c: &SignedCertificate| match c.verify(&trust.authority_key) {
            Ok(w) => {
                (w.public_key == signer.public_key()) as u8 * 4
                    + w.has_role(role) as u8 * 2
                    + w.valid_at(now) as u8
            }
            Err(_) => 0,
        };
        mine.into_iter()
            .max_by_key(score)
            .ok_or_else(|| Error::NotFound {
                what: "certificate of worker",
                id: self.worker_id().to_owned(),
            })
    }

    /// Starts a visit of a household with its team; returns the new visit id.
    pub fn start_visit(
        &mut self,
        household_id: &str,
        purpose: Purpose,
        team: Vec<TeamMember>,
    ) -> Result<String> {
        let policy = self.visit_policy()?;
        let by = self.authorship();
        let visit_id = super::random_hex(16)?;
        let cached = self.load(household_id)?;
        let village_code = cached.doc.household()?.profile.village_code;
        let mut team = team;
        team.sort();
        let new = NewVisit {
            purpose,
            team,
            village_code,
        };
        document::start_visit(cached.doc.automerge(), &visit_id, &new, &policy, &by)?;
        self.persist(household_id, None)?;
        Ok(visit_id)
    }

    /// A visit as the app shows it.
    pub fn visit(&mut self, household_id: &str, visit_id: &str) -> Result<VisitRecord> {
        let cached = self.load(household_id)?;
        document::read_visit(cached.doc.automerge(), visit_id)
    }

    /// Sets (`Some`) or removes (`None`) draft answers; checked against the template.
    pub fn edit_visit_draft(
        &mut self,
        household_id: &str,
        visit_id: &str,
        changes: &[(String, Option<Json>)],
    ) -> Result<VisitRecord> {
        let by = self.authorship();
        let cached = self.load(household_id)?;
        document::edit_draft(
            cached.doc.automerge(),
            visit_id,
            changes,
            minimal_template(),
            &by,
        )?;
        self.persist(household_id, None)?;
        self.visit(household_id, visit_id)
    }

    /// Seals the draft (first seal, or a correction of `details.previous`).
    pub fn seal_visit(
        &mut self,
        household_id: &str,
        visit_id: &str,
        details: &SealDetails,
    ) -> Result<SealedRevision> {
        let by = self.authorship();
        let cached = self.load(household_id)?;
        let sealed = document::seal(
            cached.doc.automerge(),
            visit_id,
            details,
            minimal_template(),
            &by,
        )?;
        self.persist(household_id, None)?;
        Ok(sealed)
    }

    /// Signs a sealed revision held in the household document, as `role`, with the worker's
    /// key from `keys`. Refused — nothing written — unless the signature would be valid.
    pub fn sign_visit(
        &mut self,
        household_id: &str,
        visit_id: &str,
        content_hash: &ContentHash,
        role: Role,
        keys: &dyn SecretKeyStore,
        key_id: &str,
    ) -> Result<SignatureEntry> {
        let now = Utc::now();
        let trust = self.trust()?;
        let signer = WorkerSigner::open(keys, key_id)
            .map_err(VisitError::Key)?
            .ok_or_else(|| Error::NotFound {
                what: "signing key",
                id: key_id.to_owned(),
            })?;
        let record = self.visit(household_id, visit_id)?;
        let revision = record
            .revisions
            .iter()
            .find(|r| r.content_hash == *content_hash)
            .ok_or_else(|| VisitError::ContentNotHeld {
                content_hash: content_hash.to_hex(),
            })?;
        let certificate = self.my_certificate(&signer, role, now)?;
        let entry = sign_content(
            &revision.bytes,
            content_hash,
            role,
            &signer,
            &certificate,
            &trust,
            now,
        )?;
        let key = crate::visit::entry::signature_key(content_hash, self.worker_id(), role);
        self.store_signature(household_id, visit_id, &key, &entry)?;
        Ok(entry)
    }

    fn store_signature(
        &mut self,
        household_id: &str,
        visit_id: &str,
        key: &str,
        entry: &SignatureEntry,
    ) -> Result<()> {
        let bytes = entry.encode().ok_or_else(|| {
            Error::invalid(FieldError::new(
                "signature",
                "visit.signature_size",
                "signature entry too large",
            ))
        })?;
        let by = self.authorship();
        let cached = self.load(household_id)?;
        if document::put_signature(cached.doc.automerge(), visit_id, key, &bytes, &by)? {
            self.persist(household_id, None)?;
        }
        Ok(())
    }

    /// Verifies a visit with this store's authority key, revocation list and policy.
    pub fn verify_visit(
        &mut self,
        household_id: &str,
        visit_id: &str,
    ) -> Result<VisitVerification> {
        let trust = self.trust()?;
        let policy = self.visit_policy()?;
        let cached = self.load(household_id)?;
        verify::verify_visit(cached.doc.automerge(), visit_id, &policy, &trust)
    }

    /// Visits of `village` whose latest revision still waits for `worker_id`'s signature.
    pub fn visits_awaiting_signature(
        &self,
        worker_id: &str,
        village_code: &str,
    ) -> Result<Vec<VisitSummary>> {
        summaries(
            &self.conn,
            "v.village_code = ?1 AND v.status = 'incomplete' AND EXISTS (SELECT 1 FROM visit_team t
                 WHERE t.household_id = v.household_id AND t.visit_id = v.visit_id AND t.worker_id = ?2 AND t.signed = 0)",
            &[village_code, worker_id],
        )
    }

    /// Sealed visits of `village` still missing signatures (see `missing_signers`).
    pub fn visits_incomplete(&self, village_code: &str) -> Result<Vec<VisitSummary>> {
        summaries(
            &self.conn,
            "v.village_code = ?1 AND v.status = 'incomplete'",
            &[village_code],
        )
    }

    /// Complete visits of `village`.
    pub fn visits_complete(&self, village_code: &str) -> Result<Vec<VisitSummary>> {
        summaries(
            &self.conn,
            "v.village_code = ?1 AND v.status = 'complete'",
            &[village_code],
        )
    }

    /// Visits of `village` a person must look at: invalid (altered, bad signatures) or
    /// diverged (concurrent corrections).
    pub fn visits_needing_attention(&self, village_code: &str) -> Result<Vec<VisitSummary>> {
        summaries(
            &self.conn,
            "v.village_code = ?1 AND v.status IN ('invalid', 'diverged')",
            &[village_code],
        )
    }

    /// The sealed content of a revision as QR-code payloads, for co-signers.
    pub fn visit_content_chunks(
        &mut self,
        household_id: &str,
        visit_id: &str,
        content_hash: &ContentHash,
    ) -> Result<Vec<Vec<u8>>> {
        let record = self.visit(household_id, visit_id)?;
        let revision = record
            .revisions
            .iter()
            .find(|r| r.content_hash == *content_hash)
            .ok_or_else(|| VisitError::ContentNotHeld {
                content_hash: content_hash.to_hex(),
            })?;
        Ok(cosign::content_chunks(&revision.bytes)?)
    }

    /// Keeps sealed content received from the sealing tablet, so this tablet can sign it.
    pub fn receive_content(&mut self, received: &ReceivedContent) -> Result<()> {
        let again = ReceivedContent::from_bytes(received.bytes.clone())?;
        self.conn.execute(
            "INSERT OR IGNORE INTO received_contents (hash, household_id, visit_id, bytes, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                again.content_hash.0.to_vec(),
                again.content.household_id,
                again.content.visit_id,
                again.bytes,
                Utc::now().timestamp()
            ],
        )?;
        Ok(())
    }

    /// Content this tablet holds with this hash (received, or in a household document).
    pub fn held_content(&mut self, content_hash: &ContentHash) -> Result<Option<Vec<u8>>> {
        let received: Option<Vec<u8>> = self
            .conn
            .prepare_cached("SELECT bytes FROM received_contents WHERE hash = ?1")?
            .query_row([content_hash.0.to_vec()], |r| r.get(0))
            .optional()?;
        if received.is_some() {
            return Ok(received);
        }
        let found: Option<(String, String)> = self
            .conn
            .prepare_cached("SELECT household_id, visit_id FROM visits WHERE latest_hash = ?1")?
            .query_row([content_hash.to_hex()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let Some((household_id, visit_id)) = found else {
            return Ok(None);
        };
        let record = self.visit(&household_id, &visit_id)?;
        Ok(record
            .revisions
            .into_iter()
            .find(|r| r.content_hash == *content_hash)
            .map(|r| r.bytes))
    }

    /// Co-signs content this tablet holds, as `role`; returns the one-QR-code response.
    /// Refused unless the tablet holds content hashing to `content_hash` and the signature
    /// would be valid. If this tablet also has the household, the signature is stored too.
    pub fn cosign(
        &mut self,
        content_hash: &ContentHash,
        role: Role,
        keys: &dyn SecretKeyStore,
        key_id: &str,
    ) -> Result<Vec<u8>> {
        let now = Utc::now();
        let trust = self.trust()?;
        let signer = WorkerSigner::open(keys, key_id)
            .map_err(VisitError::Key)?
            .ok_or_else(|| Error::NotFound {
                what: "signing key",
                id: key_id.to_owned(),
            })?;
        let held = self.held_content(content_hash)?;
        let certificate = self.my_certificate(&signer, role, now)?;
        let (entry, response) = cosign::cosign(
            |_| held.clone(),
            content_hash,
            role,
            &signer,
            &certificate,
            &trust,
            now,
        )?;
        if let Some(bytes) = &held {
            let content = crate::visit::content::parse_content(bytes)?;
            let has_visit = self.load(&content.household_id).is_ok()
                && self.visit(&content.household_id, &content.visit_id).is_ok();
            if has_visit {
                let key = crate::visit::entry::signature_key(content_hash, self.worker_id(), role);
                self.store_signature(&content.household_id, &content.visit_id, &key, &entry)?;
            }
        }
        Ok(response)
    }

    /// The sealing tablet imports a co-signer's scanned response for the revision it shows.
    /// Refused for another visit, another revision, content it does not hold, a signer
    /// whose certificate it lacks, or any signature that is not valid.
    pub fn import_signature_response(
        &mut self,
        household_id: &str,
        visit_id: &str,
        content_hash: &ContentHash,
        response: &[u8],
    ) -> Result<VisitVerification> {
        let trust = self.trust()?;
        let record = self.visit(household_id, visit_id)?;
        let revision = record
            .revisions
            .iter()
            .find(|r| r.content_hash == *content_hash)
            .ok_or_else(|| VisitError::ContentNotHeld {
                content_hash: content_hash.to_hex(),
            })?;
        let certs = |hash: &[u8; 32]| self.certificate(hash).ok().flatten();
        let (key, entry) = cosign::accept_response(
            response,
            &revision.content,
            &revision.content_hash,
            certs,
            &trust,
        )?;
        self.store_signature(household_id, visit_id, &key, &entry)?;
        self.verify_visit(household_id, visit_id)
    }
}
