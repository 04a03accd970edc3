//! The status pane and the footer: each call's answer, and the keys of the screen.

use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Block;

use super::rows::Rows;
use super::theme::Theme;
use crate::api::models::RegenerateStatus;
use crate::keymap::{self, Screen};
use crate::tuner::{Mode, Slider, StatusEntry, StatusOutcome, Tuner};

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

pub(super) fn format_at(at: Duration) -> String {
    let secs = at.as_secs();
    format!(
        "{:02}:{:02}.{}",
        secs / 60,
        secs % 60,
        at.subsec_millis() / 100
    )
}

pub(super) fn status_line<'a>(entry: &StatusEntry, theme: &Theme) -> Line<'a> {
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

pub(super) fn render_status(frame: &mut Frame, area: Rect, tuner: &Tuner, theme: &Theme) {
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

pub(super) fn render_footer(frame: &mut Frame, area: Rect, tuner: &Tuner, theme: &Theme) {
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
