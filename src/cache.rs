//! Per-window results kept, in memory and on disk, so that an impulse's preview shows at
//! once when it is opened again, and stays when Studio withholds its results.
//!
//! A set of per-window scores is what a trained model output on a test set; it does not
//! depend on the thresholds. So an entry is used (docs/cache.md):
//!
//! - when Studio serves results, if the first page is the same byte for byte (nothing at
//!   all changed), or if what produced the scores is the same ([`Provenance`]: the impulse's
//!   definition, each learn block's trained model, the project's data); the full read that
//!   follows confirms it;
//! - when Studio withholds them (stale after a threshold change, a job required, a full
//!   run required), only if the [`Provenance`] is the same. Scores of another model, other
//!   test data or another impulse are never shown.
//!
//! Nothing secret goes in: no credentials, only the origin (without user or password),
//! the ids, dates and the results. Entries are bounded in number and size; an
//! unreadable, corrupt or foreign entry counts as missing and is overwritten.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::metrics::TestSet;
use crate::private_dir::{create_private_dir, untrusted_dir};

/// Bumped whenever the entry's layout or its test set's changes: older entries are then
/// ignored and overwritten.
const FORMAT: u32 = 4;
/// The most the cache keeps on disk; the least recently written entries go first.
pub const MAX_TOTAL_BYTES: u64 = 512 * 1024 * 1024;
/// The most entries kept.
pub const MAX_ENTRIES: usize = 64;
/// Entries larger than this are neither written nor read (a test set of over a million
/// windows is read from Studio each time).
pub const MAX_ENTRY_BYTES: u64 = 64 * 1024 * 1024;
/// Sets kept in memory besides the disk (the last impulses opened in this process).
pub const MEMORY_ENTRIES: usize = 4;

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

/// What must be unchanged for an entry to stand for Studio's results as served now.
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
    /// `definition`: the digest of the impulse as served (every field).
    pub fn new(definition: &str, total: u64, first_page_body: &[u8]) -> Self {
        Self {
            definition: definition.to_string(),
            total,
            first_page: digest(first_page_body),
        }
    }
}

/// What produced a set of per-window scores, as far as Studio's API tells: the same
/// impulse (its definition), the same trained model in each learn block (when it was
/// trained), the same data (the project's last modification, which Studio moves "when
/// data is modified, or when an impulse is trained"). The thresholds are not part of it:
/// the scores do not depend on them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// The digest of the impulse's definition.
    pub definition: String,
    /// Each learn block's id and when its model was trained, in the impulse's order.
    pub models: Vec<(u64, String)>,
    /// The project's last modification date.
    pub data: String,
}

/// A set of scores found in the cache, and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Kept {
    pub set: Arc<TestSet>,
    pub provenance: Option<Provenance>,
    /// When it was read from Studio.
    pub read_at: SystemTime,
}

/// An entry's first line; its test set follows on the next.
#[derive(Serialize, Deserialize)]
struct Header {
    format: u32,
    key: CacheKey,
    validator: Validator,
    provenance: Option<Provenance>,
    /// When the set was read, in seconds since the Unix epoch.
    read_at: u64,
}

impl Header {
    fn kept(&self, set: TestSet) -> Kept {
        Kept {
            set: Arc::new(set),
            provenance: self.provenance.clone(),
            read_at: UNIX_EPOCH + Duration::from_secs(self.read_at),
        }
    }
}

/// The longest header read.
const MAX_HEADER_BYTES: u64 = 64 * 1024;

/// An entry held in memory.
#[derive(Debug, Clone)]
struct InMemory {
    key: CacheKey,
    validator: Validator,
    kept: Kept,
}

/// The results cache: the last few sets in memory, and every entry on disk in one
/// directory (none with `--no-cache` and in the demo).
#[derive(Debug, Clone, Default)]
pub struct ResultsCache {
    dir: Option<PathBuf>,
    memory: Arc<Mutex<VecDeque<InMemory>>>,
}

/// Which entries a lookup takes.
enum Match<'a> {
    /// Made from this first page of Studio's results.
    FirstPage(&'a Validator),
    /// Scores produced as this says.
    Provenance(&'a Provenance),
    /// Scores of the project's data as of this date.
    Data(&'a str),
}

impl Match<'_> {
    fn accepts(&self, validator: &Validator, provenance: Option<&Provenance>) -> bool {
        match self {
            Self::FirstPage(wanted) => validator == *wanted,
            Self::Provenance(wanted) => provenance == Some(*wanted),
            Self::Data(date) => provenance.is_some_and(|p| p.data == *date),
        }
    }
}

impl ResultsCache {
    /// A cache in memory and in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: Some(dir.into()),
            memory: Arc::default(),
        }
    }

    /// A cache in this process's memory only.
    pub fn in_memory() -> Self {
        Self::default()
    }

    /// `EI_TUNE_CACHE_DIR` when set, else `ei-tune/results` in the platform's cache
    /// directory (`~/.cache` on Linux, `~/Library/Caches` on macOS); memory only where
    /// there is none.
    pub fn default_location() -> Self {
        let dir = match std::env::var_os("EI_TUNE_CACHE_DIR") {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => match dirs::cache_dir() {
                Some(d) => d.join("ei-tune").join("results"),
                None => return Self::default(),
            },
        };
        if let Some(why) = untrusted_dir(&dir) {
            eprintln!(
                "warning: results are kept in memory only, not in {}: {why}",
                crate::text::clean(&dir.display().to_string())
            );
            return Self::in_memory();
        }
        Self::new(dir)
    }

    /// The directory on disk, if any.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The set kept for `key` that was made from the same first page of results as
    /// `validator` describes: Studio's results have not changed since.
    pub fn read(&self, key: &CacheKey, validator: &Validator) -> Option<Kept> {
        self.find(key, &Match::FirstPage(validator))
    }

    /// The set kept for `key` whose scores were produced as `provenance` says: the same
    /// model on the same data, whatever the thresholds since.
    pub fn read_kept(&self, key: &CacheKey, provenance: &Provenance) -> Option<Kept> {
        self.find(key, &Match::Provenance(provenance))
    }

    fn find(&self, key: &CacheKey, wanted: &Match) -> Option<Kept> {
        if let Some(hit) = self
            .memory()
            .iter()
            .find(|m| m.key == *key && wanted.accepts(&m.validator, m.kept.provenance.as_ref()))
        {
            return Some(hit.kept.clone());
        }
        let (header, set) = self.read_disk(key, wanted)?;
        let kept = header.kept(set);
        self.remember(key, &header.validator, &kept);
        Some(kept)
    }

    fn memory(&self) -> std::sync::MutexGuard<'_, VecDeque<InMemory>> {
        self.memory.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn remember(&self, key: &CacheKey, validator: &Validator, kept: &Kept) {
        let mut memory = self.memory();
        memory.retain(|m| m.key != *key);
        memory.push_front(InMemory {
            key: key.clone(),
            validator: validator.clone(),
            kept: kept.clone(),
        });
        memory.truncate(MEMORY_ENTRIES);
    }

    /// The entry on disk for `key`, if `wanted` takes it; any entry that cannot be read, is
    /// corrupt, or is for something else counts as none. Only a regular file is opened (a
    /// FIFO or device there would block or never end), and the entry's header is checked
    /// before its set is decoded.
    fn read_disk(&self, key: &CacheKey, wanted: &Match) -> Option<(Header, TestSet)> {
        let (header, reader, path) = self.open_entry(key)?;
        if !wanted.accepts(&header.validator, header.provenance.as_ref()) {
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
        Some((header, set))
    }

    /// The header of the entry on disk for `key`, if it is one of this format for `key`.
    fn read_header(&self, key: &CacheKey) -> Option<Header> {
        self.open_entry(key).map(|(header, _, _)| header)
    }

    /// The entry on disk for `key`: its header (checked to be of this format and for
    /// `key`), and a reader at its test set. Only a regular file is opened (a FIFO or
    /// device there would block or never end).
    fn open_entry(
        &self,
        key: &CacheKey,
    ) -> Option<(Header, std::io::BufReader<std::fs::File>, PathBuf)> {
        let path = self.dir.as_ref()?.join(key.file_name());
        let (header, reader) = open_header(&path)?;
        if header.key != *key {
            tracing::debug!(path = %path.display(), "a cache entry of another key");
            return None;
        }
        Some((header, reader, path))
    }

    /// The keys of every entry on disk of `project` at `origin`.
    fn keys_on_disk(&self, origin: &str, project: u64) -> Vec<CacheKey> {
        let Some(dir) = &self.dir else {
            return Vec::new();
        };
        let Ok(read) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        read.flatten()
            .filter(|e| own_file(&e.file_name().to_string_lossy()) == Some(OwnFile::Entry))
            .filter_map(|e| open_header(&e.path()).map(|(header, _)| header.key))
            .filter(|key| key.origin == origin && key.project == project)
            .take(MAX_ENTRIES)
            .collect()
    }

    /// Keeps `set` for `key`, read from Studio at `read_at`, in memory and on disk
    /// (replacing what was there, written whole or not at all), then trims the disk to its
    /// bounds. Entries are readable by their owner only.
    pub fn write(
        &self,
        key: &CacheKey,
        validator: &Validator,
        provenance: Option<&Provenance>,
        set: &Arc<TestSet>,
        read_at: SystemTime,
    ) -> std::io::Result<()> {
        let kept = Kept {
            set: Arc::clone(set),
            provenance: provenance.cloned(),
            read_at,
        };
        self.remember(key, validator, &kept);
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        let header = Header {
            format: FORMAT,
            key: key.clone(),
            validator: validator.clone(),
            provenance: kept.provenance,
            read_at: read_at
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs(),
        };
        write_entry(dir, key, &header, set)
    }

    /// The project modification date the scores kept for `key` were read at, if any are
    /// kept (in memory, or on disk by the entry's header alone).
    pub fn kept_date(&self, key: &CacheKey) -> Option<String> {
        if let Some(m) = self.memory().iter().find(|m| m.key == *key) {
            return m.kept.provenance.as_ref().map(|p| p.data.clone());
        }
        self.read_header(key)?.provenance.map(|p| p.data)
    }

    /// Studio moved the modification date of `project` (at `origin`) from `from` to `to`
    /// while this process saved thresholds (a threshold change may count as a
    /// modification): every entry of the project made at `from` now stands at `to`, its
    /// scores unchanged. Entries at another date are left alone.
    pub fn carry_over(
        &self,
        origin: &str,
        project: u64,
        from: &str,
        to: &str,
    ) -> std::io::Result<()> {
        let mut keys: Vec<CacheKey> = self
            .memory()
            .iter()
            .map(|m| m.key.clone())
            .filter(|k| k.origin == origin && k.project == project)
            .collect();
        for key in self.keys_on_disk(origin, project) {
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        keys.iter()
            .try_for_each(|key| self.carry_entry_over(key, from, to))
    }

    fn carry_entry_over(&self, key: &CacheKey, from: &str, to: &str) -> std::io::Result<()> {
        let wanted = Match::Data(from);
        let in_memory = self
            .memory()
            .iter()
            .find(|m| m.key == *key && wanted.accepts(&m.validator, m.kept.provenance.as_ref()))
            .map(|m| (m.validator.clone(), m.kept.clone()));
        let found = in_memory.or_else(|| {
            self.read_disk(key, &wanted)
                .map(|(header, set)| (header.validator.clone(), header.kept(set)))
        });
        let Some((validator, mut kept)) = found else {
            return Ok(());
        };
        if let Some(p) = &mut kept.provenance {
            p.data = to.to_string();
        }
        self.write(
            key,
            &validator,
            kept.provenance.as_ref(),
            &kept.set,
            kept.read_at,
        )
    }
}

/// An entry's header, checked to be of this format, and a reader at its test set. Only a
/// regular file of this user's that others cannot write is opened, never through a link
/// (another user's file in a shared directory could plant figures), and a FIFO or device
/// at the name is neither waited on nor read.
fn open_header(path: &Path) -> Option<(Header, std::io::BufReader<std::fs::File>)> {
    use std::io::BufRead;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(
        &mut options,
        libc::O_NOFOLLOW | libc::O_NONBLOCK,
    );
    let file = options.open(path).ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() > MAX_ENTRY_BYTES || !owned_privately(&meta) {
        tracing::debug!(path = %path.display(), "no usable cache entry");
        return None;
    }
    let mut reader = std::io::BufReader::new(file);
    let mut line = Vec::new();
    (&mut reader)
        .take(MAX_HEADER_BYTES)
        .read_until(b'\n', &mut line)
        .ok()?;
    let header: Header = serde_json::from_slice(&line).ok()?;
    if header.format != FORMAT {
        tracing::debug!(path = %path.display(), "a cache entry of another format");
        return None;
    }
    Some((header, reader))
}

/// Whether a file is this user's and writable by nobody else.
#[cfg(unix)]
fn owned_privately(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    meta.uid() == me && meta.mode() & 0o022 == 0
}

#[cfg(not(unix))]
fn owned_privately(_: &std::fs::Metadata) -> bool {
    true
}

/// Writes an entry whole (a partial file renamed into place) in `dir`, then trims the
/// directory to its bounds. An entry too large to keep is not written.
fn write_entry(dir: &Path, key: &CacheKey, header: &Header, set: &TestSet) -> std::io::Result<()> {
    let mut body = serde_json::to_vec(header).map_err(std::io::Error::other)?;
    body.push(b'\n');
    serde_json::to_writer(&mut body, set).map_err(std::io::Error::other)?;
    if body.len() as u64 > MAX_ENTRY_BYTES {
        return Ok(());
    }
    create_private_dir(dir)?;
    let path = dir.join(key.file_name());
    let (partial, mut file) = tempfile_in(dir)?;
    let written = file
        .write_all(&body)
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::rename(&partial, &path));
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    trim(dir, &path);
    written
}

/// Removes the least recently written entries beyond the bounds (never `keep`), and
/// partial writes left by a crash. Only files named as ei-tune names its own are touched:
/// the directory may be shared.
fn trim(dir: &Path, keep: &Path) {
    let Ok(read) = std::fs::read_dir(dir) else {
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
mod tests;
