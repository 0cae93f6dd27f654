//! Small drawing helpers shared by the pages: buttons, checkboxes, text fields, error lines, centered popups.
//! Focus is visible in the text itself (`[>Next<]`, `▸`), not only in colour, so it shows in snapshots and on
//! monochrome terminals.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use crate::wizard::field::TextField;
use crate::wizard::tree::Check;

pub const LABEL_WIDTH: usize = 20;

pub fn button(label: &str, focused: bool, enabled: bool) -> Span<'static> {
    let text = if focused {
        format!("[>{label}<]")
    } else {
        format!("[ {label} ]")
    };
    let style = match (focused, enabled) {
        (_, false) => Style::new().add_modifier(Modifier::DIM),
        (true, true) => Style::new().reversed().bold(),
        (false, true) => Style::new().bold(),
    };
    Span::styled(text, style)
}

pub fn checkbox(c: Check) -> &'static str {
    match c {
        Check::Selected | Check::Covered => "[x]",
        Check::Partial => "[-]",
        Check::Clear => "[ ]",
    }
}

pub fn radio(on: bool) -> &'static str {
    if on { "(•)" } else { "( )" }
}

/// `▸ ` for the focused row, two spaces otherwise.
pub fn marker(focused: bool) -> Span<'static> {
    if focused {
        Span::styled("▸ ", Style::new().bold())
    } else {
        Span::raw("  ")
    }
}

/// `▸ Label:      [value_____]` with the cursor shown when focused; `width` is the whole line.
pub fn field_line(label: &str, f: &TextField, focused: bool, width: u16) -> Line<'static> {
    let inner = usize::from(width)
        .saturating_sub(LABEL_WIDTH + 4)
        .clamp(8, 60);
    let shown = f.display();
    let chars: Vec<char> = shown.chars().collect();
    // Keep the cursor in view for long values.
    let start = f.cursor().saturating_sub(inner.saturating_sub(1));
    let visible: String = chars.iter().skip(start).take(inner).collect();
    let pad = inner.saturating_sub(visible.chars().count());
    let mut spans = vec![
        marker(focused),
        Span::styled(
            format!("{:<w$}", format!("{label}:"), w = LABEL_WIDTH - 2),
            if focused {
                Style::new().bold()
            } else {
                Style::new()
            },
        ),
        Span::raw("["),
    ];
    let field_style = if focused {
        Style::new().underlined()
    } else {
        Style::new()
    };
    if focused {
        let at = f.cursor() - start;
        let before: String = visible.chars().take(at).collect();
        let cur: String = visible.chars().skip(at).take(1).collect();
        let after: String = visible.chars().skip(at + 1).collect();
        spans.push(Span::styled(before, field_style));
        let (cur, pad) = if cur.is_empty() {
            (" ".to_string(), pad.saturating_sub(1))
        } else {
            (cur, pad)
        };
        spans.push(Span::styled(cur, field_style.reversed()));
        spans.push(Span::styled(after, field_style));
        spans.push(Span::styled(" ".repeat(pad), field_style));
    } else {
        spans.push(Span::raw(visible));
        spans.push(Span::raw(" ".repeat(pad)));
    }
    spans.push(Span::raw("]"));
    Line::from(spans)
}

pub fn error_line(text: &str) -> Line<'static> {
    Line::from(vec![
        Span::raw("    "),
        Span::styled(format!("✗ {}", first_line(text)), Style::new().red()),
    ])
}

/// A hint line under an error (`hint: ...`), when the error has one.
pub fn hint_line(text: &str) -> Option<Line<'static>> {
    text.lines()
        .find_map(|l| l.strip_prefix("hint: "))
        .map(|h| {
            Line::from(vec![
                Span::raw("      "),
                Span::styled(format!("hint: {h}"), Style::new().yellow()),
            ])
        })
}

pub fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

pub fn ok_line(text: impl Into<String>) -> Line<'static> {
    Line::from(Span::styled(
        format!("✓ {}", text.into()),
        Style::new().green(),
    ))
}

pub fn warn_line(text: impl Into<String>) -> Line<'static> {
    Line::from(Span::styled(
        format!("! {}", text.into()),
        Style::new().yellow(),
    ))
}

pub fn dim(text: impl Into<String>) -> Span<'static> {
    Span::styled(text.into(), Style::new().add_modifier(Modifier::DIM))
}

/// A rectangle of `w`×`h` centered in `area` (clipped to it).
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// Shortens `text` to `max` characters with an ellipsis in the middle (DNs keep both ends).
pub fn shorten(text: &str, max: usize) -> String {
    let n = text.chars().count();
    if n <= max || max < 5 {
        return text.to_string();
    }
    let head = (max - 1) / 2;
    let tail = max - 1 - head;
    let a: String = text.chars().take(head).collect();
    let b: String = text.chars().skip(n - tail).collect();
    format!("{a}…{b}")
}

/// Breaks `line` into rows of at most `width` cells: at the last space that fits, else anywhere. Styles of
/// spans and of the line are kept. Every wrapped view goes through this (never `Paragraph::wrap`), so the row a
/// line lands on, and so the click area drawn for it, is known exactly.
pub fn wrap(line: Line<'static>, width: u16) -> Vec<Line<'static>> {
    let width = usize::from(width.max(1));
    if line.width() <= width {
        return vec![line];
    }
    let mut cells: Vec<(char, Style)> = Vec::new();
    for s in &line.spans {
        cells.extend(s.content.chars().map(|c| (c, s.style)));
    }
    let cell_width = |c: char| {
        let mut buf = [0u8; 4];
        Span::raw(&*c.encode_utf8(&mut buf)).width()
    };
    let mut rows: Vec<Vec<(char, Style)>> = Vec::new();
    let mut row: Vec<(char, Style)> = Vec::new();
    let mut used = 0;
    for (c, st) in cells {
        let w = cell_width(c);
        if used + w > width && c == ' ' {
            // A space that does not fit ends the row.
            rows.push(std::mem::take(&mut row));
            used = 0;
            continue;
        }
        if used + w > width && !row.is_empty() {
            // Break after the last space of the row when there is one past its first quarter.
            let at = row
                .iter()
                .rposition(|(ch, _)| *ch == ' ')
                .filter(|p| *p >= width / 4);
            let rest = match at {
                Some(p) => {
                    let rest = row.split_off(p + 1);
                    row.pop();
                    rest
                }
                None => Vec::new(),
            };
            rows.push(std::mem::take(&mut row));
            used = rest.iter().map(|(ch, _)| cell_width(*ch)).sum();
            row = rest;
        }
        row.push((c, st));
        used += w;
    }
    if !row.is_empty() {
        rows.push(row);
    }
    rows.into_iter()
        .map(|cells| {
            let mut spans: Vec<Span<'static>> = Vec::new();
            for (c, st) in cells {
                match spans.last_mut() {
                    Some(last) if last.style == st => last.content.to_mut().push(c),
                    _ => spans.push(Span::styled(c.to_string(), st)),
                }
            }
            Line::from(spans).style(line.style)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_at_spaces_and_keeps_styles() {
        let line = Line::from(vec![
            Span::raw("aaaa bbbb "),
            Span::styled("cccc dddd", Style::new().bold()),
        ]);
        let rows = wrap(line, 10);
        let text: Vec<String> = rows.iter().map(|l| l.to_string()).collect();
        assert_eq!(text, ["aaaa bbbb", "cccc dddd"]);
        assert_eq!(rows[1].spans[0].style, Style::new().bold());
        let rows = wrap(Line::from("x".repeat(25)), 10);
        assert_eq!(rows.len(), 3);
        assert!(rows.iter().all(|l| l.width() <= 10));
    }
}
