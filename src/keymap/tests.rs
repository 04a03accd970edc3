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
            let same =
                |a: &Action| std::mem::discriminant(a) == std::mem::discriminant(&binding.action);
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
                action_for(screen, event)
                    .is_some_and(|a| std::mem::discriminant(&a) == std::mem::discriminant(&action))
            })
        });
        assert!(reached, "no key reaches {action:?}");
    }
}

#[test]
fn the_readme_key_table_is_the_key_map() {
    let readme = include_str!("../../README.md");
    let begin = "<!-- keys: generated from src/keymap/bindings.rs -->\n";
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
