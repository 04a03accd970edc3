//! The key map: the one table of keys, the screen they work on, the action they ask for
//! and what the help says of them.
//!
//! The event loop turns key events into [`Action`]s with it, so the tuner core never sees
//! a key; the help screen, the footer and the README's key table are drawn from it.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::tuner::{Action, Mode};

mod bindings;
#[cfg(test)]
mod tests;

pub use bindings::BINDINGS;

/// Where keys are read: each screen has its own bindings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Main,
    /// Typing a value.
    Editor,
    /// Choosing an impulse.
    Picker,
    /// The history of set-thresholds calls.
    History,
    /// The joint map of two thresholds.
    Map,
    Help,
}

impl Screen {
    pub fn of(mode: &Mode) -> Self {
        match mode {
            Mode::Normal => Self::Main,
            Mode::Input { .. } => Self::Editor,
            Mode::Picker { .. } => Self::Picker,
            Mode::History { .. } => Self::History,
            Mode::Map => Self::Map,
            Mode::Help => Self::Help,
        }
    }
}

/// A key, or a class of keys, as a binding names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Code(KeyCode),
    Ctrl(char),
    /// 0 to 9: the action takes the digit.
    Digits,
    /// Any printable character: the action takes it.
    Printable,
    /// Any key at all.
    Any,
}

impl Key {
    /// The key as the help screen and the README name it.
    pub fn label(self) -> String {
        match self {
            Self::Code(code) => match code {
                KeyCode::Up => "↑".into(),
                KeyCode::Down => "↓".into(),
                KeyCode::Left => "←".into(),
                KeyCode::Right => "→".into(),
                KeyCode::PageUp => "PgUp".into(),
                KeyCode::PageDown => "PgDn".into(),
                KeyCode::Home => "Home".into(),
                KeyCode::End => "End".into(),
                KeyCode::Enter => "Enter".into(),
                KeyCode::Esc => "Esc".into(),
                KeyCode::Backspace => "Backspace".into(),
                KeyCode::Char(' ') => "Space".into(),
                KeyCode::Char(c) => c.to_string(),
                other => format!("{other:?}"),
            },
            Self::Ctrl(c) => format!("Ctrl-{}", c.to_ascii_uppercase()),
            Self::Digits => "0-9".into(),
            Self::Printable => "characters".into(),
            Self::Any => "any key".into(),
        }
    }

    fn matches(self, key: &KeyEvent) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match self {
            Self::Code(code) => !ctrl && key.code == code,
            Self::Ctrl(c) => ctrl && key.code == KeyCode::Char(c),
            Self::Digits => !ctrl && matches!(key.code, KeyCode::Char('0'..='9')),
            Self::Printable => !ctrl && matches!(key.code, KeyCode::Char(c) if !c.is_control()),
            Self::Any => true,
        }
    }
}

/// One row of the key map.
pub struct Binding {
    pub screens: &'static [Screen],
    pub keys: &'static [Key],
    pub action: Action,
    pub help: &'static str,
    /// The word the footer shows for it, if it is shown there; rows next to each other
    /// with the same word are shown together ("↑↓ select").
    pub footer: Option<&'static str>,
}

impl Binding {
    /// The keys as the help names them, e.g. "↑ k".
    pub fn keys_label(&self) -> String {
        let labels: Vec<String> = self.keys.iter().map(|k| k.label()).collect();
        labels.join(" ")
    }
}

/// The action a key asks for on `screen`, if any.
pub fn action_for(screen: Screen, key: KeyEvent) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    BINDINGS
        .iter()
        .filter(|b| b.screens.contains(&screen))
        .find_map(|b| {
            let key_class = b.keys.iter().find(|k| k.matches(&key))?;
            Some(match (key_class, b.action, key.code) {
                (Key::Digits, Action::Jump(_), KeyCode::Char(c)) => Action::Jump(c as u8 - b'0'),
                (Key::Printable, Action::Type(_), KeyCode::Char(c)) => Action::Type(c),
                (_, action, _) => action,
            })
        })
}

/// The bindings of a screen, in the help's order.
pub fn bindings(screen: Screen) -> impl Iterator<Item = &'static Binding> {
    BINDINGS.iter().filter(move |b| b.screens.contains(&screen))
}

/// The footer's key hints for a screen: "↑↓ select  ←→ step  …".
pub fn footer(screen: Screen) -> String {
    let mut groups: Vec<(String, &str)> = Vec::new();
    for binding in bindings(screen) {
        let (Some(word), Some(first)) = (binding.footer, binding.keys.first()) else {
            continue;
        };
        match groups.last_mut() {
            Some((keys, last)) if *last == word => keys.push_str(&first.label()),
            _ => groups.push((first.label(), word)),
        }
    }
    let hints: Vec<String> = groups
        .into_iter()
        .map(|(keys, word)| format!("{keys} {word}"))
        .collect();
    hints.join("  ")
}

/// The README's key table for the main screen, as Markdown rows.
pub fn markdown_table() -> String {
    let mut out = String::from("| keys | what they do |\n|---|---|\n");
    for binding in bindings(Screen::Main) {
        let keys: Vec<String> = binding
            .keys
            .iter()
            .map(|k| format!("`{}`", k.label()))
            .collect();
        out.push_str(&format!("| {} | {} |\n", keys.join(" "), binding.help));
    }
    out
}
