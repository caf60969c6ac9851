//! Rule `builtin/session-policy-explicit-deny`: a Deny statement in the session policy passed
//! when the caller's temporary credentials were created applies to an action the upload needs.

use why403_core::eval::{Layer, explain_condition_holds};
use why403_core::finding::{Change, Confidence, Fix, PolicyTarget, Role, header_fix_for};
use why403_core::rule::{Emitter, Rule, RuleContext, label};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// The caller's temporary credentials were requested with a session policy (the `Policy`
    /// or `PolicyArns` parameter of `AssumeRole`, `AssumeRoleWithWebIdentity`,
    /// `AssumeRoleWithSAML` or `GetFederationToken`; `--policy` / `--policy-arns` in the AWS
    /// CLI) that has a statement with `"Effect": "Deny"` matching an action the upload needs
    /// (`s3:PutObject`, `s3:PutObjectAcl`, or `kms:GenerateDataKey` / `kms:Decrypt` for
    /// SSE-KMS): its `Action` and `Resource` cover the request and every condition holds. AWS
    /// reports `...with an explicit deny in a session policy`.
    ///
    /// ## How AWS evaluates it
    ///
    /// An explicit deny in any applicable policy overrides every allow, and a session policy's
    /// Deny is no exception: unlike the session policy's implicit deny, it also overrides a
    /// bucket policy that names the session ARN. AWS never stores the session policy where it
    /// can be read back, so the scenario must give it in `session_policy`. Condition keys that
    /// the request does not carry make negated operators (`StringNotEquals`, `NotIpAddress`...)
    /// and `...IfExists` operators true.
    ///
    /// ## Example
    ///
    /// ```json
    /// {
    ///   "Sid": "NoWrites",
    ///   "Effect": "Deny",
    ///   "Action": "s3:PutObject",
    ///   "Resource": "*"
    /// }
    /// ```
    ///
    /// In the session policy passed to `aws sts assume-role --policy`, this statement refuses
    /// every upload made with the resulting credentials, whatever the role's policy allows.
    ///
    /// ## Fix
    ///
    /// Request new credentials with a session policy whose Deny statement no longer matches
    /// the upload (remove it, or exclude the action or the resource, or rewrite its condition);
    /// a session policy cannot be changed after the session is created. When the condition
    /// tests a request header, send the header it expects instead. Alternatively, request the
    /// credentials without a session policy.
    ///
    /// ## References
    ///
    /// - IAM User Guide: Policies and permissions in IAM (session policies)
    /// - IAM User Guide: Policy evaluation logic (explicit deny)
    /// - AWS STS API Reference: AssumeRole (`Policy` and `PolicyArns` parameters)
    /// - IAM User Guide: Troubleshoot access denied error messages
    pub struct SessionPolicyExplicitDeny {
        id: "session-policy-explicit-deny",
        scope: "builtin",
        layer: "session-policy",
        summary: "the session policy explicitly denies the upload",
    }
}

impl Rule for SessionPolicyExplicitDeny {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        for check in &cx.analysis.checks {
            for at in cx
                .denies(check)
                .into_iter()
                .filter(|at| at.layer == Layer::Session)
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
                    "this session policy statement denies",
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
                            "request new credentials (AssumeRole / GetFederationToken) with a session policy without statement `{}`, or with it narrowed so that it does not match the upload; a session policy cannot be changed after the session is created",
                            st.label()
                        ),
                        vec![Change::RemoveStatement {
                            target: PolicyTarget::Session,
                            statement: st.index,
                        }],
                    ),
                });
            }
        }
    }
}
