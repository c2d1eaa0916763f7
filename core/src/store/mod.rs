//! The tablet's store: household documents and their indexes in one SQLCipher database.
//!
//! - Documents are stored as a snapshot plus appended change chunks ([`chunks`]); after
//!   [`StoreConfig::compact_after_chunks`] chunks they are folded into a new snapshot.
//! - Index tables ([`index`]) answer lists and searches without loading documents; they are
//!   written in the same transaction as the chunk they describe.
//! - The whole file (and its WAL) is encrypted with a raw 256-bit key from the host's
//!   [`KeyStore`]; `PRAGMA synchronous = FULL` makes every acknowledged write survive power
//!   loss (ADR 0003). `PRAGMA secure_delete = ON` overwrites deleted content, so a purged
//!   household leaves nothing in free pages (ADR 0009).
//! - Every opening uses a fresh Automerge actor id, so a store restored from a copy can never
//!   reuse one (ADR 0004).

mod attachments;
mod benefits;
mod cache;
mod care;
mod care_index;
mod cases;
pub(crate) mod chunks;
mod county_data;
pub(crate) mod index;
pub mod keying;
pub mod keystore;
mod office;
mod outbox;
mod purge;
mod rebase;
pub(crate) mod schema;
mod sync_state;
mod trust;
mod visit_index;
mod visits;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use automerge::{ActorId, ChangeHash};
use chrono::{FixedOffset, NaiveDate, Utc};
use ring::rand::{SecureRandom, SystemRandom};
use rusqlite::{Connection, ErrorCode, OpenFlags, Transaction};

use crate::error::{Error, FieldError, Result};
use crate::household::validate::validate_household;
use crate::household::{
    Authorship, FieldConflict, Household, HouseholdDocument, NewHousehold, Relation,
};
pub use attachments::PendingUpload;
pub use benefits::BenefitBasis;
use cache::DocumentCache;
pub use index::{HouseholdSummary, ListFilter};
pub use keystore::{FileKeyStore, KeyStore, KeyStoreError};
pub use office::{DeviceBacklog, HouseholdConflicts, NotAcceptedHousehold, OfficeView};
pub use outbox::SigningIdentity;
pub use purge::{KeptHousehold, PurgeReport};
pub use rebase::RebaseOutcome;
pub use sync_state::{HouseholdSyncStatus, IngestInputs, SyncCursor};
pub use visit_index::VisitSummary;

/// Default largest attachment: 32 MiB (a 20 MB photo fits).
pub const DEFAULT_MAX_ATTACHMENT_BYTES: u64 = 32 << 20;

/// How to open a store.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// The database file.
    pub path: PathBuf,
    /// Name of this store's key in the host key store.
    pub store_id: String,
    /// Worker id written as the author of every local change.
    pub worker_id: String,
    /// Fold a household's chunks into one snapshot once it has this many.
    pub compact_after_chunks: u32,
    /// Household documents kept in memory.
    pub cache_capacity: usize,
    /// The county's time zone, as an offset from UTC in seconds (China: +8 h).
    pub utc_offset_seconds: i32,
    /// Largest attachment (photo, signature image) accepted, in bytes.
    pub max_attachment_bytes: u64,
}

impl StoreConfig {
    /// Defaults for a tablet: compact after 10 chunks, 64 cached documents, UTC+8, attachments
    /// up to [`DEFAULT_MAX_ATTACHMENT_BYTES`].
    pub fn new(path: impl Into<PathBuf>, store_id: &str, worker_id: &str) -> Self {
        Self {
            path: path.into(),
            store_id: store_id.to_owned(),
            worker_id: worker_id.to_owned(),
            compact_after_chunks: 10,
            cache_capacity: 64,
            utc_offset_seconds: 8 * 3600,
            max_attachment_bytes: DEFAULT_MAX_ATTACHMENT_BYTES,
        }
    }
}

/// A household as read from the store, with the version it was read at.
#[derive(Debug, Clone, PartialEq)]
pub struct HouseholdRecord {
    pub household: Household,
    /// The document heads this model was read at; pass them back with the edited model.
    pub heads: Vec<ChangeHash>,
    /// Fields holding concurrent values, waiting for a person to resolve them.
    pub conflicts: Vec<FieldConflict>,
    /// Validation problems of the merged state (e.g. two tablets each named a different head);
    /// edits are refused only when they add a problem.
    pub problems: Vec<FieldError>,
}

/// The tablet's encrypted store of household documents.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    config: StoreConfig,
    actor: ActorId,
    offset: FixedOffset,
    cache: DocumentCache,
    identity: Option<SigningIdentity>,
}

impl Store {
    /// Opens (or creates) the store, asking `keys` for its database key.
    pub fn open(config: StoreConfig, keys: &dyn KeyStore) -> Result<Self> {
        let offset = FixedOffset::east_opt(config.utc_offset_seconds).ok_or_else(|| {
            Error::invalid(
                FieldError::new(
                    "utc_offset_seconds",
                    "range",
                    "time zone offset out of range",
                )
                .with("value", config.utc_offset_seconds),
            )
        })?;
        let key = keys.database_key(&config.store_id).map_err(|e| match e {
            KeyStoreError::Locked => Error::KeyStoreLocked,
            KeyStoreError::Unavailable(why) => Error::KeyStore(why),
        })?;
        if key.len() != 32 {
            return Err(Error::KeyStore(format!(
                "the database key must be 32 bytes, got {}",
                key.len()
            )));
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(&config.path, flags)?;
        match keying::key_and_probe(&conn, &key) {
            Ok(_) => {}
            Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == ErrorCode::NotADatabase => {
                return Err(Error::WrongKey)
            }
            Err(e) => return Err(e.into()),
        }
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA temp_store = MEMORY;
             PRAGMA foreign_keys = ON;
             PRAGMA secure_delete = ON;",
        )?;
        schema::init(&mut conn)?;
        let actor = new_actor()?;
        conn.execute(
            "INSERT INTO actors (actor_id, opened_at) VALUES (?1, ?2)",
            rusqlite::params![actor.to_bytes(), Utc::now().timestamp()],
        )?;
        let cache = DocumentCache::new(config.cache_capacity);
        Ok(Self {
            conn,
            config,
            actor,
            offset,
            cache,
            identity: None,
        })
    }

    pub(crate) fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The Automerge actor id of this opening (hex).
    pub fn actor_id(&self) -> String {
        self.actor.to_hex_string()
    }

    /// The worker id stamped on local changes.
    pub fn worker_id(&self) -> &str {
        &self.config.worker_id
    }

    /// Today in the county's time zone.
    pub fn today(&self) -> NaiveDate {
        Utc::now().with_timezone(&self.offset).date_naive()
    }

    fn authorship(&self) -> Authorship {
        Authorship {
            worker_id: self.config.worker_id.clone(),
            time_unix: Utc::now().timestamp(),
        }
    }

    /// Creates a household; returns it with its new ids.
    pub fn create_household(&mut self, new: NewHousehold) -> Result<Household> {
        let mut created = self.create_households(vec![new])?;
        created
            .pop()
            .ok_or_else(|| Error::Document("nothing created".into()))
    }

    /// Creates households in one transaction: either all are written or none (the errors of
    /// the first invalid one are returned, with fields prefixed by its position).
    pub fn create_households(&mut self, batch: Vec<NewHousehold>) -> Result<Vec<Household>> {
        let today = self.today();
        let by = self.authorship();
        let mut prepared = Vec::with_capacity(batch.len());
        for (i, new) in batch.into_iter().enumerate() {
            let mut household = assign_ids(new)?;
            let errors = validate_household(&mut household, today);
            if !errors.is_empty() {
                return Err(Error::Invalid(
                    errors
                        .into_iter()
                        .map(|e| e.under(&format!("[{i}]")))
                        .collect(),
                ));
            }
            let mut doc = HouseholdDocument::create(&household, self.actor.clone(), &by)?;
            let snapshot = doc.save();
            let heads = doc.heads();
            let created: Vec<automerge::Change> = doc.automerge().get_changes(&[]);
            prepared.push((household, doc, snapshot, heads, created));
        }
        let tx = self.conn.transaction()?;
        for (household, _, snapshot, _, created) in &prepared {
            chunks::append(&tx, &household.id, true, snapshot)?;
            index::write(&tx, household, false, by.time_unix)?;
            outbox::record_local(
                &tx,
                &household.id,
                created,
                self.identity.as_ref(),
                by.time_unix,
            )?;
        }
        tx.commit()?;
        let mut out = Vec::with_capacity(prepared.len());
        for (household, doc, _, heads, _) in prepared {
            self.cache.insert(household.id.clone(), doc, heads, 1);
            out.push(household);
        }
        Ok(out)
    }

    /// Reads a household with its heads, conflicts and problems.
    pub fn household(&mut self, id: &str) -> Result<HouseholdRecord> {
        let today = self.today();
        let cached = self.load(id)?;
        let household = cached.doc.household()?;
        let heads = cached.doc.heads();
        let conflicts = cached.doc.conflicts()?;
        let problems = validate_household(&mut household.clone(), today);
        Ok(HouseholdRecord {
            household,
            heads,
            conflicts,
            problems,
        })
    }

    /// Writes the fields of `edited` that differ from the household as it was at `base_heads`
    /// (the heads of the [`HouseholdRecord`] it was edited from). Refused, changing nothing,
    /// if the edit adds a validation problem or touches a conflicted field.
    pub fn update_household(
        &mut self,
        edited: &Household,
        base_heads: &[ChangeHash],
    ) -> Result<HouseholdRecord> {
        let today = self.today();
        let by = self.authorship();
        let id = edited.id.clone();
        let cached = self.load(&id)?;
        let mut base = if cached.doc.heads().as_slice() == base_heads {
            cached.doc.household()?
        } else {
            cached.doc.household_at(base_heads).map_err(|_| {
                Error::invalid(FieldError::new(
                    "heads",
                    "heads.unknown",
                    "the household was not read from this store",
                ))
            })?
        };
        // A caller that dropped the unknown fields (apps through ffi) keeps them unchanged;
        // one that changed the visits map is refused.
        let edited_visits = edited.extra.get(crate::visit::document::VISITS_KEY);
        if edited_visits.is_some()
            && edited_visits != base.extra.get(crate::visit::document::VISITS_KEY)
        {
            return Err(Error::invalid(FieldError::new(
                "visits",
                "read_only",
                "visits change only through the visit functions",
            )));
        }
        let mut edited = edited.clone();
        keep_unknown_fields(&base, &mut edited);
        let known: Vec<(String, &str)> = validate_household(&mut base, today)
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect();
        let added: Vec<FieldError> = validate_household(&mut edited, today)
            .into_iter()
            .filter(|e| !known.contains(&(e.field.clone(), e.code)))
            .collect();
        if !added.is_empty() {
            return Err(Error::Invalid(added));
        }
        if cached.doc.update(base_heads, &edited, &by)?.is_some() {
            self.persist(&id, None)?;
        }
        self.household(&id)
    }

    /// Reads the household, applies `edit` to it and writes the result.
    pub fn edit_household(
        &mut self,
        id: &str,
        edit: impl FnOnce(&mut Household),
    ) -> Result<HouseholdRecord> {
        let record = self.household(id)?;
        let mut household = record.household;
        edit(&mut household);
        if household.id != id {
            return Err(Error::invalid(FieldError::new(
                "id",
                "read_only",
                "the household id cannot change",
            )));
        }
        self.update_household(&household, &record.heads)
    }

    /// Resolves the conflict on `field` (a dotted path as listed in the record's conflicts) by
    /// writing `value`, which replaces every concurrent value once it has synced.
    pub fn resolve_conflict(
        &mut self,
        id: &str,
        field: &str,
        value: serde_json::Value,
    ) -> Result<HouseholdRecord> {
        let today = self.today();
        let by = self.authorship();
        let parts: Vec<&str> = field.split('.').collect();
        if parts[0] == crate::care::CARE_KEY || parts[0] == crate::case::CASE_KEY {
            return Err(Error::invalid(FieldError::new(
                field,
                "read_only",
                "care and case events change only through the care and case functions",
            )));
        }
        if parts[0] == crate::visit::document::VISITS_KEY
            && !(parts.len() == 4 && parts[2] == "draft")
        {
            return Err(Error::invalid(FieldError::new(
                field,
                "read_only",
                "only visit draft answers can be resolved",
            )));
        }
        let cached = self.load(id)?;
        if !cached.doc.conflicts()?.iter().any(|c| c.field == field) {
            return Err(Error::NoConflict {
                field: field.to_owned(),
            });
        }
        let mut resolved = cached.doc.household_with(field, &value)?;
        let errors: Vec<FieldError> = validate_household(&mut resolved, today)
            .into_iter()
            .filter(|e| e.field == field)
            .collect();
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        cached.doc.resolve(field, &value, &by)?;
        self.persist(id, None)?;
        self.household(id)
    }

    /// The changes of a household not covered by `heads` (all of them for `&[]`), each as its
    /// raw Automerge change bytes, in an order another store can apply.
    pub fn changes_since(&mut self, id: &str, heads: &[ChangeHash]) -> Result<Vec<Vec<u8>>> {
        let cached = self.load(id)?;
        Ok(cached
            .doc
            .automerge()
            .get_changes(heads)
            .iter()
            .map(|c| c.raw_bytes().to_vec())
            .collect())
    }

    /// Merges changes from another tablet (from [`Self::changes_since`]) into the household,
    /// creating it if this store does not have it yet. Each change is decoded strictly; the
    /// merged result must still be this household. On any error nothing is kept.
    pub fn import_changes(&mut self, id: &str, changes: &[Vec<u8>]) -> Result<HouseholdRecord> {
        let decoded = decode_changes(id, changes)?;
        if index::get(&self.conn, id)?.is_none() && self.cache.get(id).is_none() {
            let doc = HouseholdDocument::from_automerge(
                automerge::AutoCommit::new().with_actor(self.actor.clone()),
            );
            self.cache.insert(id.to_owned(), doc, Vec::new(), 0);
        }
        let result = self.merge_into_cached(id, decoded);
        if result.is_err() {
            self.cache.evict(id);
        }
        result?;
        self.household(id)
    }

    fn merge_into_cached(&mut self, id: &str, changes: Vec<automerge::Change>) -> Result<()> {
        let cached = self.load(id)?;
        let corrupt = |reason: String| Error::CorruptDocument {
            id: id.to_owned(),
            reason,
        };
        let incoming: Vec<&automerge::Change> = changes.iter().collect();
        if let Some(why) =
            crate::care::integrity::append_only_violation(cached.doc.automerge(), &incoming)
        {
            return Err(Error::invalid(FieldError::new(
                crate::care::CARE_KEY,
                crate::care::integrity::EVENT_ALTERED,
                why,
            )));
        }
        catch_unwind(AssertUnwindSafe(|| {
            cached.doc.automerge().apply_changes(changes)
        }))
        .map_err(|_| corrupt("the changes could not be applied".into()))?
        .map_err(|e| corrupt(e.to_string()))?;
        if !cached.doc.automerge().get_missing_deps(&[]).is_empty() {
            return Err(Error::MissingDependencies { id: id.to_owned() });
        }
        if !cached.doc.has_single_id(id) {
            return Err(corrupt("the changes belong to another household".into()));
        }
        cached.doc.household()?;
        let problems = crate::visit::verify::check_integrity(cached.doc.automerge())?;
        if !problems.is_empty() {
            return Err(crate::visit::error::VisitError::ImportRefused { problems }.into());
        }
        let has_conflicts = !cached.doc.conflicts()?.is_empty();
        self.persist(id, Some(has_conflicts))
    }

    /// Households of one village.
    pub fn list_village(
        &self,
        village_code: &str,
        filter: &ListFilter,
    ) -> Result<Vec<HouseholdSummary>> {
        index::list_village(&self.conn, village_code, filter)
    }

    /// Households in `villages` with a member whose name contains `name_part`.
    pub fn search_by_name(
        &self,
        villages: &[String],
        name_part: &str,
    ) -> Result<Vec<HouseholdSummary>> {
        index::search_name(&self.conn, villages, name_part.trim())
    }

    /// Households in `villages` with a member holding this ID number.
    pub fn find_by_id_number(
        &self,
        villages: &[String],
        id_number: &str,
    ) -> Result<Vec<HouseholdSummary>> {
        index::find_id_number(&self.conn, villages, id_number)
    }

    /// The list line of one household.
    pub fn summary(&self, id: &str) -> Result<HouseholdSummary> {
        index::get(&self.conn, id)?.ok_or_else(|| Error::NotFound {
            what: "household",
            id: id.to_owned(),
        })
    }

    /// How many chunks (snapshot included) hold this household on disk.
    pub fn stored_chunk_count(&self, id: &str) -> Result<usize> {
        Ok(chunks::read(&self.conn, id)?.len())
    }

    /// Drops every document from memory (the next read loads from disk).
    pub fn clear_cache(&mut self) {
        self.cache.clear();
    }

    /// `PRAGMA integrity_check` result (`"ok"` when healthy).
    pub fn integrity_check(&self) -> Result<String> {
        Ok(self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }

    /// Loads a household document into the cache (if needed) and returns it.
    fn load(&mut self, id: &str) -> Result<&mut cache::CachedDocument> {
        if self.cache.get(id).is_none() {
            let stored = chunks::read(&self.conn, id)?;
            if stored.is_empty() {
                return Err(Error::NotFound {
                    what: "household",
                    id: id.to_owned(),
                });
            }
            let refs: Vec<&[u8]> = stored.iter().map(|(_, b)| b.as_slice()).collect();
            let mut doc = HouseholdDocument::load(id, &refs, self.actor.clone())?;
            let heads = doc.heads();
            self.cache
                .insert(id.to_owned(), doc, heads, stored.len() as u32);
        }
        self.cache.get(id).ok_or_else(|| Error::NotFound {
            what: "household",
            id: id.to_owned(),
        })
    }

    /// Writes what the cached document has beyond its saved heads, compacting when due, and
    /// refreshes the index — in one transaction. On failure the cached copy is dropped so
    /// memory never runs ahead of the disk.
    fn persist(&mut self, id: &str, has_conflicts: Option<bool>) -> Result<()> {
        self.persist_with(id, has_conflicts, |_| Ok(()))
    }

    /// [`Self::persist`], running `also` in the same transaction.
    pub(crate) fn persist_with(
        &mut self,
        id: &str,
        has_conflicts: Option<bool>,
        also: impl FnOnce(&Transaction<'_>) -> Result<()>,
    ) -> Result<()> {
        let result = self.try_persist(id, has_conflicts, also);
        if result.is_err() {
            self.cache.evict(id);
        }
        result
    }

    fn try_persist(
        &mut self,
        id: &str,
        has_conflicts: Option<bool>,
        also: impl FnOnce(&Transaction<'_>) -> Result<()>,
    ) -> Result<()> {
        let compact_after = self.config.compact_after_chunks;
        let now = Utc::now().timestamp();
        let tx: Transaction<'_> = self.conn.transaction()?;
        let cached = match self.cache.get(id) {
            Some(c) => c,
            None => {
                return Err(Error::NotFound {
                    what: "household",
                    id: id.to_owned(),
                })
            }
        };
        let has_conflicts = match has_conflicts {
            Some(flag) => flag,
            None => !cached.doc.conflicts()?.is_empty(),
        };
        let own: Vec<automerge::Change> = cached
            .doc
            .automerge()
            .get_changes(&cached.saved_heads)
            .into_iter()
            .filter(|c| c.actor_id() == &self.actor)
            .collect();
        outbox::record_local(&tx, id, &own, self.identity.as_ref(), now)?;
        also(&tx)?;
        let chunk = cached.doc.save_after(&cached.saved_heads);
        let mut count = cached.chunk_count;
        if cached.chunk_count == 0 {
            let snapshot = cached.doc.save();
            chunks::replace_with_snapshot(&tx, id, &snapshot)?;
            count = 1;
        } else if !chunk.is_empty() {
            count = chunks::append(&tx, id, false, &chunk)?;
            if count >= compact_after {
                let snapshot = cached.doc.save();
                chunks::replace_with_snapshot(&tx, id, &snapshot)?;
                count = 1;
            }
        }
        let household = cached.doc.household()?;
        index::write(&tx, &household, has_conflicts, now)?;
        visit_index::write_index(&tx, id, &mut cached.doc, now)?;
        care_index::write_index(
            &tx,
            id,
            &household.profile.village_code,
            cached.doc.automerge(),
        )?;
        tx.commit()?;
        cached.saved_heads = cached.doc.heads();
        cached.chunk_count = count;
        Ok(())
    }
}

/// Unknown keys (written by newer app versions, or by parts of the app that own them, such as
/// visits) are read-only for profile edits: the edited model gets them back from the base, so
/// a caller that dropped them cannot delete them.
fn keep_unknown_fields(base: &Household, edited: &mut Household) {
    edited.extra = base.extra.clone();
    edited.profile.extra = base.profile.extra.clone();
    edited.enrollment.extra = base.enrollment.extra.clone();
    for (member_id, member) in &mut edited.members {
        member.extra = base
            .members
            .get(member_id)
            .map(|m| m.extra.clone())
            .unwrap_or_default();
    }
}

/// Decodes raw change bytes strictly (a malformed change is an error, never skipped).
fn decode_changes(id: &str, changes: &[Vec<u8>]) -> Result<Vec<automerge::Change>> {
    changes
        .iter()
        .enumerate()
        .map(|(i, bytes)| {
            catch_unwind(|| automerge::Change::from_bytes(bytes.clone()))
                .map_err(|_| "decoder panicked".to_owned())
                .and_then(|r| r.map_err(|e| e.to_string()))
                .map_err(|reason| Error::CorruptDocument {
                    id: id.to_owned(),
                    reason: format!("change {i}: {reason}"),
                })
        })
        .collect()
}

/// Random hex id of `bytes` bytes.
pub(crate) fn random_hex(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    SystemRandom::new()
        .fill(&mut buf)
        .map_err(|_| Error::KeyStore("no system randomness".into()))?;
    Ok(hex::encode(buf))
}

pub(crate) fn new_actor() -> Result<ActorId> {
    let mut buf = [0u8; 16];
    SystemRandom::new()
        .fill(&mut buf)
        .map_err(|_| Error::KeyStore("no system randomness".into()))?;
    Ok(ActorId::from(buf))
}

/// Gives a new household and its members their random ids.
fn assign_ids(new: NewHousehold) -> Result<Household> {
    let mut members = std::collections::BTreeMap::new();
    let mut head_member_id = String::new();
    for member in new.members {
        let member_id = random_hex(8)?;
        if member.relation == Relation::Head {
            head_member_id = member_id.clone();
        }
        members.insert(member_id, member);
    }
    Ok(Household {
        id: random_hex(16)?,
        profile: crate::household::Profile {
            county_code: new.county_code,
            township_code: new.township_code,
            village_code: new.village_code,
            address: new.address,
            head_member_id,
            status: new.status,
            status_since: new.status_since,
            phone: new.phone,
            extra: Default::default(),
        },
        enrollment: new.enrollment,
        members,
        extra: Default::default(),
    })
}
