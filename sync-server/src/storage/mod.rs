//! The server's storage: the change feed and everything around it, behind the [`FeedStore`]
//! trait, with the embedded SQLite implementation [`ServerStorage`].
//!
//! One file in the data folder, WAL mode, `synchronous = FULL`, one writer connection, four
//! reader connections and a checkpoint thread with its own. The database has an **epoch**: a random id made when the database
//! is created. Feed cursors carry it, so a server restored from a backup or replaced can be
//! told apart from the one a tablet last spoke to (see ADR 0007).
//!
//! | file | what it stores |
//! |---|---|
//! | `schema.rs` | migrations keyed on `PRAGMA user_version` |
//! | `feed.rs` | households, the change feed, snapshots, actor bindings, resident ids |
//! | `records.rs` | the county configuration, request nonces, the access log |
//! | `checkpoint.rs` | WAL checkpoints on a thread of their own, never inside a push's commit |
//! | `cache.rs` | household documents kept hot in memory (not storage, but its companion) |
//! | `encryption.rs` | the database key (outside the data folder) and SQLCipher encryption at rest |

pub mod cache;
mod checkpoint;
pub mod encryption;
mod feed;
mod records;
pub mod schema;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use ring::rand::{SecureRandom, SystemRandom};
use ruhu_core::sync::SignedChange;
use rusqlite::{Connection, OptionalExtension};

use crate::ServerError;
pub use encryption::DatabaseKey;

pub use schema::SCHEMA_VERSION;

/// A household as stored: where it is, and what its document is rebuilt from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredHousehold {
    pub village_code: String,
    pub county_code: String,
    /// Feed position of its newest change.
    pub last_seq: u64,
    /// A `save()` covering its changes up to some feed position, if one was written.
    pub snapshot: Option<Vec<u8>>,
    /// Its raw changes after the snapshot, in feed order.
    pub changes: Vec<Vec<u8>>,
}

impl StoredHousehold {
    /// The household's Automerge document, rebuilt from the snapshot and the changes after
    /// it (a decoding error or panic is a storage fault).
    pub fn document(&self, id: &str) -> Result<automerge::AutoCommit, crate::error::ApiError> {
        let mut bytes = self.snapshot.clone().unwrap_or_default();
        for change in &self.changes {
            bytes.extend_from_slice(change);
        }
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            automerge::AutoCommit::load(&bytes)
        }))
        .map_err(|_| crate::error::ApiError::internal("server.corrupt_household", id))?
        .map_err(|e| crate::error::ApiError::internal("server.corrupt_household", e))
    }
}

/// One accepted change, ready for the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEntry {
    pub hash: [u8; 32],
    pub signed: SignedChange,
    /// Worker id of the change's author (its signer).
    pub author: String,
    /// The change's Automerge actor id, bound to `author` by the first accepted change.
    pub actor: Vec<u8>,
}

/// What one household adds to the feed in a push.
#[derive(Debug, Clone)]
pub struct HouseholdCommit {
    pub household_id: String,
    pub village_code: String,
    pub county_code: String,
    /// The feed position the changes were validated against (`None`: a new household). The
    /// commit fails with [`CommitError::Conflict`] if another writer moved it meanwhile.
    pub expected_last_seq: Option<u64>,
    pub entries: Vec<FeedEntry>,
    /// `(member id, resident ID number)` of the household after these changes.
    pub resident_ids: Vec<(String, String)>,
    /// A `save()` of the household after these changes, to store as its snapshot.
    pub snapshot: Option<Vec<u8>>,
    /// Attachments the new sealed visits reference (the server holds their bytes).
    pub attachments: Vec<[u8; 32]>,
}

/// A row of the access log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRow {
    pub worker_id: String,
    pub certificate_hash: [u8; 32],
    pub action: &'static str,
    pub household_id: String,
    pub changes: u64,
}

/// A resident ID number found in another household as well.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateResidentId {
    pub household_id: String,
    pub member_id: String,
    pub other_household_id: String,
}

/// What a committed push did.
#[derive(Debug, Default)]
pub struct Committed {
    /// New feed position of each household written.
    pub last_seqs: HashMap<String, u64>,
    /// The feed positions the new entries took, when they form exactly this range.
    pub appended: Option<(u64, u64)>,
    /// Time spent writing the rows, and making them durable (`COMMIT`: the WAL written and
    /// synced).
    pub rows_time: std::time::Duration,
    pub durable_time: std::time::Duration,
    pub duplicates: Vec<DuplicateResidentId>,
}

/// What a pull passes without sending: the changes the requesting tablet just pushed.
#[derive(Debug, Default, Clone)]
pub struct Skip {
    /// Their change hashes.
    pub hashes: HashSet<[u8; 32]>,
    /// The feed positions they took, when they are exactly this range (one transaction
    /// appended them and nothing else): the pull jumps over it without reading it.
    pub range: Option<(u64, u64)>,
}

/// Why a push could not be committed; nothing of it was stored.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    /// Another writer changed these households since they were validated: reload, revalidate.
    #[error("households changed concurrently: {0:?}")]
    Conflict(Vec<String>),
    /// An actor id of this household's changes is bound to another worker (bound by a
    /// concurrent push, or by another household of the same batch).
    #[error("actor {actor} of household {household_id} belongs to {owner}")]
    ActorTaken {
        household_id: String,
        actor: String,
        owner: String,
    },
    #[error(transparent)]
    Storage(#[from] ServerError),
}

impl From<rusqlite::Error> for CommitError {
    fn from(e: rusqlite::Error) -> Self {
        CommitError::Storage(e.into())
    }
}

/// Where a worker may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PullScope {
    Villages(Vec<String>),
    County(String),
}

/// One pulled feed entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PulledEntry {
    pub seq: u64,
    pub household_id: String,
    pub signed: SignedChange,
}

/// A page of the feed.
#[derive(Debug, Default)]
pub struct Pulled {
    pub entries: Vec<PulledEntry>,
    /// The cursor after this page.
    pub cursor: u64,
    /// The change hash of the feed entry at `cursor` (zeros for 0).
    pub cursor_hash: [u8; 32],
    /// The change hash of the feed entry at `after` (`None` when there is none).
    pub start_hash: Option<[u8; 32]>,
    /// The page stopped at the byte limit; more entries are waiting.
    pub more: bool,
}

/// The stored county configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredConfig {
    pub serial: u64,
    pub signed_json: String,
}

/// A certificate or revocation row written with a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigRows {
    /// `(hash, worker id, body bytes)`.
    pub certificates: Vec<([u8; 32], String, Vec<u8>)>,
    /// `(certificate hash, worker id, reason, effective unix seconds)`.
    pub revocations: Vec<([u8; 32], String, String, i64)>,
}

/// What installing a configuration did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Installed {
    New,
    /// The same serial with the same bytes was already installed.
    Unchanged,
    /// A configuration with this or a higher serial is installed.
    Stale {
        held: u64,
    },
}

/// The storage a sync server needs. The SQLite implementation is [`ServerStorage`]; a
/// PostgreSQL one must keep the same guarantees (ADR 0007): feed positions allocated so that
/// a committed position implies every lower one is committed or abandoned, pushes checked
/// against `expected_last_seq` under a row lock, and each call one transaction.
pub trait FeedStore: Send + Sync + std::fmt::Debug {
    /// The database's epoch.
    fn epoch(&self) -> [u8; 16];
    /// Whether the database answers and is sound.
    fn check(&self) -> Result<bool, ServerError>;
    /// A household's location and the bytes its document is rebuilt from.
    fn load_household(&self, id: &str) -> Result<Option<StoredHousehold>, ServerError>;
    /// The stored villages of these households (unknown ones are absent).
    fn household_villages(&self, ids: &[&str]) -> Result<HashMap<String, String>, ServerError>;
    /// The worker an actor id is bound to.
    fn actor_worker(&self, actor: &[u8]) -> Result<Option<String>, ServerError>;
    /// Appends accepted changes and the access log rows, in one transaction.
    fn commit_push(
        &self,
        households: &[HouseholdCommit],
        access: &[AccessRow],
        received_at: i64,
    ) -> Result<Committed, CommitError>;
    /// Feed entries in `scope` after `after`, up to about `limit_bytes` of change bytes
    /// (at least one entry), skipping (but passing) the changes in `skip`.
    fn pull(
        &self,
        scope: &PullScope,
        after: u64,
        limit_bytes: u64,
        skip: &Skip,
    ) -> Result<Pulled, ServerError>;
    /// A household in `scope` that references the attachment, if any.
    fn attachment_in_scope(
        &self,
        hash: &[u8; 32],
        scope: &PullScope,
    ) -> Result<Option<String>, ServerError>;
    /// Appends access log rows.
    fn log_access(&self, rows: &[AccessRow], at: i64) -> Result<(), ServerError>;
    /// Records a request nonce; `false` if it was seen before. Forgets expired nonces.
    fn remember_nonce(
        &self,
        nonce: &[u8; 16],
        signer: &[u8; 32],
        expires_at: i64,
        now: i64,
    ) -> Result<bool, ServerError>;
    /// The installed county configuration.
    fn config(&self) -> Result<Option<StoredConfig>, ServerError>;
    /// Installs a configuration unless one with this or a higher serial is installed.
    fn install_config(
        &self,
        config: &StoredConfig,
        rows: &ConfigRows,
        now: i64,
    ) -> Result<Installed, ServerError>;
}

/// The embedded SQLite storage.
#[derive(Debug, Clone)]
pub struct ServerStorage {
    writer: Arc<Mutex<Connection>>,
    /// Read connections: households are loaded on every validating thread at once.
    readers: Arc<Vec<Mutex<Connection>>>,
    checkpointer: checkpoint::Checkpointer,
    /// Actor bindings read from the feed. A binding never changes once stored, so what was
    /// read stays true; only bindings read from committed rows are kept.
    actors: Arc<RwLock<HashMap<Vec<u8>, String>>>,
    path: PathBuf,
    epoch: [u8; 16],
}

/// The database file name inside the data folder.
pub const DATABASE_FILE: &str = "server.db";

/// Read connections (the push validates on up to 4 threads, each loading households).
const READERS: usize = 4;

/// Actor bindings kept in memory (a tablet opening its store starts a new actor; at this
/// many the memory starts over).
const KNOWN_ACTORS: usize = 100_000;

/// Page cache of each connection, in KiB. A push of a township's day writes several MB in one
/// transaction; with SQLite's 2 MB default the writer spills dirty pages to the WAL before the
/// commit and reads (and decrypts) them back, which was a third of the commit's time.
const CACHE_KIB: u32 = 64 * 1024;

fn open_connection(path: &Path, key: &DatabaseKey) -> Result<Connection, ServerError> {
    let conn = Connection::open(path)?;
    key.unlock(&conn, path)?;
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;
         PRAGMA busy_timeout = 10000; PRAGMA cache_size = -{CACHE_KIB};"
    ))?;
    Ok(conn)
}

impl ServerStorage {
    /// Opens or creates `server.db` in `data_dir`, encrypted with `key` (a plain database
    /// of an earlier version is encrypted first), migrating it to the current schema.
    pub fn open(data_dir: &Path, key: &DatabaseKey) -> Result<Self, ServerError> {
        std::fs::create_dir_all(data_dir)?;
        let path = data_dir.join(DATABASE_FILE);
        if key.encrypt_plain_database(&path)? {
            tracing::info!(database = %path.display(), "encrypted a plain database of an earlier version");
        }
        let mut conn = open_connection(&path, key)?;
        schema::migrate(&mut conn)?;
        let existing: Option<String> = conn
            .query_row(
                "SELECT value FROM server_meta WHERE key = 'epoch'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        let epoch_hex = match existing {
            Some(epoch) => epoch,
            None => {
                let mut bytes = [0u8; 16];
                SystemRandom::new()
                    .fill(&mut bytes)
                    .map_err(|_| ServerError::Config("no system randomness".into()))?;
                let epoch = hex::encode(bytes);
                conn.execute(
                    "INSERT INTO server_meta (key, value) VALUES ('epoch', ?1)",
                    [&epoch],
                )?;
                epoch
            }
        };
        let epoch = hex::decode(&epoch_hex)
            .ok()
            .and_then(|b| <[u8; 16]>::try_from(b).ok())
            .ok_or_else(|| {
                ServerError::Config(format!("stored epoch {epoch_hex} is not 16 bytes of hex"))
            })?;
        let readers = (0..READERS)
            .map(|_| open_connection(&path, key).map(Mutex::new))
            .collect::<Result<Vec<_>, _>>()?;
        conn.execute_batch("PRAGMA wal_autocheckpoint = 0;")?;
        let checkpointer = checkpoint::Checkpointer::start(open_connection(&path, key)?)?;
        Ok(Self {
            writer: Arc::new(Mutex::new(conn)),
            readers: Arc::new(readers),
            checkpointer,
            actors: Arc::default(),
            path,
            epoch,
        })
    }

    /// A connection to the database in `data_dir` with its key in the default place, for
    /// inspection tools and tests (the server itself goes through [`ServerStorage::open`]).
    pub fn inspect(data_dir: &Path) -> Result<Connection, ServerError> {
        let key = DatabaseKey::load_or_create(&encryption::default_key_file(data_dir), data_dir)?;
        let path = data_dir.join(DATABASE_FILE);
        let conn = Connection::open(&path)?;
        key.unlock(&conn, &path)?;
        Ok(conn)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The epoch as lower-case hex.
    pub fn epoch_hex(&self) -> String {
        hex::encode(self.epoch)
    }

    fn writer(&self) -> Result<MutexGuard<'_, Connection>, ServerError> {
        self.writer
            .lock()
            .map_err(|_| ServerError::Config("storage lock poisoned".into()))
    }

    /// A free read connection, or (all busy) the first one once it is free.
    fn reader(&self) -> Result<MutexGuard<'_, Connection>, ServerError> {
        for reader in self.readers.iter() {
            if let Ok(conn) = reader.try_lock() {
                return Ok(conn);
            }
        }
        self.readers[0]
            .lock()
            .map_err(|_| ServerError::Config("storage lock poisoned".into()))
    }
}

impl FeedStore for ServerStorage {
    fn epoch(&self) -> [u8; 16] {
        self.epoch
    }

    fn check(&self) -> Result<bool, ServerError> {
        let conn = self.reader()?;
        let result: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
        Ok(result == "ok")
    }

    fn load_household(&self, id: &str) -> Result<Option<StoredHousehold>, ServerError> {
        feed::load_household(&*self.reader()?, id)
    }

    fn household_villages(&self, ids: &[&str]) -> Result<HashMap<String, String>, ServerError> {
        feed::household_villages(&*self.reader()?, ids)
    }

    fn actor_worker(&self, actor: &[u8]) -> Result<Option<String>, ServerError> {
        if let Some(worker) = self.actors.read().ok().and_then(|a| a.get(actor).cloned()) {
            return Ok(Some(worker));
        }
        let worker = feed::actor_worker(&*self.reader()?, actor)?;
        if let (Some(worker), Ok(mut known)) = (&worker, self.actors.write()) {
            if known.len() >= KNOWN_ACTORS {
                known.clear();
            }
            known.insert(actor.to_vec(), worker.clone());
        }
        Ok(worker)
    }

    fn commit_push(
        &self,
        households: &[HouseholdCommit],
        access: &[AccessRow],
        received_at: i64,
    ) -> Result<Committed, CommitError> {
        let started = std::time::Instant::now();
        let mut conn = self.writer()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut committed = feed::append(&tx, households, received_at)?;
        records::log_access(&tx, access, received_at)?;
        committed.rows_time = started.elapsed();
        tx.commit()?;
        committed.durable_time = started.elapsed() - committed.rows_time;
        self.checkpointer.nudge();
        Ok(committed)
    }

    fn attachment_in_scope(
        &self,
        hash: &[u8; 32],
        scope: &PullScope,
    ) -> Result<Option<String>, ServerError> {
        feed::attachment_in_scope(&*self.reader()?, hash, scope)
    }

    fn pull(
        &self,
        scope: &PullScope,
        after: u64,
        limit_bytes: u64,
        skip: &Skip,
    ) -> Result<Pulled, ServerError> {
        let mut conn = self.reader()?;
        let tx = conn.transaction()?;
        let pulled = feed::pull(&tx, scope, after, limit_bytes, skip)?;
        tx.finish()?;
        Ok(pulled)
    }

    fn log_access(&self, rows: &[AccessRow], at: i64) -> Result<(), ServerError> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut conn = self.writer()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        records::log_access(&tx, rows, at)?;
        tx.commit()?;
        Ok(())
    }

    fn remember_nonce(
        &self,
        nonce: &[u8; 16],
        signer: &[u8; 32],
        expires_at: i64,
        now: i64,
    ) -> Result<bool, ServerError> {
        let mut conn = self.writer()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let fresh = records::remember_nonce(&tx, nonce, signer, expires_at, now)?;
        tx.commit()?;
        Ok(fresh)
    }

    fn config(&self) -> Result<Option<StoredConfig>, ServerError> {
        records::config(&*self.reader()?)
    }

    fn install_config(
        &self,
        config: &StoredConfig,
        rows: &ConfigRows,
        now: i64,
    ) -> Result<Installed, ServerError> {
        let mut conn = self.writer()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let installed = records::install_config(&tx, config, rows, now)?;
        tx.commit()?;
        Ok(installed)
    }
}
