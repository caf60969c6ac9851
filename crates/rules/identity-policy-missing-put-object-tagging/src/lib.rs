//! Rule `builtin/identity-policy-missing-put-object-tagging`: the upload sends tags
//! (`x-amz-tagging`) and no identity-based policy allows `s3:PutObjectTagging`.

use why403_core::rule::{Emitter, Rule, RuleContext, emit_identity_missing_allow};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// The upload sets tags on the new object: the `x-amz-tagging` header, which the AWS CLI
    /// sends for `aws s3api put-object --tagging "team=data"` and the SDKs for the `Tagging`
    /// parameter. Tagging an object is the separate action `s3:PutObjectTagging`, and none of
    /// the caller's identity-based policies (the user's inline and attached policies and its
    /// groups' policies, or the role's policies) allows it on the object, although
    /// `s3:PutObject` may well be allowed.
    ///
    /// ## How AWS evaluates it
    ///
    /// S3 authorizes a `PutObject` that carries `x-amz-tagging` for `s3:PutObjectTagging` as
    /// well as `s3:PutObject`; both must be allowed. Within the bucket owner's account an
    /// identity-based policy or the bucket policy must allow the action (a bucket policy that
    /// names the account only delegates to IAM); across accounts both the caller's
    /// identity-based policy and the bucket policy must allow it. Without an Allow the request
    /// is implicitly denied: `because no identity-based policy allows the
    /// s3:PutObjectTagging action`.
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
    /// with `aws s3api put-object --bucket amzn-s3-demo-bucket --key q3.csv --body q3.csv
    /// --tagging "team=data"`: the upload is refused although `s3:PutObject` is allowed.
    ///
    /// ## Fix
    ///
    /// Allow `s3:PutObjectTagging` on the bucket's objects (`arn:aws:s3:::amzn-s3-demo-bucket/*`)
    /// in a policy attached to the user, one of its groups, or the role. Alternatively, upload
    /// without tags (drop `--tagging` / `x-amz-tagging`) and tag the object later with a
    /// principal that may.
    ///
    /// ## References
    ///
    /// - <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html> (the `x-amz-tagging` header)
    /// - <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectTagging.html> ("you must have permission to perform the `s3:PutObjectTagging` action")
    /// - <https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-tagging.html> (object tagging, and tagging with access control policies)
    /// - <https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html> (`s3:PutObjectTagging`)
    /// - <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html>
    pub struct IdentityPolicyMissingPutObjectTagging {
        id: "identity-policy-missing-put-object-tagging",
        scope: "builtin",
        layer: Identity,
        summary: "the upload sends tags and no identity-based policy allows s3:PutObjectTagging",
        refines: [],
        service: S3,
        actions: ["s3:PutObjectTagging"],
        messages: [implicit(IdentityBased)],
    }
}

impl Rule for IdentityPolicyMissingPutObjectTagging {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        emit_identity_missing_allow(
            cx,
            out,
            &["s3:PutObjectTagging"],
            Some(
                "alternatively, upload without `x-amz-tagging` (`--tagging`) and have a principal allowed `s3:PutObjectTagging` tag the object",
            ),
        );
    }
}
