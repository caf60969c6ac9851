//! Rule `builtin/account-bpa-enforced-by-organization`: the organization's S3 policy turns on
//! Block Public Access for the bucket owner's account, and the upload sets a public ACL.

use why403_core::analysis::BlockCode;
use why403_core::evidence::{Evidence, OrgPublicAccessBlock, Slot};
use why403_core::finding::howto::{Actor, ActorKind};
use why403_core::rule::{Emitter, Rule, RuleContext, emit_block, remove_headers_fix};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// The bucket owner's account is under an AWS Organizations S3 policy (policy type
    /// `S3_POLICY`) whose effective `public_access_block_configuration` is `all`, and the
    /// upload sets a public ACL: the canned ACL `public-read`, `public-read-write` or
    /// `authenticated-read`, or a grant header naming the `AllUsers` or `AuthenticatedUsers`
    /// group. The organization's policy turns on all four account-level Block Public Access
    /// settings, `BlockPublicAcls` among them, whatever the account's own settings were.
    ///
    /// ## How AWS evaluates it
    ///
    /// While an S3 policy applies, the account-level Block Public Access settings are
    /// inherited from the organization and cannot be changed in the account:
    /// `aws s3control put-public-access-block` answers 403 `AccessDenied`. S3 combines the
    /// effective account-level settings with the bucket's (and an access point's) and applies
    /// the most restrictive; with `BlockPublicAcls` on it rejects a `PutObject`, `CopyObject`
    /// or POST upload that carries a public ACL with 403 `AccessDenied`, whatever the policies
    /// allow. why403 takes the organization's value over the account's own settings, `all`
    /// and `none` alike: AWS says organization-level policies override account-level
    /// configurations.
    ///
    /// ## Example
    ///
    /// The upload runs `aws s3 cp photo.jpg s3://amzn-s3-demo-bucket/ --acl public-read`, the
    /// bucket and the account have Block Public Access off, and
    /// `aws organizations describe-effective-policy --policy-type S3_POLICY` gives:
    ///
    /// ```json
    /// {"s3_attributes": {"public_access_block_configuration": {"@@assign": "all"}}}
    /// ```
    ///
    /// ## Fix
    ///
    /// Remove the public ACL from the upload (drop `x-amz-acl` and the `x-amz-grant-*`
    /// headers). Turning Block Public Access off in the account is not possible, and the
    /// organization's `all` also turns on `BlockPublicPolicy` and `RestrictPublicBuckets`, so a
    /// public bucket policy is no way round it either: share the objects with presigned URLs,
    /// or serve them through CloudFront with origin access control. Only the organization's
    /// management account (or a delegated administrator for its policies) can change the S3
    /// policy or detach it, for every account it applies to.
    ///
    /// ## References
    ///
    /// - <https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_s3.html>
    /// - <https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_s3_syntax.html>
    /// - <https://docs.aws.amazon.com/AmazonS3/latest/userguide/configuring-block-public-access-account.html>
    /// - <https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_PutPublicAccessBlock.html>
    /// - <https://docs.aws.amazon.com/organizations/latest/APIReference/API_DescribeEffectivePolicy.html>
    pub struct AccountBpaEnforcedByOrganization {
        id: "account-bpa-enforced-by-organization",
        scope: "builtin",
        layer: BlockPublicAccess,
        summary: "the organization S3 policy enforces BlockPublicAcls on a public ACL upload",
        refines: ["block-public-acls-rejects-public-acl"],
        service: S3,
        actions: [],
        messages: [special(BlockPublicAcls)],
    }
}

impl Rule for AccountBpaEnforcedByOrganization {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        let a = cx.analysis;
        let ev = &a.evidence;
        if ev.org_s3_policy.get() != Some(&OrgPublicAccessBlock::All) {
            return;
        }
        let req = &a.request;
        let mut headers: Vec<String> = req
            .headers
            .keys()
            .filter(|k| *k == "x-amz-acl" || k.starts_with("x-amz-grant-"))
            .cloned()
            .collect();
        // `x-amz-acl` first, as the upload's other fixes name it.
        headers.sort_by_key(|h| h != "x-amz-acl");
        let account = ev.bucket.owner_account.get().cloned();
        let Some((f, hit)) = emit_block(cx, out, BlockCode::BlockPublicAcls) else {
            return;
        };
        f.message = format!(
            "the upload sets a public ACL and the organization's S3 policy turns on Block Public Access `BlockPublicAcls` for the bucket owner's account{}",
            account
                .as_deref()
                .map(|a| format!(" `{a}`"))
                .unwrap_or_default()
        );
        f.notes.push(hit.answer());
        for h in &headers {
            f.notes
                .push(format!("the upload sends `{h}: {}`", req.headers[h]));
        }
        if ev
            .bucket
            .public_access_block
            .get()
            .is_some_and(|b| b.block_public_acls)
        {
            f.notes.push(
                "the bucket's own Block Public Access has `BlockPublicAcls` on as well".to_owned(),
            );
        }
        f.notes.push(
            "the account's Block Public Access is inherited from the organization's S3 policy (`public_access_block_configuration`: `all`) and cannot be changed in the account: `aws s3control put-public-access-block` answers 403 `AccessDenied`".to_owned(),
        );
        f.notes.push(
            "`all` turns on `BlockPublicPolicy` and `RestrictPublicBuckets` too, so a public bucket policy is no way round it: to share the objects, use presigned URLs or CloudFront with origin access control".to_owned(),
        );
        f.notes.push(administrative_option(
            ev,
            account.as_deref(),
            caller_account(cx),
        ));
        f.fix = remove_headers_fix(&headers, None);
    }
}

/// The caller's account, when known.
fn caller_account<'a>(cx: &RuleContext<'a>) -> Option<&'a str> {
    cx.analysis.principal.as_ref().and_then(|p| p.account())
}

/// The administrative way out, in words with its commands: the organization's management
/// account changes the S3 policy to `none` or detaches it.
fn administrative_option(ev: &Evidence, account: Option<&str>, caller: Option<&str>) -> String {
    let org = match (account, caller) {
        (Some(o), Some(c)) if o == c => &ev.caller_org,
        _ => &ev.bucket_org,
    };
    let management = match org {
        Slot::Collected(o) => Some(o.management_account.clone()),
        _ => None,
    };
    let actor = Actor {
        kind: ActorKind::Organization,
        callers_account: management.as_deref().zip(caller).map(|(m, c)| m == c),
        account: management,
    };
    let target = account.unwrap_or("ACCOUNT_ID");
    format!(
        "administrative option, for every account the S3 policy applies to: {} find the S3 policy on the account's path (`aws organizations list-policies-for-target --target-id {target} --filter S3_POLICY`, then the same for each parent from `aws organizations list-parents --child-id {target}`) and either detach it (`aws organizations detach-policy --policy-id POLICY_ID --target-id TARGET_ID`), which gives the account its own settings back, or assign `none` (`aws organizations update-policy --policy-id POLICY_ID --content '{}'`), which turns the four off; either opens those accounts to public ACLs and public bucket policies wherever their own settings allow them",
        actor.sentence(),
        OrgPublicAccessBlock::None.policy_content()
    )
}
