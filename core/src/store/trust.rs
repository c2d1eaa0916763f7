//! What this tablet trusts to verify signed visits: the county authority key, the worker
//! certificates it signed, its revocation list, and the visit policy (which roles must
//! sign). Setting the revocation list or the policy recomputes the visit lists.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use super::Store;
use crate::error::{Error, FieldError, Result};
use crate::signing::attestation::Trust;
use crate::signing::certificate::{Role, SignedCertificate, WorkerCertificate};
use crate::signing::keys::{PublicKey, WorkerSigner, SIGNATURE_LEN};
use crate::signing::revocation::{RevocationList, SignedRevocationList};
use crate::visit::error::VisitError;
use crate::visit::policy::VisitPolicy;

const POLICY_KEY: &str = "visit_policy";

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

pub(super) fn load_policy(conn: &Connection) -> Result<VisitPolicy> {
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

impl Store {
    /// Sets the county authority key every certificate must be signed with, and recomputes
    /// the visit lists. Changing it to another key is refused (a new county key means a new
    /// store).
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
        // Visits received before the authority was known are listed as `unverified`.
        self.reindex_all_visits()
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
    pub(super) fn my_certificate(
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
}
