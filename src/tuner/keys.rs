//! The key map: keys to user commands, in one table that the help screen is drawn from.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// What a user can ask for. Internal events (API results, timers) are [`super::Msg`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    SelectPrevious,
    SelectNext,
    StepDown,
    StepUp,
    CoarseDown,
    CoarseUp,
    RangeStart,
    RangeEnd,
    /// Jump to a tenth of the range: 0 → 0 %, 9 → 90 %.
    Jump(u8),
    Suggested,
    RevertToSaved,
    /// Enter: type a value, or cycle a dropdown.
    Activate,
    EditValue,
    CycleOption,
    Regenerate,
    Reload,
    /// Move to the value that optimises the objective.
    Optimize,
    CycleObjective,
    /// Send the user's value over one changed elsewhere.
    KeepMine,
    /// Take the value changed elsewhere.
    TakeTheirs,
    ImpulsePicker,
    Help,
    Quit,
}

/// One row of the key map: the keys as the help screen shows them, and what they do.
pub struct Binding {
    pub keys: &'static str,
    pub action: Action,
    pub description: &'static str,
}

/// Every binding, in the order the help screen lists them.
pub const BINDINGS: &[Binding] = &[
    Binding {
        keys: "↑ k",
        action: Action::SelectPrevious,
        description: "select the threshold above",
    },
    Binding {
        keys: "↓ j",
        action: Action::SelectNext,
        description: "select the threshold below",
    },
    Binding {
        keys: "← h",
        action: Action::StepDown,
        description: "fine step down (dropdown: previous option)",
    },
    Binding {
        keys: "→ l",
        action: Action::StepUp,
        description: "fine step up (dropdown: next option)",
    },
    Binding {
        keys: "H PgDn",
        action: Action::CoarseDown,
        description: "coarse step down",
    },
    Binding {
        keys: "L PgUp",
        action: Action::CoarseUp,
        description: "coarse step up",
    },
    Binding {
        keys: "Home",
        action: Action::RangeStart,
        description: "start of the range",
    },
    Binding {
        keys: "End",
        action: Action::RangeEnd,
        description: "end of the range",
    },
    Binding {
        keys: "0-9",
        action: Action::Jump(0),
        description: "jump to 0 %-90 % of the range",
    },
    Binding {
        keys: "s",
        action: Action::Suggested,
        description: "the suggested value",
    },
    Binding {
        keys: "u",
        action: Action::RevertToSaved,
        description: "back to the last saved value",
    },
    Binding {
        keys: "Enter e",
        action: Action::EditValue,
        description: "type an exact value (Esc cancels)",
    },
    Binding {
        keys: "Space Enter",
        action: Action::CycleOption,
        description: "next option of a dropdown",
    },
    Binding {
        keys: "o",
        action: Action::Optimize,
        description: "move to the value that optimises the objective",
    },
    Binding {
        keys: "O",
        action: Action::CycleObjective,
        description: "next objective",
    },
    Binding {
        keys: "m",
        action: Action::KeepMine,
        description: "changed elsewhere: keep your value (send it)",
    },
    Binding {
        keys: "t",
        action: Action::TakeTheirs,
        description: "changed elsewhere: take Studio's value",
    },
    Binding {
        keys: "g",
        action: Action::Regenerate,
        description: "regenerate model testing results (a job)",
    },
    Binding {
        keys: "r",
        action: Action::Reload,
        description: "resend failed values, reload from Studio",
    },
    Binding {
        keys: "i",
        action: Action::ImpulsePicker,
        description: "choose another impulse",
    },
    Binding {
        keys: "?",
        action: Action::Help,
        description: "this help",
    },
    Binding {
        keys: "q Esc Ctrl-C",
        action: Action::Quit,
        description: "quit (saves pending edits; twice: quit now)",
    },
];

/// The command a key asks for on the main screen.
pub fn action_for(key: KeyEvent) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    Some(match key.code {
        KeyCode::Char('c') if ctrl => Action::Quit,
        _ if ctrl => return None,
        KeyCode::Up | KeyCode::Char('k') => Action::SelectPrevious,
        KeyCode::Down | KeyCode::Char('j') => Action::SelectNext,
        KeyCode::Left | KeyCode::Char('h') => Action::StepDown,
        KeyCode::Right | KeyCode::Char('l') => Action::StepUp,
        KeyCode::Char('H') | KeyCode::PageDown => Action::CoarseDown,
        KeyCode::Char('L') | KeyCode::PageUp => Action::CoarseUp,
        KeyCode::Home => Action::RangeStart,
        KeyCode::End => Action::RangeEnd,
        KeyCode::Char(c @ '0'..='9') => Action::Jump(c as u8 - b'0'),
        KeyCode::Char('s') => Action::Suggested,
        KeyCode::Char('u') => Action::RevertToSaved,
        KeyCode::Enter => Action::Activate,
        KeyCode::Char('e') => Action::EditValue,
        KeyCode::Char(' ') => Action::CycleOption,
        KeyCode::Char('o') => Action::Optimize,
        KeyCode::Char('O') => Action::CycleObjective,
        KeyCode::Char('g') => Action::Regenerate,
        KeyCode::Char('m') => Action::KeepMine,
        KeyCode::Char('t') => Action::TakeTheirs,
        KeyCode::Char('r') => Action::Reload,
        KeyCode::Char('i') => Action::ImpulsePicker,
        KeyCode::Char('?') => Action::Help,
        KeyCode::Char('q') | KeyCode::Esc => Action::Quit,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn every_listed_key_maps_to_its_action() {
        // The help screen is generated from BINDINGS: check that what it promises holds.
        for binding in BINDINGS {
            for name in binding.keys.split(' ') {
                let code = match name {
                    "↑" => KeyCode::Up,
                    "↓" => KeyCode::Down,
                    "←" => KeyCode::Left,
                    "→" => KeyCode::Right,
                    "PgDn" => KeyCode::PageDown,
                    "PgUp" => KeyCode::PageUp,
                    "Home" => KeyCode::Home,
                    "End" => KeyCode::End,
                    "Enter" => KeyCode::Enter,
                    "Esc" => KeyCode::Esc,
                    "Space" => KeyCode::Char(' '),
                    "0-9" => KeyCode::Char('0'),
                    "Ctrl-C" => {
                        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
                        assert_eq!(action_for(ctrl_c), Some(Action::Quit));
                        continue;
                    }
                    c => KeyCode::Char(c.chars().next().unwrap()),
                };
                let got = action_for(key(code));
                let ok = got == Some(binding.action)
                    || (code == KeyCode::Enter && got == Some(Action::Activate));
                assert!(ok, "{name}: {got:?} for {:?}", binding.action);
            }
        }
        assert_eq!(action_for(key(KeyCode::Char('7'))), Some(Action::Jump(7)));
        assert_eq!(action_for(key(KeyCode::Char('x'))), None);
    }

    #[test]
    fn every_bound_key_is_listed_in_the_help() {
        // The other direction: no key does something the help does not show.
        let named = [
            (KeyCode::Up, "↑"),
            (KeyCode::Down, "↓"),
            (KeyCode::Left, "←"),
            (KeyCode::Right, "→"),
            (KeyCode::PageDown, "PgDn"),
            (KeyCode::PageUp, "PgUp"),
            (KeyCode::Home, "Home"),
            (KeyCode::End, "End"),
            (KeyCode::Enter, "Enter"),
            (KeyCode::Esc, "Esc"),
            (KeyCode::Char(' '), "Space"),
        ];
        let printable = (0x21u8..0x7f).map(|b| {
            let c = char::from(b);
            let name = if c.is_ascii_digit() {
                "0-9".to_string()
            } else {
                c.to_string()
            };
            (KeyCode::Char(c), name)
        });
        let all = named
            .iter()
            .map(|(code, name)| (*code, name.to_string()))
            .chain(printable);
        for (code, name) in all {
            if action_for(key(code)).is_some() {
                let listed = BINDINGS
                    .iter()
                    .any(|b| b.keys.split(' ').any(|k| k == name));
                assert!(listed, "{name} does something the help does not list");
            }
        }
    }
}
