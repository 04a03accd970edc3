//! The slider pane: one row per threshold, its bar or its options.

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::geometry::{Row, bar_span, slider_rows};
use super::rows::Rows;
use super::text::truncate;
use super::theme::Theme;
use crate::api::client::UnreadableBlock;
use crate::api::models::DropdownOption;
use crate::tuner::{Connection, Scale, Slider, SliderKind, Tuner};

pub(super) fn render_sliders(frame: &mut Frame, area: Rect, tuner: &Tuner, theme: &Theme) {
    let count = tuner.sliders().len();
    let title = if count == 0 {
        " Thresholds ".to_string()
    } else {
        format!(" Thresholds {}/{} ", tuner.selected() + 1, count)
    };
    let block = Block::bordered().title(title).border_style(theme.border);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if tuner.sliders().is_empty() && tuner.unreadable().is_empty() {
        let text = match &tuner.connection() {
            Connection::Failing(_) => "Could not load the impulse; press r to retry.",
            _ if tuner.impulse().is_some() => "This impulse has no learn block thresholds.",
            _ => "Loading thresholds…",
        };
        frame.render_widget(Paragraph::new(text).style(theme.dim), inner);
        return;
    }
    for (row, rect) in slider_rows(tuner, inner) {
        let line = match row {
            Row::Block(i) => block_line(&tuner.sliders()[i], theme),
            Row::Label(i) => label_line(tuner, i, rect.width, theme),
            Row::Unreadable(i) => unreadable_line(&tuner.unreadable()[i], theme),
            Row::Bar(i) => {
                let s = &tuner.sliders()[i];
                match &s.kind {
                    SliderKind::Numeric(scale) => {
                        let cells = bar_cells(s, scale, i == tuner.selected(), rect, theme);
                        render_cells(frame.buffer_mut(), rect, bar_span(rect).0, &cells);
                        continue;
                    }
                    SliderKind::Options(options) => options_line(s, options, rect, theme),
                    SliderKind::Text => Line::from(vec![
                        Span::raw("  "),
                        Span::styled(format!("\"{}\"", s.value), theme.strong),
                        Span::styled("  text: e to type a new value", theme.dim),
                    ]),
                }
            }
        };
        frame.render_widget(Rows::new(&[line]), rect);
    }
}

/// A block's title line, before its first threshold.
fn block_line<'a>(s: &Slider, theme: &Theme) -> Line<'a> {
    Line::from(vec![
        Span::styled(s.block_title.clone(), theme.strong),
        Span::styled(
            format!(" · {} · block {}", s.block_type, s.block_id),
            theme.dim,
        ),
    ])
}

/// A learn block whose thresholds could not be read, and why.
fn unreadable_line<'a>(u: &UnreadableBlock, theme: &Theme) -> Line<'a> {
    Line::from(vec![
        Span::styled(crate::text::clean(&u.block.title), theme.strong),
        Span::styled(
            format!(" · {} · block {} ", u.block.kind, u.block.id),
            theme.dim,
        ),
        Span::styled(
            format!("unreadable: {}", crate::text::clean(&u.reason)),
            theme.bad,
        ),
    ])
}

pub(super) fn label_line<'a>(tuner: &Tuner, i: usize, width: u16, theme: &Theme) -> Line<'a> {
    let s = &tuner.sliders()[i];
    let selected = i == tuner.selected();
    let marker = if selected { "▶ " } else { "  " };
    let value = s.display(&s.value);
    let state = tuner.sync_label(s);
    let state_style = match s.sync {
        crate::tuner::SyncState::Saved => theme.good,
        crate::tuner::SyncState::Failed(_) => theme.bad,
        crate::tuner::SyncState::ChangedElsewhere { .. } => theme.warn,
        _ => theme.pending,
    };
    let name = format!("{} ({})", s.description, s.key);
    let right = format!(" {value}  {state}");
    let room = (width as usize).saturating_sub(marker.chars().count() + right.chars().count());
    let name = truncate(&name, room);
    let pad = room.saturating_sub(name.chars().count());
    let name_style = if selected {
        theme.selected
    } else {
        Style::default()
    };
    Line::from(vec![
        Span::styled(marker, theme.accent),
        Span::styled(name, name_style),
        Span::raw(" ".repeat(pad)),
        Span::styled(format!(" {value}"), theme.value),
        Span::raw("  "),
        Span::styled(state, state_style),
    ])
}

/// A dropdown's options in a row, the chosen one highlighted.
pub(super) fn options_line<'a>(
    s: &Slider,
    options: &[DropdownOption],
    row: Rect,
    theme: &Theme,
) -> Line<'a> {
    let indent = " ".repeat((bar_span(row).0 - row.x) as usize);
    let mut spans = vec![Span::raw(indent)];
    for o in options {
        let chosen = s.value.as_text() == Some(o.value.as_str());
        let style = if chosen { theme.selected } else { theme.dim };
        spans.push(Span::styled(format!(" {} ", o.value), style));
    }
    if let Some(d) = s.option_description() {
        spans.push(Span::styled(format!("  {d}"), theme.dim));
    }
    Line::from(spans)
}

/// A numeric slider's bar, a cell at a time: filled up to the value, the value's knob, and
/// markers at the saved and suggested values.
pub(super) fn bar_cells(
    s: &Slider,
    scale: &Scale,
    selected: bool,
    row: Rect,
    theme: &Theme,
) -> Vec<(char, Style)> {
    let width = bar_span(row).1 as usize;
    if width == 0 {
        return Vec::new();
    }
    let position = |v: f64| -> usize {
        ((scale.fraction_of(v) * (width - 1) as f64).round() as usize).min(width - 1)
    };
    let value = s.value.as_number().unwrap_or(scale.min);
    let filled = position(value);
    let bar_style = if selected {
        theme.bar_selected
    } else {
        theme.bar
    };
    let mut cells: Vec<(char, Style)> = (0..width)
        .map(|x| {
            if x <= filled {
                ('━', bar_style)
            } else {
                ('─', theme.dim)
            }
        })
        .collect();
    if let Some(x) = s.suggested.map(position) {
        cells[x] = ('◆', theme.suggested);
    }
    if let Some(x) = s.saved.as_number().map(position)
        && s.value != s.saved
    {
        cells[x] = ('┃', theme.saved_marker);
    }
    cells[filled] = ('●', bar_style);
    cells
}

/// Writes single-width characters straight into the buffer from column `start` of `row`:
/// a bar is a couple of hundred cells a frame per slider, and going through text layout
/// (grapheme segmentation and width lookup for each) was the largest cost of a frame.
pub(super) fn render_cells(buf: &mut Buffer, row: Rect, start: u16, cells: &[(char, Style)]) {
    let row = row.intersection(buf.area);
    for (x, (symbol, style)) in (start..row.right()).zip(cells) {
        buf[(x, row.y)].set_char(*symbol).set_style(*style);
    }
}
