//! `TabletStore`: the encrypted household store on this tablet.

use std::sync::{Arc, Mutex, MutexGuard};

use ruhu_core::store::ListFilter;
use ruhu_core::{Store, StoreConfig};

use crate::error::FfiError;
use crate::key_store::{ForeignKeyStore, ForeignSecretKeys, HostKeyStore};
use crate::records::{parse_heads, HouseholdData, HouseholdSummaryData, HouseholdView};

/// The tablet's encrypted store. Thread-safe; calls are serialised and blocking.
#[derive(Debug, uniffi::Object)]
pub struct TabletStore {
    inner: Mutex<Store>,
    /// The host key store the store was opened with; signing calls take the worker's key
    /// from it.
    keys: Arc<dyn HostKeyStore>,
}

impl TabletStore {
    /// The host key store as the core's signing-key store.
    pub(crate) fn signing_keys(&self) -> ForeignSecretKeys {
        ForeignSecretKeys(Arc::clone(&self.keys))
    }

    pub(crate) fn store(&self) -> Result<MutexGuard<'_, Store>, FfiError> {
        self.inner.lock().map_err(|_| FfiError::Storage {
            code: "store.poisoned".into(),
            detail: "an earlier call failed mid-way; reopen the store".into(),
        })
    }
}

#[uniffi::export]
impl TabletStore {
    /// Opens (or creates) the store at `path`, asking `key_store` for the key named `store_id`.
    /// `worker_id` is written as the author of every change made through this store; the
    /// store keeps `key_store` for the worker's signing key.
    #[uniffi::constructor]
    pub fn open(
        path: String,
        store_id: String,
        worker_id: String,
        key_store: Arc<dyn HostKeyStore>,
    ) -> Result<Arc<Self>, FfiError> {
        let store = Store::open(
            StoreConfig::new(path, &store_id, &worker_id),
            &ForeignKeyStore(Arc::clone(&key_store)),
        )?;
        Ok(Arc::new(Self {
            inner: Mutex::new(store),
            keys: key_store,
        }))
    }

    /// Creates a household (ids are assigned here) and returns it as stored.
    pub fn create_household(&self, household: HouseholdData) -> Result<HouseholdView, FfiError> {
        let mut store = self.store()?;
        let created = store.create_household(household.to_new()?)?;
        Ok(store.household(&created.id)?.into())
    }

    /// Reads one household with its heads, conflicts and problems.
    pub fn household(&self, household_id: String) -> Result<HouseholdView, FfiError> {
        Ok(self.store()?.household(&household_id)?.into())
    }

    /// Saves an edited household read with `heads`; only changed fields are written.
    pub fn update_household(
        &self,
        household: HouseholdData,
        heads: Vec<String>,
    ) -> Result<HouseholdView, FfiError> {
        Ok(self
            .store()?
            .update_household(&household.to_core()?, &parse_heads(&heads)?)?
            .into())
    }

    /// Settles a conflicted field with `value_json` (e.g. `"\"二组 3 号\""`).
    pub fn resolve_conflict(
        &self,
        household_id: String,
        field: String,
        value_json: String,
    ) -> Result<HouseholdView, FfiError> {
        let value = serde_json::from_str(&value_json)
            .map_err(|e| FfiError::invalid("value_json", "json", e.to_string()))?;
        Ok(self
            .store()?
            .resolve_conflict(&household_id, &field, value)?
            .into())
    }

    /// Households of a village, optionally only one programme and/or status.
    pub fn list_village(
        &self,
        village_code: String,
        program: Option<String>,
        status: Option<String>,
    ) -> Result<Vec<HouseholdSummaryData>, FfiError> {
        let filter = ListFilter { program, status };
        Ok(self
            .store()?
            .list_village(&village_code, &filter)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Households in `villages` with a member whose name contains `name_part`.
    pub fn search_by_name(
        &self,
        villages: Vec<String>,
        name_part: String,
    ) -> Result<Vec<HouseholdSummaryData>, FfiError> {
        Ok(self
            .store()?
            .search_by_name(&villages, &name_part)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Households in `villages` with a member holding `id_number`.
    pub fn find_by_id_number(
        &self,
        villages: Vec<String>,
        id_number: String,
    ) -> Result<Vec<HouseholdSummaryData>, FfiError> {
        Ok(self
            .store()?
            .find_by_id_number(&villages, &id_number)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// The list line of one household (cheap: no document is loaded).
    pub fn summary(&self, household_id: String) -> Result<HouseholdSummaryData, FfiError> {
        Ok(self.store()?.summary(&household_id)?.into())
    }

    /// The household's changes not covered by `heads` (all for an empty list).
    pub fn changes_since(
        &self,
        household_id: String,
        heads: Vec<String>,
    ) -> Result<Vec<Vec<u8>>, FfiError> {
        Ok(self
            .store()?
            .changes_since(&household_id, &parse_heads(&heads)?)?)
    }

    /// Merges another tablet's changes of a household (validated; all or nothing).
    pub fn import_changes(
        &self,
        household_id: String,
        changes: Vec<Vec<u8>>,
    ) -> Result<HouseholdView, FfiError> {
        Ok(self
            .store()?
            .import_changes(&household_id, &changes)?
            .into())
    }

    /// The Automerge actor id of this opening.
    pub fn actor_id(&self) -> Result<String, FfiError> {
        Ok(self.store()?.actor_id())
    }
}
