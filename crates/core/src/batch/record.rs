//! The record shape of `why403 eval` lines: the `request`, the `policies` (compiled once per
//! distinct text) and `settings`.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::context::RequestContext;
use crate::eval::{PolicySet, Request, RequestPrincipal};
use crate::policy::{Policy, PolicyKind};

/// A compiled `policies` object.
#[derive(Debug)]
pub struct CompiledPolicies {
    pub set: PolicySet,
}

/// A policy in the `policies` object that does not parse, located relative to that object.
#[derive(Debug)]
pub struct PoliciesError {
    /// Byte offset inside the `policies` text.
    offset: usize,
    message: String,
}

impl PoliciesError {
    /// The message with the line and column in the input file.
    pub fn locate(self, line: &str, policies_start: usize) -> String {
        let (_, col) = crate::json::line_col(line, policies_start + self.offset);
        format!("column {col}: {}", self.message)
    }
}

#[derive(Deserialize)]
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
pub fn parse_policies(text: &str) -> Result<CompiledPolicies, PoliciesError> {
    let raw: RawPolicies<'_> = serde_json::from_str(text).map_err(|e| PoliciesError {
        offset: offset_of_line_col(text, e.line(), e.column()),
        message: format!("`/policies`: {e}"),
    })?;
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

#[derive(Deserialize)]
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
pub(crate) fn parse_request(text: &str) -> Result<(Request, bool), String> {
    let raw: RawRequest = serde_json::from_str(text).map_err(|e| e.to_string())?;
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
struct RawSettings {
    #[serde(default)]
    s3_block_public_access: bool,
}

/// Reads `settings.s3_block_public_access`.
pub(crate) fn restrict_public_buckets(text: &str) -> Result<bool, String> {
    let s: RawSettings = serde_json::from_str(text).map_err(|e| e.to_string())?;
    Ok(s.s3_block_public_access)
}
