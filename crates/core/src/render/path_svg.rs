//! The evaluation path of a check as a picture: every layer AWS evaluates for it, in AWS's
//! order (SCPs and RCPs per organization level, the resource policy, identity policies, the
//! permissions boundary, the session policy, the VPC endpoint policy, then the S3 settings or
//! the KMS key's state and grants), each with its state, and the deciding layers marked.
//!
//! [`evaluation_path`] derives the steps from a check's evaluation (the per-layer outcomes,
//! `blocked_by`, the deciding statements, the stand-ins for unreadable evidence and the
//! refusals outside policies); [`path_svg`] draws them as an SVG element with no script and no
//! external reference, to be placed inline in an HTML page. Each state has its own shape, its
//! own symbol and its own word, so the picture reads in black and white and without telling
//! colours apart. Pure: no I/O.

use std::fmt::Write as _;

use crate::analysis::{
    Analysis, BlockCode, Check, CheckKind, CheckOutcome, ENCRYPTION_UNREAD_FOR_SSE_C, Missing,
    acls_disabled, rcp_organization,
};
use crate::eval::{Blocked, Decision, Layer, Outcome, RequestPrincipal};
use crate::evidence::{
    EvidenceKind, ObjectOwnership, OrgLevel, PublicAccessBlock, PublicAccessSetting, Slot,
};

/// What a layer did for a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StepState {
    /// A statement allows, or the setting lets the request through.
    Allows,
    /// A statement denies, or the setting refuses the request.
    ExplicitDeny,
    /// Nothing in the layer allows.
    NoAllow,
    /// The layer does not take part (no such policy, no such setting).
    NotApplicable,
    /// The evidence for the layer could not be read.
    Unknown,
}

impl StepState {
    /// Every state, in the order of the legend.
    pub const ALL: [StepState; 5] = [
        StepState::Allows,
        StepState::ExplicitDeny,
        StepState::NoAllow,
        StepState::NotApplicable,
        StepState::Unknown,
    ];

    /// The text symbol drawn in the state's shape: ✓, ✗, ∅, – or ?.
    pub fn symbol(self) -> &'static str {
        match self {
            StepState::Allows => "\u{2713}",
            StepState::ExplicitDeny => "\u{2717}",
            StepState::NoAllow => "\u{2205}",
            StepState::NotApplicable => "\u{2013}",
            StepState::Unknown => "?",
        }
    }

    /// The state in words.
    pub fn label(self) -> &'static str {
        match self {
            StepState::Allows => "allows",
            StepState::ExplicitDeny => "explicit deny",
            StepState::NoAllow => "no allow",
            StepState::NotApplicable => "not applicable",
            StepState::Unknown => "unknown",
        }
    }

    /// The shape that carries the state, in words (for the legend).
    pub fn shape(self) -> &'static str {
        match self {
            StepState::Allows => "filled circle",
            StepState::ExplicitDeny => "octagon",
            StepState::NoAllow => "hollow dashed circle",
            StepState::NotApplicable => "small hollow square",
            StepState::Unknown => "diamond",
        }
    }

    /// A CSS class name for the state.
    pub fn class(self) -> &'static str {
        match self {
            StepState::Allows => "ok",
            StepState::ExplicitDeny => "deny",
            StepState::NoAllow => "none",
            StepState::NotApplicable => "na",
            StepState::Unknown => "unk",
        }
    }
}

/// One layer of a check's evaluation path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The layer, e.g. `bucket policy`, `SCPs at ou-a1b2-f6g7h8i9 (Workloads)`.
    pub name: String,
    /// What the layer did for the check.
    pub state: StepState,
    /// Why, in one sentence (statements, settings, what could not be read).
    pub detail: String,
    /// The layer decides the check's outcome (denies it, refuses it for want of an allow,
    /// grants it, or leaves it undecided).
    pub deciding: bool,
}

impl Step {
    fn new(name: impl Into<String>, state: StepState, detail: impl Into<String>) -> Step {
        Step {
            name: name.into(),
            state,
            detail: detail.into(),
            deciding: false,
        }
    }
}

/// The layers AWS evaluates for a check, in AWS's order, with their states and the deciding
/// ones marked.
pub fn evaluation_path(c: &Check, a: &Analysis) -> Vec<Step> {
    let mut steps = Vec::new();
    // A KMS check without a described key (unknown, not found, in another Region) evaluates
    // no policy: only the key decides.
    let key_undescribed = c.kind == CheckKind::Kms && c.set.resource.is_none();
    if key_undescribed {
        let (state, detail) = if c.outcome == CheckOutcome::Indeterminate {
            (
                StepState::Unknown,
                "not evaluated: the key the upload uses could not be described",
            )
        } else {
            (
                StepState::NotApplicable,
                "not evaluated: S3 cannot use the key",
            )
        };
        for name in [
            "SCPs",
            "RCPs",
            "KMS key policy",
            "identity policies",
            "permissions boundary",
            "session policy",
            "VPC endpoint policy",
        ] {
            steps.push(Step::new(name, state, detail));
        }
        steps.extend(kms_steps(c, a));
    } else {
        org_steps(c, a, Layer::Scp, &mut steps);
        org_steps(c, a, Layer::Rcp, &mut steps);
        let resource = match (c.kind, c.resource_policy) {
            (CheckKind::S3, crate::analysis::ResourcePolicy::AccessPoint) => "access point policy",
            (CheckKind::S3, _) => "bucket policy",
            (CheckKind::Kms, _) => "KMS key policy",
        };
        steps.push(policy_step(
            c,
            Layer::Resource,
            0,
            resource,
            absent_resource(c),
        ));
        steps.extend(access_point_steps(c));
        steps.push(policy_step(
            c,
            Layer::Identity,
            0,
            "identity policies",
            "no identity-based policy",
        ));
        steps.push(policy_step(
            c,
            Layer::Boundary,
            0,
            "permissions boundary",
            "the caller has no permissions boundary",
        ));
        steps.push(policy_step(
            c,
            Layer::Session,
            0,
            "session policy",
            "no session policy was passed with the credentials",
        ));
        let endpoints = c.set.vpc_endpoint.as_ref().map_or(0, Vec::len).max(1);
        for i in 0..endpoints {
            steps.push(policy_step(
                c,
                Layer::VpcEndpoint,
                i as u16,
                "VPC endpoint policy",
                "the request goes through no VPC endpoint",
            ));
        }
        if refuses(c, Layer::AwsManaged, 0) {
            steps.push(Step::new(
                "AWS managed resource",
                StepState::ExplicitDeny,
                "AWS owns the resource: no policy can let a customer change it",
            ));
        }
        match c.kind {
            CheckKind::S3 => steps.extend(s3_steps(c, a)),
            CheckKind::Kms => steps.extend(kms_steps(c, a)),
        }
    }
    mark_deciding(c, &mut steps);
    unattributed_missing(c, &mut steps);
    steps
}

/// The detail of an absent resource policy.
fn absent_resource(c: &Check) -> &'static str {
    match (c.kind, c.resource_policy) {
        (CheckKind::S3, crate::analysis::ResourcePolicy::AccessPoint) => {
            "the access point has no policy"
        }
        (CheckKind::S3, _) => "the bucket has no bucket policy",
        (CheckKind::Kms, _) => "the key has no key policy",
    }
}

/// For a request through an access point: the bucket's side (its policy, or the bucket
/// owner's identity grant) and the access point's own settings (network origin, Block Public
/// Access).
fn access_point_steps(c: &Check) -> Vec<Step> {
    let Some(side) = &c.bucket_side else {
        return Vec::new();
    };
    let name = "bucket policy";
    let bucket = match side.permits {
        Some(true) if side.owner_identity_grant => Step::new(
            name,
            StepState::Allows,
            "the caller's identity grant in the account of the bucket and the access point stands for the bucket",
        ),
        Some(true) => Step::new(
            name,
            StepState::Allows,
            "allows the request through the access point, or delegates it",
        ),
        Some(false) => match block_of(
            c,
            &[
                BlockCode::AccessPointBucketPolicyDeny,
                BlockCode::AccessPointBucketNotPermitted,
            ],
        ) {
            Some(b) => Step::new(name, StepState::ExplicitDeny, &b.message),
            None => Step::new(name, StepState::NoAllow, "does not permit the request"),
        },
        None => Step::new(
            name,
            StepState::Unknown,
            "cannot see whether the bucket permits the request",
        ),
    };
    let settings = match block_of(
        c,
        &[
            BlockCode::AccessPointNetworkOrigin,
            BlockCode::AccessPointBlockPublicAcls,
        ],
    ) {
        Some(b) => Step::new("access point settings", StepState::ExplicitDeny, &b.message),
        None => Step::new(
            "access point settings",
            StepState::Allows,
            "its network origin and Block Public Access do not refuse the request",
        ),
    };
    vec![bucket, settings]
}

/// Whether a layer refuses the check for want of an allow (implicitly denied), or would refuse
/// it were the explicit denies gone.
fn refuses(c: &Check, layer: Layer, level: u16) -> bool {
    c.eval
        .refused_without_deny()
        .contains(&Blocked { layer, level })
}

/// The statements of a layer that applied with the layer's effect, in words: `statement `Sid``
/// in a layer of one policy, `statement `Sid` of <policy>` in the others.
fn statements_of(c: &Check, layer: Layer, level: u16) -> String {
    let Some(l) = c.eval.layer(layer, level) else {
        return String::new();
    };
    let one_policy = c.set.layer_policies(layer, level).count() == 1;
    let all: Vec<String> = c
        .eval
        .deciding_in(l)
        .map(|s| {
            let words = super::statement_words(c, s.at);
            match c.set.policy(s.at) {
                Some(p) if one_policy => words
                    .strip_suffix(&format!(" of {}", p.name))
                    .map_or(words.clone(), str::to_owned),
                _ => words,
            }
        })
        .collect();
    match all.len() {
        0 => String::new(),
        1 | 2 => all.join(" and "),
        n => format!("{} and {} more", all[..2].join(", "), n - 2),
    }
}

/// The missing evidence of a check of these kinds, in words.
fn missing_words(c: &Check, kinds: &[EvidenceKind]) -> Option<String> {
    let what: Vec<&str> = c
        .missing
        .iter()
        .filter(|m| kinds.contains(&m.kind))
        .map(|m| m.what.as_str())
        .collect();
    (!what.is_empty()).then(|| format!("cannot see {}", what.join(", ")))
}

/// The evidence kinds behind each policy layer, to name what a stand-in replaces.
fn kinds_of(c: &Check, layer: Layer) -> &'static [EvidenceKind] {
    match (layer, c.kind) {
        (Layer::Scp, _) => &[
            EvidenceKind::ServiceControlPolicies,
            EvidenceKind::CallerOrganization,
        ],
        (Layer::Rcp, _) => &[
            EvidenceKind::ResourceControlPolicies,
            EvidenceKind::BucketOrganization,
        ],
        (Layer::Resource, CheckKind::S3) => &[EvidenceKind::BucketPolicy],
        (Layer::Resource, CheckKind::Kms) => &[EvidenceKind::KmsKeyPolicy],
        (Layer::Identity | Layer::Boundary, _) => &[EvidenceKind::Identity],
        (Layer::Session, _) => &[EvidenceKind::SessionPolicy],
        (Layer::VpcEndpoint, _) => &[EvidenceKind::VpcEndpointPolicy],
        _ => &[],
    }
}

/// One policy layer (or one level of it).
fn policy_step(c: &Check, layer: Layer, level: u16, name: &str, absent: &str) -> Step {
    let mut step = policy_state(c, layer, level, name, absent);
    step.deciding = step.state == StepState::NoAllow
        && c.eval.decision == Decision::ImplicitlyDenied
        && refuses(c, layer, level);
    step
}

fn policy_state(c: &Check, layer: Layer, level: u16, name: &str, absent: &str) -> Step {
    let refusing = refuses(c, layer, level);
    if c.is_synthetic(layer, level) {
        let detail = missing_words(c, kinds_of(c, layer))
            .unwrap_or_else(|| "the policy could not be read".to_owned());
        return Step::new(name, StepState::Unknown, detail);
    }
    let anonymous_or_service = matches!(
        c.request.principal,
        RequestPrincipal::Anonymous | RequestPrincipal::Service(_)
    );
    let Some(l) = c.eval.layer(layer, level) else {
        if refusing {
            return Step::new(
                name,
                StepState::NoAllow,
                format!("{absent}, and one must allow the request"),
            );
        }
        return Step::new(name, StepState::NotApplicable, absent);
    };
    match l.outcome {
        Outcome::ExplicitDeny => Step::new(
            name,
            StepState::ExplicitDeny,
            format!("{} denies", statements_of(c, layer, level)),
        ),
        Outcome::Allow => Step::new(
            name,
            StepState::Allows,
            format!("{} allows", statements_of(c, layer, level)),
        ),
        Outcome::ImplicitDeny if layer == Layer::Identity && anonymous_or_service => Step::new(
            name,
            StepState::NotApplicable,
            "the caller has no identity-based policies",
        ),
        Outcome::ImplicitDeny if refusing && c.eval.decision == Decision::ExplicitlyDenied => {
            Step::new(
                name,
                StepState::NoAllow,
                "no statement allows the request: it would refuse it too without the deny",
            )
        }
        Outcome::ImplicitDeny if refusing => Step::new(
            name,
            StepState::NoAllow,
            "no statement allows the request, and this layer must",
        ),
        Outcome::ImplicitDeny => Step::new(
            name,
            StepState::NoAllow,
            "no statement allows the request; its allow is not needed here",
        ),
    }
}

/// The SCP or RCP levels, one step each, or one step when none apply.
fn org_steps(c: &Check, a: &Analysis, layer: Layer, steps: &mut Vec<Step>) {
    let ev = &a.evidence;
    let (kind, levels, count) = match layer {
        Layer::Scp => (
            "SCPs",
            ev.caller_org.get().and_then(|o| o.scps.get()),
            c.set.scp.len(),
        ),
        _ => (
            "RCPs",
            rcp_organization(
                ev,
                c.request.resource_account.as_deref(),
                c.request.principal.account(),
            )
            .and_then(Slot::get)
            .and_then(|o| o.rcps.get()),
            c.set.rcp.len(),
        ),
    };
    let scp_skipped =
        layer == Layer::Scp && !matches!(c.request.principal, RequestPrincipal::Aws(_));
    if count == 0 || scp_skipped {
        let step = if c.is_synthetic(layer, 0) {
            let detail = missing_words(c, kinds_of(c, layer))
                .unwrap_or_else(|| "the organization's policies could not be read".to_owned());
            Step::new(kind, StepState::Unknown, detail)
        } else if scp_skipped {
            Step::new(
                kind,
                StepState::NotApplicable,
                "SCPs do not apply to anonymous callers or AWS service principals",
            )
        } else {
            Step::new(
                kind,
                StepState::NotApplicable,
                match layer {
                    Layer::Scp => "none apply to the caller's account",
                    _ => "none apply to the resource",
                },
            )
        };
        steps.push(step);
        return;
    }
    for i in 0..count {
        let name = format!("{kind} at {}", level_name(levels, i));
        steps.push(policy_step(
            c,
            layer,
            i as u16,
            &name,
            "no policy at this level",
        ));
    }
}

/// An organization level by its target and name, or its number.
fn level_name(levels: Option<&Vec<OrgLevel>>, i: usize) -> String {
    match levels.and_then(|l| l.get(i)) {
        Some(OrgLevel {
            target_id,
            name: Some(n),
            ..
        }) if n != target_id => format!("{target_id} ({n})"),
        Some(l) => l.target_id.clone(),
        None => format!("level {i}"),
    }
}

fn block_of<'c>(c: &'c Check, codes: &[BlockCode]) -> Option<&'c crate::analysis::Block> {
    c.blocks.iter().find(|b| codes.contains(&b.code))
}

/// Object Ownership, Block Public Access, the bucket ACL and S3's other settings.
fn s3_steps(c: &Check, a: &Analysis) -> Vec<Step> {
    let ev = &a.evidence;
    let req = &a.request;
    let put = c.action == "s3:PutObject";
    let mut out = Vec::new();
    if put {
        let name = "Object Ownership";
        out.push(
            if let Some(b) = block_of(c, &[BlockCode::ObjectOwnershipAclNotSupported]) {
                Step::new(name, StepState::ExplicitDeny, &b.message)
            } else if let Some(m) = missing_words(c, &[EvidenceKind::BucketOwnership]) {
                Step::new(name, StepState::Unknown, m)
            } else {
                match &ev.bucket.ownership {
                    Slot::Collected(o) => {
                        let acls = if *o == ObjectOwnership::BucketOwnerEnforced {
                            "ACLs disabled"
                        } else {
                            "ACLs enabled"
                        };
                        Step::new(
                            name,
                            StepState::Allows,
                            format!("`{}` ({acls}): does not refuse the upload", o.as_str()),
                        )
                    }
                    Slot::Absent => Step::new(
                        name,
                        StepState::Allows,
                        "not configured (ACLs enabled): does not refuse the upload",
                    ),
                    _ if !req.sets_acl() => Step::new(
                        name,
                        StepState::NotApplicable,
                        "not read; it matters only to uploads that set an ACL",
                    ),
                    _ => Step::new(name, StepState::NotApplicable, "not read"),
                }
            },
        );
    }
    let name = "Block Public Access";
    let bpa_refuses = c.eval.public_access_restricted
        || refuses(c, Layer::BlockPublicAccess, 0)
        || c.eval.blocked_by.contains(&Blocked {
            layer: Layer::BlockPublicAccess,
            level: 0,
        });
    out.push(
        if let Some(b) = block_of(c, &[BlockCode::BlockPublicAcls]) {
            Step::new(name, StepState::ExplicitDeny, &b.message)
        } else if bpa_refuses {
            Step::new(
                name,
                StepState::ExplicitDeny,
                "`RestrictPublicBuckets` refuses the public bucket policy's grant to this caller",
            )
        } else if let Some(m) = missing_words(c, &EvidenceKind::PUBLIC_ACCESS_BLOCKS) {
            Step::new(name, StepState::Unknown, m)
        } else {
            let account = ev.effective_account_public_access_block();
            let bpa = [ev.bucket.public_access_block.get(), account.get()]
                .into_iter()
                .flatten()
                .fold(PublicAccessBlock::default(), |x, y| x.union(*y));
            let on: Vec<&str> = [
                PublicAccessSetting::BlockPublicAcls,
                PublicAccessSetting::IgnorePublicAcls,
                PublicAccessSetting::BlockPublicPolicy,
                PublicAccessSetting::RestrictPublicBuckets,
            ]
            .into_iter()
            .filter(|s| bpa.get(*s))
            .map(PublicAccessSetting::as_str)
            .collect();
            if on.is_empty() {
                Step::new(name, StepState::NotApplicable, "no setting is on")
            } else {
                Step::new(
                    name,
                    StepState::Allows,
                    format!("on ({}): does not refuse the upload", on.join(", ")),
                )
            }
        },
    );
    let name = "bucket ACL";
    let same_account =
        ev.bucket.owner_account.get().map(String::as_str) == c.request.principal.account();
    out.push(
        if let Some(b) = block_of(c, &[BlockCode::BucketAclNoWrite]) {
            Step::new(name, StepState::ExplicitDeny, &b.message)
        } else if acls_disabled(ev) {
            Step::new(
                name,
                StepState::NotApplicable,
                "ACLs are disabled (`BucketOwnerEnforced`)",
            )
        } else if c.eval.grant_from_acl {
            Step::new(name, StepState::Allows, "grants the caller `WRITE`")
        } else if let Some(m) = missing_words(c, &[EvidenceKind::BucketAcl]) {
            Step::new(name, StepState::Unknown, m)
        } else if !ev.bucket.acl.is_known() || ev.bucket.acl.get().is_none() {
            Step::new(name, StepState::NotApplicable, "not read")
        } else if put && same_account {
            Step::new(
                name,
                StepState::Allows,
                "grants the bucket owner's account `WRITE`",
            )
        } else if same_account {
            Step::new(
                name,
                StepState::NotApplicable,
                "S3 checks it for the bucket owner's account on `s3:PutObject`",
            )
        } else {
            Step::new(
                name,
                StepState::NoAllow,
                "grants the caller's account nothing",
            )
        },
    );
    if put {
        let name = "other bucket settings";
        let others = [
            BlockCode::RequesterPaysMissingHeader,
            BlockCode::RequesterPaysAnonymous,
            BlockCode::ExpectedBucketOwnerMismatch,
            BlockCode::SseCBlocked,
        ];
        let unread: Vec<&Missing> = c
            .missing
            .iter()
            .filter(|m| {
                m.kind == EvidenceKind::BucketRequestPayment
                    || (m.kind == EvidenceKind::BucketEncryption
                        && m.what == ENCRYPTION_UNREAD_FOR_SSE_C)
            })
            .collect();
        out.push(if let Some(b) = block_of(c, &others) {
            Step::new(name, StepState::ExplicitDeny, &b.message)
        } else if !unread.is_empty() {
            let what: Vec<&str> = unread.iter().map(|m| m.what.as_str()).collect();
            Step::new(
                name,
                StepState::Unknown,
                format!("cannot see {}", what.join(", ")),
            )
        } else {
            Step::new(
                name,
                StepState::Allows,
                "Requester Pays, the expected bucket owner and blocked encryption types do not refuse the upload",
            )
        });
    }
    out
}

/// The KMS key's state and its grants.
fn kms_steps(c: &Check, a: &Analysis) -> Vec<Step> {
    let mut out = Vec::new();
    let name = "KMS key state";
    let key_codes = [
        BlockCode::KmsKeyDisabled,
        BlockCode::KmsKeyPendingDeletion,
        BlockCode::KmsKeyInvalidState,
        BlockCode::KmsKeyNotFound,
        BlockCode::KmsKeyNotSymmetric,
        BlockCode::KmsKeyOtherRegion,
        BlockCode::KmsKeyOtherAccountByReference,
        BlockCode::KmsAwsManagedKeyCrossAccount,
    ];
    let described = a
        .evidence
        .kms_key
        .get()
        .filter(|k| k.arn == c.request.resource);
    out.push(if let Some(b) = block_of(c, &key_codes) {
        Step::new(name, StepState::ExplicitDeny, &b.message)
    } else if let Some(m) = missing_words(c, &[EvidenceKind::KmsKey]) {
        Step::new(name, StepState::Unknown, m)
    } else if let Some(k) = described {
        Step::new(
            name,
            StepState::Allows,
            format!("`{}`, `{}`: usable", k.state, k.spec),
        )
    } else if c.request.resource.ends_with(":alias/aws/s3") {
        Step::new(
            name,
            StepState::Allows,
            "the AWS managed key `aws/s3`: usable",
        )
    } else {
        Step::new(name, StepState::NotApplicable, "not described")
    });
    let name = "KMS grants";
    out.push(if let Some(g) = &c.kms_grant {
        Step::new(name, StepState::Allows, format!("{g} allows the request"))
    } else if let Some(m) = missing_words(c, &[EvidenceKind::KmsGrants]) {
        Step::new(name, StepState::Unknown, m)
    } else if c.set.resource.is_none() {
        Step::new(name, StepState::NotApplicable, "not evaluated")
    } else if c.eval.decision == Decision::Allowed {
        Step::new(
            name,
            StepState::NotApplicable,
            "not needed: the policies allow the request",
        )
    } else if c.eval.decision == Decision::ExplicitlyDenied {
        Step::new(
            name,
            StepState::NotApplicable,
            "a grant never overrides an explicit deny",
        )
    } else {
        Step::new(name, StepState::NoAllow, "no grant allows the request")
    });
    out
}

/// Marks the steps that decide the check's outcome.
fn mark_deciding(c: &Check, steps: &mut [Step]) {
    match c.outcome {
        CheckOutcome::Denied => {
            // Refusals outside policies and explicit denies; for an implicit deny, the layers
            // without an allow that must allow (marked by `policy_step`).
            for s in steps.iter_mut() {
                s.deciding = s.state == StepState::ExplicitDeny
                    || (s.state == StepState::NoAllow && s.deciding);
            }
            if c.eval.decision == Decision::ImplicitlyDenied
                && !steps.iter().any(|s| s.deciding)
                && c.kind == CheckKind::Kms
            {
                // A KMS implicit deny that no grant rescued: the grants step.
                for s in steps.iter_mut().filter(|s| s.name == "KMS grants") {
                    s.deciding = s.state == StepState::NoAllow;
                }
            }
        }
        CheckOutcome::Allowed => {
            for s in steps.iter_mut() {
                s.deciding = s.state == StepState::Allows
                    && (s.name == "bucket policy"
                        || s.name == "access point policy"
                        || s.name == "KMS key policy"
                        || s.name == "identity policies"
                        || (s.name == "bucket ACL" && c.eval.grant_from_acl)
                        || (s.name == "KMS grants" && c.kms_grant.is_some()));
            }
        }
        CheckOutcome::Indeterminate => {
            for s in steps.iter_mut() {
                s.deciding = s.state == StepState::Unknown;
            }
        }
    }
}

/// Unreadable evidence of the check that no step names (condition keys left open, the bucket
/// owner, the Bucket Key setting...), as one step.
fn unattributed_missing(c: &Check, steps: &mut Vec<Step>) {
    let named: Vec<&Missing> = c
        .missing
        .iter()
        .filter(|m| {
            !steps
                .iter()
                .any(|s| s.state == StepState::Unknown && s.detail.contains(m.what.as_str()))
        })
        .collect();
    if named.is_empty() {
        return;
    }
    let what: Vec<&str> = named.iter().map(|m| m.what.as_str()).collect();
    let mut step = Step::new(
        "other evidence",
        StepState::Unknown,
        format!("cannot see {}", what.join(", ")),
    );
    step.deciding = c.outcome == CheckOutcome::Indeterminate && !steps.iter().any(|s| s.deciding);
    steps.push(step);
}

/// Width of the picture, and of its parts.
const WIDTH: u32 = 820;
const ROW: u32 = 34;
const TOP: u32 = 36;
const NAME_X: u32 = 48;
const STATE_X: u32 = 270;
const DETAIL_X: u32 = 380;
/// Characters of a line of the detail, and its lines, shown in the picture (the whole detail
/// is in the row's tooltip, in the picture's description and in the text beside it).
const DETAIL_CHARS: usize = 66;
const DETAIL_LINES: usize = 2;

/// The style of the picture, inside it so that it stands alone.
const SVG_STYLE: &str = ".w4p text{font:12px sans-serif;fill:#1f2328}.w4p .n,.w4p .mark{font-weight:bold}\
.w4p .sym{font-size:13px;font-weight:bold;text-anchor:middle}\
.w4p .ok{fill:#1a7f37;stroke:#1a7f37}.w4p .deny{fill:#cf222e;stroke:#cf222e}\
.w4p .none{fill:#fff;stroke:#9a6700;stroke-dasharray:3 2;stroke-width:2}\
.w4p .na{fill:#fff;stroke:#6e7781}.w4p .unk{fill:#8250df;stroke:#8250df}\
.w4p .ok+.sym,.w4p .deny+.sym,.w4p .unk+.sym{fill:#fff}.w4p .none+.sym{fill:#9a6700}.w4p .na+.sym{fill:#6e7781}\
.w4p .h{font-size:11px;fill:#57606a}.w4p .dec{fill:#f6f8fa;stroke:#1f2328;stroke-width:3}.w4p .wire{stroke:#8c959f;stroke-width:2}";

/// Draws a state's shape centred on (x, y), followed by its symbol.
fn shape(out: &mut String, state: StepState, x: u32, y: u32) {
    let class = state.class();
    let _ = match state {
        StepState::Allows => write!(out, r#"<circle class="{class}" cx="{x}" cy="{y}" r="10"/>"#),
        StepState::ExplicitDeny => {
            // A regular octagon, like a stop sign.
            let pts: Vec<String> = (0..8)
                .map(|i| {
                    let a = std::f64::consts::PI / 8.0 + f64::from(i) * std::f64::consts::PI / 4.0;
                    format!(
                        "{:.1},{:.1}",
                        f64::from(x) + 11.0 * a.cos(),
                        f64::from(y) + 11.0 * a.sin()
                    )
                })
                .collect();
            write!(
                out,
                r#"<polygon class="{class}" points="{}"/>"#,
                pts.join(" ")
            )
        }
        StepState::NoAllow => write!(out, r#"<circle class="{class}" cx="{x}" cy="{y}" r="9"/>"#),
        StepState::NotApplicable => write!(
            out,
            r#"<rect class="{class}" x="{}" y="{}" width="14" height="14"/>"#,
            x - 7,
            y - 7
        ),
        StepState::Unknown => write!(
            out,
            r#"<polygon class="{class}" points="{x},{} {},{y} {x},{} {},{y}"/>"#,
            y - 12,
            x + 12,
            y + 12,
            x - 12
        ),
    };
    let _ = write!(out, r#"<text class="sym" x="{x}" y="{}">"#, y + 5);
    out.push_str(state.symbol());
    out.push_str("</text>");
}

/// Text in at most `lines` lines of at most `width` characters, broken at spaces where it can
/// be, with `…` where it was cut.
fn wrap(s: &str, width: usize, lines: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        if out.len() + 1 == lines || rest.chars().count() <= width {
            out.push(cut(rest, width));
            break;
        }
        let byte_at_width = rest
            .char_indices()
            .nth(width)
            .map_or(rest.len(), |(i, _)| i);
        let at = rest[..byte_at_width]
            .rfind(' ')
            .filter(|&i| i > 0)
            .unwrap_or(byte_at_width);
        out.push(rest[..at].to_owned());
        rest = rest[at..].trim_start();
    }
    out
}

/// Text with the pairs of backticks (which mark AWS values in messages) as typographic quotes,
/// for a picture, where no `<code>` can stand.
fn quotes(s: &str) -> String {
    if !s.matches('`').count().is_multiple_of(2) {
        return s.to_owned();
    }
    let mut open = false;
    s.chars()
        .map(|c| {
            if c == '`' {
                open = !open;
                if open { '\u{2018}' } else { '\u{2019}' }
            } else {
                c
            }
        })
        .collect()
}

/// Text cut to `max` characters, with `…` where it was cut.
fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('\u{2026}');
        t
    }
}

/// An SVG element (`<svg>`, without a namespace declaration, as HTML5 places it inline) that
/// draws a check's evaluation path: one row per step, top to bottom in AWS's order, then the
/// check's outcome. Every value is escaped; `id` (made unique by the caller, e.g. `path-0`)
/// prefixes the element ids the picture uses for its accessible title and description.
pub fn path_svg(c: &Check, steps: &[Step], id: &str) -> String {
    let rows = steps.len() as u32 + 1;
    let height = TOP + rows * ROW + 6;
    let mut out = String::with_capacity(1024 + steps.len() * 700);
    let esc = |s: &str| super::html::escape(&quotes(s)).into_owned();
    let title = format!(
        "evaluation path of {}: {}",
        c.action,
        super::outcome_word(&c.outcome)
    );
    let _ = write!(
        out,
        r#"<svg class="w4p path" role="img" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" aria-labelledby="{0}-t {0}-d"><title id="{0}-t">{1}</title><desc id="{0}-d">"#,
        esc(id),
        esc(&title)
    );
    for s in steps {
        let _ = write!(
            out,
            "{}: {} ({}){}. ",
            esc(&s.name),
            s.state.label(),
            esc(&s.detail),
            if s.deciding { ", deciding" } else { "" }
        );
    }
    out.push_str("</desc><style>");
    out.push_str(SVG_STYLE);
    out.push_str("</style>");
    let _ = write!(
        out,
        r#"<text class="n" x="8" y="14">{}</text><text class="h" x="{NAME_X}" y="30">layer</text><text class="h" x="{STATE_X}" y="30">state</text><text class="h" x="{DETAIL_X}" y="30">why</text>"#,
        esc(&format!(
            "{} \u{2014} the layers in the order AWS evaluates them",
            c.action
        ))
    );
    // The wire joining the shapes, behind them.
    let cx = 24;
    let first = TOP + ROW / 2;
    let last = TOP + (rows - 1) * ROW + ROW / 2;
    let _ = write!(
        out,
        r#"<line class="wire" x1="{cx}" y1="{first}" x2="{cx}" y2="{last}"/>"#
    );
    for (i, s) in steps.iter().enumerate() {
        let y = TOP + i as u32 * ROW;
        let mid = y + ROW / 2;
        let _ = write!(out, r#"<g class="step-{}">"#, s.state.class());
        let _ = write!(
            out,
            "<title>{}: {} \u{2014} {}{}</title>",
            esc(&s.name),
            s.state.label(),
            esc(&s.detail),
            if s.deciding { " (deciding)" } else { "" }
        );
        if s.deciding {
            let _ = write!(
                out,
                r#"<rect class="dec" x="2" y="{}" width="{}" height="{}" rx="6"/>"#,
                y + 2,
                WIDTH - 4,
                ROW - 4
            );
        }
        shape(&mut out, s.state, cx, mid);
        let _ = write!(
            out,
            r#"<text class="n" x="{NAME_X}" y="{}">{}</text>"#,
            mid + 4,
            esc(&cut(&s.name, 34))
        );
        let lines = wrap(&s.detail, DETAIL_CHARS, DETAIL_LINES);
        let two = s.deciding || lines.len() > 1;
        let first_y = if two { mid - 3 } else { mid + 4 };
        let _ = write!(
            out,
            r#"<text x="{STATE_X}" y="{first_y}">{} {}</text>"#,
            s.state.symbol(),
            s.state.label()
        );
        if s.deciding {
            let _ = write!(
                out,
                r#"<text class="mark" x="{STATE_X}" y="{}">&#9664; decides</text>"#,
                mid + 11
            );
        }
        for (k, line) in lines.iter().enumerate() {
            let _ = write!(
                out,
                r#"<text x="{DETAIL_X}" y="{}">{}</text>"#,
                if two {
                    mid - 3 + 14 * k as u32
                } else {
                    mid + 4
                },
                esc(line)
            );
        }
        out.push_str("</g>");
    }
    // The outcome.
    let y = TOP + (rows - 1) * ROW;
    let mid = y + ROW / 2;
    let state = match c.outcome {
        CheckOutcome::Allowed => StepState::Allows,
        CheckOutcome::Denied => StepState::ExplicitDeny,
        CheckOutcome::Indeterminate => StepState::Unknown,
    };
    out.push_str(r#"<g class="outcome">"#);
    shape(&mut out, state, cx, mid);
    let _ = write!(
        out,
        r#"<text class="n" x="{NAME_X}" y="{}">{}</text></g></svg>"#,
        mid + 4,
        esc(&format!(
            "{}: {}",
            c.action,
            super::outcome_word(&c.outcome)
        ))
    );
    out
}

/// A legend of the states: each shape with its symbol and its word.
pub fn legend_svg() -> String {
    let per = 160;
    let width = per * StepState::ALL.len() as u32 + 8;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="w4p legend" role="img" viewBox="0 0 {width} 40" width="{width}" height="40" aria-label="legend: "#
    );
    let words: Vec<String> = StepState::ALL
        .iter()
        .map(|s| format!("{} {} ({})", s.symbol(), s.label(), s.shape()))
        .collect();
    out.push_str(&words.join(", "));
    out.push_str(r#""><style>"#);
    out.push_str(SVG_STYLE);
    out.push_str("</style>");
    for (i, s) in StepState::ALL.iter().enumerate() {
        let x = 20 + i as u32 * per;
        shape(&mut out, *s, x, 20);
        let _ = write!(out, r#"<text x="{}" y="24">{}</text>"#, x + 18, s.label());
    }
    out.push_str("</svg>");
    out
}
