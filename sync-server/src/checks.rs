//! Checks of the records this server holds — what the supervisors' console will show: a
//! stored visit verified with the county's trust and policy and with its attachments as they
//! are on this server's disk (an attachment altered there makes the visit invalid).

use ruhu_core::visit::attachment_check::verify_visit_with_attachments;
use ruhu_core::visit::VisitVerification;

use crate::error::ApiError;
use crate::AppState;

impl AppState {
    /// The verdict on visit `visit_id` of stored household `household_id` (`None`: no such
    /// household), attachments included.
    pub fn verify_visit(
        &self,
        household_id: &str,
        visit_id: &str,
    ) -> Result<Option<VisitVerification>, ApiError> {
        let county = crate::routes::current(self)?;
        let Some(stored) = self.storage.load_household(household_id)? else {
            return Ok(None);
        };
        let doc = stored.document(household_id)?;
        let fetch = |hash: &ruhu_core::visit::ContentHash| self.attachments.read_stored(&hash.0);
        let verification = verify_visit_with_attachments(
            &doc,
            visit_id,
            &county.config.visit_policy,
            &county.trust,
            &fetch,
        )
        .map_err(|e| ApiError::bad_request("visit.unreadable", e.to_string()))?;
        Ok(Some(verification))
    }
}
