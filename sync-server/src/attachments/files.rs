//! Attachment bytes on the server's disk: one file per SHA-256 under `attachments/` in the data
//! folder, received in chunks that each append at the offset the server reports, so an upload
//! cut anywhere resumes from the last chunk the server acknowledged. A file becomes visible
//! only once complete and checked against its hash; every read checks the hash again, so a
//! file altered on disk is never served. Everything is sealed at rest with a key of its own
//! (`sealed.rs`); plain files of an earlier version are sealed when the folder is opened.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ruhu_core::signing::canonical::sha256;

use super::sealed::{AttachmentKeys, MAGIC, SEALED_OVERHEAD};

/// Largest attachment the server accepts by default (a 20 MB photo fits).
pub const DEFAULT_MAX_ATTACHMENT_BYTES: u64 = 32 << 20;

/// How much of an attachment the server holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Nothing yet.
    Absent,
    /// `received` bytes of an upload of `size` bytes.
    Partial { received: u64, size: u64 },
    /// All of it, checked.
    Complete { size: u64 },
}

impl Progress {
    pub fn received(&self) -> u64 {
        match *self {
            Progress::Absent => 0,
            Progress::Partial { received, .. } => received,
            Progress::Complete { size } => size,
        }
    }

    pub fn is_complete(&self) -> bool {
        matches!(self, Progress::Complete { .. })
    }
}

/// Why a chunk or a read was refused.
#[derive(Debug, thiserror::Error)]
pub enum AttachmentError {
    #[error("the attachment is {size} bytes, over the limit of {max} bytes")]
    TooLarge { size: u64, max: u64 },
    #[error("an attachment of 0 bytes")]
    Empty,
    #[error("the chunk starts at {offset} but the server holds {received} bytes; resume from {received}")]
    OffsetMismatch { offset: u64, received: u64 },
    #[error("the chunk ends at {end}, past the declared size {size}")]
    PastEnd { end: u64, size: u64 },
    #[error("an upload of this attachment with another size ({held}) is in progress")]
    SizeMismatch { held: u64 },
    #[error("the uploaded bytes do not hash to the attachment's name; upload it again")]
    HashMismatch,
    #[error("the stored attachment no longer matches its hash")]
    Corrupt,
    #[error("the attachment could not be sealed or opened with the server's key")]
    Sealing,
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

/// The attachment folder.
#[derive(Debug)]
pub struct AttachmentFiles {
    dir: PathBuf,
    max_bytes: u64,
    keys: AttachmentKeys,
    /// Serializes appends (uploads of one county are few and sequential per tablet).
    write: Mutex<()>,
}

fn name(hash: &[u8; 32]) -> String {
    hex::encode(hash)
}

impl AttachmentFiles {
    /// Opens (or creates) `attachments/` in `data_dir`, sealing with keys derived from
    /// `keys`; complete files an earlier version left plain are sealed now.
    pub fn open(data_dir: &Path, max_bytes: u64, keys: AttachmentKeys) -> std::io::Result<Self> {
        let dir = data_dir.join("attachments");
        fs::create_dir_all(dir.join("partial"))?;
        let files = Self {
            dir,
            max_bytes,
            keys,
            write: Mutex::new(()),
        };
        files.seal_plain_files()?;
        Ok(files)
    }

    /// The attachment folder of `data_dir` opened with the database key in its default
    /// place, for inspection tools and tests (the server goes through [`Self::open`]).
    pub fn inspect(data_dir: &Path) -> Result<Self, crate::ServerError> {
        let key_file = crate::storage::encryption::default_key_file(data_dir);
        let key = crate::storage::DatabaseKey::load_or_create(&key_file, data_dir)?;
        Ok(Self::open(
            data_dir,
            DEFAULT_MAX_ATTACHMENT_BYTES,
            AttachmentKeys::new(&key),
        )?)
    }

    fn seal_plain_files(&self) -> std::io::Result<()> {
        for entry in fs::read_dir(&self.dir)? {
            let path = entry?.path();
            let Some(hash) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| hex::decode(n).ok())
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
            else {
                continue;
            };
            let stored = fs::read(&path)?;
            if stored.starts_with(MAGIC) || sha256(&stored) != hash {
                continue;
            }
            self.write_sealed(&hash, &stored)?;
        }
        Ok(())
    }

    /// Seals `plain` into the complete file of `hash`: a temporary file, synced, renamed.
    fn write_sealed(&self, hash: &[u8; 32], plain: &[u8]) -> std::io::Result<()> {
        let sealed = self
            .keys
            .seal(hash, plain)
            .ok_or_else(|| std::io::Error::other("sealing an attachment failed"))?;
        let temp = self
            .dir
            .join("partial")
            .join(format!("{}.sealing", name(hash)));
        let mut f = File::create(&temp)?;
        f.write_all(&sealed)?;
        f.sync_all()?;
        fs::rename(&temp, self.path(hash))?;
        File::open(&self.dir)?.sync_all()
    }

    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// The file of a complete attachment.
    pub fn path(&self, hash: &[u8; 32]) -> PathBuf {
        self.dir.join(name(hash))
    }

    fn partial(&self, hash: &[u8; 32]) -> PathBuf {
        self.dir.join("partial").join(name(hash))
    }

    fn size_file(&self, hash: &[u8; 32]) -> PathBuf {
        self.dir
            .join("partial")
            .join(format!("{}.size", name(hash)))
    }

    /// How much of the attachment is here. A partial upload whose records do not parse (cut
    /// mid-write, or left plain by an earlier version) is discarded: it starts again.
    pub fn progress(&self, hash: &[u8; 32]) -> std::io::Result<Progress> {
        if let Ok(meta) = fs::metadata(self.path(hash)) {
            let size = meta.len().saturating_sub(SEALED_OVERHEAD);
            return Ok(Progress::Complete { size });
        }
        match fs::read_to_string(self.size_file(hash)) {
            Ok(size) => {
                let size = size.trim().parse().unwrap_or(0);
                let received = match File::open(self.partial(hash)) {
                    Ok(mut f) => AttachmentKeys::partial_len(&mut f),
                    Err(_) => Some(0),
                };
                match received {
                    Some(received) => Ok(Progress::Partial { received, size }),
                    None => {
                        let _ = fs::remove_file(self.partial(hash));
                        let _ = fs::remove_file(self.size_file(hash));
                        Ok(Progress::Absent)
                    }
                }
            }
            Err(_) => Ok(Progress::Absent),
        }
    }

    /// Whether the complete attachment is here.
    pub fn has(&self, hash: &[u8; 32]) -> bool {
        self.path(hash).is_file()
    }

    /// Appends `bytes` at `offset` of an upload of `size` bytes; the new progress. Checks
    /// size and offset before writing anything; the last chunk completes the upload only if
    /// the whole hashes to `hash` (otherwise the partial upload is discarded).
    pub fn append(
        &self,
        hash: &[u8; 32],
        size: u64,
        offset: u64,
        bytes: &[u8],
    ) -> Result<Progress, AttachmentError> {
        if size == 0 {
            return Err(AttachmentError::Empty);
        }
        if size > self.max_bytes {
            return Err(AttachmentError::TooLarge {
                size,
                max: self.max_bytes,
            });
        }
        let _guard = self.write.lock().unwrap_or_else(|e| e.into_inner());
        let progress = self.progress(hash)?;
        let received = match progress {
            Progress::Complete { .. } => return Ok(progress),
            Progress::Partial { size: held, .. } if held != size => {
                return Err(AttachmentError::SizeMismatch { held })
            }
            p => p.received(),
        };
        if offset != received {
            return Err(AttachmentError::OffsetMismatch { offset, received });
        }
        let end = offset + bytes.len() as u64;
        if end > size {
            return Err(AttachmentError::PastEnd { end, size });
        }
        if received == 0 {
            let mut f = File::create(self.size_file(hash))?;
            f.write_all(size.to_string().as_bytes())?;
            f.sync_all()?;
        }
        let record = self
            .keys
            .seal_record(hash, bytes)
            .ok_or(AttachmentError::Sealing)?;
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.partial(hash))?;
        file.write_all(&record)?;
        file.sync_data()?;
        if end < size {
            return Ok(Progress::Partial {
                received: end,
                size,
            });
        }
        let stored = fs::read(self.partial(hash))?;
        let whole = self.keys.open_records(hash, &stored);
        let discard = || {
            let _ = fs::remove_file(self.partial(hash));
            let _ = fs::remove_file(self.size_file(hash));
        };
        let Some(whole) = whole.filter(|w| sha256(w) == *hash) else {
            discard();
            return Err(AttachmentError::HashMismatch);
        };
        self.write_sealed(hash, &whole)?;
        discard();
        Ok(Progress::Complete { size })
    }

    /// The bytes of a complete attachment, unchecked against its hash (for verification,
    /// which reports a mismatch instead of failing): the opened content, or the stored bytes
    /// as they are when they no longer open (altered on disk), which then do not match.
    pub fn read_stored(&self, hash: &[u8; 32]) -> Option<Vec<u8>> {
        let stored = fs::read(self.path(hash)).ok()?;
        Some(self.keys.open(hash, &stored).unwrap_or(stored))
    }

    /// The bytes of a complete attachment, opened and checked against its hash.
    pub fn read(&self, hash: &[u8; 32]) -> Result<Option<Vec<u8>>, AttachmentError> {
        let stored = match fs::read(self.path(hash)) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        match self.keys.open(hash, &stored) {
            Some(bytes) if sha256(&bytes) == *hash => Ok(Some(bytes)),
            _ => Err(AttachmentError::Corrupt),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::storage::DatabaseKey;

    fn keys(seed: u8) -> AttachmentKeys {
        AttachmentKeys::new(&DatabaseKey::from_bytes([seed; 32]))
    }

    #[test]
    fn a_plain_file_of_an_earlier_version_is_sealed_and_a_plain_partial_upload_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let photo: Vec<u8> = (0..5000u32).map(|i| (i * 13 % 251) as u8).collect();
        let hash = sha256(&photo);
        let folder = dir.path().join("attachments");
        fs::create_dir_all(folder.join("partial")).unwrap();
        fs::write(folder.join(name(&hash)), &photo).unwrap();
        let half = sha256(b"half");
        fs::write(folder.join("partial").join(name(&half)), b"plain bytes").unwrap();
        fs::write(
            folder.join("partial").join(format!("{}.size", name(&half))),
            "20",
        )
        .unwrap();

        let files = AttachmentFiles::open(dir.path(), 10_000, keys(3)).unwrap();
        assert!(fs::read(files.path(&hash)).unwrap().starts_with(MAGIC));
        assert_eq!(files.read(&hash).unwrap().unwrap(), photo);
        assert_eq!(
            files.progress(&hash).unwrap(),
            Progress::Complete { size: 5000 }
        );
        assert_eq!(files.progress(&half).unwrap(), Progress::Absent);
    }

    #[test]
    fn chunks_append_in_order_and_complete_only_when_the_hash_matches() {
        let dir = tempfile::tempdir().unwrap();
        let files = AttachmentFiles::open(dir.path(), 1000, keys(1)).unwrap();
        let bytes: Vec<u8> = (0..700u32).map(|i| (i * 7 % 251) as u8).collect();
        let hash = sha256(&bytes);
        assert_eq!(files.progress(&hash).unwrap(), Progress::Absent);
        assert!(matches!(
            files.append(&hash, 1001, 0, &bytes[..10]),
            Err(AttachmentError::TooLarge { .. })
        ));
        assert_eq!(
            files.progress(&hash).unwrap(),
            Progress::Absent,
            "nothing written"
        );
        assert_eq!(
            files.append(&hash, 700, 0, &bytes[..300]).unwrap(),
            Progress::Partial {
                received: 300,
                size: 700
            }
        );
        assert!(matches!(
            files.append(&hash, 700, 100, &bytes[100..400]),
            Err(AttachmentError::OffsetMismatch { received: 300, .. })
        ));
        assert!(matches!(
            files.append(&hash, 700, 300, &bytes[300..]).unwrap(),
            Progress::Complete { size: 700 }
        ));
        assert_eq!(files.read(&hash).unwrap().unwrap(), bytes);
        // Sealed at rest: the file is not the photo, and another key cannot open it.
        let stored = fs::read(files.path(&hash)).unwrap();
        assert!(!stored.windows(64).any(|w| w == &bytes[100..164]));
        let other_key = AttachmentFiles::open(dir.path(), 1000, keys(2)).unwrap();
        assert!(matches!(
            other_key.read(&hash),
            Err(AttachmentError::Corrupt)
        ));
        // Already complete: another upload changes nothing.
        assert!(files.append(&hash, 700, 0, b"x").unwrap().is_complete());

        // Wrong bytes under a hash are discarded at the end.
        let other = sha256(b"something else");
        assert!(matches!(
            files.append(&other, 3, 0, b"abc"),
            Err(AttachmentError::HashMismatch)
        ));
        assert_eq!(files.progress(&other).unwrap(), Progress::Absent);

        // A file altered on disk is never served, and verification sees other bytes.
        let mut altered = fs::read(files.path(&hash)).unwrap();
        altered[50] ^= 1;
        fs::write(files.path(&hash), altered).unwrap();
        assert!(matches!(files.read(&hash), Err(AttachmentError::Corrupt)));
        assert_ne!(sha256(&files.read_stored(&hash).unwrap()), hash);
    }
}
