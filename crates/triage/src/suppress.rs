//! The suppress file (docs/triage.md#suppress-file): refusals a team expects, one rule per
//! line, each a few `field=value` pairs that must all match; `#` starts a comment, which is
//! kept as the reason.
//!
//! ```text
//! # The nightly job may not write outside staging/: expected.
//! caller=arn:aws:iam::111122223333:role/Nightly bucket=amzn-s3-demo-bucket prefix=archive/ # frozen
//! bucket=amzn-s3-demo-logs rule=bucket-policy-explicit-deny
//! ```
//!
//! Fields: `caller` (a role ARN matches every session of the role; an assumed-role session
//! ARN, a user ARN, `anonymous`), `bucket`, `prefix` (matches the group's prefix and deeper
//! ones), `code` (the error code), `rule` (a cause rule the diagnosis names). Values may use
//! `*` for any text.

use crate::group::Group;

/// One line of a suppress file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// The line it is on (1-based).
    pub line: usize,
    caller: Option<String>,
    bucket: Option<String>,
    prefix: Option<String>,
    code: Option<String>,
    rule: Option<String>,
    /// The comment after `#`, if any.
    pub reason: Option<String>,
}

/// A suppress file that does not parse: where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuppressError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for SuppressError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for SuppressError {}

/// Reads a suppress file.
pub fn parse(text: &str) -> Result<Vec<Suppression>, SuppressError> {
    let mut out = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = n + 1;
        let (body, reason) = match raw.find('#') {
            Some(i) => (
                &raw[..i],
                Some(raw[i + 1..].trim().to_owned()).filter(|r| !r.is_empty()),
            ),
            None => (raw, None),
        };
        if body.trim().is_empty() {
            continue;
        }
        let mut s = Suppression {
            line,
            caller: None,
            bucket: None,
            prefix: None,
            code: None,
            rule: None,
            reason,
        };
        let mut col = 1;
        for word in body.split(' ') {
            let here = col;
            col += word.chars().count() + 1;
            if word.trim().is_empty() {
                continue;
            }
            let word = word.trim();
            let err = |message: String| SuppressError {
                line,
                column: here,
                message,
            };
            let Some((field, value)) = word.split_once('=') else {
                return Err(err(format!(
                    "expected `field=value`, found `{word}` (fields: caller, bucket, prefix, code, rule)"
                )));
            };
            if value.is_empty() {
                return Err(err(format!("`{field}=` has no value")));
            }
            let slot = match field {
                "caller" => &mut s.caller,
                "bucket" => &mut s.bucket,
                "prefix" => &mut s.prefix,
                "code" => &mut s.code,
                "rule" => &mut s.rule,
                _ => {
                    return Err(err(format!(
                        "unknown field `{field}` (fields: caller, bucket, prefix, code, rule)"
                    )));
                }
            };
            if slot.is_some() {
                return Err(err(format!("`{field}` is given twice")));
            }
            if field == "caller"
                && let Some((head, rest)) = value.split_once(":assumed-role/")
                && let Some((role, _)) = rest.split_once('/')
            {
                // Groups hold every session of a role: one session cannot be told apart.
                let account = head.rsplit(':').next().unwrap_or_default();
                return Err(err(format!(
                    "`{value}` is one session of a role; groups hold all the sessions of a role: use the role, `caller=arn:aws:iam::{account}:role/{role}`"
                )));
            }
            *slot = Some(value.to_owned());
        }
        out.push(s);
    }
    Ok(out)
}

impl Suppression {
    /// Whether the group matches every field given; `causes` are the rules its diagnosis
    /// names. A `rule` matches only a cause the diagnosis settled: one rule, or rules from
    /// evidence, not several candidates of a message read alone (`single` false).
    pub fn matches(&self, g: &Group, causes: &[String], single: bool) -> bool {
        let k = &g.key;
        self.caller.as_deref().is_none_or(|c| caller_matches(c, g))
            && self.bucket.as_deref().is_none_or(|b| glob(b, &k.bucket))
            && self.prefix.as_deref().is_none_or(|p| {
                if p.contains('*') {
                    glob(p, &k.prefix)
                } else {
                    k.prefix.starts_with(p)
                }
            })
            && self.code.as_deref().is_none_or(|c| glob(c, &k.code))
            && self.rule.as_deref().is_none_or(|r| {
                single
                    && causes
                        .iter()
                        .any(|c| glob(r, c) || c.rsplit('/').next().is_some_and(|id| glob(r, id)))
            })
    }
}

fn caller_matches(pattern: &str, g: &Group) -> bool {
    if glob(pattern, &g.key.caller) {
        return true;
    }
    // The role ARN with its path (CloudTrail gives it; groups leave the path out).
    g.latest
        .caller
        .role_arn
        .as_deref()
        .is_some_and(|a| glob(pattern, a))
}

/// `*` matches any text (including none); everything else matches itself.
pub fn glob(pattern: &str, text: &str) -> bool {
    let p = pattern.as_bytes();
    let t = text.as_bytes();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_fields_and_comments() {
        let s = parse("# expected\n\ncaller=arn:aws:iam::1:role/R bucket=b prefix=tmp/ # nightly\nrule=acl-*\n").unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].line, 3);
        assert_eq!(s[0].reason.as_deref(), Some("nightly"));
        assert_eq!(s[1].rule.as_deref(), Some("acl-*"));
    }

    #[test]
    fn bad_lines_say_where() {
        let e = parse("bucket=b\nbucket=b colour=red\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 10));
        assert!(e.message.contains("unknown field `colour`"), "{e}");
        let e = parse("caller=").unwrap_err();
        assert_eq!((e.line, e.column), (1, 1));
        let e = parse("bucket=a bucket=b").unwrap_err();
        assert!(e.message.contains("twice"));
        let e = parse("caller=arn:aws:sts::111122223333:assumed-role/R/alice").unwrap_err();
        assert!(e.message.contains("role/R"), "{e}");
        assert!(parse("justaword").is_err());
    }

    #[test]
    fn globs() {
        assert!(glob("*", ""));
        assert!(glob("a*c", "abbbc"));
        assert!(glob(
            "arn:aws:iam::*:role/R",
            "arn:aws:iam::111122223333:role/R"
        ));
        assert!(!glob("a*c", "abd"));
        assert!(glob("acl-*", "acl-not-supported"));
        assert!(!glob("b", "bb"));
    }
}
