//! Server text made safe to print.
//!
//! Names, descriptions and error messages come from the server; a terminal acts on the
//! control characters in them (`ESC]52` writes the clipboard, `ESC[2J` clears the screen,
//! C1 controls do the same on some terminals). Every such character is shown as a space.

use std::path::{Path, PathBuf};

/// `text` with every control character (C0, DEL, C1) replaced by a space.
pub fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if is_unsafe(c) { ' ' } else { c })
        .collect()
}

/// Control characters, and the ones that reorder or break lines on a terminal (bidi
/// overrides and isolates, line and paragraph separators).
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')
}

/// Unicode's noncharacters (U+FDD0–U+FDEF, and the last two of every plane, U+FFFE and
/// U+FFFF among them): XML cannot carry the last two, and none is text.
pub fn is_noncharacter(c: char) -> bool {
    let c = c as u32;
    (0xfdd0..=0xfdef).contains(&c) || c & 0xfffe == 0xfffe
}

/// `text` cut to at most `max` characters, with `…` where it was cut.
pub fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// Reads a whole file of at most `limit` bytes; a larger one (or one that never ends, such
/// as `/dev/zero`) is refused after `limit + 1` bytes.
pub fn read_bounded(path: &std::path::Path, limit: u64) -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(limit + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::other(format!(
            "larger than {} KiB; refused",
            limit >> 10
        )));
    }
    String::from_utf8(bytes)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"))
}

/// Writes `bytes` to `file` whole or not at all: into a new file beside it, renamed over
/// it once complete, so that a full disk never leaves half a file (a report, a JUnit file)
/// in place of the last. Anything but a regular file at the name (a directory, a FIFO that
/// would never be read) is refused.
pub fn write_whole(file: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let (partial, mut new) = new_file_beside(file, "partial")?;
    let written = new
        .write_all(bytes)
        .and_then(|()| new.sync_all())
        .and_then(|()| std::fs::rename(&partial, file));
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    written
}

/// Whether [`write_whole`] can write `file`, found out before anything is computed or
/// read for it: a regular file or nothing at the name, and a directory that takes a new
/// file (a probe, removed at once).
pub fn check_writable(file: &Path) -> std::io::Result<()> {
    let (probe, _) = new_file_beside(file, "probe")?;
    std::fs::remove_file(&probe)
}

/// A new hidden file in `file`'s directory (`.NAME.RANDOM.KIND`), once the name holds a
/// regular file or nothing.
fn new_file_beside(file: &Path, kind: &str) -> std::io::Result<(PathBuf, std::fs::File)> {
    if let Ok(meta) = std::fs::symlink_metadata(file)
        && !meta.is_file()
    {
        return Err(std::io::Error::other("it is not a regular file"));
    }
    let dir = match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = file.file_name().unwrap_or_default().to_string_lossy();
    let path = dir.join(format!(".{name}.{:016x}.{kind}", fastrand::u64(..)));
    let opened = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)?;
    Ok((path, opened))
}

/// Command output made safe for a terminal: C0 controls but newline and tab become spaces;
/// DEL, C1 controls and the characters that reorder or break lines are written as `\u..`
/// escapes, which keeps JSON output exact (serde_json leaves them raw, and a JSON string
/// may hold the escape): `export > f.json` reads back as it was.
pub fn terminal_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\t' => out.push(c),
            c if is_unsafe(c) && !matches!(c, '\0'..='\u{1f}') => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if is_unsafe(c) => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A SHA-256 digest, as lowercase hex: what identifies a text without holding it.
pub fn digest(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noncharacters_are_told_apart_from_text() {
        for c in [
            '\u{fffe}',
            '\u{ffff}',
            '\u{fdd0}',
            '\u{fdef}',
            '\u{1fffe}',
            '\u{10ffff}',
        ] {
            assert!(is_noncharacter(c), "{c:?}");
        }
        for c in ['a', '\u{fffd}', '\u{fdcf}', '\u{fdf0}', '\u{1fffd}', '🦀'] {
            assert!(!is_noncharacter(c), "{c:?}");
        }
    }

    #[test]
    fn controls_become_spaces_and_the_rest_stays() {
        assert_eq!(clean("a\u{1b}]52;c;x\u{7}b"), "a ]52;c;x b");
        assert_eq!(clean("\u{9b}2J ünïcødé 🦀"), " 2J ünïcødé 🦀");
        assert_eq!(clean("tab\tnew\nline"), "tab new line");
    }

    #[test]
    fn output_keeps_lines_and_json_stays_exact() {
        assert_eq!(terminal_safe("a\u{1b}[2Jb\nc\td"), "a [2Jb\nc\td");
        let name = "x\u{9b}2J\u{1b}]0;t \u{202e}rtl\u{2028}line\u{2069}";
        let json = serde_json::to_string(&serde_json::json!({ "name": name })).unwrap();
        let safe = terminal_safe(&json);
        assert!(
            !safe.chars().any(|c| c.is_control() || is_unsafe(c)),
            "{safe}"
        );
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back["name"], name);
    }
}
