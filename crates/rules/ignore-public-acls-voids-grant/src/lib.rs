//! Rule `builtin/ignore-public-acls-voids-grant`: the bucket ACL grants `WRITE` to everyone
//! (`AllUsers`) or to any AWS account (`AuthenticatedUsers`), the upload relies on that grant,
//! and S3 Block Public Access `IgnorePublicAcls` makes S3 ignore it.

use why403_core::analysis::{CheckKind, CheckOutcome};
use why403_core::eval::{Decision, Grant, Layer, RequestPrincipal};
use why403_core::evidence::{
    ALL_USERS, AUTHENTICATED_USERS, Grantee, ObjectOwnership, PublicAccessLevel,
    PublicAccessSetting, Slot,
};
use why403_core::finding::{Confidence, Fix, PolicyTarget, Role};
use why403_core::rule::{
    Emitter, Rule, RuleContext, grant, level_words, public_access_levels_with, public_access_off,
};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// The bucket's access control list (ACL) grants `WRITE` (or `FULL_CONTROL`) to the
    /// `AllUsers` group (everyone, anonymous callers included) or to the `AuthenticatedUsers`
    /// group (any signed request from any AWS account), and that public grant is what the
    /// upload relies on: no bucket policy statement grants the caller. S3 Block Public Access
    /// has `IgnorePublicAcls` on, for the bucket or for the bucket owner's whole account, so S3
    /// acts as if the public grant did not exist.
    ///
    /// ## How AWS evaluates it
    ///
    /// With `IgnorePublicAcls` on at either level, S3 ignores every ACL grant to `AllUsers` or
    /// `AuthenticatedUsers` on the bucket and its objects; grants to specific canonical users
    /// still count. Without another resource-side grant, an anonymous or cross-account upload
    /// is implicitly denied (`because no resource-based policy allows the s3:PutObject
    /// action`), and a caller of the bucket owner's account then needs an identity-based
    /// Allow. `IgnorePublicAcls` does not reject uploads that *set* a public ACL; that is
    /// `BlockPublicAcls`. With Object Ownership `BucketOwnerEnforced`, ACLs are disabled and
    /// grant nothing anyway.
    ///
    /// ## Example
    ///
    /// ```json
    /// {
    ///   "Grants": [
    ///     {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
    ///      "Permission": "WRITE"}
    ///   ]
    /// }
    /// ```
    ///
    /// with `IgnorePublicAcls: true` on the bucket owner's account: a partner's upload that
    /// worked before the setting was turned on is now refused.
    ///
    /// ## Fix
    ///
    /// Grant the uploader in the bucket policy instead (its account for a caller from another
    /// account, which then also needs an identity-based Allow; its user or role ARN within the
    /// bucket owner's account), and remove the public ACL grant. For anonymous uploads there is
    /// no non-public grant: turning `IgnorePublicAcls` off restores the public grant, and lets
    /// anyone write to the bucket.
    ///
    /// ## References
    ///
    /// - <https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html> (`IgnorePublicAcls`)
    /// - <https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html> (the `AllUsers` and `AuthenticatedUsers` groups)
    /// - <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html>
    pub struct IgnorePublicAclsVoidsGrant {
        id: "ignore-public-acls-voids-grant",
        scope: "builtin",
        layer: BlockPublicAccess,
        summary: "with IgnorePublicAcls, S3 ignores the public ACL grant the upload relies on",
        refines: ["bucket-policy-missing-cross-account-grant", "bucket-acl-missing-write", "identity-policy-missing-put-object"],
        service: S3,
        actions: [],
        messages: [implicit(ResourceBased)],
    }
}

impl Rule for IgnorePublicAclsVoidsGrant {
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
        let Some(acl) = ev.bucket.acl.get() else {
            return;
        };
        if matches!(
            ev.bucket.ownership,
            Slot::Collected(ObjectOwnership::BucketOwnerEnforced)
        ) {
            return;
        }
        let anonymous = matches!(principal, RequestPrincipal::Anonymous);
        // The public write grant that would apply to this caller.
        let Some(group) = acl.grants.iter().find_map(|g| match &g.grantee {
            Grantee::Group { uri }
                if g.permission.allows_write()
                    && (uri == ALL_USERS || (uri == AUTHENTICATED_USERS && !anonymous)) =>
            {
                Some((uri.rsplit('/').next().unwrap_or(uri), g.permission.as_str()))
            }
            _ => None,
        }) else {
            return;
        };
        let levels = public_access_levels_with(ev, PublicAccessSetting::IgnorePublicAcls);
        let same_account = principal.account().is_some()
            && principal.account() == ev.bucket.owner_account.get().map(String::as_str);
        for check in a
            .checks
            .iter()
            .filter(|c| c.kind == CheckKind::S3 && c.action == "s3:PutObject")
        {
            // What the ignored grant would have supplied is what refuses the upload: across
            // accounts (or anonymously) the resource-side grant itself; within the owner's
            // account, an `AllUsers` grant would have made the identity, boundary and session
            // layers unnecessary (an `AuthenticatedUsers` grant only delegates to IAM there,
            // as the owner's own grant does).
            let blocked = &check.eval.blocked_by;
            let resource_gap = if same_account {
                group.0 == "AllUsers"
                    && !blocked.is_empty()
                    && blocked.iter().all(|b| {
                        matches!(b.layer, Layer::Identity | Layer::Boundary | Layer::Session)
                    })
            } else {
                check.eval.grant == Grant::None
                    && blocked.iter().any(|b| b.layer == Layer::Resource)
            };
            if !levels.is_empty()
                && check.eval.decision == Decision::ImplicitlyDenied
                && resource_gap
            {
                let confidence = if check.missing.is_empty() {
                    Confidence::Confirmed
                } else {
                    Confidence::Likely
                };
                let (rest, reported) = if same_account {
                    (
                        "neither the bucket policy nor an identity-based policy allows",
                        "no identity-based policy allows the action",
                    )
                } else {
                    (
                        "nothing else on the bucket's side grants",
                        "no resource-based policy allows the action",
                    )
                };
                let f = out.emit(
                    Role::Cause,
                    confidence,
                    format!(
                        "the bucket ACL grants `{}` to `{}`, but {} has `IgnorePublicAcls` on, so S3 ignores that grant and {rest} `{}`",
                        group.1,
                        group.0,
                        level_words(&levels),
                        check.action
                    ),
                );
                f.check = Some(check.action.clone());
                f.notes
                    .push(format!("AWS reports it as an implicit deny: {reported}"));
                f.missing = check.missing.clone();
                f.fix = Some(fix(cx, principal, same_account, &levels));
            } else if check.outcome == CheckOutcome::Indeterminate
                && levels.is_empty()
                && check.eval.grant_from_acl
                && check.eval.grant >= Grant::Account
                && check.worst.is_some_and(|d| d != Decision::Allowed)
                && (!ev.bucket.public_access_block.is_known()
                    || !ev.effective_account_public_access_block().is_known())
            {
                let f = out.emit(
                    Role::Cause,
                    Confidence::Possible,
                    format!(
                        "the upload relies on the bucket ACL's `{}` grant to `{}`, and the Block Public Access settings could not be read; with `IgnorePublicAcls` on, S3 ignores that grant",
                        group.1, group.0
                    ),
                );
                f.check = Some(check.action.clone());
                f.missing =
                    check.missing_of(&why403_core::rule::EvidenceKind::PUBLIC_ACCESS_BLOCKS);
            }
        }
    }
}

/// A bucket policy grant for a signed caller (its ARN within the owner's account, its account
/// across accounts); for an anonymous caller, `IgnorePublicAcls` off.
fn fix(
    cx: &RuleContext<'_>,
    principal: &RequestPrincipal,
    same_account: bool,
    levels: &[PublicAccessLevel],
) -> Fix {
    let bucket_arn = cx.analysis.request.bucket_arn();
    let grantee = if same_account {
        cx.analysis
            .context
            .get("aws:PrincipalArn")
            .map(|v| v.values[0].clone())
    } else {
        principal
            .account()
            .map(|acct| format!("arn:aws:iam::{acct}:root"))
    };
    match grantee {
        Some(who) => Fix::new(
            format!(
                "grant `s3:PutObject` on `{bucket_arn}/*` to `{who}` in the bucket policy instead of relying on the public ACL grant"
            ),
            vec![grant(
                PolicyTarget::BucketPolicy,
                "AllowUploads",
                &who,
                "s3:PutObject",
                &format!("{bucket_arn}/*"),
            )],
        ),
        None => Fix::new(
            format!(
                "turn off `IgnorePublicAcls` in {}, knowing that anyone can then write to the bucket through its ACL",
                level_words(levels)
            ),
            public_access_off(levels, PublicAccessSetting::IgnorePublicAcls),
        ),
    }
}
