//! Home visits signed by everyone who visited (谁入户、谁签字、谁负责).
//!
//! | module | what it is |
//! |---|---|
//! | [`content`] | the sealed record format v1: canonical JSON, hashed with SHA-256 |
//! | [`template`] | the built-in minimal home-visit template |
//! | [`policy`] | which roles must sign, per purpose (configuration) |
//! | [`document`] | visits inside the household's Automerge document: start, draft, seal, correction |
//! | [`document_read`] | reading visits back: every concurrent value, intact revisions, the app's view |
//! | [`entry`] | how one signature (with its certificate) is stored |
//! | [`verify`] | per-signer and per-visit verdicts (re-exports the three below) |
//! | [`signer_check`] | the verdict on one signature entry, with verified certificates cached |
//! | [`sign`] | signing on this tablet: refused unless it holds the content and the signature would be valid |
//! | [`integrity`] | the import gate: structural checks that need no keys |
//! | [`cosign`] | co-signing in the household with no network: QR chunks and responses |
//! | [`error`] | refusals, with stable codes |

pub mod attachment_check;
pub mod content;
pub mod cosign;
pub mod document;
pub mod document_read;
pub mod entry;
pub mod error;
pub mod form;
pub mod integrity;
pub mod policy;
pub mod sign;
pub mod signer_check;
pub mod template;
pub mod verify;

pub use content::{ContentHash, Gps, Place, RemoteMode, SealedContent, TeamMember};
pub use document::{NewVisit, SealDetails, SealedRevision, VisitRecord};
pub use error::VisitError;
pub use policy::{Purpose, VisitPolicy};
pub use verify::{RevisionStatus, SignerVerdict, VisitStatus, VisitVerification};
