//! The wizard as a model driven by messages (the Elm architecture): [`Model`] holds the answers being built and
//! the state of every page, [`update`] applies one [`Message`] and returns the [`Effect`]s the runtime must run
//! (sign in, connect, load one OU level, plan, apply, save). Nothing here does I/O, touches the terminal or
//! awaits; every back-end result comes back as a message.
//!
//! One file per page under [`pages`] (state, keys, validation); the answers are one model ([`Answers`]) that
//! the pages edit and the Ready to configure page summarizes, so the summary never depends on which screens
//! were visited.

pub mod data;
pub mod field;
pub mod keys;
pub mod pages;
pub mod sddl;
pub mod tree;

#[cfg(test)]
pub mod testing;

use std::path::PathBuf;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::answers::{Answers, Cloud, Directory, Features};
use crate::error::Error;
use data::{
    ApplyEvent, ApplyResult, CloudSummary, DevicePrompt, DirectoryInfo, OuEntry, PlanSummary,
    TaskOutput,
};
use field::TextField;
pub use keys::Hint;
use pages::Task;

/// The smallest terminal the pages are laid out for; below it a "needs W×H" screen is shown.
pub const MIN_WIDTH: u16 = 70;
pub const MIN_HEIGHT: u16 = 20;

/// The steps, in order. Titles are the original wizard's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Welcome,
    Tasks,
    AzureAd,
    Directories,
    OuFilter,
    Features,
    Ready,
    Configuring,
    Complete,
}

impl Page {
    pub const ALL: [Page; 9] = [
        Page::Welcome,
        Page::Tasks,
        Page::AzureAd,
        Page::Directories,
        Page::OuFilter,
        Page::Features,
        Page::Ready,
        Page::Configuring,
        Page::Complete,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Page::Welcome => "Welcome",
            Page::Tasks => "Additional tasks",
            Page::AzureAd => "Connect to Azure AD",
            Page::Directories => "Connect your directories",
            Page::OuFilter => "Domain and OU filtering",
            Page::Features => "Optional features",
            Page::Ready => "Ready to configure",
            Page::Configuring => "Configuring",
            Page::Complete => "Configuration complete",
        }
    }

    pub fn index(self) -> usize {
        Self::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }

    pub fn prev(self) -> Option<Page> {
        self.index()
            .checked_sub(1)
            .and_then(|i| Self::ALL.get(i).copied())
    }

    pub fn next(self) -> Option<Page> {
        Self::ALL.get(self.index() + 1).copied()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Button {
    Previous,
    Next,
    Cancel,
    Configure,
    Quit,
    Exit,
    AddDirectory,
    EditDirectory,
    RemoveDirectory,
    Refresh,
    Revert,
    Details,
}

impl Button {
    pub fn label(self) -> &'static str {
        match self {
            Button::Previous => "Previous",
            Button::Next => "Next",
            Button::Cancel => "Cancel",
            Button::Configure => "Configure",
            Button::Quit => "Quit",
            Button::Exit => "Exit",
            Button::AddDirectory => "Add Directory",
            Button::EditDirectory => "Edit",
            Button::RemoveDirectory => "Remove",
            Button::Refresh => "Refresh",
            Button::Revert => "Revert",
            Button::Details => "Details",
        }
    }
}

/// Something that can have the focus on a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Button(Button),
    TaskList,
    SignInMethod,
    Tenant,
    Username,
    CloudPassword,
    ClientId,
    ClientSecret,
    DirectoryList,
    DirPassword(usize),
    DirectoryPicker,
    Scope,
    Tree,
    Feature(usize),
    PlanList,
    /// The progress of Configuring (holds the focus there so Enter never presses Cancel).
    Progress,
}

impl Target {
    /// Text fields take printable keys, so `q` and `?` type there instead of quitting or opening help.
    pub fn is_text(self) -> bool {
        matches!(
            self,
            Target::Tenant
                | Target::Username
                | Target::CloudPassword
                | Target::ClientId
                | Target::ClientSecret
                | Target::DirPassword(_)
        )
    }
}

/// Where a mouse click landed, as the last drawn frame laid it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hit {
    /// Focus and activate.
    Button(Button),
    /// Focus a field.
    Focus(Target),
    /// Row `n` of a list or the tree (focus and select).
    Row(Target, usize),
    /// The checkbox of row `n` (the tree, the features).
    Check(Target, usize),
    /// Button `n` of the open popup.
    Popup(usize),
}

/// Paths the runtime resolved before the first frame; shown on the pages, never written by the model.
#[derive(Debug, Clone, Default)]
pub struct Paths {
    /// Where Configure saves the answers (config directory).
    pub config_answers: PathBuf,
    pub state_dir: PathBuf,
    pub log_file: PathBuf,
    /// For `~` in paths typed in the wizard.
    pub home: Option<PathBuf>,
    /// For relative paths typed in the wizard (the directory the wizard was started in).
    pub cwd: Option<PathBuf>,
}

impl Paths {
    /// A path typed in the wizard as the runtime will use it: `~` and `~/...` are the home directory, a
    /// relative path is taken from the directory the wizard was started in. Saved answers so never depend on
    /// where a later run starts.
    pub fn resolve(&self, typed: &str) -> PathBuf {
        let typed = typed.trim();
        let expanded = match (typed, &self.home) {
            ("~", Some(h)) => h.clone(),
            (t, Some(h)) if t.starts_with("~/") => h.join(&t[2..]),
            (t, _) => PathBuf::from(t),
        };
        match &self.cwd {
            Some(cwd) if expanded.is_relative() => cwd.join(expanded),
            _ => expanded,
        }
    }
}

/// Fields of the Add Directory dialog (and where a back-end error about a directory belongs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirField {
    Forest,
    Url,
    Tls,
    CaFile,
    Admin,
    Password,
    Connector,
}

impl DirField {
    pub const ALL: [DirField; 7] = [
        DirField::Forest,
        DirField::Url,
        DirField::Tls,
        DirField::CaFile,
        DirField::Admin,
        DirField::Password,
        DirField::Connector,
    ];

    pub fn label(self) -> &'static str {
        match self {
            DirField::Forest => "Forest",
            DirField::Url => "LDAP URL",
            DirField::Tls => "TLS",
            DirField::CaFile => "CA file",
            DirField::Admin => "Admin account",
            DirField::Password => "Admin password",
            DirField::Connector => "Connector account",
        }
    }

    /// The answers-file key, as error messages name it.
    pub fn key(self) -> &'static str {
        match self {
            DirField::Forest => "forest",
            DirField::Url => "url",
            DirField::Tls => "tls",
            DirField::CaFile => "ca_file",
            DirField::Admin => "admin",
            DirField::Password => "admin_password",
            DirField::Connector => "connector",
        }
    }
}

#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Popup {
    Help,
    /// Quit with unsaved answers? Buttons: Save as…, Quit, Stay.
    ConfirmQuit {
        focus: usize,
    },
    SaveAs {
        field: TextField,
        error: Option<String>,
    },
    Directory(pages::directories::Dialog),
    /// Write now? Buttons: Configure, Back.
    ConfirmConfigure {
        focus: usize,
    },
    /// Revert now? Buttons: Revert, Back.
    ConfirmRevert {
        focus: usize,
    },
    /// Writes are running: cancel them? Buttons: Cancel the run, Keep writing (the default).
    ConfirmCancel {
        focus: usize,
    },
    /// Cancel was asked for and writes still finish: quit now? Buttons: Quit now, Wait (the default).
    QuitNow {
        focus: usize,
    },
    /// A revert is running (it is never stopped half-way): quit when it ends? Buttons: Quit when it ends, Stay.
    QuitAfterRevert {
        focus: usize,
    },
    /// SDDL before/after of one planned target (`row` in the plan list), scrolled down `scroll` rows.
    Sddl {
        row: usize,
        scroll: usize,
    },
    /// A task needs a secret that is `prompt`: ask for it here.
    Secret {
        directory: usize,
        field: TextField,
        then: Task,
    },
    /// Why the connector cannot serve one user (`explain`); `None` while it is worked out.
    Explain {
        dn: String,
        text: Option<Result<String, String>>,
        scroll: u16,
    },
}

/// Inputs to [`update`]: terminal events (already mapped by the runtime) and back-end results.
#[derive(Debug)]
pub enum Message {
    Key(KeyEvent),
    Click(Hit),
    /// Mouse wheel: rows to scroll (negative = up).
    Scroll(i16),
    Resize(u16, u16),
    Tick,
    /// SIGTERM or SIGHUP: leave as a quit does (writes running are cancelled and waited for).
    Terminate,
    /// `id` echoes the request's: a result of an earlier request (cancelled, or for other inputs) is dropped.
    DevicePrompt {
        id: u64,
        prompt: DevicePrompt,
    },
    SignedIn {
        id: u64,
        key: Cloud,
        result: Result<CloudSummary, Error>,
    },
    DirectoryValidated {
        id: u64,
        index: usize,
        key: Directory,
        result: Result<DirectoryInfo, Error>,
    },
    /// One page of a one-level OU search; `done` closes the level.
    ChildrenLoaded {
        dir: usize,
        node: tree::NodeId,
        generation: u64,
        entries: Vec<OuEntry>,
        done: bool,
        error: Option<Error>,
    },
    Planned {
        key: Answers,
        result: Result<Vec<PlanSummary>, Error>,
    },
    Saved {
        path: PathBuf,
        result: Result<(), Error>,
    },
    ApplyProgress(ApplyEvent),
    Applied(Result<ApplyResult, Error>),
    TaskDone {
        id: u64,
        task: Task,
        result: Result<TaskOutput, Error>,
    },
    Explained {
        dn: String,
        result: Result<String, Error>,
    },
}

/// Work for the runtime. Answers inside an effect are the runtime form: secrets typed in the wizard are
/// [`crate::secret::SecretRef::Typed`] (memory only); `key`s are the saved form, to match results to inputs.
#[derive(Debug)]
pub enum Effect {
    SignIn {
        id: u64,
        key: Cloud,
        cloud: Cloud,
    },
    CancelSignIn,
    ValidateDirectory {
        id: u64,
        index: usize,
        key: Directory,
        directory: Directory,
    },
    LoadChildren {
        dir: usize,
        directory: Directory,
        node: tree::NodeId,
        dn: String,
        generation: u64,
    },
    Plan {
        key: Answers,
        answers: Answers,
    },
    Save {
        path: PathBuf,
        answers: Answers,
    },
    /// Save the answers to `save_to`, then apply the plan (the one shown, when `key` still matches).
    Configure {
        save_to: PathBuf,
        key: Answers,
        answers: Answers,
    },
    CancelApply,
    RunTask {
        id: u64,
        task: Task,
        answers: Answers,
    },
    /// Explain one user of directory `directory` (Troubleshoot).
    Explain {
        answers: Answers,
        directory: usize,
        dn: String,
    },
    Quit,
}

/// The whole wizard state.
#[derive(Debug)]
pub struct Model {
    pub page: Page,
    /// The answers as they would be saved: secrets are references only.
    pub answers: Answers,
    pub answers_path: Option<PathBuf>,
    pub dirty: bool,
    pub focus: Target,
    pub popup: Option<Popup>,
    pub writes_started: bool,
    pub quit: bool,
    pub size: (u16, u16),
    pub tick: u64,
    /// One line under the page: what just happened (saved, refused, ...).
    pub status: Option<String>,
    pub paths: Paths,
    /// The last request id handed out (sign-in, directory validation, tasks): results echo their id.
    pub last_request: u64,
    /// Quit as soon as the writes running (apply, revert) have finished (asked for, or a signal).
    pub quit_when_done: bool,
    pub tasks: pages::tasks::State,
    pub azure: pages::azure::State,
    pub dirs: pages::directories::State,
    pub ous: pages::ou_filter::State,
    pub features: pages::features::State,
    pub ready: pages::ready::State,
    pub configuring: pages::configuring::State,
}

impl Model {
    /// A wizard over `answers` (preloaded from `answers_path`) or over empty answers.
    pub fn new(answers: Option<Answers>, answers_path: Option<PathBuf>, paths: Paths) -> Self {
        let answers = answers.unwrap_or_else(|| Answers {
            version: crate::answers::VERSION,
            directories: Vec::new(),
            features: Features::default(),
            cloud: None,
        });
        let mut m = Self {
            page: Page::Welcome,
            azure: pages::azure::State::from_answers(&answers),
            dirs: pages::directories::State::from_answers(&answers),
            ous: pages::ou_filter::State::default(),
            answers,
            answers_path,
            dirty: false,
            focus: Target::Button(Button::Configure),
            popup: None,
            writes_started: false,
            quit: false,
            size: (80, 24),
            tick: 0,
            status: None,
            paths,
            last_request: 0,
            quit_when_done: false,
            tasks: pages::tasks::State::default(),
            features: pages::features::State::default(),
            ready: pages::ready::State::default(),
            configuring: pages::configuring::State::default(),
        };
        m.focus = pages::initial_focus(&m);
        m
    }

    /// A new request id, higher than every earlier one.
    pub fn request_id(&mut self) -> u64 {
        self.last_request += 1;
        self.last_request
    }

    /// Printable keys go to a text field (so `q` and `?` type instead of quitting or opening help).
    pub fn typing(&self) -> bool {
        self.focus.is_text() || (self.focus == Target::Tree && self.ous.search.is_some())
    }

    pub fn too_small(&self) -> bool {
        self.size.0 < MIN_WIDTH || self.size.1 < MIN_HEIGHT
    }

    /// The answers with every secret typed in the wizard put in as [`crate::secret::SecretRef::Typed`].
    pub fn runtime_answers(&self) -> Answers {
        let mut a = self.answers.clone();
        for (i, d) in a.directories.iter_mut().enumerate() {
            if let Some(s) = self.dirs.passwords.get(i).and_then(TextField::secret) {
                d.admin_password = typed(s);
            }
        }
        if let Some(c) = a.cloud.as_mut() {
            self.azure.put_typed_secrets(c);
        }
        a
    }

    pub fn runtime_directory(&self, index: usize) -> Option<Directory> {
        self.runtime_answers().directories.into_iter().nth(index)
    }

    /// Anything running that the spinner should show.
    pub fn busy(&self) -> bool {
        self.azure.busy()
            || self.dirs.busy()
            || self.ous.busy()
            || self.ready.busy()
            || self.tasks.busy()
            || (self.page == Page::Configuring && self.configuring.result.is_none())
    }

    pub fn spinner(&self) -> char {
        const FRAMES: [char; 4] = ['|', '/', '-', '\\'];
        FRAMES[(self.tick % 4) as usize]
    }

    /// Rows the OU tree gets on screen (kept in step with the view's layout).
    pub fn tree_rows(&self) -> usize {
        usize::from(self.size.1.saturating_sub(pages::ou_filter::TREE_CHROME)).max(1)
    }

    pub fn hints(&self) -> Vec<Hint> {
        let mut out = Vec::new();
        match &self.popup {
            Some(Popup::Sddl { .. } | Popup::Explain { .. }) => {
                out.push(keys::UP.hint());
                out.push(Hint {
                    key: "PgUp/PgDn",
                    action: "page",
                    enabled: true,
                });
                out.push(Hint {
                    key: "Esc",
                    action: "close",
                    enabled: true,
                });
            }
            Some(_) => {
                out.push(keys::ENTER.hint());
                out.push(keys::TAB.hint());
                out.push(keys::ESC.hint());
            }
            None => {
                pages::hints(self, &mut out);
                out.push(keys::TAB.hint());
                out.push(Hint {
                    key: "Esc",
                    action: "back",
                    enabled: pages::can_go_back(self),
                });
                out.push(keys::SAVE.hint());
                out.push(keys::HELP.hint());
                out.push(Hint {
                    key: if self.typing() { "Ctrl-C" } else { "q" },
                    action: "quit",
                    enabled: true,
                });
            }
        }
        out
    }
}

fn typed(s: secrecy::SecretString) -> crate::secret::SecretRef {
    crate::secret::SecretRef::Typed(crate::secret::TypedSecret::new(s))
}

/// Applies one message. Answers that change mark the model dirty (unsaved).
pub fn update(m: &mut Model, msg: Message) -> Vec<Effect> {
    let before = m.answers.clone();
    let effects = dispatch(m, msg);
    if m.answers != before {
        m.dirty = true;
    }
    effects
}

fn dispatch(m: &mut Model, msg: Message) -> Vec<Effect> {
    match msg {
        Message::Tick => {
            m.tick = m.tick.wrapping_add(1);
            Vec::new()
        }
        Message::Resize(w, h) => {
            m.size = (w, h);
            let rows = m.tree_rows();
            if let Some(t) = m.ous.tree_mut() {
                t.scroll_to_cursor(rows);
            }
            Vec::new()
        }
        Message::Key(k) => on_key(m, k),
        Message::Click(hit) => click(m, hit),
        Message::Scroll(d) => {
            if matches!(m.popup, Some(Popup::Sddl { .. } | Popup::Explain { .. })) {
                return pages::popup_scroll(m, isize::from(d));
            }
            if m.page == Page::OuFilter && m.popup.is_none() {
                let rows = m.tree_rows();
                if let Some(t) = m.ous.tree_mut() {
                    t.move_cursor(isize::from(d), rows);
                }
            }
            Vec::new()
        }
        Message::Terminate => terminate(m),
        Message::DevicePrompt { id, prompt } => pages::azure::device_prompt(m, id, prompt),
        Message::SignedIn { id, key, result } => pages::azure::signed_in(m, id, key, result),
        Message::DirectoryValidated {
            id,
            index,
            key,
            result,
        } => pages::directories::validated(m, id, index, key, result),
        Message::ChildrenLoaded {
            dir,
            node,
            generation,
            entries,
            done,
            error,
        } => pages::ou_filter::children_loaded(m, dir, node, generation, &entries, done, error),
        Message::Planned { key, result } => pages::ready::planned(m, key, result),
        Message::Saved { path, result } => saved(m, path, result),
        Message::ApplyProgress(e) => pages::configuring::progress(m, e),
        Message::Applied(r) => pages::configuring::applied(m, r),
        Message::TaskDone { id, task, result } => pages::tasks::done(m, id, task, result),
        Message::Explained { dn, result } => {
            if let Some(Popup::Explain {
                dn: shown, text, ..
            }) = m.popup.as_mut()
                && *shown == dn
            {
                *text = Some(result.map_err(|e| e.to_string()));
            }
            Vec::new()
        }
    }
}

fn saved(m: &mut Model, path: PathBuf, result: Result<(), Error>) -> Vec<Effect> {
    match result {
        Ok(()) => {
            m.dirty = false;
            let replaced = m.answers_path.as_ref() == Some(&path);
            m.status = Some(if replaced {
                format!(
                    "answers saved to {} (replacing the file they were loaded from)",
                    path.display()
                )
            } else {
                format!("answers saved to {}", path.display())
            });
            if m.page == Page::Configuring {
                m.configuring.saved_to = Some(path.clone());
            }
            if let Some(Popup::SaveAs { .. }) = m.popup {
                m.popup = None;
            }
            m.answers_path.get_or_insert(path);
        }
        Err(e) if m.page == Page::Configuring && m.configuring.saved_to.is_none() => {
            // Configure saves before the first write: nothing was written, so back to Ready with the error.
            m.writes_started = false;
            m.configuring = pages::configuring::State::default();
            let _ = goto(m, Page::Ready);
            m.ready.save_error = Some(format!(
                "not saved to {}: {}\nhint: nothing was written; make the directory writable, or save elsewhere with Ctrl-S and replay with apply --answers FILE --yes",
                path.display(),
                e.message
            ));
            m.status = Some("the answers could not be saved: nothing was written".into());
        }
        Err(e) => match &mut m.popup {
            Some(Popup::SaveAs { error, .. }) => *error = Some(e.to_string()),
            _ => m.status = Some(format!("not saved: {}", e.message)),
        },
    }
    Vec::new()
}

/// Goes to `page`: runs what the page does on opening and puts the focus where the page wants it.
pub fn goto(m: &mut Model, page: Page) -> Vec<Effect> {
    m.page = page;
    m.status = None;
    let effects = pages::enter(m);
    m.focus = pages::initial_focus(m);
    effects
}

/// What writes to a directory are running now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writing {
    Apply,
    Revert,
}

pub fn writing(m: &Model) -> Option<Writing> {
    if m.writes_started && m.page == Page::Configuring && m.configuring.result.is_none() {
        return Some(Writing::Apply);
    }
    match &m.tasks.run {
        Some(r) if r.task == Task::Revert && r.output.is_none() => Some(Writing::Revert),
        _ => None,
    }
}

/// Ctrl-C / `q` / Cancel: quits at once when nothing is unsaved, asks otherwise. While writes run it never
/// quits outright: apply asks whether to cancel (and after a cancel, whether to quit now); a revert asks
/// whether to quit once it has finished.
pub fn request_quit(m: &mut Model) -> Vec<Effect> {
    match writing(m) {
        Some(Writing::Apply) => {
            m.popup = Some(if m.configuring.cancel_requested {
                Popup::QuitNow { focus: 1 }
            } else {
                Popup::ConfirmCancel { focus: 1 }
            });
            return Vec::new();
        }
        Some(Writing::Revert) => {
            m.popup = Some(Popup::QuitAfterRevert { focus: 1 });
            return Vec::new();
        }
        None => {}
    }
    if m.dirty {
        m.popup = Some(Popup::ConfirmQuit { focus: 2 });
        Vec::new()
    } else {
        m.quit = true;
        vec![Effect::Quit]
    }
}

/// SIGTERM / SIGHUP: quit as a confirmed quit does, except that writes running are cancelled (apply) or
/// finished (revert) first; the runtime restores the terminal either way.
fn terminate(m: &mut Model) -> Vec<Effect> {
    m.popup = None;
    match writing(m) {
        Some(Writing::Apply) => {
            m.quit_when_done = true;
            m.status = Some("signal received: cancelling; the wizard quits when the writes in flight have finished".into());
            pages::configuring::cancel(m)
        }
        Some(Writing::Revert) => {
            m.quit_when_done = true;
            m.status =
                Some("signal received: the wizard quits when the revert has finished".into());
            Vec::new()
        }
        None => {
            m.quit = true;
            vec![Effect::Quit]
        }
    }
}

/// Writes have ended: quit when that was asked for meanwhile.
pub fn writes_ended(m: &mut Model) -> Vec<Effect> {
    if m.quit_when_done {
        m.quit = true;
        return vec![Effect::Quit];
    }
    Vec::new()
}

fn open_save_as(m: &mut Model) {
    let default = m
        .answers_path
        .clone()
        .unwrap_or_else(|| m.paths.config_answers.clone());
    m.popup = Some(Popup::SaveAs {
        field: TextField::new(&default.display().to_string()),
        error: None,
    });
}

fn on_key(m: &mut Model, k: KeyEvent) -> Vec<Effect> {
    if keys::CTRL_C.matches(&k) {
        // A second Ctrl-C confirms the question the first one asked.
        return match m.popup {
            Some(Popup::ConfirmQuit { .. }) => {
                m.quit = true;
                vec![Effect::Quit]
            }
            Some(Popup::ConfirmCancel { .. }) => {
                m.popup = None;
                pages::configuring::cancel(m)
            }
            Some(Popup::QuitNow { .. }) | Some(Popup::QuitAfterRevert { .. }) => {
                pages::popup_choose(m, 0)
            }
            _ => request_quit(m),
        };
    }
    if m.popup.is_some() {
        return pages::popup_key(m, k);
    }
    if m.too_small() {
        if keys::QUIT.matches(&k) || keys::ESC.matches(&k) {
            return request_quit(m);
        }
        return Vec::new();
    }
    let text = m.typing();
    if keys::HELP.matches(&k) || (!text && keys::HELP_CHAR.matches(&k)) {
        m.popup = Some(Popup::Help);
        return Vec::new();
    }
    if keys::SAVE.matches(&k) {
        open_save_as(m);
        return Vec::new();
    }
    if !text && keys::QUIT.matches(&k) {
        return request_quit(m);
    }
    if keys::TAB.matches(&k) || keys::BACK_TAB.matches(&k) {
        cycle_focus(m, if keys::TAB.matches(&k) { 1 } else { -1 });
        return Vec::new();
    }
    // The focused control first (text editing, lists, the tree), then the page-wide keys.
    if let Some(effects) = pages::key(m, k) {
        return effects;
    }
    if keys::ESC.matches(&k) {
        return pages::back(m);
    }
    if k.code == KeyCode::Enter {
        return match m.focus {
            Target::Button(b) => pages::activate(m, b),
            _ => pages::activate(m, pages::primary(m)),
        };
    }
    if matches!(k.code, KeyCode::Right | KeyCode::Down) && matches!(m.focus, Target::Button(_)) {
        cycle_focus(m, 1);
    } else if matches!(k.code, KeyCode::Left | KeyCode::Up) && matches!(m.focus, Target::Button(_))
    {
        cycle_focus(m, -1);
    }
    Vec::new()
}

pub fn cycle_focus(m: &mut Model, delta: isize) {
    let all = pages::focusables(m);
    if all.is_empty() {
        return;
    }
    let at = all.iter().position(|t| *t == m.focus).unwrap_or(0);
    let n = all.len() as isize;
    let next = ((at as isize + delta) % n + n) % n;
    if let Some(t) = all.get(next as usize) {
        m.focus = *t;
    }
}

fn click(m: &mut Model, hit: Hit) -> Vec<Effect> {
    if let Hit::Popup(i) = hit {
        return pages::popup_click(m, i);
    }
    if m.popup.is_some() {
        return Vec::new();
    }
    match hit {
        Hit::Button(b) => {
            if pages::focusables(m).contains(&Target::Button(b)) {
                m.focus = Target::Button(b);
                pages::activate(m, b)
            } else {
                Vec::new()
            }
        }
        Hit::Focus(t) => {
            m.focus = t;
            Vec::new()
        }
        Hit::Row(t, row) => {
            m.focus = t;
            pages::select_row(m, t, row, false)
        }
        Hit::Check(t, row) => {
            m.focus = t;
            pages::select_row(m, t, row, true)
        }
        Hit::Popup(_) => Vec::new(),
    }
}

/// A key event without modifiers (tests and the runtime's mapping use it).
pub fn key_event(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

#[cfg(test)]
mod tests;
