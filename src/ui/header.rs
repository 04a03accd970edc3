//! The header line: project, impulse and connection.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::rows::Rows;
use super::text::truncate;
use super::theme::Theme;
use crate::tuner::{Connection, ProjectRef, Tuner};

pub(super) fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest)
}

pub(super) fn render_header(frame: &mut Frame, area: Rect, tuner: &Tuner, theme: &Theme) {
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
