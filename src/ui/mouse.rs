//! The mouse, beside the views it lands on: what a click, a drag or the wheel means on
//! each screen, hit-tested against the same layout the views draw. (Keys are in
//! `keymap`: they need no geometry.)

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Rect;

use super::Theme;
use super::geometry::{hit_test, wheel_target};
use crate::tuner::{Action, Mode, Msg, Pointer, Tuner};

/// A mouse event as a tuner message; `None` when it touches nothing.
pub fn to_msg(tuner: &Tuner, theme: &Theme, screen: Rect, mouse: MouseEvent) -> Option<Msg> {
    let MouseEvent {
        kind, column, row, ..
    } = mouse;
    let up = kind == MouseEventKind::ScrollUp;
    let wheel = matches!(kind, MouseEventKind::ScrollUp | MouseEventKind::ScrollDown);
    match tuner.mode() {
        // On the map a click or a drag moves both thresholds to the point under it; the
        // wheel moves min_anomaly_score, the map's up and down.
        Mode::Map => match kind {
            MouseEventKind::Down(MouseButton::Left) | MouseEventKind::Drag(MouseButton::Left) => {
                let map = tuner.joint()?.map()?;
                super::map::point_at(screen, theme, column, row, (map.xs.len(), map.ys.len()))
                    .map(|(j, k)| Msg::Pointer(Pointer::MapPoint { j, k }))
            }
            _ if wheel => Some(Msg::Action(Action::MapStep {
                dx: 0,
                dy: if up { 1 } else { -1 },
                coarse: false,
            })),
            _ => None,
        },
        // In the history the wheel moves the selection.
        Mode::History { .. } if wheel => Some(Msg::Action(if up {
            Action::SelectPrevious
        } else {
            Action::SelectNext
        })),
        _ => match kind {
            MouseEventKind::Down(MouseButton::Left) => {
                hit_test(tuner, screen, column, row, false).map(Msg::Pointer)
            }
            MouseEventKind::Drag(MouseButton::Left) => {
                hit_test(tuner, screen, column, row, true).map(Msg::Pointer)
            }
            _ if wheel => wheel_target(tuner, screen, column, row)
                .map(|slider| Msg::Pointer(Pointer::Wheel { slider, up })),
            _ => None,
        },
    }
}
