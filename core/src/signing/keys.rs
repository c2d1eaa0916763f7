//! Ed25519 keys of team members' tablets and of the county authority.
//!
//! Each worker's tablet holds one private signing key; the county's certificate binds
//! its public half to the worker. Private keys live only in the host's secret key store
//! (Android Keystore / iOS Keychain wrapping the PKCS#8 bytes, or [`FileKeyStore`] on the
//! desktop and in tests). The signing types never hand the private bytes back out.

use std::fmt;
use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use ring::rand::SystemRandom;
use ring::signature::{self, Ed25519KeyPair, KeyPair as _, UnparsedPublicKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use crate::signing::error::{KeyError, KeyStoreError};

/// Length of an Ed25519 signature in bytes.
pub const SIGNATURE_LEN: usize = 64;

/// An Ed25519 public key (32 bytes), serialized as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicKey(pub [u8; 32]);

impl PublicKey {
    /// Parses 64 lowercase hex digits.
    pub fn from_hex(text: &str) -> Option<Self> {
        crate::signing::wire::decode_hex_exact::<32>(text).map(Self)
    }
    /// The key as lowercase hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_hex())
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::signing::wire::hex_bytes::serialize(&self.0, s)
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::signing::wire::hex_bytes::deserialize(d).map(Self)
    }
}

/// Checks an Ed25519 signature. Any malformed key or signature is simply `false`.
pub fn verify(public_key: &PublicKey, msg: &[u8], sig: &[u8]) -> bool {
    UnparsedPublicKey::new(&signature::ED25519, &public_key.0)
        .verify(msg, sig)
        .is_ok()
}

/// The host's secret key store: keeps private signing keys (PKCS#8 bytes) by key id.
///
/// On Android/iOS the host wraps the bytes with a hardware-backed key before storing
/// them; the core never sees that key.
pub trait SecretKeyStore {
    /// Returns the PKCS#8 bytes stored under `key_id`, or `None` if there are none.
    fn load_signing_key(&self, key_id: &str) -> Result<Option<Vec<u8>>, KeyStoreError>;
    /// Stores (or replaces) the PKCS#8 bytes under `key_id`.
    fn save_signing_key(&self, key_id: &str, pkcs8: &[u8]) -> Result<(), KeyStoreError>;
}

/// Checks a key id: 1 to 64 characters of `A-Z a-z 0-9 _ -` (safe as a file name).
pub fn validate_key_id(key_id: &str) -> Result<(), KeyStoreError> {
    let ok = (1..=64).contains(&key_id.len())
        && key_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(KeyStoreError::InvalidKeyId(
            key_id.chars().take(80).collect(),
        ))
    }
}

/// A key store with one file per key id (`<dir>/<key_id>.pkcs8`, mode 0600 on Unix),
/// for desktop builds and tests. Files are written to a temporary name and renamed.
#[derive(Debug, Clone)]
pub struct FileKeyStore {
    dir: PathBuf,
}

impl FileKeyStore {
    /// A store in `dir`; the directory is created (mode 0700 on Unix) on first save.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    fn path_for(&self, key_id: &str) -> Result<PathBuf, KeyStoreError> {
        validate_key_id(key_id)?;
        Ok(self.dir.join(format!("{key_id}.pkcs8")))
    }
}

fn unavailable(what: &str, path: &Path, e: std::io::Error) -> KeyStoreError {
    KeyStoreError::Unavailable(format!("{what} {}: {e}", path.display()))
}

impl SecretKeyStore for FileKeyStore {
    fn load_signing_key(&self, key_id: &str) -> Result<Option<Vec<u8>>, KeyStoreError> {
        let path = self.path_for(key_id)?;
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(unavailable("cannot read", &path, e)),
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let meta = fs::metadata(&path).map_err(|e| unavailable("cannot stat", &path, e))?;
            if meta.permissions().mode() & 0o077 != 0 {
                return Err(KeyStoreError::Unavailable(format!(
                    "key file {} is accessible to other users; expected mode 0600",
                    path.display()
                )));
            }
        }
        Ok(Some(bytes))
    }

    fn save_signing_key(&self, key_id: &str, pkcs8: &[u8]) -> Result<(), KeyStoreError> {
        let path = self.path_for(key_id)?;
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(&self.dir)
            .map_err(|e| unavailable("cannot create", &self.dir, e))?;

        let tmp = self.dir.join(format!(".{key_id}.pkcs8.tmp"));
        match fs::remove_file(&tmp) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(unavailable("cannot remove", &tmp, e)),
        }
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(&tmp)
            .map_err(|e| unavailable("cannot create", &tmp, e))?;
        file.write_all(pkcs8)
            .and_then(|()| file.sync_all())
            .map_err(|e| unavailable("cannot write", &tmp, e))?;
        drop(file);
        fs::rename(&tmp, &path).map_err(|e| unavailable("cannot rename to", &path, e))?;
        Ok(())
    }
}

/// A key store that keeps keys in memory only, for tests and throw-away sessions.
#[derive(Default)]
pub struct MemoryKeyStore {
    keys: std::sync::Mutex<std::collections::HashMap<String, Vec<u8>>>,
}

impl fmt::Debug for MemoryKeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryKeyStore").finish_non_exhaustive()
    }
}

impl SecretKeyStore for MemoryKeyStore {
    fn load_signing_key(&self, key_id: &str) -> Result<Option<Vec<u8>>, KeyStoreError> {
        validate_key_id(key_id)?;
        let keys = self
            .keys
            .lock()
            .map_err(|_| KeyStoreError::Unavailable("store poisoned".into()))?;
        Ok(keys.get(key_id).cloned())
    }

    fn save_signing_key(&self, key_id: &str, pkcs8: &[u8]) -> Result<(), KeyStoreError> {
        validate_key_id(key_id)?;
        let mut keys = self
            .keys
            .lock()
            .map_err(|_| KeyStoreError::Unavailable("store poisoned".into()))?;
        keys.insert(key_id.to_owned(), pkcs8.to_vec());
        Ok(())
    }
}

/// An Ed25519 key pair held in memory: a worker's tablet key or the county authority key.
///
/// The PKCS#8 bytes are kept only to write them to a [`SecretKeyStore`]; there is no
/// getter for them, and `Debug` shows only the public key.
pub struct SigningKeyPair {
    pkcs8: Vec<u8>,
    pair: Ed25519KeyPair,
}

impl fmt::Debug for SigningKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeyPair")
            .field("public_key", &self.public_key())
            .finish_non_exhaustive()
    }
}

impl SigningKeyPair {
    /// Generates a fresh key from the operating system's random generator.
    pub fn generate() -> Result<Self, KeyError> {
        let rng = SystemRandom::new();
        let doc = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| KeyError::Generation)?;
        Self::from_pkcs8(doc.as_ref())
    }

    /// Reads a key from PKCS#8 v2 bytes (as written by [`generate`](Self::generate)).
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, KeyError> {
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8).map_err(|_| KeyError::InvalidKey)?;
        Ok(Self {
            pkcs8: pkcs8.to_vec(),
            pair,
        })
    }

    /// Loads the key stored under `key_id`, if any.
    pub fn load(store: &dyn SecretKeyStore, key_id: &str) -> Result<Option<Self>, KeyError> {
        match store.load_signing_key(key_id)? {
            Some(bytes) => Self::from_pkcs8(&bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Writes the key to `store` under `key_id`.
    pub fn save(&self, store: &dyn SecretKeyStore, key_id: &str) -> Result<(), KeyError> {
        store.save_signing_key(key_id, &self.pkcs8)?;
        Ok(())
    }

    /// The public half, to be put into a certificate.
    pub fn public_key(&self) -> PublicKey {
        let mut out = [0u8; 32];
        out.copy_from_slice(self.pair.public_key().as_ref());
        PublicKey(out)
    }

    /// Signs `msg` (Ed25519 is deterministic: same key and message, same signature).
    pub fn sign(&self, msg: &[u8]) -> [u8; SIGNATURE_LEN] {
        let mut out = [0u8; SIGNATURE_LEN];
        out.copy_from_slice(self.pair.sign(msg).as_ref());
        out
    }
}

/// A team member's signing key on their own tablet, identified by its key-store id.
///
/// It can sign and show its public key; it cannot export the private key.
#[derive(Debug)]
pub struct WorkerSigner {
    key_id: String,
    pair: SigningKeyPair,
}

impl WorkerSigner {
    /// Opens the worker's key from the store, or `None` if this tablet has no key yet.
    pub fn open(store: &dyn SecretKeyStore, key_id: &str) -> Result<Option<Self>, KeyError> {
        validate_key_id(key_id)?;
        Ok(SigningKeyPair::load(store, key_id)?.map(|pair| Self {
            key_id: key_id.to_owned(),
            pair,
        }))
    }

    /// Generates a new key and saves it; refuses to overwrite an existing key.
    pub fn create(store: &dyn SecretKeyStore, key_id: &str) -> Result<Self, KeyError> {
        validate_key_id(key_id)?;
        if store.load_signing_key(key_id)?.is_some() {
            return Err(KeyError::AlreadyExists(key_id.to_owned()));
        }
        let pair = SigningKeyPair::generate()?;
        pair.save(store, key_id)?;
        Ok(Self {
            key_id: key_id.to_owned(),
            pair,
        })
    }

    /// Opens the worker's key, generating and saving one on first use (the tablet's key is
    /// made once, then its public half goes to the county for a certificate).
    pub fn open_or_create(store: &dyn SecretKeyStore, key_id: &str) -> Result<Self, KeyError> {
        match Self::open(store, key_id)? {
            Some(signer) => Ok(signer),
            None => Self::create(store, key_id),
        }
    }

    /// The key-store id of this key.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The public key, for the worker's certificate request.
    pub fn public_key(&self) -> PublicKey {
        self.pair.public_key()
    }

    /// Signs `msg` with the worker's private key.
    pub fn sign(&self, msg: &[u8]) -> [u8; SIGNATURE_LEN] {
        self.pair.sign(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::collections::HashMap;

    /// A unique empty directory under the system temp dir for one test.
    pub(crate) fn temp_dir(name: &str) -> PathBuf {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        std::env::temp_dir().join(format!(
            "scratch-signing-{name}-{}-{nanos}",
            std::process::id()
        ))
    }

    #[test]
    fn sign_and_verify() {
        let pair = SigningKeyPair::generate().expect("key");
        let sig = pair.sign(b"visit");
        assert!(verify(&pair.public_key(), b"visit", &sig));
        assert!(!verify(&pair.public_key(), b"visiT", &sig));
        assert!(!verify(&pair.public_key(), b"visit", &sig[..63]));
        let other = SigningKeyPair::generate().expect("key");
        assert!(!verify(&other.public_key(), b"visit", &sig));
    }

    #[test]
    fn public_key_hex_serde_is_strict() {
        let pk = PublicKey([0xab; 32]);
        let json = serde_json::to_string(&pk).expect("ser");
        assert_eq!(json, format!("\"{}\"", "ab".repeat(32)));
        assert_eq!(serde_json::from_str::<PublicKey>(&json).expect("de"), pk);
        assert!(serde_json::from_str::<PublicKey>(&json.to_uppercase()).is_err());
        assert!(serde_json::from_str::<PublicKey>("\"abab\"").is_err());
    }

    #[test]
    fn debug_does_not_leak_private_key() {
        let pair = SigningKeyPair::generate().expect("key");
        let shown = format!("{pair:?}");
        assert!(shown.contains(&pair.public_key().to_hex()));
        assert!(!shown.contains(&hex::encode(&pair.pkcs8)));
        assert!(shown.len() < 200);
    }

    #[test]
    fn key_ids() {
        assert!(validate_key_id("worker-620102_01").is_ok());
        for bad in ["", "../etc", "a b", "é", ".hidden", &"x".repeat(65)] {
            assert!(
                matches!(validate_key_id(bad), Err(KeyStoreError::InvalidKeyId(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn file_store_round_trip_with_private_permissions() {
        let dir = temp_dir("keys");
        let store = FileKeyStore::new(&dir);
        assert!(WorkerSigner::open(&store, "w1").expect("open").is_none());
        let created = WorkerSigner::create(&store, "w1").expect("create");
        assert!(matches!(
            WorkerSigner::create(&store, "w1"),
            Err(KeyError::AlreadyExists(_))
        ));
        let opened = WorkerSigner::open(&store, "w1")
            .expect("open")
            .expect("exists");
        assert_eq!(opened.public_key(), created.public_key());
        assert_eq!(opened.sign(b"m"), created.sign(b"m"));
        assert_eq!(opened.key_id(), "w1");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.join("w1.pkcs8"))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
            fs::set_permissions(dir.join("w1.pkcs8"), fs::Permissions::from_mode(0o644))
                .expect("chmod");
            assert!(matches!(
                WorkerSigner::open(&store, "w1"),
                Err(KeyError::Store(KeyStoreError::Unavailable(_)))
            ));
        }
        assert!(matches!(
            store.save_signing_key("../x", b"k"),
            Err(KeyStoreError::InvalidKeyId(_))
        ));
        fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn open_or_create_makes_the_key_once() {
        let store = MemoryKeyStore::default();
        let first = WorkerSigner::open_or_create(&store, "w4").expect("create");
        let again = WorkerSigner::open_or_create(&store, "w4").expect("open");
        assert_eq!(first.public_key(), again.public_key());
        assert!(matches!(
            WorkerSigner::open_or_create(&store, "../w4"),
            Err(KeyError::Store(KeyStoreError::InvalidKeyId(_)))
        ));
    }

    #[test]
    fn garbage_key_bytes_are_refused() {
        let dir = temp_dir("garbage");
        let store = FileKeyStore::new(&dir);
        store.save_signing_key("w2", b"not a key").expect("save");
        assert!(matches!(
            WorkerSigner::open(&store, "w2"),
            Err(KeyError::InvalidKey)
        ));
        fs::remove_dir_all(&dir).expect("cleanup");
    }

    /// A host store that can be locked, like a keystore before first unlock.
    struct LockableStore {
        locked: bool,
        keys: RefCell<HashMap<String, Vec<u8>>>,
    }

    impl SecretKeyStore for LockableStore {
        fn load_signing_key(&self, key_id: &str) -> Result<Option<Vec<u8>>, KeyStoreError> {
            if self.locked {
                return Err(KeyStoreError::Locked);
            }
            Ok(self.keys.borrow().get(key_id).cloned())
        }
        fn save_signing_key(&self, key_id: &str, pkcs8: &[u8]) -> Result<(), KeyStoreError> {
            if self.locked {
                return Err(KeyStoreError::Locked);
            }
            self.keys
                .borrow_mut()
                .insert(key_id.to_owned(), pkcs8.to_vec());
            Ok(())
        }
    }

    #[test]
    fn locked_store_is_reported_as_locked() {
        let store = LockableStore {
            locked: true,
            keys: RefCell::default(),
        };
        let err = WorkerSigner::open(&store, "w3").expect_err("locked");
        assert_eq!(err, KeyError::Store(KeyStoreError::Locked));
        assert_eq!(err.code(), "keystore.locked");
        let open = LockableStore {
            locked: false,
            keys: RefCell::default(),
        };
        let signer = WorkerSigner::create(&open, "w3").expect("create");
        assert!(verify(&signer.public_key(), b"x", &signer.sign(b"x")));
    }
}
