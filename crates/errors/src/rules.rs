//! What an error message says about each rule of the registry: which message forms point to
//! each rule's cause comes from the rule itself (`service`, `actions` and `messages` in
//! `declare_rule!`), so `explain` speaks of exactly the rules of the running program, an
//! organization's included.

use serde::Serialize;

use super::Parsed;
use why403_core::rule::explains::{Service, Trigger};
use why403_core::rule::{Registry, RuleLayer, RuleMeta};

/// What a message says about a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleStatus {
    /// The message names this cause (with others, when several rules share the form).
    RuledIn,
    /// The message fits this cause but does not show it (the generic message).
    Possible,
    /// The message shows this cause does not apply.
    RuledOut,
}

/// A rule and what the message says about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleHint {
    /// The rule's scope (`builtin` for the rules shipped with why403).
    pub scope: &'static str,
    /// The rule's id, e.g. `bucket-policy-explicit-deny`.
    pub id: &'static str,
    /// Whether the message rules the rule's cause in, leaves it possible, or rules it out.
    pub status: RuleStatus,
    /// Why, in one lower-case sentence.
    pub why: String,
}

fn service_of(action: Option<&str>) -> Option<Service> {
    let a = action?.to_ascii_lowercase();
    if a.starts_with("s3:") {
        Some(Service::S3)
    } else if a.starts_with("kms:") {
        Some(Service::Kms)
    } else {
        None
    }
}

fn fits_action(e: &RuleMeta, action: Option<&str>) -> bool {
    let service_ok = match (e.service, service_of(action)) {
        (Service::Any, _) | (_, None) => true,
        (s, Some(a)) => s == a,
    };
    let action_ok = match action {
        Some(a) if !e.actions.is_empty() => e.actions.iter().any(|x| x.eq_ignore_ascii_case(a)),
        _ => true,
    };
    service_ok && action_ok
}

/// Whether every message form of the rule is an explicit deny (and there is one).
fn only_explicit(e: &RuleMeta) -> bool {
    !e.messages.is_empty()
        && e.messages.iter().all(|t| {
            matches!(
                t,
                Trigger::Deny {
                    explicit: Some(true),
                    ..
                }
            )
        })
}

/// What the message says about each rule of `registry`; rules it says nothing about are left
/// out. Sorted by status, then scope and id.
pub(super) fn hints(p: &Parsed, registry: &Registry) -> Vec<RuleHint> {
    let action = p.action.as_deref();
    let mut out = Vec::new();
    for r in registry.rules() {
        if let Some(h) = hint(r.meta(), p, action) {
            out.push(h);
        }
    }
    out.sort_by(|a, b| (a.status, a.scope, a.id).cmp(&(b.status, b.scope, b.id)));
    out
}

/// Whether the message's resource ARN is an access point's (`...:accesspoint/...`), or the
/// bucket's (`arn:aws:s3:::...`); `None` without a resource ARN of either form.
fn names_access_point(p: &Parsed) -> Option<bool> {
    let r = p.resource.as_deref()?;
    if !r.starts_with("arn:") {
        return None;
    }
    if r.contains(":accesspoint/") {
        Some(true)
    } else if r.contains(":s3:::") {
        Some(false)
    } else {
        None
    }
}

fn hint(e: &'static RuleMeta, p: &Parsed, action: Option<&str>) -> Option<RuleHint> {
    let a = action
        .map(|a| format!("`{a}`"))
        .unwrap_or_else(|| "the action".to_owned());
    let ruled = |status, why: String| {
        Some(RuleHint {
            scope: e.scope,
            id: e.id,
            status,
            why,
        })
    };
    // A request through an access point is refused on the access point's ARN; a message that
    // names the bucket's ARN was not (docs/errors.md, Access points).
    if e.layer == RuleLayer::AccessPoint && names_access_point(p) == Some(false) {
        return ruled(
            RuleStatus::RuledOut,
            "the message names the bucket's ARN, not an access point's: the request did not go through an access point".to_owned(),
        );
    }
    for t in e.messages {
        match *t {
            Trigger::Code(c) if p.code.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(c)) => {
                return ruled(RuleStatus::RuledIn, format!("the error code is `{c}`"));
            }
            Trigger::Special(s) if p.special == Some(s) && fits_action(e, action) => {
                return ruled(
                    RuleStatus::RuledIn,
                    format!("the message gives the {} reason", s.words()),
                );
            }
            Trigger::Deny { policy, explicit }
                if p.policy_type == Some(policy) && fits_action(e, action) =>
            {
                let matches = match (explicit, p.explicit) {
                    (None, _) => true,
                    (Some(want), Some(got)) => want == got,
                    (Some(_), None) => false,
                };
                if matches {
                    let how = match p.explicit {
                        Some(true) => format!("an explicit deny in a {}", policy.words()),
                        Some(false) => format!("that no {} allows {a}", policy.words()),
                        None => format!("a {}", policy.words()),
                    };
                    return ruled(RuleStatus::RuledIn, format!("the message reports {how}"));
                }
            }
            Trigger::Generic if p.details.generic && fits_action(e, action) => {
                return ruled(
                    RuleStatus::Possible,
                    "the generic message fits this cause, typical of callers from another account"
                        .to_owned(),
                );
            }
            _ => {}
        }
    }
    if service_of(action) == Some(Service::Kms) && e.service == Service::S3 {
        return ruled(
            RuleStatus::RuledOut,
            format!(
                "the refused action is {a}: S3 had already authorized the upload and was calling KMS for it"
            ),
        );
    }
    if p.explicit == Some(false) && only_explicit(e) && fits_action(e, action) {
        return ruled(
            RuleStatus::RuledOut,
            format!("the message reports an implicit deny, so no policy explicitly denies {a}"),
        );
    }
    None
}
