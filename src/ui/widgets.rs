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
