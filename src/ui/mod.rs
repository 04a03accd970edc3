//! The views: pure functions of the tuner state that draw into a ratatui frame.
//!
//! The layout is computed by [`layout`] and the slider rows by [`slider_rows`], both pure,
//! so that the event loop hit-tests mouse events against exactly what was drawn.

mod history;
pub mod map;
mod rows;
pub mod theme;

use std::time::Duration;

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::symbols;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Axis, Block, Chart, Clear, Dataset, GraphType, LegendPosition, Paragraph, Sparkline, Wrap,
};

use crate::api::models::{DropdownOption, RegenerateStatus, ThresholdValue};
use crate::keymap::{self, Screen};
use crate::metrics::detection::{ClassFigures, DetectionSummary, Matching};
use crate::metrics::objective::Costs;
use crate::metrics::{Predicted, Summary, TestSet, UNCERTAIN};
use crate::tuner::{
    Connection, Mode, Pointer, Preview, PreviewSource, ProjectRef, Scale, Slider, SliderKind,
    StatusEntry, StatusOutcome, Tuner,
};
use rows::Rows;
pub use theme::Theme;

/// Where each region of the screen is.
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
fn bar_span(row: Rect) -> (u16, u16) {
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

/// Draws the whole screen.
pub fn render(frame: &mut Frame, tuner: &Tuner, theme: &Theme) {
    let area = frame.area();
    let areas = layout(area);
    render_header(frame, areas.header, tuner, theme);
    render_sliders(frame, areas.sliders, tuner, theme);
    render_help_text(frame, areas.help_text, tuner, theme);
    render_metrics(frame, areas.metrics, tuner, theme);
    if !areas.chart.is_empty() {
        render_chart(frame, areas.chart, tuner, theme);
    }
    render_status(frame, areas.status, tuner, theme);
    render_footer(frame, areas.footer, tuner, theme);
    match &tuner.mode() {
        Mode::Help => render_help(frame, area, theme),
        Mode::Picker { selected } => render_picker(frame, area, tuner, *selected, theme),
        Mode::History { selected } => history::render(frame, area, tuner, *selected, theme),
        Mode::Map => map::render(frame, area, tuner, theme),
        Mode::Normal | Mode::Input { .. } => {}
    }
}

fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest)
}

fn render_header(frame: &mut Frame, area: Rect, tuner: &Tuner, theme: &Theme) {
    let (dot, state, style) = match &tuner.connection() {
        Connection::Connecting => ("○", "connecting".to_string(), theme.pending),
        Connection::Connected if tuner.in_flight() => ("●", "saving".to_string(), theme.pending),
        Connection::Connected => ("●", "connected".to_string(), theme.good),
        Connection::Failing(reason) => ("✕", reason.clone(), theme.bad),
    };
    let impulse = tuner
        .impulse()
        .map_or_else(|| "loading…".into(), |i| format!("#{} {}", i.id, i.name));
    let width = area.width as usize;
    let state = format!("{dot} {state}");
    // What gives way when the line is short: the project, then the host, then the impulse.
    let mut host = host_of(tuner.host()).to_string();
    let used = |impulse: &str, host: &str| {
        10 + impulse.chars().count()
            + state.chars().count()
            + if host.is_empty() {
                0
            } else {
                host.chars().count() + 3
            }
            + 3
    };
    if used(&impulse, &host) > width {
        host.clear();
    }
    let impulse = truncate(&impulse, width.saturating_sub(used("", &host)));
    let project = match tuner.project() {
        Some(ProjectRef {
            id,
            name: Some(name),
        }) => format!("{name} ({id})"),
        _ => String::new(),
    };
    let project = truncate(&project, width.saturating_sub(used(&impulse, &host) + 3));
    let mut spans = vec![
        Span::styled(" ei-tune ", theme.title),
        Span::raw(" "),
        Span::styled(impulse, theme.strong),
        Span::styled(" │ ", theme.dim),
    ];
    if project.chars().count() > 3 {
        spans.push(Span::raw(project));
        spans.push(Span::styled(" │ ", theme.dim));
    }
    if !host.is_empty() {
        spans.push(Span::styled(host, theme.dim));
        spans.push(Span::styled(" │ ", theme.dim));
    }
    spans.push(Span::styled(state, style));
    let line = Line::from(spans);
    frame.render_widget(Rows::new(&[line]), area);
}

fn render_sliders(frame: &mut Frame, area: Rect, tuner: &Tuner, theme: &Theme) {
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
            Row::Block(i) => {
                let s = &tuner.sliders()[i];
                Line::from(vec![
                    Span::styled(s.block_title.clone(), theme.strong),
                    Span::styled(
                        format!(" · {} · block {}", s.block_type, s.block_id),
                        theme.dim,
                    ),
                ])
            }
            Row::Label(i) => label_line(tuner, i, rect.width, theme),
            Row::Unreadable(i) => {
                let u = &tuner.unreadable()[i];
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

fn label_line<'a>(tuner: &Tuner, i: usize, width: u16, theme: &Theme) -> Line<'a> {
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
fn options_line<'a>(s: &Slider, options: &[DropdownOption], row: Rect, theme: &Theme) -> Line<'a> {
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
fn bar_cells(
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
fn render_cells(buf: &mut Buffer, row: Rect, start: u16, cells: &[(char, Style)]) {
    let row = row.intersection(buf.area);
    for (x, (symbol, style)) in (start..row.right()).zip(cells) {
        buf[(x, row.y)].set_char(*symbol).set_style(*style);
    }
}

/// `text` in lines of at most `width` characters, broken between words where it can be.
fn wrapped(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let mut word = word.to_string();
        loop {
            let used = line.chars().count();
            let needed = word.chars().count() + usize::from(used > 0);
            if used + needed <= width {
                if used > 0 {
                    line.push(' ');
                }
                line.push_str(&word);
                break;
            }
            if used > 0 {
                lines.push(std::mem::take(&mut line));
                continue;
            }
            // A word longer than a line is cut where the line ends.
            let head: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            lines.push(head);
            if word.is_empty() {
                break;
            }
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// At most `width` characters, with `…` where cut; server text is made safe to draw
/// (control and line-breaking characters become spaces) on the way.
fn truncate(text: &str, width: usize) -> String {
    let text = crate::text::clean(text);
    if text.chars().count() <= width {
        return text;
    }
    if width == 0 {
        return String::new();
    }
    let mut out: String = text.chars().take(width - 1).collect();
    out.push('…');
    out
}

fn render_help_text(frame: &mut Frame, area: Rect, tuner: &Tuner, theme: &Theme) {
    let Some(s) = tuner.selected_slider() else {
        return;
    };
    let mut text = s.help_text.clone();
    if let (Some(scale), Some(suggested)) = (s.scale(), s.suggested) {
        text.push_str(&format!(" Suggested: {}.", scale.format(suggested)));
    }
    if let Some(scale) = s.scale() {
        text.push_str(&format!(
            " Range {}–{}, steps {} / {}.",
            scale.format(scale.min),
            scale.format(scale.max),
            scale.format(scale.fine),
            scale.format(scale.coarse)
        ));
    }
    let help = Paragraph::new(Line::styled(text, theme.dim)).wrap(Wrap { trim: true });
    frame.render_widget(help, area);
}

fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "–".into(), |v| format!("{:.1} %", v * 100.0))
}

fn render_metrics(frame: &mut Frame, area: Rect, tuner: &Tuner, theme: &Theme) {
    let m = &tuner.metrics();
    // Where the figures come from shows in the title: a title is never cut away.
    let kept = tuner.preview().scores_from.is_some_and(|f| f.is_kept());
    let title = match (m.stale.is_some(), kept, tuner.saved_from_scores()) {
        (_, true, _) => " Model testing (stale, kept scores) ",
        (true, false, true) => " Model testing (stale, from scores) ",
        (true, false, false) => " Model testing (stale) ",
        (false, ..) => " Model testing ",
    };
    let block = Block::bordered()
        .title(title)
        .border_style(if m.stale.is_some() {
            theme.warn
        } else {
            theme.border
        });
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut lines: Vec<Line> = Vec::new();
    if let Some(job) = tuner.job() {
        lines.push(Line::styled(
            format!(
                "regenerating: job {} {} {:.1} s",
                job.id.map_or_else(|| "…".into(), |id| id.to_string()),
                job.state,
                job.elapsed.as_secs_f64()
            ),
            theme.pending,
        ));
    }
    let width = inner.width as usize;
    // Explanations are wrapped, not cut: they are what the user needs to read.
    let note = |lines: &mut Vec<Line>, text: String, style: Style| {
        lines.extend(
            wrapped(&text, width)
                .into_iter()
                .map(|l| Line::styled(l, style)),
        );
    };
    if let Some(reason) = &m.stale {
        note(&mut lines, format!("stale: {reason}"), theme.warn);
    }
    if let Some(e) = &m.error {
        note(
            &mut lines,
            format!("could not read results: {e}"),
            theme.bad,
        );
    }
    match &tuner.preview().source {
        PreviewSource::Loading { loaded, total } => lines.push(Line::styled(
            if *total > 0 {
                format!("preview: loading results {loaded} / {total}")
            } else {
                "preview: loading results…".to_string()
            },
            theme.dim,
        )),
        PreviewSource::Unavailable(why) => note(&mut lines, format!("preview: {why}"), theme.dim),
        PreviewSource::Ready(_) => {
            if let Some(line) = reading_line(tuner.preview()) {
                note(&mut lines, line, theme.dim);
            }
        }
    }
    let session_line = |lines: &mut Vec<Line>| {
        (m.accuracy_history.len() > 1).then(|| {
            lines.push(Line::styled("session", theme.dim));
            lines.len() - 1
        })
    };
    let session_row = match (&tuner.preview().displayed, &tuner.preview().source) {
        (Some(preview), PreviewSource::Ready(set)) => {
            if let (Some(d), Some(floor)) = (
                &preview.detection,
                set.detection.as_ref().and_then(|d| d.floor),
            ) && d.below_floor
            {
                note(
                    &mut lines,
                    format!(
                        "incomplete: no detection under {floor}, the lowest score stored, \
                         is known"
                    ),
                    theme.warn,
                );
            }
            let saved = tuner.preview().saved.as_ref();
            figures_table(
                &mut lines,
                preview,
                ("saved", saved),
                (set.anomaly_label.is_some(), tuner.config().costs),
                theme,
            );
            if let Some(line) = scores_line(tuner) {
                note(&mut lines, line, theme.dim);
            }
            let row = session_line(&mut lines);
            let rows_left = (inner.height as usize).saturating_sub(lines.len() + 1);
            detail_table(&mut lines, preview, set, rows_left, width, theme);
            row
        }
        _ => {
            server_figures(&mut lines, tuner, inner, theme);
            session_line(&mut lines)
        }
    };
    frame.render_widget(Rows::new(&lines), inner);
    // The saved accuracy across the session, after its label.
    if let Some(row) = session_row
        && inner.width > 10
        && (row as u16) < inner.height
    {
        let width = (inner.width - 8).min(40);
        let data: Vec<u64> = m
            .accuracy_history
            .iter()
            .rev()
            .take(width as usize)
            .rev()
            .map(|a| (a * 1000.0).round() as u64)
            .collect();
        // Bars start just below the session's lowest accuracy, so that changes show.
        let floor = data.iter().copied().min().unwrap_or(0).saturating_sub(5);
        let scaled: Vec<u64> = data.iter().map(|v| v - floor).collect();
        let rect = Rect::new(inner.x + 8, inner.y + row as u16, width, 1);
        frame.render_widget(Sparkline::default().data(&scaled).style(theme.accent), rect);
    }
}

/// Where the saved column comes from when Studio's own figures are stale or withheld: the
/// scores, read from Studio when (kept from an earlier session, or read before its figures
/// went stale).
fn scores_line(tuner: &Tuner) -> Option<String> {
    let from = tuner.preview().scores_from?;
    (from.is_kept() || tuner.metrics().stale.is_some()).then(|| {
        format!(
            "saved: from the scores read {} UTC",
            crate::metrics::utc_minutes(from.read_at())
        )
    })
}

/// While a ready preview's results are read again: from the cache and being checked, or
/// being refreshed.
fn reading_line(preview: &Preview) -> Option<String> {
    let progress = match preview.reading {
        Some((loaded, total)) if total > 0 => format!(" {loaded} / {total}"),
        _ => String::new(),
    };
    match (preview.cached, preview.reading.is_some()) {
        (true, true) => Some(format!("preview: cached, checking{progress}")),
        (true, false) => Some("preview: cached, not confirmed by Studio".into()),
        (false, true) => Some(format!("preview: reading results again{progress}")),
        (false, false) => None,
    }
}

/// The server's figures alone (no preview possible).
fn server_figures(lines: &mut Vec<Line>, tuner: &Tuner, inner: Rect, theme: &Theme) {
    let m = &tuner.metrics();
    let Some(summary) = &m.summary else {
        let text = if m.loading {
            "Loading model testing results…"
        } else if m.none {
            "No model testing results for this impulse yet: run model testing in Studio."
        } else {
            ""
        };
        lines.push(Line::styled(text, theme.dim));
        return;
    };
    let a = &summary.accuracy;
    let accuracy_style = if m.stale.is_some() {
        // Figures of thresholds no longer held: said so, before them.
        lines.push(Line::styled(
            "Studio's last figures, at the thresholds before:",
            theme.dim,
        ));
        theme.dim
    } else {
        theme.value
    };
    lines.push(Line::from(vec![
        Span::raw("accuracy "),
        Span::styled(
            percent(a.accuracy()),
            accuracy_style.add_modifier(Modifier::BOLD),
        ),
        Span::styled(
            format!(
                "  {} good, {} bad",
                a.total_summary.good, a.total_summary.bad
            ),
            theme.dim,
        ),
    ]));
    lines.push(Line::raw(format!(
        "balanced {}",
        percent(a.balanced_accuracy())
    )));
    if a.anomaly_accuracy_score.is_some() {
        let caught = format!("anomalies caught {}", percent(a.anomaly_accuracy_score));
        let passed = format!("normal passed {}", percent(a.no_anomaly_accuracy_score));
        if caught.len() + passed.len() + 2 <= inner.width as usize {
            lines.push(Line::raw(format!("{caught}  {passed}")));
        } else {
            lines.push(Line::raw(caught));
            lines.push(Line::raw(passed));
        }
    }
    let per_line = ((inner.width as usize) / 18).max(1);
    let cells: Vec<String> = a
        .all_labels
        .iter()
        .map(|label| {
            let g = a.summary_per_class.get(label).copied().unwrap_or_default();
            format!("{}: {}/{}", truncate(label, 8), g.good, g.good + g.bad)
        })
        .collect();
    lines.push(Line::raw(""));
    for chunk in cells.chunks(per_line) {
        lines.push(Line::raw(chunk.join("  ")));
    }
}

/// How a figure of the figures table reads.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Shown {
    /// A rate, as a percentage; differences in points.
    Percent,
    /// A score such as F1, to three decimals.
    Ratio,
    /// A count of objects.
    Count,
}

impl Shown {
    fn value(self, v: Option<f64>) -> String {
        match v {
            Some(v) => match self {
                Self::Percent => format!("{:.1} %", v * 100.0),
                Self::Ratio => format!("{v:.3}"),
                Self::Count => format!("{v}"),
            },
            None => "–".into(),
        }
    }

    fn delta(self, saved: Option<f64>, preview: Option<f64>) -> String {
        match (saved, preview) {
            (Some(s), Some(p)) if (p - s).abs() > 1e-9 => match self {
                Self::Percent => format!("{:+.1}", (p - s) * 100.0),
                Self::Ratio => format!("{:+.3}", p - s),
                Self::Count => format!("{:+}", p - s),
            },
            (Some(_), Some(_)) => "=".into(),
            _ => String::new(),
        }
    }
}

/// Saved and preview side by side, with the difference; the expected cost per window when
/// the user gave costs.
fn figures_table<'a>(
    lines: &mut Vec<Line<'a>>,
    preview: &Summary,
    (column, saved): (&str, Option<&Summary>),
    (anomalies, costs): (bool, Option<Costs>),
    theme: &Theme,
) {
    type Figure<'f> = Box<dyn Fn(&Summary) -> Option<f64> + 'f>;
    let mut rows: Vec<(&str, Figure, Shown)> = if let Some(d) = &preview.detection {
        let all = |f: fn(&ClassFigures) -> Option<f64>| -> Figure {
            Box::new(move |s: &Summary| f(&s.detection.as_ref()?.all))
        };
        let mut rows: Vec<(&str, Figure, Shown)> = vec![
            ("precision", all(ClassFigures::precision), Shown::Percent),
            ("recall", all(ClassFigures::recall), Shown::Percent),
            ("F1", all(ClassFigures::f1), Shown::Ratio),
        ];
        if d.matching == Matching::Boxes {
            rows.push(("mAP@0.5", all(|c| c.ap50), Shown::Ratio));
            rows.push(("mAP", all(|c| c.ap), Shown::Ratio));
        }
        let count = |f: fn(&ClassFigures) -> u32| -> Figure {
            Box::new(move |s: &Summary| Some(f64::from(f(&s.detection.as_ref()?.all))))
        };
        rows.push(("true pos.", count(|c| c.true_positives), Shown::Count));
        rows.push(("false pos.", count(|c| c.false_positives), Shown::Count));
        rows.push(("missed", count(ClassFigures::missed), Shown::Count));
        rows
    } else {
        vec![
            ("accuracy", Box::new(Summary::accuracy), Shown::Percent),
            (
                "balanced",
                Box::new(Summary::balanced_accuracy),
                Shown::Percent,
            ),
            (
                "macro F1",
                Box::new(Summary::outcome_macro_f1),
                Shown::Ratio,
            ),
        ]
    };
    if preview.macro_scores().is_some() {
        rows.push((
            "uncertain",
            Box::new(Summary::uncertain_rate),
            Shown::Percent,
        ));
    }
    if anomalies {
        rows.push((
            "false pos.",
            Box::new(Summary::false_positive_rate),
            Shown::Percent,
        ));
        rows.push((
            "false neg.",
            Box::new(Summary::false_negative_rate),
            Shown::Percent,
        ));
    }
    if let Some(costs) = costs {
        rows.push((
            "cost/window",
            Box::new(move |s: &Summary| s.cost_per_window(&costs)),
            Shown::Ratio,
        ));
    }
    lines.push(Line::styled(
        format!("{:<11}{:>9}{:>9}{:>7}", "", column, "preview", "Δ"),
        theme.dim,
    ));
    for (name, figure, shown) in rows {
        let s = saved.and_then(&figure);
        let p = figure(preview);
        lines.push(Line::from(vec![
            Span::raw(format!("{name:<11}")),
            Span::raw(format!("{:>9}", shown.value(s))),
            Span::styled(format!("{:>9}", shown.value(p)), theme.value),
            Span::styled(format!("{:>7}", shown.delta(s, p)), theme.dim),
        ]));
    }
}

/// Per-class precision, recall, F1 and AP@0.5 of object detection.
fn detection_classes<'a>(
    lines: &mut Vec<Line<'a>>,
    figures: &DetectionSummary,
    labels: &[String],
    rows_left: usize,
    theme: &Theme,
) {
    if labels.is_empty() || rows_left <= labels.len() + 1 {
        return;
    }
    let label_width = labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(5, 12);
    let show = |v: Option<f64>| v.map_or_else(|| "–".to_string(), |v| format!("{v:.3}"));
    // FOMO has no average precision.
    let boxes = figures.matching == Matching::Boxes;
    lines.push(Line::raw(""));
    let mut head = format!(
        "{:<label_width$} {:>6} {:>6} {:>6}",
        "class", "prec.", "recall", "F1"
    );
    if boxes {
        head.push_str(&format!(" {:>6}", "AP@.5"));
    }
    lines.push(Line::styled(head, theme.dim));
    for (label, c) in labels.iter().zip(&figures.per_class) {
        let mut row = format!(
            "{:<label_width$} {:>6} {:>6} {:>6}",
            truncate(label, label_width),
            show(c.precision()),
            show(c.recall()),
            show(c.f1()),
        );
        if boxes {
            row.push_str(&format!(" {:>6}", show(c.ap50)));
        }
        lines.push(Line::raw(row));
    }
}

/// Per-class precision, recall and F1, then the confusion matrix, as far as room allows.
fn detail_table<'a>(
    lines: &mut Vec<Line<'a>>,
    preview: &Summary,
    set: &TestSet,
    rows_left: usize,
    width: usize,
    theme: &Theme,
) {
    if let Some(figures) = &preview.detection {
        return detection_classes(lines, figures, &set.labels, rows_left, theme);
    }
    let classes = &set.labels[..set.class_count];
    let label_width = set
        .labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 12);
    let mut left = rows_left;
    if !classes.is_empty() && left > classes.len() + 1 {
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            format!(
                "{:<label_width$} {:>6} {:>6} {:>6}",
                "class", "prec.", "recall", "F1"
            ),
            theme.dim,
        ));
        for (c, label) in classes.iter().enumerate() {
            lines.push(Line::raw(format!(
                "{:<label_width$} {:>6.3} {:>6.3} {:>6.3}",
                truncate(label, label_width),
                preview.precision(c),
                preview.recall(c),
                preview.f1(c)
            )));
        }
        left = left.saturating_sub(classes.len() + 2);
    }
    let mut columns: Vec<(String, Predicted)> = set
        .labels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.clone(), Predicted::Label(i as u16)))
        .collect();
    if set.has_classifier() {
        columns.push((UNCERTAIN.to_string(), Predicted::Uncertain));
    }
    let cell = |name: &str| name.chars().count().clamp(3, 7) + 1;
    let matrix_width = label_width + columns.iter().map(|(c, _)| cell(c)).sum::<usize>();
    if matrix_width <= width && left > set.labels.len() + 1 {
        lines.push(Line::raw(""));
        let mut head = format!("{:<label_width$}", "exp\\pred");
        for (c, _) in &columns {
            let w = cell(c);
            head.push_str(&format!("{:>w$}", truncate(c, w - 1)));
        }
        lines.push(Line::styled(head, theme.dim));
        for (r, label) in set.labels.iter().enumerate() {
            let mut row = format!("{:<label_width$}", truncate(label, label_width));
            for (c, predicted) in &columns {
                let w = cell(c);
                row.push_str(&format!("{:>w$}", preview.count(r, *predicted)));
            }
            lines.push(Line::raw(row));
        }
    }
}

fn render_chart(frame: &mut Frame, area: Rect, tuner: &Tuner, theme: &Theme) {
    let slider = tuner.selected_slider();
    let Some((sweep, slider)) = tuner.preview().sweep.as_ref().zip(slider) else {
        let block = Block::bordered()
            .title(" Sweep ")
            .border_style(theme.border);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let why = match &tuner.preview().source {
            PreviewSource::Ready(_) => {
                "No sweep for this threshold: it does not move the metrics \
                                       it is charted by, or it is an option."
            }
            _ => "The sweep needs the per-window results (see the preview line above).",
        };
        frame.render_widget(
            Paragraph::new(why)
                .style(theme.dim)
                .wrap(Wrap { trim: true }),
            inner,
        );
        return;
    };
    let styles = [theme.accent, theme.good, theme.warn];
    let curves: Vec<Vec<(f64, f64)>> = sweep
        .series
        .iter()
        .map(|serie| {
            sweep
                .xs
                .iter()
                .zip(&serie.values)
                .filter_map(|(x, v)| v.map(|v| (*x, v)))
                .collect()
        })
        .collect();
    let marker = |x: f64| vec![(x, 0.0), (x, 1.0)];
    let value = slider.value.as_number().map(marker);
    let saved = slider
        .saved
        .as_number()
        .filter(|_| slider.is_dirty())
        .map(marker);
    let optimum = sweep.optimum.map(marker);
    let detection = match &tuner.preview().source {
        PreviewSource::Ready(set) => set.detection.as_ref(),
        _ => None,
    };
    let floor = detection.and_then(|d| d.floor).map(marker);
    let mut datasets: Vec<Dataset> = sweep
        .series
        .iter()
        .zip(&curves)
        .zip(styles)
        .map(|((serie, points), style)| line_dataset(serie.name, style, points))
        .collect();
    for (points, name, style) in [
        (&floor, "floor", theme.bad),
        (&optimum, "optimum (o)", theme.suggested),
        (&saved, "saved", theme.saved_marker),
        (&value, "value", theme.value),
    ] {
        if let Some(points) = points {
            datasets.push(line_dataset(name, style, points));
        }
    }
    let (min, max) = slider.scale().map_or((0.0, 1.0), |s| (s.min, s.max));
    let objective = match detection.map(|d| d.matching) {
        Some(Matching::Boxes) => "best F1, IoU ≥ 0.5".to_string(),
        Some(Matching::Centroids) => "best F1, centroids".to_string(),
        None => sweep.objective.name(),
    };
    let chart = Chart::new(datasets)
        .block(
            Block::bordered()
                .title(format!(" {} · {objective} (O) ", slider.id()))
                .border_style(theme.border),
        )
        .x_axis(
            Axis::default()
                .bounds([min, max])
                .style(theme.dim)
                .labels(vec![
                    Span::raw(slider.display(&ThresholdValue::Number(min))),
                    Span::raw(slider.display(&ThresholdValue::Number(max))),
                ]),
        )
        .y_axis(
            Axis::default()
                .bounds([0.0, 1.0])
                .style(theme.dim)
                .labels(vec![Span::raw("0"), Span::raw("1")]),
        )
        .legend_position(Some(LegendPosition::TopRight))
        .hidden_legend_constraints((Constraint::Percentage(60), Constraint::Percentage(80)));
    frame.render_widget(chart, area);
}

fn line_dataset<'a>(name: &'a str, style: Style, points: &'a [(f64, f64)]) -> Dataset<'a> {
    Dataset::default()
        .name(name)
        .marker(symbols::Marker::Braille)
        .graph_type(GraphType::Line)
        .style(style)
        .data(points)
}

/// The status pane's words for a regeneration status: what it means, what to do.
pub fn explain(status: &RegenerateStatus) -> String {
    match status {
        RegenerateStatus::Regenerated => "saved; the figures are the new results".into(),
        RegenerateStatus::NotRegenerated => {
            "saved; results not regenerated (none existed, or the model needs a full test run)"
                .into()
        }
        RegenerateStatus::StartedJob => "saved; a job is regenerating the results".into(),
        RegenerateStatus::RequiresJob => "saved; results stale: press g to regenerate".into(),
        RegenerateStatus::Other(_) => status.explanation(),
    }
}

fn format_at(at: Duration) -> String {
    let secs = at.as_secs();
    format!(
        "{:02}:{:02}.{}",
        secs / 60,
        secs % 60,
        at.subsec_millis() / 100
    )
}

fn status_line<'a>(entry: &StatusEntry, theme: &Theme) -> Line<'a> {
    let mut spans = vec![
        Span::styled(format_at(entry.at), theme.dim),
        Span::raw("  "),
        Span::raw(entry.sent.join(" ")),
        Span::raw("  "),
    ];
    if let Some(latency) = entry.latency {
        spans.push(Span::styled(
            if latency < Duration::from_millis(1) {
                "<1 ms  ".to_string()
            } else {
                format!("{} ms  ", latency.as_millis())
            },
            theme.dim,
        ));
    }
    match &entry.outcome {
        StatusOutcome::Pending => spans.push(Span::styled("sending…", theme.pending)),
        StatusOutcome::Saved(r) => {
            let status = &r.regenerate_model_testing_status;
            let style = match status {
                RegenerateStatus::Regenerated => theme.good,
                RegenerateStatus::NotRegenerated | RegenerateStatus::Other(_) => theme.info,
                RegenerateStatus::StartedJob => theme.accent,
                RegenerateStatus::RequiresJob => theme.warn,
            };
            spans.push(Span::styled(
                crate::text::clean(status.as_str()),
                style.add_modifier(Modifier::BOLD),
            ));
            spans.push(Span::raw(format!(" {}", explain(status))));
            spans.push(Span::styled(
                format!(
                    " · had results: {}",
                    if r.had_model_testing_results {
                        "yes"
                    } else {
                        "no"
                    }
                ),
                theme.dim,
            ));
            if let Some(job) = r.regenerate_model_testing_results_job_id {
                spans.push(Span::styled(format!(" · job {job}"), theme.dim));
            }
        }
        StatusOutcome::Held(why) => spans.push(Span::styled(why.clone(), theme.warn)),
        StatusOutcome::Failed(e) => spans.push(Span::styled(format!("failed: {e}"), theme.bad)),
    }
    Line::from(spans)
}

fn render_status(frame: &mut Frame, area: Rect, tuner: &Tuner, theme: &Theme) {
    let block = Block::bordered()
        .title(" Status ")
        .border_style(theme.border);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let lines: Vec<Line> = if tuner.status().is_empty() {
        vec![Line::styled(
            "Changes are saved to Studio a moment after you stop moving a slider.",
            theme.dim,
        )]
    } else {
        tuner
            .status()
            .iter()
            .take(inner.height as usize)
            .map(|e| status_line(e, theme))
            .collect()
    };
    frame.render_widget(Rows::new(&lines), inner);
}

fn render_footer(frame: &mut Frame, area: Rect, tuner: &Tuner, theme: &Theme) {
    let line = match &tuner.mode() {
        Mode::Input { text, error } => {
            let name = tuner.selected_slider().map_or_else(String::new, Slider::id);
            let mut spans = vec![
                Span::styled(format!(" {name} = "), theme.strong),
                Span::styled(format!("{text}▏"), theme.value),
                Span::styled(format!("  {}", keymap::footer(Screen::Editor)), theme.dim),
            ];
            if let Some(e) = error {
                spans.push(Span::styled(format!("  ✕ {e}"), theme.bad));
            }
            Line::from(spans)
        }
        _ => match tuner.notice() {
            Some(notice) => Line::styled(format!(" {notice}"), theme.pending),
            None => Line::styled(
                format!(" {}", keymap::footer(Screen::of(tuner.mode()))),
                theme.dim,
            ),
        },
    };
    frame.render_widget(Rows::new(&[line]), area);
}

fn popup(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    )
}

fn render_help(frame: &mut Frame, area: Rect, theme: &Theme) {
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

fn render_picker(frame: &mut Frame, area: Rect, tuner: &Tuner, selected: usize, theme: &Theme) {
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
