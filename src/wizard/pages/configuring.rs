//! Configuring (per-object progress as `apply` reports it; Cancel stops before the next write and says what was
//! written) and Configuration complete (the result per object, the journal, log and answers paths, the portal
//! step; Exit).

use std::path::PathBuf;

use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::PageLogic;
use crate::error::Error;
use crate::wizard::data::{ApplyEvent, ApplyResult};
use crate::wizard::keys::Hint;
use crate::wizard::{Button, Effect, Model, Page, Popup, Target, goto, request_quit, writes_ended};

#[derive(Debug, Default)]
pub struct State {
    pub events: Vec<ApplyEvent>,
    pub cancel_requested: bool,
    pub result: Option<Result<ApplyResult, Error>>,
    pub saved_to: Option<PathBuf>,
    pub scroll: usize,
}

pub struct Configuring;

/// While writes run, the focus rests on the progress, never on Cancel: an extra Enter (key repeat from the
/// confirmation) does nothing. Cancel, `q` and Ctrl-C ask before cancelling.
impl PageLogic for Configuring {
    fn focusables(&self, _m: &Model) -> Vec<Target> {
        vec![Target::Progress, Target::Button(Button::Cancel)]
    }

    fn initial_focus(&self, _m: &Model) -> Target {
        Target::Progress
    }

    fn key(&self, m: &mut Model, k: KeyEvent) -> Option<Vec<Effect>> {
        (k.code == KeyCode::Enter && m.focus != Target::Button(Button::Cancel)).then(Vec::new)
    }

    fn activate(&self, _m: &mut Model, _b: Button) -> Vec<Effect> {
        Vec::new()
    }

    fn cancel(&self, m: &mut Model) -> Option<Vec<Effect>> {
        Some(request_quit(m))
    }

    fn back(&self, _m: &mut Model) -> Option<Vec<Effect>> {
        Some(Vec::new())
    }

    fn hints(&self, m: &Model, out: &mut Vec<Hint>) {
        out.push(Hint {
            key: "Tab Enter",
            action: "Cancel (asks; stops before the next write)",
            enabled: !m.configuring.cancel_requested,
        });
    }
}

pub fn cancel(m: &mut Model) -> Vec<Effect> {
    if m.configuring.result.is_some() || m.configuring.cancel_requested {
        return Vec::new();
    }
    m.configuring.cancel_requested = true;
    m.status = Some("cancelling: the writes in flight finish; no further object is written".into());
    vec![Effect::CancelApply]
}

pub fn progress(m: &mut Model, e: ApplyEvent) -> Vec<Effect> {
    m.configuring.events.push(e);
    Vec::new()
}

pub fn applied(m: &mut Model, r: Result<ApplyResult, Error>) -> Vec<Effect> {
    m.configuring.result = Some(r);
    if matches!(
        m.popup,
        Some(Popup::ConfirmCancel { .. } | Popup::QuitNow { .. })
    ) {
        m.popup = None;
    }
    let mut effects = Vec::new();
    if m.page == Page::Configuring {
        effects = goto(m, Page::Complete);
    }
    effects.extend(writes_ended(m));
    effects
}

pub struct Complete;

impl PageLogic for Complete {
    fn focusables(&self, _m: &Model) -> Vec<Target> {
        vec![Target::Button(Button::Exit)]
    }

    fn initial_focus(&self, _m: &Model) -> Target {
        Target::Button(Button::Exit)
    }

    fn primary(&self, _m: &Model) -> Button {
        Button::Exit
    }

    fn key(&self, m: &mut Model, k: KeyEvent) -> Option<Vec<Effect>> {
        match k.code {
            KeyCode::Down | KeyCode::PageDown => {
                m.configuring.scroll += if k.code == KeyCode::Down { 1 } else { 10 };
                Some(Vec::new())
            }
            KeyCode::Up | KeyCode::PageUp => {
                m.configuring.scroll = m
                    .configuring
                    .scroll
                    .saturating_sub(if k.code == KeyCode::Up { 1 } else { 10 });
                Some(Vec::new())
            }
            _ => None,
        }
    }

    fn activate(&self, m: &mut Model, b: Button) -> Vec<Effect> {
        if b == Button::Exit {
            return request_quit(m);
        }
        Vec::new()
    }

    fn back(&self, _m: &mut Model) -> Option<Vec<Effect>> {
        Some(Vec::new())
    }

    fn hints(&self, _m: &Model, out: &mut Vec<Hint>) {
        out.push(Hint {
            key: "↑↓",
            action: "scroll",
            enabled: true,
        });
        out.push(Hint {
            key: "Enter",
            action: "Exit",
            enabled: true,
        });
    }
}
