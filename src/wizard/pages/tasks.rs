//! Additional tasks: Customize synchronization options (the main path), View current configuration,
//! Troubleshoot, Revert password writeback permissions. The last three run here and show their result in
//! place of the list; Previous or Esc returns to the list.

use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::{PageLogic, list_key, nav_buttons};
use crate::error::Error;
use crate::secret::SecretRef;
use crate::wizard::data::TaskOutput;
use crate::wizard::field::TextField;
use crate::wizard::keys::{self, Hint};
use crate::wizard::{Button, Effect, Model, Page, Popup, Target, goto, writes_ended};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    ViewCurrent,
    Troubleshoot,
    RevertPreview,
    Revert,
}

/// The list as the original wizard words it: (title, description).
pub const ITEMS: [(&str, &str); 4] = [
    (
        "Customize synchronization options",
        "Sign in, choose directories, domains and OUs, and writeback options",
    ),
    (
        "View current configuration",
        "The saved answers, the last run's journal, and a live check",
    ),
    (
        "Troubleshoot",
        "Every permission present, missing or denied; what blocks a reset",
    ),
    (
        "Revert password writeback permissions",
        "Show what the journal takes back, then remove exactly that",
    ),
];

#[derive(Debug, Default)]
pub struct State {
    pub selected: usize,
    pub run: Option<Run>,
}

#[derive(Debug)]
pub struct Run {
    /// The request id of this run: the result of an earlier run (left with Esc) is not shown here.
    pub id: u64,
    pub task: Task,
    /// `None` while running.
    pub output: Option<Result<TaskOutput, Error>>,
    pub scroll: usize,
    /// Troubleshoot: the blocked user the cursor is on (Enter explains it).
    pub selected_user: usize,
}

impl Run {
    /// Troubleshoot's blocked users in list order: (directory, dn).
    pub fn blocked_users(&self) -> Vec<(usize, &str)> {
        match &self.output {
            Some(Ok(TaskOutput::Troubleshoot { users, .. })) => users
                .iter()
                .flat_map(|u| {
                    u.blocked_users
                        .iter()
                        .map(|(dn, _)| (u.directory, dn.as_str()))
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

impl State {
    pub fn busy(&self) -> bool {
        self.run.as_ref().is_some_and(|r| r.output.is_none())
    }
}

pub struct Tasks;

fn revert_possible(m: &Model) -> bool {
    matches!(
        m.tasks.run.as_ref().and_then(|r| r.output.as_ref()),
        Some(Ok(TaskOutput::RevertPreview { list, .. })) if list.iter().any(|(_, t)| !t.is_empty())
    ) && m
        .tasks
        .run
        .as_ref()
        .is_some_and(|r| r.task == Task::RevertPreview)
}

impl PageLogic for Tasks {
    fn focusables(&self, m: &Model) -> Vec<Target> {
        match &m.tasks.run {
            None => {
                let mut v = vec![Target::TaskList];
                v.extend(nav_buttons(m, Button::Next));
                v
            }
            Some(_) => {
                let mut v = Vec::new();
                if !m.writes_started {
                    v.push(Target::Button(Button::Previous));
                }
                if revert_possible(m) {
                    v.push(Target::Button(Button::Revert));
                }
                v.push(Target::Button(Button::Cancel));
                v
            }
        }
    }

    fn initial_focus(&self, m: &Model) -> Target {
        match &m.tasks.run {
            None => Target::Button(Button::Next),
            Some(_) if revert_possible(m) => Target::Button(Button::Revert),
            Some(_) if m.writes_started => Target::Button(Button::Cancel),
            Some(_) => Target::Button(Button::Previous),
        }
    }

    fn primary(&self, m: &Model) -> Button {
        if m.tasks.run.is_some() {
            if revert_possible(m) {
                Button::Revert
            } else {
                Button::Previous
            }
        } else {
            Button::Next
        }
    }

    fn key(&self, m: &mut Model, k: KeyEvent) -> Option<Vec<Effect>> {
        if let Some(run) = m.tasks.run.as_mut() {
            let blocked = run.blocked_users().len();
            if blocked > 0 {
                match k.code {
                    KeyCode::Down => {
                        run.selected_user = (run.selected_user + 1).min(blocked - 1);
                        return Some(Vec::new());
                    }
                    KeyCode::Up => {
                        run.selected_user = run.selected_user.saturating_sub(1);
                        return Some(Vec::new());
                    }
                    KeyCode::Enter => {
                        let Some((directory, dn)) = run
                            .blocked_users()
                            .get(run.selected_user)
                            .map(|(d, dn)| (*d, dn.to_string()))
                        else {
                            return Some(Vec::new());
                        };
                        m.popup = Some(Popup::Explain {
                            dn: dn.clone(),
                            text: None,
                            scroll: 0,
                        });
                        return Some(vec![Effect::Explain {
                            answers: m.runtime_answers(),
                            directory,
                            dn,
                        }]);
                    }
                    _ => {}
                }
            }
            match k.code {
                KeyCode::Down | KeyCode::PageDown => {
                    run.scroll += if k.code == KeyCode::Down { 1 } else { 10 };
                    return Some(Vec::new());
                }
                KeyCode::Up | KeyCode::PageUp => {
                    run.scroll =
                        run.scroll
                            .saturating_sub(if k.code == KeyCode::Up { 1 } else { 10 });
                    return Some(Vec::new());
                }
                _ => return None,
            }
        }
        if m.focus == Target::TaskList {
            if let Some(i) = list_key(&k, m.tasks.selected, ITEMS.len()) {
                m.tasks.selected = i;
                return Some(Vec::new());
            }
            if keys::SPACE.matches(&k) {
                return Some(Vec::new());
            }
        }
        None
    }

    fn activate(&self, m: &mut Model, b: Button) -> Vec<Effect> {
        match b {
            Button::Next => match m.tasks.selected {
                0 => goto(m, Page::AzureAd),
                1 => run(m, Task::ViewCurrent),
                2 => run(m, Task::Troubleshoot),
                _ => run(m, Task::RevertPreview),
            },
            Button::Revert if revert_possible(m) => {
                m.popup = Some(Popup::ConfirmRevert { focus: 0 });
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn hints(&self, m: &Model, out: &mut Vec<Hint>) {
        if let Some(run) = &m.tasks.run {
            out.push(keys::UP.hint());
            if !run.blocked_users().is_empty() {
                out.push(Hint {
                    key: "Enter",
                    action: "explain this user",
                    enabled: true,
                });
            }
            out.push(Hint {
                key: "Esc",
                action: "back to the tasks",
                enabled: true,
            });
        } else {
            out.push(keys::UP.hint());
            out.push(Hint {
                key: "Enter",
                action: "Next",
                enabled: true,
            });
        }
    }

    fn select_row(&self, m: &mut Model, _t: Target, row: usize, _check: bool) -> Vec<Effect> {
        if m.tasks.run.is_none() && row < ITEMS.len() {
            m.tasks.selected = row;
        }
        Vec::new()
    }

    fn back(&self, m: &mut Model) -> Option<Vec<Effect>> {
        if m.writes_started {
            return Some(Vec::new());
        }
        if m.tasks.run.take().is_some() {
            m.focus = Target::Button(Button::Next);
            Some(Vec::new())
        } else {
            None
        }
    }
}

/// Starts a task, first asking for any admin password that is `prompt` and not typed yet.
pub fn run(m: &mut Model, task: Task) -> Vec<Effect> {
    let missing = m.answers.directories.iter().enumerate().find(|(i, d)| {
        d.admin_password == SecretRef::Prompt
            && m.dirs.passwords.get(*i).is_none_or(TextField::is_empty)
    });
    if let Some((i, _)) = missing {
        m.popup = Some(Popup::Secret {
            directory: i,
            field: TextField::masked(),
            then: task,
        });
        return Vec::new();
    }
    let id = m.request_id();
    m.tasks.run = Some(Run {
        id,
        task,
        output: None,
        scroll: 0,
        selected_user: 0,
    });
    if task == Task::Revert {
        m.writes_started = true;
    }
    m.focus = Tasks.initial_focus(m);
    vec![Effect::RunTask {
        id,
        task,
        answers: m.runtime_answers(),
    }]
}

pub fn done(m: &mut Model, id: u64, task: Task, result: Result<TaskOutput, Error>) -> Vec<Effect> {
    let Some(run) = m.tasks.run.as_mut() else {
        return Vec::new();
    };
    if run.id != id || run.task != task || run.output.is_some() {
        return Vec::new();
    }
    run.output = Some(result);
    run.scroll = 0;
    if matches!(m.popup, Some(Popup::QuitAfterRevert { .. })) {
        m.popup = None;
    }
    if m.page == Page::Tasks {
        m.focus = Tasks.initial_focus(m);
    }
    if task == Task::Revert {
        return writes_ended(m);
    }
    Vec::new()
}
