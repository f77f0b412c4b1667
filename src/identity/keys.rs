//! The keys of the gateway's tokens: a key repository in Keystone's Fernet
//! layout, which every replica reads, or one key made at start.
//!
//! A repository is a directory of files named by integer, each holding one
//! Fernet key (32 bytes, base64url): the highest number is the **primary**
//! key, which signs and encrypts new tokens; `0` is the **staged** key, the
//! next primary, which every replica already accepts; the others are
//! **secondary** keys, which still validate the tokens they signed.
//!
//! Rotating (`dragoman token-keys rotate DIR`, as `keystone-manage
//! fernet_rotate`) promotes the staged key to primary, stages a new key as
//! `0`, and drops the oldest secondary keys past `max_active_keys`. On an
//! empty or absent directory it creates the repository first (as
//! `keystone-manage fernet_setup`: a staged and a primary key). Files are
//! written `0600`, each through a temporary file renamed into place.
//!
//! A running gateway reads the repository again at most once a second when
//! it issues or validates a token, so that keys rotated (and copied to every
//! replica) are used without a restart; a repository that no longer loads
//! leaves the keys in use.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use fernet::{Fernet, MultiFernet};

/// How often a running gateway reads its key repository again.
const RELOAD_EVERY: Duration = Duration::from_secs(1);

/// Keystone's default: the staged key, the primary and one secondary.
pub const DEFAULT_MAX_ACTIVE_KEYS: usize = 3;

/// Why a key repository cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("token key repository {dir}: {source}")]
    Io { dir: PathBuf, source: std::io::Error },
    #[error("token key repository {dir}: file {file} is not a fernet key (32 bytes, base64url)")]
    BadKey { dir: PathBuf, file: String },
    #[error("token key repository {dir} holds no keys: create it with `dragoman token-keys rotate {dir}`")]
    Empty { dir: PathBuf },
    #[error("max active keys must be at least 2 (the staged key and the primary)")]
    TooFewActive,
}

/// The keys tokens are made and checked with.
pub struct TokenKeys {
    /// Primary first, then the secondary keys, the staged key last.
    current: ArcSwap<Loaded>,
    /// Where they come from; `None` for a key made at start.
    repository: Option<Repository>,
}

struct Loaded {
    keys: Vec<String>,
    fernet: MultiFernet,
}

struct Repository {
    dir: PathBuf,
    last_read: Mutex<Instant>,
}

impl TokenKeys {
    /// One key, made now: tokens valid on this process only, until it stops.
    pub fn ephemeral() -> Self {
        let keys = vec![Fernet::generate_key()];
        Self { current: ArcSwap::from_pointee(Loaded::new(keys)), repository: None }
    }

    /// The keys of the repository at `dir`.
    pub fn from_repository(dir: &Path) -> Result<Self, KeyError> {
        let keys = read(dir)?.into_iter().map(|(_, key)| key).collect();
        let repository = Repository { dir: dir.to_owned(), last_read: Mutex::new(Instant::now()) };
        Ok(Self { current: ArcSwap::from_pointee(Loaded::new(keys)), repository: Some(repository) })
    }

    /// Whether the keys were made at start rather than read from a repository.
    pub fn is_ephemeral(&self) -> bool {
        self.repository.is_none()
    }

    /// The keys in use now, apart from any repository.
    pub fn in_use(&self) -> Self {
        Self { current: ArcSwap::new(self.current.load_full()), repository: None }
    }

    /// A token carrying `payload`, encrypted and signed with the primary key.
    pub fn seal(&self, payload: &[u8]) -> String {
        self.reload_now_and_then();
        // Keystone's tokens go without base64 padding
        self.current.load().fernet.encrypt(payload).trim_end_matches('=').to_owned()
    }

    /// The payload of a token signed with any active key.
    pub fn open(&self, token: &str) -> Option<Vec<u8>> {
        self.reload_now_and_then();
        self.current.load().fernet.decrypt(token).ok()
    }

    fn reload_now_and_then(&self) {
        let Some(repository) = &self.repository else { return };
        let Ok(mut last) = repository.last_read.try_lock() else { return };
        if last.elapsed() < RELOAD_EVERY {
            return;
        }
        *last = Instant::now();
        drop(last);
        match read(&repository.dir) {
            Ok(read) => {
                let keys: Vec<String> = read.into_iter().map(|(_, key)| key).collect();
                if keys != self.current.load().keys {
                    tracing::info!(dir = %repository.dir.display(), keys = keys.len(), "token keys reloaded");
                    self.current.store(std::sync::Arc::new(Loaded::new(keys)));
                }
            }
            Err(e) => tracing::warn!(error = %e, "token keys not reloaded, the previous ones stay in use"),
        }
    }
}

impl Loaded {
    fn new(keys: Vec<String>) -> Self {
        let fernets = keys.iter().filter_map(|k| Fernet::new(k)).collect();
        Self { fernet: MultiFernet::new(fernets), keys }
    }
}

/// The keys of a repository, by number, primary (highest) first, staged (`0`) last.
fn read(dir: &Path) -> Result<Vec<(u32, String)>, KeyError> {
    let io = |source| KeyError::Io { dir: dir.to_owned(), source };
    let mut keys = Vec::new();
    let entries = match fs::read_dir(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(KeyError::Empty { dir: dir.to_owned() }),
        entries => entries.map_err(io)?,
    };
    for entry in entries {
        let entry = entry.map_err(io)?;
        let name = entry.file_name();
        let Some(number) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let key = fs::read_to_string(entry.path()).map_err(io)?.trim().to_owned();
        if Fernet::new(&key).is_none() {
            return Err(KeyError::BadKey { dir: dir.to_owned(), file: name.to_string_lossy().into_owned() });
        }
        keys.push((number, key));
    }
    if keys.is_empty() {
        return Err(KeyError::Empty { dir: dir.to_owned() });
    }
    keys.sort_by_key(|(number, _)| std::cmp::Reverse(*number));
    Ok(keys)
}

/// What a rotation left in the repository.
#[derive(Debug, PartialEq, Eq)]
pub struct Rotated {
    pub primary: u32,
    /// Key numbers, highest first.
    pub keys: Vec<u32>,
}

/// Rotates the repository at `dir` (creating it when empty or absent):
/// the staged key becomes the primary, a new key is staged, and the oldest
/// secondary keys go past `max_active` keys in all.
pub fn rotate(dir: &Path, max_active: usize) -> Result<Rotated, KeyError> {
    if max_active < 2 {
        return Err(KeyError::TooFewActive);
    }
    let io = |source| KeyError::Io { dir: dir.to_owned(), source };
    create_private_dir(dir).map_err(io)?;
    let mut numbers: Vec<u32> = match read(dir) {
        Ok(keys) => keys.into_iter().map(|(n, _)| n).collect(),
        Err(KeyError::Empty { .. }) => {
            // as fernet_setup: a staged key, promoted at once below
            write_key(dir, 0).map_err(io)?;
            vec![0]
        }
        Err(e) => return Err(e),
    };
    let primary = numbers.first().map_or(0, |n| n + 1);
    if numbers.contains(&0) {
        fs::rename(dir.join("0"), dir.join(primary.to_string())).map_err(io)?;
        numbers.retain(|n| *n != 0);
    } else {
        write_key(dir, primary).map_err(io)?;
    }
    write_key(dir, 0).map_err(io)?;
    numbers.insert(0, primary);
    // the staged key and the primary always stay; the oldest secondaries go
    while numbers.len() + 1 > max_active {
        let oldest = numbers.pop().expect("more keys than the primary");
        fs::remove_file(dir.join(oldest.to_string())).map_err(io)?;
    }
    numbers.push(0);
    Ok(Rotated { primary, keys: numbers })
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// A new key in file `number`, readable by its owner only, written whole or not at all.
fn write_key(dir: &Path, number: u32) -> std::io::Result<()> {
    let tmp = dir.join(format!("{number}.tmp"));
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp)?;
    file.write_all(Fernet::generate_key().as_bytes())?;
    file.sync_all()?;
    fs::rename(&tmp, dir.join(number.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("dragoman-keys-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn rotation_follows_keystones_layout() {
        let dir = temp_dir("layout");
        assert!(matches!(TokenKeys::from_repository(&dir), Err(KeyError::Empty { .. })));
        assert_eq!(rotate(&dir, 3).unwrap(), Rotated { primary: 1, keys: vec![1, 0] });
        let staged = fs::read_to_string(dir.join("0")).unwrap();
        assert_eq!(rotate(&dir, 3).unwrap(), Rotated { primary: 2, keys: vec![2, 1, 0] });
        assert_eq!(fs::read_to_string(dir.join("2")).unwrap(), staged, "the staged key became the primary");
        assert_eq!(rotate(&dir, 3).unwrap(), Rotated { primary: 3, keys: vec![3, 2, 0] });
        assert!(!dir.join("1").exists(), "the oldest secondary is gone");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(dir.join("0")).unwrap().permissions().mode() & 0o777, 0o600);
        }
        assert!(matches!(rotate(&dir, 1), Err(KeyError::TooFewActive)));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn tokens_outlive_one_rotation_and_the_staged_key_is_accepted_before_it() {
        let dir = temp_dir("live");
        rotate(&dir, 3).unwrap();
        let before = TokenKeys::from_repository(&dir).unwrap();
        let token = before.seal(b"payload");
        rotate(&dir, 3).unwrap();
        let after = TokenKeys::from_repository(&dir).unwrap();
        assert_eq!(after.open(&token).as_deref(), Some(&b"payload"[..]));
        // a replica still on the old keys accepts the new primary's tokens: it was staged
        assert_eq!(before.open(&after.seal(b"new")).as_deref(), Some(&b"new"[..]));
        rotate(&dir, 3).unwrap();
        assert!(TokenKeys::from_repository(&dir).unwrap().open(&token).is_none(), "its key was dropped");
        fs::write(dir.join("7"), "not a key").unwrap();
        assert!(matches!(TokenKeys::from_repository(&dir), Err(KeyError::BadKey { .. })));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_ephemeral_key_opens_only_its_own_tokens() {
        let (one, other) = (TokenKeys::ephemeral(), TokenKeys::ephemeral());
        let token = one.seal(b"x");
        assert!(!token.ends_with('='));
        assert_eq!(one.open(&token).as_deref(), Some(&b"x"[..]));
        assert!(other.open(&token).is_none());
        assert!(one.open("garbage").is_none());
    }
}
