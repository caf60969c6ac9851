//! Typed, located access to the spanned JSON tree of a scenario file: every accessor returns
//! a [`ScenarioError`] that names the file, line:column and JSON pointer of the bad value.

use why403_core::evidence::{Slot, Unavailable};
use why403_core::json::{self, Json, Member, Node, escape_pointer_token};
use why403_core::policy::Origin;
use why403_core::{Policy, PolicyKind};

use crate::error::{Location, ScenarioError};

pub(crate) type R<T> = Result<T, ScenarioError>;

/// The file being read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reader<'t> {
    pub file: &'t str,
    pub text: &'t str,
}

impl Reader<'_> {
    pub(crate) fn loc(&self, offset: usize, pointer: &str) -> Location {
        let (line, column) = json::line_col(self.text, offset);
        Location {
            file: self.file.to_owned(),
            line,
            column,
            offset,
            pointer: json::cut_long_values(pointer).into_owned(),
        }
    }

    /// A shape error; a value the message quotes is cut to a readable length.
    pub(crate) fn shape(
        &self,
        offset: usize,
        pointer: &str,
        message: impl Into<String>,
    ) -> ScenarioError {
        ScenarioError::Shape {
            at: self.loc(offset, pointer),
            message: json::cut_long_values(&message.into()).into_owned(),
        }
    }
}

/// A value of the file with its JSON pointer.
#[derive(Debug, Clone)]
pub(crate) struct Val<'a> {
    pub node: &'a Node,
    pub ptr: String,
}

/// The pointer of a member of the value at `ptr`.
pub(crate) fn child(ptr: &str, key: &str) -> String {
    format!("{ptr}/{}", escape_pointer_token(key))
}

impl<'a> Val<'a> {
    pub(crate) fn root(node: &'a Node) -> Self {
        Val {
            node,
            ptr: String::new(),
        }
    }

    pub(crate) fn err(&self, r: &Reader<'_>, message: impl Into<String>) -> ScenarioError {
        r.shape(self.node.span.start as usize, &self.ptr, message)
    }

    fn expected(&self, r: &Reader<'_>, what: &str) -> ScenarioError {
        self.err(
            r,
            format!("expected {what}, found {}", self.node.value.type_name()),
        )
    }

    pub(crate) fn is_null(&self) -> bool {
        matches!(self.node.value, Json::Null)
    }

    pub(crate) fn obj(&self, r: &Reader<'_>) -> R<Obj<'a>> {
        let Json::Object(members) = &self.node.value else {
            return Err(self.expected(r, "an object"));
        };
        if let Some(i) = json::first_repeated(members, |b| b.key.as_str()) {
            let a = &members[i];
            return Err(r.shape(
                a.key_span.start as usize,
                &child(&self.ptr, &a.key),
                format!("field `{}` appears twice", a.key),
            ));
        }
        Ok(Obj {
            val: self.clone(),
            members,
        })
    }

    pub(crate) fn str(&self, r: &Reader<'_>) -> R<&'a str> {
        match &self.node.value {
            Json::String(s) => Ok(s),
            _ => Err(self.expected(r, "a string")),
        }
    }

    /// A string that must not be empty.
    pub(crate) fn nonempty(&self, r: &Reader<'_>) -> R<&'a str> {
        let s = self.str(r)?;
        if s.trim().is_empty() {
            return Err(self.err(r, "expected a non-empty string"));
        }
        Ok(s)
    }

    pub(crate) fn bool(&self, r: &Reader<'_>) -> R<bool> {
        match self.node.value {
            Json::Bool(b) => Ok(b),
            _ => Err(self.expected(r, "`true` or `false`")),
        }
    }

    pub(crate) fn arr(&self, r: &Reader<'_>) -> R<Vec<Val<'a>>> {
        match &self.node.value {
            Json::Array(items) => Ok(items
                .iter()
                .enumerate()
                .map(|(i, node)| Val {
                    node,
                    ptr: format!("{}/{i}", self.ptr),
                })
                .collect()),
            _ => Err(self.expected(r, "an array")),
        }
    }

    pub(crate) fn strings(&self, r: &Reader<'_>) -> R<Vec<String>> {
        self.arr(r)?
            .iter()
            .map(|v| v.str(r).map(str::to_owned))
            .collect()
    }

    /// A condition-key value as AWS compares it: strings as they are, numbers as written,
    /// booleans as `true`/`false`.
    pub(crate) fn scalar(&self, r: &Reader<'_>) -> R<String> {
        match &self.node.value {
            Json::String(s) => Ok(s.clone()),
            Json::Number(n) => Ok(n.to_string()),
            Json::Bool(b) => Ok(b.to_string()),
            _ => Err(self.expected(r, "a string, number or boolean")),
        }
    }

    /// A 12-digit AWS account id.
    pub(crate) fn account(&self, r: &Reader<'_>) -> R<&'a str> {
        let s = self.str(r)?;
        if !is_account(s) {
            return Err(self.err(
                r,
                format!("expected a 12-digit AWS account id, found `{s}`"),
            ));
        }
        Ok(s)
    }

    /// A policy document, as a JSON object or as a JSON string holding the document (raw or
    /// URL-encoded). Spans of an object policy are relative to its own text, which is the
    /// exact slice of the file, so `origin` maps every span back to the file.
    pub(crate) fn policy(&self, r: &Reader<'_>, name: &str, kind: PolicyKind) -> R<Policy> {
        let start = self.node.span.start as usize;
        let (line, column) = json::line_col(r.text, start);
        let origin = |from_string| Origin {
            file: r.file.to_owned(),
            line,
            column,
            pointer: self.ptr.clone(),
            from_string,
        };
        match &self.node.value {
            Json::Object(_) => {
                let Some(text) = r.text.get(self.node.span.range()) else {
                    return Err(self.err(r, "the policy's text cannot be sliced from the file"));
                };
                let mut policy = Policy::parse(name, kind, text).map_err(|error| {
                    let offset = start + error.offset;
                    let pointer = format!("{}{}", self.ptr, error.pointer);
                    ScenarioError::Policy {
                        at: r.loc(offset, &pointer),
                        in_string: false,
                        error: Box::new(error),
                    }
                })?;
                policy.origin = Some(origin(false));
                Ok(policy)
            }
            Json::String(s) => {
                let mut policy =
                    Policy::parse(name, kind, s).map_err(|error| ScenarioError::Policy {
                        at: r.loc(start, &self.ptr),
                        in_string: true,
                        error: Box::new(error),
                    })?;
                // A minified document is shown re-indented, so that snippets have lines.
                if !policy.text.contains('\n')
                    && let Some(pretty) = json::pretty(&policy.text)
                    && let Ok(p) = Policy::parse(name, kind, &pretty)
                {
                    policy = p;
                }
                policy.origin = Some(origin(true));
                Ok(policy)
            }
            _ => Err(self.expected(r, "a policy document (an object, or a string holding one)")),
        }
    }
}

pub(crate) fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// An object of the file.
#[derive(Debug, Clone)]
pub(crate) struct Obj<'a> {
    pub val: Val<'a>,
    members: &'a [Member],
}

impl<'a> Obj<'a> {
    pub(crate) fn err(&self, r: &Reader<'_>, message: impl Into<String>) -> ScenarioError {
        self.val.err(r, message)
    }

    pub(crate) fn get(&self, key: &str) -> Option<Val<'a>> {
        self.members.iter().find(|m| m.key == key).map(|m| Val {
            node: &m.value,
            ptr: child(&self.val.ptr, key),
        })
    }

    /// A member that is present and not `null`.
    pub(crate) fn opt(&self, key: &str) -> Option<Val<'a>> {
        self.get(key).filter(|v| !v.is_null())
    }

    pub(crate) fn req(&self, r: &Reader<'_>, key: &str) -> R<Val<'a>> {
        self.opt(key)
            .ok_or_else(|| self.err(r, format!("missing required field `{key}`")))
    }

    pub(crate) fn str(&self, r: &Reader<'_>, key: &str) -> R<&'a str> {
        self.req(r, key)?.str(r)
    }

    pub(crate) fn opt_str(&self, r: &Reader<'_>, key: &str) -> R<Option<&'a str>> {
        self.opt(key).map(|v| v.str(r)).transpose()
    }

    pub(crate) fn opt_bool(&self, r: &Reader<'_>, key: &str) -> R<Option<bool>> {
        self.opt(key).map(|v| v.bool(r)).transpose()
    }

    pub(crate) fn opt_obj(&self, r: &Reader<'_>, key: &str) -> R<Option<Obj<'a>>> {
        self.opt(key).map(|v| v.obj(r)).transpose()
    }

    pub(crate) fn opt_arr(&self, r: &Reader<'_>, key: &str) -> R<Vec<Val<'a>>> {
        Ok(self
            .opt(key)
            .map(|v| v.arr(r))
            .transpose()?
            .unwrap_or_default())
    }

    /// Every member, in document order.
    pub(crate) fn members(&self) -> impl Iterator<Item = (&'a str, Val<'a>)> + '_ {
        self.members.iter().map(|m| {
            (
                m.key.as_str(),
                Val {
                    node: &m.value,
                    ptr: child(&self.val.ptr, &m.key),
                },
            )
        })
    }

    /// Rejects members not in `allowed`, suggesting the closest allowed name.
    pub(crate) fn only(&self, r: &Reader<'_>, allowed: &[&str]) -> R<()> {
        for m in self.members {
            if allowed.contains(&m.key.as_str()) {
                continue;
            }
            let mut message = format!("unknown field `{}`", m.key);
            if let Some(s) = suggest(&m.key, allowed) {
                message.push_str(&format!("; did you mean `{s}`?"));
            } else {
                let list: Vec<String> = allowed.iter().map(|a| format!("`{a}`")).collect();
                message.push_str(&format!("; expected one of {}", list.join(", ")));
            }
            return Err(r.shape(
                m.key_span.start as usize,
                &child(&self.val.ptr, &m.key),
                message,
            ));
        }
        Ok(())
    }
}

/// The allowed name closest to a misspelt one, if any is close.
fn suggest<'s>(key: &str, allowed: &[&'s str]) -> Option<&'s str> {
    let within = |a: &str| 2.max(a.len() / 5);
    // The distance is at least the difference in length: a long key (10 MB) is compared with
    // nothing, instead of costing its length times each name.
    let longest = allowed.iter().map(|a| a.len() + within(a)).max()?;
    if key.len() > longest * 4 || key.chars().count() > longest {
        return None;
    }
    let lower = key.to_ascii_lowercase();
    allowed
        .iter()
        .map(|a| (distance(&lower, &a.to_ascii_lowercase()), *a))
        .filter(|(d, a)| *d <= within(a))
        .min_by_key(|(d, _)| *d)
        .map(|(_, a)| a)
}

/// Levenshtein distance over characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// How an evidence section was given.
#[derive(Debug)]
pub(crate) enum Section<'a> {
    /// The AWS output (or hand-written equivalent).
    Given(Val<'a>),
    /// `{"$absent": "<AWS error code>"}`.
    Absent(Val<'a>),
    /// `{"$unavailable": ...}`.
    Unavailable(Unavailable),
    /// Not in the file.
    Missing,
}

/// Whether `{"$absent": ...}` makes sense for a section.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Absence {
    /// The thing may not exist: `$absent` becomes [`Slot::Absent`].
    Allowed,
    /// AWS always has one; the text says why, for the error.
    Rejected(&'static str),
}

/// The default reason of a section that is not in the file.
pub(crate) const NOT_IN_SCENARIO: &str = "not in the scenario";

pub(crate) fn missing(needs: &[&str]) -> Unavailable {
    Unavailable {
        reason: NOT_IN_SCENARIO.to_owned(),
        needs: needs.iter().map(|s| (*s).to_owned()).collect(),
    }
}

impl<'a> Section<'a> {
    /// Reads member `key` of `parent` as an evidence section. `needs` are the IAM actions
    /// that would read it, the default for `$unavailable` without `needs`.
    pub(crate) fn read(
        r: &Reader<'_>,
        parent: &Obj<'a>,
        key: &str,
        needs: &[&str],
    ) -> R<Section<'a>> {
        let Some(v) = parent.get(key) else {
            return Ok(Section::Missing);
        };
        if v.is_null() {
            return Err(v.err(
                r,
                "`null` is ambiguous: give the AWS output, `{\"$absent\": \"<error code>\"}` \
                 or `{\"$unavailable\": {\"reason\": \"...\"}}`, or leave the field out",
            ));
        }
        let Json::Object(members) = &v.node.value else {
            return Ok(Section::Given(v));
        };
        let Some(marker) = members.iter().find(|m| m.key.starts_with('$')) else {
            return Ok(Section::Given(v));
        };
        let mptr = child(&v.ptr, &marker.key);
        let mval = Val {
            node: &marker.value,
            ptr: mptr.clone(),
        };
        if members.len() > 1 {
            return Err(r.shape(
                marker.key_span.start as usize,
                &mptr,
                format!("`{}` cannot be combined with other fields", marker.key),
            ));
        }
        match marker.key.as_str() {
            "$absent" => {
                mval.nonempty(r)?;
                Ok(Section::Absent(mval))
            }
            "$unavailable" => {
                let default = || needs.iter().map(|s| (*s).to_owned()).collect();
                let u = match &marker.value.value {
                    Json::String(reason) => Unavailable {
                        reason: reason.clone(),
                        needs: default(),
                    },
                    _ => {
                        let o = mval.obj(r)?;
                        o.only(r, &["reason", "needs"])?;
                        let reason = o.req(r, "reason")?.nonempty(r)?.to_owned();
                        let needs = match o.opt("needs") {
                            Some(n) => n.strings(r)?,
                            None => default(),
                        };
                        Unavailable { reason, needs }
                    }
                };
                Ok(Section::Unavailable(u))
            }
            other => Err(r.shape(
                marker.key_span.start as usize,
                &mptr,
                format!("unknown marker `{other}`; expected `$absent` or `$unavailable`"),
            )),
        }
    }

    /// Converts the section into a slot, reading a given value with `f`.
    pub(crate) fn slot<T>(
        self,
        r: &Reader<'_>,
        key: &str,
        needs: &[&str],
        absence: Absence,
        f: impl FnOnce(Val<'a>) -> R<T>,
    ) -> R<Slot<T>> {
        match self {
            Section::Given(v) => f(v).map(Slot::Collected),
            Section::Absent(v) => match absence {
                Absence::Allowed => Ok(Slot::Absent),
                Absence::Rejected(why) => {
                    Err(v.err(r, format!("`{key}` cannot be `$absent`: {why}; use `$unavailable` if it could not be read")))
                }
            },
            Section::Unavailable(u) => Ok(Slot::Unavailable(u)),
            Section::Missing => Ok(Slot::Unavailable(missing(needs))),
        }
    }

    pub(crate) fn is_missing(&self) -> bool {
        matches!(self, Section::Missing)
    }

    /// The value, for error locations.
    pub(crate) fn val(&self) -> Option<&Val<'a>> {
        match self {
            Section::Given(v) | Section::Absent(v) => Some(v),
            Section::Unavailable(_) | Section::Missing => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let allowed = ["bucket", "key", "principal", "credentials"];
        assert_eq!(suggest("bukcet", &allowed), Some("bucket"));
        assert_eq!(suggest("Principal", &allowed), Some("principal"));
        assert_eq!(suggest("zzzzzz", &allowed), None);
    }
}
