//! The finding for an S3 action that no identity-based policy allows, shared by the rules that
//! each own some of the actions an upload needs (`s3:PutObject` and `s3:PutObjectAcl`,
//! `s3:PutObjectTagging`, the Object Lock actions), so that each missing action is reported by
//! exactly one rule.

use crate::analysis::{CheckKind, CheckOutcome};
use crate::eval::{Element, Layer, Match, RequestPrincipal, explain_miss};
use crate::finding::{Change, Confidence, Fix, PolicyTarget, Refusal, Role, statement_json};
use crate::policy::{Effect, ResourcePattern};

use super::{Emitter, NearMiss, RuleContext, label};

/// Emits, for every S3 check of one of `actions` that is implicitly denied because no
/// identity-based policy allows it (IAM: within the account, and always across accounts, an
/// identity-based Allow is needed unless the bucket policy names the principal itself), a
/// finding that labels the nearest Allow statements with why each missed and fixes it by
/// adding the object ARN to a statement that names only the bucket ARN, or else by attaching
/// a policy that allows the action on the bucket's objects. When the identity policies could
/// not be read and the check is indeterminate, the finding is `Possible` and names them.
/// `alternative` is a note offering another way out (e.g. stop sending a header).
pub fn emit_identity_missing_allow(
    cx: &RuleContext<'_>,
    out: &mut Emitter<'_>,
    actions: &[&str],
    alternative: Option<&str>,
) {
    let Some(RequestPrincipal::Aws(_)) = &cx.analysis.principal else {
        return;
    };
    let req = &cx.analysis.request;
    for check in cx.analysis.checks.iter().filter(|c| {
        c.kind == CheckKind::S3 && actions.iter().any(|a| a.eq_ignore_ascii_case(&c.action))
    }) {
        // Refused for want of an identity Allow, or would be once an explicit deny that also
        // applies is removed (two causes: each is reported).
        let blocked = check
            .eval
            .refused_without_deny()
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
                format!(
                    "the identity-based policies of `{who}` could not be read; they may not allow `{}`",
                    check.action
                ),
            );
            f.claim(
                &check.action,
                Refusal::Unread(crate::evidence::EvidenceKind::Identity),
            );
            f.notes.push(format!(
                "the upload needs `{}` because {}",
                check.action, check.reason
            ));
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
            // Through an access point the request names the access point's ARN: a grant on
            // the bucket is not "the bucket instead of its objects".
            if miss.element == Element::Resource
                && !req.target.is_access_point()
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
        let folder = crate::analysis::derive::authorized_folder(req, &cx.analysis.evidence);
        // A statement that one change would make apply is the cause, not "nothing allows".
        let near_miss = classic
            .is_none()
            .then(|| super::near_miss(cx, check, Layer::Identity, None, &folder))
            .flatten();
        let message = match (classic, near_miss) {
            (Some((_, _, st)), _) => format!(
                "identity policy statement `{}` allows `{}` on the bucket `{bucket_arn}`, not on its objects `{bucket_arn}/*`",
                st.label(),
                check.action
            ),
            (
                None,
                Some(NearMiss::Resource {
                    policy, statement, ..
                }),
            ) => format!(
                "statement `{}` of {} allows `{}`, but its `Resource` does not cover `{}`",
                statement.label(),
                policy.name,
                check.action,
                check.request.resource
            ),
            (
                None,
                Some(NearMiss::Condition {
                    policy,
                    statement,
                    condition,
                    ..
                }),
            ) => format!(
                "statement `{}` of {} allows `{}` only when its condition on `{}` holds, and for this request it does not",
                statement.label(),
                policy.name,
                check.action,
                condition.key
            ),
            (None, None) => format!(
                "no identity-based policy of `{who}` allows `{}` on `{}`",
                check.action, check.request.resource
            ),
        };
        let no_allow = Refusal::NoAllow {
            layer: Layer::Identity,
            level: 0,
        };
        let f = cx.cause(out, check, no_allow, message);
        f.notes.push(format!(
            "the upload needs `{}` because {}",
            check.action, check.reason
        ));
        if let Some(a) = alternative {
            f.notes.push(a.to_owned());
        }
        let chosen = match near_miss {
            Some(NearMiss::Resource { statement, .. } | NearMiss::Condition { statement, .. }) => {
                Some(statement)
            }
            None => None,
        };
        let primary = near
            .iter()
            .position(|(_, st, _)| chosen.is_some_and(|c| std::ptr::eq(c, *st)))
            .unwrap_or(0);
        for (i, (policy, _, e)) in near.iter().enumerate() {
            f.labels.push(label(
                policy,
                e.span,
                &e.pointer,
                i == primary,
                e.message.clone(),
            ));
        }
        let object_arn = format!("{bucket_arn}/*");
        let fix = match (classic, near_miss) {
            (Some((at, policy, st)), _) => add_resource(at, policy, st, &object_arn),
            // Editing the statement extends every action it lists to the new resource: only
            // when those are actions the upload needs, else a grant of the refused action alone.
            (
                None,
                Some(NearMiss::Resource {
                    at,
                    policy,
                    statement,
                    add,
                }),
            ) if only_upload_actions(cx, statement) => add_resource(at, policy, statement, add),
            (
                None,
                Some(NearMiss::Condition {
                    policy,
                    statement,
                    condition,
                    ..
                }),
            ) => match crate::finding::header_fix_to_meet(condition) {
                Some((changes, sentence)) => Some(Fix::new(sentence, changes)),
                None => {
                    f.notes.push(format!(
                            "a new grant does not carry the condition on `{}` of statement `{}` of {}; meeting that condition instead keeps what it enforces",
                            condition.key,
                            statement.label(),
                            policy.name
                        ));
                    None
                }
            },
            _ => None,
        };
        f.fix = Some(fix.unwrap_or_else(|| {
            Fix::new(
                format!(
                    "allow `{}` on `{folder}` in a policy attached to `{who}`",
                    check.action
                ),
                vec![Change::AddIdentityPolicy {
                    name: "AllowUploads".into(),
                    document: serde_json::json!({
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": check.action, "Resource": folder}]
                    }),
                }],
            )
        }));
    }
}

/// The fix that adds `arn` to the `Resource` of the identity policy statement `st`.
fn add_resource(
    at: crate::eval::StatementRef,
    policy: &crate::policy::Policy,
    st: &crate::policy::Statement,
    arn: &str,
) -> Option<Fix> {
    let mut json = statement_json(policy, st.index)?;
    let resource = json.get_mut("Resource")?;
    match resource {
        serde_json::Value::Array(a) => a.push(arn.into()),
        other => *other = serde_json::json!([other.clone(), arn]),
    }
    Some(Fix::new(
        format!(
            "add `{arn}` to the `Resource` of statement `{}` of {}",
            st.label(),
            policy.name
        ),
        vec![Change::ReplaceStatement {
            target: PolicyTarget::Identity(at.policy as usize),
            statement: st.index,
            with: json,
        }],
    ))
}

/// Whether every `Action` of `st` is one the upload needs (no wildcard, no `NotAction`).
fn only_upload_actions(cx: &RuleContext<'_>, st: &crate::policy::Statement) -> bool {
    !st.action.negated
        && st.action.items.iter().all(|a| {
            cx.analysis
                .checks
                .iter()
                .any(|c| c.action.eq_ignore_ascii_case(&a.raw))
        })
}
