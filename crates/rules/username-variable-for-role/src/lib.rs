//! Rule `builtin/username-variable-for-role`: a policy uses `${aws:username}` and the caller is
//! a role or federated-user session, for which the key does not exist, so the statement that
//! should allow the upload cannot match.

use why403_core::eval::{Element, RequestPrincipal};
use why403_core::finding::{Change, Fix, Refusal, statement_json};
use why403_core::policy::{AwsPrincipal, Statement, Version};
use why403_core::rule::{Emitter, Rule, RuleContext, label, policy_target_in, statement_mut};

const VAR: &str = "${aws:username}";

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// A policy that should allow the upload builds the object key or a condition value from
    /// `${aws:username}`, as in `"Resource": "arn:aws:s3:::amzn-s3-demo-bucket/home/${aws:username}/*"`,
    /// and the caller is a role session (an IAM Identity Center user, an EC2 instance, a CI job
    /// that assumed a role) or a federated-user session. Such policies are often copied from
    /// examples written for IAM users.
    ///
    /// ## How AWS evaluates it
    ///
    /// The condition key `aws:username` exists only for IAM users. For a role session, a
    /// federated user or the root user it is absent, so `${aws:username}` has no value: a
    /// `Resource` built from it matches no resource, and a string or ARN condition comparing
    /// with it does not match. The Allow does not apply and the upload is implicitly denied
    /// unless something else allows it. The rule fires when the statement would apply if the
    /// variable stood for the session name (the name after the role in the session ARN, often
    /// the user's name for Identity Center and SAML sessions).
    ///
    /// ## Example
    ///
    /// ```json
    /// {
    ///   "Version": "2012-10-17",
    ///   "Statement": [{
    ///     "Effect": "Allow",
    ///     "Action": "s3:PutObject",
    ///     "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/home/${aws:username}/*"
    ///   }]
    /// }
    /// ```
    ///
    /// Attached to a role, this allows nothing to its session `.../assumed-role/Developers/alice`.
    ///
    /// ## Fix
    ///
    /// Use a key that role sessions have: a session tag holding the user name
    /// (`${aws:PrincipalTag/username}`, passed with `aws sts assume-role --tags
    /// Key=username,Value=alice` or by the identity provider, which needs `sts:TagSession` in
    /// the role's trust policy), or `${aws:userid}`, which is `<role id>:<session name>` for a
    /// role session (the object keys then contain the role id). When a tag of the session
    /// already holds the name, the fix uses it.
    ///
    /// ## References
    ///
    /// - IAM User Guide, IAM policy elements: Variables and tags (where `aws:username` is available): <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html>
    /// - IAM User Guide, AWS global condition context keys (`aws:username`, `aws:userid`): <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-username>
    /// - IAM User Guide, Passing session tags in AWS STS: <https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html>
    pub struct UsernameVariableForRole {
        id: "username-variable-for-role",
        scope: "builtin",
        layer: Identity,
        summary: "a policy uses ${aws:username}, which a role session does not have",
        refines: ["identity-policy-missing-put-object", "identity-policy-missing-put-object-tagging", "identity-policy-missing-object-lock", "permissions-boundary-missing-allow", "session-policy-missing-allow", "bucket-policy-missing-cross-account-grant"],
        service: Any,
        actions: [],
        messages: [implicit(IdentityBased), implicit(ResourceBased)],
    }
}

/// Whether a text holds `${aws:username}` (the key name in any case).
fn has_var(s: &str) -> bool {
    s.to_ascii_lowercase().contains(VAR)
}

/// Replaces `${aws:username}` (key name in any case) with `to`.
fn replace_var(s: &str, to: &str) -> String {
    let lower = s.to_ascii_lowercase();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while let Some(j) = lower[i..].find(VAR) {
        out.push_str(&s[i..i + j]);
        out.push_str(to);
        i += j + VAR.len();
    }
    out.push_str(&s[i..]);
    out
}

fn replace_in(v: &mut serde_json::Value, to: &str) {
    match v {
        serde_json::Value::String(s) if has_var(s) => *s = replace_var(s, to),
        serde_json::Value::Array(a) => a.iter_mut().for_each(|x| replace_in(x, to)),
        serde_json::Value::Object(o) => o.values_mut().for_each(|x| replace_in(x, to)),
        _ => {}
    }
}

/// The statement with the variable replaced in `Resource` and `Condition`.
fn rewrite(st: &mut serde_json::Value, to: &str) -> Option<()> {
    let obj = st.as_object_mut()?;
    for k in ["Resource", "NotResource", "Condition"] {
        if let Some(v) = obj.get_mut(k) {
            replace_in(v, to);
        }
    }
    Some(())
}

/// The value of the missed element that uses the variable: span and pointer.
fn var_value(st: &Statement, element: Element) -> Option<(why403_core::json::Span, String)> {
    match element {
        Element::Resource => st
            .resource
            .as_ref()?
            .items
            .iter()
            .find(|l| has_var(&l.raw))
            .map(|l| (l.span, l.pointer.clone())),
        Element::Condition(i) => st
            .conditions
            .get(i as usize)?
            .values
            .iter()
            .find(|l| has_var(&l.raw))
            .map(|l| (l.span, l.pointer.clone())),
        _ => None,
    }
}

impl Rule for UsernameVariableForRole {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        let a = cx.analysis;
        let (caller, name, kind) = match &a.principal {
            Some(RequestPrincipal::Aws(AwsPrincipal::AssumedRole { arn, session, .. })) => {
                (arn, session, "role session")
            }
            Some(RequestPrincipal::Aws(AwsPrincipal::FederatedUser { arn, name, .. })) => {
                (arn, name, "federated-user session")
            }
            _ => return,
        };
        // A principal tag that already holds the session name.
        let tag = a.context.iter().find_map(|v| {
            let (prefix, key) = v.name.split_once('/')?;
            (prefix.eq_ignore_ascii_case("aws:PrincipalTag")
                && v.values.len() == 1
                && v.values[0] == *name)
                .then(|| key.to_owned())
        });
        // With the session name in place of the variable, the statement would allow.
        let repairs = cx.repairs(
            |e| matches!(e, Element::Resource | Element::Condition(_)),
            |doc, r| {
                // Under an older version the variable is literal text: another rule.
                if r.policy.version != Version::V2012_10_17 {
                    return None;
                }
                var_value(r.statement, r.miss.element)?;
                rewrite(statement_mut(doc, r.statement.index)?, name)
            },
        );
        for r in repairs {
            let (policy, st, check) = (r.policy, r.statement, r.check);
            let (Some((span, pointer)), Some(target)) =
                (var_value(st, r.miss.element), policy_target_in(check, r.at))
            else {
                continue;
            };
            let f = cx.cause(
                out,
                check,
                Refusal::Check,
                format!(
                    "statement `{}` of the {} uses `{VAR}`, which has no value for the {kind} `{caller}` (`aws:username` exists only for IAM users), so it does not allow `{}`",
                    st.label(),
                    policy.name,
                    check.action
                ),
            );
            f.labels.push(label(
                policy,
                span,
                &pointer,
                true,
                format!("`{VAR}` has no value for a {kind}: this cannot match"),
            ));
            f.notes.push(format!(
                "with the session name `{name}` in place of `{VAR}` the statement would allow `{}`",
                check.action
            ));
            f.notes.push(format!(
            "`${{aws:userid}}` is another key role sessions have: for this one it is `<role id>:{name}`, so object keys would have to use it"
        ));
            let (var, tag_key) = match &tag {
                Some(k) => (format!("${{aws:PrincipalTag/{k}}}"), None),
                None => ("${aws:PrincipalTag/username}".to_owned(), Some("username")),
            };
            f.fix = statement_json(policy, st.index).and_then(|mut json| {
            rewrite(&mut json, &var)?;
            let mut changes = vec![Change::ReplaceStatement {
                target,
                statement: st.index,
                with: json,
            }];
            let mut sentence = format!(
                "use `{var}` instead of `{VAR}` in statement `{}` of the {}",
                st.label(),
                policy.name
            );
            if let Some(k) = tag_key {
                changes.push(Change::SetSessionTag {
                    key: k.to_owned(),
                    value: name.clone(),
                });
                sentence.push_str(&format!(
                    ", and create the session with the session tag `{k}={name}` (`aws sts assume-role --tags Key={k},Value={name}`, which needs `sts:TagSession` in the role's trust policy)"
                ));
            }
            Some(Fix::new(sentence, changes))
        });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_variable_in_any_case() {
        // Condition key names, and so variable names, are case-insensitive in IAM.
        assert_eq!(
            replace_var("home/${aws:UserName}/x/${aws:username}", "alice"),
            "home/alice/x/alice"
        );
        assert_eq!(
            replace_var("home/${aws:userid}/", "alice"),
            "home/${aws:userid}/"
        );
        assert!(has_var("${AWS:USERNAME}"));
        assert!(!has_var("${aws:userid}"));
    }
}
