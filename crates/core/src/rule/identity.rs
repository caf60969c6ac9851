//! The finding for an S3 action that no identity-based policy allows, shared by the rules that
//! each own some of the actions an upload needs (`s3:PutObject` and `s3:PutObjectAcl`,
//! `s3:PutObjectTagging`, the Object Lock actions), so that each missing action is reported by
//! exactly one rule.

use crate::analysis::{CheckKind, CheckOutcome};
use crate::eval::{Element, Layer, Match, RequestPrincipal, explain_miss};
use crate::finding::{Change, Confidence, Fix, PolicyTarget, Refusal, Role, statement_json};
use crate::policy::{Effect, ResourcePattern};

use super::{Emitter, RuleContext, label};

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
        for (i, (policy, _, e)) in near.iter().enumerate() {
            f.labels
                .push(label(policy, e.span, &e.pointer, i == 0, e.message.clone()));
        }
        let object_arn = format!("{bucket_arn}/*");
        let folder = req.object_folder_arn();
        let fix = classic.and_then(|(at, policy, st)| {
            let mut json = statement_json(policy, st.index)?;
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
