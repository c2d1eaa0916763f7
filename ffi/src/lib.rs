//! # ruhu-ffi
//!
//! The uniffi layer over `ruhu-core` for Android (Kotlin) and iOS (Swift). It only wraps:
//! exported objects hold a core type, methods are one-liners that convert records and map
//! errors. No panic crosses the boundary (uniffi turns one into an `InternalException`).
//!
//! **Every call is blocking** (it may touch the disk or, later, the network). Apps call it off
//! the main thread: a background `Dispatchers.IO` coroutine on Android, a background
//! `DispatchQueue`/`Task` on iOS.

uniffi::setup_scaffolding!();

mod error;
mod key_store;
mod records;
mod store;

pub use error::{FfiError, FieldProblem};
pub use key_store::{HostKeyStore, KeyStoreError};
pub use records::*;
pub use store::TabletStore;

/// The version of this library (for support and the sync server's minimum-version check).
#[uniffi::export]
pub fn library_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
