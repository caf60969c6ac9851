//! Rule `builtin/policy-variable-in-old-version`: a policy without `"Version": "2012-10-17"`
//! (missing, or `2008-10-17`) uses a policy variable such as `${aws:username}`, which is then
//! literal text, so the statement that should allow the upload matches nothing.

use why403_core::eval::Element;
use why403_core::finding::{Change, Fix, Refusal};
use why403_core::policy::{Statement, Version};
use why403_core::rule::{Emitter, Rule, RuleContext, label, policy_target_in};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// A policy that should allow the upload uses a policy variable, such as
    /// `"Resource": "arn:aws:s3:::amzn-s3-demo-bucket/home/${aws:username}/*"` or
    /// `${aws:PrincipalTag/team}` in a condition, but the document has no `Version` element or
    /// has `"Version": "2008-10-17"`. Policies written by hand, or copied from old examples,
    /// often leave the element out. The rule looks at identity-based policies, the bucket
    /// policy, permissions boundaries and session policies.
    ///
    /// ## How AWS evaluates it
    ///
    /// Policy variables exist only in the policy language version `2012-10-17`. Under
    /// `2008-10-17`, which is also what a document without `Version` uses, `${aws:username}` is
    /// not replaced: it is compared as the literal characters `${aws:username}`, which no object
    /// key or condition value contains. The Allow statement then does not apply, and the
    /// upload is implicitly denied unless another statement allows it. The rule fires when the
    /// statement would apply to the upload once the policy declares `2012-10-17`.
    ///
    /// ## Example
    ///
    /// ```json
    /// {
    ///   "Statement": [{
    ///     "Effect": "Allow",
    ///     "Action": "s3:PutObject",
    ///     "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/home/${aws:username}/*"
    ///   }]
    /// }
    /// ```
    ///
    /// ## Fix
    ///
    /// Add `"Version": "2012-10-17"` at the top of the policy document and save it as a new
    /// version (`aws iam create-policy-version --set-as-default`, `aws iam put-user-policy`,
    /// `aws s3api put-bucket-policy`). Under that version, to write a literal `$`, `*` or `?`
    /// use `${$}`, `${*}` or `${?}`.
    ///
    /// ## References
    ///
    /// - IAM User Guide, IAM JSON policy elements: Version: <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html>
    /// - IAM User Guide, IAM policy elements: Variables and tags: <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html>
    pub struct PolicyVariableInOldVersion {
        id: "policy-variable-in-old-version",
        scope: "builtin",
        layer: Identity,
        summary: "a policy variable is literal text: the policy lacks Version 2012-10-17",
        refines: ["identity-policy-missing-put-object", "identity-policy-missing-put-object-tagging", "identity-policy-missing-object-lock", "permissions-boundary-missing-allow", "session-policy-missing-allow", "bucket-policy-missing-cross-account-grant"],
        service: Any,
        actions: [],
        messages: [implicit(IdentityBased), implicit(ResourceBased)],
    }
}

/// The first value of the missed element that holds a policy variable: its text, span and
/// pointer.
fn variable_value(
    st: &Statement,
    element: Element,
) -> Option<(String, why403_core::json::Span, String)> {
    match element {
        Element::Resource => st
            .resource
            .as_ref()?
            .items
            .iter()
            .find(|l| l.raw.contains("${"))
            .map(|l| (l.raw.clone(), l.span, l.pointer.clone())),
        Element::Condition(i) => st
            .conditions
            .get(i as usize)?
            .values
            .iter()
            .find(|l| l.raw.contains("${"))
            .map(|l| (l.raw.clone(), l.span, l.pointer.clone())),
        _ => None,
    }
}

fn version_words(v: Version) -> &'static str {
    match v {
        Version::Missing => "has no `Version` element",
        _ => "has `\"Version\": \"2008-10-17\"`",
    }
}

impl Rule for PolicyVariableInOldVersion {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        // Under an older version a variable is literal text: "2012-10-17" repairs the statement.
        let repairs = cx.repairs(
            |e| matches!(e, Element::Resource | Element::Condition(_)),
            |doc, r| {
                if r.policy.version == Version::V2012_10_17 {
                    return None;
                }
                variable_value(r.statement, r.miss.element)?;
                doc.as_object_mut()?
                    .insert("Version".into(), "2012-10-17".into());
                Some(())
            },
        );
        for r in repairs {
            let (policy, st, check) = (r.policy, r.statement, r.check);
            let (Some((raw, span, pointer)), Some(target)) = (
                variable_value(st, r.miss.element),
                policy_target_in(check, r.at),
            ) else {
                continue;
            };
            let f = cx.cause(
                out,
                check,
                Refusal::Check,
                format!(
                    "the {} {}, so `{raw}` in statement `{}` is literal text and the statement does not allow `{}`",
                    policy.name,
                    version_words(policy.version),
                    st.label(),
                    check.action
                ),
            );
            f.labels.push(label(
                policy,
                span,
                &pointer,
                true,
                "policy variables are replaced only under `\"Version\": \"2012-10-17\"`; here this is compared as written",
            ));
            f.fix = Some(Fix::new(
                format!("add `\"Version\": \"2012-10-17\"` to the {}", policy.name),
                vec![Change::SetPolicyVersion {
                    target,
                    version: "2012-10-17".into(),
                }],
            ));
        }
    }
}
