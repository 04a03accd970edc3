//! The views: pure functions of the tuner state that draw into a ratatui frame.
//!
//! The layout is computed by [`layout`] and the slider rows by [`slider_rows`], both pure,
//! so that the event loop hit-tests mouse events against exactly what was drawn.

mod chart;
mod figures;
mod geometry;
mod header;
mod help_text;
mod history;
pub mod map;
pub mod mouse;
mod popups;
mod rows;
mod sliders;
mod status;
mod text;
pub mod theme;

use ratatui::Frame;

use crate::tuner::{Mode, Tuner};
pub use theme::Theme;

use chart::render_chart;
use figures::render_metrics;
pub use geometry::{Areas, Row, hit_test, layout, slider_rows, wheel_target};
use header::render_header;
use help_text::render_help_text;
use popups::{render_help, render_picker};
use sliders::render_sliders;
pub use status::explain;
use status::{render_footer, render_status};

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
