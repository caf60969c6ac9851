//! Rule `builtin/bucket-policy-stale-principal`: a bucket policy `Principal` shows the unique id
//! (`AROA...` / `AIDA...`) that IAM leaves when the role or user it named is deleted, so the
//! role or user recreated under the same name is not granted.

use why403_core::analysis::{CheckKind, CheckOutcome};
use why403_core::eval::{Element, Layer, Match, RequestPrincipal};
use why403_core::finding::{Change, Confidence, Fix, PolicyTarget, Role, statement_json};
use why403_core::policy::{AwsPrincipal, Effect, PrincipalValue};
use why403_core::rule::{Emitter, Rule, RuleContext, label, match_after_edit, statement_mut};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// The bucket policy grants the upload to a role or an IAM user, but `aws s3api
    /// get-bucket-policy` (or the S3 console's bucket policy editor) shows a unique id such as
    /// `AROA3XFRBF535EXAMPLE` or `AIDAJQABLZS4A3EXAMPLE` in the `Principal` where a
    /// `arn:aws:iam::111122223333:role/DataPipeline` ARN was written. The role (or user) was
    /// deleted after the policy was saved and has since been created again with the same name:
    /// the new one has a new unique id, and the policy does not name it.
    ///
    /// ## How AWS evaluates it
    ///
    /// When a resource-based policy names a specific role or user, AWS stores the principal's
    /// unique id and shows the ARN only while that principal exists. Once it is deleted the
    /// policy shows the id, which no principal will ever have again: a role created later with
    /// the same name gets a new id and is not matched, so the statement grants nothing. The
    /// upload is then implicitly denied unless something else allows it: cross-account, the
    /// bucket owner's side has no grant; in the same account, the caller's identity policy must
    /// allow the upload on its own. Conditions on `aws:PrincipalArn` compare ARNs as text and
    /// are not converted to ids. The rule fires when the statement would apply to the caller if
    /// it named the caller's current role or user ARN; IAM does not say which principal a stale
    /// id belonged to, so the finding is `Likely`.
    ///
    /// ## Example
    ///
    /// ```json
    /// {
    ///   "Version": "2012-10-17",
    ///   "Statement": [{
    ///     "Sid": "AllowPipeline",
    ///     "Effect": "Allow",
    ///     "Principal": {"AWS": "AROA3XFRBF535EXAMPLE"},
    ///     "Action": "s3:PutObject",
    ///     "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*"
    ///   }]
    /// }
    /// ```
    ///
    /// After `DataPipeline` was deleted and created again, its sessions are no longer granted
    /// by this statement.
    ///
    /// ## Fix
    ///
    /// Put the role or user ARN back in the `Principal` of the statement and save the policy
    /// (`aws s3api put-bucket-policy`). To keep a grant working across a re-creation, name the
    /// account in `Principal` and the role with an `ArnEquals` condition on `aws:PrincipalArn`,
    /// which is kept as text.
    ///
    /// ## References
    ///
    /// - IAM User Guide, AWS JSON policy elements: Principal (IAM role principals, unique ids of deleted roles): <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html>
    /// - IAM User Guide, IAM identifiers (unique identifiers): <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids>
    /// - Amazon S3 User Guide, Troubleshoot access denied (403 Forbidden) errors: <https://docs.aws.amazon.com/AmazonS3/latest/userguide/troubleshoot-403-errors.html>
    pub struct BucketPolicyStalePrincipal {
        id: "bucket-policy-stale-principal",
        scope: "builtin",
        layer: BucketPolicy,
        summary: "a bucket policy statement names the unique id of a deleted user or role",
        refines: ["bucket-policy-missing-cross-account-grant", "identity-policy-missing-put-object"],
        service: S3,
        actions: [],
        messages: [implicit(ResourceBased)],
    }
}

/// Whether a principal value is an IAM unique id of the given prefix (`AROA` for roles,
/// `AIDA` for users): the prefix and at least twelve upper-case letters or digits.
fn is_unique_id(value: &str, prefix: &str) -> bool {
    value.len() >= prefix.len() + 12
        && value.starts_with(prefix)
        && value
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// Replaces the string `from` by `to` wherever it appears in a `Principal` element.
fn replace_in(v: &mut serde_json::Value, from: &str, to: &str) -> bool {
    match v {
        serde_json::Value::String(s) if s == from => {
            *s = to.to_owned();
            true
        }
        serde_json::Value::Array(a) => a.iter_mut().fold(false, |r, x| replace_in(x, from, to) | r),
        serde_json::Value::Object(o) => o
            .values_mut()
            .fold(false, |r, x| replace_in(x, from, to) | r),
        _ => false,
    }
}

fn replace_principal(st: &mut serde_json::Value, from: &str, to: &str) -> Option<()> {
    replace_in(st.get_mut("Principal")?, from, to).then_some(())
}

impl Rule for BucketPolicyStalePrincipal {
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
        let (prefix, kind) = match caller {
            AwsPrincipal::AssumedRole { .. } => ("AROA", "role"),
            AwsPrincipal::User { .. } => ("AIDA", "user"),
            _ => return,
        };
        let Some(current) = why403_core::analysis::derive::principal_arn(p, &a.evidence) else {
            return;
        };
        let current_id = a.evidence.identity.get().map(|i| i.id.as_str());
        for check in a
            .checks
            .iter()
            .filter(|c| c.kind == CheckKind::S3 && c.outcome != CheckOutcome::Allowed)
        {
            for (at, m, policy, st) in cx.statements(check, Layer::Resource) {
                let Match::Miss(miss) = m else { continue };
                let Some(pe) = &st.principal else { continue };
                if miss.element != Element::Principal || st.effect != Effect::Allow || pe.negated {
                    continue;
                }
                for item in &pe.items {
                    let PrincipalValue::Aws(AwsPrincipal::Other { value }) = &item.value else {
                        continue;
                    };
                    // An id that is still the caller's would not be shown as an id by AWS.
                    if !is_unique_id(value, prefix) || current_id == Some(value.as_str()) {
                        continue;
                    }
                    let fixed = match_after_edit(check, at, |doc| {
                        replace_principal(statement_mut(doc, st.index)?, value, &current)
                    });
                    if fixed != Some(Match::Applies) {
                        continue;
                    }
                    let f = out.emit(
                        Role::Cause,
                        Confidence::Likely,
                        format!(
                            "statement `{}` of the {} names `{value}`, the unique id of a deleted {kind}, so it does not grant `{current}`",
                            st.label(),
                            policy.name
                        ),
                    );
                    f.check = Some(check.action.clone());
                    f.labels.push(label(
                        policy,
                        item.span,
                        &item.pointer,
                        true,
                        format!(
                            "IAM shows a unique id here when the {kind} the statement named was deleted; it matches no current principal"
                        ),
                    ));
                    if let Some(id) = current_id {
                        f.notes.push(format!(
                            "`{current}` now has the unique id `{id}`; a {kind} created again under the same name is a new principal"
                        ));
                    }
                    f.notes.push(format!(
                        "named as `{current}`, the statement would allow `{}`; IAM does not record which {kind} `{value}` was, so check that it was this one",
                        check.action
                    ));
                    f.missing = check.missing.clone();
                    let fix = statement_json(policy, st.index).and_then(|mut json| {
                        replace_principal(&mut json, value, &current)?;
                        Some(Fix::new(
                            format!(
                                "replace `{value}` with `{current}` in the `Principal` of statement `{}` of the bucket policy",
                                st.label()
                            ),
                            vec![Change::ReplaceStatement {
                                target: PolicyTarget::BucketPolicy,
                                statement: st.index,
                                with: json,
                            }],
                        ))
                    });
                    f.fix = fix;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_ids_are_recognised_by_prefix() {
        // IAM unique ids: `AROA` for roles, `AIDA` for users, then upper-case letters and digits.
        assert!(is_unique_id("AROA3XFRBF535EXAMPLE", "AROA"));
        assert!(!is_unique_id("AROA3XFRBF535EXAMPLE", "AIDA"));
        assert!(!is_unique_id("AROA", "AROA"));
        assert!(!is_unique_id(
            "arn:aws:iam::111122223333:role/AROA3XFRBF535EXAMPLE",
            "AROA"
        ));
        assert!(!is_unique_id("AROAshort-lower-case1", "AROA"));
    }
}
