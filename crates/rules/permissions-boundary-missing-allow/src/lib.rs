//! Rule `builtin/permissions-boundary-missing-allow`: the caller's permissions boundary has no
//! Allow statement for an action the upload needs, so the boundary caps the identity policy.

use why403_core::eval::Layer;
use why403_core::finding::{Change, Fix, PolicyTarget};
use why403_core::policy::Policy;
use why403_core::rule::{Emitter, Rule, RuleContext, emit_missing_allow, resource_policy_allows};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// The IAM user or role that makes the upload has a permissions boundary (the managed
    /// policy shown under "Permissions boundary" in the IAM console, `PermissionsBoundary` in
    /// `aws iam get-user` / `aws iam get-role`) and no statement of it allows an action the
    /// upload needs: `s3:PutObject`, `s3:PutObjectAcl` when the request sets an ACL, or
    /// `kms:GenerateDataKey` / `kms:Decrypt` for SSE-KMS. The identity policy may allow the
    /// action: the boundary still caps it. AWS reports `...because no permissions boundary
    /// allows the s3:PutObject action`.
    ///
    /// ## How AWS evaluates it
    ///
    /// A permissions boundary sets the maximum permissions of an identity: the effective
    /// permissions are the intersection of the identity-based policies and the boundary, so an
    /// action the boundary does not allow is implicitly denied. Within one account, a bucket
    /// policy grant is not capped when it names the IAM user ARN or the role session ARN
    /// directly: such a grant allows the upload even though the boundary does not. A bucket
    /// policy grant that names the role ARN is still capped by the boundary. An explicit deny
    /// in the boundary is another rule (`permissions-boundary-explicit-deny`).
    ///
    /// ## Example
    ///
    /// ```json
    /// {
    ///   "Version": "2012-10-17",
    ///   "Statement": [
    ///     {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}
    ///   ]
    /// }
    /// ```
    ///
    /// Used as the boundary of a role whose own policy allows `s3:PutObject` on
    /// `arn:aws:s3:::amzn-s3-demo-bucket/*`, this boundary refuses every upload.
    ///
    /// ## Fix
    ///
    /// Add a statement to the boundary policy that allows the action on
    /// `arn:aws:s3:::amzn-s3-demo-bucket/*` (or a prefix of it). Alternatives: attach another
    /// boundary that allows it (`aws iam put-user-permissions-boundary` /
    /// `aws iam put-role-permissions-boundary`), remove the boundary when it is not needed, or,
    /// in the bucket owner's account, grant the upload in the bucket policy to the user ARN or
    /// the session ARN.
    ///
    /// ## References
    ///
    /// - IAM User Guide: Permissions boundaries for IAM entities
    /// - IAM User Guide: Policy evaluation logic (determining whether a request is allowed within an account)
    /// - IAM User Guide: Troubleshoot access denied error messages
    /// - AWS Knowledge Center: Why am I getting a "403 Forbidden" error when I try to upload files in Amazon S3?
    pub struct PermissionsBoundaryMissingAllow {
        id: "permissions-boundary-missing-allow",
        scope: "builtin",
        layer: PermissionsBoundary,
        summary: "the permissions boundary does not allow the upload",
        refines: [],
        service: Any,
        actions: [],
        messages: [implicit(PermissionsBoundary)],
    }
}

impl Rule for PermissionsBoundaryMissingAllow {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        let name = |p: Option<&Policy>| {
            p.map_or_else(
                || "the permissions boundary".to_owned(),
                |p| match p.name.strip_prefix("permissions boundary ") {
                    Some(arn) => format!("permissions boundary `{arn}`"),
                    None => p.name.clone(),
                },
            )
        };
        emit_missing_allow(
            cx,
            out,
            Layer::Boundary,
            name,
            |f, check, name, resource| {
                if resource_policy_allows(cx, check) {
                    f.notes.push(
                    "the bucket policy allows the action, but it names the role (or the account), so the boundary still caps it; within one account a grant that names the IAM user ARN or the role session ARN is not capped by the boundary".to_owned(),
                );
                }
                f.fix = Some(Fix::new(
                    format!("allow `{}` on `{resource}` in {name}", check.action),
                    vec![Change::AddStatement {
                        target: PolicyTarget::Boundary,
                        statement: serde_json::json!({
                            "Effect": "Allow",
                            "Action": check.action,
                            "Resource": resource,
                        }),
                    }],
                ));
            },
        );
    }
}
