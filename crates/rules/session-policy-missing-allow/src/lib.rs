//! Rule `builtin/session-policy-missing-allow`: the session policy passed when the caller's
//! temporary credentials were created has no Allow statement for an action the upload needs.

use why403_core::analysis::CheckOutcome;
use why403_core::eval::Layer;
use why403_core::finding::{Change, Confidence, Fix, PolicyTarget, Refusal, Role};
use why403_core::policy::Policy;
use why403_core::rule::{
    Emitter, EvidenceKind, Rule, RuleContext, emit_missing_allow, resource_policy_allows,
};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// The caller uses temporary credentials (a role session from `AssumeRole`,
    /// `AssumeRoleWithWebIdentity` or `AssumeRoleWithSAML`, or a federated user from
    /// `GetFederationToken`) that were requested with a session policy (the `Policy` or
    /// `PolicyArns` parameter, `--policy` / `--policy-arns` in `aws sts assume-role`), and no
    /// statement of that session policy allows an action the upload needs: `s3:PutObject`,
    /// `s3:PutObjectAcl` when the request sets an ACL, or `kms:GenerateDataKey` / `kms:Decrypt`
    /// for SSE-KMS. The role's own policy may allow the action: the session policy still
    /// limits the session. AWS reports `...because no session policy allows the s3:PutObject
    /// action`.
    ///
    /// ## How AWS evaluates it
    ///
    /// A session policy limits the permissions of the session it was passed to: the effective
    /// permissions are the intersection of the role's (or federated user's) identity policies
    /// and the session policy, so an action the session policy does not allow is implicitly
    /// denied. AWS never stores the session policy where it can be read back, so the scenario
    /// must give it in `session_policy`. Within one account, a bucket policy grant that names
    /// the session ARN (`arn:aws:sts::<account>:assumed-role/<role>/<session>`) or the
    /// federated-user ARN is not limited by the session policy; a grant that names the role
    /// ARN is. A role session created without a session policy is not limited. An explicit
    /// deny in the session policy is another rule (`session-policy-explicit-deny`).
    ///
    /// ## Example
    ///
    /// ```json
    /// {
    ///   "Version": "2012-10-17",
    ///   "Statement": [
    ///     {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*"}
    ///   ]
    /// }
    /// ```
    ///
    /// Passed as `--policy` to `aws sts assume-role` for a role whose own policy allows
    /// `s3:PutObject` on `arn:aws:s3:::amzn-s3-demo-bucket/*`, this session policy refuses
    /// every upload made with the resulting credentials.
    ///
    /// ## Fix
    ///
    /// Request new credentials with a session policy that also allows the action on
    /// `arn:aws:s3:::amzn-s3-demo-bucket/*` (a session policy cannot be changed after the
    /// session is created). Alternatives: request the credentials without a session policy, or,
    /// in the bucket owner's account, grant the upload in the bucket policy to the session ARN.
    ///
    /// ## References
    ///
    /// - IAM User Guide: Policies and permissions in IAM (session policies)
    /// - IAM User Guide: Policy evaluation logic (determining whether a request is allowed within an account)
    /// - AWS STS API Reference: AssumeRole (`Policy` and `PolicyArns` parameters)
    /// - IAM User Guide: Troubleshoot access denied error messages
    pub struct SessionPolicyMissingAllow {
        id: "session-policy-missing-allow",
        scope: "builtin",
        layer: SessionPolicy,
        summary: "the session policy does not allow the upload",
        refines: [],
        service: Any,
        actions: [],
        messages: [implicit(SessionPolicy)],
    }
}

impl Rule for SessionPolicyMissingAllow {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        let name = |p: Option<&Policy>| {
            p.map_or_else(|| "the session policy".to_owned(), |p| p.name.clone())
        };
        emit_missing_allow(cx, out, Layer::Session, name, |f, check, _, resource| {
            if resource_policy_allows(cx, check) {
                f.notes.push(
                    "the bucket policy allows the action, but it names the role (or the account), so the session policy still limits it; within one account a grant that names the session ARN is not limited by the session policy".to_owned(),
                );
            }
            f.fix = Some(Fix::new(
                format!(
                    "request new credentials (AssumeRole / GetFederationToken) with a session policy that allows `{}` on `{resource}`; a session policy cannot be changed after the session is created",
                    check.action
                ),
                vec![Change::AddStatement {
                    target: PolicyTarget::Session,
                    statement: serde_json::json!({
                        "Effect": "Allow",
                        "Action": check.action,
                        "Resource": resource,
                    }),
                }],
            ));
        });
        // The session policy could not be read (AWS never returns it) and it is what leaves
        // the check undecided: it is one possible explanation.
        for check in cx.analysis.checks.iter().filter(|c| {
            c.outcome == CheckOutcome::Indeterminate && c.is_synthetic(Layer::Session, 0)
        }) {
            let missing = check.missing_of(&[EvidenceKind::SessionPolicy]);
            if missing.is_empty() {
                continue;
            }
            let f = out.emit(
                Role::Cause,
                Confidence::Possible,
                format!(
                    "the session policy passed with the caller's credentials could not be read; it may not allow `{}`",
                    check.action
                ),
            );
            f.claim(&check.action, Refusal::Unread(EvidenceKind::SessionPolicy));
            f.notes.push(
                "AWS never returns a session policy: ask whoever requested the credentials (the `Policy` or `PolicyArns` of AssumeRole / GetFederationToken), or state it in a scenario file".to_owned(),
            );
            f.missing = missing;
        }
    }
}
