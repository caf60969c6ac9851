//! Documents as people keep them: JSON with its members in their own order (so that an edited
//! policy differs from the original only where the fix edits it), pretty-printed, and the
//! unified diff of two texts.

use std::fmt::Write as _;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// A JSON value whose object members keep their order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Doc {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Doc>),
    Object(Vec<(String, Doc)>),
}

impl Doc {
    /// Reads JSON text, keeping member order.
    pub(crate) fn parse(text: &str) -> Result<Doc, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }

    /// From a `serde_json::Value`, members sorted by name (a `serde_json` map's order depends
    /// on a cargo feature that other crates of a build may turn on).
    pub(crate) fn from_value(v: &serde_json::Value) -> Doc {
        match v {
            serde_json::Value::Null => Doc::Null,
            serde_json::Value::Bool(b) => Doc::Bool(*b),
            serde_json::Value::Number(n) => Doc::Number(n.clone()),
            serde_json::Value::String(s) => Doc::String(s.clone()),
            serde_json::Value::Array(a) => Doc::Array(a.iter().map(Doc::from_value).collect()),
            serde_json::Value::Object(o) => {
                let mut members: Vec<(String, Doc)> = o
                    .iter()
                    .map(|(k, v)| (k.clone(), Doc::from_value(v)))
                    .collect();
                members.sort_by(|a, b| a.0.cmp(&b.0));
                Doc::Object(members)
            }
        }
    }

    /// A new policy document in the usual order: `Version`, `Id`, `Statement` first, each
    /// statement's members in the usual order.
    pub(crate) fn policy_ordered(self) -> Doc {
        let Doc::Object(mut members) = self else {
            return self;
        };
        let rank = |k: &str| match k {
            "Version" => 0,
            "Id" => 1,
            "Statement" => 2,
            _ => 3,
        };
        members.sort_by_key(|(k, _)| rank(k));
        for (k, v) in &mut members {
            if k == "Statement" {
                match v {
                    Doc::Array(stmts) => {
                        for st in stmts.iter_mut() {
                            *st = std::mem::replace(st, Doc::Null).ordered_like(None);
                        }
                    }
                    one @ Doc::Object(_) => {
                        *one = std::mem::replace(one, Doc::Null).ordered_like(None);
                    }
                    _ => {}
                }
            }
        }
        Doc::Object(members)
    }

    /// Pretty-printed, two spaces, as `serde_json` writes it.
    pub(crate) fn pretty(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The member `key` of an object.
    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut Doc> {
        match self {
            Doc::Object(members) => members.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&Doc> {
        match self {
            Doc::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Sets member `key`, in place when present, else last.
    pub(crate) fn set(&mut self, key: &str, value: Doc) {
        if let Some(slot) = self.get_mut(key) {
            *slot = value;
        } else if let Doc::Object(members) = self {
            members.push((key.to_owned(), value));
        }
    }

    /// The `Statement` array of a policy, made an array when it is one object, created when
    /// missing.
    pub(crate) fn statements(&mut self) -> Option<&mut Vec<Doc>> {
        if self.get("Statement").is_none() {
            self.set("Statement", Doc::Array(Vec::new()));
        }
        let s = self.get_mut("Statement")?;
        if let Doc::Object(_) = s {
            let one = std::mem::replace(s, Doc::Null);
            *s = Doc::Array(vec![one]);
        }
        match s {
            Doc::Array(a) => Some(a),
            _ => None,
        }
    }

    /// This object's members reordered as `like`'s where both have them; members of its own
    /// follow in the usual order of a policy statement.
    pub(crate) fn ordered_like(self, like: Option<&Doc>) -> Doc {
        const USUAL: &[&str] = &[
            "Sid",
            "Effect",
            "Principal",
            "NotPrincipal",
            "Action",
            "NotAction",
            "Resource",
            "NotResource",
            "Condition",
        ];
        let Doc::Object(mut members) = self else {
            return self;
        };
        let rank = |k: &str| -> (usize, usize) {
            if let Some(Doc::Object(l)) = like
                && let Some(i) = l.iter().position(|(lk, _)| lk == k)
            {
                return (0, i);
            }
            (1, USUAL.iter().position(|u| *u == k).unwrap_or(USUAL.len()))
        };
        members.sort_by_key(|(k, _)| rank(k));
        Doc::Object(members)
    }
}

impl Serialize for Doc {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Doc::Null => s.serialize_unit(),
            Doc::Bool(b) => s.serialize_bool(*b),
            Doc::Number(n) => n.serialize(s),
            Doc::String(t) => s.serialize_str(t),
            Doc::Array(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for v in a {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            Doc::Object(members) => {
                let mut map = s.serialize_map(Some(members.len()))?;
                for (k, v) in members {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Doc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Doc, D::Error> {
        d.deserialize_any(DocVisitor)
    }
}

struct DocVisitor;

impl<'de> Visitor<'de> for DocVisitor {
    type Value = Doc;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Doc, E> {
        Ok(Doc::Null)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Doc, E> {
        Ok(Doc::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Doc, E> {
        Ok(Doc::Number(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Doc, E> {
        Ok(Doc::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Doc, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Doc::Null, Doc::Number))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Doc, E> {
        Ok(Doc::String(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Doc, E> {
        Ok(Doc::String(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Doc, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element()? {
            out.push(v);
        }
        Ok(Doc::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Doc, A::Error> {
        let mut out: Vec<(String, Doc)> = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Doc>()? {
            // A repeated member: the last one counts, as for `serde_json::Value`.
            out.retain(|(ok, _)| *ok != k);
            out.push((k, v));
        }
        Ok(Doc::Object(out))
    }
}

/// Lines of context around each change in a diff.
const CONTEXT: usize = 3;

/// The unified diff of `before` and `after` (`---`/`+++` headers named `name`, hunks with
/// [`CONTEXT`] lines of context); empty when they are equal. `before` is `None` for a document
/// that does not exist yet, `after` for one that is deleted.
pub(crate) fn unified_diff(name: &str, before: Option<&str>, after: Option<&str>) -> String {
    let a: Vec<&str> = before.map(|b| b.lines().collect()).unwrap_or_default();
    let b: Vec<&str> = after.map(|t| t.lines().collect()).unwrap_or_default();
    if a == b {
        return String::new();
    }
    let ops = line_ops(&a, &b);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "--- {}",
        if before.is_some() {
            format!("a/{name}")
        } else {
            "/dev/null".to_owned()
        }
    );
    let _ = writeln!(
        out,
        "+++ {}",
        if after.is_some() {
            format!("b/{name}")
        } else {
            "/dev/null".to_owned()
        }
    );
    // Group the operations into hunks: runs of changes with at most 2*CONTEXT equal lines
    // between them.
    let changed: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, o)| !matches!(o, Op::Same(..)))
        .map(|(i, _)| i)
        .collect();
    let mut start = 0;
    while start < changed.len() {
        let mut end = start;
        while end + 1 < changed.len() && changed[end + 1] - changed[end] <= 2 * CONTEXT + 1 {
            end += 1;
        }
        let lo = changed[start].saturating_sub(CONTEXT);
        let hi = (changed[end] + CONTEXT + 1).min(ops.len());
        let (mut a_start, mut b_start) = (None, None);
        let (mut a_len, mut b_len) = (0, 0);
        let mut body = String::new();
        for op in &ops[lo..hi] {
            match op {
                Op::Same(i, j) => {
                    a_start.get_or_insert(*i);
                    b_start.get_or_insert(*j);
                    a_len += 1;
                    b_len += 1;
                    let _ = writeln!(body, " {}", a[*i]);
                }
                Op::Del(i, j) => {
                    a_start.get_or_insert(*i);
                    b_start.get_or_insert(*j);
                    a_len += 1;
                    let _ = writeln!(body, "-{}", a[*i]);
                }
                Op::Add(i, j) => {
                    a_start.get_or_insert(*i);
                    b_start.get_or_insert(*j);
                    b_len += 1;
                    let _ = writeln!(body, "+{}", b[*j]);
                }
            }
        }
        // 1-based starts; an empty side starts at the line before (0 for the whole file).
        let a_from = if a_len == 0 {
            a_start.unwrap_or(0)
        } else {
            a_start.unwrap_or(0) + 1
        };
        let b_from = if b_len == 0 {
            b_start.unwrap_or(0)
        } else {
            b_start.unwrap_or(0) + 1
        };
        let _ = writeln!(out, "@@ -{a_from},{a_len} +{b_from},{b_len} @@");
        out.push_str(&body);
        start = end + 1;
    }
    out
}

/// One line of an edit script: kept (old index, new index), deleted (old index, new position),
/// added (old position, new index).
#[derive(Debug, Clone, Copy)]
enum Op {
    Same(usize, usize),
    Del(usize, usize),
    Add(usize, usize),
}

/// The shortest edit script by longest common subsequence (documents are small: a policy is
/// at most a few hundred lines; longer texts fall back to replacing everything between their
/// common head and tail).
fn line_ops(a: &[&str], b: &[&str]) -> Vec<Op> {
    let head = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (am, bm) = (&a[head..a.len() - tail], &b[head..b.len() - tail]);
    let mut ops: Vec<Op> = (0..head).map(|i| Op::Same(i, i)).collect();
    if am.len().saturating_mul(bm.len()) > 4_000_000 {
        ops.extend((0..am.len()).map(|i| Op::Del(head + i, head)));
        ops.extend((0..bm.len()).map(|j| Op::Add(head + am.len(), head + j)));
    } else {
        // lcs[i][j]: the longest common subsequence of am[i..] and bm[j..].
        let (n, m) = (am.len(), bm.len());
        let mut lcs = vec![0u32; (n + 1) * (m + 1)];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                lcs[i * (m + 1) + j] = if am[i] == bm[j] {
                    lcs[(i + 1) * (m + 1) + j + 1] + 1
                } else {
                    lcs[(i + 1) * (m + 1) + j].max(lcs[i * (m + 1) + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            if i < n && j < m && am[i] == bm[j] {
                ops.push(Op::Same(head + i, head + j));
                i += 1;
                j += 1;
            } else if i < n && (j == m || lcs[(i + 1) * (m + 1) + j] >= lcs[i * (m + 1) + j + 1]) {
                // Deletions before additions, as `diff` and `git diff` write them.
                ops.push(Op::Del(head + i, head + j));
                i += 1;
            } else {
                ops.push(Op::Add(head + i, head + j));
                j += 1;
            }
        }
    }
    let (a_end, b_end) = (a.len() - tail, b.len() - tail);
    ops.extend((0..tail).map(|k| Op::Same(a_end + k, b_end + k)));
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_order_survives_a_round_trip() {
        let text = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Sid\": \"B\",\n      \"Effect\": \"Allow\",\n      \"Action\": \"s3:PutObject\"\n    }\n  ]\n}";
        assert_eq!(Doc::parse(text).unwrap().pretty(), text);
    }

    #[test]
    fn a_diff_shows_only_the_changed_lines_with_context() {
        let before = (1..=20).map(|i| format!("line {i}\n")).collect::<String>();
        let after = before.replace("line 10\n", "line ten\n");
        let d = unified_diff("p.json", Some(&before), Some(&after));
        assert_eq!(
            d,
            "--- a/p.json\n+++ b/p.json\n@@ -7,7 +7,7 @@\n line 7\n line 8\n line 9\n-line 10\n+line ten\n line 11\n line 12\n line 13\n"
        );
        assert_eq!(unified_diff("p.json", Some(&before), Some(&before)), "");
        let created = unified_diff("p.json", None, Some("a\nb\n"));
        assert_eq!(
            created,
            "--- /dev/null\n+++ b/p.json\n@@ -0,0 +1,2 @@\n+a\n+b\n"
        );
    }

    #[test]
    fn far_apart_changes_are_two_hunks() {
        let before = (1..=30).map(|i| format!("{i}\n")).collect::<String>();
        let after = before.replace("\n2\n", "\ntwo\n").replace("\n28\n", "\n");
        let d = unified_diff("x", Some(&before), Some(&after));
        assert_eq!(d.matches("@@ -").count(), 2, "{d}");
        assert!(d.contains("-2\n+two\n") && d.contains("-28\n"), "{d}");
    }
}
