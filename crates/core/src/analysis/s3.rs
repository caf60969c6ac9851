//! The S3 side of an upload: the actions it needs, their policy sets (with stand-ins for
//! unreadable evidence), and S3's own refusals outside policies.

use super::BlockCode;
use super::{
    Block, BucketSide, Check, CheckKind, CheckOutcome, Missing, ResourcePolicy, Stance, acl_grant,
    acls_disabled, note_missing, settle, stand_in,
};
use crate::context::RequestContext;
use crate::eval::{Layer, PolicySet, Request, RequestPrincipal};
use crate::evidence::EvidenceKind;
use crate::evidence::{Evidence, Grantee, NetworkOrigin, OrgPolicyType, Organization, Slot};
use crate::policy::PolicyKind;
use crate::upload::{Operation, UploadRequest};

/// The S3 actions an upload needs, with the reason for each.
pub(crate) fn actions_needed(req: &UploadRequest) -> Vec<(&'static str, String)> {
    if req.target.is_directory_bucket() {
        // Directory buckets authorize with sessions: the SDK calls `CreateSession` and signs
        // the upload with the session's credentials; the policies decide `CreateSession`, not
        // `PutObject` (S3 User Guide, Authorizing Regional endpoint API operations with IAM /
        // CreateSession).
        return vec![(
            "s3express:CreateSession",
            format!(
                "a directory bucket authorizes uploads through a `{}` session made with `CreateSession`",
                req.session_mode.as_str()
            ),
        )];
    }
    let mut out = vec![(
        "s3:PutObject",
        match req.operation {
            Operation::PutObject => "every upload needs it".to_owned(),
            Operation::Multipart => {
                "CreateMultipartUpload, UploadPart and CompleteMultipartUpload all need it"
                    .to_owned()
            }
        },
    )];
    if req.sets_acl() {
        let h = req
            .headers
            .keys()
            .find(|k| *k == "x-amz-acl" || k.starts_with("x-amz-grant-"))
            .cloned();
        out.push((
            "s3:PutObjectAcl",
            format!("the request sets an ACL (`{}`)", h.unwrap_or_default()),
        ));
    }
    if req.header("x-amz-tagging").is_some() {
        out.push((
            "s3:PutObjectTagging",
            "the request sets tags (`x-amz-tagging`)".to_owned(),
        ));
    }
    if req.header("x-amz-object-lock-mode").is_some()
        || req.header("x-amz-object-lock-retain-until-date").is_some()
    {
        out.push((
            "s3:PutObjectRetention",
            "the request sets Object Lock retention".to_owned(),
        ));
    }
    if req.header("x-amz-object-lock-legal-hold").is_some() {
        out.push((
            "s3:PutObjectLegalHold",
            "the request sets an Object Lock legal hold".to_owned(),
        ));
    }
    out
}

/// The caller-side layers (identity, boundary, session, SCPs) of a policy set, at best and at
/// worst, with what was missing.
pub(crate) struct CallerLayers {
    pub best: PolicySet,
    pub worst: PolicySet,
    pub synthetic: Vec<(Layer, u16)>,
    pub missing: Vec<Missing>,
}

pub(crate) fn caller_layers(ev: &Evidence, principal: &RequestPrincipal) -> CallerLayers {
    let mut best = PolicySet::default();
    let mut worst = PolicySet::default();
    let mut synthetic = Vec::new();
    let mut missing = Vec::new();
    if let RequestPrincipal::Aws(_) = principal {
        match &ev.identity {
            Slot::Collected(i) => {
                best.identity = i.policies.clone();
                best.boundary = i.boundary.clone().map(|b| vec![b]);
            }
            Slot::Unavailable(_) => {
                note_missing(
                    &mut missing,
                    EvidenceKind::Identity,
                    "identity policies and permissions boundary",
                    &ev.identity,
                );
                best.identity = vec![stand_in(
                    PolicyKind::Identity,
                    Stance::Best,
                    "",
                    "identity policies",
                )];
                worst.boundary = Some(vec![stand_in(
                    PolicyKind::Boundary,
                    Stance::Worst,
                    "",
                    "permissions boundary",
                )]);
                synthetic.push((Layer::Identity, 0));
                synthetic.push((Layer::Boundary, 0));
            }
            Slot::Absent | Slot::NotApplicable => {}
        }
        match &ev.session_policy {
            Slot::Collected(p) => best.session = Some(p.clone()),
            Slot::Unavailable(_) => {
                note_missing(
                    &mut missing,
                    EvidenceKind::SessionPolicy,
                    "session policy",
                    &ev.session_policy,
                );
                worst.session = Some(stand_in(
                    PolicyKind::Session,
                    Stance::Worst,
                    "",
                    "session policy",
                ));
                synthetic.push((Layer::Session, 0));
            }
            _ => {}
        }
        scp_levels(
            ev,
            principal,
            &mut best,
            &mut worst,
            &mut synthetic,
            &mut missing,
        );
    }
    // The worst case keeps every known layer.
    if worst.identity.is_empty() && !synthetic.contains(&(Layer::Identity, 0)) {
        worst.identity = best.identity.clone();
    }
    if worst.boundary.is_none() {
        worst.boundary = best.boundary.clone();
    }
    if worst.session.is_none() {
        worst.session = best.session.clone();
    }
    CallerLayers {
        best,
        worst,
        synthetic,
        missing,
    }
}

fn scp_levels(
    ev: &Evidence,
    principal: &RequestPrincipal,
    best: &mut PolicySet,
    worst: &mut PolicySet,
    synthetic: &mut Vec<(Layer, u16)>,
    missing: &mut Vec<Missing>,
) {
    let account = principal.account().unwrap_or_default();
    match &ev.caller_org {
        Slot::Collected(org) if org.management_account == account => {}
        // Not enabled, or consolidated billing only: SCPs do not apply.
        Slot::Collected(org) if org.policy_type_off(OrgPolicyType::Scp) => {}
        Slot::Collected(Organization {
            scps: Slot::Collected(levels),
            ..
        }) => {
            best.scp = levels.iter().map(|l| l.policies.clone()).collect();
            worst.scp = best.scp.clone();
        }
        Slot::Collected(Organization {
            scps: scps @ Slot::Unavailable(_),
            ..
        }) => {
            note_missing(
                missing,
                EvidenceKind::ServiceControlPolicies,
                "service control policies",
                scps,
            );
            worst.scp = vec![vec![stand_in(
                PolicyKind::Scp,
                Stance::Worst,
                "",
                "service control policies",
            )]];
            synthetic.push((Layer::Scp, 0));
        }
        Slot::Unavailable(_) => {
            note_missing(
                missing,
                EvidenceKind::CallerOrganization,
                "the caller's organization (SCPs)",
                &ev.caller_org,
            );
            worst.scp = vec![vec![stand_in(
                PolicyKind::Scp,
                Stance::Worst,
                "",
                "service control policies",
            )]];
            synthetic.push((Layer::Scp, 0));
        }
        _ => {}
    }
}

/// The organization whose RCPs apply to a resource owned by `owner` (RCPs are those of the
/// resource owner's organization: AWS Organizations User Guide, Resource control policies): the caller's when the caller owns it, the bucket
/// owner's when the bucket owner does (or the owner is unknown). `None` for a resource of a
/// third account (a KMS key of neither the caller nor the bucket owner), whose organization
/// the evidence does not hold.
pub fn rcp_organization<'e>(
    ev: &'e Evidence,
    owner: Option<&str>,
    caller_account: Option<&str>,
) -> Option<&'e Slot<Organization>> {
    if owner.is_some() && owner == caller_account {
        Some(&ev.caller_org)
    } else if owner.is_none() || owner == ev.bucket.owner_account.get().map(String::as_str) {
        Some(&ev.bucket_org)
    } else {
        None
    }
}

/// The RCP levels of the organization of a resource owned by `owner`.
pub(crate) fn rcp_levels(
    ev: &Evidence,
    owner: Option<&str>,
    caller_account: Option<&str>,
    best: &mut PolicySet,
    worst: &mut PolicySet,
    synthetic: &mut Vec<(Layer, u16)>,
    missing: &mut Vec<Missing>,
) {
    let third_party;
    let org = match rcp_organization(ev, owner, caller_account) {
        Some(org) => org,
        None => {
            third_party = Slot::Unavailable(crate::evidence::Unavailable {
                reason: format!(
                    "the organization of account `{}`, which owns the resource, is not in the evidence",
                    owner.unwrap_or_default()
                ),
                needs: vec!["organizations:DescribeOrganization".into()],
            });
            &third_party
        }
    };
    match org {
        Slot::Collected(o) if Some(o.management_account.as_str()) == owner => {}
        // Not enabled, or consolidated billing only: RCPs do not apply.
        Slot::Collected(o) if o.policy_type_off(OrgPolicyType::Rcp) => {}
        Slot::Collected(Organization {
            rcps: Slot::Collected(levels),
            ..
        }) => {
            best.rcp = levels.iter().map(|l| l.policies.clone()).collect();
            worst.rcp = best.rcp.clone();
        }
        Slot::Collected(Organization {
            rcps: rcps @ Slot::Unavailable(_),
            ..
        }) => {
            note_missing(
                missing,
                EvidenceKind::ResourceControlPolicies,
                "resource control policies",
                rcps,
            );
            worst.rcp = vec![vec![stand_in(
                PolicyKind::Rcp,
                Stance::Worst,
                "",
                "resource control policies",
            )]];
            synthetic.push((Layer::Rcp, 0));
        }
        Slot::Unavailable(_) => {
            note_missing(
                missing,
                EvidenceKind::BucketOrganization,
                "the resource owner's organization (RCPs)",
                org,
            );
            worst.rcp = vec![vec![stand_in(
                PolicyKind::Rcp,
                Stance::Worst,
                "",
                "resource control policies",
            )]];
            synthetic.push((Layer::Rcp, 0));
        }
        _ => {}
    }
}

/// One S3 action's check.
pub(crate) fn check(
    req: &UploadRequest,
    ev: &Evidence,
    principal: &RequestPrincipal,
    ctx: &RequestContext,
    action: &str,
    reason: String,
) -> Check {
    let CallerLayers {
        mut best,
        mut worst,
        mut synthetic,
        mut missing,
    } = caller_layers(ev, principal);
    let owner = ev.bucket.owner_account.get().map(String::as_str);
    if owner.is_none() {
        note_missing(
            &mut missing,
            EvidenceKind::BucketOwner,
            "the bucket owner's account",
            &ev.bucket.owner_account,
        );
    }
    let caller_account = principal.account();
    let principal_arn = super::derive::principal_arn(principal, ev).unwrap_or_default();
    let grant_to = principal.arn().map(str::to_owned).unwrap_or(principal_arn);
    // Through an access point, the access point policy is the resource policy of the request;
    // the bucket's policy is its own side (`bucket_side` below).
    let via_ap = req.target.is_access_point();
    let (resource_slot, resource_kind, resource_what) = if via_ap {
        let slot = match &ev.access_point {
            Slot::Collected(ap) => ap.policy.clone(),
            Slot::Unavailable(u) => {
                note_missing(
                    &mut missing,
                    EvidenceKind::AccessPoint,
                    "the access point",
                    &ev.access_point,
                );
                Slot::Unavailable(u.clone())
            }
            // The request names an access point, so it exists: not given is not "none".
            Slot::Absent | Slot::NotApplicable => {
                let u = Slot::<()>::missing(
                    "the access point the request names is not in the evidence",
                    &["s3:GetAccessPoint"],
                );
                note_missing(
                    &mut missing,
                    EvidenceKind::AccessPoint,
                    "the access point",
                    &u,
                );
                Slot::missing(
                    "the access point the request names is not in the evidence",
                    &["s3:GetAccessPoint", "s3:GetAccessPointPolicy"],
                )
            }
        };
        (slot, EvidenceKind::AccessPointPolicy, "access point policy")
    } else {
        (
            ev.bucket.policy.clone(),
            EvidenceKind::BucketPolicy,
            "bucket policy",
        )
    };
    match &resource_slot {
        Slot::Collected(p) => {
            best.resource = Some(p.clone());
            worst.resource = Some(p.clone());
        }
        Slot::Unavailable(_) => {
            // An unreadable access point is noted once, as the access point.
            if !via_ap || ev.access_point.get().is_some() {
                note_missing(&mut missing, resource_kind, resource_what, &resource_slot);
            }
            best.resource = Some(stand_in(
                PolicyKind::Resource,
                Stance::Best,
                &grant_to,
                resource_what,
            ));
            worst.resource = Some(stand_in(
                PolicyKind::Resource,
                Stance::Worst,
                "",
                resource_what,
            ));
            synthetic.push((Layer::Resource, 0));
        }
        _ => {}
    }
    rcp_levels(
        ev,
        owner,
        caller_account,
        &mut best,
        &mut worst,
        &mut synthetic,
        &mut missing,
    );
    match &ev.vpc_endpoint_policy {
        Slot::Collected(p) => {
            best.vpc_endpoint = Some(vec![p.clone()]);
            worst.vpc_endpoint = best.vpc_endpoint.clone();
        }
        Slot::Unavailable(_) => {
            note_missing(
                &mut missing,
                EvidenceKind::VpcEndpointPolicy,
                "VPC endpoint policy",
                &ev.vpc_endpoint_policy,
            );
            worst.vpc_endpoint = Some(vec![stand_in(
                PolicyKind::VpcEndpoint,
                Stance::Worst,
                "",
                "VPC endpoint policy",
            )]);
            synthetic.push((Layer::VpcEndpoint, 0));
        }
        _ => {}
    }
    // The account level is the organization's S3 policy's when one applies
    // (`Evidence::effective_account_public_access_block`).
    let account_bpa = ev.effective_account_public_access_block();
    let bpa = [ev.bucket.public_access_block.get(), account_bpa.get()]
        .into_iter()
        .flatten()
        .fold(crate::evidence::PublicAccessBlock::default(), |a, b| {
            a.union(*b)
        });
    let bpa_unknown = !ev.bucket.public_access_block.is_known() || !account_bpa.is_known();
    // An access point's own Block Public Access settings act with the bucket's and the
    // account's on requests through it (S3 User Guide, Managing public access to access
    // points).
    let ap_bpa = if via_ap {
        ev.access_point.get().map(|ap| ap.public_access_block)
    } else {
        None
    };
    let restrict = bpa.restrict_public_buckets || ap_bpa.is_some_and(|b| b.restrict_public_buckets);
    best.restrict_public_buckets = restrict;
    worst.restrict_public_buckets = restrict || bpa_unknown;
    best.acl_grant = acl_grant(ev, principal, bpa.ignore_public_acls);
    worst.acl_grant = acl_grant(ev, principal, bpa.ignore_public_acls || bpa_unknown);
    if best.acl_grant == crate::eval::Grant::None && !ev.bucket.acl.is_known() && !acls_disabled(ev)
    {
        note_missing(
            &mut missing,
            EvidenceKind::BucketAcl,
            "bucket ACL",
            &ev.bucket.acl,
        );
    }
    // An unread Block Public Access level matters when it could void a public ACL grant or
    // restrict a public bucket policy (S3 User Guide, Blocking public access to your Amazon S3
    // storage: IgnorePublicAcls, RestrictPublicBuckets).
    let public_policy = best
        .resource
        .as_ref()
        .is_some_and(|p| p.statements.iter().any(crate::eval::is_public_statement));
    if bpa_unknown
        && ((public_policy && !bpa.restrict_public_buckets) || best.acl_grant != worst.acl_grant)
    {
        note_public_access_blocks(&mut missing, ev);
    }

    let resource = super::derive::authorized_resource(req, ev);
    let mut request = Request::new(principal.clone(), action, &resource, ctx.clone());
    let resource_owner = if via_ap {
        super::derive::access_point_account(req, ev)
    } else {
        owner.map(str::to_owned)
    };
    request.resource_account = resource_owner.or_else(|| caller_account.map(str::to_owned));
    let primary = action == "s3:PutObject" || action == "s3express:CreateSession";
    let mut blocks = if primary {
        let mut b = blocks(ev, principal, owner, bpa.ignore_public_acls);
        b.extend(request_blocks(req, ev, principal, owner, bpa));
        if via_ap {
            b.extend(access_point_blocks(req, ev, bpa, &mut missing));
        }
        if req.target.is_directory_bucket() {
            b.extend(directory_blocks(req));
        }
        b
    } else {
        Vec::new()
    };
    let bucket_side = via_ap.then(|| {
        // The access point side's identity layer, as the bucket owner's own grant (see
        // `bucket_side`).
        // Unknown when the identity policies are stand-ins for unreadable ones.
        let identity_allows = (!synthetic.contains(&(Layer::Identity, 0))).then(|| {
            best.evaluate(&request)
                .layer(Layer::Identity, 0)
                .is_some_and(|l| l.outcome == crate::eval::Outcome::Allow)
        });
        let side = bucket_side(
            req,
            ev,
            principal,
            ctx,
            action,
            identity_allows,
            &mut missing,
        );
        if let Some(b) = side_block(req, ev, &side, action) {
            blocks.push(b);
        }
        Box::new(side)
    });
    let has_unknown = !synthetic.is_empty()
        || worst.restrict_public_buckets != best.restrict_public_buckets
        || worst.acl_grant != best.acl_grant;
    let worst = has_unknown.then_some(worst);
    let (eval, worst_decision, _, mut outcome) =
        settle(best.clone(), worst.clone(), &request, &blocks, |_| None);
    // Condition keys whose value the evidence leaves open (an unread organization...).
    let open = super::unknown::unknowns(req, ev, principal, owner, &ev.bucket.owner_account, true);
    outcome = super::unknown::settle_unknown(
        &open,
        &best,
        worst.as_ref(),
        &request,
        &blocks,
        &|_, _| None,
        outcome,
        &mut missing,
    );
    // A setting that could refuse this request but could not be read leaves the upload
    // undecided, never allowed.
    if primary
        && possible_request_blocks(req, ev, principal, owner, &mut missing)
        && outcome == CheckOutcome::Allowed
    {
        outcome = CheckOutcome::Indeterminate;
    }
    // The bucket's side could not be decided (its policy is unreadable), or where the request
    // came from could not be: undecided, never allowed.
    let side_unknown = bucket_side.as_ref().is_some_and(|b| b.permits.is_none());
    let origin_unknown = via_ap && missing.iter().any(|m| m.what == ACCESS_POINT_ORIGIN_UNREAD);
    if (side_unknown || origin_unknown) && outcome == CheckOutcome::Allowed {
        outcome = CheckOutcome::Indeterminate;
    }
    Check {
        kind: CheckKind::S3,
        action: action.to_owned(),
        reason,
        set: best,
        request,
        eval,
        worst: worst_decision,
        synthetic,
        missing,
        blocks,
        kms_grant: None,
        outcome,
        resource_policy: if via_ap {
            ResourcePolicy::AccessPoint
        } else {
            ResourcePolicy::Bucket
        },
        bucket_side,
    }
}

/// [`Missing::what`](super::Missing::what) of the VPC of the endpoint a request to a VPC-only
/// access point came through, when the evidence does not give it.
pub const ACCESS_POINT_ORIGIN_UNREAD: &str = "the VPC of the request's VPC endpoint";

/// S3's refusals of a request through an access point outside policies: a VPC-only access
/// point and a request from elsewhere (S3 User Guide, Creating access points restricted to a
/// virtual private cloud), and the access point's own `BlockPublicAcls`.
fn access_point_blocks(
    req: &UploadRequest,
    ev: &Evidence,
    bpa: crate::evidence::PublicAccessBlock,
    missing: &mut Vec<Missing>,
) -> Vec<Block> {
    let mut out = Vec::new();
    let Some(ap) = ev.access_point.get() else {
        return out;
    };
    if let NetworkOrigin::Vpc(vpc) = &ap.network_origin {
        let n = &req.network;
        let refused = match (&n.vpc_endpoint, &n.vpc) {
            (Some(_), Some(from)) if from == vpc => None,
            (Some(e), Some(from)) => Some(format!("through the VPC endpoint `{e}` of `{from}`")),
            (Some(_), None) => {
                note_missing(
                    missing,
                    EvidenceKind::VpcEndpointPolicy,
                    ACCESS_POINT_ORIGIN_UNREAD,
                    &Slot::<()>::missing(
                        "the request names its VPC endpoint but not the endpoint's VPC",
                        &["ec2:DescribeVpcEndpoints"],
                    ),
                );
                None
            }
            (None, _) => Some(match &n.source_ip {
                Some(ip) => format!("from the internet (`{ip}`), through no VPC endpoint"),
                None => "through no VPC endpoint".to_owned(),
            }),
        };
        if let Some(from) = refused {
            out.push(Block {
                code: BlockCode::AccessPointNetworkOrigin,
                status: 403,
                aws_code: "AccessDenied",
                message: format!(
                    "the access point `{}` accepts requests from the VPC `{vpc}` only (network origin `VPC`), and the request came {from}",
                    ap.name
                ),
            });
        }
    }
    if ap.public_access_block.block_public_acls && !bpa.block_public_acls && sets_public_acl(req) {
        out.push(Block {
            code: BlockCode::AccessPointBlockPublicAcls,
            status: 403,
            aws_code: "AccessDenied",
            message: format!(
                "the upload sets a public ACL and the Block Public Access setting `BlockPublicAcls` of the access point `{}` is on",
                ap.name
            ),
        });
    }
    out
}

/// S3's refusals of an upload to a directory bucket outside policies: a `ReadOnly` session
/// cannot write (S3 API Reference, CreateSession: `SessionMode`).
fn directory_blocks(req: &UploadRequest) -> Vec<Block> {
    let mut out = Vec::new();
    if req.session_mode == crate::upload::SessionMode::ReadOnly {
        out.push(Block {
            code: BlockCode::DirectoryBucketReadOnlySession,
            status: 403,
            aws_code: "AccessDenied",
            message: format!(
                "the upload to the directory bucket `{}` uses a session created with `SessionMode` `ReadOnly`, which allows reads only",
                req.bucket
            ),
        });
    }
    out
}

/// The bucket's side of a request through an access point. AWS evaluates the bucket policy
/// with the bucket's object ARN and the access point keys (`s3:DataAccessPointArn`,
/// `s3:DataAccessPointAccount`): a statement that allows the caller, or that delegates to
/// the access point (`"Principal": "*"` with a condition on those keys), permits it; a deny
/// refuses it. When the caller, the access point and the bucket are of one account, the
/// caller's identity grant through the access point is that account's own grant and
/// stands for the bucket (docs/aws-model.md#access-points, where the doubt is written down).
fn bucket_side(
    req: &UploadRequest,
    ev: &Evidence,
    principal: &RequestPrincipal,
    ctx: &RequestContext,
    action: &str,
    identity_allows: Option<bool>,
    missing: &mut Vec<Missing>,
) -> BucketSide {
    let set = PolicySet {
        resource: ev.bucket.policy.get().cloned(),
        ..Default::default()
    };
    // No resource account: the bucket policy alone decides the bucket's side (the identity
    // policies were evaluated against the access point).
    let request = Request::new(principal.clone(), action, &req.object_arn(), ctx.clone());
    let eval = set.evaluate(&request);
    let owner = ev.bucket.owner_account.get().map(String::as_str);
    let ap_account = super::derive::access_point_account(req, ev);
    let same_account =
        owner.is_some() && owner == principal.account() && ap_account.as_deref() == owner;
    let owner_identity_grant = same_account && identity_allows == Some(true);
    let policy_allows = eval
        .layer(Layer::Resource, 0)
        .is_some_and(|l| l.outcome == crate::eval::Outcome::Allow);
    let denied = eval.decision == crate::eval::Decision::ExplicitlyDenied;
    let permits = if denied {
        Some(false)
    } else if !ev.bucket.policy.is_known() {
        // An unreadable bucket policy may deny, or be all that permits.
        note_missing(
            missing,
            EvidenceKind::BucketPolicy,
            "bucket policy",
            &ev.bucket.policy,
        );
        None
    } else if policy_allows || owner_identity_grant {
        Some(true)
    } else if same_account && identity_allows.is_none() {
        // The identity policies could not be read: they may stand for the bucket.
        None
    } else {
        Some(false)
    };
    BucketSide {
        set,
        request,
        eval,
        permits,
        owner_identity_grant,
    }
}

/// The block of a bucket side that refuses.
fn side_block(
    req: &UploadRequest,
    ev: &Evidence,
    side: &BucketSide,
    action: &str,
) -> Option<Block> {
    if side.permits != Some(false) {
        return None;
    }
    let ap = super::derive::access_point_arn(req, ev).unwrap_or_default();
    let denies = side.denies();
    if let Some(at) = denies.first() {
        let sid = side
            .set
            .policy(*at)
            .and_then(|p| p.statements.get(at.statement as usize))
            .and_then(|st| st.sid.clone())
            .map_or_else(|| format!("#{}", at.statement), |s| format!("`{s}`"));
        return Some(Block {
            code: BlockCode::AccessPointBucketPolicyDeny,
            status: 403,
            aws_code: "AccessDenied",
            message: format!(
                "statement {sid} of the bucket policy of `{}` denies `{action}` through the access point `{ap}`",
                req.bucket
            ),
        });
    }
    Some(Block {
        code: BlockCode::AccessPointBucketNotPermitted,
        status: 403,
        aws_code: "AccessDenied",
        message: format!(
            "the bucket policy of `{}` neither allows `{action}` nor delegates it to the access point `{ap}`; the access point's grant needs the bucket's too",
            req.bucket
        ),
    })
}

/// S3's refusals of `PutObject` outside policy evaluation.
fn blocks(
    ev: &Evidence,
    principal: &RequestPrincipal,
    owner: Option<&str>,
    ignore_public: bool,
) -> Vec<Block> {
    let mut out = Vec::new();
    // With ACLs enabled, S3 checks the bucket ACL for the bucket owner's account: the
    // Knowledge Center lists a bucket ACL without WRITE for the account as a cause.
    if let (Some(acl), Some(owner)) = (ev.bucket.acl.get(), owner)
        && ev.bucket.ownership.is_known()
        && !acls_disabled(ev)
        && principal.account() == Some(owner)
    {
        let owner_grants_write = acl.grants.iter().any(|g| {
            g.permission.allows_write()
                && match &g.grantee {
                    Grantee::CanonicalUser { id, .. } => {
                        id.eq_ignore_ascii_case(&acl.owner_id)
                            || super::canonical_account(ev, id) == Some(owner)
                    }
                    // A public grant lets the owner's principals write too, unless ignored.
                    Grantee::Group { uri } => {
                        !ignore_public
                            && (uri == crate::evidence::ALL_USERS
                                || uri == crate::evidence::AUTHENTICATED_USERS)
                    }
                    _ => false,
                }
        });
        if !owner_grants_write {
            out.push(Block {
                code: BlockCode::BucketAclNoWrite,
                status: 403,
                aws_code: "AccessDenied",
                message: format!(
                    "the bucket ACL does not grant the bucket owner's account `{owner}` `WRITE` (or `FULL_CONTROL`)"
                ),
            });
        }
    }
    out
}

/// [`Missing::what`](super::Missing::what) of an unread Object Ownership setting, which would
/// refuse the request's ACL headers if ACLs are disabled.
pub const OWNERSHIP_UNREAD: &str = "the bucket's Object Ownership setting";
/// [`Missing::what`](super::Missing::what) of an unread Requester Pays setting, which would
/// refuse an anonymous caller, or another account's caller without `x-amz-request-payer`.
pub const REQUEST_PAYMENT_UNREAD: &str = "the bucket's Requester Pays setting";
/// [`Missing::what`](super::Missing::what) of an unread default encryption, which would
/// refuse an SSE-C upload if it blocks SSE-C.
pub const ENCRYPTION_UNREAD_FOR_SSE_C: &str =
    "the bucket's default encryption (whether it blocks SSE-C)";

/// Notes in `missing` each unreadable setting that would refuse the request if set (see the
/// constants above); returns whether there was one.
fn possible_request_blocks(
    req: &UploadRequest,
    ev: &Evidence,
    principal: &RequestPrincipal,
    owner: Option<&str>,
    missing: &mut Vec<super::Missing>,
) -> bool {
    let mut any = false;
    if sets_acl_refused_without_acls(req) {
        any |= note_missing(
            missing,
            EvidenceKind::BucketOwnership,
            OWNERSHIP_UNREAD,
            &ev.bucket.ownership,
        );
    }
    let pays = req
        .header("x-amz-request-payer")
        .is_some_and(|v| v.eq_ignore_ascii_case("requester"));
    // A Requester Pays bucket refuses an anonymous request whatever it sends, and another
    // account's request without the header.
    let anonymous = matches!(principal, RequestPrincipal::Anonymous);
    if anonymous || (!pays && owner.is_none_or(|o| principal.account() != Some(o))) {
        any |= note_missing(
            missing,
            EvidenceKind::BucketRequestPayment,
            REQUEST_PAYMENT_UNREAD,
            &ev.bucket.request_payer,
        );
    }
    if req
        .header("x-amz-server-side-encryption-customer-algorithm")
        .is_some()
    {
        any |= note_missing(
            missing,
            EvidenceKind::BucketEncryption,
            ENCRYPTION_UNREAD_FOR_SSE_C,
            &ev.bucket.encryption,
        );
    }
    // A public ACL is refused when `BlockPublicAcls` is on at either level: an unread level
    // that is not already known to block could.
    let account_bpa = ev.effective_account_public_access_block();
    let known_blocks = [ev.bucket.public_access_block.get(), account_bpa.get()]
        .into_iter()
        .flatten()
        .any(|b| b.block_public_acls);
    if sets_public_acl(req) && !known_blocks {
        any |= note_public_access_blocks(missing, ev);
    }
    any
}

/// Notes the bucket's and the account's Block Public Access settings where unreadable; says
/// whether either is.
fn note_public_access_blocks(missing: &mut Vec<super::Missing>, ev: &Evidence) -> bool {
    let bucket = note_missing(
        missing,
        EvidenceKind::BucketPublicAccessBlock,
        "the bucket's Block Public Access settings",
        &ev.bucket.public_access_block,
    );
    let account = note_missing(
        missing,
        EvidenceKind::AccountPublicAccessBlock,
        "the account's Block Public Access settings",
        &ev.effective_account_public_access_block(),
    );
    bucket || account
}

/// Whether the request sets an ACL that a bucket with ACLs disabled refuses: any ACL header
/// but `x-amz-acl: bucket-owner-full-control` alone.
fn sets_acl_refused_without_acls(req: &UploadRequest) -> bool {
    let only_bofc = req.header("x-amz-acl") == Some("bucket-owner-full-control")
        && !req.headers.keys().any(|k| k.starts_with("x-amz-grant-"));
    req.sets_acl() && !only_bofc
}

/// Canned ACLs that grant `AllUsers` or `AuthenticatedUsers`.
const PUBLIC_CANNED_ACLS: &[&str] = &["public-read", "public-read-write", "authenticated-read"];

/// Whether the request's ACL headers grant the public (a canned public ACL, or a grant header
/// naming the `AllUsers` or `AuthenticatedUsers` group).
fn sets_public_acl(req: &UploadRequest) -> bool {
    req.header("x-amz-acl")
        .is_some_and(|a| PUBLIC_CANNED_ACLS.contains(&a))
        || req.headers.iter().any(|(k, v)| {
            k.starts_with("x-amz-grant-")
                && (v.contains(crate::evidence::ALL_USERS)
                    || v.contains(crate::evidence::AUTHENTICATED_USERS))
        })
}

/// S3's refusals that depend on the request's headers (S3 User Guide: Controlling ownership of
/// objects, Blocking public access, Requester Pays buckets, Verifying bucket ownership): Object Ownership
/// with ACLs disabled, Block Public Access `BlockPublicAcls`, Requester Pays, the expected
/// bucket owner, and blocked SSE-C.
fn request_blocks(
    req: &UploadRequest,
    ev: &Evidence,
    principal: &RequestPrincipal,
    owner: Option<&str>,
    bpa: crate::evidence::PublicAccessBlock,
) -> Vec<Block> {
    let mut out = Vec::new();
    if acls_disabled(ev) && sets_acl_refused_without_acls(req) {
        out.push(Block {
            code: BlockCode::ObjectOwnershipAclNotSupported,
            status: 400,
            aws_code: "AccessControlListNotSupported",
            message: "the bucket's Object Ownership is `BucketOwnerEnforced`, so ACLs are disabled and an upload that sets an ACL other than `bucket-owner-full-control` is rejected".into(),
        });
    }
    if bpa.block_public_acls && sets_public_acl(req) {
        out.push(Block {
            code: BlockCode::BlockPublicAcls,
            status: 403,
            aws_code: "AccessDenied",
            message:
                "the upload sets a public ACL and S3 Block Public Access `BlockPublicAcls` is on"
                    .into(),
        });
    }
    let requester_pays = ev
        .bucket
        .request_payer
        .get()
        .is_some_and(|p| p == "Requester");
    if requester_pays && matches!(principal, RequestPrincipal::Anonymous) {
        // S3 User Guide, Using Requester Pays buckets: once Requester Pays is on, anonymous
        // access to the bucket is not allowed, since S3 must know whom to charge. No header
        // changes that.
        out.push(Block {
            code: BlockCode::RequesterPaysAnonymous,
            status: 403,
            aws_code: "AccessDenied",
            message: "the bucket is Requester Pays, which refuses every anonymous request: S3 must know whom to charge, so the request must be signed".into(),
        });
    } else if requester_pays
        && owner.is_some()
        && principal.account() != owner
        && !req
            .header("x-amz-request-payer")
            .is_some_and(|v| v.eq_ignore_ascii_case("requester"))
    {
        out.push(Block {
            code: BlockCode::RequesterPaysMissingHeader,
            status: 403,
            aws_code: "AccessDenied",
            message: "the bucket is Requester Pays and the request does not send `x-amz-request-payer: requester`".into(),
        });
    }
    if let (Some(expected), Some(owner)) = (req.header("x-amz-expected-bucket-owner"), owner)
        && expected != owner
    {
        out.push(Block {
            code: BlockCode::ExpectedBucketOwnerMismatch,
            status: 403,
            aws_code: "AccessDenied",
            message: format!("the request expects the bucket owner `{expected}` but the bucket belongs to `{owner}`"),
        });
    }
    if req
        .header("x-amz-server-side-encryption-customer-algorithm")
        .is_some()
        && ev
            .bucket
            .encryption
            .get()
            .is_some_and(|e| e.blocked_encryption_types.iter().any(|t| t == "SSE-C"))
    {
        out.push(Block {
            code: BlockCode::SseCBlocked,
            status: 403,
            aws_code: "AccessDenied",
            message:
                "the bucket blocks uploads that use SSE-C (`BlockedEncryptionTypes` lists `SSE-C`)"
                    .into(),
        });
    }
    out
}
