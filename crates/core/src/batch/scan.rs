//! A fast structural scan of one JSON Lines record: finds the top-level members and the byte
//! range of each value without building anything. Values the batch reads are parsed properly
//! afterwards; the rest are validated with serde_json.

use std::ops::Range;

/// A top-level member: its (unescaped) key and the byte range of its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TopMember {
    pub key: String,
    pub value: Range<usize>,
}

/// Splits a record `{ "k": v, ... }` into its members.
pub(crate) fn top_level_members(line: &str) -> Result<Vec<TopMember>, String> {
    let b = line.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return Err(format!("column {}: expected a JSON object (`{{`) for the record", col(line, i)));
    }
    i = skip_ws(b, i + 1);
    let mut out = Vec::with_capacity(12);
    if b.get(i) == Some(&b'}') {
        return finish(line, b, i + 1, out);
    }
    loop {
        if b.get(i) != Some(&b'"') {
            return Err(format!("column {}: expected a member name in double quotes", col(line, i)));
        }
        let key_end = skip_string(b, i).map_err(|e| format!("column {}: {e}", col(line, i)))?;
        let key: String = serde_json::from_str(&line[i..key_end])
            .map_err(|e| format!("column {}: invalid member name: {e}", col(line, i)))?;
        i = skip_ws(b, key_end);
        if b.get(i) != Some(&b':') {
            return Err(format!("column {}: expected `:` after `{key}`", col(line, i)));
        }
        i = skip_ws(b, i + 1);
        let start = i;
        let end = skip_value(b, i, 0).map_err(|e| format!("column {}: in `{key}`: {e}", col(line, i)))?;
        out.push(TopMember { key, value: start..end });
        i = skip_ws(b, end);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b'}') => return finish(line, b, i + 1, out),
            _ => return Err(format!("column {}: expected `,` or `}}` after a member", col(line, i))),
        }
    }
}

fn finish(line: &str, b: &[u8], i: usize, out: Vec<TopMember>) -> Result<Vec<TopMember>, String> {
    let j = skip_ws(b, i);
    if j != b.len() {
        return Err(format!("column {}: unexpected text after the record", col(line, j)));
    }
    Ok(out)
}

fn col(line: &str, i: usize) -> usize {
    crate::json::line_col(line, i).1
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while let Some(c) = b.get(i) {
        if matches!(c, b' ' | b'\t' | b'\r' | b'\n') {
            i += 1;
        } else {
            break;
        }
    }
    i
}

/// `i` is at `"`; returns the index after the closing quote.
fn skip_string(b: &[u8], i: usize) -> Result<usize, &'static str> {
    let mut j = i + 1;
    loop {
        let rest = b.get(j..).ok_or("unterminated string")?;
        match rest.iter().position(|&c| c == b'"' || c == b'\\') {
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
fn skip_value(b: &[u8], i: usize, depth: usize) -> Result<usize, &'static str> {
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
        Some(c) if c.is_ascii_alphanumeric() || *c == b'-' => {
            let mut j = i;
            while b.get(j).is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'+' | b'.')) {
                j += 1;
            }
            Ok(j)
        }
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
