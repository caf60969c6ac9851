//! The record shape of `why403 eval` lines: the `request`, the `policies` (compiled once per
//! distinct text) and `settings`.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::scan::{self, LineError, TopMember};
use crate::context::RequestContext;
use crate::eval::{PolicySet, Request, RequestPrincipal};
use crate::policy::{Policy, PolicyKind};

/// A compiled `policies` object.
#[derive(Debug)]
pub(crate) struct CompiledPolicies {
    /// The policies, with `restrict_public_buckets` false (a line's `settings` set it).
    pub(crate) set: PolicySet,
}

/// A policy in the `policies` object that does not parse, located relative to that object.
#[derive(Debug)]
pub(crate) struct PoliciesError {
    /// Byte offset inside the `policies` text.
    offset: usize,
    message: String,
}

impl PoliciesError {
    /// The error in the line that holds the `policies` text at `policies_start`.
    pub(crate) fn at(self, policies_start: usize) -> LineError {
        LineError::new(policies_start + self.offset, self.message)
    }
}

impl From<LineError> for PoliciesError {
    fn from(e: LineError) -> Self {
        PoliciesError {
            offset: e.at,
            message: e.message,
        }
    }
}

#[derive(Deserialize)]
#[serde(expecting = "an object of policies")]
struct RawPolicies<'a> {
    #[serde(borrow, default)]
    identity: Option<Vec<&'a RawValue>>,
    #[serde(borrow, default)]
    resource: Option<&'a RawValue>,
    #[serde(borrow, default)]
    scp: Option<Vec<Vec<&'a RawValue>>>,
    #[serde(borrow, default)]
    rcp: Option<Vec<Vec<&'a RawValue>>>,
    #[serde(borrow, default)]
    boundary: Option<Vec<&'a RawValue>>,
    #[serde(borrow, default)]
    session: Option<&'a RawValue>,
    #[serde(borrow, default)]
    vpc_endpoint: Option<Vec<&'a RawValue>>,
}

/// Compiles the `policies` object of a record.
pub(crate) fn parse_policies(text: &str) -> Result<CompiledPolicies, PoliciesError> {
    let raw: RawPolicies<'_> = read_object(text, "/policies", false)?;
    let one = |r: &RawValue, pointer: String, kind: PolicyKind| -> Result<Policy, PoliciesError> {
        let body = r.get();
        let base = body.as_ptr() as usize - text.as_ptr() as usize;
        // A policy given as a JSON string (as some APIs return it) is parsed from the string.
        let decoded;
        let source = if body.starts_with('"') {
            decoded = serde_json::from_str::<String>(body).map_err(|e| PoliciesError {
                offset: base,
                message: format!("`{pointer}`: {e}"),
            })?;
            decoded.as_str()
        } else {
            body
        };
        Policy::parse(&pointer, kind, source).map_err(|e| PoliciesError {
            offset: if body.starts_with('"') {
                base
            } else {
                base + e.offset
            },
            message: format!("`{}{}`: {}", pointer, e.pointer, e.message),
        })
    };
    let list =
        |v: &Option<Vec<&RawValue>>, name: &str, kind| -> Result<Vec<Policy>, PoliciesError> {
            v.iter()
                .flatten()
                .enumerate()
                .map(|(i, r)| one(r, format!("/policies/{name}/{i}"), kind))
                .collect()
        };
    let levels = |v: &Option<Vec<Vec<&RawValue>>>,
                  name: &str,
                  kind|
     -> Result<Vec<Vec<Policy>>, PoliciesError> {
        v.iter()
            .flatten()
            .enumerate()
            .map(|(l, level)| {
                level
                    .iter()
                    .enumerate()
                    .map(|(i, r)| one(r, format!("/policies/{name}/{l}/{i}"), kind))
                    .collect()
            })
            .collect()
    };
    let set = PolicySet {
        identity: list(&raw.identity, "identity", PolicyKind::Identity)?,
        resource: raw
            .resource
            .map(|r| one(r, "/policies/resource".into(), PolicyKind::Resource))
            .transpose()?,
        scp: levels(&raw.scp, "scp", PolicyKind::Scp)?,
        rcp: levels(&raw.rcp, "rcp", PolicyKind::Rcp)?,
        boundary: raw
            .boundary
            .as_ref()
            .map(|_| list(&raw.boundary, "boundary", PolicyKind::Boundary))
            .transpose()?,
        session: raw
            .session
            .map(|r| one(r, "/policies/session".into(), PolicyKind::Session))
            .transpose()?,
        vpc_endpoint: raw
            .vpc_endpoint
            .as_ref()
            .map(|_| list(&raw.vpc_endpoint, "vpc_endpoint", PolicyKind::VpcEndpoint))
            .transpose()?,
        restrict_public_buckets: false,
        acl_grant: crate::eval::Grant::None,
    };
    Ok(CompiledPolicies { set })
}

fn offset_of_line_col(text: &str, line: usize, column: usize) -> usize {
    let mut off = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return off + column.saturating_sub(1).min(l.len());
        }
        off += l.len();
    }
    text.len()
}

/// Reads the object `text` (the value at `pointer`) with serde, after the check serde does not
/// make for every member: none is given twice (`fold_case`: in any case either, as condition
/// keys compare). An error is located at the member that holds it, with its pointer (serde's
/// own position, relative to `text`, is left out).
fn read_object<'t, T: Deserialize<'t>>(
    text: &'t str,
    pointer: &str,
    fold_case: bool,
) -> Result<T, LineError> {
    if let Some(what) = not_object(text) {
        return Err(LineError::new(
            0,
            format!("`{pointer}` must be an object, found {what}"),
        ));
    }
    let members = members_once(text, pointer, fold_case)?;
    serde_json::from_str(text).map_err(|e| {
        let msg = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let msg = msg.strip_suffix(&suffix).unwrap_or(&msg);
        let offset = offset_of_line_col(text, e.line(), e.column());
        // The innermost member (two levels down at most: a context key) that holds the error.
        let (mut at, mut ptr, mut inner, mut base) = (0, pointer.to_owned(), members, 0);
        for _ in 0..2 {
            // serde places an error at the last byte it read: the value's last byte, or the
            // `:` or space before a value it refused at its first byte.
            let Some(m) = inner
                .iter()
                .find(|m| (base + m.key_at..base + m.value.end).contains(&offset))
            else {
                break;
            };
            at = base + m.value.start;
            ptr = format!("{ptr}{}", scan::pointer(&m.key));
            let value = &text[at..base + m.value.end];
            let mut next = Vec::new();
            if !value.starts_with('{')
                || scan::top_level_members_with(value, &|_, _, _| None, &mut next).is_err()
            {
                break;
            }
            (inner, base) = (next, at);
        }
        LineError::new(at, format!("`{ptr}`: {msg}"))
    })
}

/// What the JSON value `text` is when it is not an object (serde would read an array as a
/// struct's fields in order).
fn not_object(text: &str) -> Option<&'static str> {
    Some(match text.trim_start().as_bytes().first()? {
        b'{' => return None,
        b'[' => "an array",
        b'"' => "a string",
        b't' | b'f' => "a boolean",
        b'n' => "null",
        _ => "a number",
    })
}

/// The members of the object `text` (the value at `pointer`), checked that none is given
/// twice; nothing when `text` is not an object (serde says what it is).
fn members_once<'t>(
    text: &'t str,
    pointer: &str,
    fold_case: bool,
) -> Result<Vec<TopMember<'t>>, LineError> {
    let mut members = Vec::new();
    if not_object(text).is_some() {
        return Ok(members);
    }
    // The line's scan has checked the structure of this value already.
    scan::top_level_members_with(text, &|_, _, _| None, &mut members)?;
    let twice = if fold_case {
        crate::json::first_repeated(&members, |m| m.key.to_ascii_lowercase())
    } else {
        crate::json::first_repeated(&members, |m| m.key.clone())
    };
    if let Some(i) = twice {
        let m = &members[i];
        let mut message = format!("`{pointer}{}` appears twice", scan::pointer(&m.key));
        if let Some(first) = members[..i]
            .iter()
            .find(|f| fold_case && f.key != m.key && f.key.eq_ignore_ascii_case(&m.key))
        {
            message.push_str(&format!(
                " (as `{}` before: condition keys are the same in any case)",
                first.key
            ));
        }
        return Err(LineError::new(m.key_at, message));
    }
    Ok(members)
}

#[derive(Deserialize)]
#[serde(expecting = "a request object")]
struct RawRequest {
    #[serde(default)]
    principal: Option<String>,
    #[serde(default)]
    anonymous: bool,
    action: String,
    resource: String,
    #[serde(default)]
    resource_account: Option<String>,
    #[serde(default)]
    context: ContextIn,
    #[serde(default)]
    wildcard_only_action: bool,
}

/// Parses the `request` member; returns the request and `false` for RestrictPublicBuckets
/// (settings are read separately).
pub(crate) fn parse_request(text: &str) -> Result<(Request, bool), LineError> {
    // A context key given twice, in any case, is an error before serde reads the request
    // (which would keep the last one).
    if let Some(c) = members_once(text, "/request", false)?
        .iter()
        .find(|m| m.key == "context")
    {
        members_once(&text[c.value.clone()], "/request/context", true)
            .map_err(|e| e.shift(c.value.start))?;
    }
    let raw: RawRequest = read_object(text, "/request", false)?;
    let principal = if raw.anonymous {
        None
    } else {
        raw.principal.as_deref()
    };
    let mut req = Request::new(
        RequestPrincipal::parse(principal),
        &raw.action,
        &raw.resource,
        raw.context.0,
    );
    req.resource_account = raw.resource_account;
    req.wildcard_only_action = raw.wildcard_only_action;
    Ok((req, false))
}

/// The request's `context`, read straight into a [`RequestContext`] (no intermediate map).
#[derive(Default)]
struct ContextIn(RequestContext);

impl<'de> Deserialize<'de> for ContextIn {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = ContextIn;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of condition keys")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<ContextIn, A::Error> {
                let mut c = RequestContext::with_capacity(m.size_hint().unwrap_or(16).max(16));
                while let Some(k) = m.next_key::<std::borrow::Cow<'de, str>>()? {
                    match m.next_value::<ValueIn>()? {
                        ValueIn::Null => {}
                        ValueIn::One(v) => c.insert(&k, vec![v], false),
                        ValueIn::Many(vs) => c.insert(&k, vs, true),
                        ValueIn::Invalid => {
                            return Err(serde::de::Error::custom(format!(
                                "context key `{k}` must be a string, number, boolean or array"
                            )));
                        }
                    }
                }
                Ok(ContextIn(c))
            }
        }
        d.deserialize_map(V)
    }
}

/// A context value: a scalar, an array of scalars, or null.
pub(crate) enum ValueIn {
    Null,
    One(String),
    Many(Vec<String>),
    Invalid,
}

impl<'de> Deserialize<'de> for ValueIn {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = ValueIn;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string, number, boolean, array or null")
            }
            fn visit_str<E>(self, v: &str) -> Result<ValueIn, E> {
                Ok(ValueIn::One(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<ValueIn, E> {
                Ok(ValueIn::One(v))
            }
            fn visit_bool<E>(self, v: bool) -> Result<ValueIn, E> {
                Ok(ValueIn::One(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<ValueIn, E> {
                Ok(ValueIn::One(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<ValueIn, E> {
                Ok(ValueIn::One(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<ValueIn, E> {
                Ok(ValueIn::One(
                    serde_json::Number::from_f64(v)
                        .map_or_else(|| v.to_string(), |n| n.to_string()),
                ))
            }
            fn visit_unit<E>(self) -> Result<ValueIn, E> {
                Ok(ValueIn::Null)
            }
            fn visit_none<E>(self) -> Result<ValueIn, E> {
                Ok(ValueIn::Null)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut s: A,
            ) -> Result<ValueIn, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = s.next_element::<ValueIn>()? {
                    // Nested arrays, objects and nulls in a multivalued key are dropped: only
                    // scalars are values.
                    if let ValueIn::One(x) = v {
                        out.push(x);
                    }
                }
                Ok(ValueIn::Many(out))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<ValueIn, A::Error> {
                while m
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(ValueIn::Invalid)
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize)]
#[serde(expecting = "a settings object")]
struct RawSettings {
    #[serde(default)]
    s3_block_public_access: bool,
}

/// Reads `settings.s3_block_public_access`.
pub(crate) fn restrict_public_buckets(text: &str) -> Result<bool, LineError> {
    let s: RawSettings = read_object(text, "/settings", false)?;
    Ok(s.s3_block_public_access)
}
