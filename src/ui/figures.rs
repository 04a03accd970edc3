//! The metrics pane: Studio's model testing figures beside the local preview.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Sparkline};

use super::rows::Rows;
use super::text::{percent, truncate, wrapped};
use super::theme::Theme;
use crate::api::models::ModelTestingAccuracy;
use crate::metrics::detection::{ClassFigures, DetectionSummary, Matching};
use crate::metrics::objective::Costs;
use crate::metrics::{Predicted, Summary, TestSet, UNCERTAIN};
use crate::tuner::{Preview, PreviewSource, Tuner};

pub(super) fn render_metrics(frame: &mut Frame, area: Rect, tuner: &Tuner, theme: &Theme) {
    let m = &tuner.metrics();
    let block = metrics_block(tuner, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let mut lines = status_notes(tuner, width, theme);
    let note = note_at(width);
    let session_line = |lines: &mut Vec<Line>| {
        (m.accuracy_history.len() > 1).then(|| {
            lines.push(Line::styled("session", theme.dim));
            lines.len() - 1
        })
    };
    let session_row = match (tuner.preview().displayed(), tuner.preview().set()) {
        (Some(preview), Some(set)) => {
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
            let saved = tuner.preview().saved();
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
    render_session(frame, inner, session_row, &m.accuracy_history, theme);
}

/// The pane's frame; where the figures come from shows in the title (a title is never
/// cut away).
fn metrics_block(tuner: &Tuner, theme: &Theme) -> Block<'static> {
    let m = tuner.metrics();
    let kept = tuner.preview().scores_from().is_some_and(|f| f.is_kept());
    let title = match (m.stale.is_some(), kept, tuner.saved_from_scores()) {
        (_, true, _) => " Model testing (stale, kept scores) ",
        (true, false, true) => " Model testing (stale, from scores) ",
        (true, false, false) => " Model testing (stale) ",
        (false, ..) => " Model testing ",
    };
    Block::bordered()
        .title(title)
        .border_style(if m.stale.is_some() {
            theme.warn
        } else {
            theme.border
        })
}

/// What stands above the figures: a job running, stale results, a failed read, where the
/// preview's scores stand.
fn status_notes(tuner: &Tuner, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let m = tuner.metrics();
    let mut lines: Vec<Line> = Vec::new();
    let note = note_at(width);
    if let Some(job) = tuner.job() {
        lines.push(Line::styled(
            format!(
                "regenerating: job {} {} {:.1} s",
                job.id().map_or_else(|| "…".into(), |id| id.to_string()),
                job.state(),
                job.elapsed().as_secs_f64()
            ),
            theme.pending,
        ));
    }
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
    match tuner.preview().source() {
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
            if let Some(why) = tuner.preview().withheld() {
                note(&mut lines, format!("preview: {why}"), theme.warn);
            }
            if let Some(line) = reading_line(tuner.preview()) {
                note(&mut lines, line, theme.dim);
            }
        }
    }
    lines
}

/// Adds an explanation, wrapped to `width`, not cut: it is what the user needs to read.
fn note_at(width: usize) -> impl Fn(&mut Vec<Line<'static>>, String, Style) {
    move |lines, text, style| {
        lines.extend(
            wrapped(&text, width)
                .into_iter()
                .map(|l| Line::styled(l, style)),
        );
    }
}

/// The saved accuracy across the session, after its label at `row`.
fn render_session(
    frame: &mut Frame,
    inner: Rect,
    row: Option<usize>,
    history: &[f64],
    theme: &Theme,
) {
    if let Some(row) = row
        && inner.width > 10
        && (row as u16) < inner.height
    {
        let width = (inner.width - 8).min(40);
        let data: Vec<u64> = history
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
pub(super) fn scores_line(tuner: &Tuner) -> Option<String> {
    let from = tuner.preview().scores_from()?;
    (from.is_kept() || tuner.metrics().stale.is_some()).then(|| {
        format!(
            "saved: from the scores read {} UTC",
            crate::metrics::utc_minutes(from.read_at())
        )
    })
}

/// While a ready preview's results are read again: from the cache and being checked, or
/// being refreshed.
pub(super) fn reading_line(preview: &Preview) -> Option<String> {
    let progress = match preview.reading() {
        Some((loaded, total)) if total > 0 => format!(" {loaded} / {total}"),
        _ => String::new(),
    };
    match (preview.is_cached(), preview.reading().is_some()) {
        (true, true) => Some(format!("preview: cached, checking{progress}")),
        (true, false) => Some("preview: cached, not confirmed by Studio".into()),
        (false, true) => Some(format!("preview: reading results again{progress}")),
        (false, false) => None,
    }
}

/// The server's figures alone (no preview possible).
pub(super) fn server_figures(lines: &mut Vec<Line>, tuner: &Tuner, inner: Rect, theme: &Theme) {
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
    per_class_cells(lines, a, inner.width as usize);
}

/// Each class's good of all, as many to a line as fit.
fn per_class_cells(lines: &mut Vec<Line>, a: &ModelTestingAccuracy, width: usize) {
    let per_line = (width / 18).max(1);
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
pub(super) enum Shown {
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
pub(super) fn figures_table<'a>(
    lines: &mut Vec<Line<'a>>,
    preview: &Summary,
    (column, saved): (&str, Option<&Summary>),
    (anomalies, costs): (bool, Option<Costs>),
    theme: &Theme,
) {
    let mut rows = headline_rows(preview);
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

/// A figure of a summary, as the table shows it.
type Figure<'f> = Box<dyn Fn(&Summary) -> Option<f64> + 'f>;

/// The headline figures: detection's, or classification's.
fn headline_rows(preview: &Summary) -> Vec<(&'static str, Figure<'static>, Shown)> {
    if let Some(d) = &preview.detection {
        let all = |f: fn(&ClassFigures) -> Option<f64>| -> Figure {
            Box::new(move |s: &Summary| f(&s.detection.as_ref()?.all))
        };
        let mut rows: Vec<(&'static str, Figure<'static>, Shown)> = vec![
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
    }
}

/// Per-class precision, recall, F1 and AP@0.5 of object detection.
pub(super) fn detection_classes<'a>(
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

/// Precision, recall and F1 of each outcome, as room allows; the rows left after them.
fn outcome_rows(
    lines: &mut Vec<Line<'_>>,
    preview: &Summary,
    set: &TestSet,
    rows_left: usize,
    label_width: usize,
    theme: &Theme,
) -> usize {
    // Every outcome the macro F1 averages over (the classes and the anomaly outcome), or
    // the classes alone where the pane has no room for all.
    let classes = if rows_left > set.labels.len() + 1 {
        &set.labels[..]
    } else {
        &set.labels[..set.class_count]
    };
    let mut left = rows_left;
    if !classes.is_empty() && left > classes.len() + 1 {
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            format!(
                "{:<label_width$} {:>6} {:>6} {:>6}",
                "outcome", "prec.", "recall", "F1"
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
    left
}

/// Per-class precision, recall and F1, then the confusion matrix, as far as room allows.
pub(super) fn detail_table<'a>(
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
    let label_width = set
        .labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 12);
    let left = outcome_rows(lines, preview, set, rows_left, label_width, theme);
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
