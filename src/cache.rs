//! Per-window results kept on disk between sessions, so that opening an impulse again
//! shows its preview at once.
//!
//! The rule (docs/cache.md): an entry is used only when everything it was made from is
//! unchanged: the origin, project and impulse (the key), the impulse's definition, the
//! number of results, and the first page of results byte for byte. The first page is read
//! at every start anyway, and it changes with every regeneration (each window carries the
//! thresholds it was judged at), every new model (new scores) and new test data (new
//! samples or count). What it cannot see (a sample replaced beyond the first page while
//! the count stays) is caught by the full read that still follows: a cached preview says
//! it is being checked until that read agrees, and is replaced when it does not.
//!
//! Nothing secret goes in: no credentials, only the origin (without user or password),
//! the ids and the results. Entries are bounded in number and size; an unreadable,
//! corrupt or foreign entry counts as missing and is overwritten.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::api::models::Impulse;
use crate::metrics::TestSet;

/// Bumped whenever the entry's layout or its test set's changes: older entries are then
/// ignored and overwritten.
const FORMAT: u32 = 3;
/// The most the cache keeps on disk; the least recently written entries go first.
pub const MAX_TOTAL_BYTES: u64 = 512 * 1024 * 1024;
/// The most entries kept.
pub const MAX_ENTRIES: usize = 64;
/// Entries larger than this are neither written nor read (a test set of over a million
/// windows is read from Studio each time).
pub const MAX_ENTRY_BYTES: u64 = 64 * 1024 * 1024;

pub use crate::text::digest;

/// Whose results an entry holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheKey {
    /// Scheme, host and port of the API: ids are only unique per service.
    pub origin: String,
    pub project: u64,
    pub impulse: u64,
}

impl CacheKey {
    /// The key for `impulse` of `project` at `base_url`, whose user, password, path and
    /// query are left out.
    pub fn new(base_url: &str, project: u64, impulse: u64) -> Self {
        Self {
            origin: origin_of(base_url),
            project,
            impulse,
        }
    }

    fn file_name(&self) -> String {
        let key = format!("{}\n{}\n{}", self.origin, self.project, self.impulse);
        format!("{}.json", &digest(key.as_bytes())[..32])
    }
}

/// Scheme, host and port of `base_url`: what tells one service from another, and no
/// credentials.
pub fn origin_of(base_url: &str) -> String {
    match reqwest::Url::parse(base_url) {
        Ok(url) => url.origin().ascii_serialization(),
        Err(_) => digest(base_url.as_bytes()),
    }
}

/// What must be unchanged for an entry to hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validator {
    /// The impulse's definition as read (its blocks decide how results are read).
    pub definition: String,
    /// How many samples the results have.
    pub total: u64,
    /// The first page of results, byte for byte as decoded.
    pub first_page: String,
}

impl Validator {
    pub fn new(impulse: &Impulse, total: u64, first_page_body: &[u8]) -> Self {
        Self {
            definition: digest(&serde_json::to_vec(impulse).unwrap_or_default()),
            total,
            first_page: digest(first_page_body),
        }
    }
}

/// An entry's first line; its test set follows on the next.
#[derive(Serialize, Deserialize)]
struct Header {
    format: u32,
    key: CacheKey,
    validator: Validator,
}

/// The longest header read.
const MAX_HEADER_BYTES: u64 = 64 * 1024;

/// The results cache in one directory.
#[derive(Debug, Clone)]
pub struct ResultsCache {
    dir: PathBuf,
}

impl ResultsCache {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// `EI_TUNE_CACHE_DIR` when set, else `ei-tune/results` in the platform's cache
    /// directory (`~/.cache` on Linux, `~/Library/Caches` on macOS); `None` where there is
    /// none.
    pub fn default_location() -> Option<Self> {
        match std::env::var_os("EI_TUNE_CACHE_DIR") {
            Some(dir) if !dir.is_empty() => Some(Self::new(dir)),
            _ => dirs::cache_dir().map(|d| Self::new(d.join("ei-tune").join("results"))),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The test set kept for `key`, if it was made from what `validator` describes; any
    /// entry that cannot be read, is corrupt, or is for something else counts as none.
    /// Only a regular file is opened (a FIFO or device there would block or never end),
    /// and the entry's header is checked before its set is decoded.
    pub fn read(&self, key: &CacheKey, validator: &Validator) -> Option<TestSet> {
        use std::io::BufRead;
        let path = self.dir.join(key.file_name());
        let meta = std::fs::metadata(&path).ok()?;
        if !meta.is_file() || meta.len() > MAX_ENTRY_BYTES {
            tracing::debug!(path = %path.display(), "no usable cache entry");
            return None;
        }
        let mut reader = std::io::BufReader::new(std::fs::File::open(&path).ok()?);
        let mut line = Vec::new();
        (&mut reader)
            .take(MAX_HEADER_BYTES)
            .read_until(b'\n', &mut line)
            .ok()?;
        let header: Header = serde_json::from_slice(&line).ok()?;
        if header.format != FORMAT || header.key != *key || header.validator != *validator {
            tracing::debug!(path = %path.display(), "a cache entry for other results");
            return None;
        }
        let set: TestSet = match serde_json::from_reader(reader) {
            Ok(set) => set,
            Err(e) => {
                tracing::debug!(path = %path.display(), "a cache entry that cannot be read: {e}");
                return None;
            }
        };
        if let Err(e) = set.check() {
            tracing::debug!(path = %path.display(), "a cache entry that is not whole: {e}");
            return None;
        }
        tracing::debug!(path = %path.display(), "results from the cache");
        Some(set)
    }

    /// Keeps `set` for `key`, replacing what was there (written whole or not at all), then
    /// trims the cache to its bounds. Entries are readable by their owner only.
    pub fn write(
        &self,
        key: &CacheKey,
        validator: &Validator,
        set: &TestSet,
    ) -> std::io::Result<()> {
        let header = Header {
            format: FORMAT,
            key: key.clone(),
            validator: validator.clone(),
        };
        let mut body = serde_json::to_vec(&header).map_err(std::io::Error::other)?;
        body.push(b'\n');
        serde_json::to_writer(&mut body, set).map_err(std::io::Error::other)?;
        if body.len() as u64 > MAX_ENTRY_BYTES {
            return Ok(());
        }
        create_private_dir(&self.dir)?;
        let path = self.dir.join(key.file_name());
        let (partial, mut file) = tempfile_in(&self.dir)?;
        let written = file
            .write_all(&body)
            .and_then(|()| file.sync_all())
            .and_then(|()| std::fs::rename(&partial, &path));
        if written.is_err() {
            let _ = std::fs::remove_file(&partial);
        }
        self.trim(&path);
        written
    }

    /// Removes the least recently written entries beyond the bounds (never `keep`), and
    /// partial writes left by a crash. Only files named as ei-tune names its own are
    /// touched: the directory may be shared.
    fn trim(&self, keep: &Path) {
        let Ok(read) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut entries: Vec<(std::time::SystemTime, u64, PathBuf, bool)> = read
            .flatten()
            .filter_map(|e| {
                let kind = own_file(&e.file_name().to_string_lossy())?;
                let meta = e.metadata().ok().filter(|m| m.is_file())?;
                Some((
                    meta.modified().ok()?,
                    meta.len(),
                    e.path(),
                    kind == OwnFile::Partial,
                ))
            })
            .collect();
        // The entry just written first, then the newest.
        entries.sort_by(|a, b| (a.2 != keep, b.0).cmp(&(b.2 != keep, a.0)));
        let mut total = 0;
        let mut kept = 0;
        for (modified, size, path, partial) in entries {
            let stale_partial = partial
                && modified
                    .elapsed()
                    .is_ok_and(|age| age > std::time::Duration::from_secs(3600));
            total += size;
            if !partial {
                kept += 1;
            }
            let over = !partial && (kept > MAX_ENTRIES || total > MAX_TOTAL_BYTES);
            if over || stale_partial {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum OwnFile {
    Entry,
    Partial,
}

/// Whether a file name is one ei-tune gives its entries (32 hex digits, `.json`) or its
/// partial writes (16 hex digits, `.partial`).
fn own_file(name: &str) -> Option<OwnFile> {
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    if let Some(stem) = name.strip_suffix(".json") {
        hex(stem, 32).then_some(OwnFile::Entry)
    } else if let Some(stem) = name.strip_suffix(".partial") {
        hex(stem, 16).then_some(OwnFile::Partial)
    } else {
        None
    }
}

/// Creates `dir` (and its parents) readable by the user alone.
pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// A new file for a partial write beside the entries; renamed into place when whole.
fn tempfile_in(dir: &Path) -> std::io::Result<(PathBuf, std::fs::File)> {
    for _ in 0..16 {
        let path = dir.join(format!("{:016x}.partial", fastrand::u64(..)));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&path) {
            Ok(file) => return Ok((path, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("no free name for a cache file"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::fixtures::six_windows;

    fn scratch() -> (ResultsCache, PathBuf) {
        let dir = std::env::temp_dir().join(format!("ei-tune-cache-{:016x}", fastrand::u64(..)));
        (ResultsCache::new(&dir), dir)
    }

    fn validator(first_page: &[u8]) -> Validator {
        Validator {
            definition: digest(b"impulse"),
            total: 6,
            first_page: digest(first_page),
        }
    }

    #[test]
    fn an_entry_holds_only_for_what_it_was_made_from() {
        let (cache, dir) = scratch();
        let key = CacheKey::new("https://user:secret@studio.example.com:8443/v1?x=1", 7, 2);
        assert_eq!(key.origin, "https://studio.example.com:8443");
        let set = six_windows();
        cache.write(&key, &validator(b"page"), &set).unwrap();
        assert_eq!(cache.read(&key, &validator(b"page")), Some(set));
        assert_eq!(cache.read(&key, &validator(b"page, regenerated")), None);
        let other = CacheKey::new("https://studio.example.com:8443/v1", 7, 3);
        assert_eq!(cache.read(&other, &validator(b"page")), None);
        let written = std::fs::read_to_string(dir.join(key.file_name())).unwrap();
        assert!(
            !written.contains("secret") && !written.contains("user"),
            "{written}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn corrupt_or_foreign_entries_count_as_missing_and_are_replaced() {
        let (cache, dir) = scratch();
        let key = CacheKey::new("http://127.0.0.1:9/v1", 1, 1);
        let set = six_windows();
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(key.file_name());
        std::fs::write(&path, b"{\"format\": 1, \"key\": garbage").unwrap();
        assert_eq!(cache.read(&key, &validator(b"p")), None);
        // Another impulse's entry under this name (copied, or a collision).
        let theirs = CacheKey::new("http://127.0.0.1:9/v1", 1, 5);
        cache.write(&theirs, &validator(b"p"), &set).unwrap();
        std::fs::copy(dir.join(theirs.file_name()), &path).unwrap();
        assert_eq!(cache.read(&key, &validator(b"p")), None);
        // A set whose parts disagree is never handed out.
        let mut broken = set.clone();
        broken.expected.push(0);
        cache.write(&key, &validator(b"p"), &broken).unwrap();
        assert_eq!(cache.read(&key, &validator(b"p")), None);
        cache.write(&key, &validator(b"p"), &set).unwrap();
        assert_eq!(cache.read(&key, &validator(b"p")), Some(set));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn only_its_own_files_are_ever_removed_and_only_regular_files_read() {
        let (cache, dir) = scratch();
        std::fs::create_dir_all(&dir).unwrap();
        let notes: Vec<PathBuf> = (0..MAX_ENTRIES + 3)
            .map(|i| dir.join(format!("notes-{i}.txt")))
            .collect();
        for note in &notes {
            std::fs::write(note, b"mine").unwrap();
        }
        let key = CacheKey::new("http://127.0.0.1:9/v1", 1, 1);
        // A directory where the entry goes: the write fails and leaves nothing behind.
        std::fs::create_dir_all(dir.join(key.file_name()).join("sub")).unwrap();
        assert!(cache.write(&key, &validator(b"p"), &six_windows()).is_err());
        assert_eq!(cache.read(&key, &validator(b"p")), None);
        let left: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".partial"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
        std::fs::remove_dir_all(dir.join(key.file_name())).unwrap();
        // A FIFO there would block a reader for good: it is not opened.
        #[cfg(unix)]
        {
            let fifo = std::ffi::CString::new(dir.join(key.file_name()).to_str().unwrap()).unwrap();
            assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
            assert_eq!(cache.read(&key, &validator(b"p")), None);
            std::fs::remove_file(dir.join(key.file_name())).unwrap();
        }
        for impulse in 0..(MAX_ENTRIES as u64 + 2) {
            let key = CacheKey::new("http://127.0.0.1:9/v1", 1, impulse);
            cache.write(&key, &validator(b"p"), &six_windows()).unwrap();
        }
        assert!(
            notes.iter().all(|n| n.exists()),
            "a file not of the cache was removed"
        );
        assert_eq!(
            own_file("0123456789abcdef0123456789abcdef.json"),
            Some(OwnFile::Entry)
        );
        assert_eq!(own_file("notes.json"), None);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_cache_keeps_at_most_its_bound_of_entries() {
        let (cache, dir) = scratch();
        let set = six_windows();
        for impulse in 0..(MAX_ENTRIES as u64 + 5) {
            let key = CacheKey::new("http://127.0.0.1:9/v1", 1, impulse);
            cache.write(&key, &validator(b"p"), &set).unwrap();
        }
        let files = std::fs::read_dir(&dir).unwrap().count();
        assert_eq!(files, MAX_ENTRIES);
        let newest = CacheKey::new("http://127.0.0.1:9/v1", 1, MAX_ENTRIES as u64 + 4);
        assert_eq!(cache.read(&newest, &validator(b"p")), Some(set));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
