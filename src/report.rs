//! The report: one self-contained HTML file (inline CSS and SVG, no script, nothing
//! fetched) that shows why an impulse's thresholds are what they are: the thresholds, the
//! figures at the saved values, per class and as a confusion matrix, each threshold's
//! sweep, and the history of calls that set them.
//!
//! Written as polyglot markup (every element closed, every attribute quoted) so that an
//! XML parser reads it too: the tests check it is well-formed that way.

use std::fmt::Write as _;

use crate::api::client::BlockThresholds;
use crate::api::models::Impulse;
use crate::history::Entry;
use crate::metrics::detection::Matching;
use crate::metrics::suggest::{Figures, HEADLINES};
use crate::metrics::{Predicted, ScoresFrom, Summary, TestSet};

/// One threshold's sweep: its name, its values, the figures at each, the saved value.
pub struct SweepChart {
    pub name: String,
    pub xs: Vec<f64>,
    pub figures: Vec<Figures>,
    pub saved: f64,
}

/// Everything the report shows.
pub struct Report<'a> {
    pub origin: &'a str,
    pub project: u64,
    pub impulse: &'a Impulse,
    pub blocks: &'a [BlockThresholds],
    pub set: &'a TestSet,
    /// Where the scores come from: Studio, or kept while its results are stale.
    pub scores_from: ScoresFrom,
    /// At the saved thresholds.
    pub summary: &'a Summary,
    pub sweeps: &'a [SweepChart],
    /// This impulse's calls, oldest first.
    pub history: &'a [Entry],
    /// When it was written, RFC 3339.
    pub written: &'a str,
}

/// Text made safe for HTML and XML: control characters dropped, markup escaped.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in crate::text::clean(text).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Well-formed whatever a server names things.
            c if crate::text::is_noncharacter(c) => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// Past this many labels the confusion matrix (their square) is left out.
const MAX_MATRIX_LABELS: usize = 64;

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:60em;\
color:#1d2330;padding:0 1em}h1{margin-bottom:.2em}.meta{color:#5b6478}\
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #d5d9e2;\
padding:.25em .6em;text-align:right}th{text-align:left}td:first-child{text-align:left}\
thead th{background:#eef1f6}td.diag{background:#e3f4e6;font-weight:600}\
td.left{text-align:left}figure{margin:0 0 1.5em}figcaption{color:#5b6478}\
svg text{font:11px system-ui,sans-serif;fill:#1d2330}";

/// Series colours and dash patterns: told apart in colour and in print.
const SERIES: [(&str, &str); 6] = [
    ("#1f77b4", ""),
    ("#d62728", "6 3"),
    ("#2ca02c", "2 2"),
    ("#9467bd", "8 3 2 3"),
    ("#ff7f0e", "1 3"),
    ("#17becf", "10 2"),
];

pub fn render(r: &Report) -> String {
    let mut h = String::new();
    let name = esc(&r.impulse.name);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>\
         <title>ei-tune report: {name}</title><style>{STYLE}</style></head><body>\n\
         <h1>{name}</h1>\n<p class=\"meta\">Impulse {} of project {} at {} · written {} by \
         ei-tune {}</p>\n",
        r.impulse.id,
        r.project,
        esc(r.origin),
        esc(r.written),
        env!("CARGO_PKG_VERSION"),
    );
    if let Some(note) = r.scores_from.note() {
        let _ = writeln!(h, "<p class=\"meta\"><strong>{}.</strong></p>", esc(&note));
    }
    thresholds(&mut h, r);
    figures(&mut h, r);
    if let Some(d) = &r.summary.detection {
        detection_classes(&mut h, r, d);
    } else {
        classes(&mut h, r);
        if r.set.labels.len() <= MAX_MATRIX_LABELS {
            confusion(&mut h, r);
        } else {
            let _ = writeln!(
                h,
                "<h2>Confusion matrix</h2>\n<p>Left out: {} labels make a matrix no one reads \
                 (at most {MAX_MATRIX_LABELS}).</p>",
                r.set.labels.len()
            );
        }
    }
    sweeps(&mut h, r);
    history(&mut h, r);
    h.push_str("</body></html>\n");
    h
}

fn thresholds(h: &mut String, r: &Report) {
    h.push_str(
        "<h2>Thresholds</h2>\n<table><thead><tr><th>block</th><th>key</th><th>saved value</th>\
         <th>suggested</th><th>what it does</th></tr></thead><tbody>\n",
    );
    for b in r.blocks {
        for t in &b.thresholds {
            let suggested = t
                .suggested_value
                .map(|v| v.to_string())
                .or_else(|| t.suggested_value_text.clone())
                .unwrap_or_else(|| "–".into());
            let _ = writeln!(
                h,
                "<tr><td>{} {}</td><td class=\"left\">{}</td><td>{}</td><td>{}</td>\
                 <td class=\"left\">{}</td></tr>",
                b.block.id,
                esc(&b.block.name),
                esc(&t.key),
                esc(&t.value.to_string()),
                esc(&suggested),
                esc(&t.description),
            );
        }
    }
    h.push_str("</tbody></table>\n");
}

fn figures(h: &mut String, r: &Report) {
    let all = Figures::of(r.summary, None);
    let whose = if r.scores_from.is_kept() {
        "the per-window scores kept from Studio (above)"
    } else {
        "Studio's per-window results"
    };
    let _ = writeln!(
        h,
        "<h2>Figures at the saved thresholds</h2>\n<p>Computed from {whose} at the values \
         Studio holds, as the tuner's preview and <code>ei-tune check</code> compute \
         them.</p>\n<table><thead><tr><th>figure</th><th>value</th></tr></thead><tbody>",
    );
    for headline in HEADLINES {
        let value = (headline.get)(&all);
        if value.is_some() {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td></tr>",
                esc(headline.name),
                value.map_or_else(|| "–".into(), |v| headline.show(v))
            );
        }
    }
    if r.summary.detection.is_none() {
        let _ = writeln!(
            h,
            "<tr><td>windows</td><td>{}</td></tr>",
            r.summary.window_count()
        );
    }
    h.push_str("</tbody></table>\n");
}

fn classes(h: &mut String, r: &Report) {
    h.push_str(
        "<h2>Per class</h2>\n<table><thead><tr><th>expected</th><th>windows</th>\
         <th>right</th><th>precision</th><th>recall</th><th>F1</th></tr></thead><tbody>\n",
    );
    for (i, label) in r.set.labels.iter().enumerate() {
        let counts = r.summary.per_label(i);
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td></tr>",
            esc(label),
            counts.good + counts.bad,
            counts.good,
            r.summary.precision(i),
            r.summary.recall(i),
            r.summary.f1(i),
        );
    }
    h.push_str("</tbody></table>\n");
}

fn confusion(h: &mut String, r: &Report) {
    let labels = &r.set.labels;
    h.push_str(
        "<h2>Confusion matrix</h2>\n<p>Rows: the expected label; columns: the prediction at \
         the saved thresholds.</p>\n<table><thead><tr><th>expected \\ predicted</th>",
    );
    for label in labels {
        let _ = write!(h, "<th>{}</th>", esc(label));
    }
    h.push_str("<th>uncertain</th></tr></thead><tbody>\n");
    for (i, label) in labels.iter().enumerate() {
        let _ = write!(h, "<tr><td>{}</td>", esc(label));
        let columns = (0..labels.len())
            .map(|j| Predicted::Label(j as u16))
            .chain([Predicted::Uncertain]);
        for (j, predicted) in columns.enumerate() {
            let class = if i == j { " class=\"diag\"" } else { "" };
            let _ = write!(h, "<td{class}>{}</td>", r.summary.count(i, predicted));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody></table>\n");
}

fn detection_classes(h: &mut String, r: &Report, d: &crate::metrics::detection::DetectionSummary) {
    let boxes = d.matching == Matching::Boxes;
    let _ = write!(
        h,
        "<h2>Per class</h2>\n<p>Objects matched {} at min_score {}; object detection has no \
         confusion matrix of windows.</p>\n<table><thead><tr><th>class</th><th>objects</th>\
         <th>found</th><th>false</th><th>precision</th><th>recall</th><th>F1</th>{}</tr>\
         </thead><tbody>\n",
        if boxes {
            "by boxes (IoU ≥ 0.5)"
        } else {
            "by centroids"
        },
        d.min_score,
        if boxes { "<th>AP@0.5</th>" } else { "" },
    );
    let show = |v: Option<f64>| v.map_or_else(|| "–".to_string(), |v| format!("{v:.3}"));
    for (label, c) in r.set.labels.iter().zip(&d.per_class) {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
            esc(label),
            c.truths,
            c.true_positives,
            c.false_positives,
            show(c.precision()),
            show(c.recall()),
            show(c.f1()),
        );
        if boxes {
            let _ = write!(h, "<td>{}</td>", show(c.ap50));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody></table>\n");
}

fn sweeps(h: &mut String, r: &Report) {
    h.push_str("<h2>Sweeps</h2>\n");
    if r.sweeps.is_empty() {
        h.push_str("<p>No threshold of this impulse moves the figures.</p>\n");
    }
    for chart in r.sweeps {
        svg_chart(h, chart);
    }
}

/// Where a sweep chart draws: a value of the threshold across, a figure (0 to 1) up.
struct Plot {
    x0: f64,
    span: f64,
}

impl Plot {
    const W: f64 = 720.0;
    const H: f64 = 300.0;
    const LEFT: f64 = 48.0;
    /// Room for the legend.
    const RIGHT: f64 = 170.0;
    const TOP: f64 = 12.0;
    const BOTTOM: f64 = 40.0;

    fn x(&self, x: f64) -> f64 {
        Self::LEFT + (x - self.x0) / self.span * (Self::W - Self::LEFT - Self::RIGHT)
    }

    fn y(&self, y: f64) -> f64 {
        Self::TOP + (1.0 - y.clamp(0.0, 1.0)) * (Self::H - Self::TOP - Self::BOTTOM)
    }
}

/// One threshold across its range: every headline figure this impulse has, 0 to 1 up,
/// the saved value as a dashed line.
fn svg_chart(h: &mut String, chart: &SweepChart) {
    let (Some(&x0), Some(&x1)) = (chart.xs.first(), chart.xs.last()) else {
        return;
    };
    let plot = Plot {
        x0,
        span: if x1 > x0 { x1 - x0 } else { 1.0 },
    };
    let (w, ht) = (Plot::W, Plot::H);
    let _ = write!(
        h,
        "<figure><svg width=\"{w}\" height=\"{ht}\" viewBox=\"0 0 {w} {ht}\" role=\"img\" \
         aria-label=\"{} sweep\">",
        esc(&chart.name)
    );
    svg_axes(h, &plot, &chart.name);
    svg_series(h, &plot, chart);
    let _ = write!(
        h,
        "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{}\" y2=\"{:.1}\" stroke=\"#1d2330\" \
         stroke-dasharray=\"3 3\"/><text x=\"{:.1}\" y=\"{:.1}\">saved {}</text></svg>",
        Plot::TOP,
        Plot::H - Plot::BOTTOM,
        plot.x(chart.saved) + 4.0,
        Plot::TOP + 10.0,
        chart.saved,
        x = plot.x(chart.saved),
    );
    let _ = writeln!(
        h,
        "<figcaption>Every figure as {} moves across its range, the other thresholds at their \
         saved values; the dashed line is the saved value.</figcaption></figure>",
        esc(&chart.name)
    );
}

/// Grid lines and ticks up (0 to 1), five ticks across, and the threshold's name.
fn svg_axes(h: &mut String, plot: &Plot, name: &str) {
    for tick in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let _ = write!(
            h,
            "<line x1=\"{}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e2e5ec\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            Plot::LEFT,
            Plot::W - Plot::RIGHT,
            Plot::LEFT - 6.0,
            plot.y(tick) + 4.0,
            tick,
            y = plot.y(tick),
        );
    }
    for i in 0..=4 {
        let x = plot.x0 + plot.span * f64::from(i) / 4.0;
        let _ = write!(
            h,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            plot.x(x),
            Plot::H - Plot::BOTTOM + 16.0,
            esc(format!("{x:.3}")
                .trim_end_matches('0')
                .trim_end_matches('.')),
        );
    }
    let _ = write!(
        h,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
        plot.x(plot.x0 + plot.span / 2.0),
        Plot::H - 6.0,
        esc(name)
    );
}

/// A line per figure this impulse has, each with its legend entry on the right.
fn svg_series(h: &mut String, plot: &Plot, chart: &SweepChart) {
    let present = HEADLINES
        .iter()
        .filter(|hl| chart.figures.iter().any(|f| (hl.get)(f).is_some()));
    for (n, headline) in present.enumerate() {
        let (colour, dash) = SERIES[n % SERIES.len()];
        let points: Vec<String> = chart
            .xs
            .iter()
            .zip(&chart.figures)
            .filter_map(|(&x, f)| {
                Some(format!(
                    "{:.1},{:.1}",
                    plot.x(x),
                    plot.y((headline.get)(f)?)
                ))
            })
            .collect();
        let dash = if dash.is_empty() {
            String::new()
        } else {
            format!(" stroke-dasharray=\"{dash}\"")
        };
        let legend = Plot::W - Plot::RIGHT;
        let _ = write!(
            h,
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"{dash} points=\"{}\"/>\
             <line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"{colour}\" \
             stroke-width=\"2\"{dash}/><text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            points.join(" "),
            legend + 12.0,
            legend + 36.0,
            legend + 42.0,
            Plot::TOP + 16.0 * n as f64 + 8.0,
            esc(headline.name),
            y = Plot::TOP + 16.0 * n as f64 + 4.0,
        );
    }
}

fn history(h: &mut String, r: &Report) {
    h.push_str("<h2>History</h2>\n");
    if r.history.is_empty() {
        h.push_str("<p>No set-thresholds call of this impulse is in this machine's history.</p>\n");
        return;
    }
    h.push_str(
        "<table><thead><tr><th>time</th><th>by</th><th>changed</th><th>answer</th>\
         <th>figures then</th></tr></thead><tbody>\n",
    );
    for e in r.history.iter().rev() {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"left\">{}</td><td class=\"left\">{}</td>\
             <td class=\"left\">{}</td><td class=\"left\">{}</td></tr>",
            esc(&e.when()),
            esc(&e.call.by),
            esc(&e.call.changes_line()),
            esc(&e.call.answer.summary()),
            if e.call.figures.is_empty() {
                "–".to_string()
            } else {
                esc(&e.figures().join(" · "))
            },
        );
    }
    h.push_str("</tbody></table>\n");
}
