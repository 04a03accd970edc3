//! The sweep chart: each figure across the selected threshold's range.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::symbols;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, LegendPosition, Paragraph, Wrap};

use super::theme::Theme;
use crate::api::models::ThresholdValue;
use crate::metrics::detection::Matching;
use crate::metrics::suggest::Figures;
use crate::metrics::sweep::OptionSweep;
use crate::tuner::{PreviewSource, Slider, Tuner};

pub(super) fn render_chart(frame: &mut Frame, area: Rect, tuner: &Tuner, theme: &Theme) {
    let slider = tuner.selected_slider();
    if let Some((options, slider)) = tuner.preview().option_sweep().zip(slider) {
        return render_options(frame, area, options, (slider, tuner), theme);
    }
    let Some((sweep, slider)) = tuner.preview().sweep().zip(slider) else {
        return render_no_sweep(frame, area, tuner, theme);
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
    let detection = tuner.preview().set().and_then(|set| set.detection.as_ref());
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
    let title = format!(" {} · {objective} (O) ", slider.id());
    let x_labels = [min, max].map(|v| slider.display(&ThresholdValue::Number(v)));
    let chart = chart(datasets, title, (min, max), x_labels, theme);
    frame.render_widget(chart, area);
}

/// The visual anomaly aggregation, option by option: the objective's score at the anomaly
/// threshold shown and at its best value for the option (each option puts the scores on
/// its own scale), and the anomaly figures where they fit; `●` the option shown, `*`
/// where `o` goes.
fn render_options(
    frame: &mut Frame,
    area: Rect,
    swept: &OptionSweep,
    (slider, tuner): (&Slider, &Tuner),
    theme: &Theme,
) {
    // The anomaly threshold the options are judged with (as the tuner picks it).
    let anomaly = swept
        .points
        .iter()
        .any(|p| p.best_with.is_some())
        .then(|| tuner.anomaly_partner(slider.block_id))
        .flatten()
        .map(|i| &tuner.sliders()[i]);
    let inner_width = usize::from(area.width.saturating_sub(2));
    let objective = &swept.objective;
    let mut title = format!(" {} · {} (O) ", slider.id(), objective.name());
    if title.chars().count() > inner_width {
        // The objective, cut where it must be: `(O)` says how to change it.
        let name = objective.name();
        let room = inner_width.saturating_sub(6);
        title = if name.chars().count() > room {
            let cut: String = name.chars().take(room.saturating_sub(1)).collect();
            format!(" {cut}… (O) ")
        } else {
            format!(" {name} (O) ")
        };
    }
    let block = Block::bordered().title(title).border_style(theme.border);
    let mut lines = option_lines(swept, slider, anomaly, inner_width, theme);
    lines.push(Line::styled(
        match (swept.best, anomaly) {
            (Some(_), Some(_)) => "o: to * (and its best); O: objective",
            (Some(_), None) => "o: to *; O: objective",
            (None, _) => "no option meets the objective's bound; O: objective",
        },
        theme.dim,
    ));
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}

/// Each option's lines: its score at the threshold shown, at its best, and the figures.
fn option_lines<'a>(
    swept: &OptionSweep,
    slider: &Slider,
    anomaly: Option<&Slider>,
    inner_width: usize,
    theme: &Theme,
) -> Vec<Line<'a>> {
    let objective = &swept.objective;
    let score_shown = |score: Option<f64>| {
        score.map_or_else(|| "outside the bound".into(), |v| objective.value_shown(v))
    };
    let mut lines = Vec::new();
    for (i, point) in swept.points.iter().enumerate() {
        let is = |value: &ThresholdValue| *value == ThresholdValue::Text(point.value.clone());
        let (mark, style) = match (swept.best == Some(i), is(&slider.value)) {
            (true, _) => ("*", theme.suggested),
            (false, true) => ("●", theme.value),
            (false, false) => (" ", Style::default()),
        };
        let at = anomaly.map_or_else(String::new, |a| format!(" at {}", a.display(&a.value)));
        let shown = if is(&slider.value) { " (shown)" } else { "" };
        let saved = if is(&slider.saved) { " (saved)" } else { "" };
        lines.push(Line::from(vec![
            Span::styled(format!("{mark} "), style),
            Span::styled(crate::text::clean(&point.value), style),
            Span::raw(format!("  {}{at}{shown}{saved}", score_shown(point.score))),
        ]));
        let figures = Figures::of(&point.summary, None);
        let rate = |v: Option<f64>| v.map_or_else(|| "–".into(), |v| format!("{:.1} %", v * 100.0));
        let line = format!(
            "  accuracy {} · missed {} · false alarms {}",
            rate(figures.accuracy),
            rate(figures.missed_anomaly_rate),
            rate(figures.false_alarm_rate)
        );
        // Where it fits; else the model testing pane has them, at the option saved and the
        // one shown.
        if line.chars().count() <= inner_width {
            lines.push(Line::styled(line, theme.dim));
        }
        if let (Some(a), Some((x, score))) = (anomaly, point.best_with) {
            lines.push(Line::raw(format!(
                "  best {} at {}",
                objective.value_shown(score),
                a.display(&ThresholdValue::Number(x))
            )));
        }
    }
    lines
}

/// Why there is no sweep to chart.
fn render_no_sweep(frame: &mut Frame, area: Rect, tuner: &Tuner, theme: &Theme) {
    let block = Block::bordered()
        .title(" Sweep ")
        .border_style(theme.border);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let why = match tuner.preview().source() {
        PreviewSource::Ready(_) if tuner.preview().interrupted() => "Computing the sweep…",
        PreviewSource::Ready(_) => {
            "No sweep for this threshold: it does not move the figures \
             the chart shows, or its options cannot be evaluated from the scores."
        }
        _ => "The sweep needs the per-window results (see the preview line above).",
    };
    frame.render_widget(
        Paragraph::new(why)
            .style(theme.dim)
            .wrap(Wrap { trim: true }),
        inner,
    );
}

/// The chart of the curves and markers, the threshold's range across.
fn chart<'a>(
    datasets: Vec<Dataset<'a>>,
    title: String,
    (min, max): (f64, f64),
    [low, high]: [String; 2],
    theme: &Theme,
) -> Chart<'a> {
    Chart::new(datasets)
        .block(Block::bordered().title(title).border_style(theme.border))
        .x_axis(
            Axis::default()
                .bounds([min, max])
                .style(theme.dim)
                .labels(vec![Span::raw(low), Span::raw(high)]),
        )
        .y_axis(
            Axis::default()
                .bounds([0.0, 1.0])
                .style(theme.dim)
                .labels(vec![Span::raw("0"), Span::raw("1")]),
        )
        .legend_position(Some(LegendPosition::TopRight))
        .hidden_legend_constraints((Constraint::Percentage(60), Constraint::Percentage(80)))
}

pub(super) fn line_dataset<'a>(
    name: &'a str,
    style: Style,
    points: &'a [(f64, f64)],
) -> Dataset<'a> {
    Dataset::default()
        .name(name)
        .marker(symbols::Marker::Braille)
        .graph_type(GraphType::Line)
        .style(style)
        .data(points)
}
