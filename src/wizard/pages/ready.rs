//! Ready to configure: a summary rendered from the answers model (never from the screens visited) and the
//! per-object plan the back end computed (ACEs to add, objects unchanged), with the SDDL before/after of one
//! object on request. Configure asks once more, then saves the answers and starts writing. Nothing has been
//! written before that.

use ratatui::crossterm::event::KeyEvent;

use super::{PageLogic, list_key, nav_buttons};
use crate::answers::Answers;
use crate::error::Error;
use crate::wizard::data::{PlanSummary, TargetSummary};
use crate::wizard::keys::{self, Hint};
use crate::wizard::{Button, Effect, Model, Page, Popup, Target, goto};

#[derive(Debug, Default)]
pub struct State {
    /// The plan and the answers it was made from.
    pub plan: Option<(Answers, Result<Vec<PlanSummary>, Error>)>,
    /// The answers a plan is being made from.
    pub planning: Option<Answers>,
    /// Row in the plan list (all targets of all directories, in order).
    pub selected: usize,
    /// The answers are not complete (validation error).
    pub error: Option<String>,
    /// Configure could not save the answers (nothing was written); Configure tries again.
    pub save_error: Option<String>,
}

impl State {
    pub fn busy(&self) -> bool {
        self.planning.is_some()
    }

    /// The plan of the current answers, when it is there and succeeded.
    pub fn current<'a>(&'a self, answers: &Answers) -> Option<&'a [PlanSummary]> {
        match &self.plan {
            Some((key, Ok(plan))) if key == answers => Some(plan),
            _ => None,
        }
    }

    pub fn failure<'a>(&'a self, answers: &Answers) -> Option<&'a Error> {
        match &self.plan {
            Some((key, Err(e))) if key == answers => Some(e),
            _ => None,
        }
    }
}

/// Why Configure is not possible now, when it is not (shown on the page and at the button).
pub fn blocked(m: &Model) -> Option<String> {
    if m.ready.error.is_some() || m.answers.validate().is_err() {
        return Some("the answers are not complete: go back and fix the page named above".into());
    }
    if m.answers.directories.is_empty() {
        return Some("no directory to configure: add one on Connect your directories".into());
    }
    let Some(plan) = m.ready.current(&m.answers) else {
        return Some(if m.ready.busy() {
            "the plan is still being read from the directory: wait for it".into()
        } else {
            "there is no plan: go back and fix the error shown, then return".into()
        });
    };
    let refused: Vec<&str> = plan
        .iter()
        .filter(|p| p.refusal.is_some())
        .map(|p| p.forest.as_str())
        .collect();
    if !refused.is_empty() {
        return Some(format!(
            "Configure is disabled: apply would refuse in {} (nothing would be written anywhere); see why above",
            refused.join(", ")
        ));
    }
    None
}

/// The cloud warnings that need the forests: UPN suffixes of the validated forests that are not verified
/// domains of the tenant signed in to (none when the sign-in was skipped or is not for these answers).
pub fn upn_warnings(m: &Model) -> Vec<String> {
    let crate::wizard::pages::azure::Status::Done { key, summary } = &m.azure.status else {
        return Vec::new();
    };
    if m.answers.cloud.as_ref() != Some(key) {
        return Vec::new();
    }
    let mut suffixes: Vec<String> = Vec::new();
    for i in 0..m.answers.directories.len() {
        for s in m.dirs.info(i).map_or(&[][..], |d| &d.upn_suffixes) {
            if !suffixes.iter().any(|x| x.eq_ignore_ascii_case(s)) {
                suffixes.push(s.clone());
            }
        }
    }
    crate::cloud::check::upn_warnings(&suffixes, &summary.verified_domains)
}

/// Every planned target with its directory's index, in list order.
pub fn rows(plan: &[PlanSummary]) -> Vec<(usize, &TargetSummary)> {
    plan.iter()
        .enumerate()
        .flat_map(|(i, p)| p.targets.iter().map(move |t| (i, t)))
        .collect()
}

pub struct Ready;

impl PageLogic for Ready {
    fn enter(&self, m: &mut Model) -> Vec<Effect> {
        m.ready.error = None;
        if let Err(e) = m.answers.validate() {
            m.ready.error = Some(e.to_string());
            return Vec::new();
        }
        if m.ready.current(&m.answers).is_some() || m.ready.planning.as_ref() == Some(&m.answers) {
            return Vec::new();
        }
        if m.answers.directories.is_empty() {
            return Vec::new();
        }
        m.ready.planning = Some(m.answers.clone());
        m.ready.selected = 0;
        vec![Effect::Plan {
            key: m.answers.clone(),
            answers: m.runtime_answers(),
        }]
    }

    fn focusables(&self, m: &Model) -> Vec<Target> {
        let mut v = Vec::new();
        if m.ready
            .current(&m.answers)
            .is_some_and(|p| !rows(p).is_empty())
        {
            v.push(Target::PlanList);
        }
        v.extend(nav_buttons(m, Button::Configure));
        v
    }

    fn initial_focus(&self, m: &Model) -> Target {
        // Configure is disabled while apply would refuse: the focus is not left on it.
        let refused = m
            .ready
            .current(&m.answers)
            .is_some_and(|p| p.iter().any(|p| p.refusal.is_some()));
        if refused && super::can_go_back(m) {
            Target::Button(Button::Previous)
        } else {
            Target::Button(Button::Configure)
        }
    }

    fn primary(&self, _m: &Model) -> Button {
        Button::Configure
    }

    fn key(&self, m: &mut Model, k: KeyEvent) -> Option<Vec<Effect>> {
        if m.focus != Target::PlanList {
            return None;
        }
        let n = m.ready.current(&m.answers).map_or(0, |p| rows(p).len());
        if let Some(i) = list_key(&k, m.ready.selected, n) {
            m.ready.selected = i;
            return Some(Vec::new());
        }
        if keys::DETAIL.matches(&k) || k.code == ratatui::crossterm::event::KeyCode::Enter {
            if n > 0 {
                m.popup = Some(Popup::Sddl {
                    row: m.ready.selected.min(n - 1),
                    scroll: 0,
                });
            }
            return Some(Vec::new());
        }
        None
    }

    fn activate(&self, m: &mut Model, b: Button) -> Vec<Effect> {
        if b != Button::Configure {
            return Vec::new();
        }
        if let Some(why) = blocked(m) {
            m.status = Some(why);
            return Vec::new();
        }
        m.popup = Some(Popup::ConfirmConfigure { focus: 0 });
        Vec::new()
    }

    fn hints(&self, m: &Model, out: &mut Vec<Hint>) {
        if m.focus == Target::PlanList {
            out.push(keys::UP.hint());
            out.push(keys::DETAIL.hint());
        }
        if !matches!(m.focus, Target::Button(b) if b != Button::Configure) {
            out.push(Hint {
                key: "Enter",
                action: "Configure",
                enabled: blocked(m).is_none(),
            });
        }
    }

    fn select_row(&self, m: &mut Model, _t: Target, row: usize, _check: bool) -> Vec<Effect> {
        m.ready.selected = row;
        Vec::new()
    }
}

pub fn planned(
    m: &mut Model,
    key: Answers,
    result: Result<Vec<PlanSummary>, Error>,
) -> Vec<Effect> {
    if m.ready.planning.as_ref() != Some(&key) {
        return Vec::new();
    }
    m.ready.planning = None;
    m.ready.plan = Some((key, result));
    if m.page == Page::Ready && m.popup.is_none() {
        m.focus = Ready.initial_focus(m);
    }
    Vec::new()
}

/// Configure confirmed: from here on nothing goes back. The runtime saves the answers, then applies.
pub fn configure(m: &mut Model) -> Vec<Effect> {
    if let Some(why) = blocked(m) {
        m.status = Some(why);
        return Vec::new();
    }
    m.ready.save_error = None;
    m.writes_started = true;
    m.configuring = super::configuring::State::default();
    let mut effects = goto(m, Page::Configuring);
    effects.push(Effect::Configure {
        save_to: m.paths.config_answers.clone(),
        key: m.answers.clone(),
        answers: m.runtime_answers(),
    });
    effects
}
