//! Server text made safe to print.
//!
//! Names, descriptions and error messages come from the server; a terminal acts on the
//! control characters in them (`ESC]52` writes the clipboard, `ESC[2J` clears the screen,
//! C1 controls do the same on some terminals). Every such character is shown as a space.

/// `text` with every control character (C0, DEL, C1) replaced by a space.
pub fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_become_spaces_and_the_rest_stays() {
        assert_eq!(clean("a\u{1b}]52;c;x\u{7}b"), "a ]52;c;x b");
        assert_eq!(clean("\u{9b}2J ünïcødé 🦀"), " 2J ünïcødé 🦀");
        assert_eq!(clean("tab\tnew\nline"), "tab new line");
    }
}
