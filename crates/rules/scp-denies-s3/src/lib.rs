//! Rule `builtin/scp-denies-s3`: a service control policy of the caller's organization denies
//! the upload, or no SCP allows it at some level of the path from the root to the account.

use why403_core::analysis::CheckOutcome;
use why403_core::eval::{Decision, Layer, explain_condition_holds};
use why403_core::finding::{Change, Confidence, Fix, PolicyTarget, Refusal, Role, header_fix_for};
use why403_core::rule::{Emitter, Rule, RuleContext, label};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// The caller's account is a member of an AWS Organizations organization, and a service
    /// control policy (SCP) on the path from the root through the organizational units to the
    /// account either denies the action (the Knowledge Center's example is a statement
    /// denying `S3:*`) or, at some level, no SCP allows it (the `FullAWSAccess` policy was
    /// detached and replaced by an allow list that does not include it).
    ///
    /// ## How AWS evaluates it
    ///
    /// SCPs limit every principal of a member account, its root user included; they grant
    /// nothing. A request must be allowed by at least one SCP attached at every level (root,
    /// each OU, the account), and an explicit deny in any of them refuses it. The management
    /// account is not affected by SCPs. KMS calls that S3 makes with the caller's credentials
    /// are subject to the same SCPs.
    ///
    /// ## Example
    ///
    /// ```json
    /// {
    ///   "Version": "2012-10-17",
    ///   "Statement": [{"Sid": "DenyS3", "Effect": "Deny", "Action": "S3:*", "Resource": "*"}]
    /// }
    /// ```
    ///
    /// attached to the organizational unit of the caller's account.
    ///
    /// ## Fix
    ///
    /// Ask the organization's administrators (management account or delegated administrator)
    /// to narrow or detach the denying SCP, or to attach an SCP that allows the action at the
    /// level that lacks one (often `FullAWSAccess`).
    ///
    /// ## References
    ///
    /// - AWS Knowledge Center: Why am I getting a "403 Forbidden" error when I try to upload files in Amazon S3?
    /// - AWS Organizations User Guide: Service control policies (SCP evaluation)
    /// - IAM User Guide: Policy evaluation logic
    pub struct ScpDeniesS3 {
        id: "scp-denies-s3",
        scope: "builtin",
        layer: Organizations,
        summary: "a service control policy denies the upload, or no SCP allows it at some level",
        refines: [],
        service: Any,
        actions: [],
        messages: [either(Scp)],
    }
}

impl Rule for ScpDeniesS3 {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        let levels = cx
            .analysis
            .evidence
            .caller_org
            .get()
            .and_then(|o| o.scps.get());
        let level_name = |l: u16| {
            levels.and_then(|ls| ls.get(l as usize)).map_or_else(
                || format!("level {l}"),
                |lv| match &lv.name {
                    Some(n) => format!("`{}` ({n})", lv.target_id),
                    None => format!("`{}`", lv.target_id),
                },
            )
        };
        for check in &cx.analysis.checks {
            let eval = &check.eval;
            let confidence = if check.missing.is_empty() {
                Confidence::Confirmed
            } else {
                Confidence::Likely
            };
            if eval.decision == Decision::ExplicitlyDenied {
                // An explicit deny decides whatever the unreadable evidence says.
                let confidence = Confidence::Confirmed;
                for at in cx
                    .denies(check)
                    .into_iter()
                    .filter(|at| at.layer == Layer::Scp)
                {
                    let Some((policy, st)) = cx.statement(check, at) else {
                        continue;
                    };
                    let subject = format!(
                        "explicit deny in statement `{}` of {}",
                        st.label(),
                        policy.name
                    );
                    if out.emitted_for_statement(at, check, &subject).is_some() {
                        continue;
                    }
                    let f = out.emit(
                        Role::Cause,
                        confidence,
                        format!("{subject} denies `{}`", check.action),
                    );
                    f.claim(&check.action, Refusal::Statement(at));
                    f.notes.push(format!(
                        "the SCP applies at {} of the organization path",
                        level_name(at.level)
                    ));
                    f.labels.push(label(
                        policy,
                        st.action.span,
                        &st.action.pointer,
                        st.conditions.is_empty(),
                        format!("matches `{}`", check.action),
                    ));
                    let mut header_fix = None;
                    for (i, c) in st.conditions.iter().enumerate() {
                        f.labels.push(label(
                            policy,
                            c.key_span,
                            &c.key_pointer,
                            i == 0,
                            explain_condition_holds(c, &check.request.context),
                        ));
                        header_fix = header_fix.or_else(|| header_fix_for(c));
                    }
                    f.fix = Some(match header_fix {
                        Some((changes, sentence)) => Fix::new(sentence, changes),
                        None => Fix::new(
                            format!(
                                "ask the organization's administrators to remove or narrow statement `{}` of {}",
                                st.label(),
                                policy.name
                            ),
                            vec![Change::RemoveStatement {
                                target: PolicyTarget::Scp {
                                    level: at.level as usize,
                                    index: at.policy as usize,
                                },
                                statement: st.index,
                            }],
                        ),
                    });
                }
            }
            if check.outcome == CheckOutcome::Denied {
                for b in eval
                    .refused_without_deny()
                    .iter()
                    .filter(|b| b.layer == Layer::Scp && !check.is_synthetic(b.layer, b.level))
                {
                    let f = out.emit(
                        Role::Cause,
                        confidence,
                        format!(
                            "no service control policy attached to {} allows `{}`; every level from the root to the account must allow it",
                            level_name(b.level),
                            check.action
                        ),
                    );
                    f.claim(
                        &check.action,
                        Refusal::NoAllow {
                            layer: Layer::Scp,
                            level: b.level,
                        },
                    );
                    if let Some(lv) = levels.and_then(|ls| ls.get(b.level as usize)) {
                        for p in &lv.policies {
                            if let Some(st) = p.statements.first() {
                                let primary = f.labels.is_empty();
                                f.labels.push(label(
                                    p,
                                    st.action.span,
                                    &st.action.pointer,
                                    primary,
                                    format!("does not allow `{}`", check.action),
                                ));
                            }
                        }
                    }
                    f.fix = Some(Fix::new(
                        format!(
                            "ask the organization's administrators to attach `FullAWSAccess` (or an SCP allowing `{}`) to {}",
                            check.action,
                            level_name(b.level)
                        ),
                        vec![Change::AttachScp {
                            level: b.level as usize,
                            name: "FullAWSAccess".into(),
                            document: serde_json::json!({
                                "Version": "2012-10-17",
                                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
                            }),
                        }],
                    ));
                }
            } else if check.outcome == CheckOutcome::Indeterminate
                && check.is_synthetic(Layer::Scp, 0)
            {
                let f = out.emit(
                    Role::Cause,
                    Confidence::Possible,
                    format!(
                        "the organization's SCPs could not be read; one may deny `{}`",
                        check.action
                    ),
                );
                f.claim(
                    &check.action,
                    Refusal::Unread(why403_core::rule::EvidenceKind::ServiceControlPolicies),
                );
                f.missing = check.missing.clone();
            }
        }
    }
}
