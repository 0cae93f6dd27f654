//! Keys and their hints from one table: a page matches a key with [`Key::matches`] and shows it with
//! [`Key::hint`], so the key-hint bar cannot drift from what the keys do.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
    pub label: &'static str,
    pub action: &'static str,
}

/// One entry of the key-hint bar; a disabled hint is drawn dimmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hint {
    pub key: &'static str,
    pub action: &'static str,
    pub enabled: bool,
}

impl Key {
    const fn new(code: KeyCode, label: &'static str, action: &'static str) -> Self {
        Self {
            code,
            ctrl: false,
            label,
            action,
        }
    }

    const fn ctrl(c: char, label: &'static str, action: &'static str) -> Self {
        Self {
            code: KeyCode::Char(c),
            ctrl: true,
            label,
            action,
        }
    }

    pub fn matches(&self, ev: &KeyEvent) -> bool {
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        let code = match ev.code {
            KeyCode::Char(c) if ctrl => KeyCode::Char(c.to_ascii_lowercase()),
            c => c,
        };
        code == self.code && ctrl == self.ctrl
    }

    pub fn hint(&self) -> Hint {
        Hint {
            key: self.label,
            action: self.action,
            enabled: true,
        }
    }

    pub fn hint_if(&self, enabled: bool) -> Hint {
        Hint {
            enabled,
            ..self.hint()
        }
    }
}

pub const ENTER: Key = Key::new(KeyCode::Enter, "Enter", "activate");
pub const TAB: Key = Key::new(KeyCode::Tab, "Tab", "field");
pub const BACK_TAB: Key = Key::new(KeyCode::BackTab, "Shift-Tab", "previous field");
pub const ESC: Key = Key::new(KeyCode::Esc, "Esc", "back");
pub const HELP: Key = Key::new(KeyCode::F(1), "?", "help");
pub const HELP_CHAR: Key = Key::new(KeyCode::Char('?'), "?", "help");
pub const QUIT: Key = Key::new(KeyCode::Char('q'), "q", "quit");
pub const CTRL_C: Key = Key::ctrl('c', "Ctrl-C", "quit");
pub const SAVE: Key = Key::ctrl('s', "^S", "save");
pub const UP: Key = Key::new(KeyCode::Up, "↑↓", "move");
pub const DOWN: Key = Key::new(KeyCode::Down, "↓", "move");
pub const LEFT: Key = Key::new(KeyCode::Left, "←", "close");
pub const RIGHT: Key = Key::new(KeyCode::Right, "→", "open");
pub const PAGE_UP: Key = Key::new(KeyCode::PageUp, "PgUp", "page up");
pub const PAGE_DOWN: Key = Key::new(KeyCode::PageDown, "PgDn", "page down");
pub const HOME: Key = Key::new(KeyCode::Home, "Home", "first");
pub const END: Key = Key::new(KeyCode::End, "End", "last");
pub const SPACE: Key = Key::new(KeyCode::Char(' '), "Space", "toggle");
pub const SEARCH: Key = Key::new(KeyCode::Char('/'), "/", "search");
pub const SEARCH_NEXT: Key = Key::new(KeyCode::Char('n'), "n", "next match");
pub const REFRESH: Key = Key::new(KeyCode::Char('r'), "r", "refresh");
pub const ADD: Key = Key::new(KeyCode::Char('a'), "a", "add directory");
pub const DELETE: Key = Key::new(KeyCode::Delete, "Del", "remove");
pub const DETAIL: Key = Key::new(KeyCode::Char('d'), "d", "SDDL before/after");
