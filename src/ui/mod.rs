//! Rendering: a pure function of the [`Model`]. [`view`] draws the frame (header, step list, the page, status
//! line, buttons, key hints, any popup) and returns where the clickable things landed, so the runtime can turn
//! a mouse click into a [`Hit`] message without the model knowing about screen coordinates.

mod pages;
mod popups;
pub mod widgets;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::wizard::{Button, Hit, MIN_HEIGHT, MIN_WIDTH, Model, Page, Popup, Target};

/// Clickable areas of the last frame, topmost last.
#[derive(Debug, Default, Clone)]
pub struct Hits(pub Vec<(Rect, Hit)>);

impl Hits {
    pub fn push(&mut self, area: Rect, hit: Hit) {
        self.0.push((area, hit));
    }

    /// The topmost hit at a cell.
    pub fn at(&self, x: u16, y: u16) -> Option<Hit> {
        self.0
            .iter()
            .rev()
            .find(|(r, _)| x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height)
            .map(|(_, h)| *h)
    }
}

/// The Ready to configure summary as plain text (tests and the log use it).
pub fn summary_text(m: &Model) -> Vec<String> {
    pages::summary_lines(m)
        .iter()
        .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
        .collect()
}

/// Buttons drawn in the bottom row (the others belong to the page body).
fn is_nav(b: Button) -> bool {
    matches!(
        b,
        Button::Previous
            | Button::Next
            | Button::Configure
            | Button::Cancel
            | Button::Exit
            | Button::Quit
            | Button::Revert
    )
}

pub fn view(m: &Model, f: &mut Frame) -> Hits {
    let mut hits = Hits::default();
    let area = f.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        too_small(m, f, area);
        return hits;
    }
    let [header, body, status, buttons, hints] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_header(m, f, header);
    let page_area = if area.width >= 100 {
        let [side, page] =
            Layout::horizontal([Constraint::Length(29), Constraint::Min(1)]).areas(body);
        draw_steps(m, f, side);
        page
    } else {
        body
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(" {} ", m.page.title()))
        .title_style(Style::new().bold());
    let inner = block.inner(page_area);
    f.render_widget(block, page_area);
    pages::draw(m, f, inner, &mut hits);
    draw_status(m, f, status);
    draw_buttons(m, f, buttons, &mut hits);
    draw_hints(m, f, hints);
    if let Some(p) = &m.popup {
        popups::draw(m, p, f, area, &mut hits);
    }
    hits
}

fn draw_header(m: &Model, f: &mut Frame, area: Rect) {
    let step = format!("Step {} of {} ", m.page.index() + 1, Page::ALL.len());
    let busy = if m.busy() {
        format!("{} working ", m.spinner())
    } else {
        String::new()
    };
    let title = format!(" writeback-wizard · {}", m.page.title());
    let gap = usize::from(area.width)
        .saturating_sub(title.chars().count() + step.chars().count() + busy.chars().count());
    let line = Line::from(vec![
        Span::raw(title).bold(),
        Span::raw(" ".repeat(gap)),
        Span::raw(busy),
        Span::raw(step),
    ]);
    f.render_widget(Paragraph::new(line).style(Style::new().reversed()), area);
}

fn draw_steps(m: &Model, f: &mut Frame, area: Rect) {
    let lines: Vec<Line> = Page::ALL
        .iter()
        .map(|p| {
            let (mark, style) = if *p == m.page {
                ("▶ ", Style::new().bold())
            } else if p.index() < m.page.index() {
                ("✓ ", Style::new())
            } else {
                ("  ", Style::new().add_modifier(Modifier::DIM))
            };
            Line::styled(format!(" {mark}{}", p.title()), style)
        })
        .collect();
    f.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::RIGHT)),
        area,
    );
}

fn draw_status(m: &Model, f: &mut Frame, area: Rect) {
    let text = m.status.clone().unwrap_or_default();
    f.render_widget(
        Paragraph::new(Line::from(format!(" {text}")).yellow()),
        area,
    );
}

fn draw_buttons(m: &Model, f: &mut Frame, area: Rect, hits: &mut Hits) {
    let buttons: Vec<Button> = crate::wizard::pages::focusables(m)
        .into_iter()
        .filter_map(|t| match t {
            Target::Button(b) if is_nav(b) => Some(b),
            _ => None,
        })
        .collect();
    let spans: Vec<Span> = buttons
        .iter()
        .map(|b| {
            let enabled = !(*b == Button::Configure
                && m.page == Page::Ready
                && crate::wizard::pages::ready::blocked(m).is_some());
            widgets::button(
                b.label(),
                m.popup.is_none() && m.focus == Target::Button(*b),
                enabled,
            )
        })
        .collect();
    let total: usize = spans.iter().map(|s| s.content.chars().count() + 2).sum();
    let mut x = area.x + area.width.saturating_sub(total as u16 + 1);
    let mut line = Vec::new();
    for (b, s) in buttons.iter().zip(spans) {
        let w = s.content.chars().count() as u16;
        hits.push(Rect::new(x, area.y, w, 1), Hit::Button(*b));
        x += w + 2;
        line.push(s);
        line.push(Span::raw("  "));
    }
    f.render_widget(
        Paragraph::new(Line::from(line)).alignment(ratatui::layout::Alignment::Right),
        Rect::new(area.x, area.y, area.width.saturating_sub(1), 1),
    );
}

fn draw_hints(m: &Model, f: &mut Frame, area: Rect) {
    let mut spans = Vec::new();
    for h in m.hints() {
        let style = if h.enabled {
            Style::new()
        } else {
            Style::new().add_modifier(Modifier::DIM)
        };
        spans.push(Span::styled(h.key, style.bold()));
        spans.push(Span::styled(format!(" {}  ", h.action), style));
    }
    f.render_widget(
        Paragraph::new(Line::from(spans)).style(Style::new().on_dark_gray()),
        area,
    );
}

fn too_small(m: &Model, f: &mut Frame, area: Rect) {
    let mut lines = vec![
        Line::from(format!(
            "writeback-wizard needs {MIN_WIDTH}×{MIN_HEIGHT}; this terminal is {}×{}.",
            area.width, area.height
        )),
        Line::from("Make the window larger: the page comes back as it was."),
        Line::from("q quits."),
    ];
    if let Some(Popup::ConfirmQuit { .. }) = m.popup {
        lines.push(Line::from(
            "Unsaved answers: Ctrl-C quits without saving, Esc stays.",
        ));
    }
    f.render_widget(Clear, area);
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), area);
}

#[cfg(test)]
mod tests;
