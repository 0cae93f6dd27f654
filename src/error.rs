//! The one error type the command line prints: a lowercase message naming the subject, an optional hint line
//! saying what to do, and the exit code class.

use std::fmt;
use std::sync::Arc;

/// Exit codes, documented in `--help`.
pub mod exit {
    pub const OK: u8 = 0;
    pub const ERROR: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const MISSING_PERMISSIONS: u8 = 3;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The answers file or the arguments are wrong (exit 2).
    Usage,
    /// The directory, the network or the machine said no (exit 1).
    Runtime,
}

/// What went wrong, in the administrator's words, with the lower-level error kept as its source.
/// Displayed as the message and, on a line of its own, `hint: ...`; control characters in either (a DN
/// from the directory may hold one) are written as escapes, never sent raw to the terminal, and the middle
/// of an overlong line (a 100 KB DN from an answers file) is left out.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}{}", shortened(&printable(message)), .hint.as_ref().map(|h| format!("\nhint: {}", shortened(&printable(h)))).unwrap_or_default())]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    pub hint: Option<String>,
    /// The error this one explains (an LDAP, I/O, TLS or decoding error), for `source()` chains and logs.
    #[source]
    pub source: Option<Arc<dyn std::error::Error + Send + Sync + 'static>>,
}

pub type Result<T> = std::result::Result<T, Error>;

/// `text` safe to print on a terminal: control characters (line breaks included) written as `\u{..}`-style
/// escapes, Rust's debug form.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if text.chars().any(char::is_control) {
        let quoted = format!("{text:?}");
        std::borrow::Cow::Owned(quoted[1..quoted.len() - 1].to_string())
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// Characters of an error line shown at most; the start (which names the field) and the end are kept.
const LONGEST_LINE: usize = 1000;

/// `text` with its middle left out when it is longer than [`LONGEST_LINE`] characters, saying how much.
fn shortened(text: &str) -> std::borrow::Cow<'_, str> {
    let length = text.chars().count();
    if length <= LONGEST_LINE {
        return std::borrow::Cow::Borrowed(text);
    }
    let (head, tail) = (LONGEST_LINE * 3 / 5, LONGEST_LINE / 5);
    let start: String = text.chars().take(head).collect();
    let end: String = text.chars().skip(length - tail).collect();
    std::borrow::Cow::Owned(format!(
        "{start}...({} characters not shown)...{end}",
        length - head - tail
    ))
}

/// [`printable`] line by line: line breaks stay, every other control character is escaped.
pub fn printable_lines(text: &str) -> std::borrow::Cow<'_, str> {
    if text.chars().any(|c| c.is_control() && c != '\n') {
        std::borrow::Cow::Owned(
            text.split('\n')
                .map(|l| printable(l).into_owned())
                .collect::<Vec<_>>()
                .join("\n"),
        )
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

impl Error {
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Usage,
            message: message.into(),
            hint: None,
            source: None,
        }
    }

    pub fn runtime(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Runtime,
            message: message.into(),
            hint: None,
            source: None,
        }
    }

    /// Keeps `source` as the cause of this error.
    pub fn caused_by(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Prefixes the message with what we were doing: `cannot read OU=X: <message>`.
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }

    /// The message with `subject` (a DN) taken out, for lines that already start with it.
    pub fn without_subject(mut self, subject: &str) -> Self {
        for pattern in [format!(" of {subject}"), format!(" {subject}")] {
            self.message = self.message.replace(&pattern, "");
        }
        self
    }

    pub fn exit_code(&self) -> u8 {
        match self.kind {
            ErrorKind::Usage => exit::USAGE,
            ErrorKind::Runtime => exit::ERROR,
        }
    }
}
