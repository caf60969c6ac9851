//! Rule `builtin/vpc-endpoint-policy-explicit-deny`: a Deny statement in the policy of the VPC
//! endpoint the upload goes through applies to an action the upload needs.

use why403_core::eval::Layer;
use why403_core::finding::{Change, Fix, PolicyTarget};
use why403_core::rule::{Emitter, Rule, RuleContext, emit_layer_denies};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// The request reaches S3 through a VPC endpoint (`VpcEndpointId` `vpce-...`), and the
    /// endpoint's policy (the "Policy" tab of the endpoint in the VPC console, `PolicyDocument`
    /// in `aws ec2 describe-vpc-endpoints`) has a statement with `"Effect": "Deny"` that matches
    /// an action the upload needs (`s3:PutObject`, or `s3:PutObjectAcl` when the request sets an
    /// ACL): its `Principal`, `Action` and `Resource` cover the request and every condition
    /// holds. Endpoint policies often deny writes outright, or deny callers outside the
    /// organization (`StringNotEquals` on `aws:PrincipalOrgID`). AWS reports
    /// `...with an explicit deny in a VPC endpoint policy`.
    ///
    /// ## How AWS evaluates it
    ///
    /// A request sent through a VPC endpoint is evaluated against the endpoint policy too, and
    /// an explicit deny in any applicable policy overrides every allow, in the identity policy
    /// and the bucket policy alike. Condition keys that the request does not carry make negated
    /// operators (`StringNotEquals`...) and `...IfExists` operators true: a caller in no
    /// organization has no `aws:PrincipalOrgID`, so a Deny unless it matches applies. The request
    /// carries `aws:SourceVpce`, not `aws:SourceIp`. Within the same organization but across
    /// accounts AWS returns a generic `Access Denied` instead.
    ///
    /// ## Example
    ///
    /// ```json
    /// {
    ///   "Sid": "DenyOutsideOrg",
    ///   "Effect": "Deny",
    ///   "Principal": "*",
    ///   "Action": "s3:*",
    ///   "Resource": "*",
    ///   "Condition": {
    ///     "StringNotEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}
    ///   }
    /// }
    /// ```
    ///
    /// A caller whose account is not in organization `o-a1b2c3d4e5` cannot upload through the
    /// endpoint.
    ///
    /// ## Fix
    ///
    /// Remove or narrow the Deny statement in the endpoint policy: exclude the action or the
    /// resource, or rewrite the condition so that legitimate uploads do not match; the account
    /// that owns the endpoint changes it with
    /// `aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-... --policy-document file://policy.json`.
    /// When the condition tests a request header, send the header it expects instead.
    /// Alternatively, send the upload through another endpoint or route.
    ///
    /// ## References
    ///
    /// - AWS PrivateLink Guide: Control access to VPC endpoints using endpoint policies
    /// - Amazon VPC User Guide: Gateway endpoints for Amazon S3 (endpoint policies)
    /// - IAM User Guide: Policy evaluation logic (explicit deny)
    /// - IAM User Guide: AWS global condition context keys (`aws:PrincipalOrgID`, `aws:SourceVpce`)
    pub struct VpcEndpointPolicyExplicitDeny {
        id: "vpc-endpoint-policy-explicit-deny",
        scope: "builtin",
        layer: VpcEndpointPolicy,
        summary: "the VPC endpoint policy explicitly denies the upload",
        refines: [],
        service: Any,
        actions: [],
        messages: [explicit(VpcEndpoint)],
    }
}

impl Rule for VpcEndpointPolicyExplicitDeny {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        emit_layer_denies(
            cx,
            out,
            Layer::VpcEndpoint,
            "this endpoint policy statement denies",
            |_at, policy, st| {
                Fix::new(
                    format!(
                        "remove or narrow statement `{}` of {}; the account that owns the endpoint changes it with `aws ec2 modify-vpc-endpoint --policy-document`",
                        st.label(),
                        policy.name
                    ),
                    vec![Change::RemoveStatement {
                        target: PolicyTarget::VpcEndpoint,
                        statement: st.index,
                    }],
                )
            },
        );
    }
}
