//! Rule `builtin/identity-policy-missing-put-object`: no identity-based policy allows the S3
//! action the upload needs (`s3:PutObject`, or `s3:PutObjectAcl` when it sets an ACL).

use why403_core::rule::{Emitter, Rule, RuleContext, emit_identity_missing_allow};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// None of the caller's identity-based policies (the user's inline and attached policies
    /// and its groups' policies, or the role's policies) allows the S3 action the upload needs
    /// on the object: `s3:PutObject` for every upload, and also `s3:PutObjectAcl` when the
    /// request sets an ACL (`x-amz-acl` or `x-amz-grant-*`). The classic mistake is a statement
    /// whose `Resource` is the bucket ARN `arn:aws:s3:::bucket`: objects are
    /// `arn:aws:s3:::bucket/key`, so it never matches an upload. Tags (`x-amz-tagging`) and
    /// Object Lock headers need further actions, which the rules
    /// `identity-policy-missing-put-object-tagging` and `identity-policy-missing-object-lock`
    /// report.
    ///
    /// ## How AWS evaluates it
    ///
    /// Within the bucket owner's account a request is allowed when an identity-based policy
    /// or the bucket policy allows it (and nothing denies it). A bucket policy that names the
    /// account (its root ARN or id) only delegates to IAM, so an identity-based Allow is still
    /// needed. Across accounts both the caller's identity-based policy and the bucket's
    /// policy or ACL must allow.
    ///
    /// ## Example
    ///
    /// ```json
    /// {
    ///   "Effect": "Allow",
    ///   "Action": "s3:PutObject",
    ///   "Resource": "arn:aws:s3:::amzn-s3-demo-bucket"
    /// }
    /// ```
    ///
    /// The statement names the bucket, not its objects: uploads are implicitly denied.
    ///
    /// ## Fix
    ///
    /// Allow the action on the objects, `arn:aws:s3:::amzn-s3-demo-bucket/*` (or a prefix of
    /// them), in a policy attached to the user, one of its groups, or the role. When the upload
    /// sets an ACL, allow `s3:PutObjectAcl` too, or stop sending ACL headers.
    ///
    /// ## References
    ///
    /// - AWS Knowledge Center: Why am I getting a "403 Forbidden" error when I try to upload files in Amazon S3?
    /// - Amazon S3 API Reference: PutObject, "Permissions"
    /// - IAM User Guide: Policy evaluation logic (determining whether a request is allowed within an account)
    pub struct IdentityPolicyMissingPutObject {
        id: "identity-policy-missing-put-object",
        scope: "builtin",
        layer: Identity,
        summary: "no identity-based policy allows the S3 action the upload needs",
        refines: [],
        service: S3,
        actions: ["s3:PutObject", "s3:PutObjectAcl"],
        messages: [implicit(IdentityBased)],
    }
}

impl Rule for IdentityPolicyMissingPutObject {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        // `s3:PutObjectTagging` and the Object Lock actions have rules of their own.
        emit_identity_missing_allow(cx, out, &["s3:PutObject", "s3:PutObjectAcl"], None);
    }
}
