//! Rule `builtin/bucket-policy-not-principal-deny`: a bucket policy Deny with `NotPrincipal`
//! names the caller (its account, user, role or session) but does not exempt it: not every
//! identity of the caller's chain is listed, or the caller has a permissions boundary.

use why403_core::analysis::{CheckKind, CheckOutcome};
use why403_core::eval::{Element, Layer, Match, RequestPrincipal};
use why403_core::finding::{Change, Confidence, Fix, PolicyTarget, Refusal, Role, statement_json};
use why403_core::policy::{AwsPrincipal, Effect, PrincipalValue, Statement};
use why403_core::rule::{Emitter, Rule, RuleContext, label, match_after_edit, statement_mut};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// The bucket policy has a `Deny` statement with `NotPrincipal`, written to deny everyone
    /// except some principals, and the caller is one of the principals it was meant to exempt,
    /// yet it is denied:
    ///
    /// - for a role session, the statement lists the role ARN but not the session ARN
    ///   (`arn:aws:sts::111122223333:assumed-role/DataPipeline/<session>`) or not the account
    ///   (`arn:aws:iam::111122223333:root`);
    /// - for an IAM user, it lists the user but not the user's account;
    /// - the caller has a permissions boundary: then no `NotPrincipal` list exempts it.
    ///
    /// ## How AWS evaluates it
    ///
    /// With `Deny`, `NotPrincipal` excludes a caller only when AWS finds every identity of its
    /// chain in the list: the account, then the role (for a role session), then the caller
    /// itself (the user ARN or the session ARN). A statement that names only the role denies the
    /// role's sessions; one that names only the user denies the user. AWS also documents that a
    /// `Deny` statement with `NotPrincipal` always denies IAM principals that have a permissions
    /// boundary attached, whatever the list says. The statement then applies like any explicit
    /// deny and refuses the upload whatever else allows it. The rule fires when the statement
    /// denies the upload and its list names the caller's account, user, role or a session of
    /// its role; a list that does not name the caller at all is a deliberate deny
    /// (`bucket-policy-explicit-deny`). When the caller's IAM identity cannot be read, whether
    /// it has a boundary is unknown: a statement whose list exempts the caller then gives a
    /// `Possible` finding that names the missing evidence.
    ///
    /// ## Example
    ///
    /// ```json
    /// {
    ///   "Effect": "Deny",
    ///   "NotPrincipal": {"AWS": ["arn:aws:iam::111122223333:root", "arn:aws:iam::111122223333:role/DataPipeline"]},
    ///   "Action": "s3:PutObject",
    ///   "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*"
    /// }
    /// ```
    ///
    /// The `DataPipeline` sessions are denied: the list lacks their session ARNs.
    ///
    /// ## Fix
    ///
    /// Replace `NotPrincipal` with `"Principal": "*"` and a condition
    /// `"ArnNotEquals": {"aws:PrincipalArn": [...]}` listing the role and user ARNs (and
    /// `arn:aws:iam::<account>:root` for the root user) to exempt: `aws:PrincipalArn` of a role
    /// session is its role ARN, so one entry covers every session, and the condition works for
    /// principals with a permissions boundary. AWS recommends this form over `NotPrincipal`.
    ///
    /// ## References
    ///
    /// - IAM User Guide, AWS JSON policy elements: NotPrincipal (using `NotPrincipal` with `Deny`, principals with a permissions boundary): <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html>
    /// - IAM User Guide, AWS global condition context keys (`aws:PrincipalArn`): <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn>
    /// - IAM User Guide, Permissions boundaries for IAM entities: <https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html>
    pub struct BucketPolicyNotPrincipalDeny {
        id: "bucket-policy-not-principal-deny",
        scope: "builtin",
        layer: BucketPolicy,
        summary: "a bucket policy Deny with NotPrincipal does not exempt the caller",
        refines: ["bucket-policy-explicit-deny"],
        service: S3,
        actions: [],
        messages: [explicit(ResourceBased)],
    }
}

/// Whether a listed value names the caller's account, user, role or a session of its role.
fn names_caller(v: &PrincipalValue, caller: &AwsPrincipal) -> bool {
    let PrincipalValue::Aws(v) = v else {
        return false;
    };
    let role = match caller {
        AwsPrincipal::AssumedRole { role_name, .. } => Some(role_name.as_str()),
        _ => None,
    };
    match v {
        AwsPrincipal::Account { account } => caller.account() == Some(account),
        AwsPrincipal::User { arn, .. } => {
            matches!(caller, AwsPrincipal::User { arn: c, .. } if c == arn)
        }
        AwsPrincipal::Role { account, name, .. } => {
            caller.account() == Some(account) && role == Some(name.as_str())
        }
        AwsPrincipal::AssumedRole {
            account, role_name, ..
        } => caller.account() == Some(account) && role == Some(role_name.as_str()),
        _ => false,
    }
}

/// The identities of the caller's chain that the list lacks, in words.
fn unlisted(st: &Statement, caller: &AwsPrincipal) -> Vec<String> {
    let values: Vec<&AwsPrincipal> = st
        .principal
        .iter()
        .flat_map(|p| &p.items)
        .filter_map(|l| match &l.value {
            PrincipalValue::Aws(a) => Some(a),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    if let Some(account) = caller.account()
        && !values
            .iter()
            .any(|v| matches!(v, AwsPrincipal::Account { account: a } if a == account))
    {
        out.push(format!("the account `arn:aws:iam::{account}:root`"));
    }
    match caller {
        AwsPrincipal::AssumedRole {
            arn,
            account,
            role_name,
            ..
        } => {
            if !values.iter().any(|v| {
                matches!(v, AwsPrincipal::Role { account: a, name, .. } if a == account && name == role_name)
            }) {
                out.push(format!("the role `arn:aws:iam::{account}:role/{role_name}`"));
            }
            if !values
                .iter()
                .any(|v| matches!(v, AwsPrincipal::AssumedRole { arn: a, .. } if a == arn))
            {
                out.push(format!("the session `{arn}`"));
            }
        }
        AwsPrincipal::User { arn, .. }
            if !values
                .iter()
                .any(|v| matches!(v, AwsPrincipal::User { arn: a, .. } if a == arn)) =>
        {
            out.push(format!("the user `{arn}`"));
        }
        _ => {}
    }
    out
}

/// The statement with `NotPrincipal` replaced by `"Principal": "*"` and an `ArnNotEquals`
/// condition on `aws:PrincipalArn` listing the exempted ARNs (a session's role ARN for a
/// session; `caller_role_arn` is the caller's role ARN with its path).
fn rewrite(
    mut json: serde_json::Value,
    st: &Statement,
    caller: &AwsPrincipal,
    caller_role_arn: Option<&str>,
) -> Option<serde_json::Value> {
    let mut arns: Vec<String> = Vec::new();
    for l in st.principal.iter().flat_map(|p| &p.items) {
        let arn = match &l.value {
            PrincipalValue::Aws(AwsPrincipal::Account { account }) => {
                format!("arn:aws:iam::{account}:root")
            }
            PrincipalValue::Aws(
                AwsPrincipal::User { arn, .. } | AwsPrincipal::FederatedUser { arn, .. },
            ) => arn.clone(),
            PrincipalValue::Aws(
                v @ (AwsPrincipal::Role { account, name, .. }
                | AwsPrincipal::AssumedRole {
                    account,
                    role_name: name,
                    ..
                }),
            ) => match caller_role_arn {
                Some(r) if names_caller(&PrincipalValue::Aws(v.clone()), caller) => r.to_owned(),
                _ => match v {
                    AwsPrincipal::Role { arn, .. } => arn.clone(),
                    _ => format!("arn:aws:iam::{account}:role/{name}"),
                },
            },
            _ => continue,
        };
        if !arns.contains(&arn) {
            arns.push(arn);
        }
    }
    let obj = json.as_object_mut()?;
    obj.remove("NotPrincipal")?;
    obj.insert("Principal".into(), "*".into());
    let cond = obj
        .entry("Condition")
        .or_insert_with(|| serde_json::json!({}))
        .as_object_mut()?;
    let op = cond
        .entry("ArnNotEquals")
        .or_insert_with(|| serde_json::json!({}))
        .as_object_mut()?;
    if op.contains_key("aws:PrincipalArn") {
        return None;
    }
    op.insert("aws:PrincipalArn".into(), serde_json::json!(arns));
    Some(json)
}

impl Rule for BucketPolicyNotPrincipalDeny {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        // Through an access point the resource policy is the access point's, and the bucket
        // policy is the bucket's side of the request: the access point rules explain those.
        if cx.analysis.request.target.is_access_point() {
            return;
        }
        let a = cx.analysis;
        let Some(p @ RequestPrincipal::Aws(caller)) = &a.principal else {
            return;
        };
        let caller_role_arn = match caller {
            AwsPrincipal::AssumedRole { .. } => {
                why403_core::analysis::derive::principal_arn(p, &a.evidence)
            }
            _ => None,
        };
        let boundary = a
            .evidence
            .identity
            .get()
            .and_then(|i| i.boundary.as_ref())
            .map(|b| {
                b.name
                    .strip_prefix("permissions boundary ")
                    .unwrap_or(&b.name)
                    .to_owned()
            });
        for check in a.checks.iter().filter(|c| c.kind == CheckKind::S3) {
            let denies = cx.denies(check);
            // With the identity unreadable, whether the caller has a boundary is unknown.
            let boundary_unknown = check.is_synthetic(Layer::Boundary, 0)
                && check.outcome == CheckOutcome::Indeterminate;
            for (at, m) in cx.traces(check, Layer::Resource) {
                let denied = denies.contains(&at);
                let exempted = matches!(m, Match::Miss(miss) if miss.element == Element::Principal);
                if !(denied || (boundary_unknown && exempted)) {
                    continue;
                }
                let Some((policy, st)) = cx.statement(check, at) else {
                    continue;
                };
                let Some(pe) = st.principal.as_ref().filter(|p| p.negated) else {
                    continue;
                };
                if st.effect != Effect::Deny {
                    continue;
                }
                let named: Vec<_> = pe
                    .items
                    .iter()
                    .filter(|l| names_caller(&l.value, caller))
                    .collect();
                if named.is_empty() {
                    continue;
                }
                let missing = unlisted(st, caller);
                if !denied {
                    // Exempted by the list; it would still deny if the caller has a boundary,
                    // when the rest of the statement applies.
                    let applies = match_after_edit(check, at, |doc| {
                        let st = statement_mut(doc, st.index)?.as_object_mut()?;
                        st.remove("NotPrincipal")?;
                        st.insert("Principal".into(), "*".into());
                        Some(())
                    });
                    if !missing.is_empty() || applies != Some(Match::Applies) {
                        continue;
                    }
                    let f = out.emit(
                        Role::Cause,
                        Confidence::Possible,
                        format!(
                            "statement `{}` of the {} denies `{}` with `NotPrincipal` to every principal that has a permissions boundary, and whether the caller has one could not be read",
                            st.label(),
                            policy.name,
                            check.action
                        ),
                    );
                    f.claim(&check.action, Refusal::Statement(at));
                    f.labels.push(label(
                        policy,
                        pe.span,
                        &pe.pointer,
                        true,
                        "exempts the caller only if it has no permissions boundary",
                    ));
                    f.notes.push(
                        "`aws iam get-role` / `aws iam get-user` shows `PermissionsBoundary`; AWS documents that a Deny with `NotPrincipal` always denies a principal that has one".to_owned(),
                    );
                    f.missing = check.missing.clone();
                    continue;
                }
                let (why, primary) = match (&boundary, missing.is_empty()) {
                    (Some(b), _) => (
                        format!(
                            "the caller has the permissions boundary `{b}`, and `NotPrincipal` with `Deny` never exempts a principal that has one"
                        ),
                        "a principal with a permissions boundary is never exempted by this list"
                            .to_owned(),
                    ),
                    (None, false) => (
                        format!(
                            "the list names the caller but lacks {}; AWS exempts a caller only when its account, its role (for a session) and the caller itself are all listed",
                            missing.join(" and ")
                        ),
                        format!("lacks {}", missing.join(" and ")),
                    ),
                    // Every identity is listed and there is no boundary: the evaluator would
                    // have exempted the caller; nothing to explain.
                    (None, true) => continue,
                };
                let f = out.emit(
                    Role::Cause,
                    Confidence::Confirmed,
                    format!(
                        "statement `{}` of the {} denies `{}` with `NotPrincipal`: {why}",
                        st.label(),
                        policy.name,
                        check.action
                    ),
                );
                f.claim(&check.action, Refusal::Statement(at));
                f.labels
                    .push(label(policy, pe.span, &pe.pointer, true, primary));
                for l in named {
                    f.labels.push(label(
                        policy,
                        l.span,
                        &l.pointer,
                        false,
                        "names the caller (or its account or role)",
                    ));
                }
                f.missing = check.missing.clone();
                f.fix = statement_json(policy, st.index)
                    .and_then(|json| rewrite(json, st, caller, caller_role_arn.as_deref()))
                    .map(|with| {
                        Fix::new(
                            format!(
                                "replace `NotPrincipal` in statement `{}` of the bucket policy with `\"Principal\": \"*\"` and an `ArnNotEquals` condition on `aws:PrincipalArn` listing the ARNs to exempt",
                                st.label()
                            ),
                            vec![Change::ReplaceStatement {
                                target: PolicyTarget::BucketPolicy,
                                statement: st.index,
                                with,
                            }],
                        )
                    });
            }
        }
    }
}
