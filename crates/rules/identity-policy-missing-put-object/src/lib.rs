//! Rule `builtin/identity-policy-missing-put-object`: no identity-based policy allows the S3
//! action the upload needs (`s3:PutObject`, or `s3:PutObjectAcl` when it sets an ACL).

use why403_core::analysis::{CheckKind, CheckOutcome};
use why403_core::eval::{Decision, Element, Layer, Match, RequestPrincipal, explain_miss};
use why403_core::finding::{Change, Confidence, Fix, PolicyTarget, Role, statement_json};
use why403_core::policy::{Effect, ResourcePattern};
use why403_core::rule::{Emitter, Rule, RuleContext, label};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// None of the caller's identity-based policies (the user's inline and attached policies
    /// and its groups' policies, or the role's policies) allows the S3 action the upload needs
    /// on the object: `s3:PutObject` for every upload, and also `s3:PutObjectAcl` when the
    /// request sets an ACL (`x-amz-acl` or `x-amz-grant-*`). The classic mistake is a statement
    /// whose `Resource` is the bucket ARN `arn:aws:s3:::bucket`: objects are
    /// `arn:aws:s3:::bucket/key`, so it never matches an upload.
    ///
    /// ## How AWS evaluates it
    ///
    /// Within the bucket owner's account a request is allowed when an identity-based policy
    /// or the bucket policy allows it (and nothing denies it). A bucket policy that names the
    /// account (its root ARN or id) only delegates to IAM, so an identity-based Allow is still
    /// needed. Across accounts both the caller's identity-based policy and the bucket's
    /// policy or ACL must allow.
    ///
    /// ## Example
    ///
    /// ```json
    /// {
    ///   "Effect": "Allow",
    ///   "Action": "s3:PutObject",
    ///   "Resource": "arn:aws:s3:::amzn-s3-demo-bucket"
    /// }
    /// ```
    ///
    /// The statement names the bucket, not its objects: uploads are implicitly denied.
    ///
    /// ## Fix
    ///
    /// Allow the action on the objects, `arn:aws:s3:::amzn-s3-demo-bucket/*` (or a prefix of
    /// them), in a policy attached to the user, one of its groups, or the role. When the upload
    /// sets an ACL, allow `s3:PutObjectAcl` too, or stop sending ACL headers.
    ///
    /// ## References
    ///
    /// - AWS Knowledge Center: Why am I getting a "403 Forbidden" error when I try to upload files in Amazon S3?
    /// - Amazon S3 API Reference: PutObject, "Permissions"
    /// - IAM User Guide: Policy evaluation logic (determining whether a request is allowed within an account)
    pub struct IdentityPolicyMissingPutObject {
        id: "identity-policy-missing-put-object",
        scope: "builtin",
        layer: "identity",
        summary: "no identity-based policy allows the S3 action the upload needs",
    }
}

impl Rule for IdentityPolicyMissingPutObject {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        let Some(RequestPrincipal::Aws(_)) = &cx.analysis.principal else {
            return;
        };
        let req = &cx.analysis.request;
        for check in cx
            .analysis
            .checks
            .iter()
            .filter(|c| c.kind == CheckKind::S3)
        {
            let blocked = check.eval.decision == Decision::ImplicitlyDenied
                && check
                    .eval
                    .blocked_by
                    .iter()
                    .any(|b| b.layer == Layer::Identity);
            let unknown = check.is_synthetic(Layer::Identity, 0);
            let possible = unknown && check.outcome == CheckOutcome::Indeterminate;
            if !(blocked || possible) {
                continue;
            }
            // For a role session, the policies belong to the role.
            let who = cx
                .analysis
                .context
                .get("aws:PrincipalArn")
                .map_or_else(|| "the caller".to_owned(), |v| v.values[0].clone());
            if unknown {
                let f = out.emit(
                    Role::Cause,
                    Confidence::Possible,
                    format!("the identity-based policies of `{who}` could not be read; they may not allow `{}`", check.action),
                );
                f.check = Some(check.action.clone());
                f.missing = check.missing.clone();
                continue;
            }
            let bucket_arn = req.bucket_arn();
            // The statements that came closest: an Allow whose Action matched.
            let mut near = Vec::new();
            let mut classic = None;
            for (at, m) in cx.traces(check, Layer::Identity) {
                let Match::Miss(miss) = m else { continue };
                let Some((policy, st)) = cx.statement(check, at) else {
                    continue;
                };
                if st.effect != Effect::Allow || miss.element == Element::Action {
                    continue;
                }
                if miss.element == Element::Resource
                    && let Some(r) = &st.resource
                    && !r.negated
                    && r.items
                        .iter()
                        .any(|l| l.raw == bucket_arn && matches!(l.value, ResourcePattern::Arn(_)))
                {
                    classic.get_or_insert((at, policy, st));
                }
                near.push((policy, st, explain_miss(st, &miss, &check.request)));
            }
            let confidence = if check.missing.is_empty() {
                Confidence::Confirmed
            } else {
                Confidence::Likely
            };
            let message = match classic {
                Some((_, _, st)) => format!(
                    "identity policy statement `{}` allows `{}` on the bucket `{bucket_arn}`, not on its objects `{bucket_arn}/*`",
                    st.label(),
                    check.action
                ),
                None => format!(
                    "no identity-based policy of `{who}` allows `{}` on `{}`",
                    check.action, check.request.resource
                ),
            };
            let f = out.emit(Role::Cause, confidence, message);
            f.check = Some(check.action.clone());
            f.notes.push(format!(
                "the upload needs `{}` because {}",
                check.action, check.reason
            ));
            for (i, (policy, _, e)) in near.iter().enumerate() {
                f.labels
                    .push(label(policy, e.span, &e.pointer, i == 0, e.message.clone()));
            }
            f.missing = check.missing.clone();
            let fix = classic.and_then(|(at, policy, st)| {
                let mut json = statement_json(policy, st.index)?;
                let object_arn = format!("{bucket_arn}/*");
                let resource = json.get_mut("Resource")?;
                match resource {
                    serde_json::Value::Array(a) => a.push(object_arn.clone().into()),
                    other => *other = serde_json::json!([other.clone(), object_arn.clone()]),
                }
                Some(Fix::new(
                    format!(
                        "add `{object_arn}` to the `Resource` of statement `{}` of {}",
                        st.label(),
                        policy.name
                    ),
                    vec![Change::ReplaceStatement {
                        target: PolicyTarget::Identity(at.policy as usize),
                        statement: st.index,
                        with: json,
                    }],
                ))
            });
            f.fix = Some(fix.unwrap_or_else(|| {
                let object_arn = format!("{bucket_arn}/*");
                Fix::new(
                    format!("allow `{}` on `{object_arn}` in a policy attached to `{who}`", check.action),
                    vec![Change::AddIdentityPolicy {
                        name: "AllowUploads".into(),
                        document: serde_json::json!({
                            "Version": "2012-10-17",
                            "Statement": [{"Effect": "Allow", "Action": check.action, "Resource": object_arn}]
                        }),
                    }],
                )
            }));
        }
    }
}
