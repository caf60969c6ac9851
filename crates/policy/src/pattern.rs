//! IAM wildcard patterns (`*` any run, `?` one character), policy-variable templates
//! (`${aws:username}`, defaults, the `${*}` `${?}` `${$}` escapes) and per-segment ARN matching.
//!
//! Patterns are compiled once when a policy is parsed; matching a pattern without variables
//! allocates nothing.

use crate::context::RequestContext;

/// One token of a compiled wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    /// Literal text.
    Lit(Box<str>),
    /// `*`: any run of characters, including none.
    Star,
    /// `?`: exactly one character.
    One,
}

/// A compiled wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Glob {
    toks: Vec<Tok>,
    /// A precomputed shape for the common patterns, matched without the general loop.
    fast: Fast,
}

/// Shapes most IAM patterns have.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
enum Fast {
    #[default]
    General,
    /// No wildcard.
    Exact,
    /// `*` alone.
    Any,
    /// `literal*`.
    Prefix,
    /// `*literal`.
    Suffix,
}

impl Glob {
    /// Compiles `*` and `?` as wildcards; every other character is literal.
    pub fn new(pattern: &str) -> Self {
        let mut g = GlobBuilder::default();
        for c in pattern.chars() {
            g.push_char(c, true);
        }
        g.finish()
    }

    /// A pattern that matches exactly `text` (wildcard characters taken literally).
    pub fn literal(text: &str) -> Self {
        let mut g = GlobBuilder::default();
        g.push_str(text, false);
        g.finish()
    }

    /// The compiled tokens, consecutive stars merged.
    pub(crate) fn tokens(&self) -> &[Tok] {
        &self.toks
    }

    /// True when the pattern is exactly `*`.
    pub fn is_star(&self) -> bool {
        self.toks == [Tok::Star]
    }

    /// The text of a wildcard-free pattern.
    pub fn literal_text(&self) -> Option<&str> {
        match self.toks.as_slice() {
            [Tok::Lit(l)] => Some(l),
            [] => Some(""),
            _ => None,
        }
    }

    /// The literal text before the first wildcard.
    pub fn literal_prefix(&self) -> Option<&str> {
        match self.toks.first() {
            Some(Tok::Lit(l)) => Some(l),
            _ => None,
        }
    }

    /// True when the pattern has no wildcard.
    pub fn is_literal(&self) -> bool {
        self.toks.iter().all(|t| matches!(t, Tok::Lit(_)))
    }

    /// Case-sensitive match of the whole text.
    pub fn matches(&self, text: &str) -> bool {
        match (&self.fast, self.toks.as_slice()) {
            (Fast::Exact, [Tok::Lit(l)]) => eq_bytes(l.as_bytes(), text.as_bytes()),
            (Fast::Exact, []) => text.is_empty(),
            (Fast::Any, _) => true,
            (Fast::Prefix, [Tok::Lit(l), Tok::Star]) => text.starts_with(&**l),
            (Fast::Suffix, [Tok::Star, Tok::Lit(l)]) => text.ends_with(&**l),
            _ => glob_match(&self.toks, text),
        }
    }
}

#[derive(Default)]
struct GlobBuilder {
    toks: Vec<Tok>,
    lit: String,
}

impl GlobBuilder {
    fn flush(&mut self) {
        if !self.lit.is_empty() {
            self.toks
                .push(Tok::Lit(std::mem::take(&mut self.lit).into_boxed_str()));
        }
    }
    fn push_char(&mut self, c: char, wild: bool) {
        match c {
            '*' if wild => {
                self.flush();
                // Consecutive stars are one star.
                if self.toks.last() != Some(&Tok::Star) {
                    self.toks.push(Tok::Star);
                }
            }
            '?' if wild => {
                self.flush();
                self.toks.push(Tok::One);
            }
            c => self.lit.push(c),
        }
    }
    fn push_str(&mut self, s: &str, wild: bool) {
        if wild {
            for c in s.chars() {
                self.push_char(c, true);
            }
        } else {
            self.lit.push_str(s);
        }
    }
    fn push_tok(&mut self, t: &Tok) {
        match t {
            Tok::Lit(s) => self.lit.push_str(s),
            Tok::Star => self.push_char('*', true),
            Tok::One => self.push_char('?', true),
        }
    }
    fn finish(mut self) -> Glob {
        self.flush();
        let fast = match self.toks.as_slice() {
            [] | [Tok::Lit(_)] => Fast::Exact,
            [Tok::Star] => Fast::Any,
            [Tok::Lit(_), Tok::Star] => Fast::Prefix,
            [Tok::Star, Tok::Lit(_)] => Fast::Suffix,
            _ => Fast::General,
        };
        Glob {
            toks: self.toks,
            fast,
        }
    }
}

/// Byte equality without a `memcmp` call for short texts (ARN parts and actions): two
/// overlapping loads cover 4 to 32 bytes.
#[inline]
pub(crate) fn eq_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let w8 = |s: &[u8], i: usize| u64::from_le_bytes(s[i..i + 8].try_into().unwrap_or([0; 8]));
    let w4 = |s: &[u8], i: usize| u32::from_le_bytes(s[i..i + 4].try_into().unwrap_or([0; 4]));
    let w16 = |s: &[u8], i: usize| u128::from_le_bytes(s[i..i + 16].try_into().unwrap_or([0; 16]));
    match n {
        0..4 => a == b,
        4..8 => w4(a, 0) == w4(b, 0) && w4(a, n - 4) == w4(b, n - 4),
        8..=16 => w8(a, 0) == w8(b, 0) && w8(a, n - 8) == w8(b, n - 8),
        17..=32 => w16(a, 0) == w16(b, 0) && w16(a, n - 16) == w16(b, n - 16),
        _ => a == b,
    }
}

fn char_len(text: &str, at: usize) -> usize {
    text[at..].chars().next().map_or(1, char::len_utf8)
}

/// Whole-text wildcard match. Greedy with backtracking to the last star, which is exact for
/// patterns made only of literals, `*` and `?`, and linear in practice.
fn glob_match(toks: &[Tok], text: &str) -> bool {
    let (mut ti, mut si) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    loop {
        if let Some(t) = toks.get(ti) {
            match t {
                Tok::Star => {
                    star = Some((ti + 1, si));
                    ti += 1;
                    continue;
                }
                Tok::One if si < text.len() => {
                    si += char_len(text, si);
                    ti += 1;
                    continue;
                }
                Tok::Lit(l) if text[si..].starts_with(&**l) => {
                    si += l.len();
                    ti += 1;
                    continue;
                }
                _ => {}
            }
        } else if si == text.len() {
            return true;
        }
        match star {
            Some((sti, ssi)) if ssi < text.len() => {
                let next = ssi + char_len(text, ssi);
                star = Some((sti, next));
                ti = sti;
                si = next;
            }
            _ => return false,
        }
    }
}

/// An action, lower-cased, with its first bytes packed for quick rejection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ActionKey {
    /// The action, lower-cased.
    pub(crate) text: String,
    head: u64,
    pub(crate) hash: u64,
    pub(crate) service_hash: u64,
    service_len: u32,
}

impl ActionKey {
    /// The key of an action as a request names it (any case).
    pub(crate) fn new(action: &str) -> ActionKey {
        let text = action.to_ascii_lowercase();
        let service = &text[..text.bytes().position(|c| c == b':').unwrap_or(text.len())];
        ActionKey {
            head: pack(text.as_bytes()),
            hash: crate::policy::key_hash(&text),
            service_hash: crate::policy::key_hash(service),
            service_len: service.len() as u32,
            text,
        }
    }

    /// The service prefix (`s3` of `s3:putobject`).
    pub(crate) fn service(&self) -> &str {
        &self.text[..self.service_len as usize]
    }
}

/// The first (up to) eight bytes, little-endian, zero-padded.
fn pack(b: &[u8]) -> u64 {
    let mut buf = [0u8; 8];
    let n = b.len().min(8);
    buf[..n].copy_from_slice(&b[..n]);
    u64::from_le_bytes(buf)
}

/// A compiled action pattern: the literal prefix's first bytes are compared as one word, so
/// most patterns reject an action without touching their text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ActionMatcher {
    head: u64,
    /// How many bytes of `head` are a literal prefix of the pattern (0 to 8).
    head_len: u8,
    /// The length of an exact (wildcard-free) pattern.
    exact_len: Option<u32>,
    glob: Glob,
}

impl ActionMatcher {
    /// From a lower-cased action pattern.
    pub(crate) fn new(glob: &Glob) -> ActionMatcher {
        let (head, head_len) = match glob.tokens().first() {
            Some(Tok::Lit(l)) => (pack(l.as_bytes()), l.len().min(8) as u8),
            _ => (0, 0),
        };
        let exact_len = match glob.tokens() {
            [Tok::Lit(l)] => Some(l.len() as u32),
            [] => Some(0),
            _ => None,
        };
        ActionMatcher {
            head,
            head_len,
            exact_len,
            glob: glob.clone(),
        }
    }

    /// Whether the pattern matches the action.
    pub(crate) fn matches(&self, key: &ActionKey) -> bool {
        if self.head_len > 0 {
            let n = self.head_len as usize;
            if key.text.len() < n {
                return false;
            }
            let mask = if n == 8 {
                u64::MAX
            } else {
                (1u64 << (8 * n)) - 1
            };
            if (key.head ^ self.head) & mask != 0 {
                return false;
            }
        }
        match self.exact_len {
            Some(len) => {
                key.text.len() == len as usize && (len <= 8 || self.glob.matches(&key.text))
            }
            None => self.glob.matches(&key.text),
        }
    }
}

/// A piece of a policy-variable template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    /// Text where `*` and `?` are wildcards (or literal, for operators without wildcards).
    Text(Box<str>),
    /// `${*}`, `${?}`, `${$}`: always the literal character.
    Escaped(char),
    /// `${key}` or `${key, 'default'}`; `key` is lower-cased for lookup.
    Var {
        /// The key, lower-cased.
        key: Box<str>,
        /// The default after the comma, without its quotes.
        default: Option<Box<str>>,
        /// The variable as written, `${` to `}`.
        raw: Box<str>,
    },
}

/// A string from a policy that may contain policy variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

/// Why a template could not be resolved against a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved {
    /// The variable as written, e.g. `${aws:username}`.
    pub variable: Box<str>,
}

impl Template {
    /// Parses `${...}` variables when `variables` is true (policy Version 2012-10-17);
    /// otherwise the whole text is taken as written.
    pub fn parse(text: &str, variables: bool) -> Template {
        if !variables || !text.contains("${") {
            return Template {
                parts: vec![Part::Text(text.into())],
            };
        }
        let mut parts = Vec::new();
        let mut rest = text;
        let mut lit = String::new();
        while let Some(i) = rest.find("${") {
            let after = &rest[i + 2..];
            let Some(close) = after.find('}') else { break };
            lit.push_str(&rest[..i]);
            let inner = &after[..close];
            let raw: Box<str> = rest[i..i + 3 + close].into();
            let part = match inner {
                "*" => Some(Part::Escaped('*')),
                "?" => Some(Part::Escaped('?')),
                "$" => Some(Part::Escaped('$')),
                _ => parse_var(inner, raw),
            };
            match part {
                Some(p) => {
                    if !lit.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut lit).into()));
                    }
                    parts.push(p);
                }
                // Not a variable AWS would recognise: keep the text as written.
                None => lit.push_str(&rest[i..i + 3 + close]),
            }
            rest = &after[close + 1..];
        }
        lit.push_str(rest);
        if !lit.is_empty() || parts.is_empty() {
            parts.push(Part::Text(lit.into()));
        }
        Template { parts }
    }

    /// True when the text has a policy variable or a `${*}`, `${?}` or `${$}` escape.
    pub fn has_variables(&self) -> bool {
        self.parts.iter().any(|p| !matches!(p, Part::Text(_)))
    }

    /// The text when there are no variables or escapes.
    pub fn as_plain(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [Part::Text(t)] => Some(t),
            _ => None,
        }
    }

    /// Resolves variables against the request; the result is a wildcard pattern in which
    /// substituted values and escapes are literal.
    pub fn to_glob(&self, ctx: &RequestContext) -> Result<Glob, Unresolved> {
        let mut g = GlobBuilder::default();
        for p in &self.parts {
            match p {
                Part::Text(t) => g.push_str(t, true),
                Part::Escaped(c) => g.push_char(*c, false),
                Part::Var { .. } => g.push_str(&self.var_value(p, ctx)?, false),
            }
        }
        Ok(g.finish())
    }

    /// Resolves variables and escapes into plain text (for operators without wildcards).
    pub fn to_text(&self, ctx: &RequestContext) -> Result<String, Unresolved> {
        let mut s = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => s.push_str(t),
                Part::Escaped(c) => s.push(*c),
                Part::Var { .. } => s.push_str(&self.var_value(p, ctx)?),
            }
        }
        Ok(s)
    }

    fn var_value(&self, p: &Part, ctx: &RequestContext) -> Result<String, Unresolved> {
        let Part::Var { key, default, raw } = p else {
            unreachable!("var_value is only called on variables")
        };
        match ctx.get_lower(key) {
            // Only single-valued keys can be variables.
            Some(v) if v.values.len() == 1 && !v.multi => Ok(v.values[0].clone()),
            _ => default
                .as_deref()
                .map(str::to_owned)
                .ok_or_else(|| Unresolved {
                    variable: raw.clone(),
                }),
        }
    }
}

fn parse_var(inner: &str, raw: Box<str>) -> Option<Part> {
    let (key, default) = match inner.split_once(',') {
        Some((k, d)) => {
            let d = d.trim();
            let d = d.strip_prefix('\'')?.strip_suffix('\'')?;
            (k.trim(), Some(d.into()))
        }
        None => (inner.trim(), None),
    };
    if key.is_empty() || key.contains(char::is_whitespace) {
        return None;
    }
    Some(Part::Var {
        key: key.to_ascii_lowercase().into(),
        default,
        raw,
    })
}

/// Splits an ARN into its six parts; the resource part keeps any further colons.
pub fn split_arn(arn: &str) -> Option<[&str; 6]> {
    if !arn.starts_with("arn:") {
        return None;
    }
    // The first five colons, found with a byte loop (ARN heads are short).
    let mut cuts = [0usize; 5];
    let mut n = 0;
    for (i, &c) in arn.as_bytes().iter().enumerate() {
        if c == b':' {
            cuts[n] = i;
            n += 1;
            if n == 5 {
                break;
            }
        }
    }
    if n < 5 {
        return None;
    }
    let [a, b, c, d, e] = cuts;
    Some([
        &arn[..a],
        &arn[a + 1..b],
        &arn[b + 1..c],
        &arn[c + 1..d],
        &arn[d + 1..e],
        &arn[e + 1..],
    ])
}

/// Splits a compiled pattern at its first five literal colons.
pub(crate) fn split_glob_arn(glob: &Glob) -> Vec<Glob> {
    let mut segs = vec![GlobBuilder::default()];
    for t in glob.tokens() {
        match t {
            Tok::Lit(l) => {
                for c in l.chars() {
                    if c == ':' && segs.len() < 6 {
                        segs.push(GlobBuilder::default());
                    } else {
                        segs.last_mut().expect("never empty").lit.push(c);
                    }
                }
            }
            t => segs.last_mut().expect("never empty").push_tok(t),
        }
    }
    segs.into_iter().map(GlobBuilder::finish).collect()
}

/// Per-segment ARN match, as `ArnLike` and the `Resource` element do: a wildcard never
/// crosses one of the first five colons. A pattern with fewer than six parts matches when its
/// last part matches the rest of the ARN.
pub(crate) fn arn_match(segments: &[Glob], arn: &str) -> bool {
    let n = segments.len();
    if n == 0 {
        return arn.is_empty();
    }
    let mut it = arn.splitn(n, ':');
    for seg in segments {
        match it.next() {
            Some(part) if seg.matches(part) => {}
            _ => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(pairs: &[(&str, &str)]) -> RequestContext {
        let mut c = RequestContext::default();
        for (k, v) in pairs {
            c.insert(k, vec![v.to_string()], false);
        }
        c
    }

    #[test]
    fn star_spans_slashes_and_question_is_one_char() {
        // IAM: `*` matches any run of characters (including `/`), `?` exactly one.
        assert!(Glob::new("arn:aws:s3:::bucket/*").matches("arn:aws:s3:::bucket/a/b/c"));
        assert!(!Glob::new("arn:aws:s3:::bucket/*").matches("arn:aws:s3:::bucket"));
        assert!(Glob::new("a?c").matches("abc"));
        assert!(Glob::new("a?c").matches("aéc"));
        assert!(!Glob::new("a?c").matches("ac"));
        assert!(Glob::new("*a*b").matches("xxaxxab"));
        assert!(!Glob::new("*a*b").matches("xxaxxa"));
        assert!(Glob::new("").matches(""));
    }

    #[test]
    fn variables_resolve_with_defaults_and_escapes() {
        // AWS: `${aws:username}` substitutes the value; `${k, 'd'}` falls back to `d`;
        // `${*}` is a literal star.
        let t = Template::parse("home/${aws:username}/${*}", true);
        let g = t.to_glob(&ctx(&[("aws:username", "alice")])).unwrap();
        assert!(g.matches("home/alice/*"));
        assert!(!g.matches("home/alice/x"));
        let t = Template::parse("${aws:PrincipalTag/team, 'all'}", true);
        assert_eq!(t.to_text(&ctx(&[])).unwrap(), "all");
        assert_eq!(
            t.to_text(&ctx(&[("aws:principaltag/TEAM", "red")]))
                .unwrap(),
            "red"
        );
        assert!(
            Template::parse("${aws:username}", true)
                .to_text(&ctx(&[]))
                .is_err()
        );
    }

    #[test]
    fn variable_values_are_literal_not_wildcards() {
        let t = Template::parse("home/${aws:username}", true);
        let g = t.to_glob(&ctx(&[("aws:username", "*")])).unwrap();
        assert!(!g.matches("home/bob"));
        assert!(g.matches("home/*"));
    }

    #[test]
    fn version_2008_takes_variables_literally() {
        let t = Template::parse("home/${aws:username}", false);
        assert_eq!(t.as_plain(), Some("home/${aws:username}"));
    }

    #[test]
    fn arn_like_star_does_not_cross_colons() {
        // AWS: ArnLike matches each of the six colon-separated parts separately.
        let segs = split_glob_arn(&Glob::new("arn:aws:iam::*:role/x"));
        assert!(arn_match(&segs, "arn:aws:iam::123456789012:role/x"));
        let segs = split_glob_arn(&Glob::new("arn:aws:iam::1*"));
        assert_eq!(segs.len(), 5);
        assert!(arn_match(&segs, "arn:aws:iam::123:role/x"));
        let segs = split_glob_arn(&Glob::new("arn:*:role/x"));
        assert!(!arn_match(&segs, "arn:aws:iam::123:role/x"));
        let segs = split_glob_arn(&Glob::new("arn:aws:s3:::b/*"));
        assert!(arn_match(&segs, "arn:aws:s3:::b/k:with:colons"));
    }
}
