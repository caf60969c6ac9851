//! Rule `builtin/access-point-policy-explicit-deny`: a Deny statement of the policy of the
//! access point the upload goes through applies to it.

use why403_core::analysis::{CheckKind, ResourcePolicy};
use why403_core::eval::Layer;
use why403_core::finding::{Change, Fix, PolicyTarget};
use why403_core::rule::{DenyWording, Emitter, Rule, RuleContext, emit_explicit_deny};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// The upload goes through an S3 access point (the request names
    /// `arn:aws:s3:<region>:<account>:accesspoint/<name>` or its `...-s3alias` alias), and a
    /// statement of the access point's policy with `"Effect": "Deny"` matches it: its
    /// `Principal`, `Action` and `Resource` (`<access point ARN>/object/<key>`) cover the
    /// request and every condition holds. Typical cases: a deny for every principal but one
    /// team's role (`StringNotEquals` on `aws:PrincipalArn`), a deny of uploads outside a
    /// prefix, a deny of uploads without a KMS header.
    ///
    /// ## How AWS evaluates it
    ///
    /// A request through an access point is evaluated against the access point's policy (the
    /// resource-based policy of the request, whose resource is the access point's object ARN)
    /// and, separately, against the bucket's policy. An explicit deny in either refuses it,
    /// whatever any other policy allows. AWS reports `...with an explicit deny in a
    /// resource-based policy`, and the resource it names is the access point's ARN.
    ///
    /// ## Example
    ///
    /// ```json
    /// {
    ///   "Version": "2012-10-17",
    ///   "Statement": [
    ///     {
    ///       "Sid": "OnlyFinanceTeam",
    ///       "Effect": "Deny",
    ///       "Principal": "*",
    ///       "Action": "s3:PutObject",
    ///       "Resource": "arn:aws:s3:us-east-1:111122223333:accesspoint/finance-ap/object/*",
    ///       "Condition": {
    ///         "StringNotEquals": {
    ///           "aws:PrincipalArn": "arn:aws:iam::111122223333:role/FinanceUploader"
    ///         }
    ///       }
    ///     }
    ///   ]
    /// }
    /// ```
    ///
    /// An upload through `finance-ap` by any other role is denied.
    ///
    /// ## Fix
    ///
    /// Meet the statement's condition when a request header does (send the header), or
    /// remove or narrow the statement:
    /// `aws s3control put-access-point-policy --account-id <account> --name <name> --policy file://policy.json`.
    /// When the statement is meant to keep the caller out, upload through another access point
    /// whose policy grants it.
    ///
    /// ## References
    ///
    /// - Amazon S3 User Guide: Configuring IAM policies for using access points
    /// - Amazon S3 User Guide: Access points policy examples
    /// - IAM User Guide: Policy evaluation logic
    pub struct AccessPointPolicyExplicitDeny {
        id: "access-point-policy-explicit-deny",
        scope: "builtin",
        layer: AccessPoint,
        summary: "a statement of the access point policy explicitly denies the upload",
        refines: [],
        service: S3,
        actions: [],
        messages: [explicit(ResourceBased)],
    }
}

/// The AWS CLI command that replaces the policy: a Multi-Region Access Point has its own.
fn put_policy(cx: &RuleContext<'_>) -> &'static str {
    if cx
        .analysis
        .evidence
        .access_point
        .get()
        .is_some_and(|a| a.multi_region)
    {
        "put-multi-region-access-point-policy"
    } else {
        "put-access-point-policy"
    }
}

impl Rule for AccessPointPolicyExplicitDeny {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        for check in
            cx.analysis.checks.iter().filter(|c| {
                c.kind == CheckKind::S3 && c.resource_policy == ResourcePolicy::AccessPoint
            })
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
                                "remove or narrow statement `{}` of the {} (`aws s3control {}`)",
                                st.label(),
                                policy.name,
                                put_policy(cx)
                            ),
                            vec![Change::RemoveStatement {
                                target: PolicyTarget::AccessPointPolicy,
                                statement: st.index,
                            }],
                        ),
                    },
                );
            }
        }
    }
}
