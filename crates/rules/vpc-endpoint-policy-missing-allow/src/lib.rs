//! Rule `builtin/vpc-endpoint-policy-missing-allow`: the upload goes through a VPC endpoint whose
//! custom endpoint policy has no Allow statement for an action the upload needs.

use why403_core::eval::Layer;
use why403_core::finding::{Change, Fix, PolicyTarget};
use why403_core::policy::Policy;
use why403_core::rule::{Emitter, Rule, RuleContext, emit_missing_allow};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// The request reaches S3 through a VPC endpoint (a gateway or interface endpoint for
    /// `com.amazonaws.<region>.s3`, `VpcEndpointId` `vpce-...`), and the endpoint's policy
    /// (the "Policy" tab of the endpoint in the VPC console, `PolicyDocument` in
    /// `aws ec2 describe-vpc-endpoints`) has been replaced by a custom one with no statement
    /// that allows an action the upload needs (`s3:PutObject`, or `s3:PutObjectAcl` when the
    /// request sets an ACL) for this bucket and caller. Typical causes: the policy allows only
    /// `s3:GetObject`, only another bucket, or only a named principal. AWS reports
    /// `...because no VPC endpoint policy allows the s3:PutObject action`.
    ///
    /// ## How AWS evaluates it
    ///
    /// A request sent through a VPC endpoint must be allowed by the endpoint policy as well as
    /// by the identity and resource policies: an endpoint policy does not grant anything, and
    /// an action it does not allow is implicitly denied. The default endpoint policy allows
    /// everything (`"Action": "*"`, `"Resource": "*"`, `"Principal": "*"`). Such a request
    /// carries `aws:SourceVpce` (and `aws:VpcSourceIp`), not `aws:SourceIp`. Within the same
    /// organization but across accounts AWS returns a generic `Access Denied` instead. An
    /// explicit deny in the endpoint policy is another rule (`vpc-endpoint-policy-explicit-deny`).
    ///
    /// ## Example
    ///
    /// ```json
    /// {
    ///   "Version": "2012-10-17",
    ///   "Statement": [
    ///     {
    ///       "Effect": "Allow",
    ///       "Principal": "*",
    ///       "Action": "s3:GetObject",
    ///       "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*"
    ///     }
    ///   ]
    /// }
    /// ```
    ///
    /// As the policy of the endpoint the upload goes through, this refuses every upload to
    /// `amzn-s3-demo-bucket`, whatever the caller's own policies allow.
    ///
    /// ## Fix
    ///
    /// Add a statement to the endpoint policy that allows the action on
    /// `arn:aws:s3:::amzn-s3-demo-bucket/*` (or a prefix of it) for the caller; the account that
    /// owns the endpoint changes it with
    /// `aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-... --policy-document file://policy.json`.
    /// Alternatives: restore the default full-access policy
    /// (`aws ec2 modify-vpc-endpoint --reset-policy`), or send the upload through another
    /// endpoint or route whose policy allows it.
    ///
    /// ## References
    ///
    /// - AWS PrivateLink Guide: Control access to VPC endpoints using endpoint policies
    /// - Amazon VPC User Guide: Gateway endpoints for Amazon S3 (endpoint policies)
    /// - IAM User Guide: Troubleshoot access denied error messages
    /// - IAM User Guide: AWS global condition context keys (`aws:SourceVpce`, `aws:SourceIp`)
    pub struct VpcEndpointPolicyMissingAllow {
        id: "vpc-endpoint-policy-missing-allow",
        scope: "builtin",
        layer: VpcEndpointPolicy,
        summary: "the VPC endpoint policy does not allow the upload",
        refines: [],
        service: Any,
        actions: [],
        messages: [implicit(VpcEndpoint)],
    }
}

impl Rule for VpcEndpointPolicyMissingAllow {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        let name = |p: Option<&Policy>| {
            p.map_or_else(
                || "the VPC endpoint policy".to_owned(),
                |p| match p.name.strip_prefix("VPC endpoint policy of ") {
                    Some(id) => format!("the VPC endpoint policy of `{id}`"),
                    None => format!("the {}", p.name),
                },
            )
        };
        emit_missing_allow(
            cx,
            out,
            Layer::VpcEndpoint,
            name,
            |f, check, name, resource| {
                f.fix = Some(Fix::new(
                    format!(
                        "allow `{}` on `{resource}` in {name}; the account that owns the endpoint changes it with `aws ec2 modify-vpc-endpoint --policy-document`",
                        check.action
                    ),
                    vec![Change::AddStatement {
                        target: PolicyTarget::VpcEndpoint,
                        statement: serde_json::json!({
                            "Effect": "Allow",
                            "Principal": "*",
                            "Action": check.action,
                            "Resource": resource,
                        }),
                    }],
                ));
            },
        );
    }
}
