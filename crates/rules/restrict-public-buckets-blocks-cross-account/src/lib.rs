//! Rule `builtin/restrict-public-buckets-blocks-cross-account`: the bucket policy is public and
//! S3 Block Public Access `RestrictPublicBuckets` (bucket or account level) limits it to AWS
//! service principals and the bucket owner's account, so a caller from another account, or an
//! anonymous one, is refused.

use why403_core::analysis::{Check, CheckKind, CheckOutcome};
use why403_core::eval::{Decision, Layer, Match, RequestPrincipal, is_public_statement};
use why403_core::evidence::{PublicAccessLevel, PublicAccessSetting};
use why403_core::finding::{Change, Confidence, Fix, PolicyTarget, Role, statement_json};
use why403_core::policy::{Effect, Policy, Statement};
use why403_core::rule::{
    Emitter, Rule, RuleContext, label, level_words, public_access_levels_with, public_access_off,
};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// The bucket policy is *public*: a statement allows `"Principal": "*"` (or
    /// `{"AWS": "*"}`) without a condition that pins it to fixed values such as
    /// `aws:SourceIp`, `aws:SourceVpce`, `aws:PrincipalOrgID` or `aws:PrincipalAccount`. And
    /// S3 Block Public Access has `RestrictPublicBuckets` on, for the bucket or for the bucket
    /// owner's whole account. The caller is in another account (or the request is anonymous)
    /// and relies on the bucket policy's grant.
    ///
    /// ## How AWS evaluates it
    ///
    /// With `RestrictPublicBuckets` on (at either level; the most restrictive combination
    /// applies) and a public bucket policy, S3 serves the bucket only to AWS service principals
    /// and to authorized principals of the bucket owner's account. Every cross-account and
    /// anonymous request is refused, including requests that a non-public statement of the
    /// same policy grants to a named account. AWS reports it as `403 AccessDenied` with an
    /// explicit deny in a resource-based policy. Callers of the bucket owner's account are not
    /// affected.
    ///
    /// ## Example
    ///
    /// ```json
    /// {
    ///   "Sid": "PublicDropBox",
    ///   "Effect": "Allow",
    ///   "Principal": "*",
    ///   "Action": "s3:PutObject",
    ///   "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/incoming/*"
    /// }
    /// ```
    ///
    /// with `RestrictPublicBuckets: true` on the bucket: a partner account's role is refused
    /// although the statement names everyone.
    ///
    /// ## Fix
    ///
    /// Make the bucket policy non-public: replace `"*"` with the accounts or principals that
    /// should write (`{"AWS": "arn:aws:iam::111122223333:root"}`), or pin it with a fixed
    /// `aws:PrincipalOrgID` / `aws:PrincipalAccount` condition. The caller's account must then
    /// also allow the upload in its identity-based policies. Turning `RestrictPublicBuckets`
    /// off works too but opens the bucket to everyone the public policy names, anonymous
    /// callers included; it is the only way for an anonymous upload.
    ///
    /// ## References
    ///
    /// - <https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html> (`RestrictPublicBuckets`, "The meaning of public")
    /// - <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PublicAccessBlockConfiguration.html>
    /// - <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html>
    pub struct RestrictPublicBucketsBlocksCrossAccount {
        id: "restrict-public-buckets-blocks-cross-account",
        scope: "builtin",
        layer: BlockPublicAccess,
        summary: "a public bucket policy serves no other account under RestrictPublicBuckets",
        refines: ["bucket-policy-missing-cross-account-grant"],
        service: S3,
        actions: [],
        messages: [explicit(ResourceBased)],
    }
}

impl Rule for RestrictPublicBucketsBlocksCrossAccount {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        // Through an access point the resource policy is the access point's, and the bucket
        // policy is the bucket's side of the request: the access point rules explain those.
        if cx.analysis.request.target.is_access_point() {
            return;
        }
        let a = cx.analysis;
        let Some(principal) = &a.principal else {
            return;
        };
        let ev = &a.evidence;
        let levels = public_access_levels_with(ev, PublicAccessSetting::RestrictPublicBuckets);
        let owner = ev.bucket.owner_account.get().map(String::as_str);
        let caller = match principal {
            RequestPrincipal::Anonymous => "an anonymous caller".to_owned(),
            p => match (p.arn(), p.account()) {
                (Some(arn), Some(acct)) => format!("`{arn}` of account `{acct}`"),
                (_, Some(acct)) => format!("account `{acct}`"),
                _ => "the caller".to_owned(),
            },
        };
        for check in a.checks.iter().filter(|c| c.kind == CheckKind::S3) {
            let Some(policy) = check.set.resource.as_ref() else {
                continue;
            };
            if check.is_synthetic(Layer::Resource, 0) {
                continue;
            }
            let public: Vec<&Statement> = policy
                .statements
                .iter()
                .filter(|s| is_public_statement(s))
                .collect();
            if public.is_empty() {
                continue;
            }
            if check.eval.public_access_restricted {
                let owner = owner.map_or_else(
                    || "the bucket owner's account".to_owned(),
                    |o| format!("account `{o}`"),
                );
                let f = out.emit(
                    Role::Cause,
                    Confidence::Confirmed,
                    format!(
                        "the bucket policy is public and {} has `RestrictPublicBuckets` on, so S3 serves the bucket only to AWS service principals and {owner}, not to {caller}",
                        level_words(&levels)
                    ),
                );
                f.check = Some(check.action.clone());
                f.notes.push(
                    "S3 answers 403 `AccessDenied`, reported as an explicit deny in a resource-based policy"
                        .to_owned(),
                );
                let applies = |st: &Statement| traces_applies(cx, check, st);
                let mut first = true;
                for st in &public {
                    let Some(p) = &st.principal else { continue };
                    let text = if applies(st) {
                        format!(
                            "`*` makes statement `{}` public; it grants `{}` but `RestrictPublicBuckets` limits it to {owner}",
                            st.label(),
                            check.action
                        )
                    } else {
                        format!(
                            "`*` makes statement `{}` public too, which restricts the whole policy",
                            st.label()
                        )
                    };
                    f.labels.push(label(
                        policy,
                        p.span,
                        &p.pointer,
                        first && applies(st),
                        text,
                    ));
                    first = first && !applies(st);
                }
                // Non-public statements that grant the caller are restricted as well.
                for st in policy
                    .statements
                    .iter()
                    .filter(|s| s.effect == Effect::Allow && !is_public_statement(s) && applies(s))
                {
                    if let Some(p) = &st.principal {
                        f.labels.push(label(
                            policy,
                            p.span,
                            &p.pointer,
                            false,
                            format!(
                                "grants `{}` to the caller, but the public policy is restricted as a whole",
                                check.action
                            ),
                        ));
                    }
                }
                if !f.labels.iter().any(|l| l.primary)
                    && let Some(l) = f.labels.first_mut()
                {
                    l.primary = true;
                }
                f.fix = Some(fix(policy, &public, principal, &levels, &applies));
            } else if check.outcome == CheckOutcome::Indeterminate
                && check.worst == Some(Decision::ExplicitlyDenied)
                && levels.is_empty()
                && !owner_side(check)
                && check.eval.grant != why403_core::eval::Grant::None
                && !check.eval.grant_from_acl
                && (!ev.bucket.public_access_block.is_known()
                    || !ev.effective_account_public_access_block().is_known())
            {
                let f = out.emit(
                    Role::Cause,
                    Confidence::Possible,
                    format!(
                        "the bucket policy is public and the Block Public Access settings could not be read; with `RestrictPublicBuckets` on, S3 would refuse `{}` from {caller}",
                        check.action
                    ),
                );
                f.check = Some(check.action.clone());
                if let Some(st) = public.first()
                    && let Some(p) = &st.principal
                {
                    f.labels.push(label(
                        policy,
                        p.span,
                        &p.pointer,
                        true,
                        format!("`*` makes statement `{}` public", st.label()),
                    ));
                }
                f.missing =
                    check.missing_of(&why403_core::rule::EvidenceKind::PUBLIC_ACCESS_BLOCKS);
            }
        }
    }
}

/// Whether the caller is one `RestrictPublicBuckets` lets through: a service principal or a
/// principal of the bucket owner's account.
fn owner_side(check: &Check) -> bool {
    match &check.request.principal {
        RequestPrincipal::Service(_) => true,
        RequestPrincipal::Anonymous => false,
        RequestPrincipal::Aws(_) => !check.request.is_cross_account(),
    }
}

fn traces_applies(cx: &RuleContext<'_>, check: &Check, st: &Statement) -> bool {
    cx.traces(check, Layer::Resource)
        .into_iter()
        .any(|(at, m)| at.statement as usize == st.index && m == Match::Applies)
}

/// Makes the policy non-public when the caller has an account and every public statement is
/// one the upload relies on: their `"*"` becomes the caller's account. Otherwise (anonymous
/// callers, or public statements for other purposes) turns `RestrictPublicBuckets` off where
/// it is on.
fn fix(
    policy: &Policy,
    public: &[&Statement],
    principal: &RequestPrincipal,
    levels: &[PublicAccessLevel],
    applies: &dyn Fn(&Statement) -> bool,
) -> Fix {
    if let Some(acct) = principal.account()
        && public
            .iter()
            .all(|st| applies(st) && st.principal.as_ref().is_some_and(|p| !p.negated))
    {
        let root = format!("arn:aws:iam::{acct}:root");
        let changes: Option<Vec<Change>> = public
            .iter()
            .map(|st| {
                let mut json = statement_json(policy, st.index)?;
                json.as_object_mut()?
                    .insert("Principal".into(), serde_json::json!({ "AWS": root }));
                Some(Change::ReplaceStatement {
                    target: PolicyTarget::BucketPolicy,
                    statement: st.index,
                    with: json,
                })
            })
            .collect();
        if let Some(changes) = changes {
            let names: Vec<String> = public.iter().map(|s| format!("`{}`", s.label())).collect();
            return Fix::new(
                format!(
                    "make the bucket policy non-public: in statement {} replace `\"*\"` with the caller's account `{root}`",
                    names.join(", ")
                ),
                changes,
            );
        }
    }
    let changes = public_access_off(levels, PublicAccessSetting::RestrictPublicBuckets);
    Fix::new(
        format!(
            "turn off `RestrictPublicBuckets` in {}, knowing that the bucket then serves everyone its public policy names",
            level_words(levels)
        ),
        changes,
    )
}
