//! Rule `builtin/session-policy-explicit-deny`: a Deny statement in the session policy passed
//! when the caller's temporary credentials were created applies to an action the upload needs.

use why403_core::eval::Layer;
use why403_core::finding::{Change, Fix, PolicyTarget};
use why403_core::rule::{Emitter, Rule, RuleContext, emit_layer_denies};

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
        layer: SessionPolicy,
        summary: "the session policy explicitly denies the upload",
        refines: [],
        service: Any,
        actions: [],
        messages: [explicit(SessionPolicy)],
    }
}

impl Rule for SessionPolicyExplicitDeny {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        emit_layer_denies(
            cx,
            out,
            Layer::Session,
            "this session policy statement denies",
            |_at, _policy, st| {
                Fix::new(
                    format!(
                        "request new credentials (AssumeRole / GetFederationToken) with a session policy without statement `{}`, or with it narrowed so that it does not match the upload; a session policy cannot be changed after the session is created",
                        st.label()
                    ),
                    vec![Change::RemoveStatement {
                        target: PolicyTarget::Session,
                        statement: st.index,
                    }],
                )
            },
        );
    }
}
