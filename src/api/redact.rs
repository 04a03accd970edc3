//! The credentials a server echoes back are blanked out of what it says, before anything
//! reads it: a name, a label, a description or an error that quotes the API key would
//! otherwise reach the screen, stdout, the report, the cache, the history and the log.
//!
//! A server may spell the key so that it does not match as bytes and still shows as the
//! key: JSON escapes (`\u0061`), or characters a terminal does not draw put inside it
//! (an escape sequence, a control, a zero-width or direction mark). Each text is matched as
//! a terminal would show it, and the whole span it covers is blanked.

use std::borrow::Cow;

/// What a blanked secret reads as.
pub const REDACTED: &str = "<redacted>";

/// `text` with every span that shows as one of `secrets` replaced by [`REDACTED`]; `None`
/// when there is none.
pub fn redact_text(text: &str, secrets: &[&str]) -> Option<String> {
    let secrets: Vec<&str> = secrets.iter().copied().filter(|s| !s.is_empty()).collect();
    if secrets.is_empty() {
        return None;
    }
    // What a terminal draws, each character with the byte span of the text it stands for.
    let shown = visible(text);
    let drawn: String = shown.iter().map(|&(c, _, _)| c).collect();
    let starts: Vec<usize> = drawn.char_indices().map(|(at, _)| at).collect();
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for secret in &secrets {
        for (at, _) in drawn.match_indices(secret) {
            let first = starts.partition_point(|&s| s < at);
            let last = first + secret.chars().count() - 1;
            spans.push((shown[first].1, shown[last].2));
        }
    }
    if spans.is_empty() {
        return None;
    }
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    for (start, end) in spans {
        if start < from {
            // Overlaps the span blanked before it: blank on to its end.
            from = from.max(end);
            continue;
        }
        out.push_str(&text[from..start]);
        out.push_str(REDACTED);
        from = end;
    }
    out.push_str(&text[from..]);
    Some(out)
}

/// The characters of `text` a terminal draws, with the byte span each stands for (from
/// the first thing hidden before it): escape sequences, controls and format characters are
/// not drawn.
fn visible(text: &str) -> Vec<(char, usize, usize)> {
    let mut shown = Vec::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '\u{1b}' => skip_escape(&mut chars),
            '\u{9b}' => skip_until(&mut chars, |c| ('\u{40}'..='\u{7e}').contains(&c)),
            '\u{9d}' | '\u{90}' | '\u{9e}' | '\u{9f}' => {
                skip_until(&mut chars, |c| c == '\u{7}' || c == '\u{9c}');
            }
            c if hidden(c) => {}
            c => shown.push((c, at, at + c.len_utf8())),
        }
    }
    shown
}

type Chars<'a> = std::iter::Peekable<std::str::CharIndices<'a>>;

/// After ESC: a CSI (`[` … final byte), an OSC, DCS or similar string (up to BEL or ST),
/// or one character.
fn skip_escape(chars: &mut Chars<'_>) {
    match chars.next().map(|(_, c)| c) {
        Some('[') => skip_until(chars, |c| ('\u{40}'..='\u{7e}').contains(&c)),
        Some(']' | 'P' | 'X' | '^' | '_') => {
            while let Some((_, c)) = chars.next() {
                if c == '\u{7}' || c == '\u{9c}' {
                    break;
                }
                if c == '\u{1b}' && chars.peek().is_some_and(|&(_, n)| n == '\\') {
                    chars.next();
                    break;
                }
            }
        }
        _ => {}
    }
}

fn skip_until(chars: &mut Chars<'_>, last: impl Fn(char) -> bool) {
    for (_, c) in chars.by_ref() {
        if last(c) {
            break;
        }
    }
}

/// Characters a terminal does not draw: controls, and the format characters (zero-width
/// spaces and joiners, direction marks and overrides, the soft hyphen, the byte order mark,
/// tags, variation selectors).
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{ad}' | '\u{34f}' | '\u{61c}' | '\u{115f}' | '\u{1160}' | '\u{17b4}' | '\u{17b5}'
            | '\u{180b}'..='\u{180f}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}' | '\u{3164}' | '\u{fe00}'..='\u{fe0f}' | '\u{feff}'
            | '\u{ffa0}' | '\u{fff0}'..='\u{fff8}' | '\u{1d173}'..='\u{1d17a}'
            | '\u{e0000}'..='\u{e0fff}')
}

/// A JSON body with every string that shows as one of `secrets` blanked (see
/// [`redact_text`]), the rest byte for byte; borrowed when nothing is blanked. Strings
/// of plain ASCII are matched as bytes, the others once decoded.
pub fn redact_json<'a>(body: &'a [u8], secrets: &[&str]) -> Cow<'a, [u8]> {
    let secrets: Vec<&str> = secrets.iter().copied().filter(|s| !s.is_empty()).collect();
    if secrets.is_empty() {
        return Cow::Borrowed(body);
    }
    let spelled_plainly = secrets.iter().any(|s| contains(body, s.as_bytes()));
    if !spelled_plainly && body.is_ascii() && !body.contains(&b'\\') {
        return Cow::Borrowed(body);
    }
    let mut out: Option<Vec<u8>> = None;
    let mut copied = 0;
    let mut i = 0;
    while i < body.len() {
        if body[i] != b'"' {
            i += 1;
            continue;
        }
        let end = string_end(body, i);
        let literal = &body[i..end];
        let plain = literal.is_ascii() && !literal.contains(&b'\\');
        let blanked = if !plain || spelled_plainly {
            blank_literal(literal, &secrets)
        } else {
            None
        };
        if let Some(encoded) = blanked {
            let out = out.get_or_insert_with(|| Vec::with_capacity(body.len()));
            out.extend_from_slice(&body[copied..i]);
            out.extend_from_slice(&encoded);
            copied = end;
        }
        i = end;
    }
    match out {
        Some(mut out) => {
            out.extend_from_slice(&body[copied..]);
            Cow::Owned(out)
        }
        None => Cow::Borrowed(body),
    }
}

/// A string literal (quotes included) with the secrets shown in it blanked, encoded again;
/// one cut short, blanked as it reads.
fn blank_literal(literal: &[u8], secrets: &[&str]) -> Option<Vec<u8>> {
    match serde_json::from_slice::<String>(literal) {
        Ok(text) => serde_json::to_vec(&redact_text(&text, secrets)?).ok(),
        Err(_) => Some(redact_text(std::str::from_utf8(literal).ok()?, secrets)?.into_bytes()),
    }
}

/// Where the string literal opening at `start` ends (past its closing quote, or the body's
/// end when it never closes).
fn string_end(body: &[u8], start: usize) -> usize {
    let mut j = start + 1;
    while j < body.len() {
        match body[j] {
            b'\\' => j += 2,
            b'"' => return j + 1,
            _ => j += 1,
        }
    }
    body.len()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "ei_0123456789abcdef";

    #[test]
    fn the_key_is_blanked_however_a_terminal_would_show_it() {
        for spelled in [
            "ei_0123456789abcdef".to_string(),
            "ei_0123\u{1b}[0m456789abcdef".into(),
            "ei_0123\u{1b}]0;x\u{7}456789abcdef".into(),
            "ei_0\u{200b}123456789ab\u{feff}cdef".into(),
            "ei_0123456789\u{9b}31mabcdef".into(),
            "e\u{7}i_0123456789abc\u{202e}def".into(),
        ] {
            let text = format!("label {spelled} end");
            assert_eq!(
                redact_text(&text, &[KEY]).as_deref(),
                Some("label <redacted> end"),
                "{spelled:?}"
            );
        }
        assert_eq!(redact_text("ei_0123456789abcde", &[KEY]), None);
        assert_eq!(redact_text("nothing here", &[KEY, ""]), None);
        assert_eq!(
            redact_text(&format!("{KEY}{KEY} and {KEY}"), &[KEY]).as_deref(),
            Some("<redacted><redacted> and <redacted>")
        );
    }

    #[test]
    fn json_strings_are_blanked_in_place_and_the_rest_kept_byte_for_byte() {
        let escaped = "ei_0123\\u001b[0m456789\\u0061bcdef";
        let body = format!(
            r#"{{"a":"{KEY}","b":"x {escaped} y","c":"caf\u00e9","n":1.50,"k":{{"{KEY}":2}}}}"#
        );
        let out = redact_json(body.as_bytes(), &[KEY]);
        let out = std::str::from_utf8(&out).unwrap();
        assert_eq!(
            out,
            r#"{"a":"<redacted>","b":"x <redacted> y","c":"caf\u00e9","n":1.50,"k":{"<redacted>":2}}"#
        );
        let clean = br#"{"a":"caf\u00e9 \"q\"","b":"\u00fc"}"#;
        assert!(matches!(redact_json(clean, &[KEY]), Cow::Borrowed(_)));
        assert!(matches!(
            redact_json(b"{\"a\":1}", &[KEY]),
            Cow::Borrowed(_)
        ));
        // A body cut inside a string is left as it is, for the decoder to refuse.
        let cut = format!(r#"{{"a":"{KEY}"#);
        assert!(!String::from_utf8_lossy(&redact_json(cut.as_bytes(), &[KEY])).contains(KEY));
    }
}
