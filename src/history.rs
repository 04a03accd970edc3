//! The history of set-thresholds calls: every call ei-tune makes (the tuner's and the
//! commands') appended as one JSON line to `history.jsonl` in the platform's state
//! directory, so that "what did we have on Tuesday?" has an answer and any earlier set of
//! values can come back.
//!
//! What goes in: the time, the API's origin (scheme, host and port, never a user or
//! password), the ids, each threshold's value before and after, Studio's answer (or
//! ei-tune's own short reason for a failure) and the figures at the values sent. No
//! credentials, no server text beyond the impulse's name. The file is bounded: past
//! [`MAX_BYTES`] the oldest entries go. A line that is not an entry (a crash mid-write, an
//! edit by hand, a newer format) is skipped and counted, never fatal.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::api::client::BlockThresholds;
use crate::api::models::{ThresholdUpdate, ThresholdValue};
use crate::metrics::suggest::HEADLINES;

/// The file grows to this size at most; past it the oldest entries are dropped until half
/// of it is left (a few thousand calls).
pub const MAX_BYTES: u64 = 2 * 1024 * 1024;
/// A longer line is not an entry ei-tune wrote.
const MAX_LINE: usize = 64 * 1024;
/// Server text kept in an entry (the impulse's name, Studio's status, keys and option
/// values) is cut to this many characters.
const MAX_NAME_CHARS: usize = 200;
const FILE_NAME: &str = "history.jsonl";

/// Why the history could not be read or written. The tuning and the commands go on
/// without it; this says why to the user.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("the history is off (--no-history)")]
    Off,
    #[error("an entry of {kib} KiB is more than the history keeps")]
    EntryTooLong { kib: usize },
    /// A FIFO, a device, a directory or a symbolic link where the file should be.
    #[error("{} is not a regular file", path.display())]
    NotAFile { path: PathBuf },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The task reading the file stopped before it answered.
    #[error("the history's reader stopped")]
    ReaderStopped,
}

/// One set-thresholds call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// When the answer came, RFC 3339 in UTC.
    pub time: String,
    /// Scheme, host and port of the API, or `demo` for the demo's own simulator.
    pub origin: String,
    #[serde(flatten)]
    pub call: Call,
}

impl Entry {
    /// `2026-11-29 17:31:05 UTC`: the time as written, for reading.
    pub fn when(&self) -> String {
        let time = crate::text::clean(&self.time.replace('T', " "));
        match time.strip_suffix('Z') {
            Some(utc) => format!("{utc} UTC"),
            None => time,
        }
    }

    /// The figures, as the figures pane shows them (`accuracy 91.2 %`), in its order.
    pub fn figures(&self) -> Vec<String> {
        HEADLINES
            .iter()
            .filter_map(|h| {
                Some(format!(
                    "{} {}",
                    h.name,
                    h.show(*self.call.figures.get(h.slug)?)
                ))
            })
            .collect()
    }
}

/// What a call was and what came of it; the time and origin are added when it is written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Call {
    pub project: u64,
    pub impulse: u64,
    #[serde(default)]
    pub impulse_name: String,
    /// What made it: `tuner`, `set` or `suggest`.
    pub by: String,
    /// Every threshold of the impulse: what Studio held before and after the call (the
    /// same when the call failed or did not carry it).
    pub thresholds: Vec<Change>,
    pub answer: Answer,
    /// The figures at the values after the call, by the names `check` takes; empty when
    /// none were known.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub figures: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    pub block_id: u64,
    pub key: String,
    pub before: ThresholdValue,
    pub after: ThresholdValue,
    /// The value a call that was not saved asked for (it failed, or its outcome is
    /// unknown): `after` stays what Studio held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent: Option<ThresholdValue>,
}

impl Change {
    pub fn changed(&self) -> bool {
        &self.before != self.to()
    }

    /// What the call moved the value to: what it left, or asked for when not saved.
    pub fn to(&self) -> &ThresholdValue {
        self.sent.as_ref().unwrap_or(&self.after)
    }
}

impl Call {
    /// A call that sent `request` to an impulse whose thresholds were `held`, answered by
    /// `answer`: what it set is in `after` only when it was saved.
    pub fn new(
        by: &str,
        project: u64,
        impulse: (u64, &str),
        held: &[BlockThresholds],
        request: &[ThresholdUpdate],
        answer: Answer,
    ) -> Self {
        let thresholds = held
            .iter()
            .flat_map(|b| {
                b.thresholds.iter().map(|t| {
                    let sent = request
                        .iter()
                        .find(|u| u.block_id == b.block.id && u.key == t.key)
                        .map(|u| u.value.clone());
                    let (after, sent) = if answer.saved {
                        (sent.unwrap_or_else(|| t.value.clone()), None)
                    } else {
                        (t.value.clone(), sent)
                    };
                    Change {
                        block_id: b.block.id,
                        key: t.key.clone(),
                        before: t.value.clone(),
                        after,
                        sent,
                    }
                })
            })
            .collect();
        Self {
            project,
            impulse: impulse.0,
            impulse_name: crate::text::clean(impulse.1),
            by: by.into(),
            thresholds,
            answer,
            figures: BTreeMap::new(),
        }
    }

    /// A call whose outcome is unknown: the values it sent are what it would leave.
    pub fn with_sent(&mut self, request: &[ThresholdUpdate]) {
        for change in &mut self.thresholds {
            if let Some(u) = request
                .iter()
                .find(|u| u.block_id == change.block_id && u.key == change.key)
            {
                change.after = u.value.clone();
                change.sent = None;
            }
        }
    }

    /// After an answer that was lost: what Studio was read to hold is what the call left,
    /// and it was saved if it changed anything.
    pub fn read_back(&mut self, held: &[BlockThresholds]) {
        for change in &mut self.thresholds {
            if let Some(t) = held
                .iter()
                .filter(|b| b.block.id == change.block_id)
                .flat_map(|b| &b.thresholds)
                .find(|t| t.key == change.key)
            {
                change.after = t.value.clone();
                change.sent = None;
            }
        }
        self.answer.saved = self.thresholds.iter().any(Change::changed);
        self.answer.error = Some("the answer was lost; the values were read back".into());
    }

    /// `held` with the values Studio holds after the call.
    pub fn after(&self, held: &[BlockThresholds]) -> Vec<BlockThresholds> {
        let mut after = held.to_vec();
        for block in &mut after {
            for t in &mut block.thresholds {
                if let Some(c) = self
                    .thresholds
                    .iter()
                    .find(|c| c.block_id == block.block.id && c.key == t.key)
                {
                    t.value = c.after.clone();
                }
            }
        }
        after
    }

    /// What the call changed, on one line: `3.min_score 0.6 → 0.75, …`, or `no change`.
    pub fn changes_line(&self) -> String {
        let changes = self.changes();
        if changes.is_empty() {
            "no change".into()
        } else {
            changes.join(", ")
        }
    }

    /// `3.min_score 0.6 → 0.75`, for each value the call changed.
    pub fn changes(&self) -> Vec<String> {
        self.thresholds
            .iter()
            .filter(|c| c.changed())
            .map(|c| {
                crate::text::clean(&format!(
                    "{}.{} {} → {}",
                    c.block_id,
                    c.key,
                    c.before,
                    c.to()
                ))
            })
            .collect()
    }
}

/// What reading the history found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reading {
    /// Oldest first.
    pub entries: Vec<Entry>,
    /// Lines that were not entries.
    pub skipped: usize,
}

impl Reading {
    /// The warning to give for skipped lines, if any.
    pub fn warning(&self) -> Option<String> {
        (self.skipped > 0).then(|| {
            format!(
                "{} line{} of the history {} not an entry ei-tune reads: skipped",
                self.skipped,
                if self.skipped == 1 { "" } else { "s" },
                if self.skipped == 1 { "is" } else { "are" },
            )
        })
    }

    /// Keeps only the entries of one impulse at one origin.
    pub fn of_impulse(mut self, origin: &str, project: u64, impulse: u64) -> Self {
        self.entries.retain(|e| {
            e.origin == origin && e.call.project == project && e.call.impulse == impulse
        });
        self
    }
}

/// Where one session's calls are written: the history, and the origin they go to.
#[derive(Debug, Clone)]
pub struct Recorder {
    pub history: History,
    pub origin: String,
}

impl Recorder {
    /// Calls to the API at `base_url`.
    pub fn for_api(history: History, base_url: &str) -> Self {
        Self {
            history,
            origin: crate::cache::origin_of(base_url),
        }
    }

    pub fn record(&self, call: Call) -> Result<(), HistoryError> {
        self.history.append(&self.origin, call)
    }

    /// The calls made to one impulse at this origin.
    pub fn read_impulse(&self, project: u64, impulse: u64) -> Result<Reading, HistoryError> {
        Ok(self
            .history
            .read()?
            .of_impulse(&self.origin, project, impulse))
    }
}

/// The history file.
#[derive(Debug, Clone)]
pub struct History {
    path: PathBuf,
}

impl History {
    /// The history kept in `dir`.
    pub fn in_dir(dir: impl AsRef<Path>) -> Self {
        Self {
            path: dir.as_ref().join(FILE_NAME),
        }
    }

    /// `$EI_TUNE_STATE_DIR`, else `ei-tune` in the platform's state directory (the local
    /// data directory where there is none, as on macOS and Windows).
    /// `None` where there is none, or where its directory cannot be trusted to be the
    /// user's (said on stderr: see [`crate::private_dir::untrusted_dir`]).
    pub fn default_location() -> Option<Self> {
        let dir = match std::env::var_os("EI_TUNE_STATE_DIR") {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => dirs::state_dir()
                .or_else(dirs::data_local_dir)?
                .join("ei-tune"),
        };
        if let Some(why) = crate::private_dir::untrusted_dir(&dir) {
            eprintln!(
                "warning: no history is read or written in {}: {why}",
                crate::text::clean(&dir.display().to_string())
            );
            return None;
        }
        Some(Self::in_dir(dir))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `call`, answered now, made to the API at `origin`. Appends and trims of
    /// every ei-tune take turns (a lock file beside the history), so that none is lost to
    /// another's trim; each entry is one write of one whole line.
    pub fn append(&self, origin: &str, call: Call) -> Result<(), HistoryError> {
        let mut entry = Entry {
            time: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
            origin: shortened(origin, MAX_NAME_CHARS),
            call: bounded(call),
        };
        // An entry is plain data: serialising it cannot fail.
        let mut line = serde_json::to_vec(&entry).unwrap_or_default();
        if line.len() >= MAX_LINE {
            // Thousands of thresholds: the ones the call changed are what must be kept.
            entry.call.thresholds.retain(Change::changed);
            line = serde_json::to_vec(&entry).unwrap_or_default();
        }
        if line.len() >= MAX_LINE {
            return Err(HistoryError::EntryTooLong {
                kib: line.len() / 1024,
            });
        }
        line.push(b'\n');
        if let Some(dir) = self.path.parent() {
            crate::private_dir::create_private_dir(dir).map_err(|e| self.io(e))?;
        }
        let _turn = self.lock().map_err(|e| self.io(e))?;
        self.refuse_unless_regular()?;
        self.append_line(line).map_err(|e| self.io(e))
    }

    fn io(&self, source: std::io::Error) -> HistoryError {
        HistoryError::Io {
            path: self.path.clone(),
            source,
        }
    }

    fn append_line(&self, mut line: Vec<u8>) -> std::io::Result<()> {
        let mut options = std::fs::OpenOptions::new();
        options.read(true).append(true).create(true);
        no_follow(&mut options);
        let mut file = options.open(&self.path)?;
        // A line left unfinished (a crash mid-write, an edit) must not swallow this one.
        let len = file.metadata()?.len();
        if len > 0 {
            let mut last = [0u8; 1];
            file.seek(SeekFrom::Start(len - 1))?;
            file.read_exact(&mut last)?;
            if last[0] != b'\n' {
                line.insert(0, b'\n');
            }
        }
        file.write_all(&line)?;
        if len + line.len() as u64 > MAX_BYTES {
            self.trim()?;
        }
        Ok(())
    }

    /// Waits for this process's turn at the file: a lock on `history.lock` beside it.
    fn lock(&self) -> std::io::Result<std::fs::File> {
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        no_follow(&mut options);
        let file = options.open(self.path.with_extension("lock"))?;
        file.lock()?;
        Ok(file)
    }

    /// Reads every entry; a missing file is an empty history. Only the newest
    /// [`MAX_BYTES`] are read of a file grown larger (by hand or by another program).
    pub fn read(&self) -> Result<Reading, HistoryError> {
        self.refuse_unless_regular()?;
        let mut options = std::fs::OpenOptions::new();
        options.read(true);
        no_follow(&mut options);
        match options.open(&self.path) {
            Ok(file) => read_entries(file).map_err(|e| self.io(e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Reading::default()),
            Err(e) => Err(self.io(e)),
        }
    }

    /// A FIFO or a device at the history's name would hang a read or a write, and a
    /// symbolic link would send the entries elsewhere: only a regular file (or none) is
    /// used.
    fn refuse_unless_regular(&self) -> Result<(), HistoryError> {
        match std::fs::symlink_metadata(&self.path) {
            Ok(meta) if !meta.is_file() => Err(HistoryError::NotAFile {
                path: self.path.clone(),
            }),
            _ => Ok(()),
        }
    }
}

/// The entries of the newest [`MAX_BYTES`] of `file`.
fn read_entries(mut file: std::fs::File) -> std::io::Result<Reading> {
    let len = file.metadata()?.len();
    let start = len.saturating_sub(MAX_BYTES);
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::new();
    file.take(MAX_BYTES).read_to_end(&mut bytes)?;
    let mut lines = bytes.split(|&b| b == b'\n');
    if start > 0 {
        lines.next(); // a line cut by where the read began
    }
    let mut reading = Reading::default();
    for line in lines {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match (line.len() <= MAX_LINE)
            .then(|| serde_json::from_slice::<Entry>(line).ok())
            .flatten()
        {
            Some(entry) => reading.entries.push(entry),
            None => reading.skipped += 1,
        }
    }
    Ok(reading)
}

impl History {
    /// Keeps the newest entries that fit in half of [`MAX_BYTES`]; the file is replaced
    /// whole, so a reader sees the old or the new one. Lines that were not entries go too.
    fn trim(&self) -> std::io::Result<()> {
        // Only the newest part is read: a file grown to gigabytes costs no more.
        let mut file = std::fs::File::open(&self.path)?;
        let len = file.metadata()?.len();
        let start = len.saturating_sub(MAX_BYTES);
        file.seek(SeekFrom::Start(start))?;
        let mut bytes = Vec::new();
        file.take(MAX_BYTES).read_to_end(&mut bytes)?;
        let mut kept: Vec<&[u8]> = Vec::new();
        let mut size = 0u64;
        for line in bytes.split(|&b| b == b'\n').rev() {
            if line.is_empty() || serde_json::from_slice::<Entry>(line).is_err() {
                continue;
            }
            size += line.len() as u64 + 1;
            if size > MAX_BYTES / 2 {
                break;
            }
            kept.push(line);
        }
        let partial = self
            .path
            .with_extension(format!("{:016x}.partial", fastrand::u64(..)));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        no_follow(&mut options);
        let written = options.open(&partial).and_then(|mut file| {
            for line in kept.iter().rev() {
                file.write_all(line)?;
                file.write_all(b"\n")?;
            }
            file.sync_all()
        });
        match written.and_then(|()| std::fs::rename(&partial, &self.path)) {
            Ok(()) => Ok(()),
            Err(e) => {
                let _ = std::fs::remove_file(&partial);
                Err(e)
            }
        }
    }
}

/// Opening never follows a symbolic link (planted where the file should be), and what it
/// creates only the user can read.
fn no_follow(options: &mut std::fs::OpenOptions) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW).mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = options;
}

/// At most `max` characters of `text`, cleaned.
fn shortened(text: &str, max: usize) -> String {
    crate::text::shorten(&crate::text::clean(text), max)
}

/// `call` with every server text cut to [`MAX_NAME_CHARS`], so that what Studio sends
/// cannot make an entry too long to write (an applied change must be written down). Keys
/// and option values are cut, not cleaned: they are what Enter brings back.
fn bounded(mut call: Call) -> Call {
    call.impulse_name = shortened(&call.impulse_name, MAX_NAME_CHARS);
    let answer = &mut call.answer;
    for text in [
        &mut answer.regenerate_model_testing_status,
        &mut answer.error,
    ]
    .into_iter()
    .flatten()
    {
        *text = shortened(text, MAX_NAME_CHARS);
    }
    for change in &mut call.thresholds {
        change.key = crate::text::shorten(&change.key, MAX_NAME_CHARS);
        for value in [&mut change.before, &mut change.after]
            .into_iter()
            .chain(change.sent.as_mut())
        {
            if let ThresholdValue::Text(text) = value {
                *text = crate::text::shorten(text, MAX_NAME_CHARS);
            }
        }
    }
    call
}

mod answer;
pub use answer::Answer;

#[cfg(test)]
mod tests;
