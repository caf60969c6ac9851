//! A strict JSON parser that keeps the byte span of every value and key, so that policy
//! statements, elements and condition values can be pointed at in their original text.
//!
//! serde_json gives no spans for nested values; this parser is small, allocation-light and
//! never panics: malformed input gives a [`JsonError`] with the byte offset and the JSON
//! pointer of the value being read.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;
use std::sync::Arc;

/// A byte range in the source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// Offset of the first byte.
    pub start: u32,
    /// Offset just past the last byte.
    pub end: u32,
}

impl Span {
    /// The span `start..end` of `usize` offsets, stored as `u32`.
    pub fn new(start: usize, end: usize) -> Self {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }
    /// The span as a range, for slicing the text.
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// A JSON value with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Byte range of the value in the parsed text, quotes and brackets included.
    pub span: Span,
    /// The value.
    pub value: Json,
}

/// One member of an object, with the span of its key.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// The member's name, unescaped.
    pub key: String,
    /// Byte range of the name in the parsed text, quotes included.
    pub key_span: Span,
    /// The member's value.
    pub value: Node,
}

/// The JSON data model; numbers keep their literal text.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as written.
    Number(NumberText),
    /// A string, unescaped.
    String(String),
    /// An array's items, in order.
    Array(Vec<Node>),
    /// An object's members, in document order; a repeated name is kept, not merged.
    Object(Vec<Member>),
}

/// The literal text of a JSON number. Up to 22 bytes are kept inline: a number costs no
/// allocation of its own, so an array of millions of small numbers (hostile input) costs its
/// nodes only, not an allocation each as well.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct NumberText(NumberRepr);

#[derive(Clone, PartialEq, Eq, Hash)]
enum NumberRepr {
    Inline(u8, [u8; 22]),
    Heap(Box<str>),
}

impl NumberText {
    /// Keeps `text` (a JSON number literal).
    pub(crate) fn new(text: &str) -> Self {
        let mut inline = [0u8; 22];
        match inline.get_mut(..text.len()) {
            Some(slot) => {
                slot.copy_from_slice(text.as_bytes());
                NumberText(NumberRepr::Inline(text.len() as u8, inline))
            }
            None => NumberText(NumberRepr::Heap(text.into())),
        }
    }

    /// The number as written.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Copied from a `&str`, whole: always UTF-8.
            NumberRepr::Inline(len, bytes) => {
                std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default()
            }
            NumberRepr::Heap(s) => s,
        }
    }
}

impl std::ops::Deref for NumberText {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<str> for NumberText {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl fmt::Debug for NumberText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for NumberText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Json {
    /// The JSON type name, for messages such as "expected a string, found an array".
    pub fn type_name(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Number(_) => "a number",
            Json::String(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        }
    }
}

/// A syntax error: what was expected, at which byte offset, inside which value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// Byte offset in the text where reading failed.
    pub offset: usize,
    /// JSON pointer of the value being read; empty at the top level.
    pub pointer: String,
    /// What was expected or found, in words.
    pub message: String,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at byte {}", self.message, self.offset)?;
        if !self.pointer.is_empty() {
            write!(f, ", in `{}`", self.pointer)?;
        }
        write!(f, ")")
    }
}

impl std::error::Error for JsonError {}

/// Deep enough for any policy; guards the stack against hostile input.
const MAX_DEPTH: usize = 128;

/// Parses a complete JSON text (surrounding white space allowed, nothing else).
pub fn parse(text: &str) -> Result<Node, JsonError> {
    let mut p = Parser {
        src: text.as_bytes(),
        pos: 0,
        path: Vec::new(),
    };
    p.skip_ws();
    let node = p.value(0)?;
    p.skip_ws();
    if p.pos != p.src.len() {
        return Err(p.err("unexpected text after the end of the JSON value"));
    }
    Ok(node)
}

/// Escapes one reference token for a JSON pointer (RFC 6901).
pub fn escape_pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// The lines of the last shared text asked about, and the last column counted in it.
struct LineIndex {
    /// Held, so that a text the index answers for cannot have been freed and another allocated
    /// in its place.
    text: Arc<str>,
    starts: Rc<[usize]>,
    /// The byte offset and 1-based column of the last [`line_col_shared`] answer.
    last: Cell<(usize, usize)>,
}

thread_local! {
    static LAST: RefCell<Option<LineIndex>> = const { RefCell::new(None) };
}

/// Runs `f` on the line index of a shared text, computed once for the last text asked about:
/// renderers ask about every label of thousands of findings on one policy, and scanning the
/// text each time made rendering quadratic.
fn with_index<R>(text: &Arc<str>, f: impl FnOnce(&LineIndex) -> R) -> R {
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        let index = match &mut *last {
            Some(index) if Arc::ptr_eq(&index.text, text) => index,
            other => other.insert(LineIndex {
                text: text.clone(),
                starts: std::iter::once(0)
                    .chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1))
                    .collect(),
                last: Cell::new((0, 1)),
            }),
        };
        f(index)
    })
}

/// The byte offsets where the lines of a shared text start.
pub fn line_starts(text: &Arc<str>) -> Rc<[usize]> {
    with_index(text, |index| index.starts.clone())
}

/// [`line_col`] for a shared text: its lines are found once, and a column on the line of the
/// last answer, further on, is counted from there (labels come in order, and a policy can be
/// one long line).
pub fn line_col_shared(text: &Arc<str>, offset: usize) -> (usize, usize) {
    let mut cut = offset.min(text.len());
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    with_index(text, |index| {
        let idx = index
            .starts
            .partition_point(|&s| s <= cut)
            .saturating_sub(1);
        let start = index.starts.get(idx).copied().unwrap_or(0).min(cut);
        let (at, col) = index.last.get();
        let col = if (start..=cut).contains(&at) {
            col + text[at..cut].chars().count()
        } else {
            text[start..cut].chars().count() + 1
        };
        index.last.set((cut, col));
        (idx + 1, col)
    })
}

/// 1-based line and column (in characters) of a byte offset in `text`; an offset past the
/// end counts as the end, one inside a character as that character's start.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let mut cut = offset;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let before = &text[..cut];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

/// The index of the first item whose key an earlier item already has, in linear time (a
/// hostile object with a million members costs a million hash insertions, not a trillion
/// comparisons). The hasher is std's, which input cannot steer into collisions.
pub fn first_repeated<'a, T, K: std::hash::Hash + Eq>(
    items: &'a [T],
    key: impl Fn(&'a T) -> K,
) -> Option<usize> {
    if items.len() <= 8 {
        return (1..items.len()).find(|&i| {
            let k = key(&items[i]);
            items[..i].iter().any(|b| key(b) == k)
        });
    }
    let mut seen = std::collections::HashSet::with_capacity(items.len());
    items.iter().position(|it| !seen.insert(key(it)))
}

/// Quoted text longer than this (in characters) is cut in messages.
pub const MESSAGE_VALUE_CHARS: usize = 200;

/// Cuts every run of text between quotes (`` ` `` or `"`) longer than
/// [`MESSAGE_VALUE_CHARS`] characters to its beginning, followed by `…` and its length in
/// bytes: a message quotes the offending value, and a 10 MB value must not make a 10 MB
/// message. Linear in the message's length.
pub fn cut_long_values(message: &str) -> std::borrow::Cow<'_, str> {
    const KEEP: usize = 80;
    let long = |piece: &str| {
        piece.len() > MESSAGE_VALUE_CHARS && piece.chars().nth(MESSAGE_VALUE_CHARS).is_some()
    };
    if !message.split(['`', '"']).any(long) {
        return std::borrow::Cow::Borrowed(message);
    }
    let mut out = String::with_capacity(KEEP * 4);
    let mut rest = message;
    loop {
        let end = rest.find(['`', '"']).unwrap_or(rest.len());
        let piece = &rest[..end];
        if long(piece) {
            let cut = piece
                .char_indices()
                .nth(KEEP)
                .map_or(piece.len(), |(i, _)| i);
            out.push_str(&piece[..cut]);
            out.push_str(&format!("… ({} bytes)", piece.len()));
        } else {
            out.push_str(piece);
        }
        match rest[end..].chars().next() {
            Some(q) => {
                out.push(q);
                rest = &rest[end + q.len_utf8()..];
            }
            None => break,
        }
    }
    std::borrow::Cow::Owned(out)
}

enum PathSeg {
    Key(String),
    Index(usize),
}

struct Parser<'a> {
    src: &'a [u8],
    pos: usize,
    path: Vec<PathSeg>,
}

impl Parser<'_> {
    fn pointer(&self) -> String {
        let mut s = String::new();
        for seg in &self.path {
            s.push('/');
            match seg {
                PathSeg::Key(k) => s.push_str(&escape_pointer_token(k)),
                PathSeg::Index(i) => s.push_str(&i.to_string()),
            }
        }
        s
    }

    fn err(&self, message: impl Into<String>) -> JsonError {
        JsonError {
            offset: self.pos,
            pointer: self.pointer(),
            message: message.into(),
        }
    }

    fn skip_ws(&mut self) {
        while let Some(&b) = self.src.get(self.pos) {
            if matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn value(&mut self, depth: usize) -> Result<Node, JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.err("JSON nested too deeply"));
        }
        let start = self.pos;
        let value = match self.peek() {
            None => return Err(self.err("expected a JSON value, found the end of the text")),
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => Json::String(self.string()?),
            Some(b't') => self.literal("true", Json::Bool(true))?,
            Some(b'f') => self.literal("false", Json::Bool(false))?,
            Some(b'n') => self.literal("null", Json::Null)?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(_) => {
                let what = self.describe_here();
                return Err(self.err(format!("expected a JSON value, found {what}")));
            }
        };
        Ok(Node {
            span: Span::new(start, self.pos),
            value,
        })
    }

    fn describe_here(&self) -> String {
        let rest = &self.src[self.pos..];
        let text = String::from_utf8_lossy(&rest[..rest.len().min(12)]);
        match text.chars().next() {
            Some('\'') => "a single quote (JSON strings use double quotes)".into(),
            Some('/') => "a comment or `/` (comments are not allowed in policies)".into(),
            Some(c) => format!("`{c}`"),
            None => "the end of the text".into(),
        }
    }

    fn literal(&mut self, word: &str, value: Json) -> Result<Json, JsonError> {
        if self.src[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(value)
        } else {
            let what = self.describe_here();
            Err(self.err(format!("expected a JSON value, found {what}")))
        }
    }

    fn number(&mut self) -> Result<Json, JsonError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.err("expected a digit in the number")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.err("expected a digit after the decimal point"));
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.err("expected a digit in the exponent"));
            }
            self.digits();
        }
        // The slice is ASCII by construction.
        Ok(Json::Number(NumberText::new(&String::from_utf8_lossy(
            &self.src[start..self.pos],
        ))))
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
    }

    fn string(&mut self) -> Result<String, JsonError> {
        debug_assert_eq!(self.peek(), Some(b'"'));
        self.pos += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let run_start = self.pos;
            while let Some(&b) = self.src.get(self.pos) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            out.extend_from_slice(&self.src[run_start..self.pos]);
            match self.peek() {
                None => return Err(self.err("unterminated string: expected a closing `\"`")),
                Some(b'"') => {
                    self.pos += 1;
                    break;
                }
                Some(b'\\') => {
                    self.pos += 1;
                    self.escape(&mut out)?;
                }
                Some(_) => {
                    return Err(self.err("control character in a string (escape it, e.g. `\\n`)"));
                }
            }
        }
        // The input is a &str and escapes produce valid UTF-8, so this cannot fail; map it
        // to an error anyway rather than trusting it.
        String::from_utf8(out).map_err(|_| self.err("invalid UTF-8 in a string"))
    }

    fn escape(&mut self, out: &mut Vec<u8>) -> Result<(), JsonError> {
        let Some(c) = self.peek() else {
            return Err(self.err("unterminated escape sequence"));
        };
        self.pos += 1;
        let simple = match c {
            b'"' => Some(b'"'),
            b'\\' => Some(b'\\'),
            b'/' => Some(b'/'),
            b'b' => Some(8),
            b'f' => Some(12),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            b'u' => None,
            _ => {
                self.pos -= 1;
                return Err(self.err(format!("invalid escape `\\{}`", c as char)));
            }
        };
        if let Some(b) = simple {
            out.push(b);
            return Ok(());
        }
        let hi = self.hex4()?;
        let ch = if (0xD800..0xDC00).contains(&hi) {
            if !self.src[self.pos..].starts_with(b"\\u") {
                return Err(self.err("unpaired surrogate in a `\\u` escape"));
            }
            self.pos += 2;
            let lo = self.hex4()?;
            if !(0xDC00..0xE000).contains(&lo) {
                return Err(self.err("invalid low surrogate in a `\\u` escape"));
            }
            char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
        } else {
            char::from_u32(hi)
        };
        let ch = ch.ok_or_else(|| self.err("invalid `\\u` escape (lone surrogate)"))?;
        let mut buf = [0u8; 4];
        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let Some(digits) = self.src.get(self.pos..self.pos + 4) else {
            return Err(self.err("expected four hex digits after `\\u`"));
        };
        let mut v = 0u32;
        for &d in digits {
            let n = (d as char)
                .to_digit(16)
                .ok_or_else(|| self.err("expected four hex digits after `\\u`"))?;
            v = v * 16 + n;
        }
        self.pos += 4;
        Ok(v)
    }

    fn array(&mut self, depth: usize) -> Result<Json, JsonError> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Json::Array(items));
        }
        loop {
            self.skip_ws();
            self.path.push(PathSeg::Index(items.len()));
            let v = self.value(depth + 1)?;
            self.path.pop();
            items.push(v);
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_ws();
                    if self.peek() == Some(b']') {
                        return Err(self.err("trailing comma before `]`"));
                    }
                }
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Json::Array(items));
                }
                _ => return Err(self.err("expected `,` or `]` in the array")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json, JsonError> {
        self.pos += 1;
        let mut members: Vec<Member> = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Json::Object(members));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                let what = self.describe_here();
                return Err(self.err(format!(
                    "expected a member name in double quotes, found {what}"
                )));
            }
            let key_start = self.pos;
            let key = self.string()?;
            let key_span = Span::new(key_start, self.pos);
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.err(format!("expected `:` after the member name `{key}`")));
            }
            self.pos += 1;
            self.skip_ws();
            self.path.push(PathSeg::Key(key.clone()));
            let value = self.value(depth + 1)?;
            self.path.pop();
            members.push(Member {
                key,
                key_span,
                value,
            });
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_ws();
                    if self.peek() == Some(b'}') {
                        return Err(self.err("trailing comma before `}`"));
                    }
                }
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Json::Object(members));
                }
                _ => return Err(self.err("expected `,` or `}` in the object")),
            }
        }
    }
}

/// Re-indents a JSON text (two spaces, members in their original order), for showing a
/// minified document with line numbers. `None` if the text is not JSON.
pub fn pretty(text: &str) -> Option<String> {
    let node = parse(text).ok()?;
    let mut out = String::with_capacity(text.len() * 2);
    write_pretty(&node, 0, &mut out);
    Some(out)
}

fn write_pretty(node: &Node, depth: usize, out: &mut String) {
    let pad = |out: &mut String, d: usize| out.extend(std::iter::repeat_n("  ", d));
    match &node.value {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => out.push_str(n),
        Json::String(s) => write_string(s, out),
        Json::Array(items) if items.is_empty() => out.push_str("[]"),
        Json::Array(items) => {
            let scalars = items
                .iter()
                .all(|i| !matches!(i.value, Json::Array(_) | Json::Object(_)));
            if scalars && items.len() <= 4 {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_pretty(item, depth, out);
                }
                out.push(']');
                return;
            }
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                pad(out, depth + 1);
                write_pretty(item, depth + 1, out);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            pad(out, depth);
            out.push(']');
        }
        Json::Object(members) if members.is_empty() => out.push_str("{}"),
        Json::Object(members) => {
            out.push_str("{\n");
            for (i, m) in members.iter().enumerate() {
                pad(out, depth + 1);
                write_string(&m.key, out);
                out.push_str(": ");
                write_pretty(&m.value, depth + 1, out);
                out.push_str(if i + 1 < members.len() { ",\n" } else { "\n" });
            }
            pad(out, depth);
            out.push('}');
        }
    }
}

/// Appends `s` as a JSON string literal.
pub(crate) fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_point_at_values_and_keys() {
        let text = r#"{"a": [1, "x"], "b": {"c": null}}"#;
        let node = parse(text).unwrap();
        let Json::Object(m) = &node.value else {
            panic!("object")
        };
        assert_eq!(&text[m[0].key_span.range()], r#""a""#);
        assert_eq!(&text[m[0].value.span.range()], r#"[1, "x"]"#);
        let Json::Object(inner) = &m[1].value.value else {
            panic!("object")
        };
        assert_eq!(&text[inner[0].value.span.range()], "null");
    }

    #[test]
    fn errors_name_the_pointer_and_position() {
        let text = "{\n  \"Statement\": [ {\"Effect\": 'Allow'} ]\n}";
        let e = parse(text).unwrap_err();
        assert_eq!(e.pointer, "/Statement/0/Effect");
        assert!(e.message.contains("single quote"), "{}", e.message);
        assert_eq!(line_col(text, e.offset), (2, 29));
    }

    #[test]
    fn rejects_trailing_commas_comments_and_garbage() {
        assert!(parse("[1,]").is_err());
        assert!(parse("{\"a\":1,}").is_err());
        assert!(parse("// c\n{}").is_err());
        assert!(parse("{} x").is_err());
        assert!(parse("").is_err());
        assert!(parse("\"abc").is_err());
    }

    #[test]
    fn decodes_escapes_including_surrogate_pairs() {
        let node = parse(r#""a\n\u00e9\ud83d\ude00\/""#).unwrap();
        assert_eq!(node.value, Json::String("a\né😀/".into()));
        assert!(parse(r#""\ud83d""#).is_err());
    }

    #[test]
    fn pretty_keeps_member_order_and_values() {
        let text = r#"{"b":1,"a":["x","y"],"c":{"d":"q\"uote"},"e":[{"f":null}]}"#;
        let p = pretty(text).unwrap();
        assert!(p.find("\"b\"").unwrap() < p.find("\"a\"").unwrap());
        let a: serde_json::Value = serde_json::from_str(&p).unwrap();
        let b: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(a, b);
        assert!(p.lines().count() > 5);
        assert!(pretty("{").is_none());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = "[".repeat(10_000);
        assert!(parse(&text).unwrap_err().message.contains("deeply"));
    }

    #[test]
    fn first_repeated_finds_the_second_copy_in_small_and_large_lists() {
        assert_eq!(first_repeated(&["a", "b", "a"], |s| *s), Some(2));
        assert_eq!(first_repeated(&["a", "b", "c"], |s| *s), None);
        let mut many: Vec<String> = (0..100_000).map(|i| format!("k{i}")).collect();
        assert_eq!(first_repeated(&many, |s| s.as_str()), None);
        many.push("k77".into());
        assert_eq!(first_repeated(&many, |s| s.as_str()), Some(100_000));
        // A key function that folds case.
        assert_eq!(
            first_repeated(&["aws:SourceIp", "AWS:SOURCEIP"], |s| s
                .to_ascii_lowercase()),
            Some(1)
        );
    }

    #[test]
    fn long_quoted_values_are_cut_with_their_length() {
        let short = "`Effect` must be \"Allow\" or \"Deny\", found \"allow\"";
        assert_eq!(cut_long_values(short), short);
        let long = "é".repeat(300);
        let msg = format!("unknown element `{long}` in a statement");
        let cut = cut_long_values(&msg);
        assert_eq!(
            cut,
            format!(
                "unknown element `{}… (600 bytes)` in a statement",
                "é".repeat(80)
            )
        );
    }

    #[test]
    fn numbers_keep_their_text_without_growing_a_node() {
        for text in [
            "0",
            "-1.5e-7",
            "123456789012345678901",
            "1234567890123456789012345678",
        ] {
            let node = parse(text).unwrap();
            let Json::Number(n) = &node.value else {
                panic!("{node:?}")
            };
            assert_eq!(n.as_str(), text);
            assert_eq!(format!("{n}"), text);
        }
        // A number inline is no larger than a string or an array.
        assert_eq!(
            std::mem::size_of::<Json>(),
            std::mem::size_of::<Option<String>>() + 8
        );
    }
}
