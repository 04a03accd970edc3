//! Where each pane is, and what a mouse event over the sliders touches: computed from
//! the same state the views draw, so that a click lands on what was drawn.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::Block;

use crate::tuner::{Mode, Pointer, Tuner};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub header: Rect,
    pub sliders: Rect,
    pub help_text: Rect,
    pub metrics: Rect,
    /// The sweep chart; empty when the screen has no room for it.
    pub chart: Rect,
    pub status: Rect,
    pub footer: Rect,
}

/// Splits the screen: side by side from 100 columns, stacked below.
pub fn layout(area: Rect) -> Areas {
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    let status_height = (body.height / 4).clamp(3, 10);
    if area.width >= 100 {
        let [main, status] =
            Layout::vertical([Constraint::Min(0), Constraint::Length(status_height)]).areas(body);
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(58), Constraint::Percentage(42)])
                .areas(main);
        let [sliders, help_text] =
            Layout::vertical([Constraint::Min(0), Constraint::Length(3)]).areas(left);
        let chart_height = if right.height >= 18 {
            (right.height * 45 / 100).max(8)
        } else {
            0
        };
        let [metrics, chart] =
            Layout::vertical([Constraint::Min(0), Constraint::Length(chart_height)]).areas(right);
        Areas {
            header,
            sliders,
            help_text,
            metrics,
            chart,
            status,
            footer,
        }
    } else {
        let metrics_height = if body.height >= 24 { 9 } else { 5 };
        let [sliders, help_text, metrics, status] = Layout::vertical([
            Constraint::Min(4),
            Constraint::Length(2),
            Constraint::Length(metrics_height),
            Constraint::Length(status_height.min(5)),
        ])
        .areas(body);
        Areas {
            header,
            sliders,
            help_text,
            metrics,
            chart: Rect::default(),
            status,
            footer,
        }
    }
}

/// One line of the slider pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    /// A block's title line, before its first threshold.
    Block(usize),
    /// A threshold's name, value and state.
    Label(usize),
    /// A threshold's bar (or options).
    Bar(usize),
    /// A learn block whose thresholds could not be read, with why.
    Unreadable(usize),
}

/// The rows visible in the slider pane's inner area, scrolled so that the selected slider
/// shows, each with its screen line.
pub fn slider_rows(tuner: &Tuner, inner: Rect) -> Vec<(Row, Rect)> {
    let mut rows = Vec::new();
    let mut previous_block = None;
    for (i, s) in tuner.sliders().iter().enumerate() {
        if previous_block != Some(s.block_id) {
            rows.push(Row::Block(i));
            previous_block = Some(s.block_id);
        }
        rows.push(Row::Label(i));
        rows.push(Row::Bar(i));
    }
    rows.extend((0..tuner.unreadable().len()).map(Row::Unreadable));
    let height = inner.height as usize;
    let selected_bar = rows
        .iter()
        .position(|r| *r == Row::Bar(tuner.selected()))
        .unwrap_or(0);
    // Keep the selected slider (and its block title when there is room) in view.
    let first = (selected_bar + 1).saturating_sub(height);
    let first = if first > 0 {
        (first + 1).min(selected_bar.saturating_sub(1))
    } else {
        0
    };
    let first = first.min(rows.len().saturating_sub(height));
    rows.into_iter()
        .skip(first)
        .take(height)
        .enumerate()
        .map(|(line, row)| {
            let y = inner.y + line as u16;
            (row, Rect::new(inner.x, y, inner.width, 1))
        })
        .collect()
}

/// Where a slider's bar is drawn within its bar row: after the two-column indent.
pub(super) fn bar_span(row: Rect) -> (u16, u16) {
    let start = row.x + 2;
    let width = row.width.saturating_sub(3).max(1);
    (start, width)
}

/// What a mouse event at (column, row) touches.
pub fn hit_test(tuner: &Tuner, screen: Rect, column: u16, row: u16, drag: bool) -> Option<Pointer> {
    if *tuner.mode() != Mode::Normal && !drag {
        return None;
    }
    let areas = layout(screen);
    let inner = Block::bordered().inner(areas.sliders);
    for (r, rect) in slider_rows(tuner, inner) {
        // A drag may leave the bar sideways and still set the value (clamped).
        let within = column >= rect.x && column < rect.x + rect.width;
        if rect.y != row || !(within || drag) {
            continue;
        }
        return match r {
            Row::Bar(i) => {
                let (start, width) = bar_span(rect);
                let fraction =
                    f64::from(column.saturating_sub(start)) / f64::from(width.max(2) - 1);
                let fraction = fraction.clamp(0.0, 1.0);
                Some(if drag {
                    Pointer::Drag {
                        slider: i,
                        fraction,
                    }
                } else {
                    Pointer::Press {
                        slider: i,
                        fraction: Some(fraction),
                    }
                })
            }
            Row::Label(i) if !drag => Some(Pointer::Press {
                slider: i,
                fraction: None,
            }),
            _ => None,
        };
    }
    None
}

/// The slider a wheel event over (column, row) scrolls: the one under it, or the selected.
pub fn wheel_target(tuner: &Tuner, screen: Rect, column: u16, row: u16) -> Option<usize> {
    let areas = layout(screen);
    let inside =
        |r: Rect| column >= r.x && column < r.x + r.width && row >= r.y && row < r.y + r.height;
    if !inside(areas.sliders) {
        return None;
    }
    let inner = Block::bordered().inner(areas.sliders);
    slider_rows(tuner, inner)
        .into_iter()
        .find_map(|(r, rect)| match r {
            Row::Label(i) | Row::Bar(i) if rect.y == row => Some(i),
            _ => None,
        })
        .or(Some(tuner.selected()))
}
