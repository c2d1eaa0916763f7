//! # ruhu-core
//!
//! The offline-first core of the home-visit system: household documents (one Automerge
//! document per household), the tablet's encrypted store, and — as they land — signed visits,
//! scoring and sync. It has no knowledge of uniffi: `ruhu-ffi` wraps it for Android and iOS.
//!
//! ## A household, offline, on one tablet
//!
//! ```
//! use ruhu_core::household::*;
//! use ruhu_core::store::{FileKeyStore, ListFilter, Store, StoreConfig};
//! use chrono::NaiveDate;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let keys = FileKeyStore::new(dir.path().join("keys"));
//! let mut store = Store::open(StoreConfig::new(dir.path().join("tablet.db"), "tablet", "worker-7"), &keys)?;
//!
//! let head = Member {
//!     name: "王秀英".into(),
//!     id_number: ruhu_core::resident_id::with_check_char("62010219560304002"),
//!     relation: Relation::Head,
//!     birth_date: NaiveDate::from_ymd_opt(1956, 3, 4).unwrap(),
//!     health: Health::ChronicIllness,
//!     disability: Disability::None,
//!     disability_grade: None,
//!     labour_ability: LabourAbility::Partial,
//!     extra: Default::default(),
//! };
//! let created = store.create_household(NewHousehold {
//!     county_code: "620102".into(),
//!     township_code: "620102001".into(),
//!     village_code: "620102001001".into(),
//!     address: "一组 12 号".into(),
//!     status: HouseholdStatus::Active,
//!     status_since: NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
//!     phone: None,
//!     enrollment: Enrollment {
//!         program: Program::RuralDibao,
//!         dibao_class: Some(2),
//!         start_date: None,
//!         end_date: None,
//!         extra: Default::default(),
//!     },
//!     members: vec![head],
//! })?;
//!
//! // Lists read the index, never the documents.
//! let village = store.list_village("620102001001", &ListFilter::default())?;
//! assert_eq!(village[0].head_name, "王秀英");
//!
//! // Edits are diffs against what was read; an invalid edit changes nothing.
//! let err = store
//!     .edit_household(&created.id, |h| h.enrollment.dibao_class = Some(7))
//!     .unwrap_err();
//! assert_eq!(err.field_errors()[0].field, "enrollment.dibao_class");
//! store.edit_household(&created.id, |h| h.enrollment.dibao_class = Some(1))?;
//! assert_eq!(store.household(&created.id)?.household.enrollment.dibao_class, Some(1));
//! # Ok(()) }
//! ```
//!
//! ## Conflicts
//!
//! Two tablets that set the same field offline both keep their value after merging; the
//! field is listed in [`store::HouseholdRecord::conflicts`] with who wrote each value and
//! when, edits of it are refused with [`Error::FieldConflicted`], and
//! [`store::Store::resolve_conflict`] settles it with a change that syncs like any other.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod calendar;
pub mod care;
pub mod case;
pub mod error;
pub mod fixtures;
pub mod forms;
pub mod household;
pub mod resident_id;
pub mod scoring;
pub mod signing;
pub mod standards;
pub mod store;
pub mod sync;
pub mod visit;

pub use error::{Error, FieldError, Result};
pub use store::{HouseholdRecord, Store, StoreConfig};
