//! The history view: this impulse's earlier set-thresholds calls, newest first, with the
//! values and figures of the one selected.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::Theme;
use crate::history::Entry;
use crate::tuner::Tuner;

pub fn render(frame: &mut Frame, area: Rect, tuner: &Tuner, selected: usize, theme: &Theme) {
    let list = tuner.history();
    let rect = super::map::outer(area);
    frame.render_widget(Clear, rect);
    let block = Block::bordered()
        .title(" History of this impulse, newest first ")
        .title_bottom(format!(" {} ", list_summary(tuner)))
        .border_style(theme.accent);
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let message = if list.loading() {
        Some("reading the history…".to_string())
    } else if let Some(error) = list.error() {
        Some(format!("the history cannot be read: {error}"))
    } else if list.entries().is_empty() {
        Some(
            "no calls yet: each value saved from here or by `ei-tune set` or `suggest \
             --apply` is listed"
                .to_string(),
        )
    } else {
        None
    };
    if let Some(message) = message {
        frame.render_widget(
            Paragraph::new(message)
                .style(theme.dim)
                .wrap(Wrap { trim: true }),
            inner,
        );
        return;
    }
    let [rows, details] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(4)]).areas(inner);
    let height = usize::from(rows.height);
    let first = selected.saturating_sub(height.saturating_sub(1));
    let lines: Vec<Line> = list
        .entries()
        .iter()
        .enumerate()
        .skip(first)
        .take(height)
        .map(|(n, entry)| row(entry, n == selected, theme))
        .collect();
    frame.render_widget(Paragraph::new(lines), rows);
    if let Some(entry) = list.entries().get(selected) {
        frame.render_widget(
            Paragraph::new(detail(entry, theme)).wrap(Wrap { trim: true }),
            details,
        );
    }
}

fn list_summary(tuner: &Tuner) -> String {
    let list = tuner.history();
    let mut text = format!(
        "{} call{}",
        list.entries().len(),
        if list.entries().len() == 1 { "" } else { "s" }
    );
    if list.skipped() > 0 {
        text.push_str(&format!(", {} unreadable line(s) skipped", list.skipped()));
    }
    text
}

fn row<'a>(entry: &'a Entry, selected: bool, theme: &Theme) -> Line<'a> {
    let changes = entry.call.changes_line();
    let answer_style = if entry.call.answer.saved {
        theme.good
    } else {
        theme.bad
    };
    let base = if selected {
        theme.selected
    } else {
        Style::default()
    };
    let first_figure = entry.figures().into_iter().next().unwrap_or_default();
    Line::from(vec![
        Span::styled(if selected { "▶ " } else { "  " }, base),
        Span::styled(format!("{}  ", entry.when()), base),
        Span::styled(
            format!("{:<8}", crate::text::clean(&entry.call.by)),
            theme.dim,
        ),
        Span::styled(format!("{changes}  "), base),
        Span::styled(format!("{}  ", entry.call.answer.summary()), answer_style),
        Span::styled(first_figure, theme.value),
    ])
}

fn detail<'a>(entry: &Entry, theme: &Theme) -> Vec<Line<'a>> {
    let values: Vec<String> = entry
        .call
        .thresholds
        .iter()
        .map(|c| crate::text::clean(&format!("{}.{}={}", c.block_id, c.key, c.after)))
        .collect();
    let figures = entry.figures();
    vec![
        Line::from(vec![
            Span::styled("Enter brings back: ", theme.strong),
            Span::raw(values.join("  ")),
        ]),
        Line::from(vec![
            Span::styled("figures then: ", theme.strong),
            Span::raw(if figures.is_empty() {
                "none recorded (no per-window results were read)".to_string()
            } else {
                figures.join(" · ")
            }),
        ]),
    ]
}
