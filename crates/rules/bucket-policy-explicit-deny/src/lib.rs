//! Rule `builtin/bucket-policy-explicit-deny`: a Deny statement in the bucket policy applies
//! to the upload.

use why403_core::analysis::{CheckKind, CheckOutcome};
use why403_core::eval::{Decision, Layer};
use why403_core::finding::{Change, Confidence, Fix, PolicyTarget, Role};
use why403_core::rule::{DenyWording, Emitter, Rule, RuleContext, emit_explicit_deny};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// A statement of the bucket policy with `"Effect": "Deny"` matches the upload: its
    /// `Principal`, `Action` and `Resource` cover the request and every condition holds. A
    /// common case is the encryption guard from AWS's own examples, which denies `s3:PutObject`
    /// unless the request names the bucket's KMS key:
    /// `StringNotLikeIfExists` on `s3:x-amz-server-side-encryption-aws-kms-key-id`. The
    /// `...IfExists` operator is true when the key is absent, so an upload that relies on the
    /// bucket's default encryption (no encryption header) is denied too.
    ///
    /// When the bucket policy of the caller's own account cannot be read and everything else
    /// allows the upload, the rule says a deny in it is possible and names the permission that
    /// reads it (`s3:GetBucketPolicy`), instead of counting the policy as allowing.
    ///
    /// ## How AWS evaluates it
    ///
    /// An explicit deny in any applicable policy overrides every allow: identity policies,
    /// the bucket policy, ACLs and KMS permissions cannot outweigh it. Bucket policy Deny
    /// statements apply to every principal they name, in the bucket owner's account or not.
    /// Condition keys that the request does not carry make negated operators
    /// (`StringNotEquals`, `StringNotLike`, `ArnNotLike`...) and `...IfExists` operators true.
    ///
    /// ## Example
    ///
    /// ```json
    /// {
    ///   "Sid": "DenyWithoutBucketKey",
    ///   "Effect": "Deny",
    ///   "Principal": "*",
    ///   "Action": "s3:PutObject",
    ///   "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*",
    ///   "Condition": {
    ///     "StringNotLikeIfExists": {
    ///       "s3:x-amz-server-side-encryption-aws-kms-key-id": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    ///     }
    ///   }
    /// }
    /// ```
    ///
    /// An upload without encryption headers is denied by this statement.
    ///
    /// ## Fix
    ///
    /// Satisfy the condition when it tests a request header: send the header the statement
    /// expects (here `x-amz-server-side-encryption: aws:kms` and
    /// `x-amz-server-side-encryption-aws-kms-key-id` with the key's full ARN; the value is
    /// compared as a string, so an alias or a bare key id does not match). Otherwise narrow or
    /// remove the statement; only principals of the bucket owner's account can change the
    /// bucket policy.
    ///
    /// ## References
    ///
    /// - AWS Knowledge Center: Why am I getting a "403 Forbidden" error when I try to upload files in Amazon S3?
    /// - IAM User Guide: Policy evaluation logic; IAM JSON policy elements: Condition operators (`...IfExists`)
    /// - Amazon S3 User Guide: Bucket policy examples (requiring SSE-KMS)
    pub struct BucketPolicyExplicitDeny {
        id: "bucket-policy-explicit-deny",
        scope: "builtin",
        layer: BucketPolicy,
        summary: "a bucket policy statement explicitly denies the upload",
        refines: [],
        service: S3,
        actions: [],
        messages: [explicit(ResourceBased)],
    }
}

impl Rule for BucketPolicyExplicitDeny {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        // Through an access point the resource policy is the access point's, and the bucket
        // policy is the bucket's side of the request: the access point rules explain those.
        if cx.analysis.request.target.is_access_point() {
            return;
        }
        for check in cx
            .analysis
            .checks
            .iter()
            .filter(|c| c.kind == CheckKind::S3)
        {
            for at in cx
                .denies(check)
                .into_iter()
                .filter(|at| at.layer == Layer::Resource)
            {
                let Some((policy, st)) = cx.statement(check, at) else {
                    continue;
                };
                emit_explicit_deny(
                    out,
                    check,
                    at,
                    policy,
                    st,
                    DenyWording {
                        subject: format!(
                            "explicit deny in statement `{}` of the {}",
                            st.label(),
                            policy.name
                        ),
                        effect_label: "this statement denies",
                        fallback: Fix::new(
                            format!(
                                "remove or narrow statement `{}` of the bucket policy",
                                st.label()
                            ),
                            vec![Change::RemoveStatement {
                                target: PolicyTarget::BucketPolicy,
                                statement: st.index,
                            }],
                        ),
                    },
                );
            }
            // Unreadable bucket policy: it may hold a deny. Say so (with what would read it)
            // rather than count it as allowing.
            let same_account = cx
                .analysis
                .evidence
                .bucket
                .owner_account
                .get()
                .is_some_and(|o| {
                    cx.analysis.principal.as_ref().and_then(|p| p.account()) == Some(o.as_str())
                });
            if same_account
                && check.is_synthetic(Layer::Resource, 0)
                && check.outcome == CheckOutcome::Indeterminate
                && check.worst == Some(Decision::ExplicitlyDenied)
            {
                let f = out.emit(
                    Role::Cause,
                    Confidence::Possible,
                    format!(
                        "the bucket policy could not be read; a statement in it may deny `{}`",
                        check.action
                    ),
                );
                f.check = Some(check.action.clone());
                f.missing = check
                    .missing
                    .iter()
                    .filter(|m| m.kind == why403_core::rule::EvidenceKind::BucketPolicy)
                    .cloned()
                    .collect();
            }
        }
    }
}
