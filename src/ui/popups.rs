//! The overlays: help and the impulse picker.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::theme::Theme;
use crate::keymap::{self, Screen};
use crate::tuner::Tuner;

pub(super) fn popup(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    )
}

pub(super) fn render_help(frame: &mut Frame, area: Rect, theme: &Theme) {
    let mut lines: Vec<Line> = keymap::bindings(Screen::Main)
        .map(|b| {
            Line::from(vec![
                Span::styled(format!("{:>13}  ", b.keys_label()), theme.strong),
                Span::raw(b.help),
            ])
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::from(vec![
        Span::styled(format!("{:>13}  ", "mouse"), theme.strong),
        Span::raw("click selects; click or drag on a bar sets; wheel steps"),
    ]));
    let rect = popup(area, 78, lines.len() as u16 + 2);
    frame.render_widget(Clear, rect);
    let block = Block::bordered()
        .title(format!(" Keys ({}) ", keymap::footer(Screen::Help)))
        .border_style(theme.accent);
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}

pub(super) fn render_picker(
    frame: &mut Frame,
    area: Rect,
    tuner: &Tuner,
    selected: usize,
    theme: &Theme,
) {
    let current = tuner.impulse().map(|i| i.id);
    let lines: Vec<Line> = tuner
        .impulses()
        .iter()
        .enumerate()
        .map(|(n, i)| {
            let blocks: Vec<String> = i
                .learn_blocks
                .iter()
                .map(|b| format!("{} {}", b.id, crate::text::clean(b.kind.as_str())))
                .collect();
            let marker = if Some(i.id) == current { "●" } else { " " };
            let style = if n == selected {
                theme.selected
            } else {
                Style::default()
            };
            Line::from(vec![
                Span::styled(
                    format!("{marker} {:>3} {} ", i.id, crate::text::clean(&i.name)),
                    style,
                ),
                Span::styled(format!(" {}", blocks.join(", ")), theme.dim),
            ])
        })
        .collect();
    let rect = popup(area, 80, lines.len() as u16 + 2);
    frame.render_widget(Clear, rect);
    let block = Block::bordered()
        .title(format!(" Impulses ({}) ", keymap::footer(Screen::Picker)))
        .border_style(theme.accent);
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}
