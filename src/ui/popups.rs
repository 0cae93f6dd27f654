//! Popups drawn above the page: help, confirmations, save-as, the Add Directory dialog, SDDL detail, and the
//! password asked for a task.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::Hits;
use super::widgets::{button, centered, dim, error_line, field_line, hint_line};
use crate::secret::SecretRef;
use crate::wizard::pages::directories::{DIALOG_CANCEL, DIALOG_OK, Dialog};
use crate::wizard::pages::{popup_buttons, ready};
use crate::wizard::{DirField, Hit, Model, Popup, keys, sddl};

fn frame(f: &mut Frame, area: Rect, title: &str) -> Rect {
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(" {title} "))
        .title_style(Style::new().bold());
    let inner = block.inner(area);
    f.render_widget(Clear, area);
    f.render_widget(block, area);
    inner
}

/// The popup's buttons on the last row of `inner`; `focus` is highlighted.
fn buttons(f: &mut Frame, inner: Rect, labels: &[&str], focus: Option<usize>, hits: &mut Hits) {
    let y = inner.y + inner.height.saturating_sub(1);
    let mut x = inner.x + 1;
    let mut spans = Vec::new();
    for (i, l) in labels.iter().enumerate() {
        let s = button(l, focus == Some(i), true);
        let w = s.content.chars().count() as u16;
        hits.push(Rect::new(x, y, w, 1), Hit::Popup(i));
        x += w + 2;
        spans.push(s);
        spans.push(Span::raw("  "));
    }
    f.render_widget(
        Paragraph::new(Line::from(spans)),
        Rect::new(inner.x + 1, y, inner.width.saturating_sub(1), 1),
    );
}

fn body(f: &mut Frame, inner: Rect, lines: Vec<Line<'static>>) {
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }),
        Rect::new(
            inner.x,
            inner.y,
            inner.width,
            inner.height.saturating_sub(2),
        ),
    );
}

pub fn draw(m: &Model, p: &Popup, f: &mut Frame, area: Rect, hits: &mut Hits) {
    // A popup covers the page: clicks below it do nothing.
    hits.0.clear();
    match p {
        Popup::Help => {
            let r = centered(area, 64, area.height.saturating_sub(4).min(22));
            let inner = frame(f, r, &format!("Keys: {}", m.page.title()));
            let mut lines = Vec::new();
            let mut page = Vec::new();
            crate::wizard::pages::hints(m, &mut page);
            for h in page {
                lines.push(Line::from(format!("  {:<12} {}", h.key, h.action)));
            }
            for (k, a) in [
                ("Tab", "next field or button"),
                ("Shift-Tab", "previous field or button"),
                (
                    "Enter",
                    "press the focused button (in a field: the page's main button)",
                ),
                ("Space", "toggle a checkbox or option"),
                ("Esc", "previous page, or close a dialog"),
                ("Ctrl-S", "save the answers to a file"),
                ("q / Ctrl-C", "quit (asks when answers are unsaved)"),
                ("? / F1", "this help"),
                ("mouse", "click buttons, list rows and checkboxes"),
            ] {
                lines.push(Line::from(format!("  {k:<12} {a}")));
            }
            let _ = keys::HELP;
            body(f, inner, lines);
            buttons(f, inner, popup_buttons(p), Some(0), hits);
        }
        Popup::ConfirmQuit { focus } => {
            let r = centered(area, 60, 7);
            let inner = frame(f, r, "Quit");
            body(
                f,
                inner,
                vec![Line::from(
                    "The answers have changed since they were last saved. Quit without saving them?",
                )],
            );
            buttons(f, inner, popup_buttons(p), Some(*focus), hits);
        }
        Popup::SaveAs { field, error } => {
            let r = centered(area, 76, 10);
            let inner = frame(f, r, "Save the answers as");
            let mut lines = vec![
                field_line("Path", field, true, inner.width),
                Line::from(vec![dim(
                    "  secrets are saved as references only (env:, file: or prompt)",
                )]),
            ];
            let target = m.paths.resolve(field.text());
            if !field.text().trim().is_empty() && target.to_str() != Some(field.text().trim()) {
                lines.push(Line::from(vec![dim(format!(
                    "  saves to {}",
                    target.display()
                ))]));
            }
            if m.answers_path.as_ref() == Some(&target) {
                lines.push(
                    Line::from("  ! this replaces the file the answers were loaded from").yellow(),
                );
            }
            if let Some(e) = error {
                lines.push(error_line(e));
            }
            body(f, inner, lines);
            buttons(f, inner, popup_buttons(p), None, hits);
        }
        Popup::Directory(d) => dialog(d, f, area, hits),
        Popup::ConfirmConfigure { focus } => {
            let plan = m.ready.current(&m.answers).unwrap_or(&[]);
            let aces: usize = plan.iter().map(|p| p.aces()).sum();
            let objects: usize = plan.iter().map(|p| p.changed()).sum();
            let r = centered(area, 66, 9);
            let inner = frame(f, r, "Configure");
            body(
                f,
                inner,
                vec![
                    Line::from(format!(
                        "Write {aces} ACE(s) to {objects} object(s) in {} forest(s)?",
                        plan.len()
                    ))
                    .bold(),
                    Line::from(format!(
                        "The answers are saved to {} first; the original descriptors go to the journal in {}.",
                        m.paths.config_answers.display(),
                        m.paths.state_dir.display()
                    )),
                ],
            );
            buttons(f, inner, popup_buttons(p), Some(*focus), hits);
        }
        Popup::ConfirmRevert { focus } => {
            let r = centered(area, 60, 7);
            let inner = frame(f, r, "Revert");
            body(
                f,
                inner,
                vec![Line::from(
                    "Remove the ACEs recorded in the journal from the objects listed? Changes made by others are kept.",
                )],
            );
            buttons(f, inner, popup_buttons(p), Some(*focus), hits);
        }
        Popup::ConfirmCancel { focus } => {
            let r = centered(area, 64, 8);
            let inner = frame(f, r, "Cancel the run?");
            body(
                f,
                inner,
                vec![Line::from(
                    "Writes are running. Cancel stops before the next write: the writes in flight finish and the journal keeps what was written (Revert takes it back).",
                )],
            );
            buttons(f, inner, popup_buttons(p), Some(*focus), hits);
        }
        Popup::QuitNow { focus } => {
            let r = centered(area, 64, 8);
            let inner = frame(f, r, "Quit now?");
            body(
                f,
                inner,
                vec![Line::from(
                    "Cancelling: the writes in flight are finishing. Quit now? The journal keeps what was written; the program ends once the writes in flight are done.",
                )],
            );
            buttons(f, inner, popup_buttons(p), Some(*focus), hits);
        }
        Popup::QuitAfterRevert { focus } => {
            let r = centered(area, 64, 8);
            let inner = frame(f, r, "Quit after the revert?");
            body(
                f,
                inner,
                vec![Line::from(
                    "A revert is running and is never stopped half-way. Quit as soon as it has finished?",
                )],
            );
            buttons(f, inner, popup_buttons(p), Some(*focus), hits);
        }
        Popup::Explain { dn, text, scroll } => {
            let r = centered(
                area,
                area.width.saturating_sub(4),
                area.height.saturating_sub(2),
            );
            let inner = frame(f, r, "Why the connector cannot serve this user");
            let lines: Vec<Line> = match text {
                None => vec![
                    Line::from(dn.clone()).bold(),
                    Line::from(format!("{} explaining…", m.spinner())),
                ],
                Some(Err(e)) => vec![Line::from(dn.clone()).bold(), Line::from(e.clone()).red()],
                Some(Ok(t)) => t.lines().map(|l| Line::from(l.to_string())).collect(),
            };
            let body_area = Rect::new(
                inner.x,
                inner.y,
                inner.width,
                inner.height.saturating_sub(2),
            );
            f.render_widget(
                Paragraph::new(lines)
                    .wrap(Wrap { trim: false })
                    .scroll((*scroll, 0)),
                body_area,
            );
            buttons(f, inner, popup_buttons(p), Some(0), hits);
        }
        Popup::Sddl { row, scroll } => {
            let plan = m.ready.current(&m.answers).unwrap_or(&[]);
            let rows = ready::rows(plan);
            let (w, h) = sddl::body_size((area.width, area.height));
            let r = centered(area, w + 2, h + 4);
            let lines = match rows.get(*row) {
                Some((_, t)) => sddl::lines(t, w),
                None => vec![(sddl::Mark::Title, "no such object in the plan".into())],
            };
            let total = lines.len();
            let scroll = (*scroll).min(total.saturating_sub(usize::from(h)));
            let last = (scroll + usize::from(h)).min(total);
            let inner = frame(
                f,
                r,
                &format!(
                    "SDDL before and after · rows {}-{last} of {total}",
                    scroll + 1
                ),
            );
            let shown: Vec<Line> = lines
                .into_iter()
                .skip(scroll)
                .take(usize::from(h))
                .map(|(mark, text)| match mark {
                    sddl::Mark::Title | sddl::Mark::Heading => Line::from(text).bold(),
                    sddl::Mark::Added => Line::from(text).green().bold(),
                    sddl::Mark::Removed => Line::from(text).red(),
                    sddl::Mark::More => Line::from(text).dim(),
                    _ => Line::from(text),
                })
                .collect();
            f.render_widget(
                Paragraph::new(shown),
                Rect::new(inner.x, inner.y, inner.width, h),
            );
            buttons(f, inner, popup_buttons(p), Some(0), hits);
        }
        Popup::Secret {
            directory, field, ..
        } => {
            let d = m.answers.directories.get(*directory);
            let r = centered(area, 70, 7);
            let inner = frame(f, r, "Password needed");
            body(
                f,
                inner,
                vec![
                    Line::from(format!(
                        "The admin password of {} ({}) is set to prompt:",
                        d.map_or("", |d| d.admin.as_str()),
                        d.map_or("", |d| d.forest.as_str())
                    )),
                    field_line("Admin password", field, true, inner.width),
                ],
            );
            buttons(f, inner, popup_buttons(p), None, hits);
        }
    }
}

fn dialog(d: &Dialog, f: &mut Frame, area: Rect, hits: &mut Hits) {
    let title = if d.editing.is_some() {
        "Edit Directory"
    } else {
        "Add Directory"
    };
    let r = centered(area, 78, 18);
    let inner = frame(f, r, title);
    let mut lines = Vec::new();
    for (i, field) in DirField::ALL.iter().enumerate() {
        let focused = d.focus == i;
        let y = inner.y + lines.len() as u16;
        let _ = y;
        if *field == DirField::Tls {
            lines.push(Line::from(vec![
                super::widgets::marker(focused),
                Span::raw(format!("{:<18}", "TLS:")),
                Span::styled(
                    format!("< {} >", super::pages::tls_name(d.tls)),
                    if focused {
                        Style::new().reversed()
                    } else {
                        Style::new()
                    },
                ),
                dim("  ldaps | starttls | none (Space/←→)"),
            ]));
        } else {
            lines.push(field_line(
                field.label(),
                d.field(*field),
                focused,
                inner.width,
            ));
        }
        if *field == DirField::Password
            && let Some(r @ (SecretRef::Env(_) | SecretRef::File(_))) = d.password_ref()
        {
            lines.push(Line::from(vec![
                Span::raw("                    "),
                dim(format!("from {r}; type to use another for this session")),
            ]));
        }
        if let Some((at, e)) = &d.error
            && at == field
        {
            lines.push(error_line(e));
            lines.extend(hint_line(e));
        }
    }
    body(f, inner, lines);
    let focus = match d.focus {
        DIALOG_OK => Some(0),
        DIALOG_CANCEL => Some(1),
        _ => None,
    };
    buttons(f, inner, &["OK", "Cancel"], focus, hits);
}
