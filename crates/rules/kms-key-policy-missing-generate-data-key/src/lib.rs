//! Rule `builtin/kms-key-policy-missing-generate-data-key`: the caller may not use the KMS key
//! that encrypts the upload (`kms:GenerateDataKey`, and `kms:Decrypt` for multipart uploads).

use why403_core::analysis::{CheckKind, CheckOutcome};
use why403_core::eval::{
    Decision, Element, Grant, Layer, Match, explain_condition_holds, explain_miss,
};
use why403_core::finding::{Change, Confidence, Fix, PolicyTarget, Role};
use why403_core::policy::Effect;
use why403_core::rule::{Emitter, Rule, RuleContext, grant, label};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// The upload is encrypted with SSE-KMS, because the request sends
    /// `x-amz-server-side-encryption: aws:kms` or because the bucket's default encryption uses
    /// a KMS key. S3 then asks KMS for a data key with the caller's own credentials
    /// (`kms:GenerateDataKey`), and each part of a multipart upload needs `kms:Decrypt`. The
    /// caller is not allowed to: the key policy names neither the caller nor its account, or
    /// it delegates to IAM (names the account) but no identity-based policy of the caller
    /// allows the action on the key, or a statement denies it.
    ///
    /// ## How AWS evaluates it
    ///
    /// No principal can use a KMS key unless the key policy allows it. A key policy statement
    /// that allows the account (`arn:aws:iam::<account>:root`) lets IAM policies of that account
    /// grant access; a statement that names the user or role allows it directly. Grants can
    /// also allow. In another account, both the key policy and the caller's IAM policy must
    /// allow. An explicit deny anywhere wins.
    ///
    /// ## Example
    ///
    /// The bucket's default encryption uses
    /// `arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab`, whose key
    /// policy only lets the key administrators manage it:
    ///
    /// ```json
    /// {
    ///   "Sid": "AllowKeyAdministration",
    ///   "Effect": "Allow",
    ///   "Principal": {"AWS": "arn:aws:iam::111122223333:role/KeyAdmin"},
    ///   "Action": ["kms:Describe*", "kms:Put*", "kms:Enable*", "kms:Disable*"],
    ///   "Resource": "*"
    /// }
    /// ```
    ///
    /// An upload by `arn:aws:iam::111122223333:user/alice` is refused.
    ///
    /// ## Fix
    ///
    /// Add the caller to the key's users: a key policy statement that allows the user or role
    /// `kms:GenerateDataKey` and `kms:Decrypt`. When the key policy already delegates to IAM,
    /// allow those actions on the key ARN in an identity-based policy of the caller instead.
    ///
    /// ## References
    ///
    /// - AWS Knowledge Center: Why am I getting a "403 Forbidden" error when I try to upload files in Amazon S3?
    /// - Amazon S3 User Guide: Using server-side encryption with AWS KMS keys (SSE-KMS), permissions
    /// - AWS KMS Developer Guide: Key policies; Allowing users in other accounts to use a KMS key
    pub struct KmsKeyPolicyMissingGenerateDataKey {
        id: "kms-key-policy-missing-generate-data-key",
        scope: "builtin",
        layer: Kms,
        summary: "the caller may not use the KMS key that encrypts the upload",
        refines: [],
        service: Kms,
        actions: [],
        messages: [either(ResourceBased), implicit(IdentityBased), special(KmsNotFoundOrDenied)],
    }
}

impl Rule for KmsKeyPolicyMissingGenerateDataKey {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        let kms: Vec<_> = cx
            .analysis
            .checks
            .iter()
            .filter(|c| c.kind == CheckKind::Kms)
            .collect();
        let actions: Vec<String> = kms.iter().map(|c| c.action.clone()).collect();
        for check in kms {
            if !check.blocks.is_empty() || check.kms_grant.is_some() {
                continue;
            }
            let key = check.request.resource.clone();
            // For a role session, the policies belong to the role.
            let who = cx
                .analysis
                .context
                .get("aws:PrincipalArn")
                .map_or_else(|| "the caller".to_owned(), |v| v.values[0].clone());
            let role_arn = who.clone();
            let key_policy_unknown = check.is_synthetic(Layer::Resource, 0);
            let denied = check.outcome == CheckOutcome::Denied;
            if check.outcome == CheckOutcome::Indeterminate
                && (key_policy_unknown || check.set.resource.is_none())
            {
                let f = out.emit(
                    Role::Cause,
                    Confidence::Possible,
                    format!("`{who}` may not be allowed to use the KMS key for `{}`: the key could not be checked", check.action),
                );
                f.check = Some(check.action.clone());
                f.missing = check.missing.clone();
                continue;
            }
            if !denied {
                continue;
            }
            let eval = &check.eval;
            let key_denies = eval.decision == Decision::ExplicitlyDenied
                && eval.deciding.iter().any(|at| {
                    at.layer == Layer::Resource && !check.is_synthetic(at.layer, at.level)
                });
            let no_key_grant = eval.decision == Decision::ImplicitlyDenied
                && eval.blocked_by.iter().any(|b| b.layer == Layer::Resource);
            let iam_missing = eval.decision == Decision::ImplicitlyDenied
                && eval.grant == Grant::Account
                && eval.blocked_by.iter().any(|b| b.layer == Layer::Identity);
            let confidence = if check.missing.is_empty() {
                Confidence::Confirmed
            } else {
                Confidence::Likely
            };
            let Some(key_policy) = check.set.resource.as_ref() else {
                continue;
            };
            if key_denies {
                for at in eval
                    .deciding
                    .iter()
                    .filter(|at| at.layer == Layer::Resource)
                {
                    let Some((policy, st)) = cx.statement(check, *at) else {
                        continue;
                    };
                    // An explicit deny decides whatever the unreadable evidence says.
                    let f = out.emit(
                        Role::Cause,
                        Confidence::Confirmed,
                        format!(
                            "explicit deny in statement `{}` of the {} denies `{}`",
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
                        st.conditions.is_empty(),
                        "this statement denies",
                    ));
                    for (i, c) in st.conditions.iter().enumerate() {
                        f.labels.push(label(
                            policy,
                            c.key_span,
                            &c.key_pointer,
                            i == 0,
                            explain_condition_holds(c, &check.request.context),
                        ));
                    }
                    f.fix = Some(Fix::new(
                        format!(
                            "remove or narrow statement `{}` of the key policy",
                            st.label()
                        ),
                        vec![Change::RemoveStatement {
                            target: PolicyTarget::KeyPolicy,
                            statement: st.index,
                        }],
                    ));
                }
                continue;
            }
            if !(no_key_grant || iam_missing) {
                continue;
            }
            let message = if iam_missing {
                format!(
                    "the key policy of `{key}` leaves `{}` to IAM, but no identity-based policy of `{who}` allows it on the key",
                    check.action
                )
            } else {
                format!(
                    "the key policy of `{key}` does not allow `{who}` to use `{}`",
                    check.action
                )
            };
            let f = out.emit(Role::Cause, confidence, message);
            f.check = Some(check.action.clone());
            f.notes.push(format!(
                "S3 needs `{}` because {}",
                check.action, check.reason
            ));
            // Key policy statements that came close: they allow, cover the action, but miss.
            for (_, m, policy, st) in cx.statements(check, Layer::Resource) {
                let Match::Miss(miss) = m else { continue };
                if st.effect == Effect::Allow && miss.element != Element::Action {
                    let e = explain_miss(st, &miss, &check.request);
                    let primary = f.labels.is_empty();
                    f.labels
                        .push(label(policy, e.span, &e.pointer, primary, e.message));
                }
            }
            let kms_actions: Vec<serde_json::Value> =
                actions.iter().map(|a| a.as_str().into()).collect();
            f.fix = Some(if iam_missing {
                Fix::new(
                    format!(
                        "allow `{}` on `{key}` in a policy attached to `{who}`",
                        actions.join("` and `")
                    ),
                    vec![Change::AddIdentityPolicy {
                        name: "AllowUploadKey".into(),
                        document: serde_json::json!({
                            "Version": "2012-10-17",
                            "Statement": [{"Effect": "Allow", "Action": kms_actions, "Resource": key}]
                        }),
                    }],
                )
            } else {
                let _ = key_policy;
                Fix::new(
                    format!(
                        "add a key policy statement that allows `{role_arn}` to use `{}`",
                        actions.join("` and `")
                    ),
                    vec![grant(
                        PolicyTarget::KeyPolicy,
                        "AllowUploaderToUseTheKey",
                        &role_arn,
                        kms_actions.clone(),
                        "*",
                    )],
                )
            });
            f.missing = check.missing.clone();
        }
    }
}
