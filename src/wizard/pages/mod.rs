//! One module per page: its state, what it does on opening, its focusable controls, its keys and hints, and
//! its validation into the answers model. This file dispatches to the current page in one place per concern
//! and handles the popups, which sit above every page and get the keys first.

pub mod azure;
pub mod configuring;
pub mod directories;
pub mod features;
pub mod ou_filter;
pub mod ready;
pub mod tasks;
pub mod welcome;

use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::keys::{self, Hint};
use super::{Button, Effect, Model, Page, Popup, Target, goto, request_quit};

pub use tasks::Task;

/// What every page provides. Pages are unit structs; [`logic`] picks the current one.
pub trait PageLogic {
    /// Runs when the page opens (from either direction).
    fn enter(&self, _m: &mut Model) -> Vec<Effect> {
        Vec::new()
    }
    fn focusables(&self, m: &Model) -> Vec<Target>;
    /// A missing input first; a page that opens complete focuses its primary button.
    fn initial_focus(&self, m: &Model) -> Target;
    /// Keys for the focused control; `None` when not used.
    fn key(&self, _m: &mut Model, _k: KeyEvent) -> Option<Vec<Effect>> {
        None
    }
    fn activate(&self, m: &mut Model, b: Button) -> Vec<Effect>;
    fn primary(&self, _m: &Model) -> Button {
        Button::Next
    }
    fn hints(&self, _m: &Model, _out: &mut Vec<Hint>) {}
    /// A click or Enter on row `row` of list `t` (`check`: on its checkbox).
    fn select_row(&self, _m: &mut Model, _t: Target, _row: usize, _check: bool) -> Vec<Effect> {
        Vec::new()
    }
    /// Cancel (and Ctrl-C): `None` means "quit the wizard" (asking first when answers are unsaved).
    fn cancel(&self, _m: &mut Model) -> Option<Vec<Effect>> {
        None
    }
    /// Esc: `None` means "go to the previous page".
    fn back(&self, _m: &mut Model) -> Option<Vec<Effect>> {
        None
    }
}

pub fn logic(page: Page) -> &'static dyn PageLogic {
    match page {
        Page::Welcome => &welcome::Welcome,
        Page::Tasks => &tasks::Tasks,
        Page::AzureAd => &azure::AzureAd,
        Page::Directories => &directories::Directories,
        Page::OuFilter => &ou_filter::OuFilter,
        Page::Features => &features::FeaturesPage,
        Page::Ready => &ready::Ready,
        Page::Configuring => &configuring::Configuring,
        Page::Complete => &configuring::Complete,
    }
}

pub fn enter(m: &mut Model) -> Vec<Effect> {
    logic(m.page).enter(m)
}

pub fn initial_focus(m: &Model) -> Target {
    logic(m.page).initial_focus(m)
}

pub fn focusables(m: &Model) -> Vec<Target> {
    logic(m.page).focusables(m)
}

pub fn primary(m: &Model) -> Button {
    logic(m.page).primary(m)
}

pub fn key(m: &mut Model, k: KeyEvent) -> Option<Vec<Effect>> {
    logic(m.page).key(m, k)
}

pub fn hints(m: &Model, out: &mut Vec<Hint>) {
    logic(m.page).hints(m, out);
}

pub fn select_row(m: &mut Model, t: Target, row: usize, check: bool) -> Vec<Effect> {
    logic(m.page).select_row(m, t, row, check)
}

/// Previous is possible on every page but the first, and never once writes have started.
pub fn can_go_back(m: &Model) -> bool {
    !m.writes_started && m.page.prev().is_some()
}

pub fn back(m: &mut Model) -> Vec<Effect> {
    if let Some(effects) = logic(m.page).back(m) {
        return effects;
    }
    previous(m)
}

pub fn previous(m: &mut Model) -> Vec<Effect> {
    match m.page.prev() {
        Some(p) if can_go_back(m) => goto(m, p),
        _ => Vec::new(),
    }
}

/// The buttons every step shows at the bottom right: Previous, the primary, Cancel.
pub fn nav_buttons(m: &Model, primary: Button) -> Vec<Target> {
    let mut out = Vec::new();
    if can_go_back(m) {
        out.push(Target::Button(Button::Previous));
    }
    out.push(Target::Button(primary));
    out.push(Target::Button(Button::Cancel));
    out
}

pub fn activate(m: &mut Model, b: Button) -> Vec<Effect> {
    match b {
        Button::Previous => back(m),
        Button::Cancel => match logic(m.page).cancel(m) {
            Some(effects) => effects,
            None => request_quit(m),
        },
        Button::Quit => request_quit(m),
        _ => logic(m.page).activate(m, b),
    }
}

/// Buttons of each popup, left to right (`Popup::*{focus}` indexes into these).
pub fn popup_buttons(p: &Popup) -> &'static [&'static str] {
    match p {
        Popup::Help | Popup::Sddl { .. } | Popup::Explain { .. } => &["Close"],
        Popup::ConfirmQuit { .. } => &["Save as…", "Quit without saving", "Stay"],
        Popup::SaveAs { .. } => &["Save", "Cancel"],
        Popup::Directory(_) => &["OK", "Cancel"],
        Popup::ConfirmConfigure { .. } => &["Configure", "Back"],
        Popup::ConfirmRevert { .. } => &["Revert", "Back"],
        Popup::ConfirmCancel { .. } => &["Cancel the run", "Keep writing"],
        Popup::QuitNow { .. } => &["Quit now", "Wait"],
        Popup::QuitAfterRevert { .. } => &["Quit when it ends", "Stay"],
        Popup::Secret { .. } => &["OK", "Cancel"],
    }
}

pub fn popup_key(m: &mut Model, k: KeyEvent) -> Vec<Effect> {
    let Some(popup) = m.popup.as_mut() else {
        return Vec::new();
    };
    let n = popup_buttons(popup).len();
    match popup {
        Popup::Explain { .. } | Popup::Sddl { .. } => {
            let page = m.size.1.saturating_sub(8).max(1) as isize;
            match k.code {
                KeyCode::Down => return popup_scroll(m, 1),
                KeyCode::Up => return popup_scroll(m, -1),
                KeyCode::PageDown | KeyCode::Char(' ') => return popup_scroll(m, page),
                KeyCode::PageUp => return popup_scroll(m, -page),
                KeyCode::Home => return popup_scroll(m, isize::MIN / 2),
                KeyCode::End => return popup_scroll(m, isize::MAX / 2),
                KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q') => m.popup = None,
                _ if keys::HELP.matches(&k) || keys::HELP_CHAR.matches(&k) => m.popup = None,
                _ => {}
            }
            Vec::new()
        }
        Popup::Help => {
            if matches!(k.code, KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q'))
                || keys::HELP.matches(&k)
                || keys::HELP_CHAR.matches(&k)
            {
                m.popup = None;
            }
            Vec::new()
        }
        Popup::Directory(_) => directories::dialog_key(m, k),
        Popup::SaveAs { field, .. } | Popup::Secret { field, .. } => match k.code {
            KeyCode::Esc => {
                m.popup = None;
                Vec::new()
            }
            KeyCode::Enter => popup_choose(m, 0),
            _ => {
                field.key(k);
                Vec::new()
            }
        },
        Popup::ConfirmQuit { focus }
        | Popup::ConfirmConfigure { focus }
        | Popup::ConfirmRevert { focus }
        | Popup::ConfirmCancel { focus }
        | Popup::QuitNow { focus }
        | Popup::QuitAfterRevert { focus } => match k.code {
            KeyCode::Esc => {
                m.popup = None;
                Vec::new()
            }
            KeyCode::Tab | KeyCode::Right => {
                *focus = (*focus + 1) % n;
                Vec::new()
            }
            KeyCode::BackTab | KeyCode::Left => {
                *focus = (*focus + n - 1) % n;
                Vec::new()
            }
            KeyCode::Enter => {
                let f = *focus;
                popup_choose(m, f)
            }
            _ => Vec::new(),
        },
    }
}

/// Scrolls the open text popup by `delta` rows (the SDDL popup stops at its last row).
pub fn popup_scroll(m: &mut Model, delta: isize) -> Vec<Effect> {
    let max_sddl = match &m.popup {
        Some(Popup::Sddl { row, .. }) => m
            .ready
            .current(&m.answers)
            .and_then(|p| ready::rows(p).get(*row).map(|(_, t)| (*t).clone()))
            .map_or(0, |t| crate::wizard::sddl::max_scroll(&t, m.size)),
        _ => 0,
    };
    let add = |v: usize| -> usize { v.saturating_add_signed(delta) };
    match &mut m.popup {
        Some(Popup::Sddl { scroll, .. }) => *scroll = add(*scroll).min(max_sddl),
        Some(Popup::Explain { scroll, .. }) => {
            *scroll = u16::try_from(add(usize::from(*scroll)).min(usize::from(u16::MAX)))
                .unwrap_or(u16::MAX);
        }
        _ => {}
    }
    Vec::new()
}

pub fn popup_click(m: &mut Model, i: usize) -> Vec<Effect> {
    if let Some(Popup::Directory(_)) = m.popup {
        return directories::dialog_button(m, i);
    }
    popup_choose(m, i)
}

/// Button `i` of the open popup was chosen.
pub fn popup_choose(m: &mut Model, i: usize) -> Vec<Effect> {
    let Some(popup) = m.popup.take() else {
        return Vec::new();
    };
    match popup {
        Popup::Help | Popup::Sddl { .. } | Popup::Explain { .. } => Vec::new(),
        Popup::ConfirmQuit { .. } => match i {
            0 => {
                super::open_save_as(m);
                Vec::new()
            }
            1 => {
                m.quit = true;
                vec![Effect::Quit]
            }
            _ => Vec::new(),
        },
        Popup::SaveAs { field, error } => {
            if i != 0 {
                return Vec::new();
            }
            let path = m.paths.resolve(field.text());
            if field.text().trim().is_empty() {
                m.popup = Some(Popup::SaveAs {
                    field,
                    error: Some("path: is empty; type where to save the answers".into()),
                });
                return Vec::new();
            }
            if let Err(e) = m.answers.validate() {
                m.popup = Some(Popup::SaveAs {
                    field,
                    error: Some(format!("the answers are not complete yet: {e}")),
                });
                return Vec::new();
            }
            m.popup = Some(Popup::SaveAs { field, error });
            vec![Effect::Save {
                path,
                answers: m.answers.clone(),
            }]
        }
        Popup::Directory(d) => {
            m.popup = Some(Popup::Directory(d));
            directories::dialog_button(m, i)
        }
        Popup::ConfirmConfigure { .. } => {
            if i == 0 {
                ready::configure(m)
            } else {
                Vec::new()
            }
        }
        Popup::ConfirmRevert { .. } => {
            if i == 0 {
                tasks::run(m, Task::Revert)
            } else {
                Vec::new()
            }
        }
        Popup::ConfirmCancel { .. } => {
            if i == 0 {
                configuring::cancel(m)
            } else {
                Vec::new()
            }
        }
        Popup::QuitNow { .. } => {
            if i == 0 && super::writing(m).is_some() {
                // The runtime still waits for the writes in flight (cancel is set) before the process ends.
                m.quit = true;
                vec![Effect::Quit]
            } else {
                Vec::new()
            }
        }
        Popup::QuitAfterRevert { .. } => {
            if i != 0 {
                return Vec::new();
            }
            if super::writing(m).is_none() {
                return request_quit(m);
            }
            m.quit_when_done = true;
            m.status = Some("the wizard quits when the revert has finished".into());
            Vec::new()
        }
        Popup::Secret {
            directory,
            field,
            then,
        } => {
            if i != 0 {
                return Vec::new();
            }
            if field.is_empty() {
                m.popup = Some(Popup::Secret {
                    directory,
                    field,
                    then,
                });
                return Vec::new();
            }
            if let Some(slot) = m.dirs.passwords.get_mut(directory) {
                *slot = field;
            }
            tasks::run(m, then)
        }
    }
}

/// Moves a list cursor with ↑/↓/PgUp/PgDn/Home/End; `None` when the key is not a list key.
pub fn list_key(k: &KeyEvent, cursor: usize, len: usize) -> Option<usize> {
    if len == 0 {
        return None;
    }
    let last = len - 1;
    Some(match k.code {
        KeyCode::Up => cursor.saturating_sub(1),
        KeyCode::Down => (cursor + 1).min(last),
        KeyCode::PageUp => cursor.saturating_sub(10),
        KeyCode::PageDown => (cursor + 10).min(last),
        KeyCode::Home => 0,
        KeyCode::End => last,
        _ => return None,
    })
}
