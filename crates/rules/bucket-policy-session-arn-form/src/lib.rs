//! Rule `builtin/bucket-policy-session-arn-form`: a bucket policy names the caller's role
//! session in a form that does not match it (another session's ARN, an `iam` assumed-role ARN,
//! a session ARN or a path-less role ARN compared with `aws:PrincipalArn`), so an Allow misses
//! or a Deny that should exempt the role applies.

use why403_core::analysis::{CheckKind, CheckOutcome};
use why403_core::eval::{Layer, Match, RequestPrincipal};
use why403_core::finding::{Change, Fix, PolicyTarget, Refusal, statement_json};
use why403_core::policy::{AwsPrincipal, Effect, PrincipalValue, Statement};
use why403_core::rule::{Emitter, Rule, RuleContext, label, match_after_edit, statement_mut};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// The bucket policy is meant to grant (or exempt from a Deny) the role the caller uses,
    /// but names it in a form that does not match the caller's session:
    ///
    /// - the `Principal` is one session's ARN, `arn:aws:sts::111122223333:assumed-role/DataPipeline/i-0abc...`,
    ///   copied from an error message or from `aws sts get-caller-identity`: it matches that
    ///   session only, and every new session (a new instance, a new session name) is refused;
    /// - the `Principal` is an `arn:aws:iam::111122223333:assumed-role/...` ARN, which is no
    ///   principal at all (session ARNs are `sts` ARNs);
    /// - a condition compares `aws:PrincipalArn` with a session ARN (`...:assumed-role/DataPipeline/*`),
    ///   or with the role ARN without the role's path (`role/DataPipeline` for a role created
    ///   under `/service-role/`, or an IAM Identity Center role under
    ///   `/aws-reserved/sso.amazonaws.com/`).
    ///
    /// ## How AWS evaluates it
    ///
    /// A role session is the principal `arn:aws:sts::<account>:assumed-role/<role>/<session>`.
    /// In a `Principal` element, a role ARN matches every session of the role, while a session
    /// ARN matches that exact session. The condition key `aws:PrincipalArn` of a role session is
    /// the **role** ARN, with its path, never the session ARN, so a session ARN or a path-less
    /// ARN in an `ArnEquals`/`ArnLike` condition matches nothing, and in an `ArnNotEquals`/
    /// `ArnNotLike` condition of a Deny ("deny everyone but the pipeline role") it exempts
    /// nobody. An Allow that misses leaves the upload implicitly denied (cross-account, or in
    /// the same account without an identity-policy allow); a Deny that applies refuses it
    /// explicitly. The rule fires when the statement, with the caller's role ARN in place of
    /// the wrong form, would allow the upload (Allow) or no longer deny it (Deny).
    ///
    /// ## Example
    ///
    /// ```json
    /// {
    ///   "Effect": "Deny",
    ///   "Principal": "*",
    ///   "Action": "s3:PutObject",
    ///   "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*",
    ///   "Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:sts::111122223333:assumed-role/DataPipeline/*"}}
    /// }
    /// ```
    ///
    /// This statement denies the `DataPipeline` sessions too: their `aws:PrincipalArn` is
    /// `arn:aws:iam::111122223333:role/DataPipeline`.
    ///
    /// ## Fix
    ///
    /// Name the role ARN, with its path, as `aws iam get-role --role-name DataPipeline --query
    /// Role.Arn` prints it, in place of the session form. To grant only some sessions, keep the
    /// role ARN and add a condition on `aws:userid` (`AROA...:<session name>`) or on
    /// `aws:SourceIdentity`.
    ///
    /// ## References
    ///
    /// - IAM User Guide, AWS JSON policy elements: Principal (role sessions, assumed-role session principals): <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html>
    /// - IAM User Guide, AWS global condition context keys (`aws:PrincipalArn`): <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn>
    /// - IAM User Guide, IAM identifiers (role paths and ARNs): <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html>
    pub struct BucketPolicySessionArnForm {
        id: "bucket-policy-session-arn-form",
        scope: "builtin",
        layer: BucketPolicy,
        summary: "a bucket policy names a role session in a form that misses the caller's session",
        refines: ["bucket-policy-missing-cross-account-grant", "bucket-policy-explicit-deny"],
        service: S3,
        actions: [],
        messages: [either(ResourceBased)],
    }
}

/// The caller's session, for matching forms.
struct Caller<'a> {
    account: &'a str,
    role: &'a str,
    session_arn: &'a str,
    role_arn: String,
}

/// A value in the wrong form, what to put instead, and why it misses.
struct Rewrite {
    from: String,
    span: why403_core::json::Span,
    pointer: String,
    why: String,
    /// The text of the label on the value.
    note: String,
}

/// `arn:<partition>:<service>::<account>:assumed-role/<role>/<session>` of the caller's role,
/// for `iam` or `sts`, with any session (wildcards included).
fn names_session_of(value: &str, service: &str, c: &Caller<'_>) -> bool {
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    let [arn, _, svc, region, account, resource] = parts[..] else {
        return false;
    };
    let Some(rest) = resource.strip_prefix("assumed-role/") else {
        return false;
    };
    let role = rest.split('/').next().unwrap_or_default();
    arn == "arn"
        && svc == service
        && region.is_empty()
        && account == c.account
        && role.eq_ignore_ascii_case(c.role)
}

fn principal_rewrite(v: &PrincipalValue, c: &Caller<'_>) -> Option<(String, String)> {
    match v {
        PrincipalValue::Aws(AwsPrincipal::AssumedRole { arn, .. })
            if arn != c.session_arn && names_session_of(arn, "sts", c) =>
        {
            Some((
                format!(
                    "names the session `{arn}`, which matches that one session only; the caller's session is `{}`",
                    c.session_arn
                ),
                format!(
                    "a session ARN matches one session; name the role `{}` to match all its sessions",
                    c.role_arn
                ),
            ))
        }
        PrincipalValue::Aws(AwsPrincipal::Other { value }) if names_session_of(value, "iam", c) => {
            Some((
                format!(
                    "names `{value}`, an `iam` ARN for a session, which matches no principal (session ARNs are `arn:aws:sts::...:assumed-role/...`)"
                ),
                "no principal has this ARN: sessions are `sts` ARNs".to_owned(),
            ))
        }
        _ => None,
    }
}

fn condition_rewrite(raw: &str, c: &Caller<'_>) -> Option<(String, String)> {
    if names_session_of(raw, "sts", c) || names_session_of(raw, "iam", c) {
        return Some((
            format!(
                "compares `aws:PrincipalArn` with the session form `{raw}`; for a role session `aws:PrincipalArn` is the role ARN `{}`",
                c.role_arn
            ),
            format!(
                "`aws:PrincipalArn` of the caller is `{}`, never a session ARN",
                c.role_arn
            ),
        ));
    }
    let short = format!(
        "{}:role/{}",
        c.role_arn.split(":role/").next().unwrap_or_default(),
        c.role
    );
    if raw == short && short != c.role_arn {
        return Some((
            format!(
                "compares `aws:PrincipalArn` with `{raw}`, without the role's path; the role's ARN is `{}`",
                c.role_arn
            ),
            format!("the role's ARN has a path: `{}`", c.role_arn),
        ));
    }
    None
}

/// The values of a statement in a wrong form for the caller.
fn rewrites(st: &Statement, c: &Caller<'_>) -> Vec<Rewrite> {
    let principals = st
        .principal
        .iter()
        .filter(|p| !p.negated)
        .flat_map(|p| &p.items)
        .filter_map(|l| Some((principal_rewrite(&l.value, c)?, &l.raw, l.span, &l.pointer)));
    let conditions = st
        .conditions
        .iter()
        .filter(|k| k.key_lower == "aws:principalarn")
        .flat_map(|k| &k.values)
        .filter_map(|l| Some((condition_rewrite(&l.raw, c)?, &l.raw, l.span, &l.pointer)));
    principals
        .chain(conditions)
        .map(|((why, note), raw, span, pointer)| Rewrite {
            from: raw.clone(),
            span,
            pointer: pointer.clone(),
            why,
            note,
        })
        .collect()
}

fn replace_strings(v: &mut serde_json::Value, from: &[&str], to: &str) {
    match v {
        serde_json::Value::String(s) if from.contains(&s.as_str()) => *s = to.to_owned(),
        serde_json::Value::Array(a) => a.iter_mut().for_each(|x| replace_strings(x, from, to)),
        serde_json::Value::Object(o) => o.values_mut().for_each(|x| replace_strings(x, from, to)),
        _ => {}
    }
}

/// Puts the role ARN in place of the wrong forms, in `Principal` and in `aws:PrincipalArn`
/// conditions only.
fn rewrite_statement(st: &mut serde_json::Value, from: &[&str], to: &str) -> Option<()> {
    let obj = st.as_object_mut()?;
    if let Some(p) = obj.get_mut("Principal") {
        replace_strings(p, from, to);
    }
    if let Some(serde_json::Value::Object(ops)) = obj.get_mut("Condition") {
        for keys in ops.values_mut() {
            if let serde_json::Value::Object(keys) = keys {
                for (k, v) in keys.iter_mut() {
                    if k.eq_ignore_ascii_case("aws:PrincipalArn") {
                        replace_strings(v, from, to);
                    }
                }
            }
        }
    }
    Some(())
}

impl Rule for BucketPolicySessionArnForm {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        // Through an access point the resource policy is the access point's, and the bucket
        // policy is the bucket's side of the request: the access point rules explain those.
        if cx.analysis.request.target.is_access_point() {
            return;
        }
        let a = cx.analysis;
        let Some(
            p @ RequestPrincipal::Aws(AwsPrincipal::AssumedRole {
                arn,
                account,
                role_name,
                ..
            }),
        ) = &a.principal
        else {
            return;
        };
        let Some(role_arn) = why403_core::analysis::derive::principal_arn(p, &a.evidence) else {
            return;
        };
        let caller = Caller {
            account,
            role: role_name,
            session_arn: arn,
            role_arn,
        };
        for check in a
            .checks
            .iter()
            .filter(|c| c.kind == CheckKind::S3 && c.outcome != CheckOutcome::Allowed)
        {
            for (at, m, policy, st) in cx.statements(check, Layer::Resource) {
                let wrong = rewrites(st, &caller);
                if wrong.is_empty() {
                    continue;
                }
                let from: Vec<&str> = wrong.iter().map(|r| r.from.as_str()).collect();
                let after = match_after_edit(check, at, |doc| {
                    rewrite_statement(statement_mut(doc, st.index)?, &from, &caller.role_arn)
                });
                let (matters, verb) = match (st.effect, m, after) {
                    (Effect::Allow, Match::Miss(_), Some(Match::Applies)) => {
                        (true, "does not grant")
                    }
                    (Effect::Deny, Match::Applies, Some(Match::Miss(_))) => (true, "denies"),
                    _ => (false, ""),
                };
                if !matters {
                    continue;
                }
                let f = cx.cause(
                    out,
                    check,
                    Refusal::Check,
                    format!(
                        "statement `{}` of the {} {verb} `{}` to the session `{}` of `{}`: it {}",
                        st.label(),
                        policy.name,
                        check.action,
                        caller.session_arn,
                        caller.role_arn,
                        wrong[0].why
                    ),
                );
                for (i, r) in wrong.iter().enumerate() {
                    f.labels
                        .push(label(policy, r.span, &r.pointer, i == 0, r.note.clone()));
                }
                f.fix = statement_json(policy, st.index).and_then(|mut json| {
                    rewrite_statement(&mut json, &from, &caller.role_arn)?;
                    Some(Fix::new(
                        format!(
                            "name the role `{}` instead of `{}` in statement `{}` of the bucket policy",
                            caller.role_arn,
                            from.join("`, `"),
                            st.label()
                        ),
                        vec![Change::ReplaceStatement {
                            target: PolicyTarget::BucketPolicy,
                            statement: st.index,
                            with: json,
                        }],
                    ))
                });
            }
        }
    }
}
