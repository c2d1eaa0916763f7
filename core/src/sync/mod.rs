//! The sync protocol, shared by tablets and the server: wire messages and their strict
//! codec, change and request signatures, the signed county configuration, and the checks a
//! household's incoming changes must pass before they are accepted. The HTTP transport is
//! not here: tablets reach the server through a transport interface.

mod attachments;
pub mod change_hash;
pub mod client;
pub mod codec;
pub mod county_config;
pub mod county_data;
pub mod enrollment;
pub mod envelope;
pub mod ingest;
pub mod messages;
pub(crate) mod ops;
pub mod signatures;
mod touched;

pub use county_config::{ConfigError, CountyConfig, SignedCountyConfig};
pub use county_data::CountyData;
pub use messages::{
    Cursor, HouseholdChanges, HouseholdOutcome, OutcomeKind, SignedChange, SyncRequest,
    SyncResponse,
};
