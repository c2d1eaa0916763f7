//! Home visits signed by everyone who visited (谁入户、谁签字、谁负责).
//!
//! | module | what it is |
//! |---|---|
//! | [`content`] | the sealed record format v1: canonical JSON, hashed with SHA-256 |
//! | [`template`] | the built-in minimal home-visit template |
//! | [`policy`] | which roles must sign, per purpose (configuration) |
//! | [`document`] | visits inside the household's Automerge document: draft, seal, correction |
//! | [`entry`] | how one signature (with its certificate) is stored |
//! | [`verify`] | per-signer and per-visit verdicts; the import gate; signing checks |
//! | [`cosign`] | co-signing in the household with no network: QR chunks and responses |
//! | [`error`] | refusals, with stable codes |

pub mod content;
pub mod cosign;
pub mod document;
pub mod entry;
pub mod error;
pub mod policy;
pub mod template;
pub mod verify;

pub use content::{ContentHash, Gps, Place, RemoteMode, SealedContent, TeamMember};
pub use document::{NewVisit, SealDetails, SealedRevision, VisitRecord};
pub use error::VisitError;
pub use policy::{Purpose, VisitPolicy};
pub use verify::{RevisionStatus, SignerVerdict, VisitStatus, VisitVerification};
