//! The joint map: the objective over `min_score` (across) × `min_anomaly_score` (up), the
//! point shown, the saved one, the best one and the Pareto front of two figures.
//!
//! In colour each character cell holds two points of the grid, one above the other (an
//! upper half block over a background); without colour (`NO_COLOR`) one point, drawn as a
//! shade from `░` to `█`, so the scale still reads.

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::Theme;
use crate::api::models::ThresholdValue;
use crate::metrics::joint::JointMap;
use crate::metrics::suggest::HEADLINES;
use crate::tuner::{JointView, Tuner};

/// Low to high: dark blue to yellow, readable on dark and light backgrounds.
const PALETTE: [u8; 10] = [17, 18, 24, 30, 36, 72, 107, 143, 179, 220];
/// Points the objective does not allow (a constraint not met).
const NOT_ALLOWED: Color = Color::Indexed(236);
/// Low to high, without colour.
const SHADES: [char; 4] = ['░', '▒', '▓', '█'];
const PANEL_WIDTH: u16 = 46;
/// The `min_anomaly_score` labels on the left.
const AXIS_WIDTH: u16 = 8;

const HERE: char = '●';
const SAVED: char = '○';
const BEST: char = '*';
const FRONT: char = '+';

/// Where the map's points are drawn on a screen of `area`.
pub fn cells(area: Rect) -> Rect {
    let outer = outer(area);
    let inner = Block::bordered().inner(outer);
    let [left, _panel] =
        Layout::horizontal([Constraint::Min(10), Constraint::Length(PANEL_WIDTH)]).areas(inner);
    let [plot, _x_axis] = Layout::vertical([Constraint::Min(2), Constraint::Length(2)]).areas(left);
    let [_y_axis, cells] =
        Layout::horizontal([Constraint::Length(AXIS_WIDTH), Constraint::Min(2)]).areas(plot);
    cells
}

/// The screen between the header and the footer, which stay in view.
pub(super) fn outer(area: Rect) -> Rect {
    Rect::new(
        area.x,
        area.y + 1,
        area.width,
        area.height.saturating_sub(2),
    )
}

/// Grid points stacked in one character cell: two with colour, one without.
fn per_cell(theme: &Theme) -> u16 {
    if theme.colors { 2 } else { 1 }
}

/// The grid index drawn at position `at` of `positions` along an axis of `points`.
fn index(at: u16, positions: u16, points: usize) -> usize {
    if positions <= 1 || points <= 1 {
        return 0;
    }
    let last = (points - 1) as f64;
    ((f64::from(at) * last / f64::from(positions - 1)).round() as usize).min(points - 1)
}

/// The grid point `(j, k)` under a click at `(column, row)`, if on a map of `points`
/// (across, up).
pub fn point_at(
    area: Rect,
    theme: &Theme,
    column: u16,
    row: u16,
    points: (usize, usize),
) -> Option<(usize, usize)> {
    let cells = cells(area);
    let inside = column >= cells.x
        && column < cells.x + cells.width
        && row >= cells.y
        && row < cells.y + cells.height;
    if !inside {
        return None;
    }
    let stack = per_cell(theme);
    let rows = cells.height * stack;
    let j = index(column - cells.x, cells.width, points.0);
    // The middle of the cell, counted from the bottom.
    let from_top = (row - cells.y) * stack + stack / 2;
    let k = index(rows - 1 - from_top.min(rows - 1), rows, points.1);
    Some((j, k))
}

fn colour(level: f64) -> Color {
    let i = (level * (PALETTE.len() - 1) as f64).round() as usize;
    Color::Indexed(PALETTE[i.min(PALETTE.len() - 1)])
}

fn shade(level: f64) -> char {
    let i = (level * (SHADES.len() - 1) as f64).round() as usize;
    SHADES[i.min(SHADES.len() - 1)]
}

pub fn render(frame: &mut Frame, area: Rect, tuner: &Tuner, theme: &Theme) {
    // The whole screen but the header and the footer (which shows the map's keys).
    let outer = outer(area);
    frame.render_widget(Clear, outer);
    let block = Block::bordered()
        .title(" Joint map: min_score → across, min_anomaly_score ↑ up ")
        .border_style(theme.accent);
    let inner = block.inner(outer);
    frame.render_widget(block, outer);
    let (Some(view), Some(map)) = (tuner.joint(), tuner.joint().and_then(JointView::map)) else {
        frame.render_widget(Paragraph::new("computing the map…").style(theme.dim), inner);
        return;
    };
    let cells = cells(area);
    if cells.width < 10 || cells.height < 3 {
        frame.render_widget(
            Paragraph::new("the map needs a larger terminal").style(theme.dim),
            inner,
        );
        return;
    }
    let [left, panel] =
        Layout::horizontal([Constraint::Min(10), Constraint::Length(PANEL_WIDTH)]).areas(inner);
    let span = map.score_span();
    draw_cells(frame.buffer_mut(), cells, map, span, theme);
    draw_markers(frame.buffer_mut(), cells, tuner, view, map, span, theme);
    draw_axes(frame, left, cells, tuner, view, map, theme);
    frame.render_widget(
        Paragraph::new(panel_lines(tuner, view, map, theme)).wrap(Wrap { trim: false }),
        panel,
    );
}

/// A score as a level in 0..=1 of the map's `span` (lowest, highest).
fn level(map: &JointMap, span: Option<(f64, f64)>, at: usize) -> Option<f64> {
    let (lo, hi) = span?;
    let score = map.score[at]?;
    Some(if hi > lo {
        (score - lo) / (hi - lo)
    } else {
        1.0
    })
}

fn draw_cells(
    buf: &mut Buffer,
    cells: Rect,
    map: &JointMap,
    span: Option<(f64, f64)>,
    theme: &Theme,
) {
    let points = map.xs.len();
    let stack = per_cell(theme);
    let rows = cells.height * stack;
    for r in 0..cells.height {
        for c in 0..cells.width {
            let j = index(c, cells.width, points);
            let level_at = |p: u16| {
                let k = index(rows - 1 - p, rows, map.ys.len());
                level(map, span, map.at(j, k))
            };
            let Some(cell) = buf.cell_mut((cells.x + c, cells.y + r)) else {
                continue;
            };
            if theme.colors {
                let (top, bottom) = (level_at(r * 2), level_at(r * 2 + 1));
                cell.set_char('▀');
                cell.set_style(
                    Style::new()
                        .fg(top.map_or(NOT_ALLOWED, colour))
                        .bg(bottom.map_or(NOT_ALLOWED, colour)),
                );
            } else {
                cell.set_char(level_at(r).map_or(' ', shade));
                cell.set_style(Style::new());
            }
        }
    }
}

/// The character cell of grid point `(j, k)`.
fn cell_of(cells: Rect, map: &JointMap, theme: &Theme, (j, k): (usize, usize)) -> (u16, u16) {
    let stack = per_cell(theme);
    let rows = cells.height * stack;
    let position = |i: usize, points: usize, positions: u16| -> u16 {
        if points <= 1 || positions <= 1 {
            return 0;
        }
        ((i as f64) * f64::from(positions - 1) / (points - 1) as f64).round() as u16
    };
    let c = position(j, map.xs.len(), cells.width);
    let from_bottom = position(k, map.ys.len(), rows);
    let r = (rows - 1 - from_bottom) / stack;
    (cells.x + c, cells.y + r)
}

fn draw_markers(
    buf: &mut Buffer,
    cells: Rect,
    tuner: &Tuner,
    view: &JointView,
    map: &JointMap,
    span: Option<(f64, f64)>,
    theme: &Theme,
) {
    let sliders = tuner.sliders();
    let point = |value: fn(&crate::tuner::Slider) -> &ThresholdValue| {
        let x = value(&sliders[view.sliders().0]).as_number()?;
        let y = value(&sliders[view.sliders().1]).as_number()?;
        Some(map.nearest(x, y))
    };
    let here = point(|s| &s.value);
    let saved = point(|s| &s.saved);
    // Drawn in rising importance: what is drawn last stays on top.
    let mut marks: Vec<((usize, usize), char)> = view.front().iter().map(|&p| (p, FRONT)).collect();
    marks.extend(saved.map(|p| (p, SAVED)));
    marks.extend(view.optimum().map(|p| (p, BEST)));
    marks.extend(here.map(|p| (p, HERE)));
    for (p, mark) in marks {
        let at = cell_of(cells, map, theme, p);
        if let Some(cell) = buf.cell_mut(at) {
            let style = if theme.colors {
                let bg = level(map, span, map.at(p.0, p.1)).map_or(NOT_ALLOWED, colour);
                Style::new()
                    .fg(Color::White)
                    .bg(bg)
                    .add_modifier(Modifier::BOLD)
            } else {
                Style::new().add_modifier(Modifier::BOLD)
            };
            cell.set_char(mark);
            cell.set_style(style);
        }
    }
}

/// Text at `(x, y)`, if that is on the screen (a label below a short map is left out).
fn put(buf: &mut Buffer, x: u16, y: u16, text: impl AsRef<str>, style: Style) {
    let area = buf.area;
    if y >= area.y && y < area.bottom() && x >= area.x && x < area.right() {
        buf.set_stringn(x, y, text, usize::from(area.right() - x), style);
    }
}

fn draw_axes(
    frame: &mut Frame,
    left: Rect,
    cells: Rect,
    tuner: &Tuner,
    view: &JointView,
    map: &JointMap,
    theme: &Theme,
) {
    let sliders = tuner.sliders();
    let (sx, sy) = (&sliders[view.sliders().0], &sliders[view.sliders().1]);
    let (Some(&x0), Some(&x1), Some(&y0), Some(&y1)) =
        (map.xs.first(), map.xs.last(), map.ys.first(), map.ys.last())
    else {
        return;
    };
    let buf = frame.buffer_mut();
    let label_x = left.x;
    put(
        buf,
        label_x,
        cells.y,
        format!("{:>7}", shown_value(sy, y1)),
        theme.dim,
    );
    put(
        buf,
        label_x,
        cells.y + cells.height.saturating_sub(1),
        format!("{:>7}", shown_value(sy, y0)),
        theme.dim,
    );
    let below = cells.y + cells.height;
    put(buf, cells.x, below, shown_value(sx, x0), theme.dim);
    let right = shown_value(sx, x1);
    put(
        buf,
        (cells.x + cells.width).saturating_sub(right.chars().count() as u16),
        below,
        &right,
        theme.dim,
    );
    let name = "min_score →";
    put(
        buf,
        cells.x + cells.width.saturating_sub(name.len() as u16) / 2,
        below + 1,
        name,
        theme.dim,
    );
    put(
        buf,
        label_x,
        cells.y + cells.height / 2,
        "anomaly↑",
        theme.dim,
    );
}

/// A value on the map at its slider's precision (grid points fall between round values),
/// within the axis' [`AXIS_LABEL`] columns: a far-off value (±3e38) in powers of ten
/// rather than 39 digits that push the row aside.
fn shown_value(slider: &crate::tuner::Slider, v: f64) -> String {
    let text = match slider.scale() {
        Some(scale) => scale.format(crate::thresholds::round_to(v, scale.decimals)),
        None => slider.display(&ThresholdValue::Number(v)),
    };
    fit_axis(text, v)
}

/// `text`, the value `v` as the slider writes it, in at most [`AXIS_LABEL`] columns.
fn fit_axis(text: String, v: f64) -> String {
    if text.chars().count() <= AXIS_LABEL {
        return text;
    }
    [format!("{v:.1e}"), format!("{v:.0e}")]
        .into_iter()
        .find(|t| t.chars().count() <= AXIS_LABEL)
        .unwrap_or_else(|| crate::text::shorten(&text, AXIS_LABEL - 1))
}

/// Columns an axis label takes.
const AXIS_LABEL: usize = 7;

fn panel_lines<'a>(
    tuner: &Tuner,
    view: &JointView,
    map: &JointMap,
    theme: &Theme,
) -> Vec<Line<'a>> {
    let sliders = tuner.sliders();
    let (sx, sy) = (&sliders[view.sliders().0], &sliders[view.sliders().1]);
    let objective = tuner.map_objective();
    let score = |(j, k): (usize, usize)| {
        map.score[map.at(j, k)].map_or_else(|| "not allowed".to_string(), |s| objective.shown(s))
    };
    // The values themselves, and the objective at the point of the map they fall on.
    let values = |x: &ThresholdValue, y: &ThresholdValue| {
        let p = map.nearest(x.as_number()?, y.as_number()?);
        Some(format!(
            "{} / {}  {}",
            sx.display(x),
            sy.display(y),
            score(p)
        ))
    };
    let best = view.optimum().map(|(j, k)| {
        format!(
            "{} / {}  {}",
            shown_value(sx, map.xs[j]),
            shown_value(sy, map.ys[k]),
            score((j, k))
        )
    });
    let mut lines = vec![
        Line::from(vec![
            Span::styled("objective ", theme.strong),
            Span::raw(objective.name()),
        ]),
        Line::raw(""),
    ];
    for (mark, name, text) in [
        (HERE, "here ", values(&sx.value, &sy.value)),
        (SAVED, "saved", values(&sx.saved, &sy.saved)),
        (BEST, "best ", best),
    ] {
        if let Some(text) = text {
            lines.push(Line::from(vec![
                Span::styled(format!("{mark} {name} "), theme.strong),
                Span::raw(text),
            ]));
        }
    }
    lines.push(Line::raw(""));
    lines.push(scale_line(map, theme, &objective));
    lines.push(Line::styled(
        format!("{FRONT} Pareto front (a, b):"),
        theme.strong,
    ));
    lines.extend(front_lines(view, map, (sx, sy), theme));
    lines
}

/// The Pareto front's figures, and its points as many as fit, best first on the first.
fn front_lines<'a>(
    view: &JointView,
    map: &JointMap,
    (sx, sy): (&crate::tuner::Slider, &crate::tuner::Slider),
    theme: &Theme,
) -> Vec<Line<'a>> {
    const ROOM: usize = 14;
    let (a, b) = (&HEADLINES[view.pair()[0]], &HEADLINES[view.pair()[1]]);
    let shown = |h: &crate::metrics::suggest::Headline, v: Option<f64>| {
        v.map_or_else(|| "–".into(), |v| h.show(v))
    };
    let mut lines = vec![Line::raw(format!("  {} · {}", a.name, b.name))];
    for &(j, k) in view.front().iter().take(ROOM) {
        let i = map.at(j, k);
        lines.push(Line::raw(format!(
            "  {:>7} {:>7}  at {} / {}",
            shown(a, map.figures[0][i]),
            shown(b, map.figures[1][i]),
            shown_value(sx, map.xs[j]),
            shown_value(sy, map.ys[k])
        )));
    }
    if view.front().len() > ROOM {
        lines.push(Line::styled(
            format!("  … {} more", view.front().len() - ROOM),
            theme.dim,
        ));
    }
    lines
}

/// Low to high, as the map draws them, with the objective's values at each end.
fn scale_line<'a>(
    map: &JointMap,
    theme: &Theme,
    objective: &crate::metrics::objective::Objective,
) -> Line<'a> {
    let Some((lo, hi)) = map.score_span() else {
        return Line::styled("no point allowed by the objective", theme.dim);
    };
    let number = |s: f64| objective.value_shown(s);
    let mut spans = vec![Span::raw(format!("{} ", number(lo)))];
    if theme.colors {
        for &c in &PALETTE {
            spans.push(Span::styled("█", Style::new().fg(Color::Indexed(c))));
        }
    } else {
        spans.extend(SHADES.iter().map(|s| Span::raw(s.to_string())));
    }
    spans.push(Span::raw(format!(" {}", number(hi))));
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn far_off_values_fit_the_axis() {
        let digits = |v: f64| format!("{v:.0}");
        assert_eq!(fit_axis(digits(3e38), 3e38), "3.0e38");
        assert_eq!(fit_axis(digits(-3.4e38), -3.4e38), "-3.4e38");
        assert_eq!(fit_axis("-0.0000000000015".into(), -1.5e-12), "-2e-12");
        assert_eq!(fit_axis("0.53".into(), 0.53), "0.53");
        assert_eq!(fit_axis("-123.45".into(), -123.45), "-123.45");
    }
}
