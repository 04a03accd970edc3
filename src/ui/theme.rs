//! Colours in one place; `NO_COLOR` leaves only bold and reverse video.

use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Theme {
    pub title: Style,
    pub strong: Style,
    pub dim: Style,
    pub border: Style,
    pub accent: Style,
    pub selected: Style,
    pub value: Style,
    pub good: Style,
    pub bad: Style,
    pub warn: Style,
    pub info: Style,
    pub pending: Style,
    pub bar: Style,
    pub bar_selected: Style,
    pub suggested: Style,
    pub saved_marker: Style,
    /// Whether colours are drawn at all (`NO_COLOR` unset).
    pub colors: bool,
}

impl Theme {
    pub fn color() -> Self {
        Self {
            title: Style::new()
                .fg(Color::Black)
                .bg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
            strong: Style::new().add_modifier(Modifier::BOLD),
            dim: Style::new().fg(Color::DarkGray),
            border: Style::new().fg(Color::DarkGray),
            accent: Style::new().fg(Color::Cyan),
            selected: Style::new().add_modifier(Modifier::REVERSED),
            value: Style::new().fg(Color::White).add_modifier(Modifier::BOLD),
            good: Style::new().fg(Color::Green),
            bad: Style::new().fg(Color::Red),
            warn: Style::new().fg(Color::Yellow),
            info: Style::new().fg(Color::Blue),
            pending: Style::new().fg(Color::Yellow),
            bar: Style::new().fg(Color::Gray),
            bar_selected: Style::new().fg(Color::Cyan),
            suggested: Style::new().fg(Color::Magenta),
            saved_marker: Style::new().fg(Color::Green),
            colors: true,
        }
    }

    /// No colours at all: <https://no-color.org>.
    pub fn monochrome() -> Self {
        let plain = Style::new();
        let bold = Style::new().add_modifier(Modifier::BOLD);
        Self {
            title: Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD),
            strong: bold,
            dim: plain,
            border: plain,
            accent: plain,
            selected: Style::new().add_modifier(Modifier::REVERSED),
            value: bold,
            good: plain,
            bad: bold,
            warn: bold,
            info: plain,
            pending: plain,
            bar: plain,
            bar_selected: bold,
            suggested: plain,
            saved_marker: bold,
            colors: false,
        }
    }

    /// Monochrome when `NO_COLOR` is set to anything non-empty.
    pub fn from_env() -> Self {
        match std::env::var_os("NO_COLOR") {
            Some(v) if !v.is_empty() => Self::monochrome(),
            _ => Self::color(),
        }
    }
}
