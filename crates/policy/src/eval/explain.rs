//! Plain-words explanations of why a statement did not apply, rendered on demand from the
//! compact [`Miss`] the evaluator records.

use super::matching::{Element, Match, Miss, MissWhy};
use super::{Evaluation, PolicySet, Request, StatementTrace};
use crate::condition::{CondWhy, SetOp};
use crate::json::Span;
use crate::policy::Statement;

/// Where a miss points in the policy text, and what to say about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissExplanation {
    /// Byte range in the policy text to mark: the `NotAction` or `NotResource` value that
    /// excluded the request, else the element (or the condition's key) that failed.
    pub span: Span,
    /// JSON pointer of the same place.
    pub pointer: String,
    /// Why the statement did not apply, in one sentence.
    pub message: String,
}

impl Evaluation {
    /// Explains every statement that did not apply, in layer order.
    pub fn explain_misses<'a>(
        &'a self,
        set: &'a PolicySet,
        req: &'a Request,
    ) -> impl Iterator<Item = (StatementTrace, MissExplanation)> + 'a {
        self.layers
            .iter()
            .flat_map(move |l| self.statements(set, req, l))
            .filter_map(move |t| {
                let Match::Miss(m) = t.result else {
                    return None;
                };
                let st = set.policy(t.at)?.statements.get(t.at.statement as usize)?;
                Some((t, explain_miss(st, &m, req)))
            })
    }
}

/// Explains why `st` did not apply to `req`.
pub fn explain_miss(st: &Statement, m: &Miss, req: &Request) -> MissExplanation {
    match m.element {
        Element::Action => {
            let a = &st.action;
            let message = match m.why {
                MissWhy::Excluded(i) => format!(
                    "`NotAction` lists `{}`, which matches the action `{}`",
                    a.items[i as usize].raw, req.action
                ),
                _ => format!("no `Action` value matches the action `{}`", req.action),
            };
            let (span, pointer) = match m.why {
                MissWhy::Excluded(i) => (
                    a.items[i as usize].span,
                    a.items[i as usize].pointer.clone(),
                ),
                _ => (a.span, a.pointer.clone()),
            };
            MissExplanation {
                span,
                pointer,
                message,
            }
        }
        Element::Resource => {
            let Some(r) = &st.resource else {
                return MissExplanation {
                    span: st.span,
                    pointer: st.pointer.clone(),
                    message: "no resource".into(),
                };
            };
            let message = match m.why {
                MissWhy::Excluded(i) => format!(
                    "`NotResource` lists `{}`, which matches the resource `{}`",
                    r.items[i as usize].raw, req.resource
                ),
                MissWhy::WildcardOnlyAction => format!(
                    "the action `{}` supports no resource types, so only `\"Resource\": \"*\"` matches it",
                    req.action
                ),
                MissWhy::Unresolved => {
                    "a policy variable in `Resource` has no value in this request, so it matches nothing".into()
                }
                _ => format!("no `Resource` value matches the resource `{}`", req.resource),
            };
            let (span, pointer) = match m.why {
                MissWhy::Excluded(i) => (
                    r.items[i as usize].span,
                    r.items[i as usize].pointer.clone(),
                ),
                _ => (r.span, r.pointer.clone()),
            };
            MissExplanation {
                span,
                pointer,
                message,
            }
        }
        Element::Principal => {
            let Some(p) = &st.principal else {
                return MissExplanation {
                    span: st.span,
                    pointer: st.pointer.clone(),
                    message: "no principal".into(),
                };
            };
            let who = req.principal.arn().map_or_else(
                || match &req.principal {
                    super::RequestPrincipal::Anonymous => "an anonymous caller".to_owned(),
                    super::RequestPrincipal::Service(s) => format!("`{s}`"),
                    super::RequestPrincipal::Aws(a) => {
                        format!("the root user of `{}`", a.account().unwrap_or("?"))
                    }
                },
                |a| format!("`{a}`"),
            );
            let message = match m.why {
                MissWhy::Excluded(i) => {
                    format!(
                        "`NotPrincipal` lists `{}`, which excludes {who}",
                        p.items[i as usize].raw
                    )
                }
                _ => format!("`Principal` does not name {who}"),
            };
            MissExplanation {
                span: p.span,
                pointer: p.pointer.clone(),
                message,
            }
        }
        Element::Condition(i) => {
            let c = &st.conditions[i as usize];
            let key = &c.key;
            let request_values = req
                .context
                .get_lower(&c.key_lower)
                .map(|v| v.values.clone())
                .unwrap_or_default();
            let shown = request_values
                .iter()
                .map(|v| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let message = match m.why {
                MissWhy::Condition(r) => match r.why {
                    CondWhy::KeyAbsent | CondWhy::KeyEmpty => {
                        let absent = if r.why == CondWhy::KeyAbsent {
                            "absent"
                        } else {
                            "empty"
                        };
                        if c.op.set == Some(SetOp::ForAnyValue) {
                            format!(
                                "key `{key}` is {absent} from the request, so `{}` is false",
                                c.op
                            )
                        } else if c.op.base == crate::condition::BaseOp::Null {
                            format!(
                                "key `{key}` is {absent} from the request, so `Null` with `false` is false"
                            )
                        } else {
                            format!(
                                "key `{key}` is {absent} from the request, so `{}` is false",
                                c.op
                            )
                        }
                    }
                    CondWhy::Matched(v) => format!(
                        "`{}` is false: the request's `{key}` ({shown}) matches `{}`",
                        c.op,
                        c.values.get(v).map_or("", |x| x.raw.as_str())
                    ),
                    CondWhy::NoMatch if c.op.base == crate::condition::BaseOp::Null => {
                        format!("key `{key}` is present ({shown}), so `Null` with `true` is false")
                    }
                    CondWhy::NoMatch => {
                        format!(
                            "`{}` is false: the request's `{key}` ({shown}) matches no listed value",
                            c.op
                        )
                    }
                    CondWhy::ValueOutsideSet(v) => format!(
                        "`{}` is false: the request value `{}` of `{key}` is not in the listed set",
                        c.op,
                        request_values.get(v).map_or("", String::as_str)
                    ),
                    CondWhy::Incomparable => format!(
                        "`{}` is false: the request's `{key}` ({shown}) cannot be compared with the listed values \
                         (a policy variable without a value, or a value of the wrong type)",
                        c.op
                    ),
                },
                _ => format!("`{}` on `{key}` is false", c.op),
            };
            MissExplanation {
                span: c.key_span,
                pointer: c.key_pointer.clone(),
                message,
            }
        }
    }
}

/// Explains why a condition held for the request (for a Deny that applied).
pub fn explain_condition_holds(
    c: &crate::condition::Condition,
    ctx: &crate::context::RequestContext,
) -> String {
    let key = &c.key;
    let values = ctx
        .get_lower(&c.key_lower)
        .map(|v| v.values.clone())
        .unwrap_or_default();
    let shown = values
        .iter()
        .map(|v| format!("`{v}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let listed = c
        .values
        .iter()
        .map(|v| format!("`{}`", v.raw))
        .collect::<Vec<_>>()
        .join(", ");
    // `Null` tests presence: say whether the key is there, not what it "matches".
    if c.op.base == crate::condition::BaseOp::Null {
        return if values.is_empty() {
            format!("the request has no `{key}`, so `Null` is true")
        } else {
            format!("the request has `{key}` ({shown}), so `Null` is false")
        };
    }
    let r = c.evaluate(ctx);
    match r.why {
        CondWhy::KeyAbsent | CondWhy::KeyEmpty => {
            format!("the request has no `{key}`, so `{}` is true", c.op)
        }
        CondWhy::Matched(i) if !c.op.base.is_negated() => format!(
            "the request's `{key}` ({shown}) matches `{}`",
            c.values.get(i).map_or("", |v| v.raw.as_str())
        ),
        _ => format!("the request's `{key}` ({shown}) is none of {listed}"),
    }
}
