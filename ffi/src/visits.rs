//! Signed home visits on [`TabletStore`]: the worker's signing key, what the tablet trusts
//! (county authority key, certificates, revocations, policy), visits from start to
//! verification, the lists, and co-signing in the household with no network (the sealed
//! record as QR codes out, one-QR signature responses back; see also
//! [`crate::CoSignReceiver`]).
//!
//! Every method is a one-liner over `ruhu_core::Store`; conversions are in
//! `visit_records.rs`, the error mapping in `error.rs`. Signing takes the worker's private
//! key from the host key store the store was opened with; no call returns it.

use ruhu_core::signing::keys::WorkerSigner;
use ruhu_core::visit::{VisitError, VisitPolicy};

use crate::error::FfiError;
use crate::store::TabletStore;
use crate::visit_records::{
    self as convert, content_hash, json, public_key, AnswerData, SealData, SealedRevisionData,
    TeamMemberData, VisitData, VisitSummaryData, VisitVerificationData, WorkerCertificateData,
};

fn list<T, U: From<T>>(items: Vec<T>) -> Vec<U> {
    items.into_iter().map(Into::into).collect()
}

#[uniffi::export]
impl TabletStore {
    /// The public key (hex) of this tablet's signing key `key_id`, creating the key pair in
    /// the host key store on first use. The county authority certifies this key.
    pub fn worker_public_key(&self, key_id: String) -> Result<String, FfiError> {
        Ok(WorkerSigner::open_or_create(&self.signing_keys(), &key_id)
            .map_err(VisitError::Key)?
            .public_key()
            .to_hex())
    }

    /// Trusts the county authority key `public_key_hex`, named `key_id` in certificates.
    /// Trusting another key later is refused (a new county key means a new store).
    pub fn set_authority(&self, key_id: String, public_key_hex: String) -> Result<(), FfiError> {
        Ok(self
            .store()?
            .set_authority(&key_id, public_key("public_key_hex", &public_key_hex)?)?)
    }

    /// Verifies and keeps a worker certificate (the county's `SignedCertificate` JSON).
    pub fn add_certificate(&self, cert_json: String) -> Result<WorkerCertificateData, FfiError> {
        Ok(self
            .store()?
            .add_certificate(&json("cert_json", &cert_json)?)?
            .into())
    }

    /// Replaces the revocation list with a newer one (the county's `SignedRevocationList`
    /// JSON) and recomputes the visit lists; returns the new list's serial.
    pub fn set_revocations(&self, list_json: String) -> Result<u64, FfiError> {
        Ok(self
            .store()?
            .set_revocations(&json("list_json", &list_json)?)?
            .serial)
    }

    /// Requires only the national minimum of two investigators (case handler and village
    /// cadre) for every purpose; the default is the provincial three-person team.
    pub fn set_visit_policy_national_minimum(&self) -> Result<(), FfiError> {
        Ok(self
            .store()?
            .set_visit_policy(&VisitPolicy::national_minimum())?)
    }

    /// Starts a visit of a household with its team; returns the new visit id.
    pub fn start_visit(
        &self,
        household_id: String,
        purpose: String,
        team: Vec<TeamMemberData>,
    ) -> Result<String, FfiError> {
        Ok(self.store()?.start_visit(
            &household_id,
            convert::purpose(&purpose)?,
            convert::team(team)?,
        )?)
    }

    /// Starts a visit filled with the newest version of the form `form_id` (e.g.
    /// `home-visit`, or a form the county published); returns the new visit id. The visit
    /// keeps that version whatever is published later.
    pub fn start_visit_with_form(
        &self,
        household_id: String,
        purpose: String,
        team: Vec<TeamMemberData>,
        form_id: String,
    ) -> Result<String, FfiError> {
        Ok(self.store()?.start_visit_with_form(
            &household_id,
            convert::purpose(&purpose)?,
            convert::team(team)?,
            &form_id,
        )?)
    }

    /// Replaces the draft of a visit filled with a data form with `answers_json` (a JSON
    /// object keyed by question id, rosters as arrays of rows); only what differs is written.
    /// Unfinished answers are accepted; wrong ones are refused naming the question and row.
    pub fn set_visit_answers(
        &self,
        household_id: String,
        visit_id: String,
        answers_json: String,
    ) -> Result<VisitData, FfiError> {
        Ok(self
            .store()?
            .set_visit_answers(
                &household_id,
                &visit_id,
                &json("answers_json", &answers_json)?,
            )?
            .into())
    }

    /// The draft of a visit as structured answers (JSON).
    pub fn visit_answers(
        &self,
        household_id: String,
        visit_id: String,
    ) -> Result<String, FfiError> {
        Ok(self
            .store()?
            .visit_answers(&household_id, &visit_id)?
            .to_string())
    }

    /// Sets (`value_json`) or removes (`null`) draft answers; returns the visit.
    pub fn edit_visit_draft(
        &self,
        household_id: String,
        visit_id: String,
        answers: Vec<AnswerData>,
    ) -> Result<VisitData, FfiError> {
        Ok(self
            .store()?
            .edit_visit_draft(&household_id, &visit_id, &convert::answers(answers)?)?
            .into())
    }

    /// A visit with its team, draft and sealed revisions.
    pub fn visit(&self, household_id: String, visit_id: String) -> Result<VisitData, FfiError> {
        Ok(self.store()?.visit(&household_id, &visit_id)?.into())
    }

    /// Seals the draft: the first seal, or a correction of `details.previous_hash_hex`.
    pub fn seal_visit(
        &self,
        household_id: String,
        visit_id: String,
        details: SealData,
    ) -> Result<SealedRevisionData, FfiError> {
        Ok(self
            .store()?
            .seal_visit(&household_id, &visit_id, &details.to_core()?)?
            .into())
    }

    /// Signs a sealed revision of a visit in this store as `role`, with the key `key_id`.
    /// Refused, nothing written, unless the signature would be valid.
    pub fn sign_visit(
        &self,
        household_id: String,
        visit_id: String,
        content_hash_hex: String,
        role: String,
        key_id: String,
    ) -> Result<(), FfiError> {
        self.store()?.sign_visit(
            &household_id,
            &visit_id,
            &content_hash("content_hash_hex", &content_hash_hex)?,
            convert::role("role", &role)?,
            &self.signing_keys(),
            &key_id,
        )?;
        Ok(())
    }

    /// Verifies a visit: overall status and one verdict per signature entry.
    pub fn verify_visit(
        &self,
        household_id: String,
        visit_id: String,
    ) -> Result<VisitVerificationData, FfiError> {
        Ok(self.store()?.verify_visit(&household_id, &visit_id)?.into())
    }

    /// Visits of a village whose latest revision waits for `worker_id`'s signature.
    pub fn visits_awaiting_signature(
        &self,
        worker_id: String,
        village_code: String,
    ) -> Result<Vec<VisitSummaryData>, FfiError> {
        Ok(list(
            self.store()?
                .visits_awaiting_signature(&worker_id, &village_code)?,
        ))
    }

    /// Sealed visits of a village still missing signatures (see `missing_signers`).
    pub fn visits_incomplete(
        &self,
        village_code: String,
    ) -> Result<Vec<VisitSummaryData>, FfiError> {
        Ok(list(self.store()?.visits_incomplete(&village_code)?))
    }

    /// Complete visits of a village.
    pub fn visits_complete(&self, village_code: String) -> Result<Vec<VisitSummaryData>, FfiError> {
        Ok(list(self.store()?.visits_complete(&village_code)?))
    }

    /// Visits of a village someone must look at: invalid or diverged.
    pub fn visits_needing_attention(
        &self,
        village_code: String,
    ) -> Result<Vec<VisitSummaryData>, FfiError> {
        Ok(list(self.store()?.visits_needing_attention(&village_code)?))
    }

    /// The sealed revision as QR-code payloads, shown to the co-signers' tablets.
    pub fn visit_content_chunks(
        &self,
        household_id: String,
        visit_id: String,
        content_hash_hex: String,
    ) -> Result<Vec<Vec<u8>>, FfiError> {
        Ok(self.store()?.visit_content_chunks(
            &household_id,
            &visit_id,
            &content_hash("content_hash_hex", &content_hash_hex)?,
        )?)
    }

    /// Co-signs content this tablet received (or holds) as `role` with the key `key_id`;
    /// returns the signature response to show as one QR code. Refused unless this tablet
    /// holds the content and the signature would be valid.
    pub fn cosign(
        &self,
        content_hash_hex: String,
        role: String,
        key_id: String,
    ) -> Result<Vec<u8>, FfiError> {
        Ok(self.store()?.cosign(
            &content_hash("content_hash_hex", &content_hash_hex)?,
            convert::role("role", &role)?,
            &self.signing_keys(),
            &key_id,
        )?)
    }

    /// Imports a co-signer's scanned response for the revision this tablet shows; returns
    /// the visit's verification. Refused for another visit or revision, content this tablet
    /// does not hold, an unknown signer or any signature that is not valid.
    pub fn import_signature_response(
        &self,
        household_id: String,
        visit_id: String,
        content_hash_hex: String,
        response: Vec<u8>,
    ) -> Result<VisitVerificationData, FfiError> {
        Ok(self
            .store()?
            .import_signature_response(
                &household_id,
                &visit_id,
                &content_hash("content_hash_hex", &content_hash_hex)?,
                &response,
            )?
            .into())
    }
}
