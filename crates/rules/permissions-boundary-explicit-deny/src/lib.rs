//! Rule `builtin/permissions-boundary-explicit-deny`: a Deny statement in the caller's
//! permissions boundary applies to an action the upload needs.

use why403_core::eval::Layer;
use why403_core::rule::{Emitter, Rule, RuleContext, emit_layer_denies, remove_statement_fix};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// The managed policy set as the permissions boundary of the IAM user or role (shown under
    /// "Permissions boundary" in the IAM console, `PermissionsBoundary` in `aws iam get-user` /
    /// `aws iam get-role`) has a statement with `"Effect": "Deny"` that matches an action the
    /// upload needs (`s3:PutObject`, `s3:PutObjectAcl`, or `kms:GenerateDataKey` /
    /// `kms:Decrypt` for SSE-KMS): its `Action` and `Resource` cover the request and every
    /// condition holds. AWS reports `...with an explicit deny in a permissions boundary`.
    /// Boundaries often deny broadly (`s3:*`) or outside approved Regions
    /// (`StringNotEquals` on `aws:RequestedRegion`).
    ///
    /// ## How AWS evaluates it
    ///
    /// An explicit deny in any applicable policy overrides every allow, and a boundary's Deny
    /// is no exception: unlike the boundary's implicit deny, it also overrides a bucket policy
    /// that names the IAM user ARN or the session ARN. Condition keys that the request does not
    /// carry make negated operators (`StringNotEquals`, `NotIpAddress`...) and `...IfExists`
    /// operators true.
    ///
    /// ## Example
    ///
    /// ```json
    /// {
    ///   "Sid": "DenyOutsideEu",
    ///   "Effect": "Deny",
    ///   "Action": "s3:*",
    ///   "Resource": "*",
    ///   "Condition": {
    ///     "StringNotEquals": {"aws:RequestedRegion": "eu-west-1"}
    ///   }
    /// }
    /// ```
    ///
    /// An upload sent to a bucket in `us-east-1` has `aws:RequestedRegion` `us-east-1`, so the
    /// condition holds and the boundary denies it.
    ///
    /// ## Fix
    ///
    /// Remove or narrow the Deny statement in the boundary policy: exclude the action or the
    /// resource, or rewrite the condition so that legitimate uploads do not match. When the
    /// condition tests a request header, send the header it expects instead. Alternatively,
    /// attach a different boundary (`aws iam put-user-permissions-boundary` /
    /// `aws iam put-role-permissions-boundary`).
    ///
    /// ## References
    ///
    /// - IAM User Guide: Permissions boundaries for IAM entities
    /// - IAM User Guide: Policy evaluation logic (explicit deny)
    /// - IAM User Guide: Troubleshoot access denied error messages
    /// - IAM User Guide: IAM JSON policy elements: Condition operators (`...IfExists`, negated operators)
    pub struct PermissionsBoundaryExplicitDeny {
        id: "permissions-boundary-explicit-deny",
        scope: "builtin",
        layer: PermissionsBoundary,
        summary: "the permissions boundary explicitly denies the upload",
        refines: [],
        service: Any,
        actions: [],
        messages: [explicit(PermissionsBoundary)],
    }
}

impl Rule for PermissionsBoundaryExplicitDeny {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        emit_layer_denies(
            cx,
            out,
            Layer::Boundary,
            "this boundary statement denies",
            remove_statement_fix,
        );
    }
}
