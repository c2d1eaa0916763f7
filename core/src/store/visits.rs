//! Signed home visits in the tablet's store: starting, editing, sealing, signing and
//! verifying visits in household documents, and co-signing — contents received from the
//! sealing tablet, one-QR responses made and imported.
//!
//! What the signatures are verified with is in `trust.rs`; the visit lists in
//! `visit_index.rs`.

use chrono::Utc;
use rusqlite::{params, OptionalExtension};
use serde_json::Value as Json;

use super::Store;
use crate::error::{Error, FieldError, Result};
use crate::forms::{Answers, TemplateEntry};
use crate::signing::certificate::Role;
use crate::signing::keys::{SecretKeyStore, WorkerSigner};
use crate::visit::content::{ContentHash, TeamMember, TemplateRef};
use crate::visit::cosign::{self, ReceivedContent};
use crate::visit::document::{self, NewVisit, SealDetails, SealedRevision, VisitRecord};
use crate::visit::entry::SignatureEntry;
use crate::visit::error::VisitError;
use crate::visit::form::VisitForm;
use crate::visit::policy::Purpose;
use crate::visit::template::minimal_template;
use crate::visit::verify::{self, sign_content, VisitVerification};

impl Store {
    /// Starts a visit of a household with its team, filled with the built-in minimal
    /// template; returns the new visit id. [`Store::start_visit_with_form`] names a form.
    pub fn start_visit(
        &mut self,
        household_id: &str,
        purpose: Purpose,
        team: Vec<TeamMember>,
    ) -> Result<String> {
        let minimal = minimal_template().reference.clone();
        self.start_visit_filled_with(household_id, purpose, team, minimal)
    }

    /// Starts a visit filled with the newest version of the form `form_id` this tablet
    /// knows (built in or published by the county); returns the new visit id. The visit
    /// keeps that version: a newer one published later never changes how it is checked.
    pub fn start_visit_with_form(
        &mut self,
        household_id: &str,
        purpose: Purpose,
        team: Vec<TeamMember>,
        form_id: &str,
    ) -> Result<String> {
        let catalog = self.form_catalog()?;
        let form = match catalog.latest(form_id) {
            Some(t) => t.reference().clone(),
            None if form_id == minimal_template().reference.id => {
                minimal_template().reference.clone()
            }
            None => {
                return Err(Error::NotFound {
                    what: "form template",
                    id: form_id.to_owned(),
                })
            }
        };
        self.start_visit_filled_with(household_id, purpose, team, form)
    }

    fn start_visit_filled_with(
        &mut self,
        household_id: &str,
        purpose: Purpose,
        team: Vec<TeamMember>,
        template: TemplateRef,
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
            template,
        };
        document::start_visit(cached.doc.automerge(), &visit_id, &new, &policy, &by)?;
        self.persist(household_id, None)?;
        Ok(visit_id)
    }

    /// Runs `f` with the form a visit is filled with. The catalog is read only for visits
    /// filled with a data form (the minimal template needs none).
    fn with_visit_form<T>(
        &mut self,
        template: &TemplateRef,
        f: impl FnOnce(&mut Self, &VisitForm<'_>) -> Result<T>,
    ) -> Result<T> {
        if *template == minimal_template().reference {
            return f(self, &VisitForm::from(minimal_template()));
        }
        let catalog = self.form_catalog()?;
        let offset = self.county_clock()?.utc_offset_seconds();
        let form = VisitForm::new(catalog.get(template)?, offset);
        f(self, &form)
    }

    /// A visit as the app shows it.
    pub fn visit(&mut self, household_id: &str, visit_id: &str) -> Result<VisitRecord> {
        let cached = self.load(household_id)?;
        document::read_visit(cached.doc.automerge(), visit_id)
    }

    /// Sets (`Some`) or removes (`None`) draft answers (flat keys, see
    /// [`crate::forms::flat`]); the draft after the edit is checked against the visit's form.
    pub fn edit_visit_draft(
        &mut self,
        household_id: &str,
        visit_id: &str,
        changes: &[(String, Option<Json>)],
    ) -> Result<VisitRecord> {
        let template = self.visit(household_id, visit_id)?.template;
        self.with_visit_form(&template, |store, form| {
            let by = store.authorship();
            let cached = store.load(household_id)?;
            document::edit_draft(cached.doc.automerge(), visit_id, changes, form, &by)?;
            store.persist(household_id, None)
        })?;
        self.visit(household_id, visit_id)
    }

    /// Replaces the draft with structured answers of the visit's data form (a JSON object
    /// keyed by question id, rosters as arrays of rows): only the flat keys that differ are
    /// written, so a colleague's concurrent edits of other questions merge.
    pub fn set_visit_answers(
        &mut self,
        household_id: &str,
        visit_id: &str,
        answers: &Json,
    ) -> Result<VisitRecord> {
        let record = self.visit(household_id, visit_id)?;
        let catalog = self.form_catalog()?;
        let TemplateEntry::Form(form) = catalog.get(&record.template)? else {
            return Err(Error::invalid(FieldError::new(
                "template",
                "visit.flat_form",
                "the visit is filled with the minimal template: edit its keys",
            )));
        };
        let structured = Answers::from_json(answers).map_err(|e| {
            Error::invalid(FieldError::new("answers", "form.not_object", e.to_string()))
        })?;
        let flat = form.flatten(&structured)?;
        let mut changes: Vec<(String, Option<Json>)> = record
            .draft
            .keys()
            .filter(|k| !flat.contains_key(*k))
            .map(|k| (k.clone(), None))
            .collect();
        changes.extend(
            flat.into_iter()
                .filter(|(k, v)| record.draft.get(k) != Some(v))
                .map(|(k, v)| (k, Some(v))),
        );
        self.edit_visit_draft(household_id, visit_id, &changes)
    }

    /// The draft of a visit filled with a data form as structured answers.
    pub fn visit_answers(&mut self, household_id: &str, visit_id: &str) -> Result<Json> {
        let record = self.visit(household_id, visit_id)?;
        match self.form_catalog()?.get(&record.template)? {
            TemplateEntry::Form(form) => Ok(form.unflatten(&record.draft)?.to_json()),
            TemplateEntry::Minimal(_) => Ok(Json::Object(record.draft.into_iter().collect())),
        }
    }

    /// Seals the draft (first seal, or a correction of `details.previous`).
    pub fn seal_visit(
        &mut self,
        household_id: &str,
        visit_id: &str,
        details: &SealDetails,
    ) -> Result<SealedRevision> {
        // A sealed record never references bytes this tablet cannot send (ADR 11).
        for hash in &details.attachments {
            if !self.has_attachment(hash)? {
                return Err(Error::invalid(FieldError::new(
                    "attachments",
                    "attachment.missing",
                    format!(
                        "attachment {} is not stored on this tablet: add it first",
                        hash.to_hex()
                    ),
                )));
            }
        }
        let template = self.visit(household_id, visit_id)?.template;
        self.with_visit_form(&template, |store, form| {
            let by = store.authorship();
            let cached = store.load(household_id)?;
            let sealed = document::seal(cached.doc.automerge(), visit_id, details, form, &by)?;
            store.reference_attachments(household_id, &details.attachments)?;
            store.persist(household_id, None)?;
            Ok(sealed)
        })
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
