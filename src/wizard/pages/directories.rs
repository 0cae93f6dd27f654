//! Connect your directories: the configured forests, the Add Directory dialog (forest, LDAP URL, TLS mode, CA
//! file, the admin account that may change ACLs and its password, the connector account), and a masked
//! password field for every directory whose password is `prompt`. On Next every directory is validated by
//! really connecting, discovering the forest and resolving the connector; the back end's error is shown at the
//! field it is about.

use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::{PageLogic, list_key, nav_buttons};
use crate::answers::{Answers, Directory, Features, Scope, TlsMode};
use crate::error::Error;
use crate::secret::SecretRef;
use crate::wizard::data::DirectoryInfo;
use crate::wizard::field::TextField;
use crate::wizard::keys::{self, Hint};
use crate::wizard::{Button, DirField, Effect, Model, Page, Popup, Target, goto};

#[derive(Debug, Clone)]
pub enum DirStatus {
    Unchecked,
    /// Validation request `id` runs; only its result is taken.
    Checking {
        id: u64,
    },
    Ok {
        key: Directory,
        info: DirectoryInfo,
    },
    Failed {
        key: Directory,
        field: DirField,
        error: String,
    },
}

#[derive(Debug, Default)]
pub struct State {
    pub selected: usize,
    /// Typed admin passwords, one per directory (empty when the reference is used as it is).
    pub passwords: Vec<TextField>,
    pub status: Vec<DirStatus>,
    /// A page-level problem (no directory yet).
    pub error: Option<String>,
}

impl State {
    pub fn from_answers(a: &Answers) -> Self {
        Self {
            selected: 0,
            passwords: a.directories.iter().map(|_| TextField::masked()).collect(),
            status: a.directories.iter().map(|_| DirStatus::Unchecked).collect(),
            error: None,
        }
    }

    pub fn busy(&self) -> bool {
        self.status
            .iter()
            .any(|s| matches!(s, DirStatus::Checking { .. }))
    }

    pub fn info(&self, i: usize) -> Option<&DirectoryInfo> {
        match self.status.get(i) {
            Some(DirStatus::Ok { info, .. }) => Some(info),
            _ => None,
        }
    }
}

/// The dialog's state; `fields` are indexed like [`DirField::ALL`] (the TLS slot is unused: see `tls`).
#[derive(Debug)]
pub struct Dialog {
    pub editing: Option<usize>,
    pub fields: Vec<TextField>,
    pub tls: TlsMode,
    /// 0..7 the fields, 7 OK, 8 Cancel.
    pub focus: usize,
    pub error: Option<(DirField, String)>,
    /// The directory being edited (or a new one's defaults): keeps what the dialog does not show.
    pub base: Option<Directory>,
}

pub const DIALOG_OK: usize = 7;
pub const DIALOG_CANCEL: usize = 8;

impl Dialog {
    fn new(m: &Model, editing: Option<usize>) -> Self {
        let base = editing.and_then(|i| m.answers.directories.get(i).cloned());
        let mut fields: Vec<TextField> = DirField::ALL
            .iter()
            .map(|f| match (&base, f) {
                (_, DirField::Password) => TextField::masked(),
                (Some(d), DirField::Forest) => TextField::new(&d.forest),
                (Some(d), DirField::Url) => TextField::new(d.url.as_deref().unwrap_or_default()),
                (Some(d), DirField::CaFile) => TextField::new(
                    &d.ca_file
                        .as_ref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default(),
                ),
                (Some(d), DirField::Admin) => TextField::new(&d.admin),
                (Some(d), DirField::Connector) => TextField::new(&d.connector),
                (None, DirField::Url) => TextField::new("ldaps://"),
                _ => TextField::new(""),
            })
            .collect();
        if let Some(i) = editing
            && let Some(p) = m.dirs.passwords.get(i)
            && let Some(slot) = fields.get_mut(5)
        {
            *slot = p.clone();
        }
        let error = editing.and_then(|i| match m.dirs.status.get(i) {
            Some(DirStatus::Failed { field, error, .. }) => Some((*field, error.clone())),
            _ => None,
        });
        let focus = error
            .as_ref()
            .and_then(|(f, _)| DirField::ALL.iter().position(|x| x == f))
            .unwrap_or(0);
        Self {
            editing,
            fields,
            tls: base.as_ref().map_or(TlsMode::Ldaps, |d| d.tls),
            focus,
            error,
            base,
        }
    }

    pub fn field(&self, f: DirField) -> &TextField {
        let i = DirField::ALL.iter().position(|x| *x == f).unwrap_or(0);
        &self.fields[i.min(self.fields.len() - 1)]
    }

    /// The reference the password is saved as: the loaded one, or `prompt`.
    pub fn password_ref(&self) -> Option<&SecretRef> {
        self.base.as_ref().map(|d| &d.admin_password)
    }

    fn directory(&self, paths: &crate::wizard::Paths) -> Directory {
        let text = |f: DirField| self.field(f).text().trim().to_string();
        let base = self.base.clone();
        let admin_password = match base.as_ref().map(|d| &d.admin_password) {
            Some(r @ (SecretRef::Env(_) | SecretRef::File(_))) => r.clone(),
            _ => SecretRef::Prompt,
        };
        let ca = text(DirField::CaFile);
        let url = text(DirField::Url);
        let kept = base.clone().unwrap_or_else(Directory::minimal);
        Directory {
            forest: text(DirField::Forest),
            url: (!url.is_empty()).then_some(url),
            dns_server: kept.dns_server,
            auth: kept.auth,
            spn_host: kept.spn_host,
            domains: kept.domains,
            tls: self.tls,
            ca_file: (!ca.is_empty()).then(|| paths.resolve(&ca)),
            danger_skip_tls_verify: base.as_ref().is_some_and(|d| d.danger_skip_tls_verify),
            allow_plaintext: base.as_ref().is_some_and(|d| d.allow_plaintext),
            admin: text(DirField::Admin),
            admin_password,
            connector: text(DirField::Connector),
            scope: base.as_ref().map_or(Scope::Domains, |d| d.scope),
            max_in_flight: base.as_ref().and_then(|d| d.max_in_flight),
            connect_timeout: kept.connect_timeout,
            operation_timeout: kept.operation_timeout,
            ous: base.map(|d| d.ous).unwrap_or_default(),
        }
    }
}

pub struct Directories;

fn needs_password(m: &Model, i: usize) -> bool {
    m.answers
        .directories
        .get(i)
        .is_some_and(|d| d.admin_password == SecretRef::Prompt)
        && m.dirs.passwords.get(i).is_none_or(TextField::is_empty)
}

/// Whether the page shows a password field for directory `i`.
pub fn shows_password(m: &Model, i: usize) -> bool {
    m.answers
        .directories
        .get(i)
        .is_some_and(|d| d.admin_password == SecretRef::Prompt)
        || matches!(
            m.dirs.status.get(i),
            Some(DirStatus::Failed {
                field: DirField::Password,
                ..
            })
        )
        || m.dirs.passwords.get(i).is_some_and(|p| !p.is_empty())
}

impl PageLogic for Directories {
    fn focusables(&self, m: &Model) -> Vec<Target> {
        let n = m.answers.directories.len();
        let mut v = Vec::new();
        if n > 0 {
            v.push(Target::DirectoryList);
        }
        v.extend(
            (0..n)
                .filter(|i| shows_password(m, *i))
                .map(Target::DirPassword),
        );
        v.push(Target::Button(Button::AddDirectory));
        if n > 0 {
            v.push(Target::Button(Button::EditDirectory));
            v.push(Target::Button(Button::RemoveDirectory));
        }
        v.extend(nav_buttons(m, Button::Next));
        v
    }

    fn initial_focus(&self, m: &Model) -> Target {
        if m.answers.directories.is_empty() {
            return Target::Button(Button::AddDirectory);
        }
        if let Some(i) = (0..m.answers.directories.len()).find(|i| needs_password(m, *i)) {
            return Target::DirPassword(i);
        }
        Target::Button(Button::Next)
    }

    fn key(&self, m: &mut Model, k: KeyEvent) -> Option<Vec<Effect>> {
        match m.focus {
            Target::DirectoryList => {
                if let Some(i) = list_key(&k, m.dirs.selected, m.answers.directories.len()) {
                    m.dirs.selected = i;
                    return Some(Vec::new());
                }
                if keys::DELETE.matches(&k) {
                    return Some(self.activate(m, Button::RemoveDirectory));
                }
                if k.code == KeyCode::Enter {
                    return Some(self.activate(m, Button::EditDirectory));
                }
                if keys::ADD.matches(&k) {
                    return Some(self.activate(m, Button::AddDirectory));
                }
                None
            }
            Target::DirPassword(i) => {
                if k.code == KeyCode::Enter {
                    return None;
                }
                let used = m.dirs.passwords.get_mut(i).is_some_and(|f| f.key(k));
                if used {
                    // Another password: no earlier result (or one still on its way) stands for it.
                    if let Some(s) = m.dirs.status.get_mut(i) {
                        *s = DirStatus::Unchecked;
                    }
                    return Some(Vec::new());
                }
                None
            }
            _ if keys::ADD.matches(&k) => Some(self.activate(m, Button::AddDirectory)),
            _ => None,
        }
    }

    fn activate(&self, m: &mut Model, b: Button) -> Vec<Effect> {
        match b {
            Button::AddDirectory => {
                m.popup = Some(Popup::Directory(Dialog::new(m, None)));
                Vec::new()
            }
            Button::EditDirectory if !m.answers.directories.is_empty() => {
                let i = m.dirs.selected.min(m.answers.directories.len() - 1);
                m.popup = Some(Popup::Directory(Dialog::new(m, Some(i))));
                Vec::new()
            }
            Button::RemoveDirectory if !m.answers.directories.is_empty() => {
                let i = m.dirs.selected.min(m.answers.directories.len() - 1);
                m.answers.directories.remove(i);
                m.dirs.passwords.remove(i);
                m.dirs.status.remove(i);
                m.ous.remove(i);
                m.dirs.selected = m.dirs.selected.saturating_sub(1);
                m.focus = Directories.initial_focus(m);
                Vec::new()
            }
            Button::Next => next(m),
            _ => Vec::new(),
        }
    }

    fn hints(&self, m: &Model, out: &mut Vec<Hint>) {
        if m.focus == Target::DirectoryList {
            out.push(keys::UP.hint());
            out.push(Hint {
                key: "Enter",
                action: "edit",
                enabled: true,
            });
            out.push(keys::DELETE.hint());
        }
        if !m.focus.is_text() {
            out.push(keys::ADD.hint());
        }
        out.push(Hint {
            key: "Enter",
            action: "Next (validate)",
            enabled: true,
        });
    }

    fn select_row(&self, m: &mut Model, _t: Target, row: usize, _check: bool) -> Vec<Effect> {
        if row < m.answers.directories.len() {
            m.dirs.selected = row;
        }
        Vec::new()
    }
}

fn next(m: &mut Model) -> Vec<Effect> {
    if m.dirs.busy() {
        // One bind per press would risk locking the admin account out: wait for the one running.
        m.status = Some("validating: wait for the directories being checked".into());
        return Vec::new();
    }
    m.dirs.error = None;
    if m.answers.directories.is_empty() {
        m.dirs.error = Some(
            "no directory yet: choose Add Directory and enter the forest, the admin and the connector account"
                .into(),
        );
        m.focus = Target::Button(Button::AddDirectory);
        return Vec::new();
    }
    if let Some(i) = (0..m.answers.directories.len()).find(|i| needs_password(m, *i)) {
        m.dirs.status[i] = DirStatus::Failed {
            key: m.answers.directories[i].clone(),
            field: DirField::Password,
            error: "admin_password: type the password of the admin account (kept in memory only; saved as prompt)".into(),
        };
        m.focus = Target::DirPassword(i);
        return Vec::new();
    }
    let mut effects = Vec::new();
    for i in 0..m.answers.directories.len() {
        let key = m.answers.directories[i].clone();
        let fresh = matches!(&m.dirs.status[i], DirStatus::Ok { key: k, .. } if *k == key);
        if fresh {
            continue;
        }
        if let Some(directory) = m.runtime_directory(i) {
            let id = m.request_id();
            m.dirs.status[i] = DirStatus::Checking { id };
            effects.push(Effect::ValidateDirectory {
                id,
                index: i,
                key,
                directory,
            });
        }
    }
    if effects.is_empty() {
        return goto(m, Page::OuFilter);
    }
    effects
}

/// The dialog field a back-end or validation error is about.
pub fn field_of(e: &Error) -> DirField {
    let msg = e.message.to_ascii_lowercase();
    let msg = msg
        .split_once("]: ")
        .filter(|(head, _)| head.starts_with("directory["))
        .map_or(msg.as_str(), |(_, rest)| rest)
        .to_string();
    let hint = e.hint.as_deref().unwrap_or_default().to_ascii_lowercase();
    for f in DirField::ALL {
        if msg.starts_with(&format!("{}:", f.key())) || msg.starts_with(&format!("{} ", f.key())) {
            return f;
        }
    }
    if msg.starts_with("ca_file") || hint.contains("ca_file") {
        DirField::CaFile
    } else if msg.contains("belongs to forest") {
        DirField::Forest
    } else if msg.starts_with("cannot bind") {
        if msg.contains("no such user") {
            DirField::Admin
        } else {
            DirField::Password
        }
    } else if msg.starts_with("connector") || msg.contains("connector ") {
        DirField::Connector
    } else if msg.contains("tls") || msg.contains("plain ldap") {
        DirField::Tls
    } else {
        DirField::Url
    }
}

pub fn validated(
    m: &mut Model,
    id: u64,
    _index: usize,
    key: Directory,
    result: Result<DirectoryInfo, Error>,
) -> Vec<Effect> {
    // The directory may have moved in the list meanwhile: the request id finds it.
    let Some(index) = m
        .dirs
        .status
        .iter()
        .position(|s| matches!(s, DirStatus::Checking { id: c } if *c == id))
    else {
        return Vec::new();
    };
    if m.answers.directories.get(index) != Some(&key) {
        m.dirs.status[index] = DirStatus::Unchecked;
        return Vec::new();
    }
    m.dirs.status[index] = match result {
        Ok(info) => {
            m.ous.reset(index);
            DirStatus::Ok { key, info }
        }
        Err(e) => {
            let field = field_of(&e);
            DirStatus::Failed {
                key,
                field,
                error: e.to_string(),
            }
        }
    };
    if m.page == Page::Directories && !m.dirs.busy() {
        let failed = (0..m.dirs.status.len())
            .find(|i| matches!(m.dirs.status[*i], DirStatus::Failed { .. }));
        m.focus = match failed {
            Some(i) if shows_password(m, i) => Target::DirPassword(i),
            Some(i) => {
                m.dirs.selected = i;
                Target::DirectoryList
            }
            None => Target::Button(Button::Next),
        };
    }
    Vec::new()
}

pub fn dialog_key(m: &mut Model, k: KeyEvent) -> Vec<Effect> {
    let Some(Popup::Directory(d)) = m.popup.as_mut() else {
        return Vec::new();
    };
    let tls_slot = 2;
    match k.code {
        KeyCode::Esc => {
            m.popup = None;
            return Vec::new();
        }
        KeyCode::Tab | KeyCode::Down => {
            d.focus = (d.focus + 1) % 9;
            return Vec::new();
        }
        KeyCode::BackTab | KeyCode::Up => {
            d.focus = (d.focus + 8) % 9;
            return Vec::new();
        }
        KeyCode::Enter => {
            return match d.focus {
                DIALOG_OK => dialog_button(m, 0),
                DIALOG_CANCEL => dialog_button(m, 1),
                6 => {
                    d.focus = DIALOG_OK;
                    dialog_button(m, 0)
                }
                _ => {
                    d.focus += 1;
                    Vec::new()
                }
            };
        }
        _ => {}
    }
    if d.focus == tls_slot {
        if matches!(k.code, KeyCode::Char(' ') | KeyCode::Left | KeyCode::Right) {
            d.tls = match (d.tls, k.code) {
                (TlsMode::Ldaps, KeyCode::Left) => TlsMode::None,
                (TlsMode::Ldaps, _) => TlsMode::Starttls,
                (TlsMode::Starttls, KeyCode::Left) => TlsMode::Ldaps,
                (TlsMode::Starttls, _) => TlsMode::None,
                (TlsMode::None, KeyCode::Left) => TlsMode::Starttls,
                (TlsMode::None, _) => TlsMode::Ldaps,
            };
            d.error = None;
        }
        return Vec::new();
    }
    if let Some(f) = d.fields.get_mut(d.focus)
        && f.key(k)
    {
        d.error = None;
    }
    Vec::new()
}

/// OK (0) or Cancel (1) of the dialog.
pub fn dialog_button(m: &mut Model, i: usize) -> Vec<Effect> {
    let Some(Popup::Directory(d)) = m.popup.as_mut() else {
        return Vec::new();
    };
    if i != 0 {
        m.popup = None;
        return Vec::new();
    }
    let directory = d.directory(&m.paths);
    let probe = Answers {
        version: crate::answers::VERSION,
        directories: vec![directory.clone()],
        features: Features::default(),
        cloud: None,
    };
    let typed = d.fields.get(5).cloned().unwrap_or_else(TextField::masked);
    let reference_only = matches!(
        directory.admin_password,
        SecretRef::Env(_) | SecretRef::File(_)
    );
    let error = match probe.validate() {
        Err(e) => {
            let text = e.to_string();
            let text = text.strip_prefix("directory[1]: ").unwrap_or(&text).to_string();
            Some((field_of(&e), text))
        }
        Ok(()) if typed.is_empty() && !reference_only => Some((
            DirField::Password,
            "admin_password: type the password of the admin account (kept in memory only; saved as prompt)"
                .to_string(),
        )),
        Ok(()) => None,
    };
    if let Some((field, message)) = error {
        d.focus = DirField::ALL.iter().position(|x| *x == field).unwrap_or(0);
        d.error = Some((field, message));
        return Vec::new();
    }
    let editing = d.editing;
    m.popup = None;
    match editing {
        Some(i) if i < m.answers.directories.len() => {
            m.answers.directories[i] = directory;
            m.dirs.passwords[i] = typed;
            m.dirs.status[i] = DirStatus::Unchecked;
            m.dirs.selected = i;
        }
        _ => {
            m.answers.directories.push(directory);
            m.dirs.passwords.push(typed);
            m.dirs.status.push(DirStatus::Unchecked);
            m.dirs.selected = m.answers.directories.len() - 1;
        }
    }
    m.dirs.error = None;
    m.focus = Target::Button(Button::Next);
    Vec::new()
}
