//! The key map: the one table of keys, the screen they work on, the action they ask for
//! and what the help says of them.
//!
//! The event loop turns key events into [`Action`]s with it, so the tuner core never sees
//! a key; the help screen, the footer and the README's key table are drawn from it.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::tuner::{Action, Mode};

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

const MAIN: &[Screen] = &[Screen::Main];

const fn ch(c: char) -> Key {
    Key::Code(KeyCode::Char(c))
}

/// Every binding. Within a screen the first row that matches a key wins, in this order,
/// which is also the order the help lists them in.
pub const BINDINGS: &[Binding] = &[
    Binding {
        screens: &[
            Screen::Editor,
            Screen::Picker,
            Screen::History,
            Screen::Map,
            Screen::Help,
        ],
        keys: &[Key::Ctrl('c')],
        action: Action::Quit,
        help: "quit (saves pending edits; twice: quit now)",
        footer: None,
    },
    Binding {
        screens: MAIN,
        keys: &[ch('?')],
        action: Action::Help,
        help: "this help",
        footer: Some("help"),
    },
    Binding {
        screens: MAIN,
        keys: &[Key::Code(KeyCode::Up), ch('k')],
        action: Action::SelectPrevious,
        help: "select the threshold above",
        footer: Some("select"),
    },
    Binding {
        screens: MAIN,
        keys: &[Key::Code(KeyCode::Down), ch('j')],
        action: Action::SelectNext,
        help: "select the threshold below",
        footer: Some("select"),
    },
    Binding {
        screens: MAIN,
        keys: &[Key::Code(KeyCode::Left), ch('h')],
        action: Action::StepDown,
        help: "fine step down: 1 % of the range (a dropdown: previous)",
        footer: Some("step"),
    },
    Binding {
        screens: MAIN,
        keys: &[Key::Code(KeyCode::Right), ch('l')],
        action: Action::StepUp,
        help: "fine step up: 1 % of the range (a dropdown: next)",
        footer: Some("step"),
    },
    Binding {
        screens: MAIN,
        keys: &[ch('H'), Key::Code(KeyCode::PageDown)],
        action: Action::CoarseDown,
        help: "coarse step down: 10 % of the range",
        footer: None,
    },
    Binding {
        screens: MAIN,
        keys: &[ch('L'), Key::Code(KeyCode::PageUp)],
        action: Action::CoarseUp,
        help: "coarse step up: 10 % of the range",
        footer: None,
    },
    Binding {
        screens: MAIN,
        keys: &[Key::Code(KeyCode::Home)],
        action: Action::RangeStart,
        help: "start of the range",
        footer: None,
    },
    Binding {
        screens: MAIN,
        keys: &[Key::Code(KeyCode::End)],
        action: Action::RangeEnd,
        help: "end of the range",
        footer: None,
    },
    Binding {
        screens: MAIN,
        keys: &[Key::Digits],
        action: Action::Jump(0),
        help: "jump to 0 %-90 % of the range",
        footer: None,
    },
    Binding {
        screens: MAIN,
        keys: &[ch('s')],
        action: Action::Suggested,
        help: "the suggested value",
        footer: None,
    },
    Binding {
        screens: MAIN,
        keys: &[ch('u')],
        action: Action::RevertToSaved,
        help: "back to the last saved value",
        footer: Some("undo"),
    },
    Binding {
        screens: MAIN,
        keys: &[Key::Code(KeyCode::Enter)],
        action: Action::Activate,
        help: "type an exact value (a dropdown: next option)",
        footer: None,
    },
    Binding {
        screens: MAIN,
        keys: &[ch('e')],
        action: Action::EditValue,
        help: "type an exact value (Esc cancels)",
        footer: None,
    },
    Binding {
        screens: MAIN,
        keys: &[Key::Code(KeyCode::Char(' '))],
        action: Action::CycleOption,
        help: "next option of a dropdown",
        footer: None,
    },
    Binding {
        screens: MAIN,
        keys: &[ch('o')],
        action: Action::Optimize,
        help: "move to the value that optimises the objective",
        footer: Some("optimise"),
    },
    Binding {
        screens: MAIN,
        keys: &[ch('O')],
        action: Action::CycleObjective,
        help: "next objective that applies to the threshold",
        footer: None,
    },
    Binding {
        screens: MAIN,
        keys: &[ch('m')],
        action: Action::KeepMine,
        help: "changed elsewhere: keep your value (send it)",
        footer: None,
    },
    Binding {
        screens: MAIN,
        keys: &[ch('t')],
        action: Action::TakeTheirs,
        help: "changed elsewhere: take Studio's value",
        footer: None,
    },
    Binding {
        screens: MAIN,
        keys: &[ch('g')],
        action: Action::Regenerate,
        help: "regenerate model testing results (a job, with progress)",
        footer: Some("regenerate"),
    },
    Binding {
        screens: MAIN,
        keys: &[ch('r')],
        action: Action::Reload,
        help: "resend failed values; reload thresholds and results",
        footer: None,
    },
    Binding {
        screens: MAIN,
        keys: &[ch('i')],
        action: Action::ImpulsePicker,
        help: "choose another impulse of the project",
        footer: Some("impulse"),
    },
    Binding {
        screens: MAIN,
        keys: &[ch('y')],
        action: Action::History,
        help: "history of saved values: bring an earlier set back",
        footer: Some("history"),
    },
    Binding {
        screens: MAIN,
        keys: &[ch('x')],
        action: Action::Map,
        help: "joint map of min_score × min_anomaly_score: move both at once",
        footer: Some("map"),
    },
    Binding {
        screens: MAIN,
        keys: &[ch('q'), Key::Code(KeyCode::Esc), Key::Ctrl('c')],
        action: Action::Quit,
        help: "quit (saves pending edits; twice: quit now)",
        footer: Some("quit"),
    },
    Binding {
        screens: &[
            Screen::Main,
            Screen::Editor,
            Screen::Picker,
            Screen::History,
            Screen::Map,
            Screen::Help,
        ],
        keys: &[Key::Ctrl('z')],
        action: Action::Suspend,
        help: "suspend to the shell (fg comes back)",
        footer: None,
    },
    Binding {
        screens: &[Screen::Editor],
        keys: &[Key::Code(KeyCode::Enter)],
        action: Action::Confirm,
        help: "set the typed value",
        footer: Some("sets"),
    },
    Binding {
        screens: &[Screen::Editor],
        keys: &[Key::Code(KeyCode::Esc)],
        action: Action::Cancel,
        help: "cancel",
        footer: Some("cancels"),
    },
    Binding {
        screens: &[Screen::Editor],
        keys: &[Key::Code(KeyCode::Backspace)],
        action: Action::Erase,
        help: "erase the last character",
        footer: None,
    },
    Binding {
        screens: &[Screen::Editor],
        keys: &[Key::Ctrl('u')],
        action: Action::EraseAll,
        help: "erase everything typed",
        footer: None,
    },
    Binding {
        screens: &[Screen::Editor],
        keys: &[Key::Printable],
        action: Action::Type('0'),
        help: "typed into the value",
        footer: None,
    },
    Binding {
        screens: &[Screen::Picker],
        keys: &[Key::Code(KeyCode::Up), ch('k')],
        action: Action::SelectPrevious,
        help: "the impulse above",
        footer: None,
    },
    Binding {
        screens: &[Screen::Picker],
        keys: &[Key::Code(KeyCode::Down), ch('j')],
        action: Action::SelectNext,
        help: "the impulse below",
        footer: None,
    },
    Binding {
        screens: &[Screen::Picker],
        keys: &[Key::Code(KeyCode::Enter)],
        action: Action::Confirm,
        help: "open the impulse",
        footer: Some("opens"),
    },
    Binding {
        screens: &[Screen::Picker],
        keys: &[Key::Code(KeyCode::Esc), ch('q'), ch('i')],
        action: Action::Cancel,
        help: "close the list",
        footer: Some("cancels"),
    },
    Binding {
        screens: &[Screen::History],
        keys: &[Key::Code(KeyCode::Up), ch('k')],
        action: Action::SelectPrevious,
        help: "a newer call",
        footer: Some("select"),
    },
    Binding {
        screens: &[Screen::History],
        keys: &[Key::Code(KeyCode::Down), ch('j')],
        action: Action::SelectNext,
        help: "an older call",
        footer: Some("select"),
    },
    Binding {
        screens: &[Screen::History],
        keys: &[Key::Code(KeyCode::Enter)],
        action: Action::Confirm,
        help: "bring back the values Studio held after it (one edit, saved after the quiet time)",
        footer: Some("brings back"),
    },
    Binding {
        screens: &[Screen::History],
        keys: &[Key::Code(KeyCode::Esc), ch('q'), ch('y')],
        action: Action::Cancel,
        help: "close the history",
        footer: Some("closes"),
    },
    Binding {
        screens: &[Screen::Map],
        keys: &[Key::Code(KeyCode::Left), ch('h')],
        action: Action::MapStep {
            dx: -1,
            dy: 0,
            coarse: false,
        },
        help: "min_score a step down",
        footer: Some("min_score"),
    },
    Binding {
        screens: &[Screen::Map],
        keys: &[Key::Code(KeyCode::Right), ch('l')],
        action: Action::MapStep {
            dx: 1,
            dy: 0,
            coarse: false,
        },
        help: "min_score a step up",
        footer: Some("min_score"),
    },
    Binding {
        screens: &[Screen::Map],
        keys: &[Key::Code(KeyCode::Down), ch('j')],
        action: Action::MapStep {
            dx: 0,
            dy: -1,
            coarse: false,
        },
        help: "min_anomaly_score a step down",
        footer: Some("min_anomaly_score"),
    },
    Binding {
        screens: &[Screen::Map],
        keys: &[Key::Code(KeyCode::Up), ch('k')],
        action: Action::MapStep {
            dx: 0,
            dy: 1,
            coarse: false,
        },
        help: "min_anomaly_score a step up",
        footer: Some("min_anomaly_score"),
    },
    Binding {
        screens: &[Screen::Map],
        keys: &[ch('H')],
        action: Action::MapStep {
            dx: -1,
            dy: 0,
            coarse: true,
        },
        help: "min_score ten steps down",
        footer: None,
    },
    Binding {
        screens: &[Screen::Map],
        keys: &[ch('L')],
        action: Action::MapStep {
            dx: 1,
            dy: 0,
            coarse: true,
        },
        help: "min_score ten steps up",
        footer: None,
    },
    Binding {
        screens: &[Screen::Map],
        keys: &[ch('J'), Key::Code(KeyCode::PageDown)],
        action: Action::MapStep {
            dx: 0,
            dy: -1,
            coarse: true,
        },
        help: "min_anomaly_score ten steps down",
        footer: None,
    },
    Binding {
        screens: &[Screen::Map],
        keys: &[ch('K'), Key::Code(KeyCode::PageUp)],
        action: Action::MapStep {
            dx: 0,
            dy: 1,
            coarse: true,
        },
        help: "min_anomaly_score ten steps up",
        footer: None,
    },
    Binding {
        screens: &[Screen::Map],
        keys: &[ch('o')],
        action: Action::Optimize,
        help: "both to the map's best point for the objective",
        footer: Some("best"),
    },
    Binding {
        screens: &[Screen::Map],
        keys: &[ch('O')],
        action: Action::CycleObjective,
        help: "next objective",
        footer: None,
    },
    Binding {
        screens: &[Screen::Map],
        keys: &[ch('a')],
        action: Action::MapFigure(0),
        help: "next figure across the Pareto front",
        footer: Some("front"),
    },
    Binding {
        screens: &[Screen::Map],
        keys: &[ch('b')],
        action: Action::MapFigure(1),
        help: "next figure up the Pareto front",
        footer: Some("front"),
    },
    Binding {
        screens: &[Screen::Map],
        keys: &[ch('u')],
        action: Action::RevertToSaved,
        help: "both back to their saved values",
        footer: None,
    },
    Binding {
        screens: &[Screen::Map],
        keys: &[Key::Code(KeyCode::Esc), ch('q'), ch('x')],
        action: Action::Cancel,
        help: "close the map",
        footer: Some("closes"),
    },
    Binding {
        screens: &[Screen::Help],
        keys: &[Key::Any],
        action: Action::Cancel,
        help: "close the help",
        footer: Some("closes"),
    },
];

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

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    /// Every key that could be pressed, by the name the table gives it.
    fn keyboard() -> Vec<(KeyEvent, String)> {
        let named = [
            KeyCode::Up,
            KeyCode::Down,
            KeyCode::Left,
            KeyCode::Right,
            KeyCode::PageDown,
            KeyCode::PageUp,
            KeyCode::Home,
            KeyCode::End,
            KeyCode::Enter,
            KeyCode::Esc,
            KeyCode::Backspace,
            KeyCode::Tab,
            KeyCode::Delete,
            KeyCode::F(1),
        ]
        .map(|code| (press(code), Key::Code(code).label()));
        let printable = (0x20u8..0x7f).map(|b| {
            let c = char::from(b);
            (press(KeyCode::Char(c)), Key::Code(KeyCode::Char(c)).label())
        });
        let ctrl = ('a'..='z').map(|c| {
            (
                KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL),
                Key::Ctrl(c).label(),
            )
        });
        named.into_iter().chain(printable).chain(ctrl).collect()
    }

    #[test]
    fn every_listed_key_does_what_the_help_says() {
        for binding in BINDINGS {
            for &screen in binding.screens {
                let hits: Vec<Action> = keyboard()
                    .into_iter()
                    .filter(|(event, _)| binding.keys.iter().any(|k| k.matches(event)))
                    .filter_map(|(event, _)| action_for(screen, event))
                    .collect();
                assert!(!hits.is_empty(), "{} reaches nothing", binding.keys_label());
                // Classes of keys (digits, characters) carry the key into the action.
                let same = |a: &Action| {
                    std::mem::discriminant(a) == std::mem::discriminant(&binding.action)
                };
                assert!(
                    hits.iter().any(same),
                    "{} on {screen:?} does {hits:?}, not {:?}",
                    binding.keys_label(),
                    binding.action
                );
            }
        }
        assert_eq!(
            action_for(Screen::Main, press(KeyCode::Char('7'))),
            Some(Action::Jump(7))
        );
        assert_eq!(
            action_for(Screen::Editor, press(KeyCode::Char('q'))),
            Some(Action::Type('q')),
            "q types in the editor"
        );
        assert_eq!(action_for(Screen::Main, press(KeyCode::Char('z'))), None);
    }

    #[test]
    fn every_key_that_does_something_is_listed_in_the_help() {
        for screen in [
            Screen::Main,
            Screen::Editor,
            Screen::Picker,
            Screen::History,
            Screen::Map,
            Screen::Help,
        ] {
            for (event, name) in keyboard() {
                let Some(action) = action_for(screen, event) else {
                    continue;
                };
                let listed = bindings(screen).any(|b| {
                    b.keys.iter().any(|k| {
                        k.label() == name
                            || (matches!(k, Key::Digits | Key::Printable | Key::Any)
                                && k.matches(&event))
                    })
                });
                assert!(listed, "{name} does {action:?} on {screen:?} unlisted");
            }
        }
    }

    #[test]
    fn every_action_is_reachable() {
        use Action::*;
        let all = [
            SelectPrevious,
            SelectNext,
            StepDown,
            StepUp,
            CoarseDown,
            CoarseUp,
            RangeStart,
            RangeEnd,
            Jump(0),
            Suggested,
            RevertToSaved,
            Activate,
            EditValue,
            CycleOption,
            Regenerate,
            Reload,
            Optimize,
            CycleObjective,
            KeepMine,
            TakeTheirs,
            ImpulsePicker,
            Help,
            Quit,
            Confirm,
            Cancel,
            Erase,
            EraseAll,
            Type('0'),
            Suspend,
            History,
            Map,
            MapStep {
                dx: 0,
                dy: 0,
                coarse: false,
            },
            MapFigure(0),
        ];
        for action in all {
            let reached = [
                Screen::Main,
                Screen::Editor,
                Screen::Picker,
                Screen::History,
                Screen::Map,
                Screen::Help,
            ]
            .into_iter()
            .any(|screen| {
                keyboard().into_iter().any(|(event, _)| {
                    action_for(screen, event).is_some_and(|a| {
                        std::mem::discriminant(&a) == std::mem::discriminant(&action)
                    })
                })
            });
            assert!(reached, "no key reaches {action:?}");
        }
    }

    #[test]
    fn the_readme_key_table_is_the_key_map() {
        let readme = include_str!("../README.md");
        let begin = "<!-- keys: generated from src/keymap.rs -->\n";
        let start = readme.find(begin).expect("the README marks its key table") + begin.len();
        let end = start
            + readme[start..]
                .find("<!-- /keys -->")
                .expect("an end marker");
        assert_eq!(
            &readme[start..end],
            markdown_table(),
            "README.md's key table differs from the key map: paste keymap::markdown_table()"
        );
    }

    #[test]
    fn the_footer_groups_neighbours() {
        let main = footer(Screen::Main);
        assert!(
            main.starts_with("? help  ↑↓ select  ←→ step  u undo"),
            "{main}"
        );
        assert!(main.ends_with("q quit"), "{main}");
        assert!(main.chars().count() < 98, "fits 100 columns: {main}");
        assert_eq!(footer(Screen::Editor), "Enter sets  Esc cancels");
    }
}
