//! A fast structural scan of one JSON Lines record: finds the top-level members and the byte
//! range of each value without building anything. Values the batch reads are parsed properly
//! afterwards; the rest are validated with serde_json.

use std::ops::Range;

/// A top-level member: its (unescaped) key and the byte range of its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TopMember<'a> {
    pub key: std::borrow::Cow<'a, str>,
    pub value: Range<usize>,
}

/// Splits a record `{ "k": v, ... }` into its members.
#[cfg(test)]
pub(crate) fn top_level_members(line: &str) -> Result<Vec<TopMember<'_>>, String> {
    top_level_members_with(line, &|_, _, _| None)
}

/// A hook that may read a member's value (key, line bytes, value start) and return its end.
pub(crate) type MemberEnd<'h> = dyn Fn(&str, &[u8], usize) -> Option<usize> + 'h;

/// Like [`top_level_members`], with a hook that may read a member's value itself (the
/// `request`) or know where it ends (a recently seen `policies` text that the line repeats at
/// that place) and return the index after it; the scan is used when it returns `None`.
pub(crate) fn top_level_members_with<'l>(
    line: &'l str,
    member_end: &MemberEnd<'_>,
) -> Result<Vec<TopMember<'l>>, String> {
    let b = line.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return Err(format!(
            "column {}: expected a JSON object (`{{`) for the record",
            col(line, i)
        ));
    }
    i = skip_ws(b, i + 1);
    let mut out = Vec::with_capacity(12);
    if b.get(i) == Some(&b'}') {
        return finish(line, b, i + 1, out);
    }
    loop {
        if b.get(i) != Some(&b'"') {
            return Err(format!(
                "column {}: expected a member name in double quotes",
                col(line, i)
            ));
        }
        let key_end = skip_string(b, i).map_err(|e| format!("column {}: {e}", col(line, i)))?;
        let raw = &line[i + 1..key_end - 1];
        let key: std::borrow::Cow<'_, str> = if raw.contains('\\') {
            std::borrow::Cow::Owned(
                serde_json::from_str(&line[i..key_end])
                    .map_err(|e| format!("column {}: invalid member name: {e}", col(line, i)))?,
            )
        } else {
            std::borrow::Cow::Borrowed(raw)
        };
        i = skip_ws(b, key_end);
        if b.get(i) != Some(&b':') {
            return Err(format!(
                "column {}: expected `:` after `{key}`",
                col(line, i)
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
        .map_err(|e| format!("column {}: in `{key}`: {e}", col(line, i)))?;
        out.push(TopMember {
            key,
            value: start..end,
        });
        i = skip_ws(b, end);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b'}') => return finish(line, b, i + 1, out),
            _ => {
                return Err(format!(
                    "column {}: expected `,` or `}}` after a member",
                    col(line, i)
                ));
            }
        }
    }
}

fn finish<'a>(
    line: &str,
    b: &[u8],
    i: usize,
    out: Vec<TopMember<'a>>,
) -> Result<Vec<TopMember<'a>>, String> {
    let j = skip_ws(b, i);
    if j != b.len() {
        return Err(format!(
            "column {}: unexpected text after the record",
            col(line, j)
        ));
    }
    Ok(out)
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
pub(crate) fn skip_number(b: &[u8], i: usize) -> Result<usize, &'static str> {
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
        _ => return Err("invalid number"),
    }
    if b.get(j) == Some(&b'.') {
        let (k, any) = digits(j + 1);
        if !any {
            return Err("invalid number");
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
            return Err("invalid number");
        }
        j = k;
    }
    Ok(j)
}

/// The end of a value that is an object or array (or any value): strings are skipped with
/// `memchr`, brackets only counted.
fn skip_container(b: &[u8], i: usize) -> Result<usize, &'static str> {
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
                        None => return Err("unterminated string"),
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
    Err("unterminated object or array")
}

/// The end of an object: jumps between quotes and braces with a SIMD search. Brackets need
/// no counting to find the object's end, and a quote is escaped when an odd number of
/// backslashes precede it.
fn skip_object_simd(b: &[u8], i: usize) -> Result<usize, &'static str> {
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
    Err("unterminated object")
}

/// `i` is at `"`; returns the index after the closing quote.
fn skip_string(b: &[u8], i: usize) -> Result<usize, &'static str> {
    let mut j = i + 1;
    loop {
        let rest = b.get(j..).ok_or("unterminated string")?;
        match memchr::memchr2(b'"', b'\\', rest) {
            Some(k) => {
                j += k;
                if b[j] == b'"' {
                    return Ok(j + 1);
                }
                j += 2;
            }
            None => return Err("unterminated string"),
        }
    }
}

/// Returns the index after the value starting at `i`. Structure (brackets, strings, commas)
/// is checked; scalar tokens are checked only for their characters.
pub(crate) fn skip_value(b: &[u8], i: usize, depth: usize) -> Result<usize, &'static str> {
    if depth > 128 {
        return Err("nested too deeply");
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
                        return Err("expected a member name");
                    }
                    j = skip_ws(b, skip_string(b, j)?);
                    if b.get(j) != Some(&b':') {
                        return Err("expected `:`");
                    }
                    j = skip_ws(b, j + 1);
                }
                j = skip_ws(b, skip_value(b, j, depth + 1)?);
                match b.get(j) {
                    Some(b',') => j = skip_ws(b, j + 1),
                    Some(&c) if c == close => return Ok(j + 1),
                    _ => return Err("expected `,` or a closing bracket"),
                }
            }
        }
        Some(b't' | b'f' | b'n') => {
            for lit in [&b"true"[..], b"false", b"null"] {
                if b[i..].starts_with(lit) {
                    return Ok(i + lit.len());
                }
            }
            Err("expected a JSON value")
        }
        Some(b'-' | b'0'..=b'9') => skip_number(b, i),
        _ => Err("expected a JSON value"),
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
