//! Rule `builtin/identity-policy-grants-bucket-not-access-point`: the caller's identity policy
//! grants the upload on the bucket's ARN while the upload goes through an access point, or
//! only through access points while the upload names the bucket.

use why403_core::analysis::derive::authorized_folder;
use why403_core::analysis::{Check, CheckKind, ResourcePolicy};
use why403_core::eval::{Element, Layer, Match, Request};
use why403_core::finding::{Change, Fix, PolicyTarget, Refusal, statement_json};
use why403_core::policy::{Effect, Policy, Statement};
use why403_core::rule::{Emitter, Rule, RuleContext, label};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// The caller's identity policy allows the upload, but on the wrong resource for the way
    /// the upload is made. Through an access point, the request's resource is the access
    /// point's object ARN `arn:aws:s3:<region>:<account>:accesspoint/<name>/object/<key>`: a
    /// statement that names the bucket's objects `arn:aws:s3:::bucket/*` does not match it,
    /// however broad. The reverse: a statement that names only access point ARNs does not
    /// match an upload that names the bucket (`s3://bucket/key`), which is authorized against
    /// `arn:aws:s3:::bucket/key`. Typical after a team moves from the bucket to an access
    /// point (or a tool is given the bucket name instead of the access point's alias).
    ///
    /// ## How AWS evaluates it
    ///
    /// Identity policies are matched against the resource the request names. For a request
    /// through an access point it is the access point's ARN (S3 User Guide, Configuring IAM
    /// policies for using access points); for a request that names the bucket it is the
    /// bucket's. This rule refines `identity-policy-missing-put-object`: the same refusal
    /// (no identity-based Allow), with the statement that was meant to allow it.
    ///
    /// ## Example
    ///
    /// ```json
    /// {
    ///   "Effect": "Allow",
    ///   "Action": "s3:PutObject",
    ///   "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/reports/*"
    /// }
    /// ```
    ///
    /// An upload through `arn:aws:s3:us-east-1:111122223333:accesspoint/finance-ap` to
    /// `reports/q3.csv` is refused: the statement names the bucket, not the access point.
    ///
    /// ## Fix
    ///
    /// Add the form the upload uses to the statement's `Resource`: the access point's objects
    /// under the upload's prefix (`<access point ARN>/object/reports/*`), or for an upload that
    /// names the bucket, the bucket's objects (`arn:aws:s3:::bucket/reports/*`). Or make the
    /// upload the way the policy expects: through the access point (its ARN or alias in place
    /// of the bucket name), or to the bucket.
    ///
    /// ## References
    ///
    /// - Amazon S3 User Guide: Configuring IAM policies for using access points
    /// - Amazon S3 User Guide: Using a bucket-style alias for your access point
    /// - IAM User Guide: IAM JSON policy elements: Resource
    pub struct IdentityPolicyGrantsBucketNotAccessPoint {
        id: "identity-policy-grants-bucket-not-access-point",
        scope: "builtin",
        layer: Identity,
        summary: "the identity policy names the bucket while the upload names an access point",
        refines: ["identity-policy-missing-put-object"],
        service: S3,
        actions: ["s3:PutObject", "s3:PutObjectAcl"],
        messages: [implicit(IdentityBased)],
    }
}

/// The identity policy Allow statements that would allow `check` if its resource were
/// `resource` instead.
fn allowing_on<'a>(check: &'a Check, resource: &str) -> Vec<(u16, &'a Policy, &'a Statement)> {
    let mut alt = Request::new(
        check.request.principal.clone(),
        &check.request.action,
        resource,
        check.request.context.clone(),
    );
    alt.resource_account = check.request.resource_account.clone();
    let eval = check.set.evaluate(&alt);
    let Some(l) = eval.layer(Layer::Identity, 0) else {
        return Vec::new();
    };
    eval.deciding_in(l)
        .filter(|t| t.effect == Effect::Allow)
        .filter_map(|t| {
            let p = check.set.policy(t.at)?;
            Some((t.at.policy, p, p.statements.get(t.at.statement as usize)?))
        })
        .collect()
}

impl Rule for IdentityPolicyGrantsBucketNotAccessPoint {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        let a = cx.analysis;
        let req = &a.request;
        for check in a.checks.iter().filter(|c| {
            c.kind == CheckKind::S3
                && (c.action == "s3:PutObject" || c.action == "s3:PutObjectAcl")
                && !c.is_synthetic(Layer::Identity, 0)
                && c.eval
                    .refused_without_deny()
                    .iter()
                    .any(|b| b.layer == Layer::Identity)
        }) {
            // What the statement was meant for, and what the upload needs.
            let (found, add, words) = if check.resource_policy == ResourcePolicy::AccessPoint {
                let found = allowing_on(check, &req.object_arn());
                let add = authorized_folder(req, &a.evidence);
                (
                    found,
                    add,
                    "the bucket's ARN, while the upload goes through the access point",
                )
            } else if req.target == why403_core::upload::Target::Bucket {
                // Statements that name only access points, with the action the upload needs.
                let found: Vec<_> = cx
                    .statements(check, Layer::Identity)
                    .into_iter()
                    .filter_map(|(at, m, p, st)| match m {
                        Match::Miss(miss)
                            if miss.element == Element::Resource
                                && st.effect == Effect::Allow
                                && st.resource.as_ref().is_some_and(|r| {
                                    !r.negated
                                        && r.items.iter().any(|i| i.raw.contains(":accesspoint/"))
                                }) =>
                        {
                            Some((at.policy, p, st))
                        }
                        _ => None,
                    })
                    .collect();
                (
                    found,
                    req.object_folder_arn(),
                    "access points only, while the upload names the bucket",
                )
            } else {
                continue;
            };
            let Some((index, policy, st)) = found.first().copied() else {
                continue;
            };
            let f = cx.cause(
                out,
                check,
                Refusal::NoAllow {
                    layer: Layer::Identity,
                    level: 0,
                },
                format!(
                    "statement `{}` of {} allows `{}` on {words}",
                    st.label(),
                    policy.name,
                    check.action
                ),
            );
            f.notes.push(format!(
                "the request is authorized against `{}`",
                check.request.resource
            ));
            if let Some(r) = &st.resource {
                f.labels.push(label(
                    policy,
                    r.span,
                    &r.pointer,
                    true,
                    format!("does not name `{}`", check.request.resource),
                ));
            }
            let Some(mut json) = statement_json(policy, st.index) else {
                continue;
            };
            let Some(resource) = json.get_mut("Resource") else {
                continue;
            };
            match resource {
                serde_json::Value::Array(items) => items.push(add.clone().into()),
                other => *other = serde_json::json!([other.clone(), add]),
            }
            f.fix = Some(Fix::new(
                format!(
                    "add `{add}` to the `Resource` of statement `{}` of {}",
                    st.label(),
                    policy.name
                ),
                vec![Change::ReplaceStatement {
                    target: PolicyTarget::Identity(index as usize),
                    statement: st.index,
                    with: json,
                }],
            ));
        }
    }
}
