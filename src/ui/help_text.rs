//! The help line under the sliders: what the selected threshold does.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use super::theme::Theme;
use crate::tuner::Tuner;

pub(super) fn render_help_text(frame: &mut Frame, area: Rect, tuner: &Tuner, theme: &Theme) {
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
