//! The IAM policy language: a model of policy documents that keeps the original text and the
//! span and JSON pointer of every statement, element, operator, key and value, compiled once
//! for fast evaluation.

mod parse;
mod principal;

use std::fmt;
use std::sync::Arc;

use crate::condition::Condition;
use crate::json::Span;
use crate::pattern::{Glob, Template};

use parse::parse_policy;
pub use parse::url_decode;
pub use principal::{AwsPrincipal, PrincipalValue};

/// What a policy document is attached to; decides which elements it may contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PolicyKind {
    /// Attached to an IAM user, group or role (inline or managed).
    Identity,
    /// Attached to a resource, such as an S3 bucket policy; names its principals.
    Resource,
    /// An AWS Organizations service control policy, limiting the organization's principals.
    Scp,
    /// An AWS Organizations resource control policy, limiting the organization's resources.
    Rcp,
    /// A permissions boundary: the most an IAM user or role's identity policies can grant.
    Boundary,
    /// A session policy passed when a role is assumed or a federated session is made.
    Session,
    /// A VPC endpoint policy: what requests through the endpoint may do.
    VpcEndpoint,
    /// A KMS key policy, the resource policy of a KMS key.
    KeyPolicy,
    /// A role trust policy: who may assume the role.
    Trust,
}

impl PolicyKind {
    /// Whether statements may have `Principal`/`NotPrincipal`.
    pub fn allows_principal(self) -> bool {
        matches!(
            self,
            PolicyKind::Resource
                | PolicyKind::Rcp
                | PolicyKind::VpcEndpoint
                | PolicyKind::KeyPolicy
                | PolicyKind::Trust
        )
    }

    /// Whether statements must have `Principal`/`NotPrincipal`. VPC endpoint policies may
    /// leave it out (it then means every principal).
    pub fn requires_principal(self) -> bool {
        self.allows_principal() && self != PolicyKind::VpcEndpoint
    }

    /// Whether statements must have `Resource`/`NotResource`. Role trust policies have none,
    /// and resource-based and endpoint policies without one cover the resource they are
    /// attached to.
    pub fn needs_resource(self) -> bool {
        !matches!(
            self,
            PolicyKind::Trust | PolicyKind::Resource | PolicyKind::VpcEndpoint
        )
    }

    /// The kind in words for messages, e.g. `service control policy`.
    pub fn label(self) -> &'static str {
        match self {
            PolicyKind::Identity => "identity-based policy",
            PolicyKind::Resource => "resource-based policy",
            PolicyKind::Scp => "service control policy",
            PolicyKind::Rcp => "resource control policy",
            PolicyKind::Boundary => "permissions boundary",
            PolicyKind::Session => "session policy",
            PolicyKind::VpcEndpoint => "VPC endpoint policy",
            PolicyKind::KeyPolicy => "KMS key policy",
            PolicyKind::Trust => "role trust policy",
        }
    }
}

/// The policy language version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// `"2012-10-17"`, the current language, with policy variables.
    V2012_10_17,
    /// `"2008-10-17"`, the old language: `${...}` is literal text.
    V2008_10_17,
    /// No `Version` element: AWS uses the old language (no policy variables).
    Missing,
}

impl Version {
    /// Whether `${...}` in `Resource` and condition values are policy variables (only under
    /// 2012-10-17).
    pub fn allows_variables(self) -> bool {
        self == Version::V2012_10_17
    }
}

/// A statement's `Effect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    /// `"Allow"`: the statement grants what it matches.
    Allow,
    /// `"Deny"`: the statement refuses what it matches, whatever else allows.
    Deny,
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        })
    }
}

/// A value with where it stands in the policy text.
#[derive(Debug, Clone, PartialEq)]
pub struct Located<T> {
    /// The value compiled for evaluation.
    pub value: T,
    /// The value as written (strings unquoted).
    pub raw: String,
    /// Byte range of the value in [`Policy::text`], quotes included.
    pub span: Span,
    /// JSON pointer of the value in the document, e.g. `/Statement/0/Action/1`.
    pub pointer: String,
}

/// A parsed policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// A name for messages: a file name, a policy ARN, "bucket policy".
    pub name: String,
    /// What the policy is attached to; decided by the caller, not read from the text.
    pub kind: PolicyKind,
    /// The document text the spans refer to (URL-decoded if it came encoded).
    pub text: Arc<str>,
    /// The `Version` element.
    pub version: Version,
    /// The `Id` element, if present.
    pub id: Option<String>,
    /// The statements in document order (one when `Statement` is a single object).
    pub statements: Vec<Statement>,
    /// Where the text stands in a file, when it came from one (for snippets with the file's
    /// own line numbers).
    pub origin: Option<Origin>,
    /// Which statements can match an action, built at parse time.
    pub(crate) action_index: ActionIndex,
}

/// An index from exact actions to the statements that name them; statements with wildcards
/// or `NotAction` are always candidates. Lets evaluation skip statements for other actions
/// without looking at them.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct ActionIndex {
    /// Actions named exactly; the candidates for each already include the statements of its
    /// service's wildcards and the `always` ones, so a hit is one lookup.
    exact: Keyed,
    /// Statements whose patterns are wildcards within one service (`ec2:describe*`).
    service: Keyed,
    always: Bits,
    /// More statements than the bit sets hold: every statement is a candidate.
    all: bool,
}

/// A small map from lower-cased names to bit sets: the hashes sit in their own dense column,
/// so a lookup is a short scan of words.
#[derive(Debug, Clone, PartialEq, Default)]
struct Keyed {
    hashes: Vec<u64>,
    /// `(name, named exactly, candidates)`, parallel to `hashes`.
    entries: Vec<(Box<str>, Bits, Bits)>,
}

impl Keyed {
    fn entry(&mut self, key: &str) -> &mut (Box<str>, Bits, Bits) {
        let h = key_hash(key);
        let i = match self.find(h, key) {
            Some(i) => i,
            None => {
                self.hashes.push(h);
                self.entries.push((key.into(), [0; 4], [0; 4]));
                self.entries.len() - 1
            }
        };
        &mut self.entries[i]
    }

    fn find(&self, h: u64, key: &str) -> Option<usize> {
        let mut from = 0;
        while let Some(i) = self.hashes[from..].iter().position(|&x| x == h) {
            let i = from + i;
            if crate::pattern::eq_bytes(self.entries[i].0.as_bytes(), key.as_bytes()) {
                return Some(i);
            }
            from = i + 1;
        }
        None
    }

    fn get(&self, h: u64, key: &str) -> Option<&(Box<str>, Bits, Bits)> {
        if self.hashes.is_empty() {
            return None;
        }
        self.find(h, key).map(|i| &self.entries[i])
    }
}

/// The hash the index and [`ActionKey`](crate::pattern::ActionKey) agree on.
pub(crate) fn key_hash(s: &str) -> u64 {
    key_hash_bytes(s.as_bytes())
}

/// [`key_hash`] of a text given as bytes.
pub(crate) fn key_hash_bytes(b: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    h.write(b);
    h.write_u8(0xff);
    h.finish()
}

fn or_into(bits: &mut Bits, other: &Bits) {
    for (x, y) in bits.iter_mut().zip(other) {
        *x |= y;
    }
}

type Bits = [u64; 4];

/// Statements that may match, as a bit set; `exact` marks those whose `Action` names the
/// action exactly (no need to match them again).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Candidates {
    bits: Bits,
    exact: Bits,
    all: bool,
}

impl Candidates {
    /// The statement's `Action` names the action exactly.
    pub(crate) fn is_exact(&self, i: usize) -> bool {
        i < 256 && self.exact[i / 64] & (1 << (i % 64)) != 0
    }

    /// The candidate indexes below `n`, ascending.
    pub(crate) fn iter(self, n: usize) -> impl Iterator<Item = usize> {
        let all = self.all;
        let bits = self.bits;
        let words = if all { 0 } else { n.div_ceil(64).min(4) };
        let listed = (0..words).flat_map(move |w| {
            let mut word = bits[w];
            std::iter::from_fn(move || {
                if word == 0 {
                    return None;
                }
                let b = word.trailing_zeros() as usize;
                word &= word - 1;
                Some(w * 64 + b)
            })
        });
        let every = 0..if all { n } else { 0 };
        every.chain(listed.filter(move |&i| i < n))
    }
}

impl ActionIndex {
    pub(crate) fn build(statements: &[Statement]) -> ActionIndex {
        let mut idx = ActionIndex {
            all: statements.len() > 256,
            ..ActionIndex::default()
        };
        if idx.all {
            return idx;
        }
        let set = |b: &mut Bits, i: usize| b[i / 64] |= 1 << (i % 64);
        for (i, st) in statements.iter().enumerate() {
            // Each pattern is exact, or a wildcard behind a literal `service:` prefix; anything
            // else (`*`, `s3*`, `NotAction`) makes the statement a candidate for every action.
            let keys: Option<Vec<(bool, &str)>> = if st.action.negated {
                None
            } else {
                st.action
                    .items
                    .iter()
                    .map(|l| match l.value.literal_text() {
                        Some(t) => Some((true, t)),
                        None => l
                            .value
                            .literal_prefix()
                            .and_then(|p| p.split_once(':'))
                            .map(|(svc, _)| (false, svc)),
                    })
                    .collect()
            };
            match keys {
                Some(keys) => {
                    for (exact, k) in keys {
                        let e = if exact {
                            idx.exact.entry(k)
                        } else {
                            idx.service.entry(k)
                        };
                        set(&mut e.1, i);
                    }
                }
                None => set(&mut idx.always, i),
            }
        }
        // Precombine: an exact action's candidates are its statements, its service's
        // wildcard statements and the `always` ones.
        for (name, exact, cands) in &mut idx.exact.entries {
            *cands = *exact;
            or_into(cands, &idx.always);
            let service = name.split_once(':').map_or(&**name, |(s, _)| s);
            if let Some(e) = idx.service.get(key_hash(service), service) {
                or_into(cands, &e.1);
            }
        }
        for (_, named, cands) in &mut idx.service.entries {
            *cands = *named;
            or_into(cands, &idx.always);
        }
        idx
    }

    /// The statements that may match the action.
    pub(crate) fn candidates(&self, key: &crate::pattern::ActionKey) -> Candidates {
        let (bits, exact) = if let Some((_, exact, cands)) = self.exact.get(key.hash, &key.text) {
            (*cands, *exact)
        } else if let Some((_, _, cands)) = self.service.get(key.service_hash, key.service()) {
            (*cands, [0; 4])
        } else {
            (self.always, [0; 4])
        };
        Candidates {
            bits,
            exact,
            all: self.all,
        }
    }
}

/// The place of a policy's text inside a larger file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The file, as the user named it.
    pub file: String,
    /// 1-based line of the policy's first byte in the file.
    pub line: usize,
    /// 1-based column (in characters) of the policy's first byte in the file.
    pub column: usize,
    /// JSON pointer of the policy inside the file.
    pub pointer: String,
    /// True when the policy was a JSON string (as `get-bucket-policy` returns it): its text is
    /// the decoded string, so only the start position maps to the file.
    pub from_string: bool,
}

/// One statement of a policy, its elements compiled and located.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// Position in the `Statement` array (0 when `Statement` is a single object).
    pub index: usize,
    /// The `Sid` element, if present (it may be empty).
    pub sid: Option<String>,
    /// Byte range of the statement object in [`Policy::text`].
    pub span: Span,
    /// JSON pointer of the statement, `/Statement/2` or `/Statement`.
    pub pointer: String,
    /// The `Effect` element.
    pub effect: Effect,
    /// Byte range of the `Effect` value.
    pub effect_span: Span,
    /// `Principal` or `NotPrincipal`; `None` when the statement has neither: the policy kind
    /// takes none (identity, SCP, boundary, session), or a VPC endpoint policy leaves it out
    /// (every principal).
    pub principal: Option<PrincipalElement>,
    /// `Action` or `NotAction`, which every statement has.
    pub action: ActionElement,
    /// `Resource` or `NotResource`; `None` when the statement has neither (role trust
    /// policies, and resource-based or endpoint policies, where it means the resource the
    /// policy is attached to).
    pub resource: Option<ResourceElement>,
    /// One entry per operator and key, in document order.
    pub conditions: Vec<Condition>,
    /// Byte range of the `Condition` object; `None` when the statement has none.
    pub condition_span: Option<Span>,
}

impl Statement {
    /// `Sid` if present, else `#index`.
    pub fn label(&self) -> String {
        match &self.sid {
            Some(s) if !s.is_empty() => s.clone(),
            _ => format!("#{}", self.index),
        }
    }
}

/// `Principal` or `NotPrincipal`.
#[derive(Debug, Clone, PartialEq)]
pub struct PrincipalElement {
    /// True for `NotPrincipal`.
    pub negated: bool,
    /// Byte range of the element's value (`"*"` or the object).
    pub span: Span,
    /// JSON pointer of the element, e.g. `/Statement/0/Principal`.
    pub pointer: String,
    /// Every principal named, in document order across the `AWS`, `Service`, `Federated`
    /// and `CanonicalUser` members.
    pub items: Vec<Located<PrincipalValue>>,
}

/// `Action` or `NotAction`: patterns compiled lower-case (actions are case-insensitive).
#[derive(Debug, Clone, PartialEq)]
pub struct ActionElement {
    /// True for `NotAction`.
    pub negated: bool,
    /// Byte range of the element's value (a string or an array).
    pub span: Span,
    /// JSON pointer of the element, e.g. `/Statement/0/Action`.
    pub pointer: String,
    /// The action patterns, lower-cased, in document order; `raw` keeps the case as written.
    pub items: Vec<Located<Glob>>,
    /// The same patterns in a compact form for the hot path (one per item, same order).
    pub(crate) matchers: Vec<crate::pattern::ActionMatcher>,
}

/// `Resource` or `NotResource`.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceElement {
    /// True for `NotResource`.
    pub negated: bool,
    /// Byte range of the element's value (a string or an array).
    pub span: Span,
    /// JSON pointer of the element, e.g. `/Statement/0/Resource`.
    pub pointer: String,
    /// The resource patterns, in document order.
    pub items: Vec<Located<ResourcePattern>>,
}

/// A compiled `Resource` value.
#[derive(Debug, Clone, PartialEq)]
pub enum ResourcePattern {
    /// `*`: every resource, and the only value that matches actions without resource types.
    Star,
    /// An ARN pattern without variables, split into its parts.
    Arn(ArnPattern),
    /// A pattern with policy variables, resolved per request.
    Template(Template),
    /// Not an ARN: matched as a whole.
    Other(Glob),
}

/// An ARN pattern split into its six parts; when the first five are literal (as in
/// `arn:aws:s3:::bucket/*`) they are also kept joined, so a match compares them at once.
#[derive(Debug, Clone, PartialEq)]
pub struct ArnPattern {
    segs: Vec<Glob>,
    head: Option<Box<str>>,
}

impl ArnPattern {
    /// From the parts of an ARN pattern, as [`crate::pattern::split_glob_arn`] gives them.
    pub(crate) fn new(segs: Vec<Glob>) -> ArnPattern {
        let head = (segs.len() == 6)
            .then(|| {
                segs[..5]
                    .iter()
                    .map(|g| g.literal_text())
                    .collect::<Option<Vec<_>>>()
            })
            .flatten()
            .map(|parts| format!("{}:", parts.join(":")).into_boxed_str());
        ArnPattern { segs, head }
    }

    /// Matches a resource whose six parts are at `ranges`.
    pub(crate) fn matches_ranges(&self, resource: &str, ranges: &[(u32, u32); 6]) -> bool {
        if let Some(head) = &self.head {
            let rest = ranges[5].0 as usize;
            return resource
                .get(..rest)
                .is_some_and(|h| crate::pattern::eq_bytes(h.as_bytes(), head.as_bytes()))
                && resource
                    .get(rest..)
                    .is_some_and(|p| self.segs[5].matches(p));
        }
        self.segs.iter().zip(ranges).all(|(g, &(a, b))| {
            resource
                .get(a as usize..b as usize)
                .is_some_and(|p| g.matches(p))
        })
    }
}

impl std::ops::Deref for ArnPattern {
    type Target = [Glob];
    fn deref(&self) -> &[Glob] {
        &self.segs
    }
}

/// A policy that cannot be parsed, located in its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    /// The policy's name (file, ARN, or role in the request).
    pub name: String,
    /// 1-based line of the error in the (URL-decoded) policy text.
    pub line: usize,
    /// 1-based column, in characters, of the error in the (URL-decoded) policy text.
    pub column: usize,
    /// Byte offset of the error in the (URL-decoded) policy text.
    pub offset: usize,
    /// JSON pointer of the offending value or member; empty for the document itself.
    pub pointer: String,
    /// What is wrong, in words.
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.name, self.line, self.column)?;
        if !self.pointer.is_empty() {
            write!(f, "at `{}`: ", self.pointer)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for PolicyError {}

impl Policy {
    /// Parses a policy document (raw JSON, or URL-encoded as IAM returns it).
    pub fn parse(name: &str, kind: PolicyKind, text: &str) -> Result<Policy, PolicyError> {
        parse_policy(name, kind, text)
    }

    /// 1-based line and column of a byte offset in [`Policy::text`].
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        crate::json::line_col(&self.text, offset)
    }

    /// The source text of a span.
    pub fn snippet(&self, span: Span) -> &str {
        self.text.get(span.range()).unwrap_or("")
    }
}
