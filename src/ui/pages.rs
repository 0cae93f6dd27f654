//! The body of each page, drawn from the model. Long content is cut to the area; the OU tree draws only the
//! rows on screen.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Gauge, Paragraph};

use super::Hits;
use super::widgets::{
    button, checkbox, dim, error_line, field_line, first_line, hint_line, marker, ok_line, radio,
    shorten, warn_line, wrap,
};
use crate::answers::Scope;
use crate::cloud::PORTAL_STEP;
use crate::secret::SecretRef;
use crate::wizard::data::{CheckSummary, CloudSummary, TaskOutput, UsersSummary, Verdict};
use crate::wizard::pages::azure::{METHODS, Status};
use crate::wizard::pages::directories::{DirStatus, shows_password};
use crate::wizard::pages::tasks::{ITEMS as TASKS, Task};
use crate::wizard::pages::{features, ready};
use crate::wizard::tree::{Load, OuTree};
use crate::wizard::{Button, Hit, Model, Page, Target};

pub fn tls_name(t: crate::answers::TlsMode) -> &'static str {
    match t {
        crate::answers::TlsMode::Ldaps => "ldaps",
        crate::answers::TlsMode::Starttls => "starttls",
        crate::answers::TlsMode::None => "none",
    }
}

pub fn draw(m: &Model, f: &mut Frame, area: Rect, hits: &mut Hits) {
    match m.page {
        Page::Welcome => welcome(m, f, area),
        Page::Tasks => tasks(m, f, area, hits),
        Page::AzureAd => azure(m, f, area, hits),
        Page::Directories => directories(m, f, area, hits),
        Page::OuFilter => ou_filter(m, f, area, hits),
        Page::Features => features_page(m, f, area, hits),
        Page::Ready => ready_page(m, f, area, hits),
        Page::Configuring => configuring(m, f, area),
        Page::Complete => complete(m, f, area),
    }
}

fn focused(m: &Model, t: Target) -> bool {
    m.popup.is_none() && m.focus == t
}

/// A page body laid out row by row: each line is wrapped here ([`wrap`]) as it is added, so the row every
/// line starts on is known, and the click areas of a line cover exactly the rows it is drawn on.
pub struct Body {
    width: u16,
    rows: Vec<Line<'static>>,
    /// (first row, rows, x offset, width or 0 for the whole row, hit)
    hits: Vec<(usize, usize, u16, u16, Hit)>,
}

impl Body {
    pub fn new(area: Rect) -> Self {
        Self {
            width: area.width,
            rows: Vec::new(),
            hits: Vec::new(),
        }
    }

    /// The row the next line starts on.
    pub fn row(&self) -> usize {
        self.rows.len()
    }

    /// Adds a line (wrapped); returns the rows it took.
    pub fn push(&mut self, line: Line<'static>) -> usize {
        let rows = wrap(line, self.width);
        let n = rows.len();
        self.rows.extend(rows);
        n
    }

    pub fn extend(&mut self, lines: impl IntoIterator<Item = Line<'static>>) {
        for l in lines {
            self.push(l);
        }
    }

    /// Rows `first..first + rows`, whole width.
    pub fn hit(&mut self, first: usize, rows: usize, hit: Hit) {
        self.hits.push((first, rows.max(1), 0, 0, hit));
    }

    /// Cells `x..x + w` of row `row`.
    pub fn hit_at(&mut self, row: usize, x: u16, w: u16, hit: Hit) {
        self.hits.push((row, 1, x, w.max(1), hit));
    }

    /// Draws the rows from `scroll` on into `area`; click areas move with the scroll and are cut to the area.
    pub fn draw(self, f: &mut Frame, area: Rect, scroll: usize, hits: &mut Hits) {
        let scroll = scroll.min(self.rows.len().saturating_sub(1));
        let shown = usize::from(area.height);
        for (first, n, x, w, hit) in self.hits {
            let top = first.max(scroll);
            let bottom = (first + n).min(scroll + shown);
            if top >= bottom {
                continue;
            }
            let y = area.y + (top - scroll) as u16;
            let h = (bottom - top) as u16;
            let r = if w == 0 {
                Rect::new(area.x, y, area.width, h)
            } else {
                Rect::new(area.x + x, y, w.min(area.width.saturating_sub(x)), h)
            };
            hits.push(r, hit);
        }
        f.render_widget(
            Paragraph::new(
                self.rows
                    .into_iter()
                    .skip(scroll)
                    .take(shown)
                    .collect::<Vec<_>>(),
            ),
            area,
        );
    }
}

/// Lines from row `scroll` on, wrapped, cut to the area.
fn text(f: &mut Frame, area: Rect, lines: Vec<Line<'static>>, scroll: usize) {
    let mut b = Body::new(area);
    b.extend(lines);
    b.draw(f, area, scroll, &mut Hits::default());
}

fn welcome(m: &Model, f: &mut Frame, area: Rect) {
    let mut lines = vec![
        Line::from("Welcome to writeback-wizard").bold(),
        Line::from(""),
        Line::from(
            "This wizard grants the Active Directory permissions that Microsoft Entra SSPR password writeback needs, proves them, and can take them back.",
        ),
        Line::from(""),
        Line::from("What it will change, for the connector account only:"),
        Line::from(
            "  • the DACL of each domain root or OU you select: Reset Password, Change Password, Write lockoutTime and Write pwdLastSet on descendant user objects",
        ),
        Line::from("  • Unexpire Password on the root of each domain in scope (optional)"),
        Line::from("  • CN=AdminSDHolder, for protected accounts (optional, off by default)"),
        Line::from(""),
        Line::from(
            "Nothing is written before you press Configure on \"Ready to configure\". The original descriptor of every object goes to a journal first, so Revert takes back exactly what was added.",
        ),
    ];
    if let Some(p) = &m.answers_path {
        lines.push(Line::from(""));
        lines.push(Line::from(format!("Answers loaded from {}.", p.display())));
    }
    text(f, area, lines, 0);
}

fn tasks(m: &Model, f: &mut Frame, area: Rect, hits: &mut Hits) {
    if let Some(run) = &m.tasks.run {
        return task_output(m, run, f, area);
    }
    let mut b = Body::new(area);
    b.push(Line::from("Select a task:"));
    b.push(Line::from(""));
    let list_focus = focused(m, Target::TaskList);
    for (i, (title, description)) in TASKS.iter().enumerate() {
        let sel = m.tasks.selected == i;
        let first = b.row();
        let mut n = b.push(Line::from(vec![
            marker(list_focus && sel),
            Span::raw(format!("{} ", radio(sel))),
            Span::styled(
                title.to_string(),
                if sel {
                    Style::new().bold()
                } else {
                    Style::new()
                },
            ),
        ]));
        n += b.push(Line::from(vec![
            Span::raw("      "),
            dim(description.to_string()),
        ]));
        b.hit(first, n, Hit::Row(Target::TaskList, i));
    }
    b.draw(f, area, 0, hits);
}

fn cloud_lines(c: &CloudSummary, out: &mut Vec<Line<'static>>) {
    out.push(Line::from(format!("Signed in as {}", c.signed_in)));
    out.push(Line::from(format!("Tenant: {}", c.tenant)));
    out.push(match c.verdict {
        Verdict::Pass => ok_line(c.message.clone()),
        Verdict::PassWithWarning => warn_line(c.message.clone()),
        Verdict::Refuse => Line::from(Span::styled(format!("✗ {}", c.message), Style::new().red())),
    });
    for w in &c.warnings {
        out.push(warn_line(w.clone()));
    }
}

/// The DC a directory names, or that DNS will find it.
fn dc_label(d: &crate::answers::Directory) -> String {
    d.url
        .clone()
        .unwrap_or_else(|| "DCs found through DNS".to_string())
}

fn check_lines(c: &CheckSummary, out: &mut Vec<Line<'static>>) {
    out.push(
        Line::from(format!(
            "Forest {} · connector {} · {} missing",
            c.forest, c.connector, c.missing
        ))
        .bold(),
    );
    for (dn, right, state) in &c.rights {
        let style = match *state {
            "present" => Style::new().green(),
            "denied" => Style::new().red().bold(),
            _ => Style::new().red(),
        };
        out.push(Line::from(vec![
            Span::styled(format!("  {:<8}", state.to_uppercase()), style),
            Span::raw(format!("{right}  ")),
            dim(dn.clone()),
        ]));
    }
    for (kind, dn, detail, fix) in &c.risks {
        out.push(warn_line(format!("{kind}: {dn}")));
        out.push(Line::from(format!("    {detail}")));
        out.push(Line::from(Span::styled(
            format!("    fix: {fix}"),
            Style::new().cyan(),
        )));
    }
}

/// The per-user check: counts, then the blocked users, the selected one marked (Enter explains it).
fn users_lines(users: &[UsersSummary], selected: usize, out: &mut Vec<Line<'static>>) {
    let mut row = 0;
    for u in users {
        out.push(
            Line::from(format!(
                "Users in scope in {}: {} · {} fully covered · {} blocked",
                u.forest, u.users, u.fully_covered, u.blocked
            ))
            .bold(),
        );
        for (kind, n) in &u.by_reason {
            out.push(Line::from(format!("  {n} blocked by {kind}")));
        }
        for (domain, granted, detail) in &u.unexpire {
            let line = format!("Unexpire Password on {domain}: {detail}");
            out.push(if *granted {
                ok_line(line)
            } else {
                warn_line(line)
            });
        }
        for (dn, reasons) in &u.blocked_users {
            let marker = if row == selected { ">" } else { " " };
            out.push(Line::from(vec![
                Span::raw(format!("{marker} ")),
                Span::styled(dn.clone(), Style::new().red()),
            ]));
            for r in reasons {
                out.push(dim(format!("    {r}")).into());
            }
            row += 1;
        }
        if u.more_blocked > 0 {
            out.push(Line::from(format!(
                "  … and {} more blocked user(s): `writeback-wizard check --users --answers FILE` lists them all",
                u.more_blocked
            )));
        }
        out.push(Line::from(""));
    }
}

/// The directories a task could not reach or read, each named with its error (the others are shown below).
fn failed_lines(failed: &[(String, String)], out: &mut Vec<Line<'static>>) {
    for (forest, e) in failed {
        out.push(error_line(&format!("forest {forest}: {}", first_line(e))));
        out.extend(hint_line(e));
    }
    if !failed.is_empty() {
        out.push(Line::from(""));
    }
}

fn task_output(m: &Model, run: &crate::wizard::pages::tasks::Run, f: &mut Frame, area: Rect) {
    let title = match run.task {
        Task::ViewCurrent => "View current configuration",
        Task::Troubleshoot => "Troubleshoot",
        Task::RevertPreview | Task::Revert => "Revert password writeback permissions",
    };
    let mut lines = vec![Line::from(title).bold(), Line::from("")];
    match &run.output {
        None => lines.push(Line::from(format!(
            "{} {}",
            m.spinner(),
            match run.task {
                Task::Revert => "Reverting…",
                Task::RevertPreview => "Reading the journal and connecting…",
                _ => "Connecting and checking…",
            }
        ))),
        Some(Err(e)) => {
            lines.push(error_line(&e.to_string()));
            lines.extend(hint_line(&e.to_string()));
        }
        Some(Ok(out)) => match out {
            TaskOutput::Current {
                answers_toml,
                last_journal,
                check,
                cloud,
                failed,
            } => {
                failed_lines(failed, &mut lines);
                let from = m
                    .answers_path
                    .as_ref()
                    .map_or("not saved yet".to_string(), |p| p.display().to_string());
                lines.push(Line::from(format!("Answers ({from}):")).bold());
                lines.extend(answers_toml.lines().map(|l| Line::from(format!("  {l}"))));
                lines.push(Line::from(""));
                lines.push(Line::from(format!(
                    "Last run: {}",
                    last_journal
                        .clone()
                        .unwrap_or_else(|| "no journal in the state directory".into())
                )));
                lines.push(Line::from(""));
                for c in check {
                    check_lines(c, &mut lines);
                }
                if let Some(c) = cloud {
                    cloud_lines(c, &mut lines);
                }
            }
            TaskOutput::Troubleshoot {
                check,
                cloud,
                users,
                failed,
            } => {
                failed_lines(failed, &mut lines);
                if let Some(c) = cloud {
                    cloud_lines(c, &mut lines);
                    lines.push(Line::from(""));
                }
                for c in check {
                    check_lines(c, &mut lines);
                    lines.push(Line::from(""));
                }
                if failed.is_empty() && check.iter().all(|c| c.missing == 0 && c.risks.is_empty()) {
                    lines.push(ok_line(
                        "every required permission is present and nothing in scope blocks a reset",
                    ));
                    lines.push(Line::from(""));
                }
                users_lines(users, run.selected_user, &mut lines);
            }
            TaskOutput::RevertPreview { list, failed } => {
                failed_lines(failed, &mut lines);
                if failed.is_empty() && list.iter().all(|(_, t)| t.is_empty()) {
                    lines.push(Line::from("Nothing to revert: there is no journal of ours for these directories and connector accounts."));
                }
                for (forest, targets) in list.iter().filter(|(_, t)| !t.is_empty()) {
                    lines.push(Line::from(format!(
                        "Forest {forest}: Revert removes the ACEs recorded in the journal from {} object(s):",
                        targets.len()
                    )));
                    lines.extend(targets.iter().map(|t| Line::from(format!("  {t}"))));
                }
                if list.iter().any(|(_, t)| !t.is_empty()) {
                    lines.push(Line::from(""));
                    lines.push(Line::from(
                        "Press Revert to take them back; other changes made since are kept.",
                    ));
                }
            }
            TaskOutput::Reverted { done, failed } => {
                for (dn, what) in done {
                    lines.push(ok_line(format!("{dn}: {what}")));
                }
                for (dn, e) in failed {
                    lines.push(error_line(&format!("{dn}: {e}")));
                }
                if done.is_empty() && failed.is_empty() {
                    lines.push(Line::from("Nothing was reverted."));
                }
            }
        },
    }
    text(f, area, lines, run.scroll);
}

fn azure(m: &Model, f: &mut Frame, area: Rect, hits: &mut Hits) {
    let a = &m.azure;
    let mut lines: Vec<Line> = vec![
        Line::from(
            "Sign in with a Global Administrator (or Hybrid Identity Administrator) of your tenant.",
        ),
        Line::from(""),
        Line::from(vec![
            marker(focused(m, Target::SignInMethod)),
            Span::raw("Sign-in method:"),
        ]),
    ];
    let err_at = |t: Target, lines: &mut Vec<Line<'static>>| {
        if let Some((at, e)) = &a.error
            && *at == t
        {
            lines.push(error_line(e));
            lines.extend(hint_line(e));
        }
    };
    let mut b = Body::new(area);
    b.extend(std::mem::take(&mut lines));
    for (i, name) in METHODS.iter().enumerate() {
        let first = b.row();
        let n = b.push(Line::from(format!("    {} {name}", radio(a.method == i))));
        b.hit(first, n, Hit::Row(Target::SignInMethod, i));
    }
    err_at(Target::SignInMethod, &mut lines);
    let fields = crate::wizard::pages::logic(Page::AzureAd).focusables(m);
    let entries: [(Target, &str, &crate::wizard::field::TextField); 5] = [
        (Target::Tenant, "Tenant", &a.tenant),
        (Target::Username, "Username", &a.username),
        (Target::CloudPassword, "Password", &a.password),
        (Target::ClientId, "Client ID", &a.client_id),
        (Target::ClientSecret, "Client secret", &a.client_secret),
    ];
    if !a.busy() {
        for (t, label, field) in entries {
            if !fields.contains(&t) {
                continue;
            }
            b.extend(std::mem::take(&mut lines));
            let first = b.row();
            let n = b.push(field_line(label, field, focused(m, t), area.width));
            b.hit(first, n, Hit::Focus(t));
            let reference = match t {
                Target::CloudPassword => a.draft.password.as_ref(),
                Target::ClientSecret => a.draft.client_secret.as_ref(),
                _ => None,
            };
            if let Some(r @ (SecretRef::Env(_) | SecretRef::File(_))) = reference {
                lines.push(Line::from(vec![
                    Span::raw("                      "),
                    dim(format!("from {r}; type to use another for this session")),
                ]));
            }
            err_at(t, &mut lines);
        }
        if a.draft.authority_url.is_some() {
            lines.push(Line::from(vec![
                Span::raw("  "),
                dim(format!(
                    "endpoints: {}",
                    a.draft.authority_url.clone().unwrap_or_default()
                )),
            ]));
        }
    }
    lines.push(Line::from(""));
    match &a.status {
        Status::Idle => {}
        Status::SigningIn { prompt, .. } => {
            lines.push(Line::from(format!("{} Signing in…", m.spinner())));
            if let Some(p) = prompt {
                lines.push(Line::from(""));
                lines.push(Line::from(format!("  Open   {}", p.verification_uri)).bold());
                lines.push(Line::from(format!("  Code   {}", p.user_code)).bold());
                lines.push(Line::from(""));
                lines.push(Line::from(format!("  {}", p.message)));
                lines.push(Line::from(
                    "  Waiting for the sign-in to finish; Cancel or Esc stops waiting.",
                ));
            }
        }
        Status::Done { summary, .. } => {
            cloud_lines(summary, &mut lines);
            lines.extend(ready::upn_warnings(m).into_iter().map(warn_line));
        }
    }
    b.extend(lines);
    b.draw(f, area, 0, hits);
}

fn directories(m: &Model, f: &mut Frame, area: Rect, hits: &mut Hits) {
    let mut b = Body::new(area);
    let mut lines: Vec<Line> = vec![Line::from("Configured directories:").bold()];
    if m.answers.directories.is_empty() {
        lines.push(Line::from("  (none yet: choose Add Directory)"));
    }
    let list_focus = focused(m, Target::DirectoryList);
    for (i, d) in m.answers.directories.iter().enumerate() {
        let sel = m.dirs.selected == i;
        b.extend(std::mem::take(&mut lines));
        let first = b.row();
        let mut n = b.push(Line::from(vec![
            marker(list_focus && sel),
            Span::styled(d.forest.clone(), Style::new().bold()),
            Span::raw(format!("   {}   TLS {}", dc_label(d), tls_name(d.tls))),
        ]));
        n += b.push(Line::from(format!(
            "    admin {} · connector {}",
            d.admin, d.connector
        )));
        b.hit(first, n, Hit::Row(Target::DirectoryList, i));
        match m.dirs.status.get(i) {
            Some(DirStatus::Checking { .. }) => lines.push(Line::from(format!(
                "    {} connecting, discovering the forest, resolving the connector…",
                m.spinner()
            ))),
            Some(DirStatus::Ok { key, info }) if key == d => lines.push(Line::from(vec![
                Span::raw("    "),
                Span::styled(
                    format!(
                        "✓ forest {}: {} domain(s); connector {}",
                        info.forest,
                        info.domains.len(),
                        info.connector_sid
                    ),
                    Style::new().green(),
                ),
            ])),
            Some(DirStatus::Failed { field, error, .. }) => {
                lines.push(error_line(&format!(
                    "{}: {}",
                    field.label(),
                    first_line(error)
                )));
                lines.extend(hint_line(error));
            }
            _ => lines.push(Line::from(vec![
                Span::raw("    "),
                dim("not validated yet (Next validates)"),
            ])),
        }
        if shows_password(m, i)
            && let Some(p) = m.dirs.passwords.get(i)
        {
            let t = Target::DirPassword(i);
            b.extend(std::mem::take(&mut lines));
            let first = b.row();
            let n = b.push(field_line("Admin password", p, focused(m, t), area.width));
            b.hit(first, n, Hit::Focus(t));
        }
    }
    if let Some(e) = &m.dirs.error {
        lines.push(error_line(e));
    }
    lines.push(Line::from(""));
    b.extend(lines);
    let y = b.row();
    let mut x = 2;
    let mut spans = vec![Span::raw("  ")];
    let mut buttons = Vec::new();
    for bt in [
        Button::AddDirectory,
        Button::EditDirectory,
        Button::RemoveDirectory,
    ] {
        if bt != Button::AddDirectory && m.answers.directories.is_empty() {
            continue;
        }
        let s = button(bt.label(), focused(m, Target::Button(bt)), true);
        let w = s.content.chars().count() as u16;
        buttons.push((x, w, bt));
        x += w + 2;
        spans.push(s);
        spans.push(Span::raw("  "));
    }
    // The button row never wraps (the page is at least MIN_WIDTH wide), so each button is where it is drawn.
    b.push(Line::from(spans));
    for (x, w, bt) in buttons {
        b.hit_at(y, x, w, Hit::Button(bt));
    }
    b.draw(f, area, 0, hits);
}

fn ou_filter(m: &Model, f: &mut Frame, area: Rect, hits: &mut Hits) {
    let mut y = area.y;
    let line = |f: &mut Frame, y: u16, l: Line| {
        f.render_widget(Paragraph::new(l), Rect::new(area.x, y, area.width, 1));
    };
    let d = m.answers.directories.get(m.ous.dir);
    let forest = d.map_or("(no directory)".to_string(), |d| d.forest.clone());
    line(
        f,
        y,
        Line::from(vec![
            marker(focused(m, Target::DirectoryPicker)),
            Span::raw(format!(
                "Directory: {forest} ({} of {})",
                m.ous.dir + 1,
                m.answers.directories.len()
            )),
        ]),
    );
    y += 1;
    let selected = d.is_some_and(|d| d.scope == Scope::Selected);
    for (i, (on, label)) in [
        (!selected, "Sync all domains and OUs"),
        (selected, "Sync selected domains and OUs"),
    ]
    .into_iter()
    .enumerate()
    {
        hits.push(
            Rect::new(area.x, y, area.width, 1),
            Hit::Row(Target::Scope, i),
        );
        line(
            f,
            y,
            Line::from(vec![
                marker(focused(m, Target::Scope) && on),
                Span::raw(format!("{} {label}", radio(on))),
            ]),
        );
        y += 1;
    }
    let search_line = match &m.ous.search {
        Some(s) => Line::from(vec![
            Span::raw("  /"),
            Span::raw(s.display()),
            Span::raw("█"),
        ]),
        None => Line::from(""),
    };
    line(f, y, search_line);
    y += 1;
    let rows = usize::from(area.height.saturating_sub(5)).max(1);
    let tree_area = Rect::new(area.x, y, area.width, rows as u16);
    let ous: &[String] = d.map_or(&[], |d| &d.ous);
    match m.ous.tree() {
        Some(t) => draw_tree(m, t, ous, !selected, f, tree_area, hits),
        None => {
            let msg = m.ous.error.clone().unwrap_or_else(|| "loading…".into());
            line(f, y, Line::from(format!("  {msg}")));
        }
    }
    let bottom = area.y + area.height.saturating_sub(1);
    let count = if selected {
        format!("{} container(s) selected", ous.len())
    } else {
        "every domain of the forest is in scope".to_string()
    };
    let mut spans = vec![Span::raw(format!(" {count}"))];
    if let Some(t) = m.ous.tree()
        && !t.visible().is_empty()
    {
        spans.push(dim(format!(
            " · rows {}-{} of {} · {} loaded",
            t.offset + 1,
            (t.offset + rows).min(t.visible().len()),
            t.visible().len(),
            t.len()
        )));
    }
    if let Some(e) = &m.ous.error {
        spans.push(Span::styled(format!("  ✗ {e}"), Style::new().red()));
    } else if let Some(n) = &m.ous.note {
        spans.push(Span::styled(format!("  {n}"), Style::new().yellow()));
    }
    let refresh = button("Refresh", focused(m, Target::Button(Button::Refresh)), true);
    let rw = refresh.content.chars().count() as u16;
    let rx = area.x + area.width.saturating_sub(rw + 1);
    hits.push(Rect::new(rx, bottom, rw, 1), Hit::Button(Button::Refresh));
    // The status never runs under the Refresh button.
    let status_width = rx.saturating_sub(area.x).saturating_sub(1);
    f.render_widget(
        Paragraph::new(Line::from(spans)),
        Rect::new(area.x, bottom, status_width, 1),
    );
    f.render_widget(
        Paragraph::new(Line::from(refresh)),
        Rect::new(rx, bottom, rw, 1),
    );
}

fn draw_tree(
    m: &Model,
    t: &OuTree,
    ous: &[String],
    all: bool,
    f: &mut Frame,
    area: Rect,
    hits: &mut Hits,
) {
    let rows = usize::from(area.height);
    let offset = t.offset.min(t.visible().len().saturating_sub(1));
    let tree_focus = focused(m, Target::Tree);
    for (i, &id) in t.visible().iter().skip(offset).take(rows).enumerate() {
        let Some(node) = t.node(id) else { continue };
        let row = offset + i;
        let y = area.y + i as u16;
        let cursor = row == t.cursor;
        let arrow = match (&node.load, node.expanded) {
            (Load::Loaded, _) if node.children.is_empty() => " ",
            (_, true) => "▾",
            (_, false) => "▸",
        };
        let check = if all {
            "[x]"
        } else {
            checkbox(t.check(id, ous))
        };
        let indent = "  ".repeat(usize::from(node.depth));
        let mut spans = vec![
            Span::raw(if cursor && tree_focus { ">" } else { " " }),
            Span::raw(format!(" {indent}{arrow} ")),
            Span::raw(check),
            Span::raw(" "),
            Span::styled(
                node.name.to_string(),
                if cursor {
                    Style::new().reversed()
                } else {
                    Style::new()
                },
            ),
        ];
        match &node.load {
            Load::Loading => spans.push(dim(format!(
                "  {} loading… ({} so far)",
                m.spinner(),
                node.children.len()
            ))),
            Load::Failed(e) => spans.push(Span::styled(
                format!("  ✗ {}", first_line(e)),
                Style::new().red(),
            )),
            _ => {}
        }
        let style = if all {
            Style::new().add_modifier(Modifier::DIM)
        } else {
            Style::new()
        };
        let check_x = area.x + 3 + (indent.len() as u16);
        hits.push(
            Rect::new(area.x, y, area.width, 1),
            Hit::Row(Target::Tree, i),
        );
        hits.push(Rect::new(check_x, y, 3, 1), Hit::Check(Target::Tree, i));
        f.render_widget(
            Paragraph::new(Line::from(spans)).style(style),
            Rect::new(area.x, y, area.width, 1),
        );
    }
}

fn features_page(m: &Model, f: &mut Frame, area: Rect, hits: &mut Hits) {
    let mut b = Body::new(area);
    b.push(Line::from(
        "Select the permissions to grant to the connector account:",
    ));
    b.push(Line::from(""));
    for (i, (title, what)) in features::ITEMS.iter().enumerate() {
        let t = Target::Feature(i);
        let on = features::checked(m, i);
        let first = b.row();
        let mut n = b.push(Line::from(vec![
            marker(focused(m, t)),
            Span::raw(format!("{} ", if on { "[x]" } else { "[ ]" })),
            Span::styled(title.to_string(), Style::new().bold()),
        ]));
        n += b.push(Line::from(vec![Span::raw("      "), dim(what.to_string())]));
        b.hit(first, n, Hit::Row(t, i));
        b.hit_at(first, 2, 3, Hit::Check(t, i));
        if let Some((at, e)) = &m.features.error
            && *at == i
        {
            b.push(error_line(e));
            b.extend(hint_line(e));
        }
    }
    b.draw(f, area, 0, hits);
}

/// The summary, from the answers model only.
pub fn summary_lines(m: &Model) -> Vec<Line<'static>> {
    let a = &m.answers;
    let mut lines = Vec::new();
    match &a.cloud {
        Some(c) => {
            let who = c
                .username
                .clone()
                .or(c.client_id.clone())
                .unwrap_or_default();
            let method = match c.sign_in {
                crate::cloud::signin::SignInMethod::DeviceCode => "device code",
                crate::cloud::signin::SignInMethod::Password => "username and password",
                crate::cloud::signin::SignInMethod::ClientCredentials => "client credentials",
            };
            lines.push(Line::from(format!(
                "Microsoft Entra ID: tenant {} · {method} {who}",
                c.tenant
            )));
        }
        None => lines.push(Line::from("Microsoft Entra ID: not checked (skipped)")),
    }
    for d in &a.directories {
        lines.push(
            Line::from(format!(
                "Directory {} · {} · TLS {}",
                d.forest,
                dc_label(d),
                tls_name(d.tls)
            ))
            .bold(),
        );
        lines.push(Line::from(format!(
            "  admin {} (password: {}) · connector {}",
            d.admin, d.admin_password, d.connector
        )));
        match d.scope {
            Scope::Domains => lines.push(Line::from("  scope: all domains of the forest")),
            Scope::Selected => {
                lines.push(Line::from(format!(
                    "  scope: {} selected container(s)",
                    d.ous.len()
                )));
                for ou in &d.ous {
                    lines.push(Line::from(format!("    {ou}")));
                }
            }
        }
    }
    let onoff = |b: bool| if b { "on" } else { "off" };
    lines.push(Line::from(format!(
        "Features: Password writeback {} · Unexpire Password {} · AdminSDHolder {}",
        onoff(a.features.password_writeback),
        onoff(a.features.unexpire_password),
        onoff(a.features.admin_sd_holder)
    )));
    lines
}

fn ready_page(m: &Model, f: &mut Frame, area: Rect, hits: &mut Hits) {
    let mut b = Body::new(area);
    b.extend(summary_lines(m));
    b.push(Line::from(""));
    if let Some(e) = &m.ready.save_error {
        b.push(error_line(e));
        b.extend(hint_line(e));
    }
    if let Some(e) = &m.ready.error {
        b.push(error_line(e));
        b.extend(hint_line(e));
    } else if m.ready.busy() {
        b.push(Line::from(format!(
            "{} Reading the security descriptors and computing the plan…",
            m.spinner()
        )));
    } else if let Some(e) = m.ready.failure(&m.answers) {
        b.push(error_line(&e.to_string()));
        b.extend(hint_line(&e.to_string()));
    } else if let Some(plan) = m.ready.current(&m.answers) {
        let aces: usize = plan.iter().map(|p| p.aces()).sum();
        let changed: usize = plan.iter().map(|p| p.changed()).sum();
        let total: usize = plan.iter().map(|p| p.targets.len()).sum();
        b.push(
            Line::from(format!(
                "Plan: {aces} ACE(s) to add on {changed} object(s); {} object(s) unchanged",
                total - changed
            ))
            .bold(),
        );
        for w in ready::upn_warnings(m) {
            b.push(warn_line(w));
        }
        for p in plan {
            if let Some(r) = &p.refusal {
                b.push(error_line(&format!(
                    "forest {}: apply would refuse: {}",
                    p.forest,
                    first_line(r)
                )));
                b.extend(hint_line(r));
            }
            for w in &p.warnings {
                b.push(warn_line(w.clone()));
            }
        }
        let blocked = ready::blocked(m);
        let footer = match &blocked {
            Some(why) => Line::from(Span::styled(format!("✗ {why}"), Style::new().red())),
            None => Line::from(vec![dim(format!(
                "Nothing has been written. Configure saves the answers to {}, then writes.",
                m.paths.config_answers.display()
            ))]),
        };
        let footer_rows = wrap(footer.clone(), area.width).len();
        let list_focus = focused(m, Target::PlanList);
        let all = ready::rows(plan);
        let room = usize::from(area.height)
            .saturating_sub(b.row() + footer_rows)
            .max(1);
        let start = m.ready.selected.saturating_sub(room.saturating_sub(1));
        for (i, (_, t)) in all.iter().enumerate().skip(start).take(room) {
            let sel = i == m.ready.selected;
            let what = if t.aces_to_add > 0 {
                format!("+{} ACE(s)", t.aces_to_add)
            } else {
                "unchanged".to_string()
            };
            let refused = !t.writable && t.aces_to_add > 0;
            let dn_room = usize::from(area.width).saturating_sub(if refused { 50 } else { 34 });
            let first = b.row();
            let n = b.push(Line::from(vec![
                marker(list_focus && sel),
                Span::raw(format!("{what:<11} {:<13} ", t.kind)),
                Span::raw(shorten(&t.dn, dn_room)),
                if refused {
                    Span::styled("  ✗ not writable", Style::new().red())
                } else {
                    Span::raw("")
                },
            ]));
            b.hit(first, n, Hit::Row(Target::PlanList, i));
        }
        b.push(footer);
    }
    b.draw(f, area, 0, hits);
}

fn configuring(m: &Model, f: &mut Frame, area: Rect) {
    let c = &m.configuring;
    let (done, total) = c.events.last().map_or((0, 0), |e| (e.done, e.total));
    let mut lines = Vec::new();
    if let Some(p) = &c.saved_to {
        lines.push(Line::from(format!("Answers saved to {}", p.display())));
    } else {
        lines.push(Line::from(format!("{} Saving the answers…", m.spinner())));
    }
    if c.cancel_requested {
        lines.push(warn_line(
            "Cancelling: the writes in flight finish; nothing new is started.",
        ));
    }
    f.render_widget(
        Paragraph::new(lines),
        Rect::new(area.x, area.y, area.width, 2),
    );
    let ratio = if total == 0 {
        0.0
    } else {
        done as f64 / total as f64
    };
    f.render_widget(
        Gauge::default()
            .ratio(ratio.clamp(0.0, 1.0))
            .label(format!("{done} of {total} object(s)")),
        Rect::new(area.x + 1, area.y + 2, area.width.saturating_sub(2), 1),
    );
    let room = usize::from(area.height.saturating_sub(4));
    let events: Vec<Line> = c
        .events
        .iter()
        .rev()
        .take(room)
        .rev()
        .map(|e| {
            if e.ok {
                ok_line(format!("[{}/{}] {}", e.done, e.total, e.text))
            } else {
                error_line(&format!("[{}/{}] {}", e.done, e.total, e.text))
            }
        })
        .collect();
    f.render_widget(
        Paragraph::new(events),
        Rect::new(
            area.x,
            area.y + 4,
            area.width,
            area.height.saturating_sub(4),
        ),
    );
}

fn complete(m: &Model, f: &mut Frame, area: Rect) {
    let c = &m.configuring;
    let mut lines = Vec::new();
    match &c.result {
        None => lines.push(Line::from("No run has finished.")),
        Some(Err(e)) => {
            // Apply refuses before any write; any other failure may come after some writes: say which.
            let written: Vec<&str> = c
                .events
                .iter()
                .filter(|e| e.ok)
                .map(|e| e.dn.as_str())
                .collect();
            if c.events.is_empty() {
                lines.push(
                    Line::from("The configuration failed before any write: nothing was written.")
                        .bold()
                        .red(),
                );
            } else {
                lines.push(
                    Line::from(format!(
                        "The configuration stopped with an error after {} object(s) were written; the journal in {} records them (Revert takes them back).",
                        written.len(),
                        m.paths.state_dir.display()
                    ))
                    .bold()
                    .red(),
                );
            }
            lines.push(error_line(&e.to_string()));
            lines.extend(hint_line(&e.to_string()));
            for ev in &c.events {
                if ev.ok {
                    lines.push(ok_line(format!("written and verified: {}", ev.dn)));
                } else {
                    lines.push(error_line(&ev.text));
                }
            }
        }
        Some(Ok(r)) => {
            let failed = r.directories.iter().any(|d| !d.ok());
            lines.push(
                Line::from(if r.cancelled {
                    "Cancelled: objects not yet started were not written."
                } else if failed {
                    "Finished with errors."
                } else {
                    "Password writeback permissions are configured."
                })
                .bold(),
            );
            for d in &r.directories {
                lines.push(Line::from(format!(
                    "Forest {}: {} written, {} unchanged, {} failed, {} not written",
                    d.forest,
                    d.written.len(),
                    d.unchanged.len(),
                    d.failed.len(),
                    d.skipped.len()
                )));
                if let Some(e) = &d.error {
                    lines.push(error_line(&format!(
                        "forest {}: {}",
                        d.forest,
                        first_line(e)
                    )));
                    lines.extend(hint_line(e));
                }
                lines.extend(
                    d.written
                        .iter()
                        .map(|dn| ok_line(format!("written and verified: {dn}"))),
                );
                lines.extend(
                    d.unchanged
                        .iter()
                        .map(|dn| Line::from(format!("  unchanged: {dn}"))),
                );
                for (dn, e) in &d.failed {
                    lines.push(error_line(&format!("{dn}: {e}")));
                }
                lines.extend(
                    d.skipped
                        .iter()
                        .map(|dn| warn_line(format!("not written: {dn}"))),
                );
                if let Some(j) = &d.journal {
                    lines.push(Line::from(format!("  Journal: {j}")));
                }
            }
        }
    }
    lines.push(Line::from(""));
    lines.push(Line::from(format!("Log: {}", m.paths.log_file.display())));
    lines.push(Line::from(format!(
        "Answers: {}",
        c.saved_to
            .as_ref()
            .map_or("not saved".to_string(), |p| p.display().to_string())
    )));
    if let Some(p) = &c.saved_to {
        lines.push(Line::from(vec![dim(format!(
            "Replay: writeback-wizard apply --answers {} --yes",
            p.display()
        ))]));
    }
    lines.push(Line::from(""));
    lines.push(Line::from("Still to do:").bold());
    lines.push(Line::from(PORTAL_STEP));
    text(f, area, lines, c.scroll);
}
