//! Redaction of a scenario file before it is printed: account ids, canonical user ids, IAM
//! unique ids, organization/root/OU/policy ids, VPC and VPC endpoint ids, KMS key ids, e-mail
//! addresses and the names of users, roles, groups, managed policies, sessions and federated
//! users are replaced by placeholders, consistently across the whole file (evidence, request,
//! policy documents, conditions, free text), so that the redacted scenario diagnoses as the
//! original did.
//!
//! Two passes over the tree: the first registers every identifier (in file order, so the
//! placeholders are stable), the second rewrites. Identifiers are found by meaning (every
//! value in an identifier position, [`Text::Id`], whatever its shape), by shape (in free text
//! and ARNs) and by name; then every one of them is replaced wherever it appears as a whole
//! word, the object key, bucket name and S3 ARNs included. A name that a wildcard pattern of
//! the file matches only partially (`ali*`) is kept, so that the pattern still matches what it
//! matched. Regions, IP addresses, KMS aliases and AWS managed policies are kept; so are
//! `Sid`s, inline policy, SCP and grant names, except the identifiers they embed.

use std::collections::{BTreeMap, BTreeSet};

use why403_core::pattern::Glob;

use crate::write::{J, NameKind, Text};

/// What an identifier is; each kind has its own placeholders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    Account,
    Canonical,
    /// An IAM unique id, with its four-letter prefix kept (`AROA...`).
    UniqueId,
    Org,
    Root,
    Ou,
    OrgPolicy,
    Vpce,
    Vpc,
    KmsKey,
    Email,
    /// IAM and STS names share one namespace: the same text is the same placeholder whatever
    /// it names, so equal names stay equal and different names stay different.
    Name(NameKind),
}

/// The prefixes of IAM unique ids and access key ids.
const UNIQUE_PREFIXES: &[&str] = &[
    "AIDA", "AROA", "AGPA", "ANPA", "ANVA", "AIPA", "ASIA", "AKIA", "APKA", "ASCA", "ACCA", "ABIA",
];

/// Characters of a token: identifiers, names, e-mail addresses.
fn token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '@' | '-')
}

/// Characters that end an ARN inside free text.
fn arn_end(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '"' | '\'' | '`' | ',' | ';' | '(' | ')' | '<' | '>' | '[' | ']' | '|'
        )
}

fn all(s: &str, f: impl Fn(u8) -> bool) -> bool {
    s.bytes().all(f)
}

fn lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

fn hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

/// The kind of a standalone token, when it is an identifier by its shape.
fn classify(t: &str) -> Option<Kind> {
    let len = t.len();
    if len == 12 && all(t, |b| b.is_ascii_digit()) {
        return Some(Kind::Account);
    }
    if len == 64 && all(t, hex) {
        return Some(Kind::Canonical);
    }
    if len >= 16
        && UNIQUE_PREFIXES.iter().any(|p| t.starts_with(p))
        && all(t, |b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        return Some(Kind::UniqueId);
    }
    let id = |prefix: &str, min: usize, max: usize| {
        t.strip_prefix(prefix)
            .is_some_and(|r| (min..=max).contains(&r.len()) && all(r, lower_alnum))
    };
    if id("o-", 10, 32) {
        return Some(Kind::Org);
    }
    if id("r-", 4, 32) {
        return Some(Kind::Root);
    }
    if let Some((root, ou)) = t.strip_prefix("ou-").and_then(|r| r.split_once('-'))
        && (4..=32).contains(&root.len())
        && (8..=32).contains(&ou.len())
        && all(root, lower_alnum)
        && all(ou, lower_alnum)
    {
        return Some(Kind::Ou);
    }
    if t.strip_prefix("p-")
        .is_some_and(|r| (4..=128).contains(&r.len()) && all(r, |b| lower_alnum(b) || b == b'_'))
    {
        return Some(Kind::OrgPolicy);
    }
    let hex_id = |prefix: &str| {
        t.strip_prefix(prefix)
            .is_some_and(|r| (8..=17).contains(&r.len()) && all(r, hex))
    };
    if hex_id("vpce-") {
        return Some(Kind::Vpce);
    }
    if hex_id("vpc-") {
        return Some(Kind::Vpc);
    }
    let uuid = t.split('-').map(str::len).eq([8, 4, 4, 4, 12]) && all(t, |b| hex(b) || b == b'-');
    let mrk = t
        .strip_prefix("mrk-")
        .is_some_and(|r| r.len() == 32 && all(r, hex));
    if uuid || mrk {
        return Some(Kind::KmsKey);
    }
    if let Some((local, domain)) = t.split_once('@')
        && !local.is_empty()
        && domain.contains('.')
        && !domain.contains('@')
    {
        return Some(Kind::Email);
    }
    None
}

/// Whether a name given as a name is replaced: not empty, not a pattern, and not the default
/// name of an organization's root.
fn replaced(kind: NameKind, s: &str) -> bool {
    !(s.is_empty() || has_wildcard(s) || kind == NameKind::Level && s == "Root")
}

/// The shortest identifier replaced inside other text (an object key, a reason, a `Sid`):
/// shorter ones are replaced only where they stand alone, so that `s3` or `Up` do not eat
/// the words that contain them.
const MIN_INSIDE: usize = 3;

/// Whether `b`, next to an identifier found inside text, ends it (any identifier character
/// would make the match part of a longer word).
fn word_edge(b: Option<u8>) -> bool {
    !b.is_some_and(|b| b.is_ascii_alphanumeric())
}

fn has_wildcard(s: &str) -> bool {
    s.contains(['*', '?', '$'])
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Register identifiers; the output is discarded.
    Collect,
    /// Replace registered identifiers.
    Rewrite,
}

#[derive(Debug)]
struct Entry {
    kind: Kind,
    original: String,
    placeholder: String,
}

/// The identifiers of one file and their placeholders.
#[derive(Debug)]
struct Redactor {
    mode: Mode,
    /// Key: the kind's namespace and the identifier (lower-case for case-insensitive ones).
    index: BTreeMap<(u8, String), usize>,
    entries: Vec<Entry>,
    /// Strings with wildcards, whose partial matches are kept.
    patterns: Vec<String>,
    /// The bucket and object key, which patterns are matched against.
    verbatim: Vec<String>,
    /// The entries replaced inside text, longest first ([`Redactor::index_within`]).
    within: Vec<usize>,
}

/// The namespace and lookup key of an identifier.
fn key(kind: Kind, s: &str) -> (u8, String) {
    match kind {
        // Names, canonical ids and e-mail addresses compare case-insensitively.
        Kind::Name(_) | Kind::Email | Kind::Canonical | Kind::KmsKey => {
            (namespace(kind), s.to_ascii_lowercase())
        }
        _ => (namespace(kind), s.to_owned()),
    }
}

fn namespace(kind: Kind) -> u8 {
    match kind {
        Kind::Account => 0,
        Kind::Canonical => 1,
        Kind::UniqueId => 2,
        Kind::Org => 3,
        Kind::Root => 4,
        Kind::Ou => 5,
        Kind::OrgPolicy => 6,
        Kind::Vpce => 7,
        Kind::Vpc => 8,
        Kind::KmsKey => 9,
        Kind::Email => 10,
        Kind::Name(NameKind::Owner) => 11,
        Kind::Name(NameKind::Level) => 12,
        Kind::Name(_) => 13,
    }
}

impl Redactor {
    /// An identifier given in an identifier position, whatever its shape: a session's user id
    /// is `<role id>:<session name>`.
    fn ident(&mut self, kind: Kind, s: &str, out: &mut String) {
        if s.is_empty() || has_wildcard(s) {
            out.push_str(s);
            return;
        }
        match (kind, s.split_once(':')) {
            (Kind::UniqueId, Some((role, session))) if !role.is_empty() && !session.is_empty() => {
                self.id(Kind::UniqueId, role, out);
                out.push(':');
                self.id(Kind::Name(NameKind::Session), session, out);
            }
            _ => self.id(kind, s, out),
        }
    }

    /// Registers (collect) or replaces (rewrite) one identifier.
    fn id(&mut self, kind: Kind, s: &str, out: &mut String) {
        let k = key(kind, s);
        match self.mode {
            Mode::Collect => {
                if !self.index.contains_key(&k) {
                    self.index.insert(k, self.entries.len());
                    self.entries.push(Entry {
                        kind,
                        original: s.to_owned(),
                        placeholder: String::new(),
                    });
                }
                out.push_str(s);
            }
            Mode::Rewrite => match self.index.get(&k).and_then(|&i| self.entries.get(i)) {
                Some(e) => out.push_str(&e.placeholder),
                None => out.push_str(s),
            },
        }
    }

    /// The registered name `s` stands for, if any.
    fn known_name(&self, s: &str) -> Option<Kind> {
        let k = key(Kind::Name(NameKind::User), s);
        let i = *self.index.get(&k)?;
        self.entries.get(i).map(|e| e.kind)
    }

    /// The registered identifier (of [`MIN_INSIDE`] characters or more) that starts at byte
    /// `at` of `s` as a whole word, longest first.
    fn known_at(&self, s: &str, at: usize) -> Option<&Entry> {
        let bytes = s.as_bytes();
        if at > 0 && !word_edge(bytes.get(at - 1).copied()) {
            return None;
        }
        let rest = s.get(at..)?;
        self.within
            .iter()
            .filter_map(|&i| self.entries.get(i))
            .find(|e| {
                let n = e.original.len();
                rest.get(..n)
                    .is_some_and(|head| head.eq_ignore_ascii_case(&e.original))
                    && word_edge(bytes.get(at + n).copied())
            })
    }

    /// Every registered identifier inside `s` replaced (rewrite); the rest of the text goes
    /// through `rest`.
    fn inside(&mut self, s: &str, rest: fn(&mut Redactor, &str) -> String) -> String {
        if self.mode == Mode::Collect {
            return rest(self, s);
        }
        let mut out = String::with_capacity(s.len());
        let (mut from, mut at) = (0, 0);
        while at < s.len() {
            if let Some((n, placeholder)) = self
                .known_at(s, at)
                .map(|e| (e.original.len(), e.placeholder.clone()))
            {
                out.push_str(&rest(self, &s[from..at]));
                out.push_str(&placeholder);
                at += n;
                from = at;
            } else {
                at += s[at..].chars().next().map_or(1, char::len_utf8);
            }
        }
        out.push_str(&rest(self, &s[from..]));
        out
    }

    /// A string of the file: every identifier of the file inside it, then whole names, ARNs
    /// and identifier tokens.
    fn text(&mut self, s: &str) -> String {
        if self.mode == Mode::Collect && has_wildcard(s) {
            self.patterns.push(s.to_owned());
        }
        self.inside(s, Redactor::shaped)
    }

    /// Whole names, ARNs, then identifier tokens by their shape.
    fn shaped(&mut self, s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        if let Some(kind) = self.known_name(s) {
            self.id(kind, s, &mut out);
            return out;
        }
        let mut rest = s;
        while let Some(c) = rest.chars().next() {
            if rest.starts_with("arn:") {
                let end = rest.find(arn_end).unwrap_or(rest.len());
                let (arn, after) = rest.split_at(end);
                self.arn(arn, &mut out);
                rest = after;
            } else if token_char(c) {
                let end = rest.find(|c| !token_char(c)).unwrap_or(rest.len());
                let (token, after) = rest.split_at(end);
                self.token(token, &mut out);
                rest = after;
            } else {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
        out
    }

    fn token(&mut self, t: &str, out: &mut String) {
        if let Some(kind) = self.known_name(t) {
            return self.id(kind, t, out);
        }
        if let Some(kind) = classify(t) {
            return self.id(kind, t, out);
        }
        // `111122223333.dkr.ecr...`: the parts of a dotted token.
        if t.contains('.') {
            for (i, part) in t.split('.').enumerate() {
                if i > 0 {
                    out.push('.');
                }
                match classify(part) {
                    Some(kind) if kind != Kind::Email => self.id(kind, part, out),
                    _ => out.push_str(part),
                }
            }
            return;
        }
        out.push_str(t);
    }

    /// `arn:partition:service:region:account:resource`, with the account, the IAM/STS names
    /// and the ids of the resource replaced; S3 resources and AWS managed policies are kept.
    fn arn(&mut self, arn: &str, out: &mut String) {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let [_, partition, service, region, account, resource] = parts.as_slice() else {
            out.push_str(arn);
            return;
        };
        out.push_str("arn:");
        out.push_str(partition);
        out.push(':');
        out.push_str(service);
        out.push(':');
        out.push_str(region);
        out.push(':');
        self.tokens(account, out);
        out.push(':');
        let named = |n: usize, kinds: &[NameKind]| -> Option<Vec<(usize, NameKind)>> {
            let segments = resource.split('/').count();
            (segments >= n).then(|| {
                kinds
                    .iter()
                    .enumerate()
                    .map(|(i, k)| (segments - kinds.len() + i, *k))
                    .collect()
            })
        };
        let names: Option<Vec<(usize, NameKind)>> = match (*service, *account) {
            ("s3", _) | (_, "aws") => {
                out.push_str(resource);
                return;
            }
            ("iam", _) => match resource.split('/').next() {
                Some("user") => named(2, &[NameKind::User]),
                Some("role") => named(2, &[NameKind::Role]),
                Some("group") => named(2, &[NameKind::Group]),
                Some("policy") => named(2, &[NameKind::Policy]),
                _ => None,
            },
            ("sts", _) => match resource.split('/').next() {
                Some("assumed-role") => named(3, &[NameKind::Role, NameKind::Session]),
                Some("federated-user") => named(2, &[NameKind::FederatedUser]),
                _ => None,
            },
            ("kms", _) if resource.starts_with("alias/") => {
                out.push_str(resource);
                return;
            }
            _ => None,
        };
        let names = names.unwrap_or_default();
        for (i, segment) in resource.split('/').enumerate() {
            if i > 0 {
                out.push('/');
            }
            match names.iter().find(|(n, _)| *n == i) {
                Some((_, kind)) if !segment.is_empty() && !has_wildcard(segment) => {
                    self.id(Kind::Name(*kind), segment, out);
                }
                Some(_) => out.push_str(segment),
                None => self.tokens(segment, out),
            }
        }
    }

    /// The identifier tokens of a part of an ARN.
    fn tokens(&mut self, s: &str, out: &mut String) {
        let mut rest = s;
        while let Some(c) = rest.chars().next() {
            if token_char(c) {
                let end = rest.find(|c| !token_char(c)).unwrap_or(rest.len());
                let (token, after) = rest.split_at(end);
                match classify(token) {
                    Some(kind) => self.id(kind, token, out),
                    None => out.push_str(token),
                }
                rest = after;
            } else {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }

    /// Visits every string of the tree, rewriting it in [`Mode::Rewrite`].
    fn walk(&mut self, j: &mut J) {
        match j {
            J::Null | J::Bool(_) | J::Num(_) => {}
            J::Str(s, text) => self.string(s, *text),
            J::Arr(items) => items.iter_mut().for_each(|i| self.walk(i)),
            J::Obj(members) => {
                for (k, text, v) in members.iter_mut() {
                    self.string(k, *text);
                    self.walk(v);
                }
            }
            J::Doc(inner) => self.walk(inner),
        }
    }

    /// One string (a value or an object key) of the file, as `text` says.
    fn string(&mut self, s: &mut String, text: Text) {
        let new = match text {
            Text::Fixed => return,
            Text::Verbatim => {
                if self.mode == Mode::Collect {
                    self.verbatim.push(s.clone());
                }
                self.inside(s, |_, rest| rest.to_owned())
            }
            Text::Data => self.text(s),
            Text::Label => self.label(s),
            Text::Name(kind) if replaced(kind, s) => {
                let mut out = String::new();
                self.id(Kind::Name(kind), s, &mut out);
                out
            }
            Text::Name(_) => return,
            Text::Id(kind) => {
                let mut out = String::new();
                self.ident(kind, s, &mut out);
                out
            }
        };
        if self.mode == Mode::Rewrite {
            *s = new;
        }
    }

    /// A label (`Sid`, policy and grant names): every registered identifier it contains
    /// (case-insensitively, three characters or more, longest first) replaced.
    fn label(&self, s: &str) -> String {
        if self.mode == Mode::Collect {
            return String::new();
        }
        let mut names: Vec<&Entry> = self
            .index
            .iter()
            .filter(|((_, k), _)| k.len() >= 3)
            .filter_map(|(_, &i)| self.entries.get(i))
            .collect();
        names.sort_by_key(|e| std::cmp::Reverse(e.original.len()));
        let lower = s.to_ascii_lowercase();
        let mut out = String::with_capacity(s.len());
        let mut at = 0;
        while let Some(c) = s.get(at..).and_then(|r| r.chars().next()) {
            let rest = lower.get(at..).unwrap_or("");
            match names
                .iter()
                .find(|e| rest.starts_with(&e.original.to_ascii_lowercase()))
            {
                Some(e) => {
                    out.push_str(&e.placeholder);
                    at += e.original.len();
                }
                None => {
                    out.push(c);
                    at += c.len_utf8();
                }
            }
        }
        out
    }

    /// Lists the registered identifiers long enough to be replaced inside text, longest first.
    fn index_within(&mut self) {
        let mut within: Vec<usize> = self
            .index
            .values()
            .copied()
            .filter(|&i| {
                self.entries
                    .get(i)
                    .is_some_and(|e| e.original.len() >= MIN_INSIDE)
            })
            .collect();
        within.sort_by_key(|&i| {
            let e = self.entries.get(i);
            (std::cmp::Reverse(e.map_or(0, |e| e.original.len())), i)
        });
        self.within = within;
    }

    /// Gives every registered identifier a placeholder, never one that is an identifier of
    /// the file itself.
    fn assign(&mut self) {
        let taken: BTreeSet<String> = self
            .entries
            .iter()
            .map(|e| e.original.to_ascii_lowercase())
            .collect();
        let mut counters: BTreeMap<String, u64> = BTreeMap::new();
        for e in &mut self.entries {
            let family = family(e.kind, &e.original);
            let n = counters.entry(family.clone()).or_insert(0);
            loop {
                *n += 1;
                let p = placeholder(e.kind, &family, *n);
                if !taken.contains(&p.to_ascii_lowercase()) {
                    e.placeholder = p;
                    break;
                }
            }
        }
    }

    /// Drops the identifiers that a wildcard pattern matches differently once redacted.
    fn keep_partial_matches(&mut self) {
        let patterns = std::mem::take(&mut self.patterns);
        let chunks: Vec<String> = patterns
            .iter()
            .flat_map(|p| p.split([':', '/', ',', ' ']))
            .filter(|c| c.contains(['*', '?']) && c.chars().any(|c| c != '*' && c != '?'))
            .map(str::to_owned)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        self.mode = Mode::Rewrite;
        // What a resource pattern is matched against: the object's ARN, replaced inside.
        let object = match self.verbatim.as_slice() {
            [bucket, key, ..] => Some(format!("arn:aws:s3:::{bucket}/{key}")),
            _ => None,
        };
        // Each round keeps at least one more identifier or stops.
        for _ in 0..=self.entries.len() {
            self.index_within();
            let mut dropped = Vec::new();
            if let Some(object) = &object {
                let redacted = self.inside(object, |_, rest| rest.to_owned());
                for p in &patterns {
                    let (before, after) = (Glob::new(p), Glob::new(&self.text(p)));
                    if before.matches(object) != after.matches(&redacted) {
                        // The pattern names part of an identifier that the key holds: the
                        // longest such identifier is kept (then the next, round by round).
                        let held = self.within.iter().find_map(|&i| {
                            let e = self.entries.get(i)?;
                            let k = key(e.kind, &e.original);
                            (object
                                .to_ascii_lowercase()
                                .contains(&k.1.to_ascii_lowercase())
                                && self.index.contains_key(&k))
                            .then_some(k)
                        });
                        dropped.extend(held);
                    }
                }
            }
            for chunk in &chunks {
                let before = Glob::new(chunk);
                let after = Glob::new(&self.text(chunk));
                for (k, &i) in &self.index {
                    let Some(e) = self.entries.get(i) else {
                        continue;
                    };
                    if before.matches(&e.original) != after.matches(&e.placeholder) {
                        dropped.push(k.clone());
                    }
                }
            }
            if dropped.is_empty() {
                break;
            }
            for k in dropped {
                self.index.remove(&k);
            }
        }
        self.index_within();
    }
}

/// Placeholders are numbered per family: per kind, per name kind, per unique-id prefix.
fn family(kind: Kind, original: &str) -> String {
    match kind {
        // The prefix says a user's, a role's... A unique id of another shape (an emulator's)
        // gets placeholders of another shape too, so that nothing takes it for an IAM one.
        Kind::UniqueId if classify(original) == Some(Kind::UniqueId) => {
            original.get(..4).unwrap_or("AIDA").to_owned()
        }
        Kind::UniqueId => "ID".to_owned(),
        Kind::KmsKey if original.starts_with("mrk-") => "mrk".to_owned(),
        Kind::Name(k) => format!("{k:?}"),
        other => format!("{other:?}"),
    }
}

fn placeholder(kind: Kind, family: &str, n: u64) -> String {
    match kind {
        Kind::Account => format!("{n:012}"),
        Kind::Canonical => format!("{n:064x}"),
        Kind::UniqueId => format!("{family}{n:017}"),
        Kind::Org => format!("o-{n:010}"),
        Kind::Root => format!("r-{n:04}"),
        Kind::Ou => format!("ou-0000-{n:08}"),
        Kind::OrgPolicy => format!("p-{n:08}"),
        Kind::Vpce => format!("vpce-{n:017x}"),
        Kind::Vpc => format!("vpc-{n:017x}"),
        Kind::KmsKey if family == "mrk" => format!("mrk-{n:032x}"),
        Kind::KmsKey => format!("00000000-0000-0000-0000-{n:012x}"),
        Kind::Email => format!("user-{n}@example.com"),
        Kind::Name(k) => {
            let word = match k {
                NameKind::User => "user",
                NameKind::Role => "role",
                NameKind::Group => "group",
                NameKind::Policy => "policy",
                NameKind::Session => "session",
                NameKind::FederatedUser => "federated-user",
                NameKind::Owner => "owner",
                NameKind::Level => "name",
            };
            format!("{word}-{n}")
        }
    }
}

/// Replaces the identifiers of a scenario file's tree by placeholders.
pub(crate) fn redact(tree: &mut J) {
    let mut r = Redactor {
        mode: Mode::Collect,
        index: BTreeMap::new(),
        entries: Vec::new(),
        patterns: Vec::new(),
        verbatim: Vec::new(),
        within: Vec::new(),
    };
    // Names first, from where they stand structurally, so that the token pass knows them.
    r.walk_names(tree);
    r.walk(tree);
    r.assign();
    r.keep_partial_matches();
    r.mode = Mode::Rewrite;
    r.walk(tree);
}

impl Redactor {
    /// Registers the names given as names and inside ARNs, before any free text is read.
    fn walk_names(&mut self, j: &J) {
        match j {
            J::Str(s, Text::Name(kind)) => {
                if replaced(*kind, s) {
                    self.id(Kind::Name(*kind), s, &mut String::new());
                }
            }
            J::Str(s, Text::Id(kind)) => self.ident(*kind, s, &mut String::new()),
            J::Str(s, Text::Data) => {
                let mut rest = s.as_str();
                while let Some(at) = rest.find("arn:") {
                    let arn = &rest[at..];
                    let end = arn.find(arn_end).unwrap_or(arn.len());
                    self.arn(&arn[..end], &mut String::new());
                    rest = &arn[end..];
                }
            }
            J::Arr(items) => items.iter().for_each(|i| self.walk_names(i)),
            J::Obj(members) => {
                for (k, text, v) in members {
                    if let Text::Id(kind) = text {
                        self.ident(*kind, k, &mut String::new());
                    }
                    self.walk_names(v);
                }
            }
            J::Doc(inner) => self.walk_names(inner),
            J::Null | J::Bool(_) | J::Num(_) | J::Str(..) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_identifiers_by_shape() {
        assert_eq!(classify("111122223333"), Some(Kind::Account));
        assert_eq!(classify("11112222333"), None);
        assert_eq!(
            classify("79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"),
            Some(Kind::Canonical)
        );
        assert_eq!(classify("AROA3XFRBF535PLBIFPI4"), Some(Kind::UniqueId));
        assert_eq!(classify("o-aa111bb222"), Some(Kind::Org));
        assert_eq!(classify("ou-ab12-11111111"), Some(Kind::Ou));
        assert_eq!(classify("r-ab12"), Some(Kind::Root));
        assert_eq!(classify("p-abc123"), Some(Kind::OrgPolicy));
        assert_eq!(classify("p-FullAWSAccess"), None);
        assert_eq!(classify("vpce-1a2b3c4d5e6f7a8b9"), Some(Kind::Vpce));
        assert_eq!(classify("vpc-1a2b3c4d"), Some(Kind::Vpc));
        assert_eq!(
            classify("1234abcd-12ab-34cd-56ef-1234567890ab"),
            Some(Kind::KmsKey)
        );
        assert_eq!(classify("admin@example.com"), Some(Kind::Email));
        assert_eq!(classify("amzn-s3-demo-bucket"), None);
        assert_eq!(classify("203.0.113.7"), None);
    }

    fn redacted(strings: &[&str]) -> Vec<String> {
        let mut tree = J::Arr(
            strings
                .iter()
                .map(|s| J::Str((*s).to_owned(), Text::Data))
                .collect(),
        );
        redact(&mut tree);
        let J::Arr(items) = tree else {
            return Vec::new();
        };
        items
            .into_iter()
            .map(|j| match j {
                J::Str(s, _) => s,
                _ => String::new(),
            })
            .collect()
    }

    #[test]
    fn replaces_consistently_and_keeps_s3_and_partial_matches() {
        let out = redacted(&[
            "arn:aws:sts::111122223333:assumed-role/Uploader/alice",
            "arn:aws:iam::111122223333:role/service-role/Uploader",
            "AROA3XFRBF535PLBIFPI4:alice",
            "arn:aws:s3:::amzn-s3-demo-bucket/alice/*",
            "arn:aws:iam::111122223333:user/b*",
            "arn:aws:iam::444455556666:user/bob",
            "alice's role Uploader in 111122223333",
            "arn:aws:iam::aws:policy/AmazonS3FullAccess",
        ]);
        assert_eq!(
            out[0],
            "arn:aws:sts::000000000001:assumed-role/role-1/session-1"
        );
        assert_eq!(out[1], "arn:aws:iam::000000000001:role/service-role/role-1");
        assert_eq!(out[2], "AROA00000000000000001:session-1");
        // Inside an S3 ARN too, as inside the object key it matches.
        assert_eq!(out[3], "arn:aws:s3:::amzn-s3-demo-bucket/session-1/*");
        assert_eq!(out[4], "arn:aws:iam::000000000001:user/b*");
        // `b*` matches bob: bob is kept.
        assert_eq!(out[5], "arn:aws:iam::000000000002:user/bob");
        assert_eq!(out[6], "session-1's role role-1 in 000000000001");
        assert_eq!(out[7], "arn:aws:iam::aws:policy/AmazonS3FullAccess");
    }
}
