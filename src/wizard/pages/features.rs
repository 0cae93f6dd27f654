//! Optional features: Password writeback with its options. Only what exists is shown (no group or device
//! writeback here).

use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::{PageLogic, nav_buttons};
use crate::answers::Answers;
use crate::wizard::keys::{self, Hint};
use crate::wizard::{Button, Effect, Model, Page, Target, goto};

/// (title, what it grants) per checkbox, in order.
pub const ITEMS: [(&str, &str); 3] = [
    (
        "Password writeback",
        "Reset Password, Change Password, Write lockoutTime, Write pwdLastSet on descendant users",
    ),
    (
        "Unexpire Password",
        "on the root of each domain in scope (Microsoft's current guidance)",
    ),
    (
        "AdminSDHolder",
        "the writeback rights on CN=AdminSDHolder too, so protected accounts (adminCount=1) can be reset",
    ),
];

#[derive(Debug, Default)]
pub struct State {
    /// A validation error and the checkbox it is about.
    pub error: Option<(usize, String)>,
}

pub fn checked(m: &Model, i: usize) -> bool {
    let f = &m.answers.features;
    match i {
        0 => f.password_writeback,
        1 => f.unexpire_password,
        _ => f.admin_sd_holder,
    }
}

fn toggle(m: &mut Model, i: usize) {
    let f = &mut m.answers.features;
    match i {
        0 => f.password_writeback = !f.password_writeback,
        1 => f.unexpire_password = !f.unexpire_password,
        _ => f.admin_sd_holder = !f.admin_sd_holder,
    }
    m.features.error = None;
}

pub struct FeaturesPage;

impl PageLogic for FeaturesPage {
    fn focusables(&self, m: &Model) -> Vec<Target> {
        let mut v: Vec<Target> = (0..ITEMS.len()).map(Target::Feature).collect();
        v.extend(nav_buttons(m, Button::Next));
        v
    }

    fn initial_focus(&self, _m: &Model) -> Target {
        Target::Button(Button::Next)
    }

    fn key(&self, m: &mut Model, k: KeyEvent) -> Option<Vec<Effect>> {
        let Target::Feature(i) = m.focus else {
            return None;
        };
        match k.code {
            KeyCode::Char(' ') => toggle(m, i),
            KeyCode::Up if i > 0 => m.focus = Target::Feature(i - 1),
            KeyCode::Down if i + 1 < ITEMS.len() => m.focus = Target::Feature(i + 1),
            _ => return None,
        }
        Some(Vec::new())
    }

    fn activate(&self, m: &mut Model, b: Button) -> Vec<Effect> {
        if b != Button::Next {
            return Vec::new();
        }
        let probe = Answers {
            version: crate::answers::VERSION,
            directories: Vec::new(),
            features: m.answers.features,
            // A stand-in cloud section so only the features are judged here.
            cloud: Some(probe_cloud()),
        };
        if let Err(e) = probe.validate()
            && e.message.starts_with("features")
        {
            let at = if e.message.contains("admin_sd_holder") {
                2
            } else {
                0
            };
            m.features.error = Some((at, e.to_string()));
            m.focus = Target::Feature(at);
            return Vec::new();
        }
        goto(m, Page::Ready)
    }

    fn hints(&self, m: &Model, out: &mut Vec<Hint>) {
        if matches!(m.focus, Target::Feature(_)) {
            out.push(keys::SPACE.hint());
            out.push(keys::UP.hint());
        }
    }

    fn select_row(&self, m: &mut Model, _t: Target, row: usize, check: bool) -> Vec<Effect> {
        if row < ITEMS.len() {
            m.focus = Target::Feature(row);
            if check {
                toggle(m, row);
            }
        }
        Vec::new()
    }
}

fn probe_cloud() -> crate::answers::Cloud {
    crate::answers::Cloud {
        environment: Default::default(),
        tenant: "probe".into(),
        sign_in: Default::default(),
        username: None,
        password: None,
        client_id: None,
        client_secret: None,
        client_certificate: None,
        client_certificate_key: None,
        authority_url: None,
        graph_url: None,
    }
}
