//! Rule `builtin/identity-policy-missing-object-lock`: the upload sends Object Lock headers and
//! no identity-based policy allows `s3:PutObjectRetention` or `s3:PutObjectLegalHold`.

use why403_core::rule::{Emitter, Rule, RuleContext, emit_identity_missing_allow};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// The upload places an Object Lock on the new object: a retention period
    /// (`x-amz-object-lock-mode` and `x-amz-object-lock-retain-until-date`, as sent by
    /// `aws s3api put-object --object-lock-mode GOVERNANCE --object-lock-retain-until-date ...`)
    /// or a legal hold (`x-amz-object-lock-legal-hold: ON`, `--object-lock-legal-hold-status`).
    /// Setting retention is the action `s3:PutObjectRetention` and setting a legal hold is
    /// `s3:PutObjectLegalHold`; none of the caller's identity-based policies allows the one
    /// the request needs, although `s3:PutObject` may well be allowed.
    ///
    /// ## How AWS evaluates it
    ///
    /// S3 authorizes a `PutObject` with Object Lock headers for the matching Object Lock
    /// action as well as for `s3:PutObject`; each must be allowed. Within the bucket owner's
    /// account an identity-based policy or the bucket policy must allow it (a bucket policy
    /// that names the account only delegates to IAM); across accounts both sides must. Without
    /// an Allow the request is implicitly denied. A bucket's default retention needs no
    /// permission from the uploader: only headers sent with the request do. (A bucket without
    /// Object Lock enabled rejects these headers with `400 InvalidRequest` instead; why403 does
    /// not read the bucket's Object Lock configuration.)
    ///
    /// ## Example
    ///
    /// ```json
    /// {
    ///   "Effect": "Allow",
    ///   "Action": "s3:PutObject",
    ///   "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*"
    /// }
    /// ```
    ///
    /// with `aws s3api put-object ... --object-lock-mode COMPLIANCE
    /// --object-lock-retain-until-date 2033-01-01T00:00:00Z`: refused for
    /// `s3:PutObjectRetention`.
    ///
    /// ## Fix
    ///
    /// Allow `s3:PutObjectRetention` (for a retention mode and date) or `s3:PutObjectLegalHold`
    /// (for a legal hold) on the bucket's objects in a policy attached to the user, one of its
    /// groups, or the role. Alternatively, upload without the Object Lock headers and let the
    /// bucket's default retention apply.
    ///
    /// ## References
    ///
    /// - <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html> (the `x-amz-object-lock-*` headers)
    /// - <https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html#object-lock-permissions> (Object Lock, "Required permissions")
    /// - <https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html> (`s3:PutObjectRetention`, `s3:PutObjectLegalHold`)
    /// - <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html>
    pub struct IdentityPolicyMissingObjectLock {
        id: "identity-policy-missing-object-lock",
        scope: "builtin",
        layer: Identity,
        summary: "no identity-based policy allows the Object Lock action the upload's headers need",
        refines: [],
        service: S3,
        actions: ["s3:PutObjectRetention", "s3:PutObjectLegalHold"],
        messages: [implicit(IdentityBased)],
    }
}

impl Rule for IdentityPolicyMissingObjectLock {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        emit_identity_missing_allow(
            cx,
            out,
            &["s3:PutObjectRetention", "s3:PutObjectLegalHold"],
            Some(
                "alternatively, upload without the `x-amz-object-lock-*` headers and rely on the bucket's default retention",
            ),
        );
    }
}
