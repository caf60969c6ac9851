//! Rule `builtin/bucket-policy-missing-cross-account-grant`: a cross-account upload where the
//! bucket owner's side (bucket policy and bucket ACL) grants the caller nothing; when the bucket
//! policy cannot be read, a `Possible` finding that names it.

use why403_core::analysis::{CheckKind, CheckOutcome, acls_disabled};
use why403_core::eval::{Grant, Layer, RequestPrincipal};
use why403_core::finding::{Confidence, Fix, PolicyTarget, Refusal, Role};
use why403_core::rule::{Emitter, Rule, RuleContext, grant, near_miss_labels};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// The caller uploads to a bucket that belongs to another AWS account (`bucket_owner`, or
    /// the `Owner` of `aws s3api get-bucket-acl`, differs from the caller's account), and the
    /// bucket owner's account grants the caller nothing: no statement of the bucket policy
    /// allows the action to the caller, its role or its account, and no bucket ACL grant gives
    /// the caller's account `WRITE`. The caller's own identity policy may well allow the
    /// upload; that is only half of what is needed.
    ///
    /// ## How AWS evaluates it
    ///
    /// A cross-account request is evaluated twice, once in each account, and both must allow
    /// it: in the caller's account the identity-based policies (with the permissions boundary,
    /// session policy and SCPs), in the bucket owner's account the bucket policy or the bucket
    /// ACL. When the owner's side grants nothing the request is implicitly denied, and outside
    /// the bucket owner's organization AWS answers a generic `Access Denied` that does not say
    /// which side refused. The finding says it: the owner's side refuses, and whether the
    /// caller's side allows. When the bucket policy cannot be read (the caller usually lacks
    /// `s3:GetBucketPolicy` on another account's bucket) and the ACL grants nothing, the
    /// finding is `Possible` and names the missing evidence. With Object Ownership
    /// `BucketOwnerEnforced`, ACLs are disabled and only the bucket policy can grant.
    ///
    /// ## Example
    ///
    /// The role `arn:aws:iam::111122223333:role/DataPipeline` has a policy allowing
    /// `s3:PutObject` on `arn:aws:s3:::amzn-s3-demo-bucket/*`; the bucket belongs to account
    /// `444455556666` and has no bucket policy:
    ///
    /// ```json
    /// {"Version": "2012-10-17", "Statement": []}
    /// ```
    ///
    /// ## Fix
    ///
    /// In the bucket owner's account, add a bucket policy statement that allows the action on
    /// `arn:aws:s3:::amzn-s3-demo-bucket/*` to the caller's role or user ARN (or to its account
    /// `arn:aws:iam::111122223333:root`, which delegates the decision to the caller's identity
    /// policies), with `aws s3api put-bucket-policy`. The caller's account must still allow the
    /// upload in its identity policy.
    ///
    /// ## References
    ///
    /// - IAM User Guide, Cross-account policy evaluation logic: <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html>
    /// - Amazon S3 User Guide, Bucket owner granting cross-account bucket permissions: <https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-walkthroughs-managing-access-example2.html>
    /// - Amazon S3 User Guide, Troubleshoot access denied (403 Forbidden) errors: <https://docs.aws.amazon.com/AmazonS3/latest/userguide/troubleshoot-403-errors.html>
    pub struct BucketPolicyMissingCrossAccountGrant {
        id: "bucket-policy-missing-cross-account-grant",
        scope: "builtin",
        layer: BucketPolicy,
        summary: "the bucket owner's policy and ACL grant a cross-account upload nothing",
        refines: [],
        service: S3,
        actions: [],
        messages: [implicit(ResourceBased), GENERIC],
    }
}

impl Rule for BucketPolicyMissingCrossAccountGrant {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        // Through an access point the resource policy is the access point's, and the bucket
        // policy is the bucket's side of the request: the access point rules explain those.
        if cx.analysis.request.target.is_access_point() {
            return;
        }
        let a = cx.analysis;
        let Some(p @ RequestPrincipal::Aws(_)) = &a.principal else {
            return;
        };
        let Some(who) = why403_core::analysis::derive::principal_arn(p, &a.evidence) else {
            return;
        };
        let caller_account = p.account().unwrap_or_default();
        let bucket = &a.request.bucket;
        let bucket_arn = a.request.bucket_arn();
        for check in a.checks.iter().filter(|c| c.kind == CheckKind::S3) {
            if !check.request.is_cross_account() {
                continue;
            }
            let owner = check.request.resource_account.clone().unwrap_or_default();
            let acl_words = if !acls_disabled(&a.evidence) {
                format!("no bucket ACL grant gives account `{caller_account}` `WRITE`")
            } else {
                "ACLs are disabled (Object Ownership `BucketOwnerEnforced`)".to_owned()
            };
            let caller_side = if check.eval.refused_without_deny().iter().any(|b| {
                matches!(
                    b.layer,
                    Layer::Identity | Layer::Boundary | Layer::Session | Layer::Scp
                )
            }) {
                format!(
                    "the caller's account `{caller_account}` refuses it too (see the other findings); both sides must allow a cross-account upload"
                )
            } else {
                format!(
                    "the caller's account `{caller_account}` allows it; a cross-account upload also needs a grant from the bucket owner"
                )
            };
            if check.is_synthetic(Layer::Resource, 0) {
                // The bucket policy could not be read: it may or may not grant the caller.
                if check.set.acl_grant != Grant::None || check.outcome == CheckOutcome::Allowed {
                    continue;
                }
                let needs: Vec<String> = check
                    .missing
                    .iter()
                    .filter(|m| m.kind == why403_core::rule::EvidenceKind::BucketPolicy)
                    .flat_map(|m| m.unavailable.needs.iter().map(|n| format!("`{n}`")))
                    .collect();
                let reading = if needs.is_empty() {
                    String::new()
                } else {
                    format!(" (reading it needs {} on the bucket)", needs.join(", "))
                };
                let f = out.emit(
                    Role::Cause,
                    Confidence::Possible,
                    format!(
                        "the bucket policy of {bucket} in account `{owner}` could not be read{reading}; if it does not grant `{}` to `{who}`, the bucket owner refuses the upload, because {acl_words}",
                        check.action
                    ),
                );
                f.check = Some(check.action.clone());
                f.notes.push(caller_side);
                f.notes.push(format!(
                    "ask the bucket owner for the policy (`aws s3api get-bucket-policy --bucket {bucket}` run in account `{owner}`), or to grant `{}` on `{bucket_arn}/*` to `{who}`",
                    check.action
                ));
                f.missing = check.missing.clone();
                continue;
            }
            // Refused for want of the owner's grant, also when an explicit deny refuses too.
            let blocked = check
                .eval
                .refused_without_deny()
                .iter()
                .any(|b| b.layer == Layer::Resource);
            if !blocked {
                continue;
            }
            let policy_words = if check.set.resource.is_some() {
                format!("no statement of the bucket policy of {bucket} allows it")
            } else {
                format!("the bucket {bucket} has no bucket policy")
            };
            let f = cx.cause(
                out,
                check,
                Refusal::Check,
                format!(
                    "the bucket owner's account `{owner}` does not grant `{}` to `{who}` of account `{caller_account}`: {policy_words}, and {acl_words}",
                    check.action
                ),
            );
            f.notes.push(caller_side);
            f.labels
                .extend(near_miss_labels(cx, check, Layer::Resource, None));
            // A directory bucket grants on the bucket itself (`s3express:CreateSession`).
            let resource = if a.request.target.is_directory_bucket() {
                check.request.resource.clone()
            } else {
                format!("{bucket_arn}/*")
            };
            f.fix = Some(Fix::new(
                format!(
                    "in account `{owner}`, add a bucket policy statement that allows `{}` on `{resource}` to `{who}`",
                    check.action
                ),
                vec![grant(
                    PolicyTarget::BucketPolicy,
                    "AllowCrossAccountUpload",
                    &who,
                    check.action.as_str(),
                    &resource,
                )],
            ));
        }
    }
}
