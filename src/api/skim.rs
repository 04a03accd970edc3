//! Keeps a JSON document small while it arrives: the contents of some top-level members'
//! arrays or objects are dropped chunk by chunk, so that `"result": [24,000 windows]`
//! becomes `"result": []` without the document ever being held whole.
//!
//! getClassifyJobResult carries every window's result beside a summary of a few kilobytes;
//! the summary is all ei-tune reads from it. Parsing the whole stream with serde_json's
//! reader-based deserializer costs five times the CPU of a slice, and buffering it costs
//! its size (45 MB for 24,000 windows); this scan costs about a nanosecond a byte and keeps
//! only what is decoded afterwards.
//!
//! It only tracks nesting, strings and escapes. Whatever is not dropped is copied as it
//! came, so a body that is not JSON stays not JSON, and the decoder that reads the kept
//! bytes reports it as usual. Bytes inside a dropped member are not checked.

/// The bytes that change the scanner's state outside strings.
const STRUCTURAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 6 {
        table[b"\"[]{},"[i] as usize] = true;
        i += 1;
    }
    table
};

/// The longest key that is compared against the names to drop; longer keys never match.
const MAX_KEY: usize = 32;

#[derive(Debug)]
pub struct Skimmer {
    drop: &'static [&'static str],
    kept: Vec<u8>,
    depth: u32,
    in_string: bool,
    escaped: bool,
    top_is_object: bool,
    /// At depth 1 of an object, the next string is a member name.
    expect_key: bool,
    reading_key: bool,
    key: Vec<u8>,
    /// The member being read is one whose contents are dropped.
    dropping_member: bool,
    /// Inside the dropped contents, closed when depth falls back to this.
    dropping_until: Option<u32>,
}

impl Skimmer {
    /// A skimmer that drops the contents of the top-level members named `drop`.
    pub fn new(drop: &'static [&'static str]) -> Self {
        Self {
            drop,
            kept: Vec::new(),
            depth: 0,
            in_string: false,
            escaped: false,
            top_is_object: false,
            expect_key: false,
            reading_key: false,
            key: Vec::with_capacity(MAX_KEY),
            dropping_member: false,
            dropping_until: None,
        }
    }

    /// Bytes kept so far.
    pub fn kept_len(&self) -> usize {
        self.kept.len()
    }

    pub fn feed(&mut self, chunk: &[u8]) {
        let mut at = 0;
        while at < chunk.len() {
            // Runs of bytes that change no state are passed over in bulk: the insides of
            // strings up to a quote or backslash, and outside strings up to punctuation.
            let run_start = at;
            let rest = &chunk[at..];
            at += if self.in_string {
                if self.escaped || self.reading_key {
                    0
                } else {
                    memchr::memchr2(b'"', b'\\', rest).unwrap_or(rest.len())
                }
            } else {
                rest.iter()
                    .position(|&b| STRUCTURAL[usize::from(b)])
                    .unwrap_or(rest.len())
            };
            if self.dropping_until.is_none() {
                self.kept.extend_from_slice(&chunk[run_start..at]);
            }
            if let Some(&byte) = chunk.get(at) {
                if self.step(byte) {
                    self.kept.push(byte);
                }
                at += 1;
            }
        }
    }

    /// The kept document.
    pub fn finish(self) -> Vec<u8> {
        self.kept
    }

    /// Advances over one byte; whether it is kept.
    fn step(&mut self, byte: u8) -> bool {
        let keep = self.dropping_until.is_none();
        if self.in_string {
            if self.escaped {
                self.escaped = false;
            } else if byte == b'\\' {
                self.escaped = true;
            } else if byte == b'"' {
                self.in_string = false;
                if self.reading_key {
                    self.reading_key = false;
                    self.dropping_member = self.drop.iter().any(|d| d.as_bytes() == self.key);
                }
                return keep;
            }
            if self.reading_key && self.key.len() < MAX_KEY {
                self.key.push(byte);
            }
            return keep;
        }
        match byte {
            b'"' => {
                self.in_string = true;
                if self.depth == 1 && self.expect_key {
                    self.expect_key = false;
                    self.reading_key = true;
                    self.key.clear();
                }
                keep
            }
            b'{' | b'[' => {
                self.depth += 1;
                if self.depth == 1 {
                    self.top_is_object = byte == b'{';
                    self.expect_key = self.top_is_object;
                } else if self.depth == 2 && self.dropping_member && keep {
                    // The opening bracket stays, its contents go.
                    self.dropping_until = Some(1);
                }
                keep
            }
            b'}' | b']' => {
                self.depth = self.depth.saturating_sub(1);
                if self.dropping_until == Some(self.depth) {
                    self.dropping_until = None;
                    self.dropping_member = false;
                    return true;
                }
                keep
            }
            b',' => {
                if self.depth == 1 && self.top_is_object {
                    self.expect_key = true;
                    self.dropping_member = false;
                }
                keep
            }
            _ => keep,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skim(text: &str) -> String {
        let mut s = Skimmer::new(&["result", "predictions"]);
        s.feed(text.as_bytes());
        String::from_utf8(s.finish()).unwrap()
    }

    #[test]
    fn drops_the_contents_of_named_members_only() {
        assert_eq!(
            skim(
                r#"{"success":true,"result":[{"a":[1,2]},{"b":"]}"}],"accuracy":{"result":[1]},"predictions":{"x":1}}"#
            ),
            r#"{"success":true,"result":[],"accuracy":{"result":[1]},"predictions":{}}"#
        );
    }

    #[test]
    fn strings_with_brackets_quotes_and_escapes_do_not_confuse_it() {
        assert_eq!(
            skim(r#"{"error":"a \"result\": [ {","result":["\\",  "\"]", "}"], "n": 1}"#),
            r#"{"error":"a \"result\": [ {","result":[], "n": 1}"#
        );
    }

    #[test]
    fn scalars_keys_in_values_and_other_top_levels_are_kept() {
        for text in [
            r#"{"result":5,"predictions":"x"}"#,
            r#"[{"result":[1,2]}]"#,
            r#"{"a":{"result":[1]}}"#,
            r#"{"resultx":[1],"res\u0075lt":[2]}"#,
            "<html>502</html>",
            "",
        ] {
            assert_eq!(skim(text), text);
        }
    }

    #[test]
    fn chunk_boundaries_do_not_matter() {
        let text = r#"{"success":true,"result":[{"s":"a\"]"},[3]],"error":"e"}"#;
        let whole = skim(text);
        for split in 0..text.len() {
            let mut s = Skimmer::new(&["result", "predictions"]);
            s.feed(&text.as_bytes()[..split]);
            s.feed(&text.as_bytes()[split..]);
            assert_eq!(
                String::from_utf8(s.finish()).unwrap(),
                whole,
                "split at {split}"
            );
        }
    }

    #[test]
    fn an_unclosed_member_keeps_nothing_after_its_bracket() {
        assert_eq!(skim(r#"{"result":[1,2"#), r#"{"result":["#);
    }
}
