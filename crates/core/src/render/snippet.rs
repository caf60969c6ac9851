//! The lines of a policy document as a snippet shows them: where each span starts and ends,
//! the line numbers of the file the policy came from, and windows over lines too long to show.

use std::rc::Rc;
use std::sync::Arc;

use crate::json::Span;
use crate::policy::Origin;

/// Lines wider than this are shown as a window around the marked column.
pub(crate) const MAX_WIDTH: usize = 160;
/// Characters kept before the marked column when a line is windowed.
const LEAD: usize = 24;
const ELLIPSIS: &str = "...";

/// A document's text split into lines.
#[derive(Debug)]
pub(crate) struct Source<'a> {
    text: &'a str,
    /// Byte offset of each line's start.
    starts: Rc<[usize]>,
    /// Number shown for the first line.
    first_number: usize,
    /// Columns before the first character of the first line (the file's text before the
    /// policy, when the policy is an object inside a file).
    first_pad: usize,
}

impl<'a> Source<'a> {
    #[cfg(test)]
    pub(crate) fn new(text: &'a str, origin: Option<&Origin>) -> Source<'a> {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Source::with_starts(text, starts, origin)
    }

    /// A shared document text, its lines found once for every label on it.
    pub(crate) fn shared(text: &'a Arc<str>, origin: Option<&Origin>) -> Source<'a> {
        Source::with_starts(text, crate::json::line_starts(text), origin)
    }

    fn with_starts(text: &'a str, starts: Rc<[usize]>, origin: Option<&Origin>) -> Source<'a> {
        let (first_number, first_pad) = match origin {
            Some(o) if !o.from_string => (o.line.max(1), o.column.saturating_sub(1)),
            _ => (1, 0),
        };
        Source {
            text,
            starts,
            first_number,
            first_pad,
        }
    }

    /// The byte offset clamped into the text and moved back to a character boundary.
    fn clamp(&self, offset: usize) -> usize {
        let mut o = offset.min(self.text.len());
        while !self.text.is_char_boundary(o) {
            o -= 1;
        }
        o
    }

    /// 0-based index of the line holding a byte offset.
    pub(crate) fn line_of(&self, offset: usize) -> usize {
        let o = self.clamp(offset);
        self.starts.partition_point(|&s| s <= o).saturating_sub(1)
    }

    /// The 0-based lines of a span's first and last character.
    pub(crate) fn lines_of(&self, span: Span) -> (usize, usize) {
        let (s, e) = (span.start as usize, span.end as usize);
        let first = self.line_of(s);
        let last = if e > s { self.line_of(e - 1) } else { first };
        (first, last.max(first))
    }

    /// A line's text as shown, without its line break: tabs become spaces so that columns stay
    /// aligned, and the other characters [`needs_escape`](super::out::needs_escape) names are
    /// escaped (the columns of [`Source::column`] and [`Source::mark`] count them escaped).
    pub(crate) fn line(&self, idx: usize) -> String {
        let start = self.starts.get(idx).copied().unwrap_or(self.text.len());
        let end = self
            .starts
            .get(idx + 1)
            .map_or(self.text.len(), |&e| e.saturating_sub(1));
        let raw = self.text.get(start..end.max(start)).unwrap_or("");
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let pad = if idx == 0 { self.first_pad } else { 0 };
        let mut s = " ".repeat(pad);
        let spaced = raw.replace('\t', " ");
        super::out::push_escaped(&mut s, &spaced);
        s
    }

    /// The number shown for a line.
    pub(crate) fn number(&self, idx: usize) -> usize {
        self.first_number + idx
    }

    /// The 0-based display column of a byte offset in its line.
    pub(crate) fn column(&self, offset: usize) -> usize {
        let o = self.clamp(offset);
        let idx = self.line_of(o);
        let start = self.starts[idx];
        let pad = if idx == 0 { self.first_pad } else { 0 };
        pad + width(&self.text[start..o])
    }

    /// Where a span's mark goes on its first line: display column and width (at least 1; a
    /// span over several lines is marked to the end of its first line).
    pub(crate) fn mark(&self, span: Span) -> (usize, usize) {
        let start = self.clamp(span.start as usize);
        let end = self.clamp(span.end as usize).max(start);
        let idx = self.line_of(start);
        let line_end = self
            .starts
            .get(idx + 1)
            .map_or(self.text.len(), |&e| e.saturating_sub(1));
        let stop = end.min(line_end).max(start);
        let w = width(self.text[start..stop].trim_end());
        (self.column(start), w.max(1))
    }

    /// The exact text under a span.
    pub(crate) fn text_of(&self, span: Span) -> &'a str {
        self.text.get(span.range()).unwrap_or("")
    }

    /// The byte range of a line, without its line break.
    fn line_range(&self, idx: usize) -> (usize, usize) {
        let start = self.starts.get(idx).copied().unwrap_or(self.text.len());
        let end = self
            .starts
            .get(idx + 1)
            .map_or(self.text.len(), |&e| e.saturating_sub(1))
            .max(start);
        (start, end)
    }

    /// Whether a line is too long to escape and measure whole for each snippet (see [`Cut`]).
    pub(crate) fn is_long(&self, idx: usize) -> bool {
        let (start, end) = self.line_range(idx);
        end - start > LONG_LINE
    }

    /// A long line cut around the byte offset `focus` before it is escaped and measured, so that
    /// the work per snippet does not grow with the line.
    pub(crate) fn cut(&self, idx: usize, focus: Option<usize>) -> Cut {
        let (start, end) = self.line_range(idx);
        let focus = focus.map_or(start, |f| self.clamp(f).clamp(start, end));
        let from = self.clamp(focus.saturating_sub(LEAD).max(start));
        let to = self.clamp((from + MAX_WIDTH).min(end)).max(from);
        let mut text = String::new();
        if from > start {
            text.push_str(ELLIPSIS);
        } else if idx == 0 {
            text.push_str(&" ".repeat(self.first_pad));
        }
        let shift = text.len();
        super::out::push_escaped(&mut text, &self.text[from..to].replace('\t', " "));
        if to < end {
            text.push_str(ELLIPSIS);
        }
        Cut {
            text,
            from,
            to,
            shift,
        }
    }
}

/// Raw lines longer than this many bytes are cut around the mark before they are escaped and
/// measured ([`Source::cut`]): a policy can be one line of megabytes, and thousands of findings
/// each show a part of it.
const LONG_LINE: usize = 4 * MAX_WIDTH;

/// The shown part of a long line: its text, and the byte range of the line it shows.
#[derive(Debug)]
pub(crate) struct Cut {
    pub(crate) text: String,
    from: usize,
    to: usize,
    /// Columns before the first byte shown (an ellipsis, or the first line's padding).
    shift: usize,
}

impl Cut {
    /// Where a span's mark lands in the shown text: column and width (at least 1).
    pub(crate) fn place(&self, src: &Source<'_>, span: Span) -> (usize, usize) {
        let start = src.clamp(span.start as usize).clamp(self.from, self.to);
        let end = src.clamp(span.end as usize).clamp(start, self.to);
        let column = self.shift + width(&src.text[self.from..start]);
        (column, width(src.text[start..end].trim_end()).max(1))
    }
}

/// Columns a piece of a line takes as [`Source::line`] shows it (a tab is one space).
fn width(s: &str) -> usize {
    super::out::escaped_width(&s.replace('\t', " "))
}

/// A line as shown: the whole line when it fits, else a window starting a little before
/// `focus` (a display column), with `...` where it was cut.
#[derive(Debug)]
pub(crate) struct Window {
    pub(crate) text: String,
    /// The first display column shown.
    first: usize,
    /// Columns taken by a leading ellipsis.
    shift: usize,
    /// The column after the last one shown.
    last: usize,
}

impl Window {
    pub(crate) fn new(line: &str, focus: Option<usize>) -> Window {
        let len = line.chars().count();
        if len <= MAX_WIDTH {
            return Window {
                text: line.to_owned(),
                first: 0,
                shift: 0,
                last: len,
            };
        }
        let first = focus
            .map_or(0, |f| f.saturating_sub(LEAD))
            .min(len.saturating_sub(MAX_WIDTH));
        let last = (first + MAX_WIDTH).min(len);
        let mut text = String::new();
        if first > 0 {
            text.push_str(ELLIPSIS);
        }
        text.extend(line.chars().skip(first).take(last - first));
        if last < len {
            text.push_str(ELLIPSIS);
        }
        Window {
            text,
            first,
            shift: if first > 0 { ELLIPSIS.len() } else { 0 },
            last,
        }
    }

    /// Where a mark at `column` of `width` columns lands in the shown text.
    pub(crate) fn place(&self, column: usize, width: usize) -> (usize, usize) {
        let col = column.clamp(self.first, self.last);
        let end = (column + width).clamp(col, self.last);
        (col - self.first + self.shift, (end - col).max(1))
    }
}

/// At most `max` lines of the exact text under a span, the lines after the first dedented by
/// their common indentation (so a statement reads as it would on its own), and a last line
/// saying how many lines were left out.
pub(crate) fn excerpt(src: &Source<'_>, span: Span, max: usize) -> Vec<String> {
    let lines: Vec<&str> = src
        .text_of(span)
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let indent_of = |l: &str| l.chars().take_while(|c| *c == ' ' || *c == '\t').count();
    let indent = lines
        .iter()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| indent_of(l))
        .min()
        .unwrap_or(0);
    let keep = if lines.len() > max {
        max.saturating_sub(1).max(1)
    } else {
        lines.len()
    };
    let mut out: Vec<String> = lines
        .iter()
        .take(keep)
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                (*l).to_owned()
            } else {
                l.chars().skip(indent.min(indent_of(l))).collect()
            }
        })
        .collect();
    if lines.len() > keep {
        out.push(format!("... ({} more lines)", lines.len() - keep));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_follow_the_file_origin() {
        let text = "{\n  \"a\": 1,\n  \"b\": [2]\n}";
        let origin = Origin {
            file: "f.json".into(),
            line: 10,
            column: 5,
            pointer: "/p".into(),
            from_string: false,
        };
        let src = Source::new(text, Some(&origin));
        assert_eq!(src.number(src.line_of(4)), 11);
        assert_eq!(src.line(0), "    {");
        assert_eq!(src.column(0), 4);
        assert_eq!(src.column(4), 2);
        let b = text.find("[2]").unwrap_or(0);
        assert_eq!(src.mark(Span::new(b, b + 3)), (7, 3));
        assert_eq!(src.lines_of(Span::new(0, text.len())), (0, 3));
        assert_eq!(src.mark(Span::new(0, text.len())), (4, 1));
    }

    #[test]
    fn marks_stay_under_their_text_when_the_line_has_escaped_characters() {
        let text = "{\"Sid\": \"a\u{202e}\x1b\tb\", \"Effect\": \"Deny\"}";
        let src = Source::new(text, None);
        let line = src.line(0);
        assert_eq!(
            line,
            "{\"Sid\": \"a\\u{202e}\\x1b b\", \"Effect\": \"Deny\"}"
        );
        let at = text.find("\"Deny\"").unwrap_or(0);
        let (col, width) = src.mark(Span::new(at, at + 6));
        let shown: String = line.chars().skip(col).take(width).collect();
        assert_eq!(shown, "\"Deny\"");
    }

    #[test]
    fn very_long_lines_are_cut_before_they_are_measured() {
        let text = format!("{}\"Deny\"\u{202e}{}", "x".repeat(5_000), "y".repeat(5_000));
        let src = Source::new(&text, None);
        assert!(src.is_long(0));
        let cut = src.cut(0, Some(5_000));
        assert!(cut.text.starts_with("...") && cut.text.ends_with("..."));
        assert!(cut.text.len() < 2 * MAX_WIDTH, "{}", cut.text.len());
        let (col, width) = cut.place(&src, Span::new(5_000, 5_006));
        let shown: String = cut.text.chars().skip(col).take(width).collect();
        assert_eq!(shown, "\"Deny\"");
        assert!(cut.text.contains("\"Deny\"\\u{202e}y"));
    }

    #[test]
    fn long_lines_are_windowed_around_the_mark() {
        let line = "x".repeat(600);
        let w = Window::new(&line, Some(200));
        assert!(w.text.starts_with("...") && w.text.ends_with("..."));
        assert_eq!(w.place(200, 5), (LEAD + 3, 5));
        let short = Window::new("abc", Some(1));
        assert_eq!((short.text.as_str(), short.place(1, 10)), ("abc", (1, 2)));
    }

    #[test]
    fn excerpts_dedent_and_trim() {
        let text = "[\n    {\n      \"a\": 1,\n      \"b\": 2,\n      \"c\": 3\n    }\n]";
        let src = Source::new(text, None);
        let start = text.find('{').unwrap_or(0);
        let end = text.rfind('}').map_or(0, |e| e + 1);
        let span = Span::new(start, end);
        assert_eq!(
            excerpt(&src, span, 6),
            ["{", "  \"a\": 1,", "  \"b\": 2,", "  \"c\": 3", "}"]
        );
        assert_eq!(
            excerpt(&src, span, 3),
            ["{", "  \"a\": 1,", "... (3 more lines)"]
        );
    }
}
