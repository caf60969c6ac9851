//! Rule `builtin/vpc-endpoint-policy-missing-allow`: the upload goes through a VPC endpoint whose
//! custom endpoint policy has no Allow statement for an action the upload needs.

use why403_core::eval::{Element, Layer, Match, StatementRef, explain_miss};
use why403_core::finding::{Change, Confidence, Fix, PolicyTarget, Role};
use why403_core::policy::Effect;
use why403_core::rule::{Emitter, Rule, RuleContext, label};

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
        layer: "vpc-endpoint-policy",
        summary: "the VPC endpoint policy does not allow the upload",
    }
}

impl Rule for VpcEndpointPolicyMissingAllow {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        let bucket_arn = cx.analysis.request.bucket_arn();
        for check in &cx.analysis.checks {
            // Also when an explicit deny elsewhere refuses too (two causes).
            for level in check
                .eval
                .refused_without_deny()
                .iter()
                .filter(|b| b.layer == Layer::VpcEndpoint)
                .map(|b| b.level)
            {
                if check.is_synthetic(Layer::VpcEndpoint, level) {
                    continue;
                }
                let at0 = StatementRef {
                    layer: Layer::VpcEndpoint,
                    level,
                    policy: 0,
                    statement: 0,
                };
                let name = check.set.policy(at0).map_or_else(
                    || "the VPC endpoint policy".to_owned(),
                    |p| match p.name.strip_prefix("VPC endpoint policy of ") {
                        Some(id) => format!("the VPC endpoint policy of `{id}`"),
                        None => format!("the {}", p.name),
                    },
                );
                let mut near = Vec::new();
                for (at, m) in cx.traces(check, Layer::VpcEndpoint) {
                    if at.level != level {
                        continue;
                    }
                    let Match::Miss(miss) = m else { continue };
                    let Some((policy, st)) = cx.statement(check, at) else {
                        continue;
                    };
                    if st.effect != Effect::Allow || miss.element == Element::Action {
                        continue;
                    }
                    near.push((policy, explain_miss(st, &miss, &check.request)));
                }
                let confidence = if check.missing.is_empty() {
                    Confidence::Confirmed
                } else {
                    Confidence::Likely
                };
                let f = out.emit(
                    Role::Cause,
                    confidence,
                    format!("{name} does not allow `{}`", check.action),
                );
                f.check = Some(check.action.clone());
                f.notes.push(format!(
                    "the upload needs `{}` because {}",
                    check.action, check.reason
                ));
                for (i, (policy, e)) in near.iter().enumerate() {
                    f.labels
                        .push(label(policy, e.span, &e.pointer, i == 0, e.message.clone()));
                }
                f.missing = check.missing.clone();
                let resource = if check.action.starts_with("s3:") {
                    format!("{bucket_arn}/*")
                } else {
                    check.request.resource.clone()
                };
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
            }
        }
    }
}
