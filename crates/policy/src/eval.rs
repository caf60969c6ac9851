//! AWS's layered authorization decision (docs/aws-model.md#policy-evaluation): explicit deny anywhere; SCP and RCP
//! levels that must each allow; VPC endpoint policies; the resource-based policy with its
//! same-account grant kinds; identity policies; permissions boundary; session policy; and
//! Block Public Access `RestrictPublicBuckets`. The result keeps, for every statement, whether
//! it applied and if not the first element or condition that failed.

mod explain;
pub use explain::{MissExplanation, explain_condition_holds, explain_miss};
mod managed;
mod matching;
mod public;

use std::fmt;

use crate::context::RequestContext;
use crate::policy::{AwsPrincipal, Effect, Policy};

pub use matching::{Element, Match, Miss, MissWhy};
pub use public::is_public_statement;

/// Who made the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestPrincipal {
    /// An unsigned request.
    Anonymous,
    /// An AWS service principal such as `cloudtrail.amazonaws.com`.
    Service(String),
    /// An account root user, IAM user, role, or STS session.
    Aws(AwsPrincipal),
}

impl RequestPrincipal {
    /// Classifies a principal as given in a request (`null` means anonymous).
    pub fn parse(principal: Option<&str>) -> RequestPrincipal {
        match principal {
            None => RequestPrincipal::Anonymous,
            Some(p) if !p.starts_with("arn:") && p.contains(".amazonaws.com") => {
                RequestPrincipal::Service(p.to_owned())
            }
            Some(p) => RequestPrincipal::Aws(AwsPrincipal::parse(p)),
        }
    }

    /// The caller's account id; `None` for anonymous and service callers, and for an AWS
    /// principal in a form that names no account (a unique id or an unrecognised ARN).
    pub fn account(&self) -> Option<&str> {
        match self {
            RequestPrincipal::Aws(a) => a.account(),
            _ => None,
        }
    }

    /// The principal's ARN (the account root ARN for a root caller), if it has one.
    pub fn arn(&self) -> Option<&str> {
        match self {
            RequestPrincipal::Aws(
                AwsPrincipal::User { arn, .. }
                | AwsPrincipal::Role { arn, .. }
                | AwsPrincipal::AssumedRole { arn, .. }
                | AwsPrincipal::FederatedUser { arn, .. },
            ) => Some(arn),
            RequestPrincipal::Aws(AwsPrincipal::Other { value }) => Some(value),
            _ => None,
        }
    }

    /// True for an account's root user (given as the account id or its `:root` ARN).
    pub fn is_root(&self) -> bool {
        matches!(self, RequestPrincipal::Aws(AwsPrincipal::Account { .. }))
    }
}

/// One request to authorize.
#[derive(Debug, Clone)]
pub struct Request {
    /// Who makes the request.
    pub principal: RequestPrincipal,
    /// As given, e.g. `s3:PutObject`.
    pub action: String,
    action_key: crate::pattern::ActionKey,
    /// The resource ARN, or `*` for actions that take none.
    pub resource: String,
    /// The account that owns the resource (same- vs cross-account); `None` means the
    /// principal's own account.
    pub resource_account: Option<String>,
    /// Complete and literal: nothing is derived from the principal.
    pub context: RequestContext,
    /// The action supports no resource types: only a literal `"*"` Resource matches.
    pub wildcard_only_action: bool,
    /// Byte ranges of the resource ARN's six parts, split once per request.
    resource_parts: Option<[(u32, u32); 6]>,
}

fn split_parts(arn: &str) -> Option<[(u32, u32); 6]> {
    let parts = crate::pattern::split_arn(arn)?;
    let base = arn.as_ptr() as usize;
    Some(parts.map(|p| {
        let start = (p.as_ptr() as usize - base) as u32;
        (start, start + p.len() as u32)
    }))
}

impl Request {
    /// A request in the principal's own account, for an action that takes resources; set
    /// [`Request::resource_account`] and [`Request::wildcard_only_action`] to say otherwise.
    pub fn new(
        principal: RequestPrincipal,
        action: &str,
        resource: &str,
        context: RequestContext,
    ) -> Request {
        Request {
            principal,
            action: action.to_owned(),
            action_key: crate::pattern::ActionKey::new(action),
            resource: resource.to_owned(),
            resource_account: None,
            context,
            wildcard_only_action: false,
            resource_parts: split_parts(resource),
        }
    }

    /// The byte ranges of the resource ARN's six parts, when it is an ARN.
    pub(crate) fn resource_ranges(&self) -> Option<&[(u32, u32); 6]> {
        self.resource_parts.as_ref()
    }

    /// The resource ARN's six parts, when it is an ARN.
    pub(crate) fn resource_parts(&self) -> Option<[&str; 6]> {
        let p = self.resource_parts?;
        Some(p.map(|(a, b)| &self.resource[a as usize..b as usize]))
    }

    /// The action lower-cased, e.g. `s3:putobject`.
    pub fn action_lower(&self) -> &str {
        &self.action_key.text
    }

    pub(crate) fn action_key(&self) -> &crate::pattern::ActionKey {
        &self.action_key
    }

    /// True when the resource belongs to another account than the principal.
    pub fn is_cross_account(&self) -> bool {
        match (&self.resource_account, self.principal.account()) {
            (Some(r), Some(p)) => r != p,
            (Some(_), None) => !matches!(self.principal, RequestPrincipal::Anonymous),
            (None, _) => false,
        }
    }
}

/// All policies that apply to one request, compiled.
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    /// The caller's identity-based policies (inline and managed, user, group and role).
    pub identity: Vec<Policy>,
    /// The resource-based policy, if the resource has one.
    pub resource: Option<Policy>,
    /// One list per organization level, root first; empty means no SCPs apply.
    pub scp: Vec<Vec<Policy>>,
    /// Like `scp`, for resource control policies of the resource owner's organization.
    pub rcp: Vec<Vec<Policy>>,
    /// The caller's permissions boundary; `None` when it has none (`Some` of an empty list
    /// is a boundary that allows nothing).
    pub boundary: Option<Vec<Policy>>,
    /// The session policy, if the session was made with one.
    pub session: Option<Policy>,
    /// The endpoint policies the request went through; each must allow.
    pub vpc_endpoint: Option<Vec<Policy>>,
    /// S3 Block Public Access `RestrictPublicBuckets` applies to the resource.
    pub restrict_public_buckets: bool,
    /// A resource-side grant that does not come from the resource policy (an S3 bucket ACL
    /// grant to the caller's account or to everyone).
    pub acl_grant: Grant,
}

/// The final decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Every layer that must allow does, and no statement denies.
    Allowed,
    /// No statement denies, but some layer that must allow does not.
    ImplicitlyDenied,
    /// A statement that applies denies (or Block Public Access refuses a public grant).
    ExplicitlyDenied,
}

impl Decision {
    /// The decision's name, as JSON output writes it, e.g. `ImplicitlyDenied`.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allowed => "Allowed",
            Decision::ImplicitlyDenied => "ImplicitlyDenied",
            Decision::ExplicitlyDenied => "ExplicitlyDenied",
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A policy layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Layer {
    /// Service control policies, one level per organization node.
    Scp,
    /// Resource control policies, one level per organization node.
    Rcp,
    /// VPC endpoint policies, one level per endpoint.
    VpcEndpoint,
    /// The resource-based policy (and, for grants, the S3 ACL).
    Resource,
    /// The caller's identity-based policies.
    Identity,
    /// The permissions boundary.
    Boundary,
    /// The session policy.
    Session,
    /// S3 Block Public Access (`RestrictPublicBuckets`).
    BlockPublicAccess,
    /// A resource AWS owns and no policy can let a customer change.
    AwsManaged,
}

impl Layer {
    /// SCPs and RCPs have one level per organization node; VPC endpoint policies one per
    /// endpoint.
    pub fn has_levels(self) -> bool {
        matches!(self, Layer::Scp | Layer::Rcp | Layer::VpcEndpoint)
    }

    /// The layer's name in snake case, as JSON output writes it, e.g. `vpc_endpoint`.
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Scp => "scp",
            Layer::Rcp => "rcp",
            Layer::VpcEndpoint => "vpc_endpoint",
            Layer::Resource => "resource",
            Layer::Identity => "identity",
            Layer::Boundary => "boundary",
            Layer::Session => "session",
            Layer::BlockPublicAccess => "s3_block_public_access",
            Layer::AwsManaged => "aws_managed",
        }
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a statement is: layer, level (SCP/RCP level or VPC endpoint index), policy, statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatementRef {
    /// The layer the statement's policy belongs to.
    pub layer: Layer,
    /// The SCP or RCP level (0 for the root) or VPC endpoint index; 0 for other layers.
    pub level: u16,
    /// Index of the policy in the layer's level (see [`PolicySet::layer_policies`]).
    pub policy: u16,
    /// Index of the statement in [`Policy::statements`].
    pub statement: u16,
}

/// What a layer contributed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A statement that applies denies.
    ExplicitDeny,
    /// A statement that applies allows.
    Allow,
    /// No statement applies.
    ImplicitDeny,
}

/// How the resource-based policy (or ACL) granted access; decides what else is needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Grant {
    /// No grant.
    #[default]
    None,
    /// The account (root ARN or bare id): delegation only, identity policy still needed.
    Account,
    /// The role ARN: identity not needed, but capped by boundary and session policy.
    RoleArn,
    /// A service principal.
    Service,
    /// `"*"` with an `aws:PrincipalArn` condition.
    StarPrincipalArn,
    /// The exact IAM user ARN.
    UserArn,
    /// The exact role-session or federated-user ARN.
    SessionArn,
    /// `"*"` unconditioned on the principal: public.
    Star,
}

/// One layer (or one level of it) and its outcome. Its statements' results are in the
/// [`Evaluation`]: [`Evaluation::examined`] and [`Evaluation::statements`].
#[derive(Debug, Clone)]
pub struct LayerResult {
    /// The layer.
    pub layer: Layer,
    /// The SCP or RCP level or VPC endpoint index, as in [`StatementRef::level`].
    pub level: u16,
    /// What the layer's statements decided.
    pub outcome: Outcome,
    /// An Allow statement applies (whatever the denies): the layer would allow were its
    /// denies removed.
    pub allow_applies: bool,
    /// The range of [`Evaluation::examined`] holding this layer's statements whose `Action`
    /// matched.
    examined: (u32, u32),
}

impl LayerResult {
    fn want(&self) -> Option<Effect> {
        match self.outcome {
            Outcome::ExplicitDeny => Some(Effect::Deny),
            Outcome::Allow => Some(Effect::Allow),
            Outcome::ImplicitDeny => None,
        }
    }
}

/// One statement's result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StatementTrace {
    /// Which statement.
    pub at: StatementRef,
    /// The statement's `Effect`.
    pub effect: Effect,
    /// Whether it applied, or the first element that did not match.
    pub result: Match,
    /// For resource-policy Allow statements that applied: how they grant.
    pub grant: Grant,
}

/// A layer that refused the request without an explicit deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Blocked {
    /// The layer that refused.
    pub layer: Layer,
    /// The SCP or RCP level or VPC endpoint index; 0 for other layers.
    pub level: u16,
}

/// The result of an evaluation.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// Allowed, or denied explicitly or implicitly.
    pub decision: Decision,
    /// Every layer evaluated, in this order: SCP levels (only for AWS principals), RCP
    /// levels, VPC endpoints, resource, identity, boundary, session. Layers the policy set
    /// does not have are left out; identity is always there.
    pub layers: Vec<LayerResult>,
    /// The statements whose `Action` matched, with their results, layer by layer; every
    /// other statement missed on `Action` (see [`Evaluation::statements`]).
    examined: Vec<StatementTrace>,
    /// The strongest grant the resource side gave (after Block Public Access).
    pub grant: Grant,
    /// The grant came from the ACL, not the resource policy.
    pub grant_from_acl: bool,
    /// `RestrictPublicBuckets` discarded the resource policy's grants to this principal.
    pub public_access_restricted: bool,
    /// Layers that refused without a deny (empty unless implicitly denied).
    pub blocked_by: Vec<Blocked>,
    /// When explicitly denied: the layers that would still refuse without the explicit
    /// denies (a second cause, which the fix of the first does not remove).
    pub also_blocked_by: Vec<Blocked>,
    /// The statements that decided: denies when explicitly denied, the allows relied on when
    /// allowed; empty for an implicit deny (see `blocked_by`).
    pub deciding: Vec<StatementRef>,
}

impl Evaluation {
    /// The result of a layer's level (0 for layers without levels), if it was evaluated.
    pub fn layer(&self, layer: Layer, level: u16) -> Option<&LayerResult> {
        self.layers
            .iter()
            .find(|l| l.layer == layer && l.level == level)
    }

    /// The layers that refuse the request for want of an Allow: `blocked_by` when implicitly
    /// denied, `also_blocked_by` when explicitly denied (those refuse it too), none when
    /// allowed.
    pub fn refused_without_deny(&self) -> &[Blocked] {
        match self.decision {
            Decision::ImplicitlyDenied => &self.blocked_by,
            Decision::ExplicitlyDenied => &self.also_blocked_by,
            Decision::Allowed => &[],
        }
    }

    /// The statements of a layer whose `Action` matched, with the result of the rest of the
    /// statement, in document order. The others are `Action` misses.
    pub fn examined(&self, l: &LayerResult) -> &[StatementTrace] {
        &self.examined[l.examined.0 as usize..l.examined.1 as usize]
    }

    /// The statements that applied with the layer's outcome effect.
    pub fn deciding_in<'a>(
        &'a self,
        l: &'a LayerResult,
    ) -> impl Iterator<Item = &'a StatementTrace> + 'a {
        let want = l.want();
        self.examined(l)
            .iter()
            .filter(move |s| Some(s.effect) == want && matches!(s.result, Match::Applies))
    }

    /// Every statement of a layer with its result, in document order. `set` and `req` must be
    /// the evaluated policy set and request.
    pub fn statements<'a>(
        &'a self,
        set: &'a PolicySet,
        req: &'a Request,
        l: &'a LayerResult,
    ) -> impl Iterator<Item = StatementTrace> + 'a {
        let mut examined = self.examined(l).iter().peekable();
        set.layer_policies(l.layer, l.level)
            .enumerate()
            .flat_map(|(pi, p)| {
                p.statements
                    .iter()
                    .enumerate()
                    .map(move |(si, st)| (pi, si, st))
            })
            .map(move |(pi, si, st)| {
                let at = StatementRef {
                    layer: l.layer,
                    level: l.level,
                    policy: pi as u16,
                    statement: si as u16,
                };
                match examined.next_if(|t| t.at == at) {
                    Some(t) => *t,
                    None => StatementTrace {
                        at,
                        effect: st.effect,
                        // Not recorded, so its `Action` did not match.
                        result: Match::Miss(matching::action_miss(st, req, false).unwrap_or(
                            Miss {
                                element: Element::Action,
                                why: MissWhy::NoValueMatched,
                            },
                        )),
                        grant: Grant::None,
                    },
                }
            })
    }

    /// The result of one statement.
    pub fn result_of(
        &self,
        set: &PolicySet,
        req: &Request,
        at: StatementRef,
    ) -> Option<StatementTrace> {
        let l = self.layer(at.layer, at.level)?;
        self.statements(set, req, l).find(|t| t.at == at)
    }
}

impl PolicySet {
    /// The policies of a layer (level: SCP/RCP level, VPC endpoint index), in order.
    pub fn layer_policies(&self, layer: Layer, level: u16) -> impl Iterator<Item = &Policy> {
        self.layer_slice(layer, level).iter()
    }

    fn layer_slice(&self, layer: Layer, level: u16) -> &[Policy] {
        let l = level as usize;
        match layer {
            Layer::Identity => &self.identity,
            Layer::Resource => self.resource.as_slice(),
            Layer::Scp => self.scp.get(l).map_or(&[], |v| v.as_slice()),
            Layer::Rcp => self.rcp.get(l).map_or(&[], |v| v.as_slice()),
            Layer::Boundary => self.boundary.as_deref().unwrap_or(&[]),
            Layer::Session => self.session.as_slice(),
            Layer::VpcEndpoint => self
                .vpc_endpoint
                .as_deref()
                .and_then(|v| v.get(l..=l))
                .unwrap_or(&[]),
            Layer::BlockPublicAccess | Layer::AwsManaged => &[],
        }
    }

    /// The policy a statement reference points into.
    pub fn policy(&self, at: StatementRef) -> Option<&Policy> {
        self.layer_slice(at.layer, at.level).get(at.policy as usize)
    }

    /// Evaluates a request.
    pub fn evaluate(&self, req: &Request) -> Evaluation {
        matching::evaluate(self, req)
    }
}

#[cfg(test)]
mod tests;
