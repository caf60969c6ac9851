//! The findings of the resource control policy rules (`rcp-denies-s3`, `rcp-denies-kms`): an
//! RCP of the resource owner's organization that denies a check, a level of that organization
//! where no RCP allows it, or RCPs that could not be read.

use crate::analysis::{CheckKind, CheckOutcome, rcp_organization};
use crate::eval::{Decision, Layer};
use crate::evidence::EvidenceKind;
use crate::evidence::OrgLevel;
use crate::finding::{Change, Confidence, Fix, PolicyTarget, Refusal, Role};
use crate::policy::Effect;

use super::{DenyWording, Emitter, RuleContext, emit_explicit_deny, label};

/// Emits, for every check of `kind`, the RCP findings (docs/aws-model.md#aws-organizations, docs/aws-model.md#step-2-resource-control-policies): an
/// explicit deny in an RCP of the resource owner's organization (confirmed: a deny decides
/// whatever else is unreadable), a level of its path from the root to the owner's account
/// where no RCP allows the action (AWS requires an Allow at every level; `RCPFullAWSAccess`
/// gives one unless it is missing from the evidence), and, when the RCPs could not be read
/// and the check is indeterminate, a `Possible` finding naming them. `owner` describes the
/// resource owner in words, e.g. "the bucket owner's account".
pub fn emit_rcp_findings(
    cx: &RuleContext<'_>,
    out: &mut Emitter<'_>,
    kind: CheckKind,
    owner: &str,
) {
    let a = cx.analysis;
    let caller_account = a.principal.as_ref().and_then(|p| p.account());
    for check in a.checks.iter().filter(|c| c.kind == kind) {
        let resource_account = check.request.resource_account.as_deref();
        let org =
            rcp_organization(&a.evidence, resource_account, caller_account).and_then(|o| o.get());
        let levels = org.and_then(|o| o.rcps.get());
        let level_name = |l: u16| {
            levels
                .and_then(|ls| ls.get(l as usize))
                .map_or_else(|| format!("level {l}"), level_words)
        };
        let where_ = match (org, resource_account) {
            (Some(o), Some(acct)) => {
                format!("the organization `{}` of {owner} `{acct}`", o.id)
            }
            (Some(o), None) => format!("the organization `{}` of {owner}", o.id),
            (None, Some(acct)) => format!("the organization of {owner} `{acct}`"),
            (None, None) => format!("the organization of {owner}"),
        };
        if check.eval.decision == Decision::ExplicitlyDenied {
            for at in cx
                .denies(check)
                .into_iter()
                .filter(|at| at.layer == Layer::Rcp)
            {
                let Some((policy, st)) = cx.statement(check, at) else {
                    continue;
                };
                let wording = DenyWording {
                    subject: format!(
                        "explicit deny in statement `{}` of {}",
                        st.label(),
                        policy.name
                    ),
                    effect_label: "a resource control policy denies every caller it matches",
                    fallback: Fix::new(
                        format!(
                            "ask the organization's administrators to remove or narrow statement `{}` of {}",
                            st.label(),
                            policy.name
                        ),
                        vec![Change::RemoveStatement {
                            target: PolicyTarget::Rcp {
                                level: at.level as usize,
                                index: at.policy as usize,
                            },
                            statement: st.index,
                        }],
                    ),
                };
                let f = emit_explicit_deny(out, check, at, policy, st, wording);
                let note = format!(
                    "the RCP is attached to {} of {where_}; RCPs restrict every caller of the organization's resources, callers from other accounts and anonymous ones included",
                    level_name(at.level)
                );
                if !f.notes.contains(&note) {
                    f.notes.push(note);
                }
            }
        }
        if check.outcome == CheckOutcome::Denied {
            for b in check
                .eval
                .refused_without_deny()
                .iter()
                .filter(|b| b.layer == Layer::Rcp && !check.is_synthetic(b.layer, b.level))
            {
                let no_allow = Refusal::NoAllow {
                    layer: Layer::Rcp,
                    level: b.level,
                };
                let f = cx.cause(
                    out,
                    check,
                    no_allow,
                    format!(
                        "no resource control policy attached to {} of {where_} allows `{}`; every level from the root to the account must allow it",
                        level_name(b.level),
                        check.action
                    ),
                );
                f.notes.push(
                    "AWS attaches `RCPFullAWSAccess` to every root, OU and account and it cannot be detached, so check that the evidence lists every RCP of this level".to_owned(),
                );
                if let Some(lv) = levels.and_then(|ls| ls.get(b.level as usize)) {
                    for p in &lv.policies {
                        let allow = p.statements.iter().find(|s| s.effect == Effect::Allow);
                        let (span, pointer, text) = match allow {
                            Some(st) => (
                                st.action.span,
                                st.action.pointer.clone(),
                                format!("does not allow `{}`", check.action),
                            ),
                            None => match p.statements.first() {
                                Some(st) => (
                                    st.effect_span,
                                    format!("{}/Effect", st.pointer),
                                    "this RCP only denies; it allows nothing".to_owned(),
                                ),
                                None => continue,
                            },
                        };
                        let primary = f.labels.is_empty();
                        f.labels.push(label(p, span, &pointer, primary, text));
                    }
                }
                f.fix = Some(Fix::new(
                    format!(
                        "ask the organization's administrators to attach `RCPFullAWSAccess` to {}",
                        level_name(b.level)
                    ),
                    vec![Change::AttachRcp {
                        level: b.level as usize,
                        name: "RCPFullAWSAccess".into(),
                        document: serde_json::json!({
                            "Version": "2012-10-17",
                            "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]
                        }),
                    }],
                ));
            }
        } else if check.outcome == CheckOutcome::Indeterminate && check.is_synthetic(Layer::Rcp, 0)
        {
            let f = out.emit(
                Role::Cause,
                Confidence::Possible,
                format!(
                    "the resource control policies of {where_} could not be read; one may deny `{}`",
                    check.action
                ),
            );
            f.claim(
                &check.action,
                Refusal::Unread(EvidenceKind::ResourceControlPolicies),
            );
            f.notes.push(if org.is_some() {
                "RCPs can be read only from the organization's management account or a delegated administrator".to_owned()
            } else {
                "the evidence holds the organizations of the caller's and the bucket owner's accounts only".to_owned()
            });
            f.missing = check
                .missing
                .iter()
                .filter(|m| {
                    matches!(
                        m.kind,
                        EvidenceKind::ResourceControlPolicies | EvidenceKind::BucketOrganization
                    )
                })
                .cloned()
                .collect();
        }
    }
}

fn level_words(l: &OrgLevel) -> String {
    match &l.name {
        Some(n) => format!("`{}` ({n})", l.target_id),
        None => format!("`{}`", l.target_id),
    }
}
