//! Attachments on the tablet: photos of documents and of the home, and the household
//! member's signature or thumbprint image, referenced from sealed visits by SHA-256.
//!
//! - **Content-addressed and deduplicated.** One row and one file per SHA-256, however many
//!   households or visits reference it (`attachment_refs`).
//! - **Encrypted at rest with a key per blob** (ADR 9, ADR 11): each file is AES-256-GCM under a
//!   random key kept in the (SQLCipher) database, with the content hash as associated data.
//!   Purging destroys the key with the row, which makes the file unreadable even where flash
//!   storage keeps its blocks. Files live in the store's own folder, never in a shared photo
//!   gallery: the API takes and returns bytes, never paths.
//! - **Size-limited before anything is written** ([`super::StoreConfig::max_attachment_bytes`]).
//! - **Written file first, row second**: a file without a row (a crash between the two) is
//!   never read and is removed by the next [`Store::add_attachment`] of the same bytes or a
//!   purge; a row never points to a missing file unless the disk lost it.

use std::io::Write;
use std::path::PathBuf;

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use rusqlite::{params, OptionalExtension};

use super::Store;
use crate::error::{Error, FieldError, Result};
use crate::visit::content::ContentHash;

fn random<const N: usize>() -> Result<[u8; N]> {
    let mut out = [0u8; N];
    SystemRandom::new()
        .fill(&mut out)
        .map_err(|_| Error::KeyStore("no system randomness".into()))?;
    Ok(out)
}

fn cipher(key: &[u8]) -> Result<LessSafeKey> {
    UnboundKey::new(&AES_256_GCM, key)
        .map(LessSafeKey::new)
        .map_err(|_| Error::Document("an attachment key is malformed".into()))
}

fn encrypt(key: &[u8; 32], hash: &ContentHash, bytes: &[u8]) -> Result<Vec<u8>> {
    let nonce = random::<NONCE_LEN>()?;
    let mut sealed = bytes.to_vec();
    cipher(key)?
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(hash.0),
            &mut sealed,
        )
        .map_err(|_| Error::Document("an attachment could not be encrypted".into()))?;
    let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    Ok(out)
}

fn altered(hash: &ContentHash, why: &str) -> Error {
    Error::CorruptDocument {
        id: hash.to_hex(),
        reason: format!("attachment: {why}"),
    }
}

fn decrypt(key: &[u8], hash: &ContentHash, file: &[u8]) -> Result<Vec<u8>> {
    if file.len() < NONCE_LEN {
        return Err(altered(hash, "the file is truncated"));
    }
    let (nonce, sealed) = file.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce)
        .map_err(|_| altered(hash, "the file is truncated"))?;
    let mut buf = sealed.to_vec();
    let plain = cipher(key)?
        .open_in_place(nonce, Aad::from(hash.0), &mut buf)
        .map_err(|_| altered(hash, "the file was altered"))?;
    let plain = plain.to_vec();
    if ContentHash::of(&plain) != *hash {
        return Err(altered(hash, "the bytes do not hash to their name"));
    }
    Ok(plain)
}

/// An attachment the server does not hold yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingUpload {
    pub hash: ContentHash,
    pub size: u64,
}

impl Store {
    /// The folder of this store's attachment files (beside the database).
    pub(crate) fn attachments_dir(&self) -> PathBuf {
        let mut name = self.config.path.as_os_str().to_owned();
        name.push("-attachments");
        PathBuf::from(name)
    }

    /// Stores `bytes` as an attachment of `household_id` (a photo, a signature or thumbprint
    /// image) and returns its content hash, to be listed in a visit's seal details. The same
    /// bytes attached again — to any household — are stored once. Refused, writing nothing,
    /// when empty or over the size limit, or when the household is not in this store.
    pub fn add_attachment(&mut self, household_id: &str, bytes: &[u8]) -> Result<ContentHash> {
        self.check_attachment_size(bytes.len() as u64)?;
        if !self.contains_household(household_id)? {
            return Err(Error::NotFound {
                what: "household",
                id: household_id.to_owned(),
            });
        }
        let hash = ContentHash::of(bytes);
        self.store_attachment(household_id, &hash, bytes, false)?;
        Ok(hash)
    }

    fn contains_household(&self, household_id: &str) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached("SELECT count(*) FROM households WHERE id = ?1")?
            .query_row([household_id], |r| r.get::<_, i64>(0))?
            > 0)
    }

    /// Refuses an attachment size outside 1 ..= the configured limit.
    pub(crate) fn check_attachment_size(&self, size: u64) -> Result<()> {
        let max = self.config.max_attachment_bytes;
        if size == 0 {
            return Err(Error::invalid(FieldError::new(
                "attachment",
                "attachment.empty",
                "the attachment is empty",
            )));
        }
        if size > max {
            return Err(Error::invalid(
                FieldError::new(
                    "attachment",
                    "attachment.too_large",
                    format!("the attachment is {size} bytes, over the limit of {max} bytes"),
                )
                .with("max", max),
            ));
        }
        Ok(())
    }

    /// Writes the file (if new) and the rows; `uploaded` marks bytes the server already has.
    fn store_attachment(
        &mut self,
        household_id: &str,
        hash: &ContentHash,
        bytes: &[u8],
        uploaded: bool,
    ) -> Result<()> {
        let known: bool = self
            .conn
            .prepare_cached("SELECT count(*) FROM attachments WHERE hash = ?1")?
            .query_row([&hash.0[..]], |r| r.get::<_, i64>(0))?
            > 0;
        let file = if known {
            None
        } else {
            let key = random::<32>()?;
            let name = hex::encode(random::<16>()?);
            let dir = self.attachments_dir();
            std::fs::create_dir_all(&dir)?;
            let path = dir.join(&name);
            let mut out = std::fs::File::create(&path)?;
            out.write_all(&encrypt(&key, hash, bytes)?)?;
            out.sync_all()?;
            Some((key, name, path))
        };
        let now = chrono::Utc::now().timestamp();
        let written = (|| -> Result<()> {
            let tx = self.conn.transaction()?;
            if let Some((key, name, _)) = &file {
                tx.execute(
                    "INSERT INTO attachments (hash, size, file, key, uploaded, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        &hash.0[..],
                        bytes.len() as i64,
                        name,
                        &key[..],
                        uploaded,
                        now
                    ],
                )?;
            } else if uploaded {
                tx.execute(
                    "UPDATE attachments SET uploaded = 1 WHERE hash = ?1",
                    [&hash.0[..]],
                )?;
            }
            insert_refs(&tx, household_id, std::slice::from_ref(hash))?;
            tx.commit()?;
            Ok(())
        })();
        if written.is_err() {
            if let Some((_, _, path)) = file {
                let _ = std::fs::remove_file(path);
            }
        }
        written
    }

    /// The bytes of an attachment held by this tablet, checked against their hash.
    pub fn attachment(&self, hash: &ContentHash) -> Result<Vec<u8>> {
        let row: Option<(String, Vec<u8>)> = self
            .conn
            .prepare_cached("SELECT file, key FROM attachments WHERE hash = ?1")?
            .query_row([&hash.0[..]], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let (file, key) = row.ok_or_else(|| Error::NotFound {
            what: "attachment",
            id: hash.to_hex(),
        })?;
        let bytes = std::fs::read(self.attachments_dir().join(file))
            .map_err(|_| altered(hash, "the file is missing"))?;
        decrypt(&key, hash, &bytes)
    }

    /// Whether this tablet holds the attachment's bytes.
    pub fn has_attachment(&self, hash: &ContentHash) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached("SELECT count(*) FROM attachments WHERE hash = ?1")?
            .query_row([&hash.0[..]], |r| r.get::<_, i64>(0))?
            > 0)
    }

    /// Attachments the server does not hold yet, oldest first.
    pub fn pending_uploads(&self) -> Result<Vec<PendingUpload>> {
        let rows: Vec<(Vec<u8>, i64)> = self
            .conn
            .prepare(
                "SELECT hash, size FROM attachments WHERE uploaded = 0 ORDER BY created_at, hash",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows
            .into_iter()
            .filter_map(|(h, size)| {
                Some(PendingUpload {
                    hash: ContentHash(h.try_into().ok()?),
                    size: u64::try_from(size).ok()?,
                })
            })
            .collect())
    }

    /// Records that the server holds the attachment.
    pub fn mark_uploaded(&mut self, hash: &ContentHash) -> Result<()> {
        self.conn.execute(
            "UPDATE attachments SET uploaded = 1 WHERE hash = ?1",
            [&hash.0[..]],
        )?;
        Ok(())
    }

    /// Uploads the household's attachments again at the next sync: the server held its
    /// changes for attachments it does not have (restored from a backup, say), although
    /// this tablet had recorded them as uploaded.
    pub fn requeue_attachments(&mut self, household_id: &str) -> Result<usize> {
        Ok(self.conn.execute(
            "UPDATE attachments SET uploaded = 0
             WHERE hash IN (SELECT hash FROM attachment_refs WHERE household_id = ?1)",
            [household_id],
        )?)
    }

    /// Records that `household_id` references these attachments (from pulled sealed visits);
    /// those the tablet lacks are fetched by the next sync.
    pub fn reference_attachments(
        &mut self,
        household_id: &str,
        hashes: &[ContentHash],
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        insert_refs(&tx, household_id, hashes)?;
        tx.commit()?;
        Ok(())
    }

    /// Referenced attachments this tablet does not hold, with a household referencing each.
    pub fn wanted_attachments(&self) -> Result<Vec<(ContentHash, String)>> {
        let rows: Vec<(Vec<u8>, String)> = self
            .conn
            .prepare(
                "SELECT r.hash, min(r.household_id) FROM attachment_refs r
                 WHERE NOT EXISTS (SELECT 1 FROM attachments a WHERE a.hash = r.hash)
                 GROUP BY r.hash ORDER BY r.hash",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows
            .into_iter()
            .filter_map(|(h, id)| Some((ContentHash(h.try_into().ok()?), id)))
            .collect())
    }

    /// Stores an attachment fetched from the server for `household_id`; refused unless the
    /// bytes hash to `hash`.
    pub fn store_received_attachment(
        &mut self,
        household_id: &str,
        hash: &ContentHash,
        bytes: &[u8],
    ) -> Result<()> {
        self.check_attachment_size(bytes.len() as u64)?;
        if ContentHash::of(bytes) != *hash {
            return Err(Error::invalid(FieldError::new(
                "attachment",
                "attachment.hash_mismatch",
                format!("the received bytes do not hash to {}", hash.to_hex()),
            )));
        }
        self.store_attachment(household_id, hash, bytes, true)
    }

    /// Deletes the files of attachments no household references any more (after their rows
    /// and keys were deleted), and files without a row. Returns how many files were removed.
    pub(crate) fn remove_unreferenced_attachment_files(&mut self) -> Result<usize> {
        let dir = self.attachments_dir();
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Ok(0);
        };
        let known: std::collections::HashSet<String> = self
            .conn
            .prepare("SELECT file FROM attachments")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut removed = 0;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !known.contains(&name) && std::fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// Records, inside the caller's transaction, that `household_id` references these
/// attachments (the one statement every writer of references uses).
pub(crate) fn insert_refs(
    conn: &rusqlite::Connection,
    household_id: &str,
    hashes: &[ContentHash],
) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT OR IGNORE INTO attachment_refs (household_id, hash) VALUES (?1, ?2)",
    )?;
    for hash in hashes {
        stmt.execute(params![household_id, &hash.0[..]])?;
    }
    Ok(())
}
