//! A fast structural scan of one JSON Lines record: finds the top-level members and the byte
//! range of each value without building anything. Values the batch reads are parsed properly
//! afterwards; the rest are validated with serde_json.

use std::ops::Range;

/// A top-level member: its (unescaped) key, where the key starts and the byte range of its
/// value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TopMember<'a> {
    pub key: std::borrow::Cow<'a, str>,
    pub key_at: usize,
    pub value: Range<usize>,
}

/// What is wrong with a line, and where: a byte offset in the line, and the message (which
/// names the JSON pointer when there is one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LineError {
    pub at: usize,
    pub message: String,
}

impl LineError {
    pub(crate) fn new(at: usize, message: impl Into<String>) -> Self {
        LineError {
            at,
            message: message.into(),
        }
    }

    /// The same error in a text that holds this one at `base`.
    pub(crate) fn shift(mut self, base: usize) -> Self {
        self.at += base;
        self
    }

    /// `column C: message`, the column counted in characters of `line`.
    pub(crate) fn render(&self, line: &str) -> String {
        format!("column {}: {}", col(line, self.at), self.message)
    }
}

/// Splits a record `{ "k": v, ... }` into its members.
#[cfg(test)]
pub(crate) fn top_level_members(line: &str) -> Result<Vec<TopMember<'_>>, LineError> {
    let mut out = Vec::new();
    top_level_members_with(line, &|_, _, _| None, &mut out).map(|()| out)
}

/// The end of a skipped value, or where and why it is not JSON.
pub(crate) type Skip = Result<usize, (usize, &'static str)>;

/// A hook that may read a member's value (key, line bytes, value start) and return its end.
pub(crate) type MemberEnd<'h> = dyn Fn(&str, &[u8], usize) -> Option<usize> + 'h;

/// Like [`top_level_members`], with a hook that may read a member's value itself (the
/// `request`) or know where it ends (a recently seen `policies` text that the line repeats at
/// that place) and return the index after it; the scan is used when it returns `None`. The
/// members read before an error stay in `out` (the error record still names the `id`).
pub(crate) fn top_level_members_with<'l>(
    line: &'l str,
    member_end: &MemberEnd<'_>,
    out: &mut Vec<TopMember<'l>>,
) -> Result<(), LineError> {
    let b = line.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return Err(LineError::new(
            i,
            "expected a JSON object (`{`) for the record",
        ));
    }
    i = skip_ws(b, i + 1);
    if b.get(i) == Some(&b'}') {
        return finish(b, i + 1);
    }
    loop {
        if b.get(i) != Some(&b'"') {
            return Err(LineError::new(i, "expected a member name in double quotes"));
        }
        let key_at = i;
        let key_end = skip_string(b, i).map_err(|(at, e)| LineError::new(at, e))?;
        let raw = &line[i + 1..key_end - 1];
        let key: std::borrow::Cow<'_, str> = if raw.contains('\\') {
            std::borrow::Cow::Owned(
                serde_json::from_str(&line[i..key_end])
                    .map_err(|e| LineError::new(i, format!("invalid member name: {e}")))?,
            )
        } else {
            std::borrow::Cow::Borrowed(raw)
        };
        i = skip_ws(b, key_end);
        if b.get(i) != Some(&b':') {
            return Err(LineError::new(
                i,
                format!("expected `:` after `{}`", pointer(&key)),
            ));
        }
        i = skip_ws(b, i + 1);
        let start = i;
        // The policies are checked in full when first compiled, and a cached compilation is
        // only reused for the identical text: finding their end is enough here.
        let end = match member_end(&key, b, i) {
            Some(end) => Ok(end),
            None if key == "policies" => skip_container(b, i),
            None => skip_value(b, i, 0),
        }
        .map_err(|(at, e)| LineError::new(at, format!("`{}`: {e}", pointer(&key))))?;
        out.push(TopMember {
            key,
            key_at,
            value: start..end,
        });
        i = skip_ws(b, end);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b'}') => return finish(b, i + 1),
            _ => {
                return Err(LineError::new(i, "expected `,` or `}` after a member"));
            }
        }
    }
}

/// The JSON pointer of a top-level member.
pub(crate) fn pointer(key: &str) -> String {
    format!("/{}", crate::json::escape_pointer_token(key))
}

fn finish(b: &[u8], i: usize) -> Result<(), LineError> {
    let j = skip_ws(b, i);
    if j != b.len() {
        return Err(LineError::new(j, "unexpected text after the record"));
    }
    Ok(())
}

fn col(line: &str, i: usize) -> usize {
    crate::json::line_col(line, i).1
}

pub(crate) fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while let Some(c) = b.get(i) {
        if matches!(c, b' ' | b'\t' | b'\r' | b'\n') {
            i += 1;
        } else {
            break;
        }
    }
    i
}

/// A JSON number: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
pub(crate) fn skip_number(b: &[u8], i: usize) -> Skip {
    let digits = |mut j: usize| {
        let start = j;
        while b.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        (j, j > start)
    };
    let mut j = i + usize::from(b.get(i) == Some(&b'-'));
    match b.get(j) {
        Some(b'0') => j += 1,
        Some(b'1'..=b'9') => j = digits(j).0,
        _ => return Err((j, "invalid number")),
    }
    if b.get(j) == Some(&b'.') {
        let (k, any) = digits(j + 1);
        if !any {
            return Err((k, "invalid number"));
        }
        j = k;
    }
    if matches!(b.get(j), Some(b'e' | b'E')) {
        j += 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let (k, any) = digits(j);
        if !any {
            return Err((k, "invalid number"));
        }
        j = k;
    }
    Ok(j)
}

/// The end of a value that is an object or array (or any value): strings are skipped with
/// `memchr`, brackets only counted.
fn skip_container(b: &[u8], i: usize) -> Skip {
    if b.get(i) == Some(&b'{') {
        return skip_object_simd(b, i);
    }
    if !matches!(b.get(i), Some(b'{' | b'[')) {
        return skip_value(b, i, 0);
    }
    let mut depth = 0usize;
    let mut j = i;
    while let Some(&c) = b.get(j) {
        match c {
            b'"' => {
                // Policy strings are short: a plain loop beats a SIMD search here.
                j += 1;
                loop {
                    match b.get(j) {
                        Some(b'"') => break,
                        Some(b'\\') => j += 2,
                        Some(_) => j += 1,
                        None => return Err((b.len(), "unterminated string")),
                    }
                }
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return Ok(j + 1);
                }
            }
            _ => {}
        }
        j += 1;
    }
    Err((b.len(), "unterminated object or array"))
}

/// The end of an object: jumps between quotes and braces with a SIMD search. Brackets need
/// no counting to find the object's end, and a quote is escaped when an odd number of
/// backslashes precede it.
fn skip_object_simd(b: &[u8], i: usize) -> Skip {
    let mut depth = 0usize;
    let mut in_string = false;
    for p in memchr::memchr3_iter(b'"', b'{', b'}', &b[i..]) {
        let j = i + p;
        match b[j] {
            b'"' => {
                if in_string {
                    let escapes = b[i..j].iter().rev().take_while(|&&c| c == b'\\').count();
                    if escapes % 2 == 1 {
                        continue;
                    }
                }
                in_string = !in_string;
            }
            b'{' if !in_string => depth += 1,
            b'}' if !in_string => {
                depth -= 1;
                if depth == 0 {
                    return Ok(j + 1);
                }
            }
            _ => {}
        }
    }
    Err((b.len(), "unterminated object"))
}

/// `i` is at `"`; returns the index after the closing quote.
fn skip_string(b: &[u8], i: usize) -> Skip {
    let unterminated = (b.len(), "unterminated string");
    let mut j = i + 1;
    loop {
        let rest = b.get(j..).ok_or(unterminated)?;
        match memchr::memchr2(b'"', b'\\', rest) {
            Some(k) => {
                j += k;
                if b[j] == b'"' {
                    return Ok(j + 1);
                }
                j += 2;
            }
            None => return Err(unterminated),
        }
    }
}

/// Returns the index after the value starting at `i`. Structure (brackets, strings, commas)
/// is checked; scalar tokens are checked only for their characters.
pub(crate) fn skip_value(b: &[u8], i: usize, depth: usize) -> Skip {
    if depth > 128 {
        return Err((i, "nested too deeply"));
    }
    match b.get(i) {
        Some(b'"') => skip_string(b, i),
        Some(&open @ (b'{' | b'[')) => {
            let close = if open == b'{' { b'}' } else { b']' };
            let mut j = skip_ws(b, i + 1);
            if b.get(j) == Some(&close) {
                return Ok(j + 1);
            }
            loop {
                if open == b'{' {
                    if b.get(j) != Some(&b'"') {
                        return Err((j, "expected a member name"));
                    }
                    j = skip_ws(b, skip_string(b, j)?);
                    if b.get(j) != Some(&b':') {
                        return Err((j, "expected `:`"));
                    }
                    j = skip_ws(b, j + 1);
                }
                j = skip_ws(b, skip_value(b, j, depth + 1)?);
                match b.get(j) {
                    Some(b',') => j = skip_ws(b, j + 1),
                    Some(&c) if c == close => return Ok(j + 1),
                    _ => return Err((j, "expected `,` or a closing bracket")),
                }
            }
        }
        Some(b't' | b'f' | b'n') => {
            for lit in [&b"true"[..], b"false", b"null"] {
                if b[i..].starts_with(lit) {
                    return Ok(i + lit.len());
                }
            }
            Err((i, "expected a JSON value"))
        }
        Some(b'-' | b'0'..=b'9') => skip_number(b, i),
        _ => Err((i, "expected a JSON value")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_members_and_value_ranges() {
        let line = r#"{"id": "a\"b", "policies": {"x": [1, {"y": "}"}]}, "n": null}"#;
        let m = top_level_members(line).unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!(&line[m[0].value.clone()], r#""a\"b""#);
        assert_eq!(&line[m[1].value.clone()], r#"{"x": [1, {"y": "}"}]}"#);
        assert_eq!(m[2].key, "n");
    }

    #[test]
    fn structural_errors_are_reported() {
        assert!(top_level_members(r#"{"a": [1, 2}"#).is_err());
        assert!(top_level_members(r#"{"a": "x}"#).is_err());
        assert!(top_level_members(r#"[1]"#).is_err());
        assert!(top_level_members(r#"{"a": 1} trailing"#).is_err());
        assert!(top_level_members("").is_err());
    }
}
