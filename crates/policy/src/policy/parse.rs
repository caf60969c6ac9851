//! Builds the policy model from the spanned JSON tree, accepting what AWS accepts and
//! rejecting what it rejects with a located message.

use std::sync::Arc;

use super::{
    ActionElement, AwsPrincipal, Effect, Located, Policy, PolicyError, PolicyKind,
    PrincipalElement, PrincipalValue, ResourceElement, ResourcePattern, Statement, Version,
};
use crate::condition::{CondValue, Condition, Operator};
use crate::json::{self, Json, Member, Node, Span, escape_pointer_token};
use crate::pattern::{Glob, Template, split_arn, split_glob_arn};

/// Decodes `%XX` escapes (IAM returns policy documents URL-encoded). `+` is kept as is.
pub fn url_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Parses a policy document. A document that starts with `%7B` (an encoded `{`) is
/// URL-decoded first, and spans refer to the decoded text.
pub(crate) fn parse_policy(
    name: &str,
    kind: PolicyKind,
    text: &str,
) -> Result<Policy, PolicyError> {
    let trimmed = text.trim_start();
    let decoded;
    let text = if trimmed
        .as_bytes()
        .get(..3)
        .is_some_and(|b| b.eq_ignore_ascii_case(b"%7B"))
    {
        decoded = url_decode(trimmed).ok_or_else(|| PolicyError {
            name: name.to_owned(),
            line: 1,
            column: 1,
            offset: 0,
            pointer: String::new(),
            message: "the policy looks URL-encoded but has an invalid `%` escape".into(),
        })?;
        decoded.as_str()
    } else {
        text
    };
    let root = json::parse(text).map_err(|e| {
        let (line, column) = json::line_col(text, e.offset);
        PolicyError {
            name: name.to_owned(),
            line,
            column,
            offset: e.offset,
            pointer: e.pointer,
            message: e.message,
        }
    })?;
    let b = Builder { name, kind, text };
    b.policy(&root)
}

struct Builder<'a> {
    name: &'a str,
    kind: PolicyKind,
    text: &'a str,
}

type R<T> = Result<T, PolicyError>;

impl Builder<'_> {
    fn err(&self, span: Span, pointer: &str, message: impl Into<String>) -> PolicyError {
        let (line, column) = json::line_col(self.text, span.start as usize);
        PolicyError {
            name: self.name.to_owned(),
            line,
            column,
            offset: span.start as usize,
            pointer: pointer.to_owned(),
            message: json::cut_long_values(&message.into()).into_owned(),
        }
    }

    fn object<'n>(&self, node: &'n Node, ptr: &str, what: &str) -> R<&'n [Member]> {
        match &node.value {
            Json::Object(m) => {
                if let Some(i) = json::first_repeated(m, |b| b.key.as_str()) {
                    let a = &m[i];
                    return Err(self.err(
                        a.key_span,
                        &child(ptr, &a.key),
                        format!("`{}` appears twice in {what}", a.key),
                    ));
                }
                Ok(m)
            }
            other => Err(self.err(
                node.span,
                ptr,
                format!("{what} must be an object, found {}", other.type_name()),
            )),
        }
    }

    fn policy(&self, root: &Node) -> R<Policy> {
        let members = self.object(root, "", "a policy document")?;
        let mut version = Version::Missing;
        let mut id = None;
        let mut statement_node = None;
        for m in members {
            let ptr = child("", &m.key);
            match m.key.as_str() {
                "Version" => {
                    version = match &m.value.value {
                        Json::String(s) if s == "2012-10-17" => Version::V2012_10_17,
                        Json::String(s) if s == "2008-10-17" => Version::V2008_10_17,
                        _ => {
                            return Err(self.err(
                                m.value.span,
                                &ptr,
                                "`Version` must be \"2012-10-17\" or \"2008-10-17\"",
                            ));
                        }
                    }
                }
                "Id" => id = Some(self.string(&m.value, &ptr, "`Id`")?.to_owned()),
                "Statement" => statement_node = Some(&m.value),
                other => {
                    return Err(self.err(
                        m.key_span,
                        &ptr,
                        format!("unknown policy element `{other}` (expected `Version`, `Id` or `Statement`)"),
                    ));
                }
            }
        }
        let Some(st) = statement_node else {
            return Err(self.err(root.span, "", "the policy has no `Statement` element"));
        };
        let statements = match &st.value {
            Json::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, n)| self.statement(n, i, &format!("/Statement/{i}"), version))
                .collect::<R<Vec<_>>>()?,
            Json::Object(_) => vec![self.statement(st, 0, "/Statement", version)?],
            other => {
                return Err(self.err(
                    st.span,
                    "/Statement",
                    format!(
                        "`Statement` must be an object or an array of objects, found {}",
                        other.type_name()
                    ),
                ));
            }
        };
        Ok(Policy {
            name: self.name.to_owned(),
            kind: self.kind,
            text: Arc::from(self.text),
            version,
            id,
            action_index: super::ActionIndex::build(&statements),
            statements,
            origin: None,
        })
    }

    fn string<'n>(&self, node: &'n Node, ptr: &str, what: &str) -> R<&'n str> {
        match &node.value {
            Json::String(s) => Ok(s),
            other => Err(self.err(
                node.span,
                ptr,
                format!("{what} must be a string, found {}", other.type_name()),
            )),
        }
    }

    /// A string or an array of strings, as `Action`, `Resource` and principal values are.
    fn strings(&self, node: &Node, ptr: &str, what: &str) -> R<Vec<Located<String>>> {
        let one = |n: &Node, p: String| -> R<Located<String>> {
            let s = self.string(n, &p, what)?;
            Ok(Located {
                value: s.to_owned(),
                raw: s.to_owned(),
                span: n.span,
                pointer: p,
            })
        };
        match &node.value {
            Json::String(_) => Ok(vec![one(node, ptr.to_owned())?]),
            Json::Array(items) if items.is_empty() => {
                Err(self.err(node.span, ptr, format!("{what} must not be an empty array")))
            }
            Json::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, n)| one(n, format!("{ptr}/{i}")))
                .collect(),
            other => Err(self.err(
                node.span,
                ptr,
                format!(
                    "{what} must be a string or an array of strings, found {}",
                    other.type_name()
                ),
            )),
        }
    }

    fn statement(&self, node: &Node, index: usize, ptr: &str, version: Version) -> R<Statement> {
        let members = self.object(node, ptr, "a statement")?;
        let (mut sid, mut effect) = (None, None);
        let (mut principal, mut action, mut resource) = (None, None, None);
        let (mut conditions, mut condition_span) = (Vec::new(), None);
        for m in members {
            let p = child(ptr, &m.key);
            let clash = |other: &str, slot_full: bool| -> R<()> {
                if slot_full {
                    Err(self.err(
                        m.key_span,
                        &p,
                        format!("a statement may have `{other}` or `{}`, not both", m.key),
                    ))
                } else {
                    Ok(())
                }
            };
            match m.key.as_str() {
                "Sid" => sid = Some(self.string(&m.value, &p, "`Sid`")?.to_owned()),
                "Effect" => {
                    effect = Some(match &m.value.value {
                        Json::String(s) if s == "Allow" => (Effect::Allow, m.value.span),
                        Json::String(s) if s == "Deny" => (Effect::Deny, m.value.span),
                        Json::String(s) => {
                            return Err(self.err(
                                m.value.span,
                                &p,
                                format!("`Effect` must be \"Allow\" or \"Deny\", found \"{s}\""),
                            ));
                        }
                        other => {
                            return Err(self.err(
                                m.value.span,
                                &p,
                                format!(
                                    "`Effect` must be \"Allow\" or \"Deny\", found {}",
                                    other.type_name()
                                ),
                            ));
                        }
                    })
                }
                "Principal" | "NotPrincipal" => {
                    let negated = m.key == "NotPrincipal";
                    clash(
                        if negated { "Principal" } else { "NotPrincipal" },
                        principal.is_some(),
                    )?;
                    if !self.kind.allows_principal() {
                        return Err(self.err(
                            m.key_span,
                            &p,
                            format!(
                                "{} must not have `{}`",
                                with_article(self.kind.label()),
                                m.key
                            ),
                        ));
                    }
                    principal = Some(self.principal(&m.value, &p, negated)?);
                }
                "Action" | "NotAction" => {
                    let negated = m.key == "NotAction";
                    clash(
                        if negated { "Action" } else { "NotAction" },
                        action.is_some(),
                    )?;
                    action = Some(self.action(&m.value, &p, negated)?);
                }
                "Resource" | "NotResource" => {
                    let negated = m.key == "NotResource";
                    clash(
                        if negated { "Resource" } else { "NotResource" },
                        resource.is_some(),
                    )?;
                    resource = Some(self.resource(&m.value, &p, negated, version)?);
                }
                "Condition" => {
                    conditions = self.conditions(&m.value, &p, version)?;
                    condition_span = Some(m.value.span);
                }
                other => {
                    return Err(self.err(
                        m.key_span,
                        &p,
                        format!(
                            "unknown statement element `{other}` (expected `Sid`, `Effect`, `Principal`, \
                             `NotPrincipal`, `Action`, `NotAction`, `Resource`, `NotResource` or `Condition`)"
                        ),
                    ));
                }
            }
        }
        let Some((effect, effect_span)) = effect else {
            return Err(self.err(node.span, ptr, "the statement has no `Effect`"));
        };
        let Some(action) = action else {
            return Err(self.err(
                node.span,
                ptr,
                "the statement has no `Action` or `NotAction`",
            ));
        };
        if resource.is_none() && self.kind.needs_resource() {
            return Err(self.err(
                node.span,
                ptr,
                "the statement has no `Resource` or `NotResource`",
            ));
        }
        if principal.is_none() && self.kind.requires_principal() {
            return Err(self.err(
                node.span,
                ptr,
                format!(
                    "a statement in {} needs `Principal` or `NotPrincipal`",
                    with_article(self.kind.label())
                ),
            ));
        }
        Ok(Statement {
            index,
            sid,
            span: node.span,
            pointer: ptr.to_owned(),
            effect,
            effect_span,
            principal,
            action,
            resource,
            conditions,
            condition_span,
        })
    }

    fn action(&self, node: &Node, ptr: &str, negated: bool) -> R<ActionElement> {
        let items = self
            .strings(node, ptr, "`Action`")?
            .into_iter()
            .map(|l| {
                if l.value != "*" && !l.value.contains(':') {
                    return Err(self.err(
                        l.span,
                        &l.pointer,
                        format!(
                            "`{}` is not an action: expected `service:ActionName` or `*`",
                            l.value
                        ),
                    ));
                }
                Ok(Located {
                    value: Glob::new(&l.value.to_ascii_lowercase()),
                    raw: l.raw,
                    span: l.span,
                    pointer: l.pointer,
                })
            })
            .collect::<R<Vec<_>>>()?;
        let matchers = items
            .iter()
            .map(|l| crate::pattern::ActionMatcher::new(&l.value))
            .collect();
        Ok(ActionElement {
            negated,
            span: node.span,
            pointer: ptr.to_owned(),
            items,
            matchers,
        })
    }

    fn resource(
        &self,
        node: &Node,
        ptr: &str,
        negated: bool,
        version: Version,
    ) -> R<ResourceElement> {
        let items = self
            .strings(node, ptr, "`Resource`")?
            .into_iter()
            .map(|l| {
                let template = Template::parse(&l.value, version.allows_variables());
                let value = if l.value == "*" {
                    ResourcePattern::Star
                } else if template.has_variables() {
                    ResourcePattern::Template(template)
                } else if split_arn(&l.value).is_some() || l.value.starts_with("arn:") {
                    ResourcePattern::Arn(super::ArnPattern::new(split_glob_arn(&Glob::new(
                        &l.value,
                    ))))
                } else {
                    ResourcePattern::Other(Glob::new(&l.value))
                };
                Located {
                    value,
                    raw: l.raw,
                    span: l.span,
                    pointer: l.pointer,
                }
            })
            .collect();
        Ok(ResourceElement {
            negated,
            span: node.span,
            pointer: ptr.to_owned(),
            items,
        })
    }

    fn principal(&self, node: &Node, ptr: &str, negated: bool) -> R<PrincipalElement> {
        let mut items = Vec::new();
        match &node.value {
            Json::String(s) if s == "*" => items.push(Located {
                value: PrincipalValue::Any,
                raw: s.clone(),
                span: node.span,
                pointer: ptr.to_owned(),
            }),
            // Not in AWS's grammar, but seen in the wild and accepted by other engines: a bare
            // ARN or account id stands for {"AWS": value}.
            Json::String(s) => items.push(Located {
                value: PrincipalValue::Aws(AwsPrincipal::parse(s)),
                raw: s.clone(),
                span: node.span,
                pointer: ptr.to_owned(),
            }),
            Json::Object(_) => {
                for m in self.object(node, ptr, "`Principal`")? {
                    let p = child(ptr, &m.key);
                    for l in self.strings(&m.value, &p, &format!("`{}` principal", m.key))? {
                        let value = match m.key.as_str() {
                            "AWS" if l.value == "*" => PrincipalValue::Any,
                            "AWS" => PrincipalValue::Aws(AwsPrincipal::parse(&l.value)),
                            "Service" => PrincipalValue::Service(l.value.clone()),
                            "Federated" => PrincipalValue::Federated(l.value.clone()),
                            "CanonicalUser" => PrincipalValue::CanonicalUser(l.value.clone()),
                            other => {
                                return Err(self.err(
                                    m.key_span,
                                    &p,
                                    format!(
                                        "unknown principal type `{other}` (expected `AWS`, `Service`, \
                                         `Federated` or `CanonicalUser`)"
                                    ),
                                ));
                            }
                        };
                        items.push(Located {
                            value,
                            raw: l.raw,
                            span: l.span,
                            pointer: l.pointer,
                        });
                    }
                }
            }
            other => {
                return Err(self.err(
                    node.span,
                    ptr,
                    format!(
                        "`Principal` must be \"*\" or an object, found {}",
                        other.type_name()
                    ),
                ));
            }
        }
        Ok(PrincipalElement {
            negated,
            span: node.span,
            pointer: ptr.to_owned(),
            items,
        })
    }

    fn conditions(&self, node: &Node, ptr: &str, version: Version) -> R<Vec<Condition>> {
        let mut out = Vec::new();
        for op_m in self.object(node, ptr, "`Condition`")? {
            let op_ptr = child(ptr, &op_m.key);
            let op =
                Operator::parse(&op_m.key).map_err(|msg| self.err(op_m.key_span, &op_ptr, msg))?;
            let keys = self.object(&op_m.value, &op_ptr, &format!("the `{}` block", op_m.key))?;
            if keys.is_empty() {
                return Err(self.err(
                    op_m.value.span,
                    &op_ptr,
                    format!("the `{}` block has no condition keys", op_m.key),
                ));
            }
            for key_m in keys {
                let key_ptr = child(&op_ptr, &key_m.key);
                let values = self.condition_values(&key_m.value, &key_ptr)?;
                let values = values
                    .into_iter()
                    .map(|l| Located {
                        value: CondValue::compile(op.base, &l.value, version.allows_variables()),
                        raw: l.raw,
                        span: l.span,
                        pointer: l.pointer,
                    })
                    .collect();
                out.push(Condition {
                    op,
                    op_span: op_m.key_span,
                    op_pointer: op_ptr.clone(),
                    key: key_m.key.clone(),
                    key_lower: key_m.key.to_ascii_lowercase(),
                    key_hash: crate::context::key_hash(&key_m.key.to_ascii_lowercase()),
                    key_span: key_m.key_span,
                    key_pointer: key_ptr,
                    values,
                });
            }
        }
        Ok(out)
    }

    /// Condition values: a string, number or boolean, or an array of them.
    fn condition_values(&self, node: &Node, ptr: &str) -> R<Vec<Located<String>>> {
        let scalar = |n: &Node, p: String| -> R<Located<String>> {
            let s = match &n.value {
                Json::String(s) => s.clone(),
                Json::Number(s) => s.to_string(),
                Json::Bool(b) => b.to_string(),
                other => {
                    return Err(self.err(
                        n.span,
                        &p,
                        format!(
                            "a condition value must be a string, number or boolean, found {}",
                            other.type_name()
                        ),
                    ));
                }
            };
            Ok(Located {
                raw: s.clone(),
                value: s,
                span: n.span,
                pointer: p,
            })
        };
        match &node.value {
            Json::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, n)| scalar(n, format!("{ptr}/{i}")))
                .collect(),
            _ => Ok(vec![scalar(node, ptr.to_owned())?]),
        }
    }
}

fn child(ptr: &str, key: &str) -> String {
    format!("{ptr}/{}", escape_pointer_token(key))
}

#[cfg(test)]
mod tests;

fn with_article(label: &str) -> String {
    let article = if label.starts_with(['a', 'e', 'i', 'o', 'u', 'A', 'E', 'I', 'O', 'U']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {label}")
}
