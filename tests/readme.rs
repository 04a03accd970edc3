//! README shows what the tool shows today. Each screen under a `<!-- screen: NAME -->`
//! marker is the view snapshot `tests/snapshots/views__NAME.snap` (rendered by the real
//! views, kept by tests/views.rs), and each `$ ei-tune …` line under a
//! `<!-- session -->` marker is followed by what that command prints on a fresh simulator,
//! the commands run in order (a block line `...` ends a shortened output). When either
//! drifts this test fails; `EI_TUNE_UPDATE_README=1 cargo test --test readme` writes them
//! into README.md.

mod common;

use std::path::Path;

use common::{ei_tune, run, studio};

const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");

/// A fenced block after a marker: the marker's text and the block's line range in `lines`.
struct Block {
    marker: String,
    body: std::ops::Range<usize>,
}

/// Every ```text block that follows a `<!-- KIND: … -->` or `<!-- KIND -->` marker line
/// (a blank line may stand between them).
fn blocks(lines: &[&str], kind: &str) -> Vec<Block> {
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(marker) = line
            .trim()
            .strip_prefix("<!--")
            .and_then(|m| m.strip_suffix("-->"))
            .map(str::trim)
            .filter(|m| m.split(':').next().map(str::trim) == Some(kind))
        else {
            continue;
        };
        let open = (i + 1..lines.len())
            .find(|&j| !lines[j].trim().is_empty())
            .filter(|&j| lines[j] == "```text")
            .unwrap_or_else(|| panic!("README line {}: no ```text block after it", i + 1));
        let close = (open + 1..lines.len())
            .find(|&j| lines[j] == "```")
            .unwrap_or_else(|| panic!("README line {}: the block is not closed", open + 1));
        out.push(Block {
            marker: marker.to_string(),
            body: open + 1..close,
        });
    }
    out
}

/// A snapshot's lines as the terminal shows them: unquoted, trailing blanks dropped.
fn snapshot_screen(name: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("views__{name}.snap"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("README names the screen `{name}`: {e}"));
    // The header (between the first two `---` lines) says where the snapshot came from.
    let body = text.splitn(3, "---\n").nth(2).expect("an insta snapshot");
    body.lines()
        .map(|line| {
            let inner = line
                .strip_prefix('"')
                .and_then(|l| l.strip_suffix('"'))
                .unwrap_or_else(|| panic!("{name}: a screen line is quoted: {line}"));
            inner
                .replace("\\\"", "\"")
                .replace("\\\\", "\\")
                .trim_end()
                .to_string()
        })
        .collect()
}

/// Lines without the blank ones at their end.
fn trimmed<'a>(lines: &'a [&'a str]) -> &'a [&'a str] {
    let end = lines
        .iter()
        .rposition(|l| !l.trim().is_empty())
        .map_or(0, |i| i + 1);
    &lines[..end]
}

/// A session block as it should read: each `$ ei-tune …` line followed by what the
/// command prints, run in order on `studio`; where the block shortens an output with a
/// last line `...`, as many lines as it shows, then `...`; a blank line between commands.
async fn session_lines(studio: &ei_tune::studio::Studio, block: &[&str]) -> Vec<String> {
    let starts: Vec<usize> = (0..block.len())
        .filter(|&i| block[i].starts_with("$ ei-tune"))
        .collect();
    assert_eq!(
        starts.first(),
        Some(&0),
        "a session block starts with a command"
    );
    let mut out = Vec::new();
    for (n, &start) in starts.iter().enumerate() {
        let end = starts.get(n + 1).copied().unwrap_or(block.len());
        let shown = trimmed(&block[start + 1..end]);
        let args: Vec<&str> = block[start]["$ ei-tune".len()..]
            .split_whitespace()
            .collect();
        let (code, stdout, stderr) = run(ei_tune(studio).args(&args)).await;
        assert_eq!(code, 0, "README's `{}`: {stderr}", block[start]);
        let printed: Vec<&str> = stdout.lines().map(str::trim_end).collect();
        let printed = trimmed(&printed);
        out.push(block[start].to_string());
        match shown.split_last() {
            Some((&"...", kept)) => {
                out.extend(printed.iter().take(kept.len()).map(|l| l.to_string()));
                out.push("...".into());
            }
            _ => out.extend(printed.iter().map(|l| l.to_string())),
        }
        if n + 1 < starts.len() {
            out.push(String::new());
        }
    }
    out
}

#[tokio::test]
async fn readme_shows_the_screens_and_outputs_of_today() {
    let text = std::fs::read_to_string(README).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let screens = blocks(&lines, "screen");
    let sessions = blocks(&lines, "session");
    assert!(screens.len() >= 3, "README marks its screens");
    assert!(!sessions.is_empty(), "README marks its command session");
    let mut wanted: Vec<(std::ops::Range<usize>, Vec<String>)> = Vec::new();
    for block in &screens {
        let name = block.marker.split(':').nth(1).unwrap_or_default().trim();
        wanted.push((block.body.clone(), snapshot_screen(name)));
    }
    for block in &sessions {
        let studio = studio().await;
        let body = &lines[block.body.clone()];
        wanted.push((block.body.clone(), session_lines(&studio, body).await));
    }
    let drifted: Vec<usize> = wanted
        .iter()
        .filter(|(range, want)| lines[range.clone()] != want[..])
        .map(|(range, _)| range.start)
        .collect();
    if drifted.is_empty() {
        return;
    }
    if std::env::var_os("EI_TUNE_UPDATE_README").is_some() {
        let mut updated: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        wanted.sort_by_key(|(range, _)| std::cmp::Reverse(range.start));
        for (range, want) in wanted {
            updated.splice(range, want);
        }
        std::fs::write(README, updated.join("\n") + "\n").unwrap();
        return;
    }
    for (range, want) in &wanted {
        assert_eq!(
            lines[range.clone()].join("\n"),
            want.join("\n"),
            "README line {}: not what the tool shows today \
             (EI_TUNE_UPDATE_README=1 cargo test --test readme writes it)",
            range.start
        );
    }
}
