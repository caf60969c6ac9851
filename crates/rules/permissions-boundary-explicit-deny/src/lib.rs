//! Rule `builtin/permissions-boundary-explicit-deny`: a Deny statement in the caller's
//! permissions boundary applies to an action the upload needs.

use why403_core::eval::{Layer, explain_condition_holds};
use why403_core::finding::{Change, Confidence, Fix, PolicyTarget, Role, header_fix_for};
use why403_core::rule::{Emitter, Rule, RuleContext, label};

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
        layer: "permissions-boundary",
        summary: "the permissions boundary explicitly denies the upload",
    }
}

impl Rule for PermissionsBoundaryExplicitDeny {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        for check in &cx.analysis.checks {
            for at in cx
                .denies(check)
                .into_iter()
                .filter(|at| at.layer == Layer::Boundary)
            {
                let Some((policy, st)) = cx.statement(check, at) else {
                    continue;
                };
                let f = out.emit(
                    Role::Cause,
                    Confidence::Confirmed,
                    format!(
                        "explicit deny in statement `{}` of {} denies `{}`",
                        st.label(),
                        policy.name,
                        check.action
                    ),
                );
                f.check = Some(check.action.clone());
                f.labels.push(label(
                    policy,
                    st.effect_span,
                    &format!("{}/Effect", st.pointer),
                    false,
                    "this boundary statement denies",
                ));
                let mut header_fix = None;
                for c in &st.conditions {
                    let why = explain_condition_holds(c, &check.request.context);
                    let primary = !f.labels.iter().any(|l| l.primary);
                    f.labels
                        .push(label(policy, c.key_span, &c.key_pointer, primary, why));
                    if header_fix.is_none() {
                        header_fix = header_fix_for(c);
                    }
                }
                if st.conditions.is_empty() {
                    f.labels[0].primary = true;
                    f.labels[0].message = format!("denies `{}` without conditions", check.action);
                }
                f.missing = check.missing.clone();
                f.fix = Some(match header_fix {
                    Some((changes, sentence)) => Fix::new(sentence, changes),
                    None => Fix::new(
                        format!(
                            "remove or narrow statement `{}` of {}",
                            st.label(),
                            policy.name
                        ),
                        vec![Change::RemoveStatement {
                            target: PolicyTarget::Boundary,
                            statement: st.index,
                        }],
                    ),
                });
            }
        }
    }
}
