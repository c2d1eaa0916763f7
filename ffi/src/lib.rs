//! # ruhu-ffi
//!
//! The uniffi layer over `ruhu-core` for Android (Kotlin) and iOS (Swift). It only wraps:
//! exported objects hold a core type, methods are one-liners that convert records and map
//! errors. No panic crosses the boundary (uniffi turns one into an `InternalException`).
//!
//! **Every call is blocking** (it may touch the disk or, later, the network). Apps call it off
//! the main thread: a background `Dispatchers.IO` coroutine on Android, a background
//! `DispatchQueue`/`Task` on iOS.
//!
//! | file | what it exports |
//! |---|---|
//! | `store.rs` | `TabletStore`: open, households, exchange of changes |
//! | `visits.rs` | `TabletStore`: signing key, trust, signed visits, lists, co-signing |
//! | `attachments.rs` | `TabletStore`: photos and signature images in, bytes out by hash |
//! | `county_work.rs` | `TabletStore`: answers checked against form templates, case events, what is due |
//! | `benefits.rs` | `TabletStore`: benefit amounts in both modes, the village publicity list |
//! | `care.rs` | `TabletStore`: dispersed care — events, a person's record and task statuses, the care lists |
//! | `cosign_receiver.rs` | `CoSignReceiver`: scanning a sealed record's QR codes |
//! | `sync.rs` | `TabletStore`: enrollment, sync (then purge), refusals, rebase, local link |
//! | `office.rs` | `TabletStore`: the team lead's office view, purging out-of-scope households |
//! | `key_store.rs` | `HostKeyStore`: the app's platform key store (database and signing keys) |
//! | `records.rs`, `visit_records.rs` | records and their conversions |
//! | `error.rs` | `FfiError` with stable codes, and how core errors map to it |
//! | `test_support.rs` | `TestAuthority` — desktop and test tooling only (`test-support` feature) |

uniffi::setup_scaffolding!();

mod attachments;
mod benefits;
mod care;
mod cosign_receiver;
mod county_work;
mod error;
mod key_store;
mod office;
mod records;
mod store;
mod sync;
#[cfg(feature = "test-support")]
mod test_support;
mod visit_records;
mod visits;

pub use benefits::{BenefitData, PublicityLineData};
pub use care::*;
pub use cosign_receiver::CoSignReceiver;
pub use county_work::{AnswerProblemData, CaseData, CaseDueData, ScoringResultData};
pub use error::{FfiError, FieldProblem};
pub use key_store::{HostKeyStore, KeyStoreError};
pub use office::*;
pub use records::*;
pub use store::TabletStore;
pub use sync::{HostTransport, HttpHeader, HttpResponseData, TransportError};
#[cfg(feature = "test-support")]
pub use test_support::TestAuthority;
pub use visit_records::*;

/// The version of this library (for support and the sync server's minimum-version check).
#[uniffi::export]
pub fn library_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
