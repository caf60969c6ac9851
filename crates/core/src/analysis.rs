//! From evidence to verdict: the request context, one policy evaluation per action the upload
//! needs (`s3:PutObject`, `s3:PutObjectAcl`, ... and the KMS actions S3 performs with the
//! caller's credentials), S3's own checks outside policies, and the verdict. Evidence that
//! could not be read is evaluated at its best and its worst; a verdict those could flip is
//! `Indeterminate` and names what is missing.

pub mod derive;
mod kms;
mod s3;
mod unknown;

pub use kms::{
    KeyChoice, bucket_key_unknown, key_choice, resolved_in_caller_account, uses_bucket_key,
};
pub use s3::{
    ACCESS_POINT_ORIGIN_UNREAD, ENCRYPTION_UNREAD_FOR_SSE_C, OWNERSHIP_UNREAD,
    REQUEST_PAYMENT_UNREAD, rcp_organization,
};

use std::fmt;

use crate::context::RequestContext;
use crate::eval::{
    Decision, Evaluation, Grant, Layer, PolicySet, Request, RequestPrincipal, StatementRef,
};
use crate::evidence::{Evidence, Slot, Unavailable};
use crate::policy::{Policy, PolicyKind};
use crate::upload::UploadRequest;

/// Which service decides a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckKind {
    /// An S3 action on the object.
    S3,
    /// A KMS action S3 performs on the key with the caller's credentials.
    Kms,
}

/// A piece of evidence that was needed but could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    /// Which evidence it is; rules match on this, never on `what`.
    pub kind: crate::evidence::EvidenceKind,
    /// What it is in words, e.g. "bucket policy".
    pub what: String,
    /// Why it could not be read, and the IAM actions that would read it.
    pub unavailable: Unavailable,
}

/// A refusal by S3 or KMS outside policy evaluation, as a typed code (rules match on this).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum BlockCode {
    /// Block Public Access `BlockPublicAcls` rejects a public ACL in the request.
    BlockPublicAcls,
    /// ACLs are enabled and the bucket ACL grants the caller's account no `WRITE`.
    BucketAclNoWrite,
    /// `x-amz-expected-bucket-owner` names another account than the bucket owner.
    ExpectedBucketOwnerMismatch,
    /// The AWS managed key `aws/s3` cannot be used by another account.
    KmsAwsManagedKeyCrossAccount,
    /// The KMS key is disabled.
    KmsKeyDisabled,
    /// The KMS key is in a state that refuses cryptographic operations (other than disabled or pending deletion).
    KmsKeyInvalidState,
    /// The KMS key does not exist where S3 looks for it.
    KmsKeyNotFound,
    /// The KMS key is not a symmetric encryption key.
    KmsKeyNotSymmetric,
    /// A key of another account named by alias or bare key id, which S3 resolves in the caller's account.
    KmsKeyOtherAccountByReference,
    /// The KMS key is in another Region than the bucket.
    KmsKeyOtherRegion,
    /// The KMS key is scheduled for deletion.
    KmsKeyPendingDeletion,
    /// ACLs are disabled (`BucketOwnerEnforced`) and the request sets an ACL other than `bucket-owner-full-control`.
    ObjectOwnershipAclNotSupported,
    /// A Requester Pays bucket and no `x-amz-request-payer: requester` where it is needed.
    RequesterPaysMissingHeader,
    /// A Requester Pays bucket and an anonymous request, which it refuses whatever it sends.
    RequesterPaysAnonymous,
    /// The bucket blocks uploads with customer-provided keys (SSE-C).
    SseCBlocked,
    /// A request through an access point that the bucket's policy neither allows nor
    /// delegates to the access point (and no identity grant of the bucket owner's account
    /// stands for the bucket).
    AccessPointBucketNotPermitted,
    /// A statement of the bucket policy denies the request made through the access point.
    AccessPointBucketPolicyDeny,
    /// The access point accepts requests from one VPC only and the request came from
    /// elsewhere.
    AccessPointNetworkOrigin,
    /// The access point's own Block Public Access `BlockPublicAcls` rejects a public ACL.
    AccessPointBlockPublicAcls,
    /// The upload uses a directory bucket session created in `ReadOnly` mode.
    DirectoryBucketReadOnlySession,
}

impl BlockCode {
    /// The stable kebab-case code shown in output.
    pub fn as_str(self) -> &'static str {
        match self {
            BlockCode::BlockPublicAcls => "block-public-acls",
            BlockCode::BucketAclNoWrite => "bucket-acl-no-write",
            BlockCode::ExpectedBucketOwnerMismatch => "expected-bucket-owner-mismatch",
            BlockCode::KmsAwsManagedKeyCrossAccount => "kms-aws-managed-key-cross-account",
            BlockCode::KmsKeyDisabled => "kms-key-disabled",
            BlockCode::KmsKeyInvalidState => "kms-key-invalid-state",
            BlockCode::KmsKeyNotFound => "kms-key-not-found",
            BlockCode::KmsKeyNotSymmetric => "kms-key-not-symmetric",
            BlockCode::KmsKeyOtherAccountByReference => "kms-key-other-account-by-reference",
            BlockCode::KmsKeyOtherRegion => "kms-key-other-region",
            BlockCode::KmsKeyPendingDeletion => "kms-key-pending-deletion",
            BlockCode::ObjectOwnershipAclNotSupported => "object-ownership-acl-not-supported",
            BlockCode::RequesterPaysMissingHeader => "requester-pays-missing-header",
            BlockCode::RequesterPaysAnonymous => "requester-pays-anonymous",
            BlockCode::SseCBlocked => "sse-c-blocked",
            BlockCode::AccessPointBucketNotPermitted => "access-point-bucket-not-permitted",
            BlockCode::AccessPointBucketPolicyDeny => "access-point-bucket-policy-deny",
            BlockCode::AccessPointNetworkOrigin => "access-point-network-origin",
            BlockCode::AccessPointBlockPublicAcls => "access-point-block-public-acls",
            BlockCode::DirectoryBucketReadOnlySession => "directory-bucket-read-only-session",
        }
    }
}

impl fmt::Display for BlockCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refusal by S3 or KMS outside policy evaluation (ACLs, Block Public Access, Object
/// Ownership, key state...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// A stable code, e.g. [`BlockCode::BucketAclNoWrite`].
    pub code: BlockCode,
    /// The HTTP status AWS answers with.
    pub status: u16,
    /// AWS's error code, e.g. `AccessDenied`.
    pub aws_code: &'static str,
    /// What happened, in plain words.
    pub message: String,
}

/// Whose resource policy is the resource layer of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResourcePolicy {
    /// The bucket policy (of a general purpose or a directory bucket).
    #[default]
    Bucket,
    /// The access point policy: the request goes through an access point.
    AccessPoint,
    /// The KMS key policy.
    KeyPolicy,
}

/// The bucket's side of a request made through an access point: S3 authorizes it against the
/// access point (the check itself) and against the bucket, whose policy must allow it or
/// delegate to the access point (docs/aws-model.md#access-points).
#[derive(Debug, Clone)]
pub struct BucketSide {
    /// The bucket policy alone, as the resource layer.
    pub set: PolicySet,
    /// The request against the bucket's object ARN, with the same principal and context.
    pub request: Request,
    /// The evaluation of `request` against `set`.
    pub eval: Evaluation,
    /// Whether the bucket permits the request: `Some(true)` when its policy allows it (a
    /// delegation to access points included) or the bucket owner's own identity grant
    /// stands for it, `Some(false)` when it refuses, `None` when the policy is unreadable, or
    /// the identity policies that could stand for it are.
    pub permits: Option<bool>,
    /// The caller is of the account that owns both the bucket and the access point, and its
    /// identity policies allow the request: that grant stands for the bucket.
    pub owner_identity_grant: bool,
}

impl BucketSide {
    /// The bucket policy statements that deny the request.
    pub fn denies(&self) -> Vec<StatementRef> {
        if self.eval.decision != Decision::ExplicitlyDenied {
            return Vec::new();
        }
        self.eval
            .deciding
            .iter()
            .copied()
            .filter(|at| at.layer == Layer::Resource)
            .collect()
    }
}

/// How a check came out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckOutcome {
    /// The policies allow the action and nothing outside them refuses it.
    Allowed,
    /// Refused for certain, by a policy or by a block.
    Denied,
    /// Unreadable evidence could decide it either way.
    Indeterminate,
}

/// One authorization the upload needs.
#[derive(Debug, Clone)]
pub struct Check {
    /// Whether S3 or KMS decides it.
    pub kind: CheckKind,
    /// The action, e.g. `s3:PutObject` or `kms:GenerateDataKey`.
    pub action: String,
    /// Why the upload needs it.
    pub reason: String,
    /// The policies evaluated. Unreadable layers are filled with a stand-in (see `synthetic`)
    /// at their most permissive, so that what this evaluation denies is denied for certain.
    pub set: PolicySet,
    /// The authorization request evaluated: principal, action, resource ARN and context.
    pub request: Request,
    /// The evaluation of `request` against `set`: decision, deciding statements, and why
    /// the other statements did not apply.
    pub eval: Evaluation,
    /// The decision with every unreadable layer at its most restrictive, when there are any.
    pub worst: Option<Decision>,
    /// Layers whose policies are stand-ins for unreadable evidence.
    pub synthetic: Vec<(Layer, u16)>,
    /// Unreadable evidence that matters to this check.
    pub missing: Vec<Missing>,
    /// Refusals outside policy evaluation.
    pub blocks: Vec<Block>,
    /// A KMS grant that allows the action although the policies do not.
    pub kms_grant: Option<String>,
    /// How the check came out, combining `eval`, `worst`, `blocks` and `kms_grant`.
    pub outcome: CheckOutcome,
    /// Whose policy the resource layer of `set` is.
    pub resource_policy: ResourcePolicy,
    /// For a request through an access point, the bucket's side of it.
    pub bucket_side: Option<Box<BucketSide>>,
}

impl Check {
    /// Whether a statement reference points into a stand-in policy.
    pub fn is_synthetic(&self, layer: Layer, level: u16) -> bool {
        self.synthetic.contains(&(layer, level))
    }

    /// The check's missing evidence of these kinds.
    pub fn missing_of(&self, kinds: &[crate::evidence::EvidenceKind]) -> Vec<Missing> {
        self.missing
            .iter()
            .filter(|m| kinds.contains(&m.kind))
            .cloned()
            .collect()
    }
}

/// The overall verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every check allows the upload.
    Allowed,
    /// At least one check denies the upload for certain.
    Denied,
    /// Unreadable evidence decides it: no check denies for certain, and at least one is
    /// indeterminate, or the caller is unknown.
    Indeterminate {
        /// The unreadable evidence that matters.
        missing: Vec<Missing>,
    },
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Allowed => "allowed",
            Verdict::Denied => "denied",
            Verdict::Indeterminate { .. } => "indeterminate",
        })
    }
}

/// The analysis of one upload.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// The upload analysed.
    pub request: UploadRequest,
    /// The evidence it was analysed with.
    pub evidence: Evidence,
    /// The principal the request is evaluated as; `None` when the caller is unknown, and then
    /// there are no checks.
    pub principal: Option<RequestPrincipal>,
    /// The request context (the `aws:` and `s3:` condition keys) of the S3 checks.
    pub context: RequestContext,
    /// One check per action the upload needs: the S3 actions first, then the KMS actions.
    pub checks: Vec<Check>,
    /// Evidence without which nothing could be evaluated (no caller).
    pub missing: Vec<Missing>,
    /// The verdict over all checks.
    pub verdict: Verdict,
}

/// The time used when the request gives none: fixed, so that a diagnosis is reproducible.
/// Sources that read live evidence set the request time themselves.
pub const DEFAULT_TIME: &str = "2026-01-01T00:00:00Z";

impl Analysis {
    /// Analyses an upload.
    pub fn new(request: UploadRequest, evidence: Evidence) -> Analysis {
        let Some(principal) = derive::principal_of(&request, &evidence) else {
            let missing = vec![Missing {
                kind: crate::evidence::EvidenceKind::Caller,
                what: "the caller".into(),
                unavailable: evidence
                    .caller
                    .unavailable()
                    .cloned()
                    .unwrap_or(Unavailable {
                        reason: "no `principal` in the request and no `caller_identity`".into(),
                        needs: vec!["sts:GetCallerIdentity".into()],
                    }),
            }];
            return Analysis {
                request,
                evidence,
                principal: None,
                context: RequestContext::new(),
                checks: Vec::new(),
                missing: missing.clone(),
                verdict: Verdict::Indeterminate { missing },
            };
        };
        let context = derive::s3_context(&request, &evidence, &principal, DEFAULT_TIME);
        let mut checks = Vec::new();
        for (action, reason) in s3::actions_needed(&request) {
            checks.push(s3::check(
                &request, &evidence, &principal, &context, action, reason,
            ));
        }
        checks.extend(kms::checks(&request, &evidence, &principal, &context));
        let verdict = verdict_of(&checks);
        Analysis {
            request,
            evidence,
            principal: Some(principal),
            context,
            checks,
            missing: Vec::new(),
            verdict,
        }
    }

    /// The checks that deny.
    pub fn denied_checks(&self) -> impl Iterator<Item = &Check> {
        self.checks
            .iter()
            .filter(|c| c.outcome == CheckOutcome::Denied)
    }
}

fn verdict_of(checks: &[Check]) -> Verdict {
    if checks.iter().any(|c| c.outcome == CheckOutcome::Denied) {
        return Verdict::Denied;
    }
    if checks.iter().all(|c| c.outcome == CheckOutcome::Allowed) {
        return Verdict::Allowed;
    }
    let mut missing: Vec<Missing> = Vec::new();
    for c in checks
        .iter()
        .filter(|c| c.outcome == CheckOutcome::Indeterminate)
    {
        for m in &c.missing {
            if !missing.contains(m) {
                missing.push(m.clone());
            }
        }
    }
    Verdict::Indeterminate { missing }
}

/// How an unreadable policy layer is stood in for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stance {
    Best,
    Worst,
}

/// A stand-in policy for unreadable evidence.
pub(crate) fn stand_in(kind: PolicyKind, stance: Stance, principal: &str, what: &str) -> Policy {
    let effect = match stance {
        Stance::Best => "Allow",
        Stance::Worst => "Deny",
    };
    let principal = if kind.allows_principal() {
        match stance {
            Stance::Best if !principal.is_empty() => {
                // Quoted and escaped as JSON: the ARN comes from the input.
                let aws = serde_json::Value::from(principal);
                format!(r#""Principal":{{"AWS":{aws}}},"#)
            }
            _ => r#""Principal":"*","#.to_owned(),
        }
    } else {
        String::new()
    };
    let text = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Unreadable","Effect":"{effect}",{principal}"Action":"*","Resource":"*"}}]}}"#
    );
    let name = format!(
        "{what} (not readable: evaluated as {})",
        if stance == Stance::Best {
            "allowing"
        } else {
            "denying"
        }
    );
    Policy::parse(&name, kind, &text)
        .or_else(|_| {
            // A principal the policy language refuses (it comes from the input): any principal.
            let text = text.replacen(&principal, r#""Principal":"*","#, 1);
            Policy::parse(&name, kind, &text)
        })
        .unwrap_or_else(|e| unreachable!("stand-in policy is valid: {e}"))
}

/// Evaluates a check's policy sets at best and worst and settles its outcome.
pub(crate) fn settle(
    best: PolicySet,
    worst: Option<PolicySet>,
    request: &Request,
    blocks: &[Block],
    grant_rescue: impl Fn(&Evaluation) -> Option<String>,
) -> (Evaluation, Option<Decision>, Option<String>, CheckOutcome) {
    let eval = best.evaluate(request);
    let mut rescued = None;
    let best_ok = match eval.decision {
        Decision::Allowed => true,
        Decision::ExplicitlyDenied => false,
        Decision::ImplicitlyDenied => {
            rescued = grant_rescue(&eval);
            rescued.is_some()
        }
    };
    let worst_decision = worst.map(|w| w.evaluate(request).decision);
    let worst_ok = match worst_decision {
        None => best_ok,
        Some(Decision::Allowed) => true,
        Some(_) => false,
    };
    let outcome = if !blocks.is_empty() || !best_ok {
        CheckOutcome::Denied
    } else if worst_ok {
        CheckOutcome::Allowed
    } else {
        CheckOutcome::Indeterminate
    };
    (eval, worst_decision, rescued, outcome)
}

/// Adds an unreadable slot to `missing` (once) and says whether it is unreadable.
pub(crate) fn note_missing<T>(
    missing: &mut Vec<Missing>,
    kind: crate::evidence::EvidenceKind,
    what: &str,
    slot: &Slot<T>,
) -> bool {
    let Slot::Unavailable(u) = slot else {
        return false;
    };
    // Noted once, whichever of the reasons that make it matter comes first.
    if !missing.iter().any(|m| m.kind == kind && m.what == what) {
        missing.push(Missing {
            kind,
            what: what.to_owned(),
            unavailable: u.clone(),
        });
    }
    true
}

/// The resource-side grant an S3 bucket ACL gives the caller.
pub(crate) fn acl_grant(
    evidence: &Evidence,
    principal: &RequestPrincipal,
    ignore_public: bool,
) -> Grant {
    let Some(acl) = evidence.bucket.acl.get() else {
        return Grant::None;
    };
    if acls_disabled(evidence) {
        return Grant::None;
    }
    let caller_account = principal.account();
    let mut best = Grant::None;
    for g in acl.grants.iter().filter(|g| g.permission.allows_write()) {
        let grant = match &g.grantee {
            crate::evidence::Grantee::Group { uri }
                if uri == crate::evidence::ALL_USERS && !ignore_public =>
            {
                Grant::Star
            }
            crate::evidence::Grantee::Group { uri }
                if uri == crate::evidence::AUTHENTICATED_USERS
                    && !ignore_public
                    && !matches!(principal, RequestPrincipal::Anonymous) =>
            {
                Grant::Account
            }
            crate::evidence::Grantee::CanonicalUser { id, .. } => {
                let account = canonical_account(evidence, id).or_else(|| {
                    // The owner's canonical id is the bucket owner's account.
                    id.eq_ignore_ascii_case(&acl.owner_id)
                        .then(|| evidence.bucket.owner_account.get().map(String::as_str))
                        .flatten()
                });
                if account.is_some() && account == caller_account {
                    Grant::Account
                } else {
                    Grant::None
                }
            }
            _ => Grant::None,
        };
        best = best.max(grant);
    }
    best
}

/// ACLs are disabled under `BucketOwnerEnforced`.
pub fn acls_disabled(evidence: &Evidence) -> bool {
    matches!(
        evidence.bucket.ownership,
        Slot::Collected(crate::evidence::ObjectOwnership::BucketOwnerEnforced)
    )
}

/// The account of a canonical user id, when the evidence maps it (ids compare case-insensitively).
pub(crate) fn canonical_account<'e>(evidence: &'e Evidence, id: &str) -> Option<&'e str> {
    evidence
        .canonical_ids
        .get(id)
        .or_else(|| evidence.canonical_ids.get(&id.to_ascii_lowercase()))
        .map(String::as_str)
}
