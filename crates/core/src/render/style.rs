//! ANSI styles for the human renderer, applied only when the caller asked for colour (by
//! [`Out::styled`](super::out::Out::styled), the only writer of escape codes).

/// A text style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Denials, causes, primary carets.
    Error,
    /// Contributing findings, indeterminate results, what could not be read.
    Warning,
    /// Observations, notes.
    Note,
    /// Allowed, fixes that resolve.
    Good,
    /// The line-number gutter and secondary marks.
    Gutter,
    /// Headings and the cause sentence.
    Bold,
}

impl Style {
    /// Resets every style.
    pub(crate) const RESET: &'static str = "\x1b[0m";

    pub(crate) fn code(self) -> &'static str {
        match self {
            Style::Error => "\x1b[1;31m",
            Style::Warning => "\x1b[1;33m",
            Style::Note => "\x1b[1;36m",
            Style::Good => "\x1b[1;32m",
            Style::Gutter => "\x1b[1;34m",
            Style::Bold => "\x1b[1m",
        }
    }
}
