//! The one path by which rendered text is written, so that no value from the input can act on
//! the terminal or forge a line of output.
//!
//! Object keys, Sids, bucket names, policy and document names, condition values, error texts and
//! file names are chosen by whoever uploads, writes a policy or pastes an error, and the output
//! is read by someone else. Every human renderer writes into an [`Out`], which takes text only
//! through methods that escape it: a line break is [`Out::newline`] and a colour is
//! [`Out::styled`], so the renderer's own structure and styling are the only raw control
//! characters that can reach the output, whatever a renderer forgets. (Escaping each value where
//! it is formatted instead would need every rule and every renderer to remember it, and the
//! messages rules build already hold input.)
//!
//! Escaped are the characters a terminal acts on or that change how a line reads (see
//! [`needs_escape`]): C0 controls (line breaks and tabs included), DEL and C1 controls, the
//! bidirectional marks, embeddings, overrides and isolates, the line and paragraph separators,
//! and invisible format characters (zero width space, word joiner, byte order mark, interlinear
//! annotations). They are written as `\n`, `\r`, `\t`, `\x1b` (other ASCII controls) and
//! `\u{202e}` (the rest). A backslash is left as it is, so policy text (`\"` in JSON strings)
//! reads as written; the escaped forms are therefore not reversible, which the JSON rendering is.

use std::borrow::Cow;
use std::fmt;

use super::style::Style;

/// Whether a character is written escaped.
pub fn needs_escape(c: char) -> bool {
    matches!(
        c,
        '\0'..='\x1f'
            | '\x7f'..='\u{9f}'
            // Arabic letter mark.
            | '\u{61c}'
            // Zero width space; left-to-right and right-to-left marks.
            | '\u{200b}'
            | '\u{200e}'
            | '\u{200f}'
            // Line and paragraph separators; bidirectional embeddings and overrides.
            | '\u{2028}'..='\u{202e}'
            // Word joiner, invisible operators; bidirectional isolates.
            | '\u{2060}'..='\u{2069}'
            // Byte order mark (zero width no-break space).
            | '\u{feff}'
            // Interlinear annotation characters.
            | '\u{fff9}'..='\u{fffb}'
    )
}

/// Appends `c` in its escaped form.
pub(crate) fn push_escape(out: &mut String, c: char) {
    use fmt::Write as _;
    let _ = match c {
        '\n' => out.write_str("\\n"),
        '\r' => out.write_str("\\r"),
        '\t' => out.write_str("\\t"),
        c if c.is_ascii() => write!(out, "\\x{:02x}", c as u32),
        c => write!(out, "\\u{{{:x}}}", c as u32),
    };
}

/// Appends `s` with every character of [`needs_escape`] in its visible escaped form.
pub(crate) fn push_escaped(out: &mut String, s: &str) {
    let mut rest = s;
    while let Some(at) = rest.find(needs_escape) {
        out.push_str(&rest[..at]);
        let c = rest[at..].chars().next().unwrap_or_default();
        push_escape(out, c);
        rest = &rest[at + c.len_utf8()..];
    }
    out.push_str(rest);
}

/// `s` with every character of [`needs_escape`] in its visible escaped form: for text written
/// anywhere else than through [`Out`] (the command line's error messages).
pub fn escape(s: &str) -> Cow<'_, str> {
    if s.contains(needs_escape) {
        let mut out = String::with_capacity(s.len() + 16);
        push_escaped(&mut out, s);
        Cow::Owned(out)
    } else {
        Cow::Borrowed(s)
    }
}

/// Columns `s` takes once escaped (one per character, as the snippets count them).
pub(crate) fn escaped_width(s: &str) -> usize {
    s.chars()
        .map(|c| {
            if !needs_escape(c) {
                1
            } else if matches!(c, '\n' | '\r' | '\t') {
                2
            } else if c.is_ascii() {
                4
            } else {
                // `\u{` + hex digits + `}`.
                4 + format!("{:x}", c as u32).len()
            }
        })
        .sum()
}

/// A JSON document as text, pretty-printed, with a final line break. serde_json escapes the C0
/// controls; the other characters of [`needs_escape`] (DEL, C1 controls, bidirectional and
/// invisible format characters) can only stand inside strings, where they are written as
/// `\uXXXX`: the document stays valid and means the same, and no raw control reaches a
/// terminal it is printed on.
pub fn json_text(v: &serde_json::Value) -> String {
    let raw = format!("{v:#}\n");
    if !raw.contains(needs_escape_in_json) {
        return raw;
    }
    let mut out = String::with_capacity(raw.len() + 64);
    for c in raw.chars() {
        if needs_escape_in_json(c) {
            use fmt::Write as _;
            // Every character of `needs_escape` is in the Basic Multilingual Plane.
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

/// The characters of [`needs_escape`] that serde_json writes raw (outside strings the JSON
/// text has only ASCII whitespace, which stays).
fn needs_escape_in_json(c: char) -> bool {
    (needs_escape(c) && !c.is_ascii_control()) || c == '\x7f'
}

/// Rendered text for a person. Text goes in only escaped ([`Out::text`], [`Out::styled`] and
/// `write!`); the only raw control characters are the line breaks of [`Out::newline`] and, when
/// colour is on, the escape codes of [`Out::styled`].
#[derive(Debug)]
pub struct Out {
    buf: String,
    color: bool,
}

impl Out {
    /// An empty text, coloured with ANSI escape codes when `color` is true.
    pub fn new(color: bool) -> Out {
        Out {
            buf: String::new(),
            color,
        }
    }

    /// Writes text, escaped.
    pub fn text(&mut self, s: &str) -> &mut Out {
        push_escaped(&mut self.buf, s);
        self
    }

    /// Writes text, escaped, in a style when colour is on.
    pub fn styled(&mut self, style: Style, s: &str) -> &mut Out {
        if self.color && !s.is_empty() {
            self.buf.push_str(style.code());
            push_escaped(&mut self.buf, s);
            self.buf.push_str(Style::RESET);
        } else {
            push_escaped(&mut self.buf, s);
        }
        self
    }

    /// Ends the line.
    pub fn newline(&mut self) -> &mut Out {
        self.buf.push('\n');
        self
    }

    /// Writes a line of text, escaped, and ends it.
    pub fn line(&mut self, s: &str) -> &mut Out {
        self.text(s).newline()
    }

    /// Writes formatted text, escaped, and ends the line (what [`outln!`](crate::outln)
    /// expands to).
    pub fn fmt_line(&mut self, args: fmt::Arguments<'_>) -> &mut Out {
        let _ = fmt::Write::write_fmt(self, args);
        self.newline()
    }

    /// The text written.
    pub fn finish(self) -> String {
        self.buf
    }
}

/// `write!` writes escaped text, like [`Out::text`] (a `\n` in the format string shows as `\n`:
/// lines end with [`Out::newline`]).
impl fmt::Write for Out {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.text(s);
        Ok(())
    }
}

/// `writeln!` for an [`Out`](crate::render::Out): the formatted text escaped, then a line
/// break.
#[macro_export]
macro_rules! outln {
    ($out:expr, $($arg:tt)*) => {
        $out.fmt_line(format_args!($($arg)*))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_bidi_and_separators_are_written_visibly() {
        assert_eq!(
            escape("a\nb\r\t\x1b]0;t\x07\x7f\u{9b}\u{202e}\u{2066}\u{2028}\u{feff}z"),
            "a\\nb\\r\\t\\x1b]0;t\\x07\\x7f\\u{9b}\\u{202e}\\u{2066}\\u{2028}\\u{feff}z"
        );
        assert!(matches!(escape("s3://bucket/é/\\\"k\""), Cow::Borrowed(_)));
        for s in ["a\nb", "\u{202e}", "\x1b", "\u{9b}x", "\u{10}"] {
            assert_eq!(escaped_width(s), escape(s).chars().count(), "{s:?}");
        }
    }

    #[test]
    fn only_newline_and_styles_are_raw() {
        let mut o = Out::new(true);
        o.styled(Style::Error, "x\x1b[2J").text("\ny").newline();
        assert_eq!(o.finish(), "\x1b[1;31mx\\x1b[2J\x1b[0m\\ny\n");
    }

    #[test]
    fn json_text_escapes_what_serde_json_leaves_raw() {
        let v = serde_json::json!({"k": "a\u{202e}b\x7f\u{85}\n\x1b"});
        let t = json_text(&v);
        assert!(!t.contains(|c: char| needs_escape(c) && c != '\n'), "{t}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&t).ok(), Some(v));
    }
}
