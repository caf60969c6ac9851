//! Statement matching (Action, Resource, Principal, Condition) and the layered decision.

use super::public::is_public_statement;
use super::{
    Blocked, Decision, Evaluation, Grant, Layer, LayerResult, Outcome, PolicySet, Request,
    RequestPrincipal, StatementRef, StatementTrace,
};
use crate::condition::CondResult;
use crate::pattern::{arn_match, split_glob_arn};
use crate::policy::{AwsPrincipal, Effect, Policy, PrincipalValue, ResourcePattern, Statement};

/// The statement element that decided a miss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Element {
    /// `Action` or `NotAction`.
    Action,
    /// `Resource` or `NotResource`.
    Resource,
    /// `Principal` or `NotPrincipal`.
    Principal,
    /// The condition at this index of [`Statement::conditions`].
    Condition(u16),
}

/// Why an element did not match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissWhy {
    /// `Action`/`Resource`/`Principal`: no value matched the request.
    NoValueMatched,
    /// `NotAction`/`NotResource`/`NotPrincipal`: the value at this index matched, so the
    /// request is excluded.
    Excluded(u16),
    /// The action supports no resource types; only `"*"` matches it.
    WildcardOnlyAction,
    /// A policy variable in the Resource could not be resolved.
    Unresolved,
    /// The condition was false.
    Condition(CondResult),
}

/// The first element that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Miss {
    /// The element, checked in the order `Action`, `Principal`, `Resource`, conditions.
    pub element: Element,
    /// Why it did not match.
    pub why: MissWhy,
}

/// Whether a statement applies to the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// Every element matches: the statement's effect applies.
    Applies,
    /// The first element that did not match.
    Miss(Miss),
}

fn miss(element: Element, why: MissWhy) -> Match {
    Match::Miss(Miss { element, why })
}

/// The `Action`/`NotAction` miss of a statement, if the action is not one it covers.
/// `action_named`: the action index found the action among the statement's exact `Action`
/// values, so it matches without another look.
pub(crate) fn action_miss(st: &Statement, req: &Request, action_named: bool) -> Option<Miss> {
    let key = req.action_key();
    let hit = if action_named {
        Some(0)
    } else {
        st.action.matchers.iter().position(|m| m.matches(key))
    };
    match (st.action.negated, hit) {
        (false, None) => Some(Miss {
            element: Element::Action,
            why: MissWhy::NoValueMatched,
        }),
        (true, Some(i)) => Some(Miss {
            element: Element::Action,
            why: MissWhy::Excluded(i as u16),
        }),
        _ => None,
    }
}

/// Matches the elements after `Action` (which the caller has matched).
fn match_rest(st: &Statement, req: &Request, has_boundary: bool) -> (Match, Grant) {
    // Principal / NotPrincipal.
    let mut grant = Grant::None;
    if let Some(p) = &st.principal {
        if p.negated {
            // With Deny, principals with a permissions boundary are never excluded.
            let excluded = match st.effect {
                Effect::Deny if has_boundary => None,
                Effect::Deny => {
                    not_principal_deny_excludes(p.items.iter().map(|l| &l.value), &req.principal)
                }
                Effect::Allow => {
                    not_principal_excludes(p.items.iter().map(|l| &l.value), &req.principal)
                }
            };
            if let Some(i) = excluded {
                return (miss(Element::Principal, MissWhy::Excluded(i)), Grant::None);
            }
            grant = Grant::Star;
        } else {
            for l in &p.items {
                grant = grant.max(principal_grant(&l.value, &req.principal));
            }
            if grant == Grant::None {
                return (
                    miss(Element::Principal, MissWhy::NoValueMatched),
                    Grant::None,
                );
            }
            let names_principal_arn = st.conditions.iter().any(|c| {
                c.key_lower == "aws:principalarn" && !c.op.base.is_negated() && c.op.set.is_none()
            });
            if names_principal_arn {
                // `"*"` narrowed by `aws:PrincipalArn` grants like a session ARN; an account
                // narrowed by it grants like the role ARN (docs/aws-model.md#resource-grant-kinds).
                if grant == Grant::Star {
                    grant = Grant::StarPrincipalArn;
                } else if grant == Grant::Account {
                    grant = Grant::RoleArn;
                }
            }
        }
    }
    // Resource / NotResource.
    if let Some(r) = &st.resource {
        let mut unresolved = false;
        let hit = r.items.iter().position(|l| {
            if req.wildcard_only_action {
                return l.value == ResourcePattern::Star;
            }
            match resource_matches(&l.value, req) {
                Some(m) => m,
                None => {
                    unresolved = true;
                    false
                }
            }
        });
        match (r.negated, hit) {
            (false, None) => {
                let why = if req.wildcard_only_action {
                    MissWhy::WildcardOnlyAction
                } else if unresolved {
                    MissWhy::Unresolved
                } else {
                    MissWhy::NoValueMatched
                };
                return (miss(Element::Resource, why), Grant::None);
            }
            (true, Some(i)) => {
                return (
                    miss(Element::Resource, MissWhy::Excluded(i as u16)),
                    Grant::None,
                );
            }
            _ => {}
        }
    }
    // Conditions: all must hold.
    for (i, c) in st.conditions.iter().enumerate() {
        let r = c.evaluate(&req.context);
        if !r.holds {
            return (
                miss(Element::Condition(i as u16), MissWhy::Condition(r)),
                Grant::None,
            );
        }
    }
    (Match::Applies, grant)
}

fn resource_matches(p: &ResourcePattern, req: &Request) -> Option<bool> {
    Some(match p {
        ResourcePattern::Star => true,
        ResourcePattern::Arn(segs) => match (segs.len(), req.resource_ranges()) {
            (6, Some(ranges)) => segs.matches_ranges(&req.resource, ranges),
            _ => arn_match(segs, &req.resource),
        },
        ResourcePattern::Other(g) => g.matches(&req.resource),
        ResourcePattern::Template(t) => {
            let g = t.to_glob(&req.context).ok()?;
            if req.resource.starts_with("arn:") {
                arn_match(&split_glob_arn(&g), &req.resource)
            } else {
                g.matches(&req.resource)
            }
        }
    })
}

/// How a `Principal` value grants to the caller.
fn principal_grant(v: &PrincipalValue, who: &RequestPrincipal) -> Grant {
    match (v, who) {
        (PrincipalValue::Any, _) => Grant::Star,
        (PrincipalValue::Service(s), RequestPrincipal::Service(t)) if s.eq_ignore_ascii_case(t) => {
            Grant::Service
        }
        (PrincipalValue::Aws(p), RequestPrincipal::Aws(caller)) => aws_grant(p, caller),
        _ => Grant::None,
    }
}

fn aws_grant(p: &AwsPrincipal, caller: &AwsPrincipal) -> Grant {
    use AwsPrincipal as A;
    match (p, caller) {
        (A::Account { account }, c) if c.account() == Some(account) => Grant::Account,
        (A::User { arn, .. }, A::User { arn: c, .. }) if arn == c => Grant::UserArn,
        (A::Role { arn, .. }, A::Role { arn: c, .. }) if arn == c => Grant::RoleArn,
        // A session of the role: the session ARN carries the role name but not its path.
        (
            A::Role { account, name, .. },
            A::AssumedRole {
                account: ca,
                role_name,
                ..
            },
        ) if account == ca && name == role_name => Grant::RoleArn,
        (A::AssumedRole { arn, .. }, A::AssumedRole { arn: c, .. }) if arn == c => {
            Grant::SessionArn
        }
        (A::FederatedUser { arn, .. }, A::FederatedUser { arn: c, .. }) if arn == c => {
            Grant::SessionArn
        }
        (A::Other { value }, c) if c_arn(c) == Some(value.as_str()) => Grant::SessionArn,
        _ => Grant::None,
    }
}

fn c_arn(c: &AwsPrincipal) -> Option<&str> {
    match c {
        AwsPrincipal::User { arn, .. }
        | AwsPrincipal::Role { arn, .. }
        | AwsPrincipal::AssumedRole { arn, .. }
        | AwsPrincipal::FederatedUser { arn, .. } => Some(arn),
        AwsPrincipal::Other { value } => Some(value),
        AwsPrincipal::Account { .. } => None,
    }
}

/// `NotPrincipal` with `Deny`: AWS checks each identity in the caller's chain (its account,
/// then its role for a role session, then the caller itself) and denies unless every one is
/// listed. Returns the index of the value naming the caller itself (or the account, for the
/// root user).
fn not_principal_deny_excludes<'a>(
    items: impl Iterator<Item = &'a PrincipalValue> + Clone,
    who: &RequestPrincipal,
) -> Option<u16> {
    let find =
        |pred: &dyn Fn(&PrincipalValue) -> bool| items.clone().position(pred).map(|i| i as u16);
    if let Some(i) = find(&|v| *v == PrincipalValue::Any) {
        return Some(i);
    }
    match who {
        RequestPrincipal::Anonymous => None,
        RequestPrincipal::Service(s) => {
            find(&|v| matches!(v, PrincipalValue::Service(t) if t.eq_ignore_ascii_case(s)))
        }
        RequestPrincipal::Aws(caller) => {
            let account = caller.account()?;
            let acct = find(
                &|v| matches!(v, PrincipalValue::Aws(AwsPrincipal::Account { account: a }) if a == account),
            )?;
            let exact = |v: &PrincipalValue| matches!(v, PrincipalValue::Aws(p) if c_arn(p).is_some() && c_arn(p) == c_arn(caller));
            match caller {
                AwsPrincipal::Account { .. } => Some(acct),
                AwsPrincipal::AssumedRole { .. } => {
                    find(
                        &|v| matches!(v, PrincipalValue::Aws(p @ AwsPrincipal::Role { .. }) if aws_grant(p, caller) == Grant::RoleArn),
                    )?;
                    find(&exact)
                }
                _ => find(&exact),
            }
        }
    }
}

/// `NotPrincipal` with `Allow` (which AWS does not support for most services): the caller is
/// excluded when a value names it: `*`, its account, its role
/// (for a role session) or its own ARN. Returns the index of that value.
fn not_principal_excludes<'a>(
    mut items: impl Iterator<Item = &'a PrincipalValue>,
    who: &RequestPrincipal,
) -> Option<u16> {
    items
        .position(|v| principal_grant(v, who) != Grant::None)
        .map(|i| i as u16)
}

fn trace_policy(
    policy: &Policy,
    req: &Request,
    at: StatementRef,
    has_boundary: bool,
    out: &mut Vec<StatementTrace>,
) -> (bool, bool) {
    let (mut deny, mut allow) = (false, false);
    let candidates = policy.action_index.candidates(req.action_key());
    // Statements outside the candidates name no value that matches the action (the index holds
    // every exact pattern); they are not looked at. Only statements whose `Action` matches are
    // recorded: [`Evaluation::statements`] works out the `Action` misses when asked.
    for i in candidates.iter(policy.statements.len()) {
        let st = &policy.statements[i];
        if action_miss(st, req, candidates.is_exact(i)).is_some() {
            continue;
        }
        let (result, grant) = match_rest(st, req, has_boundary);
        if matches!(result, Match::Applies) {
            match st.effect {
                Effect::Deny => deny = true,
                Effect::Allow => allow = true,
            }
        }
        out.push(StatementTrace {
            at: StatementRef {
                statement: i as u16,
                ..at
            },
            effect: st.effect,
            result,
            grant,
        });
    }
    (deny, allow)
}

fn layer<'p>(
    layer: Layer,
    level: u16,
    policies: impl Iterator<Item = &'p Policy>,
    req: &Request,
    has_boundary: bool,
    out: &mut Vec<StatementTrace>,
) -> LayerResult {
    let start = out.len() as u32;
    let (mut deny, mut allow) = (false, false);
    for (pi, p) in policies.enumerate() {
        let at = StatementRef {
            layer,
            level,
            policy: pi as u16,
            statement: 0,
        };
        let (d, a) = trace_policy(p, req, at, has_boundary, out);
        deny |= d;
        allow |= a;
    }
    let outcome = if deny {
        Outcome::ExplicitDeny
    } else if allow {
        Outcome::Allow
    } else {
        Outcome::ImplicitDeny
    };
    LayerResult {
        layer,
        level,
        outcome,
        allow_applies: allow,
        examined: (start, out.len() as u32),
    }
}

pub(crate) fn evaluate(set: &PolicySet, req: &Request) -> Evaluation {
    let has_boundary = set.boundary.is_some();
    let mut layers = Vec::with_capacity(8);
    let mut examined = Vec::with_capacity(32);
    let out = &mut examined;
    let is_aws = matches!(req.principal, RequestPrincipal::Aws(_));
    // SCPs restrict the organization's own principals only: never anonymous callers or
    // AWS service principals.
    if is_aws {
        for (i, level) in set.scp.iter().enumerate() {
            layers.push(layer(
                Layer::Scp,
                i as u16,
                level.iter(),
                req,
                has_boundary,
                out,
            ));
        }
    }
    for (i, level) in set.rcp.iter().enumerate() {
        layers.push(layer(
            Layer::Rcp,
            i as u16,
            level.iter(),
            req,
            has_boundary,
            out,
        ));
    }
    for (i, p) in set.vpc_endpoint.iter().flatten().enumerate() {
        let one = std::iter::once(p);
        layers.push(layer(
            Layer::VpcEndpoint,
            i as u16,
            one,
            req,
            has_boundary,
            out,
        ));
    }
    if let Some(p) = &set.resource {
        let one = std::iter::once(p);
        layers.push(layer(Layer::Resource, 0, one, req, has_boundary, out));
    }
    let ids = set.identity.iter();
    layers.push(layer(Layer::Identity, 0, ids, req, has_boundary, out));
    if let Some(b) = &set.boundary {
        layers.push(layer(Layer::Boundary, 0, b.iter(), req, has_boundary, out));
    }
    if let Some(s) = &set.session {
        let one = std::iter::once(s);
        layers.push(layer(Layer::Session, 0, one, req, has_boundary, out));
    }

    let mut eval = Evaluation {
        decision: Decision::Allowed,
        layers,
        examined,
        grant: Grant::None,
        grant_from_acl: false,
        public_access_restricted: false,
        blocked_by: Vec::new(),
        also_blocked_by: Vec::new(),
        deciding: Vec::new(),
    };

    // 1. An explicit deny in any layer decides. The gates below are still worked out, into
    //    `also_blocked_by`: what would refuse the request were the denies removed.
    let explicit = eval
        .layers
        .iter()
        .any(|l| l.outcome == Outcome::ExplicitDeny);
    if explicit {
        eval.decision = Decision::ExplicitlyDenied;
        eval.deciding = deciding_of(&eval, Outcome::ExplicitDeny);
    }

    // 2. Resources that AWS owns (AWS managed policies, IAM Identity Center roles, AWS managed
    //    key aliases) cannot be changed by any policy.
    let mut blocked = Vec::new();
    if super::managed::aws_managed_write(req) {
        blocked.push(Blocked {
            layer: Layer::AwsManaged,
            level: 0,
        });
    }

    // 3. Gates that need an Allow at every level: SCPs, RCPs, VPC endpoint policies.
    for l in &eval.layers {
        let gate = match l.layer {
            Layer::Scp => is_aws,
            Layer::Rcp | Layer::VpcEndpoint => true,
            _ => false,
        };
        // Were the denies gone, would this level allow? (The question a missing Allow answers.)
        if gate && !l.allow_applies {
            blocked.push(Blocked {
                layer: l.layer,
                level: l.level,
            });
        }
    }

    // 4. The resource side: the strongest grant among the resource policy's applicable Allows.
    let resource_layer = eval.layer(Layer::Resource, 0);
    let grant = resource_layer
        .map(|l| {
            eval.examined(l)
                .iter()
                .filter(|s| s.effect == Effect::Allow && matches!(s.result, Match::Applies))
                .map(|s| s.grant)
                .max()
                .unwrap_or(Grant::None)
        })
        .unwrap_or(Grant::None);
    if set.restrict_public_buckets
        && grant != Grant::None
        && let Some(rp) = &set.resource
        && rp.statements.iter().any(is_public_statement)
    {
        // RestrictPublicBuckets: a public policy only serves service principals and the
        // owner account's own principals.
        let owner_side = match &req.principal {
            RequestPrincipal::Service(_) => true,
            RequestPrincipal::Anonymous => false,
            RequestPrincipal::Aws(_) => !req.is_cross_account(),
        };
        if !owner_side && explicit {
            // Refused whatever else allows.
            blocked.push(Blocked {
                layer: Layer::BlockPublicAccess,
                level: 0,
            });
            eval.also_blocked_by = blocked;
            return eval;
        } else if !owner_side {
            // A hard rejection, reported as an explicit denial.
            eval.grant = grant;
            eval.public_access_restricted = true;
            eval.decision = Decision::ExplicitlyDenied;
            eval.blocked_by = vec![Blocked {
                layer: Layer::BlockPublicAccess,
                level: 0,
            }];
            return eval;
        }
    }
    let grant = if set.acl_grant > grant {
        eval.grant_from_acl = !explicit;
        set.acl_grant
    } else {
        grant
    };
    if !explicit {
        eval.grant = grant;
    }
    // KMS key policies and role trust policies must grant explicitly, even within the account.
    let explicit_grant_needed = super::managed::needs_explicit_resource_grant(req);

    // Whether a layer allows, its denies aside: with an explicit deny this works out what
    // would still refuse were the denies removed (`also_blocked_by`).
    let allows = |layer: Layer| eval.layer(layer, 0).is_some_and(|l| l.allow_applies);
    let bnd = set.boundary.is_none() || allows(Layer::Boundary);
    // A federated-user session (GetFederationToken) has no permissions without a session
    // policy; a role session without one keeps its role's permissions.
    let federated = matches!(
        req.principal,
        RequestPrincipal::Aws(AwsPrincipal::FederatedUser { .. })
    );
    let ses = match &set.session {
        Some(_) => allows(Layer::Session),
        None => !federated,
    };
    let idp = req.principal.is_root() || allows(Layer::Identity);
    let mut need = |layer: Layer, ok: bool| {
        if !ok {
            blocked.push(Blocked { layer, level: 0 });
        }
    };
    match &req.principal {
        // A `"*"` narrowed by `aws:PrincipalArn` matched an anonymous or service caller only
        // if its condition held without the key (`…IfExists`): it grants them as `"*"` does.
        RequestPrincipal::Anonymous => need(
            Layer::Resource,
            matches!(grant, Grant::Star | Grant::StarPrincipalArn),
        ),
        RequestPrincipal::Service(_) => need(
            Layer::Resource,
            matches!(
                grant,
                Grant::Service | Grant::Star | Grant::StarPrincipalArn
            ),
        ),
        RequestPrincipal::Aws(_) if !req.is_cross_account() => match grant {
            Grant::UserArn
            | Grant::SessionArn
            | Grant::StarPrincipalArn
            | Grant::Star
            | Grant::Service => {}
            Grant::RoleArn => {
                need(Layer::Boundary, bnd);
                need(Layer::Session, ses);
            }
            Grant::Account | Grant::None => {
                if explicit_grant_needed {
                    need(Layer::Resource, grant != Grant::None);
                }
                need(Layer::Identity, idp);
                need(Layer::Boundary, bnd);
                need(Layer::Session, ses);
            }
        },
        RequestPrincipal::Aws(_) => {
            need(Layer::Resource, grant != Grant::None);
            need(Layer::Identity, idp);
            need(Layer::Boundary, bnd);
            need(Layer::Session, ses);
        }
    }

    if explicit {
        eval.also_blocked_by = blocked;
        return eval;
    }
    if !blocked.is_empty() {
        eval.decision = Decision::ImplicitlyDenied;
        eval.blocked_by = blocked;
        return eval;
    }
    eval.deciding = deciding_of(&eval, Outcome::Allow);
    eval
}

/// The statements that applied in the layers with this outcome, in layer order.
fn deciding_of(eval: &Evaluation, outcome: Outcome) -> Vec<StatementRef> {
    let mut out = Vec::with_capacity(8);
    for l in eval.layers.iter().filter(|l| l.outcome == outcome) {
        out.extend(eval.deciding_in(l).map(|s| s.at));
    }
    out
}
