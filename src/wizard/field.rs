//! A single-line text field: the text, the cursor, and whether it is masked. A masked field holds a secret: its
//! text is wiped on drop, never printed by `Debug`, and drawn as one `•` per character.

use std::fmt;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use secrecy::SecretString;
use zeroize::Zeroizing;

#[derive(Clone, Default)]
pub struct TextField {
    text: Zeroizing<String>,
    /// Cursor position in characters.
    cursor: usize,
    masked: bool,
}

impl fmt::Debug for TextField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.masked {
            write!(f, "TextField(masked, {} chars)", self.len())
        } else {
            write!(f, "TextField({:?})", self.text.as_str())
        }
    }
}

impl TextField {
    pub fn new(text: &str) -> Self {
        Self {
            text: Zeroizing::new(text.to_string()),
            cursor: text.chars().count(),
            masked: false,
        }
    }

    pub fn masked() -> Self {
        Self {
            masked: true,
            ..Self::default()
        }
    }

    pub fn is_masked(&self) -> bool {
        self.masked
    }

    /// The text of a plain field. A masked field answers with an empty string: use [`TextField::secret`].
    pub fn text(&self) -> &str {
        if self.masked { "" } else { &self.text }
    }

    pub fn secret(&self) -> Option<SecretString> {
        (self.masked && !self.text.is_empty()).then(|| SecretString::from(self.text.to_string()))
    }

    pub fn len(&self) -> usize {
        self.text.chars().count()
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// What is drawn: the text, or one bullet per character.
    pub fn display(&self) -> String {
        if self.masked {
            "•".repeat(self.len())
        } else {
            self.text.to_string()
        }
    }

    pub fn set(&mut self, text: &str) {
        self.text = Zeroizing::new(text.to_string());
        self.cursor = self.len();
    }

    pub fn clear(&mut self) {
        self.set("");
    }

    fn byte_at(&self, chars: usize) -> usize {
        self.text
            .char_indices()
            .nth(chars)
            .map_or(self.text.len(), |(i, _)| i)
    }

    /// Applies an editing key; returns whether the key was used (and so whether the text may have changed).
    pub fn key(&mut self, key: KeyEvent) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('u') if ctrl => self.clear(),
            KeyCode::Char('a') if ctrl => self.cursor = 0,
            KeyCode::Char('e') if ctrl => self.cursor = self.len(),
            KeyCode::Char(_) if ctrl => return false,
            KeyCode::Char(c) => {
                let at = self.byte_at(self.cursor);
                self.text.insert(at, c);
                self.cursor += 1;
            }
            KeyCode::Backspace if self.cursor > 0 => {
                self.cursor -= 1;
                let at = self.byte_at(self.cursor);
                self.text.remove(at);
            }
            KeyCode::Delete if self.cursor < self.len() => {
                let at = self.byte_at(self.cursor);
                self.text.remove(at);
            }
            KeyCode::Left => self.cursor = self.cursor.saturating_sub(1),
            KeyCode::Right => self.cursor = (self.cursor + 1).min(self.len()),
            KeyCode::Home => self.cursor = 0,
            KeyCode::End => self.cursor = self.len(),
            KeyCode::Backspace | KeyCode::Delete => {}
            _ => return false,
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn edits_at_the_cursor() {
        let mut f = TextField::new("ac");
        f.key(k(KeyCode::Left));
        f.key(k(KeyCode::Char('b')));
        assert_eq!(f.text(), "abc");
        f.key(k(KeyCode::Home));
        f.key(k(KeyCode::Delete));
        assert_eq!(f.text(), "bc");
        f.key(k(KeyCode::End));
        f.key(k(KeyCode::Backspace));
        assert_eq!(f.text(), "b");
    }

    #[test]
    fn a_masked_field_never_shows_its_text() {
        let mut f = TextField::masked();
        for c in "Hunter2".chars() {
            f.key(k(KeyCode::Char(c)));
        }
        assert_eq!(f.display(), "•••••••");
        assert_eq!(f.text(), "");
        assert!(!format!("{f:?}").contains("Hunter2"));
        assert!(f.secret().is_some());
    }
}
