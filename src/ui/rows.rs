//! Lines of text drawn as `Paragraph::new(lines)` draws them (left-aligned, cut at the
//! area's right edge), with a shortcut for printable ASCII.
//!
//! Paragraph segments every span into grapheme clusters and looks up each one's width;
//! on a 200×60 screen of mostly ASCII figures and labels that was a fifth of a frame. A
//! span of printable ASCII is one cell per byte, so it is written directly; any other
//! span goes through the same grapheme and width rules as Paragraph. A line with its own
//! alignment is handed to Paragraph whole.

use ratatui::buffer::{Buffer, CellWidth};
use ratatui::layout::{Alignment, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Widget};

pub struct Rows<'a> {
    lines: &'a [Line<'a>],
}

impl<'a> Rows<'a> {
    pub fn new(lines: &'a [Line<'a>]) -> Self {
        Self { lines }
    }
}

impl Widget for Rows<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let area = area.intersection(buf.area);
        for (line, row) in self.lines.iter().zip(area.rows()) {
            if line.alignment.is_some_and(|a| a != Alignment::Left) {
                Paragraph::new(line.clone()).render(row, buf);
            } else {
                render_line(line, row, buf);
            }
        }
    }
}

fn is_printable_ascii(text: &str) -> bool {
    text.bytes().all(|b| (0x20..0x7f).contains(&b))
}

fn render_line(line: &Line, row: Rect, buf: &mut Buffer) {
    let (y, width) = (row.y, row.width);
    let mut used: u16 = 0;
    for span in &line.spans {
        let text = span.content.as_ref();
        if is_printable_ascii(text) {
            let style = line.style.patch(span.style);
            for byte in text.bytes() {
                if used >= width {
                    return;
                }
                buf[(row.x + used, y)]
                    .set_char(char::from(byte))
                    .set_style(style);
                used += 1;
            }
            continue;
        }
        for grapheme in span.styled_graphemes(line.style) {
            let cells = grapheme.symbol.cell_width();
            if cells > width {
                continue; // wider than the whole area: Paragraph leaves it out
            }
            if used + cells > width {
                return;
            }
            if cells == 0 {
                continue;
            }
            buf[(row.x + used, y)]
                .set_symbol(grapheme.symbol)
                .set_style(grapheme.style);
            used += cells;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use ratatui::style::{Color, Modifier, Style};
    use ratatui::text::Span;

    fn style() -> impl Strategy<Value = Style> {
        (
            prop::option::of(0u8..8),
            prop::option::of(0u8..8),
            any::<bool>(),
        )
            .prop_map(|(fg, bg, bold)| {
                let mut s = Style::default();
                if let Some(c) = fg {
                    s = s.fg(Color::Indexed(c));
                }
                if let Some(c) = bg {
                    s = s.bg(Color::Indexed(c));
                }
                if bold {
                    s = s.add_modifier(Modifier::BOLD);
                }
                s
            })
    }

    fn text() -> impl Strategy<Value = String> {
        // ASCII, box drawing and marks of one cell, wide CJK and emoji, combining accents,
        // a flag (two code points, one cluster), zero-width joiners, tabs and newlines.
        let pieces = prop::sample::select(vec![
            "a",
            "Z",
            "0",
            " ",
            "%",
            "~",
            "·",
            "│",
            "▶",
            "…",
            "é",
            "e\u{301}",
            "漢",
            "字",
            "🙂",
            "🇫🇷",
            "👩\u{200d}💻",
            "\t",
            "\n",
            "\u{200b}",
            "ﾞ",
        ]);
        prop::collection::vec(pieces, 0..12).prop_map(|p| p.concat())
    }

    fn line() -> impl Strategy<Value = Line<'static>> {
        (
            prop::collection::vec((text(), style()), 0..5),
            style(),
            prop::option::of(prop::sample::select(vec![
                Alignment::Left,
                Alignment::Center,
                Alignment::Right,
            ])),
        )
            .prop_map(|(spans, line_style, alignment)| {
                let mut line = Line::from(
                    spans
                        .into_iter()
                        .map(|(t, s)| Span::styled(t, s))
                        .collect::<Vec<_>>(),
                )
                .style(line_style);
                line.alignment = alignment;
                line
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        /// Cell for cell what Paragraph draws, on a buffer that already holds other text.
        #[test]
        fn draws_what_paragraph_draws(
            lines in prop::collection::vec(line(), 0..5),
            width in 0u16..30,
            height in 0u16..6,
            x in 0u16..3,
        ) {
            let screen = Rect::new(0, 0, 34, 7);
            let area = Rect::new(x, 1, width, height);
            let mut expected = Buffer::filled(screen, ratatui::buffer::Cell::new("#"));
            let mut actual = expected.clone();
            Paragraph::new(lines.clone()).render(area, &mut expected);
            Rows::new(&lines).render(area, &mut actual);
            prop_assert_eq!(actual, expected);
        }
    }
}
