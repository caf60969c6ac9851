//! Rule `builtin/identity-policy-explicit-deny`: a Deny statement in one of the caller's
//! identity-based policies (user, group or role; inline or managed) applies to an action the
//! upload needs.

use why403_core::eval::Layer;
use why403_core::rule::{Emitter, Rule, RuleContext, emit_layer_denies, remove_statement_fix};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// A statement with `"Effect": "Deny"` in a policy attached to the caller matches an action
    /// the upload needs (`s3:PutObject`, `s3:PutObjectAcl`, or `kms:GenerateDataKey` /
    /// `kms:Decrypt` for SSE-KMS): an inline or managed policy of the IAM user, of a group the
    /// user belongs to, or of the role behind the session. Its `Action` and `Resource` cover the
    /// request and every condition holds. Common guards that catch uploads by surprise:
    ///
    /// - `NotIpAddress` on `aws:SourceIp`: a request that reaches S3 through a VPC endpoint
    ///   carries no public source address, the key is absent and the negated operator is true,
    ///   so the statement denies even from inside the corporate network.
    /// - `BoolIfExists` `aws:MultiFactorAuthPresent` `false`: requests signed with long-term
    ///   access keys never carry the key, and `...IfExists` is true when it is absent.
    /// - `StringNotEquals` on `aws:RequestedRegion` when the bucket is in another Region.
    ///
    /// ## How AWS evaluates it
    ///
    /// An explicit deny in any applicable policy overrides every allow: no identity policy,
    /// bucket policy, ACL or KMS permission can outweigh it. All identity-based policies of the
    /// caller are evaluated together (the user's own, those of its groups, or the role's), so a
    /// Deny in a group policy applies to every member. Condition keys that the request does not
    /// carry make negated operators (`NotIpAddress`, `StringNotEquals`...) and `...IfExists`
    /// operators true. `aws:SourceIp` holds the public address only: through a VPC endpoint
    /// the key is absent and `aws:SourceVpce` / `aws:VpcSourceIp` are set instead.
    ///
    /// ## Example
    ///
    /// ```json
    /// {
    ///   "Sid": "DenyOutsideOffice",
    ///   "Effect": "Deny",
    ///   "Action": "s3:*",
    ///   "Resource": "*",
    ///   "Condition": {
    ///     "NotIpAddress": {"aws:SourceIp": "198.51.100.0/24"}
    ///   }
    /// }
    /// ```
    ///
    /// An upload sent through the VPC endpoint `vpce-1a2b3c4d5e6f7a8b9` carries no
    /// `aws:SourceIp`, so `NotIpAddress` is true and this statement denies it.
    ///
    /// ## Fix
    ///
    /// Satisfy the condition when it tests a request header: send the header the statement
    /// expects. Otherwise remove or narrow the statement: exclude the action or resource, or
    /// rewrite the condition so that legitimate requests do not match (for example add
    /// `"Bool": {"aws:ViaAWSService": "false"}` or test `aws:SourceVpce` alongside
    /// `aws:SourceIp`). When the statement requires MFA, sign the request with temporary
    /// credentials obtained with an MFA code (`aws sts get-session-token --serial-number ...
    /// --token-code ...`) instead of changing the policy.
    ///
    /// ## References
    ///
    /// - IAM User Guide: Policy evaluation logic (explicit deny); Identity-based policies and resource-based policies
    /// - IAM User Guide: AWS global condition context keys (`aws:SourceIp`, `aws:MultiFactorAuthPresent`, `aws:RequestedRegion`)
    /// - IAM User Guide: IAM JSON policy elements: Condition operators (`...IfExists`, negated operators)
    /// - AWS Knowledge Center: Why am I getting a "403 Forbidden" error when I try to upload files in Amazon S3?
    pub struct IdentityPolicyExplicitDeny {
        id: "identity-policy-explicit-deny",
        scope: "builtin",
        layer: Identity,
        summary: "an identity-based policy statement explicitly denies the upload",
        refines: [],
        service: Any,
        actions: [],
        messages: [explicit(IdentityBased)],
    }
}

impl Rule for IdentityPolicyExplicitDeny {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        emit_layer_denies(
            cx,
            out,
            Layer::Identity,
            "this statement denies",
            remove_statement_fix,
        );
    }
}
