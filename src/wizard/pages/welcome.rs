//! Welcome: what the tool does and what it will change. Buttons Configure / Quit.

use super::PageLogic;
use crate::wizard::{Button, Effect, Model, Page, Target, goto};

pub struct Welcome;

impl PageLogic for Welcome {
    fn focusables(&self, _m: &Model) -> Vec<Target> {
        vec![
            Target::Button(Button::Configure),
            Target::Button(Button::Quit),
        ]
    }

    fn initial_focus(&self, _m: &Model) -> Target {
        Target::Button(Button::Configure)
    }

    fn primary(&self, _m: &Model) -> Button {
        Button::Configure
    }

    fn activate(&self, m: &mut Model, b: Button) -> Vec<Effect> {
        match b {
            Button::Configure | Button::Next => goto(m, Page::Tasks),
            _ => Vec::new(),
        }
    }
}
